"""Capacity shadow prices: row duals of the LP with every integer column fixed, and their ranging.

``fix()`` alone would leave a MIP without duals, so the LP is the MIP's model with integrality
relaxed and every integer column pinned at the incumbent; bounds and rows that only repeat the
capacity rows are lifted first (:func:`relax_implied_bounds`, by the model's :class:`Roles`) so
the shadow price lands on capacity. :func:`rhs_ranges` then ranges the capacity rows' right-hand
sides on that LP's basis.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .arrays import INF, Compiled
from .highs import is_basic, run

#: Seconds the LP behind the capacity values may take (after the MIP; integers fixed, so it is easy).
DUALS_TIME_LIMIT = 300.0


def fixed_lp_duals(h: Any, cm: Compiled, x: np.ndarray, is_mip: bool) -> np.ndarray | None:
    """Row duals of the LP with every integer column fixed at its (rounded) incumbent value."""
    if is_mip:
        idx = np.flatnonzero(cm.integrality).astype(np.int32)
        vals = np.round(x[idx])
        h.changeColsIntegrality(len(idx), idx, np.zeros(len(idx), dtype=np.int32))
        h.changeColsBounds(len(idx), idx, vals, vals)
    relax_implied_bounds(h, cm, x)
    # HiGHS checks a (warm-started) LP's time limit against the object's run clock, which adds up
    # over runs and is not reset by clearSolver: a session re-using one object for many duals LPs
    # would lose them once the total passed the limit. So the limit is that clock + the allowance.
    h.setOptionValue("time_limit", h.getRunTime() + DUALS_TIME_LIMIT)
    if run(h, DUALS_TIME_LIMIT):  # Ctrl-C here: the plan stands, without capacity values
        return None
    if h.getModelStatus().name != "kOptimal":
        return None
    sol = h.getSolution()
    if not sol.dual_valid:
        return None
    # HiGHS minimises −NPV: a row dual y means d(−NPV)/d(rhs) = y, so NPV gains −y per unit.
    return -np.array(sol.row_dual)


def relax_implied_bounds(h: Any, cm: Compiled, x: np.ndarray) -> None:
    """Lift bounds that duplicate the capacity rows, so duals land on capacity (same LP optimum):
    the upper bounds of the :attr:`Roles.implied_upper` columns, the :attr:`Roles.linking` rows,
    the tool-link rows ``make ≤ U·tool`` whose tool is at 1 in ``x`` (they then only repeat the
    capacity/demand bound) and one of each line-year's two capacity rows
    (:func:`repeated_capacity_rows`)."""
    roles = cm.roles
    cols = np.flatnonzero(roles.implied_upper).astype(np.int32)
    if len(cols):
        h.changeColsBounds(len(cols), cols, cm.col_lower[cols], np.full(len(cols), INF))
    tool = np.asarray(roles.tool_link_column)
    tool_on = np.zeros(len(tool), dtype=bool)
    linked = tool >= 0
    tool_on[linked] = x[tool[linked]] > 0.5
    rows = np.flatnonzero(np.asarray(roles.linking, dtype=bool) | tool_on).tolist()
    rows += repeated_capacity_rows(cm, x)
    if rows:
        r = np.array(rows, dtype=np.int32)
        h.changeRowsBounds(len(r), r, np.full(len(r), -INF), np.full(len(r), INF))


def repeated_capacity_rows(cm: Compiled, x: np.ndarray) -> list[int]:
    """Of a line-year's two capacity rows (capacity: ≤ cap·running; ramp: ≤ cap·ready, paired by
    :attr:`Roles.ramp_partner`), the one that does not bind with the integers at ``x``: the ramp
    row when the capacity it allows is at least the capacity row's (then the two are the same row
    or it is looser), else the capacity row. Lifting it leaves the LP and its optimum unchanged
    and puts the whole shadow price (and a meaningful ranging) on one row."""
    partner = np.asarray(cm.roles.ramp_partner)
    ramps = np.flatnonzero(partner >= 0)
    if not len(ramps):
        return []
    ints = np.flatnonzero(cm.integrality)
    xi = np.zeros(len(x))
    xi[ints] = np.round(x[ints])
    a = cm.a_csc
    entry_col = np.repeat(np.arange(len(x)), np.diff(np.asarray(a.indptr)))
    activity = np.bincount(np.asarray(a.indices), weights=np.asarray(a.data) * xi[entry_col],
                           minlength=len(cm.row_upper))
    out = []
    for i in ramps.tolist():
        j = int(partner[i])
        allows_i = float(cm.row_upper[i] - activity[i])
        allows_j = float(cm.row_upper[j] - activity[j])
        out.append(i if allows_i >= allows_j - 1e-9 else j)
    return out


#: Most basis solves :func:`rhs_ranges` makes (one per binding capacity row); rows past it get
#: no range. HiGHS's own ``getRanging`` ranges every row and column (medium generated case:
#: 48 s on a loaded machine); the capacity rows alone need one solve each.
RANGING_MAX_SOLVES = 20_000
#: … and at most this many (basis solves × model rows): each solve and its ratio test cost O(rows),
#: so the step grows with rows²; generated large (1.04 M rows) spent 250 s here against medium's
#: 2 s. Medium keeps its 20,000; large gets 1,446. Work, not seconds: the same model gives the
#: same ranges.
RANGING_WORK = 1.5e9
#: A rate below this in the ratio test is taken as 0 (HiGHS's own ranging uses similar).
_RANGING_ZERO = 1e-9


def rhs_ranges(h: Any, cm: Compiled) -> np.ndarray | None:
    """After the duals LP: the interval of each capacity row's upper bound over which the LP's
    basis, and so every row dual, stays the same — right-hand-side ranging, as HiGHS's
    ``getRanging`` computes it (``row_bound_dn/up``), for the :attr:`Roles.ranged` rows only.

    For a binding row i (its logical nonbasic), moving its bound by Δ moves the basic variables
    by Δ·d with B·d = e_i (``getBasisSolve``; a basic logical of row j stands for −activity_j):
    Δ ∈ [max over k of the lower ratios, min over k of the upper ratios] keeps each basic
    variable within its bounds. A row not binding (its logical basic) keeps its dual (0) from
    its activity up to +∞.

    One row per model row, columns (lowest, highest) upper bound; NaN for rows not in
    :attr:`Roles.ranged`, rows lifted from the LP, and rows past :data:`RANGING_MAX_SOLVES` (fewer on
    big models: :data:`RANGING_WORK`).
    None if the LP has no optimal basis."""
    if h.getModelStatus().name != "kOptimal":
        return None
    ranged = np.flatnonzero(cm.roles.ranged).tolist()
    out = np.full((len(cm.row_lower), 2), np.nan)
    if not ranged:
        return out
    try:
        basis = h.getBasis()
        status, basic = h.getBasicVariables()
        lp = h.getLp()
        sol = h.getSolution()
    except Exception:  # noqa: BLE001 — ranging is extra: the plan and its duals stand without it
        return None
    if not basis.valid or status.name != "kOk":
        return None
    row_status = basis.row_status
    basic = np.asarray(basic)
    is_col = basic >= 0
    idx = np.where(is_col, basic, -basic - 1)
    lower = np.where(is_col, np.asarray(lp.col_lower_)[np.where(is_col, idx, 0)],
                     np.asarray(lp.row_lower_)[np.where(is_col, 0, idx)])
    upper = np.where(is_col, np.asarray(lp.col_upper_)[np.where(is_col, idx, 0)],
                     np.asarray(lp.row_upper_)[np.where(is_col, 0, idx)])
    value = np.where(is_col, np.asarray(sol.col_value)[np.where(is_col, idx, 0)],
                     np.asarray(sol.row_value)[np.where(is_col, 0, idx)])
    sign = np.where(is_col, 1.0, -1.0)  # a basic logical moves against its row's activity
    row_upper = np.asarray(lp.row_upper_)
    activity = np.asarray(sol.row_value)
    solves = 0
    most = min(RANGING_MAX_SOLVES, int(RANGING_WORK // max(len(cm.row_lower), 1)))
    e = np.zeros(len(cm.row_lower))
    for i in ranged:
        if not np.isfinite(row_upper[i]):
            continue  # lifted from this LP
        if is_basic(row_status[i]):
            out[i] = (activity[i], INF)
            continue
        if solves >= most:
            continue
        solves += 1
        e[i] = 1.0
        st, d = h.getBasisSolve(e)
        e[i] = 0.0
        if st.name != "kOk":
            continue
        rate = sign * np.asarray(d)
        up = rate > _RANGING_ZERO
        dn = rate < -_RANGING_ZERO
        with np.errstate(divide="ignore", invalid="ignore"):
            hi = min(np.min((upper[up] - value[up]) / rate[up], initial=INF),
                     np.min((lower[dn] - value[dn]) / rate[dn], initial=INF))
            lo = max(np.max((lower[up] - value[up]) / rate[up], initial=-INF),
                     np.max((upper[dn] - value[dn]) / rate[dn], initial=-INF))
        out[i] = (row_upper[i] + min(lo, 0.0), row_upper[i] + max(hi, 0.0))
    return out
