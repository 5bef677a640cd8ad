"""MIP starts: every start handed to HiGHS goes through :func:`run_mip`, whose answer is checked.

HiGHS 1.16 with presolve may map a feasible start into its presolved space wrongly and then return
the start itself as "optimal" with a wrong objective (case: it reported −302 for a plan whose c·x
is 3.5; the optimum is −173.5). :func:`answer_problem` says why an answer cannot be right;
:func:`run_mip` then runs HiGHS again without the start.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import replace
from typing import Any

import numpy as np

from .arrays import ModelArrays
from .highs import option_value, read_outcome, run, set_start
from .outcome import Read, Status, Termination

#: The check of a MIP answer given a start (:func:`answer_problem`): rows and bounds may be off
#: by this × max(1, |value|) (10× HiGHS's own 1e-6 MIP feasibility tolerance, so its scaling
#: never triggers a needless re-run), integer columns by this from an integer …
ANSWER_FEASIBILITY_TOL = 1e-5
#: … and the objective HiGHS reports must be c·x + offset of its plan within this (relative).
ANSWER_OBJECTIVE_RTOL = 1e-6
#: What the outcome records (``start_plan["discarded"]``) when the check fails.
START_DISCARDED = "HiGHS returned an inconsistent optimum with the start; re-solved without it"
#: … and when Ctrl-C had already stopped it (no second run): the plan is kept at its own c·x.
START_NOT_RESOLVED = ("HiGHS returned an inconsistent answer with the start; interrupted, so not re-solved "
                      "(the plan is kept at its own objective, not proven optimal)")
_START_WARNED = False


def plan_objective(arrays: ModelArrays, x: np.ndarray) -> float:
    """c·x + offset: the objective of plan ``x`` (HiGHS's sense, minimise −NPV)."""
    return float(np.dot(arrays.cost, x) + arrays.offset)


def answer_problem(arrays: ModelArrays, termination: str, x: np.ndarray | None, objective: float | None,
                   bound: float | None, rel_gap: float, abs_gap: float,
                   start: np.ndarray | None = None) -> str | None:
    """Why a MIP answer of HiGHS (its own sense: minimise ``objective`` = c·x + offset, ``bound``
    ≤ every plan's objective) cannot be right, or None. Checked, with the tolerances above:

    * ``x`` meets every bound ``l_j ≤ x_j ≤ u_j`` (j over the columns), every row
      ``L_i ≤ (Ax)_i ≤ U_i`` (i over the rows) and integrality of the integer columns;
    * ``objective`` = c·x + offset (relative :data:`ANSWER_OBJECTIVE_RTOL`);
    * ``termination == "optimal"``: bound ≤ c·x and c·x − bound ≤ max(abs_gap, rel_gap·|c·x|);
    * no plan while ``start`` (a plan meeting every row and bound) was given: ``infeasible``
      cannot be right.
    """
    if x is None:
        if termination == Termination.INFEASIBLE and start is not None and plan_violation(arrays, start) is None:
            return "claims infeasible although the start plan meets every row and bound"
        return None
    bad = plan_violation(arrays, x)
    if bad is not None:
        return bad
    cx = plan_objective(arrays, x)
    scale = max(1.0, abs(cx), abs(objective) if objective is not None else 0.0)
    if objective is None or not math.isfinite(objective) or abs(objective - cx) > ANSWER_OBJECTIVE_RTOL * scale:
        return f"reports objective {objective!r} for a plan whose c·x is {cx!r}"
    if termination == Termination.OPTIMAL and bound is not None and math.isfinite(bound):
        tol = ANSWER_OBJECTIVE_RTOL * max(1.0, abs(cx), abs(bound))
        if bound > cx + tol or cx - bound > max(abs_gap, rel_gap * abs(cx)) + tol:
            return f"claims optimal with bound {bound!r} for a plan whose c·x is {cx!r}"
    return None


def plan_violation(arrays: ModelArrays, x: np.ndarray) -> str | None:
    """What of the bounds, integrality and rows of ``arrays`` ``x`` breaks (the first), or None."""
    import scipy.sparse as sp  # noqa: PLC0415 — scipy only when a start is checked (CLI start-up)

    tol = ANSWER_FEASIBILITY_TOL
    x = np.asarray(x, dtype=float)
    if x.shape != np.shape(arrays.col_lower) or not np.isfinite(x).all():
        return "returns a plan with missing or non-finite values"
    lo, up = np.asarray(arrays.col_lower, dtype=float), np.asarray(arrays.col_upper, dtype=float)
    with np.errstate(invalid="ignore"):
        off = (x < lo - tol * np.maximum(1.0, np.abs(lo))) | (x > up + tol * np.maximum(1.0, np.abs(up)))
    if off.any():
        return f"returns a plan outside the bounds of column {int(np.argmax(off))}"
    ints = np.asarray(arrays.integrality) != 0
    if ints.any() and np.abs(x[ints] - np.round(x[ints])).max() > tol:
        return "returns a plan with a fractional integer column"
    m = len(arrays.row_lower)
    if m:
        a = sp.csc_matrix((arrays.data, arrays.indices, arrays.indptr), shape=(m, len(x)))
        act = a @ x
        slack = tol * np.maximum(1.0, np.abs(act))
        with np.errstate(invalid="ignore"):
            broken = (act > arrays.row_upper + slack) | (act < arrays.row_lower - slack)
        if broken.any():
            return f"returns a plan that breaks row {int(np.argmax(broken))}"
    return None


def run_mip(h: Any, arrays: ModelArrays, start: np.ndarray | None, time_limit: float | None, is_mip: bool,
            warn: bool = True) -> tuple[Read, bool, dict[str, str] | None]:
    """Run HiGHS on the model ``arrays`` it holds, from ``start`` (``setSolution``) when given:
    ``(what it holds, interrupted, discarded)``.

    A MIP answer given a start is checked (:func:`answer_problem`); if it fails, HiGHS runs again
    without the start (solver state cleared, within what is left of its time limit),
    ``discarded`` is ``{"discarded": START_DISCARDED, "why": what failed}`` (for the run record's
    ``start_plan``) and, with ``warn``, stderr says so once per process. An answer that still
    fails keeps its plan but reports c·x + offset as its objective and is no longer ``optimal``."""
    if start is not None:
        set_start(h, start)
    t0 = time.perf_counter()
    interrupted = run(h, time_limit)
    read = read_outcome(h, len(arrays.col_lower), interrupted, is_mip)
    if not is_mip or start is None:
        return read, interrupted, None
    rel_gap, abs_gap = option_value(h, "mip_rel_gap"), option_value(h, "mip_abs_gap")
    problem = _answer_problem_max(arrays, read, rel_gap, abs_gap, start)
    if problem is None:
        return read, interrupted, None
    note = START_NOT_RESOLVED if interrupted else START_DISCARDED
    if warn:
        warn_start_discarded(problem, note)
    if not interrupted:
        limit = option_value(h, "time_limit")
        h.clearSolver()
        if math.isfinite(limit):  # HiGHS's run clock adds up over runs: give it what is left
            h.setOptionValue("time_limit", h.getRunTime() + max(limit - (time.perf_counter() - t0), 1e-3))
        interrupted = run(h, None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 1e-3))
        h.setOptionValue("time_limit", limit)
        again = read_outcome(h, len(arrays.col_lower), interrupted, is_mip)
        if again.x is not None or read.x is None:
            read = again
        else:  # stopped before a plan of its own: the start's plan stands (checked below)
            read = replace(read, termination=again.termination, status=Status.FEASIBLE)
    if _answer_problem_max(arrays, read, rel_gap, abs_gap, None) is not None and read.x is not None:
        read = _as_plain_plan(arrays, read)
    return read, interrupted, {"discarded": note, "why": problem}


