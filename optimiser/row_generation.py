"""Which optional linking rows HiGHS's MIP needs: the strong LP by row generation.

Part of the solve stage (it drives HiGHS's LP solver; the MIP itself stays HiGHS's). Why: the
disaggregated links ``ship ≤ d·Σ active`` and ``make ≤ U·active`` (``model/linking.py``) are
valid inequalities — every integer plan meets them — that make the LP bound strong. On models
shaped like facility location with many customers (OR-Library capa–c: 100 × 1,000) there are
100,000 of them; HiGHS's root LP then takes minutes (capa-8000: 93 s on one core) and its root
cut loop the rest of a 300 s limit, so it never branches and its sub-MIP heuristics never run.
Only a few thousand of them are binding at the LP optimum (capa-8000: 8,164).

The method (classical cutting-plane loop): solve the LP relaxation without the optional rows;
add every optional row the LP solution violates; re-solve (warm started); repeat until none is
violated. The LP bound is then the strong LP's, from a model a tenth the size; the MIP over the
rows kept has the same integer plans (the rows left out are met by every integer plan), so the
same optimum. Work is counted in rounds (``time_budget`` is a safety stop): a loop that converges
within its budget gives the same rows for the same model; one stopped by time gives a valid but
weaker model (``stopped_by`` says which).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if TYPE_CHECKING:
    from .solve import ModelArrays

#: Most LP rounds one row generation may use (capa–c converge in 20–30).
MAX_ROUNDS = 60
#: A row is violated when it is off by more than this, relative to max(1, |activity|).
VIOLATION_TOL = 1e-6


@dataclass(frozen=True)
class RowSelection:
    """The rows HiGHS's MIP gets (``keep``: every required row and the optional rows the LP
    needed) and what finding them took; ``converged``: the LP over ``keep`` is the strong LP."""

    keep: np.ndarray
    optional: int
    added: int
    rounds: int
    lp_objective: float | None
    converged: bool
    seconds: float
    #: what ended the loop: "converged", "rounds" (MAX_ROUNDS) or "time" (the safety budget)
    stopped_by: str


def without_rows(arrays: ModelArrays, drop: np.ndarray, integer: bool = True) -> ModelArrays:
    """``arrays`` without the rows in the mask ``drop`` (columns unchanged); all columns
    continuous unless ``integer``."""
    from .solve import ModelArrays  # noqa: PLC0415 — solve imports this module's callers

    indptr, indices = arrays.indptr, arrays.indices
    n, m = len(arrays.col_lower), len(arrays.row_lower)
    keep = ~np.asarray(drop, dtype=bool) if len(drop) else np.ones(m, dtype=bool)
    new_row = np.cumsum(keep) - 1
    on = keep[indices]
    col_of_entry = np.repeat(np.arange(n), np.diff(indptr))
    counts = np.bincount(col_of_entry[on], minlength=n)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    integrality = arrays.integrality if integer else np.zeros(n, dtype=arrays.integrality.dtype)
    return ModelArrays(arrays.cost, arrays.offset, ptr, new_row[indices[on]].astype(np.int32), arrays.data[on],
                       arrays.row_lower[keep], arrays.row_upper[keep], arrays.col_lower, arrays.col_upper,
                       integrality)


def row_activity(arrays: ModelArrays, x: np.ndarray) -> np.ndarray:
    """A·x for the model ``arrays``."""
    act = np.zeros(len(arrays.row_lower))
    np.add.at(act, arrays.indices, arrays.data * np.repeat(x, np.diff(arrays.indptr)))
    return act


def violated(arrays: ModelArrays, x: np.ndarray, tol: float = VIOLATION_TOL) -> np.ndarray:
    """Mask of the rows ``x`` violates by more than ``tol`` × max(1, |activity|)."""
    act = row_activity(arrays, x)
    slack = tol * np.maximum(1.0, np.abs(act))
    with np.errstate(invalid="ignore"):
        return (act > arrays.row_upper + slack) | (act < arrays.row_lower - slack)


def needed_rows(arrays: ModelArrays, optional: np.ndarray, new_highs: Callable[[], Any], time_budget: float,
                max_rounds: int = MAX_ROUNDS) -> RowSelection | None:
    """The rows of ``arrays`` the strong LP needs: the required ones (``~optional``) and the
    optional ones some round's LP solution violated. None if the first LP is not solved."""
    t0 = time.perf_counter()
    optional = np.asarray(optional, dtype=bool)
    keep = ~optional
    lp = without_rows(arrays, optional, integer=False)
    from .solve import _pass_arrays  # noqa: PLC0415 — solve imports this module's callers

    h = new_highs()
    h.setOptionValue("time_limit", float(max(time_budget, 0.0)))  # once: HiGHS's clock adds up over runs
    _pass_arrays(h, lp)
    csr = None
    rounds, objective, converged, stopped_by = 0, None, False, "rounds"
    while rounds < max_rounds:
        if time.perf_counter() - t0 >= time_budget:
            stopped_by = "time"
            break
        h.run()
        rounds += 1
        if h.getModelStatus().name != "kOptimal":
            if rounds == 1:
                return None
            stopped_by = "time"  # the budget ran out inside HiGHS (the rows found so far stand)
            break
        objective = h.getInfo().objective_function_value
        x = np.asarray(h.getSolution().col_value)
        new = optional & ~keep & violated(arrays, x)
        if not new.any():
            converged, stopped_by = True, "converged"
            break
        if csr is None:
            csr = _csr(arrays)
        idx = np.flatnonzero(new)
        sub = csr[idx]
        h.addRows(len(idx), arrays.row_lower[idx], arrays.row_upper[idx], sub.nnz,
                  sub.indptr[:-1].astype(np.int32), sub.indices.astype(np.int32), sub.data)
        keep[idx] = True
    if rounds == 0:
        return None
    return RowSelection(keep, int(optional.sum()), int((keep & optional).sum()), rounds, objective, converged,
                        time.perf_counter() - t0, stopped_by)


def _csr(arrays: ModelArrays) -> Any:
    import scipy.sparse as sp  # noqa: PLC0415

    shape = (len(arrays.row_lower), len(arrays.col_lower))
    return sp.csc_matrix((arrays.data, arrays.indices, arrays.indptr), shape=shape).tocsr()
