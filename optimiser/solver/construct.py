"""A plan in seconds before HiGHS starts: build one by construction, check it against every row.

Part of the solver layer (it drives HiGHS's LP solver only; the MIP stays HiGHS's). Why: on the
generated ``medium`` case (46 k columns, 2,400 binaries, 68 k rows) HiGHS's root LP alone takes
over two minutes on one core, so at ``--time-limit 120`` it ended without any plan (exit 3). A
feasible plan is handed to HiGHS as its start and, if HiGHS finds nothing better, is the answer.

Every candidate plan fixes every integer column and is judged by the **fixed-binary LP** (the
whole model, all rows, integrality dropped, integer columns pinned; solved block by block,
:mod:`.blocks`): it says whether the plan is feasible and gives its best continuous part (make,
ship, unmet, …) and NPV. The candidates, in turn (the best feasible one is kept):

1. **nothing optional**: every integer column at its lower bound (no line built, no option
   taken, nothing tooled or run unless a bound forces it) — feasible wherever demand may go
   unmet;
2. **open, then closed** (:mod:`.open_close`): every existing line's toolings and line-years
   open, then closed row by row where a row over integer columns only is broken, the least used
   first, guided by fixed-integer LPs only (no LP relaxation: the only method that gives the
   generated ``large`` and ``xl`` cases a plan, 37 s and 115 s; on ``medium`` ~1 s);
3. **existing lines serve what they can** (LP-guided): the LP relaxation *without* the optional
   linking rows (``weak``), with ``take`` and ``build`` held at their lower bounds (so candidate
   lines and options stay off) and ``tool``/``running`` free in ``[0, 1]``; every tooling and
   running binary the LP uses (value > 0) is opened. Where that breaks a row over integer
   columns only (``Σ tool ≤ max_lines``, a budget, ``running ≤ Σ tool`` …), :func:`_repair`
   closes, row by row, the open binary the LP valued least until none is broken. This covers
   commitments and ``must_serve`` volumes wherever existing lines can (the generator's
   dedicated lines, by construction); where it gives nothing, the same with candidate lines and
   options free too (**all lines**). Above :data:`RELAXATION_MAX_ROWS` rows, only when no
   candidate before gave a plan;
4. **LP dive** (only when none gave a plan): the whole model's LP relaxation, integer columns
   fixed one at a time (the largest fractional up, else down), at most :data:`MAX_DIVE_LPS` LPs;
5. **close what is unused** (after each feasible candidate): an open binary whose closing
   leaves the fixed-binary LP's solution meeting every row (a line-year that makes nothing, a
   tooling with no production) is closed, costliest first; the fixed-binary LP is then solved
   again (it can only gain: the old solution is still feasible and costs less).

Deterministic: work is counted in LP solves (at most :data:`MAX_EVALUATIONS`) and simplex
iterations; the time budget (a share of the solve's time limit) is only a safety stop, hit on
models too big for the method (the relaxation-guided candidates on generated ``large``, whose LP
does not end within minutes: hence :data:`RELAXATION_MAX_ROWS`). The caller checks the plan
against every row (:func:`optimiser.solver.arrays.satisfies`) before using it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .arrays import BUILD, TAKE, ModelArrays, row_activity, satisfies, without_rows
from .blocks import Blocks, FixedIntegerLP
from . import open_close
from .highs import pass_arrays

#: An LP value above this counts as used.
USED = 1e-9
#: Most fixed-binary LP solves one construction may use.
MAX_EVALUATIONS = 10
#: Try the "all lines" rounding (candidate lines and options free in the guiding LP) even when an
#: earlier candidate gave a plan (else only as a fallback).
ALWAYS_ALL_LINES = False
#: Rounds of :func:`_repair` (each closes one binary) before giving up on a rounding.
MAX_REPAIRS = 10_000
#: Most LPs the last-resort dive (:func:`_dive`) may solve, and when a value counts as integral.
MAX_DIVE_LPS = 200
INTEGRAL = 1e-6
#: Passes of :func:`_close_unused` (each over every open binary) at most.
CLOSE_PASSES = 4
#: Safety stop (seconds) on each LP; hit only on a machine far slower than measured.
LP_TIME_LIMIT = 300.0
#: Above this many rows the LP-relaxation candidates (3 and 4) are tried only when nothing gave a
#: plan yet: generated ``large`` (1.04 M rows) — its relaxation does not end within minutes,
#: while open-then-close gives a plan from fixed-integer LPs alone.
RELAXATION_MAX_ROWS = 500_000
#: Row tolerance of the plan checks (HiGHS's primal feasibility tolerance is 1e-7).
TOL = 1e-6


@dataclass(frozen=True)
class ConstructedPlan:
    """The plan built: every column, its cost (HiGHS's sense: −NPV, offset included), how it was
    found (``method``), the LP solves and seconds it took, and how many binaries it closed."""

    x: np.ndarray
    cost: float
    method: str
    evaluations: int
    seconds: float
    closed: int


class _FixedLP:
    """The whole model as an LP (integrality dropped), integer columns pinned per evaluation,
    solved block by block (:mod:`.blocks`: only the blocks a change of the plan touches)."""

    def __init__(self, arrays: ModelArrays, blocks: Blocks, new_highs: Callable[[], Any]) -> None:
        self.arrays = arrays
        self.lp = FixedIntegerLP(arrays, blocks, new_highs)
        self.evaluations = 0

    def evaluate(self, y: np.ndarray) -> tuple[float, np.ndarray] | None:
        """(cost, x) of the plan whose integer columns are ``y``, or None if it is infeasible."""
        self.evaluations += 1
        got = self.lp.solve(y)
        if got is None:
            return None
        x = got[0]
        return float(self.arrays.cost @ x) + self.arrays.offset, x


def construct(arrays: ModelArrays, kinds: np.ndarray, weak: np.ndarray, new_highs: Callable[[], Any],
              time_budget: float = float("inf"),
              on_plan: Callable[[np.ndarray, float], None] | None = None) -> ConstructedPlan | None:
    """A feasible plan of ``arrays`` (:class:`~optimiser.solver.arrays.ModelArrays`) by the steps of
    the module docstring, or None if none of them gives one. ``kinds``:
    :attr:`~optimiser.solver.arrays.Roles.column_kind`; ``weak``: rows the
    guiding LP leaves out (the optional linking rows); ``time_budget``: seconds after which no LP
    is started and a running one stops (a safety stop for models too big for the method: the
    generated ``large`` case's guiding LP does not end within minutes; the MIP keeps the rest);
    ``on_plan(x, cost)``: called with each better plan as it is found, once it meets every row
    (:func:`check`), so a caller can keep it before the construction ends."""
    t0 = time.perf_counter()
    deadline = t0 + max(time_budget, 0.0)

    def limited() -> Any:  # a HiGHS object whose LPs stop at the deadline (its run clock adds up over runs)
        h = new_highs()
        h.setOptionValue("time_limit", float(max(min(LP_TIME_LIMIT, deadline - time.perf_counter()), 1e-3)))
        return h

    cl, cu = arrays.col_lower, arrays.col_upper
    ints = np.flatnonzero(arrays.integrality).astype(np.int32)
    if len(ints) == 0:
        return None
    blocks = Blocks(arrays, ints)
    fixed = _FixedLP(arrays, blocks, limited)
    best: tuple[float, np.ndarray, str] | None = None
    closed_total = 0

    def consider(y: np.ndarray, method: str) -> None:
        nonlocal best, closed_total
        if fixed.evaluations >= MAX_EVALUATIONS or time.perf_counter() >= deadline:
            return
        got = fixed.evaluate(y)
        if got is None:
            return
        cost, x = got
        y2, n_closed = _close_unused(arrays, x, ints)
        if n_closed and fixed.evaluations < MAX_EVALUATIONS:
            got2 = fixed.evaluate(y2)
            if got2 is not None and got2[0] <= cost:
                cost, x = got2
                closed_total += n_closed
        if best is None or cost < best[0] - 1e-9 * max(1.0, abs(best[0])):
            best = (cost, x, method)
            if on_plan is not None and check(arrays, x):
                on_plan(x, cost)

    lower = np.clip(0.0, cl[ints], cu[ints])
    consider(lower, "nothing optional")
    if time.perf_counter() < deadline:
        y, _ = open_close.open_then_close(arrays, ints, kinds, limited, deadline, blocks)
        if y is not None:
            consider(y, "open, then closed")
    relaxation = best is None or len(arrays.row_lower) <= RELAXATION_MAX_ROWS
    for held, method in (((kinds == TAKE) | (kinds == BUILD), "existing lines"),
                         (np.zeros_like(kinds, dtype=bool), "all lines")):
        if not relaxation or (best is not None and method == "all lines" and not ALWAYS_ALL_LINES) \
                or time.perf_counter() >= deadline:
            break
        guide = _guiding_lp(arrays, held, weak, limited)
        if guide is None:
            continue
        v = guide[ints]
        y = np.where(v > USED, np.ceil(v - USED), 0.0)
        y = np.clip(y, cl[ints], cu[ints])
        y = _repair(arrays, ints, y, v)
        if y is not None:
            consider(y, method)
    if best is None and time.perf_counter() < deadline:
        y = _dive(arrays, ints, limited)
        if y is not None:
            consider(y, "LP dive")
    if best is None:
        return None
    cost, x, method = best
    return ConstructedPlan(x, cost, method, fixed.evaluations, time.perf_counter() - t0, closed_total)


def _guiding_lp(arrays: ModelArrays, held: np.ndarray, weak: np.ndarray, new_highs: Callable[[], Any]
                ) -> np.ndarray | None:
    """The LP relaxation without the ``weak`` rows, the ``held`` columns at their lower bounds."""
    lp = without_rows(arrays, weak, integer=False)
    hi = lp.col_upper.copy()
    hi[held] = np.maximum(lp.col_lower[held], 0.0)
    h = new_highs()
    pass_arrays(h, lp._replace(col_upper=hi))
    h.run()
    if h.getModelStatus().name != "kOptimal":
        return None
    return np.asarray(h.getSolution().col_value, dtype=float)


def _dive(arrays: ModelArrays, ints: np.ndarray, new_highs: Callable[[], Any]) -> np.ndarray | None:
    """Integer values by an LP dive on the whole model (last resort, when no rounding gave a plan):
    solve the LP relaxation, fix every integer column at an integer value to it, and the most
    fractional-but-largest one up (down if up makes the LP infeasible); repeat until every
    integer column is integral (None if both ways fail or after :data:`MAX_DIVE_LPS` LPs)."""
    h = new_highs()
    pass_arrays(h, arrays._replace(integrality=np.zeros_like(arrays.integrality)))
    lo, hi = arrays.col_lower[ints].copy(), arrays.col_upper[ints].copy()
    lps = 0

    def solve(lo_: np.ndarray, hi_: np.ndarray) -> np.ndarray | None:
        nonlocal lps
        lps += 1
        h.changeColsBounds(len(ints), ints, lo_, hi_)
        h.run()
        if h.getModelStatus().name != "kOptimal":
            return None
        return np.asarray(h.getSolution().col_value, dtype=float)[ints]

    v = solve(lo, hi)
    while v is not None and lps < MAX_DIVE_LPS:
        frac = np.abs(v - np.round(v)) > INTEGRAL
        if not frac.any():
            return np.round(v)
        whole = ~frac & (lo < hi)
        lo[whole] = hi[whole] = np.round(v[whole])
        cand = np.flatnonzero(frac)
        k = cand[np.lexsort((cand, -v[cand]))[0]]
        up_lo, up_hi = lo.copy(), hi.copy()
        up_lo[k] = up_hi[k] = np.ceil(v[k])
        got = solve(up_lo, up_hi)
        if got is None:
            up_lo[k] = up_hi[k] = np.floor(v[k])
            got = solve(up_lo, up_hi)
        lo, hi, v = up_lo, up_hi, got
    return None


def _repair(arrays: ModelArrays, ints: np.ndarray, y: np.ndarray, value: np.ndarray) -> np.ndarray | None:
    """``y`` with binaries closed until every row over integer columns only holds, or None.

    A broken row ``Σ a·y ≤ b`` (or ``≥ b``) is mended by closing, among its open binaries whose
    lower bound is 0 and whose coefficient pushes it over (``a > 0`` for ``≤``, ``a < 0`` for
    ``≥``), the one the guiding LP valued least (``value``; ties: the lowest column). Closing
    only: a row that needs something opened is not mended here (None)."""
    a, rows = open_close.integer_rows(arrays, ints)
    if not len(rows):
        return y
    full = np.zeros(arrays.col_lower.shape[0])
    full[ints] = y
    lo_row, hi_row = arrays.row_lower[rows], arrays.row_upper[rows]
    col_lo = arrays.col_lower
    val = np.zeros_like(full)
    val[ints] = value
    for _ in range(MAX_REPAIRS):
        act = a @ full
        over = act > hi_row + TOL * np.maximum(1.0, np.abs(hi_row))
        under = act < lo_row - TOL * np.maximum(1.0, np.abs(lo_row))
        bad = np.flatnonzero(over | under)
        if not len(bad):
            out = full[ints]
            return out
        r = bad[0]
        cols = a.indices[a.indptr[r]:a.indptr[r + 1]]
        coef = a.data[a.indptr[r]:a.indptr[r + 1]]
        push = coef > 0 if over[r] else coef < 0
        cand = cols[push & (full[cols] > 0.5) & (col_lo[cols] < 0.5)]
        if not len(cand):
            return None
        j = cand[np.lexsort((cand, val[cand]))[0]]
        full[j] = 0.0
    return None


def _close_unused(arrays: ModelArrays, x: np.ndarray, ints: np.ndarray) -> tuple[np.ndarray, int]:
    """(integer part of ``x`` with every open binary closed whose closing keeps ``x`` meeting every
    row — costliest first, one at a time so two closings never rely on each other —, how many).

    Closing such a binary keeps the fixed-binary LP feasible and lowers its cost by the binary's
    own cost, so the re-solved LP is at least as good."""
    x = x.copy()
    act = row_activity(arrays, x)
    indptr, indices, data = arrays.indptr, arrays.indices, arrays.data
    rl, ru = arrays.row_lower, arrays.row_upper
    tol_u = TOL * np.maximum(1.0, np.abs(ru))
    tol_l = TOL * np.maximum(1.0, np.abs(rl))
    cost = arrays.cost
    open_ = ints[(x[ints] > 0.5) & (arrays.col_lower[ints] < 0.5)]
    order = open_[np.lexsort((open_, -cost[open_]))]
    closed = 0
    for _ in range(CLOSE_PASSES):  # closing a line-year can free its tooling or build: pass again
        before = closed
        for j in order:
            if cost[j] < 0 or x[j] == 0.0:
                continue  # closing would lose money (the LP's value for it does not say), or done
            lo, hi = indptr[j], indptr[j + 1]
            r, coef = indices[lo:hi], data[lo:hi]
            new = act[r] - coef * x[j]
            if np.all(new <= ru[r] + tol_u[r]) and np.all(new >= rl[r] - tol_l[r]):
                act[r] = new
                x[j] = 0.0
                closed += 1
        if closed == before:
            break
    return x[ints], closed


def plan_facts(plan: ConstructedPlan) -> dict[str, Any]:
    """What the run record says about a constructed start plan."""
    return {"npv": -plan.cost, "method": f"construction ({plan.method})", "seconds": round(plan.seconds, 3),
            "lp_solves": plan.evaluations, "closed": plan.closed}


def check(arrays: ModelArrays, x: np.ndarray) -> bool:
    """Whether ``x`` meets every row and bound of ``arrays`` (see arrays.satisfies)."""
    return satisfies(arrays, x, TOL)
