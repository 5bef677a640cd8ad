"""Solve a compiled model: HiGHS on the arrays, then the capacity duals, as one typed outcome.

:func:`solve_compiled` checks the options and the model's magnitudes, runs a MIP in a child
process (:mod:`.child`, so the time limit always holds) or here (an LP, or where no child may
start), then computes the fixed-integer LP duals and their ranging (:mod:`.duals`), and returns
a :class:`~optimiser.solver.outcome.SolverOutcome`. :func:`start_from_fixed` turns a plan into
a MIP start.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import isolation
from .arrays import Compiled, check_magnitudes, model_arrays
from .child import mip_in_child, search_settings
from .duals import fixed_lp_duals, rhs_ranges
from .highs import check_highs_options, configured_highs, highs_version, pass_compiled, write_model
from .options import SolveOptions
from .outcome import SolverOutcome
from .start import run_mip

#: A column value within this of a bound counts as inside it (HiGHS' MIP feasibility tolerance).
BOUND_TOL = 1e-6


def solve_compiled(cm: Compiled, opts: SolveOptions, start: np.ndarray | None = None) -> SolverOutcome:
    """Run HiGHS on the compiled model; a time limit or Ctrl-C with an incumbent is a result.

    A MIP runs in a child process (:mod:`optimiser.isolation`) unless ``opts.isolate`` is off or
    this process may not have children: HiGHS then always stops within its time limit × 1.1 +
    10 s, even where it does not check the limit itself, keeping its best plan so far.
    ``start`` (one value per column, feasible: see :func:`start_from_fixed`) is handed to HiGHS
    as its first incumbent (``setSolution``), in place of the start-plan search.
    """
    settings = opts.highs_settings()
    check_highs_options(settings)
    check_magnitudes(cm)
    is_mip = bool(cm.integrality.any())
    if is_mip and opts.isolate and isolation.available():
        return _solve_isolated(cm, opts, settings, start)
    h = configured_highs(opts.log, settings)
    t0 = time.perf_counter()
    pass_compiled(h, cm)
    handoff = time.perf_counter() - t0
    if opts.write_model is not None:
        write_model(h, Path(opts.write_model))
    t1 = time.perf_counter()
    read, interrupted, discarded = run_mip(h, model_arrays(cm), start if is_mip else None, opts.time_limit, is_mip)
    solve_seconds = time.perf_counter() - t1
    duals = ranges = None
    duals_seconds = 0.0
    if read.x is not None and opts.duals and len(cm.row_lower):
        t2 = time.perf_counter()
        duals = fixed_lp_duals(h, cm, read.x, is_mip)
        ranges = rhs_ranges(h, cm) if duals is not None else None
        duals_seconds = time.perf_counter() - t2
    return SolverOutcome.of(cm, read, duals=duals, ranges=ranges, handoff=handoff, solve_seconds=solve_seconds,
                            duals_seconds=duals_seconds, interrupted=interrupted, version=highs_version(),
                            start_plan=discarded)


def _solve_isolated(cm: Compiled, opts: SolveOptions, settings: dict[str, Any],
                    start: np.ndarray | None = None) -> SolverOutcome:
    """The MIP in a child process (:mod:`.child`); duals (an LP) and ``--write-model`` here."""
    h = None
    if opts.write_model is not None:
        h = configured_highs(opts.log, settings)
        pass_compiled(h, cm)
        write_model(h, Path(opts.write_model))
    child = mip_in_child(model_arrays(cm), settings, opts.log, opts.time_limit, start=start,
                         search=search_settings(cm, opts))
    read = child.read
    duals = ranges = None
    duals_seconds = 0.0
    if read.x is not None and opts.duals and len(cm.row_lower):
        t2 = time.perf_counter()
        if h is None:
            h = configured_highs(opts.log, settings)
            pass_compiled(h, cm)
        duals = fixed_lp_duals(h, cm, read.x, True)
        ranges = rhs_ranges(h, cm) if duals is not None else None
        duals_seconds = time.perf_counter() - t2
    return SolverOutcome.of(cm, read, duals=duals, ranges=ranges, handoff=child.handoff_seconds,
                            solve_seconds=child.solve_seconds, duals_seconds=duals_seconds,
                            interrupted=child.interrupted, version=highs_version(), watchdog=child.stopped,
                            start_plan=child.start_plan, linking_rows=child.linking_rows)


def start_from_fixed(cm: Compiled, opts: SolveOptions, values: dict[tuple[str, tuple], float],
                     variables: tuple[str, ...], time_limit: float | None = None) -> tuple[np.ndarray | None, float | None]:
    """A start for the MIP from a plan: every column of ``variables`` pinned to ``values``
    (``(var, index) → value``; absent = 0), the rest re-optimised by HiGHS (the fixed-plan model).

    Returns (one value per column, its objective as NPV) when that model has a plan, else
    (None, None): the plan is infeasible here (or no plan was found in ``time_limit``), and the
    MIP must start without it. A value outside a column's own bounds (a strategy forbids what
    the plan takes) makes the plan infeasible without a solve.
    """
    lo = np.array(cm.col_lower, dtype=float)
    hi = np.array(cm.col_upper, dtype=float)
    for j, k in enumerate(cm.columns):
        if k.var in variables:
            v = 1.0 if values.get((k.var, k.index), 0.0) > 0.5 else 0.0
            if v < lo[j] - BOUND_TOL or v > hi[j] + BOUND_TOL:
                return None, None
            lo[j] = hi[j] = v
    pinned = replace(cm, col_lower=lo, col_upper=hi, compile_seconds=0.0)
    sub = SolveOptions(time_limit=time_limit, mip_gap=opts.mip_gap, threads=opts.threads, seed=opts.seed,
                       highs_options=dict(opts.highs_options), duals=False, isolate=opts.isolate,
                       local_search="off", linking_rows="all")
    out = solve_compiled(pinned, sub)
    return out.x, out.objective
