"""Why a model has no plan: an irreducible infeasible subset (IIS) of its rows and bounds, from HiGHS.

:func:`compute_iis` hands the model's LP relaxation to HiGHS's IIS finder and returns plain data
(:class:`IisResult` of :class:`IisMember` rows and columns), never a HiGHS object.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .arrays import Compiled
from .highs import new_highs, pass_compiled, run
from .outcome import termination_of

#: ``iis_strategy`` bits: 2 = find an infeasible set from the whole LP (elasticity filter),
#: 4 = reduce it to an irreducible one. (0, the "light" test, always runs first.)
IIS_STRATEGY = 2 | 4
#: ``HighsIis.col_bound_`` / ``row_bound_``: which bounds of a member take part.
_IIS_BOUND = {-1: "dropped", 0: "none", 1: "free", 2: "lower", 3: "upper", 4: "both"}
#: ``HighsIis.status_``: -1 feasible, 0 unknown, 1 time limit, 2 reducible, 3 irreducible.
_IIS_FEASIBLE, _IIS_TIME_LIMIT, _IIS_REDUCIBLE, _IIS_IRREDUCIBLE = -1, 1, 2, 3


@dataclass(frozen=True)
class IisMember:
    """One row or column of an IIS: which one, which of its bounds take part, and their values.

    ``key`` is the row's entry of :attr:`Compiled.rows` (name, index, sense) or the column's
    :class:`ColumnKey`. ``bound`` is ``lower``, ``upper``, ``both`` or ``free`` (a column in the
    subset only through its rows: none of its bounds is needed).
    """

    key: tuple
    bound: str
    lower: float
    upper: float


@dataclass(frozen=True)
class IisResult:
    """What HiGHS found, in plain data.

    ``status``: ``found`` (rows and columns hold the subset; ``irreducible`` says whether HiGHS
    could reduce it fully), ``feasible`` (the model — its LP relaxation when ``relaxation`` — is
    feasible, so there is no IIS), or ``unavailable`` (``message`` says why).
    """

    status: str
    relaxation: bool
    irreducible: bool = False
    rows: tuple[IisMember, ...] = ()
    columns: tuple[IisMember, ...] = ()
    message: str = ""
    seconds: float = 0.0


def compute_iis(cm: Compiled, time_limit: float | None = None) -> IisResult:
    """An IIS of the compiled model, or of its LP relaxation when it has integer columns.

    HiGHS computes IISs of LPs only, so integrality is dropped (and the objective, which plays no
    part in feasibility). If the relaxation is feasible there is no LP IIS: a MIP that is still
    infeasible owes it to integrality. Never raises for a model HiGHS cannot analyse: the result
    says ``unavailable`` with the reason.
    """
    t0 = time.perf_counter()
    relaxation = bool(cm.integrality.any())

    def result(status: str, message: str = "", **kw: Any) -> IisResult:
        return IisResult(status, relaxation, message=message, seconds=time.perf_counter() - t0, **kw)

    lp = replace(cm, sense_min_cost=np.zeros(len(cm.col_lower)), offset=0.0,
                 integrality=np.zeros(len(cm.col_lower), dtype=np.int32), compile_seconds=0.0)
    h = new_highs()
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
        h.setOptionValue("iis_time_limit", float(time_limit))
    try:
        pass_compiled(h, lp)
    except RuntimeError as exc:
        return result("unavailable", str(exc))
    if run(h, time_limit):
        raise KeyboardInterrupt
    status = h.getModelStatus().name
    if status in ("kOptimal", "kModelEmpty", "kUnbounded"):
        return result("feasible")
    if status not in ("kInfeasible", "kUnboundedOrInfeasible"):
        word = termination_of(status).replace("_", " ")
        return result("unavailable", f"HiGHS stopped ({word}) before deciding whether the LP is feasible")
    h.setOptionValue("iis_strategy", IIS_STRATEGY)
    code, iis = h.getIis()
    if code.name == "kError" or not iis.valid_:
        return result("unavailable", "HiGHS could not compute an IIS")
    if iis.status_ == _IIS_FEASIBLE:
        return result("feasible")
    if iis.status_ == _IIS_TIME_LIMIT:
        return result("unavailable", "HiGHS reached the time limit while computing the IIS")
    if iis.status_ not in (_IIS_REDUCIBLE, _IIS_IRREDUCIBLE) or not (len(iis.row_index_) or len(iis.col_index_)):
        return result("unavailable", "HiGHS found no infeasible subset")
    rows = tuple(IisMember(cm.rows[i], _IIS_BOUND.get(int(b), str(b)), float(cm.row_lower[i]), float(cm.row_upper[i]))
                 for i, b in zip(iis.row_index_, iis.row_bound_))
    cols = tuple(IisMember(cm.columns[j], _IIS_BOUND.get(int(b), str(b)), float(cm.col_lower[j]),
                           float(cm.col_upper[j])) for j, b in zip(iis.col_index_, iis.col_bound_))
    return result("found", irreducible=iis.status_ == _IIS_IRREDUCIBLE, rows=rows, columns=cols)
