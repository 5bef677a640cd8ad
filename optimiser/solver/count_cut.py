"""The open-count cut: Σ_{k∈K} y_k ≥ ⌈min Σ_{k∈K} y_k over the LP relaxation⌉, for HiGHS's MIP.

Part of the solver layer (it drives HiGHS's LP solver once; the MIP itself stays HiGHS's). Why: on
models shaped like facility location (OR-Library capa–c: 100 sites × 1,000 customers, one
capacity per instance) the LP relaxation, even with every linking row, opens a fraction of the
sites it needs — capa-8000: Σ y = 6.36 (demand 50,886 over capacity 8,000) — and its bound is
2.1 % below the optimum; HiGHS's root cuts do not close that (1.97 % after them), so its branch
and bound cannot prove the optimum within minutes. With Σ y ≥ 7 the LP bound is 0.06 % below
the optimum on capa-8000, 0.000 % on capb-5000 (11 sites) and 0.16 % on capc-5000.

Validity: every integer plan is a point of the LP relaxation, so its count Σ_{k∈K} y_k is at
least the LP's minimum ``m`` of that count; the count is an integer, so it is at least ⌈m⌉. The
LP here may leave rows out (``leave_out``: a relaxation of a relaxation has a smaller minimum, so
the cut stays valid, only weaker). ``m`` is rounded down by :data:`ROUNDING_TOL` (relative)
before ⌈·⌉, so an LP off by its tolerances never cuts off a plan. The cut is computed from the
arrays HiGHS gets, bounds included, at every solve (a Session's later jobs have other bounds).

Work is counted in simplex iterations (:data:`MAX_ITERATIONS`), not seconds: the same model gives
the same cut (``time_budget`` is only a safety stop).

Index sets: K = the integer columns with a non-zero in the rows ``gated_by`` (the sites the
linking rows ``ship ≤ d·running`` open: ``running``).

What the MIP's child process (:mod:`.child`) calls: :func:`count_cut_phase` (the model with the
cut, the lazy-row mask over its rows, the run record's facts), :func:`cut_facts` (those facts in
the ``linking_rows`` record), :func:`padded` (an earlier solve's kept rows over this model) and
:func:`proven_by_lp` (a start plan proven optimal by the converged strong LP's bound, so HiGHS's
MIP need not run).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp

from .arrays import ModelArrays
from .outcome import Read, Status, Termination
from .start import plan_objective

#: Most simplex iterations the LP ``min Σ y`` may take (capa–c: about 1,400).
MAX_ITERATIONS = 200_000
#: The LP minimum is lowered by this share of max(1, |m|) before it is rounded up.
ROUNDING_TOL = 1e-6
#: A lower bound proves a plan optimal within at least this share of its cost (HiGHS's LP
#: accuracy: objective values ~1e7 with tolerances 1e-7), and at most the planner's MIP gap.
PROOF_RTOL = 1e-9


@dataclass(frozen=True)
class CountCut:
    """The row ``Σ_{k∈columns} x_k ≥ rhs`` and what gave it: ``lp_minimum`` (the LP's
    ``min Σ x_k``), ``iterations`` (simplex iterations it took)."""

    columns: np.ndarray
    rhs: float
    lp_minimum: float
    iterations: int


def gated_binaries(arrays: ModelArrays, gated_by: np.ndarray) -> np.ndarray:
    """Positions of the integer columns of ``arrays`` with a non-zero in
    a row of the mask ``gated_by``, ascending."""
    rows = np.asarray(gated_by, dtype=bool)
    cols = np.repeat(np.arange(len(arrays.col_lower)), np.diff(arrays.indptr))
    hit = np.zeros(len(arrays.col_lower), dtype=bool)
    hit[cols[rows[arrays.indices]]] = True
    return np.flatnonzero(hit & (np.asarray(arrays.integrality) != 0))


def open_count_cut(arrays: ModelArrays, columns: np.ndarray, leave_out: np.ndarray, new_highs: Callable[[], Any],
                   time_budget: float, max_iterations: int = MAX_ITERATIONS) -> CountCut | None:
    """The cut ``Σ_{k∈columns} x_k ≥ ⌈m⌉`` for the model ``arrays``, where ``m`` is the minimum
    of that sum over its LP relaxation without the rows ``leave_out``; None when the LP is not
    solved within its work, or when the cut would not cut that LP's optimum (``m`` integral)."""
    columns = np.asarray(columns, dtype=np.int64)
    if not len(columns):
        return None
    n = len(arrays.col_lower)
    keep = ~np.asarray(leave_out, dtype=bool)
    a = sp.csc_matrix((arrays.data, arrays.indices, arrays.indptr), shape=(len(arrays.row_lower), n))[keep]
    a = sp.csc_matrix(a)
    cost = np.zeros(n)
    cost[columns] = 1.0
    h = new_highs()
    h.setOptionValue("simplex_iteration_limit", int(max_iterations))
    h.setOptionValue("presolve", "off")  # capa-8000: 1,404 iterations in 0.15 s; with presolve 9,135 in 3 s
    h.setOptionValue("time_limit", float(max(time_budget, 0.0)))
    status = h.passModel(n, int(keep.sum()), int(a.nnz), 1, 1, 0.0, cost, arrays.col_lower, arrays.col_upper,
                         arrays.row_lower[keep], arrays.row_upper[keep], a.indptr.astype(np.int32),
                         a.indices.astype(np.int32), a.data.astype(float), np.zeros(n, dtype=np.int32))
    if status.name == "kError":
        return None
    h.run()
    if h.getModelStatus().name != "kOptimal":
        return None
    m = float(h.getInfo().objective_function_value)
    rhs = float(math.ceil(m - ROUNDING_TOL * max(1.0, abs(m))))
    if rhs <= m + ROUNDING_TOL * max(1.0, abs(m)):
        return None
    return CountCut(columns, rhs, m, int(h.getInfo().simplex_iteration_count))


