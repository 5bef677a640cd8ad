"""A start plan for HiGHS: round the LP relaxation, then improve it by open / close / swap moves.

Part of the solver layer (it drives HiGHS's LP solver; the MIP itself stays HiGHS's). Why: on
models shaped like facility location with many customers (OR-Library capa–c: 100 × 1,000) the
strong formulation's root LP takes HiGHS minutes and its root cut loop the rest of the time
limit, so its own heuristics never run and the plan it returns can be 40 % off. A plan found here
in seconds is handed to HiGHS as its start and bounds its search from the first node.

The method (classical ADD/DROP/SWAP local search for fixed-charge problems, on any MIP):

1. LP relaxation **without** the optional linking rows (``weak`` mask: valid inequalities the
   model does not need, see ``model/linking.py``) — fast even where the strong one is not;
2. every binary at a positive LP value rounded up, the rest to 0; then the **fixed-binary LP**
   (every integer column fixed) gives the plan's cost, or says the rounding is infeasible (e.g.
   an exclusive group or a budget): then rounding to the nearest, then everything down are tried;
   if none is feasible there is no start and nothing else happens;
3. moves, each judged by re-solving the fixed-binary LP (warm started): close an open binary
   (by largest reduced cost), open a closed one (by estimated gain, see :class:`_Gates`), swap
   (one of :data:`SHUT_CANDIDATES` open for one of :data:`SWAP_CANDIDATES` closed); the first
   improving move is taken, until none improves;
4. at such a local optimum, the :data:`KICK_STARTS` best *non-improving* swaps of its last round
   are each followed by a new descent; the first that ends better becomes the plan and the search
   goes on from there, else it stops. Many improvements need two swaps neither of which improves
   alone (capa-12000: the plan's L070 and L089 for the optimum's L036 and L065).

The fixed-binary LP is kept small: the linking rows of the form ``x ≤ Σ g·y`` (one continuous
column, binaries) become bounds of ``x`` once ``y`` is fixed, and the columns they hold at 0 leave
the LP until a move opens them again (:class:`_LiveLP`): on capa–c it has ~6,000 columns instead of
100,000, and a move costs ~20 ms instead of ~170 ms. Its optimum is the whole model's fixed-binary
LP except for the left-out rows over integer columns only; the caller checks the plan against every
row before using it.

Work is counted in LP solves, not seconds, so the same model and options give the same start
(``time_budget`` is only a safety stop).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp

from .arrays import ModelArrays, csr, without_rows
from .highs import pass_arrays

#: Reduced-cost candidates tried per close / open move.
CANDIDATES = 25
#: Swaps try each of SHUT_CANDIDATES open binaries (largest reduced cost first) against each of
#: SWAP_CANDIDATES closed ones (largest estimated gain first).
SHUT_CANDIDATES = 6
SWAP_CANDIDATES = 6
#: Non-improving swaps a local optimum is left by (each followed by a descent).
KICK_STARTS = 3
#: Most fixed-binary LP solves one search may use.
MAX_EVALUATIONS = 3000
#: An improvement must beat the incumbent by this relative amount (no cycling on ties).
REL_IMPROVEMENT = 1e-7
#: The live LP is rebuilt when it holds more than REBUILD_FACTOR times the columns the plan
#: needs plus REBUILD_MIN_COLUMNS.
REBUILD_FACTOR = 2.0
REBUILD_MIN_COLUMNS = 1000


@dataclass(frozen=True)
class StartPlan:
    """The plan found: all columns, its cost (HiGHS's sense: minimised, offset included)."""

    x: np.ndarray
    cost: float
    evaluations: int
    seconds: float
    moves: int
    kicks: int = 0


def find_start(arrays: ModelArrays, weak: np.ndarray, new_highs: Callable[[], Any], time_budget: float,
               max_evaluations: int = MAX_EVALUATIONS) -> StartPlan | None:
    """A feasible plan for the model ``arrays`` (:class:`~optimiser.solver.arrays.ModelArrays`), or None."""
    t0 = time.perf_counter()
    deadline = t0 + max(time_budget, 0.0)
    cl, cu = arrays.col_lower, arrays.col_upper
    ints = np.flatnonzero(arrays.integrality).astype(np.int32)
    if len(ints) == 0:
        return None
    lp = without_rows(arrays, weak, integer=False)
    x_lp = _relaxation(lp, new_highs, time_budget)
    if x_lp is None:
        return None
    search = _Search(_LiveLP(lp, _Gates(arrays, weak), ints, new_highs, deadline), (cl[ints] == 0) & (cu[ints] == 1),
                     max_evaluations)
    for y in _roundings(x_lp[ints]):
        y = np.clip(y, cl[ints], cu[ints])
        cost = search.evaluate(y)
        if cost is not None:
            break
    else:
        return None
    y, cost, x, moves = search.descend(y, cost)
    kicks = 0
    while not search.out_of_work():
        improved = False
        for _, start in sorted(search.last_round, key=lambda t: t[0])[:KICK_STARTS]:
            if search.out_of_work():
                break
            kicks += 1
            v = search.evaluate(start)
            if v is None:
                continue
            y2, c2, x2, m2 = search.descend(start, v)
            if search.better(c2, cost):
                y, cost, x, moves, improved = y2, c2, x2, moves + m2 + 1, True
                break
        if not improved:
            break
    x = x.copy()
    x[ints] = np.round(x[ints])
    return StartPlan(x, float(cost), search.evaluations, time.perf_counter() - t0, moves, kicks)


def _relaxation(lp: ModelArrays, new_highs: Callable[[], Any], time_budget: float) -> np.ndarray | None:
    """The LP relaxation's solution (None if HiGHS does not solve it within the budget)."""
    h = new_highs()  # the caller's settings (HiGHS takes one thread count per process)
    pass_arrays(h, lp)
    h.setOptionValue("time_limit", float(max(time_budget, 0.0)))
    h.run()
    if h.getModelStatus().name != "kOptimal":
        return None
    return np.asarray(h.getSolution().col_value)


class _Search:
    """The moves of the local search over the binaries ``movable`` (positions in ``live.ints``)."""

    def __init__(self, live: _LiveLP, movable: np.ndarray, max_evaluations: int) -> None:
        self.live, self.movable, self.max_evaluations = live, movable, max_evaluations
        self.evaluations = 0
        #: (cost, plan) of every feasible swap tried in the last, non-improving round of a descent
        self.last_round: list[tuple[float, np.ndarray]] = []

    def out_of_work(self) -> bool:
        return self.evaluations >= self.max_evaluations or time.perf_counter() > self.live.deadline

    def evaluate(self, y: np.ndarray) -> float | None:
        """The fixed-binary LP's cost at ``y`` (None: infeasible or out of time)."""
        self.evaluations += 1
        return self.live.evaluate(y)

    @staticmethod
    def better(new: float, old: float) -> bool:
        return new < old - REL_IMPROVEMENT * max(1.0, abs(old))

    def descend(self, y: np.ndarray, cost: float) -> tuple[np.ndarray, float, np.ndarray, int]:
        """First-improvement descent from ``y`` (the live LP's last solve): (plan, cost, all
        columns, moves)."""
        ints, movable, gates = self.live.ints, self.movable, self.live.gates
        x = self.live.x_full()
        moves = 0
        while not self.out_of_work():
            rc_all = self.live.reduced_costs()
            rc = rc_all[ints]
            gain = rc + gates.open_gain(rc_all)[ints]
            by_rc = np.argsort(-rc, kind="stable")
            by_gain = np.argsort(gain, kind="stable")
            on = [int(k) for k in by_rc if movable[k] and y[k] == 1]
            off = [int(k) for k in by_gain if movable[k] and y[k] == 0]
            trials = ([(k,) for k in on if rc[k] > 0][:CANDIDATES] + [(k,) for k in off if gain[k] < 0][:CANDIDATES]
                      + [(a, b) for a in on[:SHUT_CANDIDATES] for b in off[:SWAP_CANDIDATES]])
            round_ = []
            moved = False
            for ks in trials:
                if self.out_of_work():
                    break
                trial = y.copy()
                trial[list(ks)] = 1.0 - trial[list(ks)]
                v = self.evaluate(trial)
                if v is None:
                    continue
                if self.better(v, cost):
                    y, cost, x, moved = trial, v, self.live.x_full(), True
                    break
                if len(ks) == 2:
                    round_.append((v, trial))
            if not moved:
                self.last_round = round_
                break
            moves += 1
        return y, cost, x, moves


class _Gates:
    """The left-out rows ``a·x − Σ_k c_k·y_k ≤ 0`` (one continuous column x with a > 0, integer
    columns y with c_k > 0): with y fixed, the bound ``x ≤ Σ_k (c_k/a)·y_k`` (ship_link:
    ``ship ≤ d·Σ running``; running_link: ``make ≤ U·running``)."""

    def __init__(self, arrays: ModelArrays, weak: np.ndarray) -> None:
        n = len(arrays.col_lower)
        integer = arrays.integrality.astype(bool)
        rows = np.flatnonzero(np.asarray(weak, dtype=bool) & (arrays.row_upper == 0) & ~np.isfinite(arrays.row_lower))
        sub = csr(arrays)[rows].tocoo()
        r, c, v = sub.row, sub.col, sub.data
        on_int = integer[c]
        n_cont = np.bincount(r[~on_int], minlength=len(rows))
        bad = np.zeros(len(rows), dtype=bool)
        np.logical_or.at(bad, r[~on_int], v[~on_int] <= 0)
        np.logical_or.at(bad, r[on_int], v[on_int] >= 0)
        ok = (n_cont == 1) & ~bad
        coef = np.zeros(len(rows))
        xcol = np.full(len(rows), -1)
        cont = ~on_int & ok[r]
        coef[r[cont]], xcol[r[cont]] = v[cont], c[cont]
        number = np.cumsum(ok) - 1
        binary = on_int & ok[r]
        #: gates × columns: G[g, k] = c_k / a, so that x_g ≤ (G·y)_g
        self.g = sp.csr_matrix((-v[binary] / coef[r[binary]], (number[r[binary]], c[binary])),
                               shape=(int(ok.sum()), n))
        self.gt = self.g.T.tocsr()
        self.xcol = xcol[ok]
        self.n = n

    def upper(self, y_full: np.ndarray, col_upper: np.ndarray) -> np.ndarray:
        """Column upper bounds with the gates of the integer values in ``y_full`` applied."""
        ub = col_upper.copy()
        if len(self.xcol):
            np.minimum.at(ub, self.xcol, self.g @ y_full)
        return ub

    def open_gain(self, rc: np.ndarray) -> np.ndarray:
        """Per column k: Σ over k's gates of (c_k/a)·min(0, rc(x)) — what opening k lets the
        columns it gates gain at the current prices (facility location: Σ_j d_j·min(0, c_ij − u_j),
        the classical savings of opening i)."""
        if not len(self.xcol):
            return np.zeros(self.n)
        return self.gt @ np.minimum(0.0, rc[self.xcol])


class _LiveLP:
    """The fixed-binary LP over the columns the plan lets be non-zero (others are 0 and absent).

    Columns a move frees are added (HiGHS keeps its basis: they come in non-basic at a bound); the
    LP is rebuilt, cold, when it holds more than :data:`REBUILD_FACTOR` times the columns needed."""

    def __init__(self, lp: ModelArrays, gates: _Gates, ints: np.ndarray, new_highs: Callable[[], Any],
                 deadline: float) -> None:
        self.lp, self.gates, self.ints, self.new_highs, self.deadline = lp, gates, ints, new_highs, deadline
        self.a = sp.csc_matrix((lp.data, lp.indices, lp.indptr), shape=(len(lp.row_lower), len(lp.col_lower)))
        self.h: Any = None
        self.present = np.zeros(0, dtype=np.int64)
        self.lower = self.upper = np.zeros(0)

    def evaluate(self, y: np.ndarray) -> float | None:
        """The LP's optimum with the integer columns at ``y`` (None: infeasible or out of time)."""
        lo, up = self.lp.col_lower.copy(), self.lp.col_upper
        y_full = np.zeros(len(lo))
        y_full[self.ints] = y
        up = self.gates.upper(y_full, up)
        lo[self.ints] = up[self.ints] = y
        if np.any(lo > up):
            return None  # a gate holds a column below its lower bound
        live = np.flatnonzero((up > 0) | (lo < 0))
        if self.h is None or len(self.present) > REBUILD_FACTOR * len(live) + REBUILD_MIN_COLUMNS:
            self._build(live)
        else:
            self._add(np.setdiff1d(live, self.present, assume_unique=True), lo, up)
        lo, up = lo[self.present], up[self.present]
        changed = np.flatnonzero((lo != self.lower) | (up != self.upper))
        if len(changed):
            self.h.changeColsBounds(len(changed), changed.astype(np.int32), lo[changed], up[changed])
            self.lower[changed], self.upper[changed] = lo[changed], up[changed]
        left = self.deadline - time.perf_counter()
        if left <= 0:
            return None
        # HiGHS's limit is on its own run clock, which counts only the runs: what is left, from now
        self.h.setOptionValue("time_limit", self.h.getRunTime() + left)
        self.h.run()
        if self.h.getModelStatus().name != "kOptimal":
            return None
        return self.h.getInfo().objective_function_value

    def x_full(self) -> np.ndarray:
        """The last LP's solution over all columns (absent ones at 0)."""
        x = np.zeros(len(self.lp.col_lower))
        x[self.present] = np.asarray(self.h.getSolution().col_value)
        return x

    def reduced_costs(self) -> np.ndarray:
        """``cost − Aᵀ·row duals`` of the last LP for every column, present or not."""
        return self.lp.cost - self.a.T @ np.asarray(self.h.getSolution().row_dual)

    def _build(self, cols: np.ndarray) -> None:
        lp, sub = self.lp, self.a[:, cols]
        self.h = self.new_highs()
        pass_arrays(self.h, ModelArrays(lp.cost[cols], lp.offset, sub.indptr.astype(np.int32),
                                         sub.indices.astype(np.int32), sub.data, lp.row_lower, lp.row_upper,
                                         lp.col_lower[cols], lp.col_upper[cols],
                                         np.zeros(len(cols), dtype=lp.integrality.dtype)))
        self.present = cols
        self.lower, self.upper = lp.col_lower[cols].copy(), lp.col_upper[cols].copy()

    def _add(self, cols: np.ndarray, lo: np.ndarray, up: np.ndarray) -> None:
        if not len(cols):
            return
        sub = self.a[:, cols]
        self.h.addCols(len(cols), self.lp.cost[cols], lo[cols], up[cols], sub.nnz, sub.indptr[:-1].astype(np.int32),
                       sub.indices.astype(np.int32), sub.data)
        self.present = np.concatenate([self.present, cols])
        self.lower, self.upper = np.concatenate([self.lower, lo[cols]]), np.concatenate([self.upper, up[cols]])


def _roundings(x: np.ndarray):
    """Integer plans to start from, in turn until one is feasible: every positive value up (opens
    all the LP uses: feasible where opening more never hurts, as in facility location); to the
    nearest integer; every value down (nothing optional opened: feasible where doing without is
    allowed, e.g. demand may go unmet)."""
    yield np.where(x > 1e-6, np.ceil(x - 1e-6), 0.0)
    yield np.floor(x + 0.5)
    yield np.floor(x + 1e-6)