def _answer_problem_max(arrays: ModelArrays, read: Read, rel_gap: float, abs_gap: float,
                        start: np.ndarray | None) -> str | None:
    """:func:`answer_problem` of a :class:`Read` (NPV maximised)."""
    npv, bound = read.objective, read.best_bound
    return answer_problem(arrays, read.termination, read.x, None if npv is None else -npv,
                          None if bound is None else -bound, rel_gap, abs_gap, start)


def _as_plain_plan(arrays: ModelArrays, read: Read) -> Read:
    """``read`` with objective c·x + offset of its plan, not optimal unless its bound agrees."""
    npv = -plan_objective(arrays, read.x)
    bound, gap = read.best_bound, read.gap
    if bound is not None and math.isfinite(bound) and bound >= npv:
        gap = abs(bound - npv) / abs(npv) if npv != 0 else None
    else:
        bound, gap = None, None
    out = replace(read, objective=npv, best_bound=bound, gap=gap)
    if read.status == Status.OPTIMAL:  # HiGHS's claim did not hold: a plan, not a proven optimum
        out = replace(out, status=Status.FEASIBLE, termination=Termination.INCONSISTENT_OPTIMUM)
    return out


def warn_start_discarded(problem: str, note: str = START_DISCARDED) -> None:
    """One line on stderr (once per process) that HiGHS's answer with the start was discarded."""
    global _START_WARNED
    if _START_WARNED:
        return
    _START_WARNED = True
    then = ("its answer was discarded and the MIP solved again without the start" if note == START_DISCARDED
            else "interrupted before it could be solved again: the plan is kept at its own objective")
    print(f"Warning: given a start plan, HiGHS {problem} (its objective: −NPV); {then}", file=sys.stderr,
          flush=True)