def with_cut(arrays: ModelArrays, cut: CountCut) -> ModelArrays:
    """``arrays`` with the cut as one more row (the last); columns unchanged."""
    n = len(arrays.col_lower)
    m = len(arrays.row_lower)
    a = sp.csc_matrix((arrays.data, arrays.indices, arrays.indptr), shape=(m, n))
    row = sp.csc_matrix((np.ones(len(cut.columns)), (np.zeros(len(cut.columns), dtype=np.int64), cut.columns)),
                        shape=(1, n))
    b = sp.csc_matrix(sp.vstack([a, row], format="csc"))
    b.sort_indices()
    return arrays._replace(indptr=b.indptr.astype(np.int32), indices=b.indices.astype(np.int32),
                           data=b.data.astype(float), row_lower=np.append(arrays.row_lower, cut.rhs),
                           row_upper=np.append(arrays.row_upper, math.inf))


def add_count_cut(arrays: ModelArrays, gated_by: np.ndarray, leave_out: np.ndarray, new_highs: Callable[[], Any],
                  time_budget: float) -> tuple[ModelArrays, CountCut | None]:
    """(``arrays`` with the open-count cut over the integer columns of the rows ``gated_by`` as
    its last row, the cut), or (``arrays``, None) when there is no cut."""
    cut = open_count_cut(arrays, gated_binaries(arrays, gated_by), leave_out, new_highs, time_budget)
    return (arrays, None) if cut is None else (with_cut(arrays, cut), cut)


def bound_proves(cost: float, lower: float, rel_gap: float, abs_gap: float) -> bool:
    """Whether the valid lower bound ``lower`` proves a plan of cost ``cost`` (both minimised)
    optimal within the MIP gap: ``cost − lower ≤ max(abs_gap, max(rel_gap, PROOF_RTOL)·|cost|)``
    (HiGHS's rule for ``mip_rel_gap`` / ``mip_abs_gap``)."""
    return cost - lower <= max(abs_gap, max(rel_gap, PROOF_RTOL) * abs(cost))


