"""A start plan for HiGHS: round the LP relaxation, then improve it by open / close / swap moves.

Part of the solve stage (it drives HiGHS's LP solver; the MIP itself stays HiGHS's). Why: on
models shaped like facility location with many customers (OR-Library capa–c: 100 × 1,000) the
strong formulation's root LP takes HiGHS minutes and its root cut loop the rest of the time
limit, so its own heuristics never run and the plan it returns can be 40 % off. A plan found here
in seconds is handed to HiGHS as its start and bounds its search from the first node.

The method (classical ADD/DROP/SWAP local search for fixed-charge problems, on any MIP):

1. LP relaxation **without** the optional linking rows (``weak`` mask: valid inequalities the
   model does not need, see ``model/linking.py``) — fast even where the strong one is not;
2. every binary at a positive LP value rounded up, the rest to 0; then the **fixed-binary LP**
   (every integer column fixed) gives the plan's cost, or says the rounding is infeasible (e.g.
   an exclusive group or a budget): then rounding to the nearest, then everything down is tried;
   if none is feasible there is no start and nothing else happens;
3. moves, each judged by re-solving the fixed-binary LP (warm started, a few hundred simplex
   iterations): close the open binary with the largest reduced cost, open the closed one with
   the most negative one (first improving of the :data:`CANDIDATES` best by reduced cost); when
   neither improves, swap (close one of :data:`SWAP_CANDIDATES`, open one of as many);
   stop when nothing improves or after :data:`MAX_EVALUATIONS` LP solves.

Work is counted in LP solves, not seconds, so the same model and options give the same start
(``time_budget`` is only a safety stop). The plan is feasible for the fixed-binary LP of the
model without the weak rows; the caller checks it against every row before using it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from .row_generation import violated, without_rows

if TYPE_CHECKING:
    from .solve import ModelArrays

#: Reduced-cost candidates tried per close / open move.
CANDIDATES = 25
#: Candidates on each side of a swap (so up to SWAP_CANDIDATES² LP solves per swap round).
SWAP_CANDIDATES = 6
#: Most fixed-binary LP solves one search may use.
MAX_EVALUATIONS = 400
#: An improvement must beat the incumbent by this relative amount (no cycling on ties).
REL_IMPROVEMENT = 1e-7


@dataclass(frozen=True)
class StartPlan:
    """The plan found: all columns, its cost (HiGHS's sense: minimised, offset included)."""

    x: np.ndarray
    cost: float
    evaluations: int
    seconds: float
    moves: int


def find_start(arrays: ModelArrays, weak: np.ndarray, new_highs: Callable[[], Any], time_budget: float,
               max_evaluations: int = MAX_EVALUATIONS) -> StartPlan | None:
    """A feasible plan for the model ``arrays`` (``solve.ModelArrays``), or None."""
    t0 = time.perf_counter()
    cl, cu = arrays.col_lower, arrays.col_upper
    ints = np.flatnonzero(arrays.integrality).astype(np.int32)
    if len(ints) == 0:
        return None
    h = _lp_without(arrays, weak, new_highs)
    # HiGHS measures a warm-started LP's time limit on the object's run clock, which adds up over
    # runs: so the budget is set once, as a total, and the deadline is also kept here.
    h.setOptionValue("time_limit", float(max(time_budget, 0.0)))
    deadline = t0 + max(time_budget, 0.0)
    if not _solve(h, deadline):
        return None
    x_lp = np.asarray(h.getSolution().col_value)[ints]
    evaluations = 0
    for y in _roundings(x_lp):
        y = np.clip(y, cl[ints], cu[ints])
        h.changeColsBounds(len(ints), ints, y, y)
        evaluations += 1
        if _solve(h, deadline):
            break
    else:
        return None
    best = h.getInfo().objective_function_value
    best_x = np.asarray(h.getSolution().col_value).copy()
    movable = (cl[ints] == 0) & (cu[ints] == 1)
    moves = 0

    def set_col(k: int, v: float) -> None:
        h.changeColsBounds(1, ints[k:k + 1], np.array([v]), np.array([v]))

    def better() -> bool:
        nonlocal evaluations, best, best_x
        evaluations += 1
        if not _solve(h, deadline):
            return False
        v = h.getInfo().objective_function_value
        if v < best - REL_IMPROVEMENT * max(1.0, abs(best)):
            best, best_x = v, np.asarray(h.getSolution().col_value).copy()
            return True
        return False

    def out_of_work() -> bool:
        return evaluations >= max_evaluations or time.perf_counter() > deadline

    while not out_of_work():
        # reduced costs at the current plan (the last LP solved is the current plan's)
        rc = np.asarray(h.getSolution().col_dual)[ints]
        by_rc = np.argsort(-rc, kind="stable")
        close = [int(k) for k in by_rc if movable[k] and y[k] == 1 and rc[k] > 0]
        open_ = [int(k) for k in by_rc[::-1] if movable[k] and y[k] == 0 and rc[k] < 0]
        moved = False
        for k, new in [(k, 0.0) for k in close[:CANDIDATES]] + [(k, 1.0) for k in open_[:CANDIDATES]]:
            if out_of_work():
                break
            old = y[k]
            set_col(k, new)
            if better():
                y[k], moved = new, True
                break
            set_col(k, old)
        if not moved:
            shut = [int(k) for k in by_rc if movable[k] and y[k] == 1][:SWAP_CANDIDATES]
            opened = [int(k) for k in by_rc[::-1] if movable[k] and y[k] == 0][:SWAP_CANDIDATES]
            for a in shut:
                for b in opened:
                    if out_of_work():
                        break
                    set_col(a, 0.0)
                    set_col(b, 1.0)
                    if better():
                        y[a], y[b], moved = 0.0, 1.0, True
                        break
                    set_col(a, 1.0)
                    set_col(b, 0.0)
                if moved or out_of_work():
                    break
        if not moved:
            break
        moves += 1
        # the last LP solved was the accepted plan's: its reduced costs drive the next move
    best_x[ints] = np.round(best_x[ints])
    return StartPlan(best_x, float(best), evaluations, time.perf_counter() - t0, moves)


def _roundings(x: np.ndarray):
    """Integer plans to start from, in turn until one is feasible: every positive value up (opens
    all the LP uses: feasible where opening more never hurts, as in facility location); to the
    nearest integer; every value down (nothing optional opened: feasible where doing without is
    allowed, e.g. demand may go unmet)."""
    yield np.where(x > 1e-6, np.ceil(x - 1e-6), 0.0)
    yield np.floor(x + 0.5)
    yield np.floor(x + 1e-6)


def satisfies(arrays: ModelArrays, x: np.ndarray, tol: float = 1e-6) -> bool:
    """Whether ``x`` meets every row and bound of ``arrays`` (within ``tol``, relative above 1)."""
    cl, cu = arrays.col_lower, arrays.col_upper
    if np.any(x < cl - tol * np.maximum(1, np.abs(cl))) or np.any(x > cu + tol * np.maximum(1, np.abs(cu))):
        return False
    return not np.isnan(x).any() and not violated(arrays, x, tol).any()


def _lp_without(arrays: ModelArrays, weak: np.ndarray, new_highs: Callable[[], Any]) -> Any:
    """A HiGHS LP of the model's relaxation without the ``weak`` rows."""
    lp = without_rows(arrays, weak, integer=False)
    from .solve import _pass_arrays  # noqa: PLC0415 — solve imports this module's callers

    h = new_highs()  # the caller's settings (HiGHS takes one thread count per process)
    _pass_arrays(h, lp)
    return h


def _solve(h: Any, deadline: float) -> bool:
    """Run the LP if the budget is not spent; True when it is solved to optimality."""
    if time.perf_counter() >= deadline:
        return False
    h.run()
    return h.getModelStatus().name == "kOptimal"
