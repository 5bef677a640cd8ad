"""Which optional linking rows HiGHS's MIP needs: the strong LP by row generation.

Part of the solver layer (it drives HiGHS's LP solver; the MIP itself stays HiGHS's). Why: the
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
from typing import Any, Callable

import numpy as np

from .arrays import ModelArrays, csr, violated, without_rows
from .highs import pass_arrays

#: Most LP rounds one row generation may use (capa–c converge in 20–30).
MAX_ROUNDS = 60


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


def needed_rows(arrays: ModelArrays, optional: np.ndarray, new_highs: Callable[[], Any], time_budget: float,
                max_rounds: int = MAX_ROUNDS) -> RowSelection | None:
    """The rows of ``arrays`` the strong LP needs: the required ones (``~optional``) and the
    optional ones some round's LP solution violated. None if the first LP is not solved."""
    t0 = time.perf_counter()
    optional = np.asarray(optional, dtype=bool)
    keep = ~optional
    lp = without_rows(arrays, optional, integer=False)
    h = new_highs()
    h.setOptionValue("time_limit", float(max(time_budget, 0.0)))  # once: HiGHS's clock adds up over runs
    pass_arrays(h, lp)
    rows_csr = None
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
        if rows_csr is None:
            rows_csr = csr(arrays)
        idx = np.flatnonzero(new)
        sub = rows_csr[idx]
        h.addRows(len(idx), arrays.row_lower[idx], arrays.row_upper[idx], sub.nnz,
                  sub.indptr[:-1].astype(np.int32), sub.indices.astype(np.int32), sub.data)
        keep[idx] = True
    if rounds == 0:
        return None
    return RowSelection(keep, int(optional.sum()), int((keep & optional).sum()), rounds, objective, converged,
                        time.perf_counter() - t0, stopped_by)