def count_cut_phase(arrays: ModelArrays, gated_by: np.ndarray, leave_out: np.ndarray, lazy: np.ndarray | None,
                    new_highs: Callable[[], Any], time_budget: float,
                    log: bool) -> tuple[ModelArrays, np.ndarray | None, dict[str, Any] | None]:
    """(the model with the open-count cut over the binaries of the rows ``gated_by`` as its last
    row, the lazy-row mask ``lazy`` over those rows (the cut is never lazy), facts for the run
    record: columns, rhs, lp_minimum, iterations) — or (``arrays``, ``lazy``, None) when there is
    no cut. The LP leaves out the rows ``leave_out``; ``new_highs`` makes its HiGHS object."""
    base, cut = add_count_cut(arrays, gated_by, leave_out, new_highs, time_budget)
    if cut is None:
        _say(log, "Open-count cut: none (the LP's count is integral or not found)")
        return arrays, lazy, None
    _say(log, f"Open-count cut: {len(cut.columns)} binaries sum to at least {cut.rhs:g} "
              f"(LP minimum {cut.lp_minimum:.6g})")
    return base, None if lazy is None else np.append(lazy, False), {
        "columns": len(cut.columns), "rhs": cut.rhs, "lp_minimum": cut.lp_minimum, "iterations": cut.iterations}


def cut_facts(rows_info: dict[str, Any] | None, cut_info: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``linking_rows`` record with this solve's cut (``count_cut``), not an earlier one's
    (a Session's rows reused carry the earlier solve's facts: its cut and ``lp_proof`` go)."""
    if rows_info is None and cut_info is None:
        return None
    out = {k: v for k, v in (rows_info or {}).items() if k not in ("count_cut", "lp_proof")}
    return out if cut_info is None else {**out, "count_cut": cut_info}


def padded(keep: np.ndarray, arrays: ModelArrays) -> np.ndarray:
    """``keep`` (over the model's rows) extended by True for the rows ``arrays`` adds at its end."""
    return np.append(keep, np.ones(len(arrays.row_lower) - len(keep), dtype=bool))


def proven_by_lp(arrays: ModelArrays, start: np.ndarray | None, plan_info: dict[str, Any] | None,
                 rows_info: dict[str, Any] | None, settings: dict[str, Any]) -> Read | None:
    """Our start plan as an optimal :class:`Read`, proven by the LP bound of the converged row
    generation (the strong LP, with the open-count cut: a valid bound of the whole model) when
    :func:`bound_proves` says that bound is within the MIP gap (``settings``' ``mip_rel_gap``,
    ``mip_abs_gap``, HiGHS's defaults otherwise) of the plan's cost; else None (no plan, rows
    reused from an earlier solve, loop not converged). (capa-14000 and capb-5000: the LP's bound
    is the optimum, which the start plan is.)"""
    if start is None or plan_info is None or rows_info is None or rows_info.get("reused"):
        return None
    if not rows_info.get("converged") or rows_info.get("lp_bound") is None:
        return None
    cost, lower = plan_objective(arrays, start), -rows_info["lp_bound"]  # minimised, offset included
    rel_gap, abs_gap = float(settings.get("mip_rel_gap", 1e-4)), float(settings.get("mip_abs_gap", 1e-6))
    if not bound_proves(cost, lower, rel_gap, abs_gap):
        return None
    gap = abs(cost - lower) / abs(cost) if cost != 0 else 0.0
    return Read(Termination.OPTIMAL, Status.OPTIMAL, start, -cost, -lower, gap, 0)


def _say(log: bool, text: str) -> None:
    if log:
        print(text, file=sys.stderr, flush=True)
