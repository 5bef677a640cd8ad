"""A plan in seconds without the LP relaxation: open every existing line, then close guided by LPs.

Part of the construction heuristic (:mod:`.construct` calls :func:`open_then_close` as one of its
candidates and judges its result like the others). Why: the construction's other roundings are
guided by the LP relaxation, which on the generated ``large`` case (734 k columns, 1.04 M rows)
does not end within minutes, while the LP with *every integer column fixed* is easy: it falls
apart into independent blocks (:mod:`.blocks`), 4 s for all of them on ``large`` with every
tooling and line-year open, 20 s on ``xl``, then only the blocks a closing touches, each from its
last basis. So this method only ever solves fixed-integer LPs:

1. **open**: every integer column at its upper bound, except options and builds (``take``,
   ``build``: :data:`~optimiser.solver.arrays.TAKE`, :data:`~optimiser.solver.arrays.BUILD`),
   held at their lower bounds; if that cannot serve what must be served, nothing is held;
2. **the guiding LP** is the whole model with the integer columns fixed at the current plan, the
   rows over integer columns only (``Σ tool ≤ max_lines``, budgets, ``running ≤ Σ tool``, …) left
   out, and every row with a positive lower bound (``must_serve`` volumes, commitments) made
   elastic: a slack column at :data:`PENALTY_FACTOR` × the largest continuous cost per unit;
3. **usage** of an open integer column y: the most any of its linking rows
   ``Σ a·x − U·y ≤ 0`` loads it, ``(Σ a·x) / U`` (1: the link is full; 0: unused);
4. **close**: each row over integer columns only that the plan breaks gets one of its open
   columns closed, the least used (ties: the lowest column), one per row per round — or, once
   the row has been broken :data:`HALVING_AFTER` rounds, the least used until its excess is
   halved (generated ``xl``: a budget row 100 toolings over would take 100 rounds); the batch
   is kept if the guiding LP still needs no more slack than the all-open plan did; else the
   *culprits* are told apart by the must rows left short (a column reaches a must row through
   the ``make`` it caps, the balance rows holding that ``make`` and the ``ship`` there:
   :meth:`_Usage.reach`): a single culprit is kept open for good (*protected*) and the rest of
   the batch tried again; several are tried after the rest, together; without one told apart,
   the least-used half, then the other — each part that fails is split the same way within the
   round (bisection), a single column that fails is protected;
5. rounds repeat until no such row is broken (the plan). When no column can be closed (each
   open one protected), a **swap** mends a row over its upper bound: its open columns closed and
   one closed column opened, with the line-years its ``make`` needs (the most used in the
   all-open plan first, :data:`SWAP_TRIES` per row; generated ``large``: a programme allowed
   one line whose two remaining lines are both needed moves to one that can carry it alone);
   failing that, on models up to :data:`REPAIR_MAX_ROWS` rows, the broken rows' columns and
   every integer column sharing a row over integer columns only with them go to HiGHS as a
   **repair sub-MIP** — the whole model, every other integer column fixed at the plan, at most
   :data:`REPAIR_NODES` nodes — whose plan, if it finds one, is the answer.

Closing only, until the swap: a row that needs something opened is mended there or not at all. Deterministic: the work is
counted in guiding-LP solves (at most :data:`MAX_LPS`); the deadline is only a safety stop.
The caller (:func:`.construct.construct`) then solves the fixed-integer LP of the whole model on
the plan (the real check) and closes what the plan does not use.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from .arrays import BUILD, TAKE, ModelArrays, csr
from .blocks import Blocks, FixedIntegerLP
from .highs import pass_arrays

#: Most guiding-LP solves one run may use (generated seed 1: medium 13, large 47, xl 54).
MAX_LPS = 400
#: Most closing rounds.
MAX_ROUNDS = 200
#: Slack per unit costs this many times the largest |cost| of a continuous column.
PENALTY_FACTOR = 10.0
#: Row and slack tolerance.
TOL = 1e-6
#: Branch-and-bound nodes, and most seconds, of the repair sub-MIP.
REPAIR_NODES = 500
REPAIR_SECONDS = 300.0
#: … tried only on models of at most this many rows (generated ``large``, 1.04 M rows: no plan
#: in 300 s, its presolve alone takes minutes).
REPAIR_MAX_ROWS = 500_000
#: A row still broken after this many rounds has its excess halved per round, not one column
#: (generated ``xl``: a budget row ~100 toolings over took 100 rounds). Halving from the first
#: round gave ``large`` seed 1 a plan 3–3.4 % worse (1,046.9–1,054.4 against 1,084.1 bn NPV): one
#: closing per round lets the guiding LP judge usage again in between.
HALVING_AFTER = 10
#: Closed columns tried per stuck row by :func:`_swap`.
SWAP_TRIES = 8


def integer_rows(arrays: ModelArrays, ints: np.ndarray) -> tuple[Any, np.ndarray]:
    """(CSR of the rows whose every column is an integer one, their row numbers)."""
    a = csr(arrays)
    is_int = np.zeros(a.shape[1], dtype=bool)
    is_int[ints] = True
    cont_per_row = np.add.reduceat((~is_int[a.indices]).astype(np.int64), a.indptr[:-1]) \
        if a.nnz else np.zeros(a.shape[0], dtype=np.int64)
    empty = np.diff(a.indptr) == 0
    cont_per_row[empty] = 0
    rows = np.flatnonzero((cont_per_row == 0) & ~empty)
    return a[rows], rows


class _GuidingLP:
    """The fixed-integer LP with the integer-only rows left out and the must rows elastic, solved
    by :class:`~.blocks.Blocks` (only the blocks a change of the integer columns touches, each
    from its last basis)."""

    def __init__(self, arrays: ModelArrays, blocks: Blocks, new_highs: Callable[[], Any],
                 deadline: float = float("inf")) -> None:
        only_int = np.zeros(len(arrays.row_lower), dtype=bool)
        only_int[blocks.integer_rows] = True
        must = np.flatnonzero(np.isfinite(arrays.row_lower) & (arrays.row_lower > 0) & ~only_int)
        self.must = must
        self.slack = np.zeros(len(must))
        continuous = arrays.cost[arrays.integrality == 0]
        penalty = PENALTY_FACTOR * max(float(np.abs(continuous).max()) if len(continuous) else 1.0, 1.0)
        self.lp = FixedIntegerLP(arrays, blocks, new_highs, elastic=must, penalty=penalty, check_integer_rows=False,
                                 warm=True, seconds_left=lambda: deadline - time.perf_counter())
        self.solves = 0

    def solve(self, y: np.ndarray) -> tuple[np.ndarray, float] | None:
        """(x of the model's columns, total slack) with the integer columns at ``y``; None if
        HiGHS gives no optimum of some block. The slack per must row (:attr:`must`) of the last
        solve is kept in :attr:`slack`; :attr:`solves` counts the calls that solved a block."""
        before = self.lp.block_solves
        got = self.lp.solve(y)
        self.solves += self.lp.block_solves > before  # a plan met before (every block cached) is free
        if got is None:
            self.slack = np.zeros(len(self.must))
            return None
        x, self.slack = got
        return x, float(self.slack.sum())


class _Usage:
    """Usage of each integer column (step 3 of the module docstring)."""

    def __init__(self, arrays: ModelArrays, ints: np.ndarray) -> None:
        self.m = csr(arrays)
        mc = self.m.tocsc()
        cols = np.repeat(np.arange(mc.shape[1]), np.diff(mc.indptr))
        link = np.isinf(arrays.row_lower) & (arrays.row_upper == 0)
        is_int = np.zeros(mc.shape[1], dtype=bool)
        is_int[ints] = True
        sel = is_int[cols] & (mc.data < 0) & link[mc.indices]
        self.rows, self.cols, self.coef = mc.indices[sel], cols[sel], mc.data[sel]
        where = np.full(mc.shape[1], -1)
        where[ints] = np.arange(len(ints))
        self.where = where[self.cols]
        self.n = len(ints)
        self.is_int = is_int
        self._caps: Any = None
        self._capped_by: Any = None

    def caps(self) -> Any:
        """Boolean CSR (integer column positions × columns): the continuous columns each integer
        column's linking rows cap (a tooling's ``make``; a line-year's, every programme's there)."""
        if self._caps is None:
            from scipy.sparse import csr_matrix  # noqa: PLC0415 — scipy comes with HiGHS's arrays

            n_rows, n_cols = self.m.shape
            link = csr_matrix((np.ones(len(self.rows)), (self.where, self.rows)), shape=(self.n, n_rows))
            m = self.m.tocoo()
            keep = ~self.is_int[m.col] & (m.data > 0)
            capped = csr_matrix((np.ones(int(keep.sum())), (m.row[keep], m.col[keep])), shape=(n_rows, n_cols))
            self._caps = _bool(link @ capped)
            self._capped_by = self._caps.T.tocsr()
        return self._caps

    def companions(self, j: int) -> np.ndarray:
        """Positions of the integer columns that cap a continuous column ``j`` caps too (a
        tooling's line-years: its ``make`` needs both open)."""
        caps = self.caps()
        return np.unique(self._capped_by[caps[j].indices].indices)

    def reach(self, must: np.ndarray) -> Any:
        """Boolean CSR (integer column positions × ``must`` rows): the must row is reached from the
        integer column in three steps over continuous columns — the columns it caps
        (:meth:`caps`), every row holding one of those (the factory's balance), and the
        continuous columns there (``ship``) — so a tooling reaches its programme's ``must_serve``
        rows, a line-year those of every programme the line makes."""
        from scipy.sparse import csr_matrix  # noqa: PLC0415

        m = self.m.tocoo()
        cont = ~self.is_int[m.col]
        touch = csr_matrix((np.ones(int(cont.sum())), (m.row[cont], m.col[cont])), shape=self.m.shape)
        feeds = _bool(self.m[must].T)  # columns × must rows
        row_feeds = _bool(touch @ feeds)  # rows × must rows their continuous columns feed
        return _bool(_bool(self.caps() @ touch.T.tocsr()) @ row_feeds)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        act = self.m @ x
        load = (act[self.rows] - self.coef * x[self.cols]) / (-self.coef)
        use = np.zeros(self.n)
        np.maximum.at(use, self.where, load)
        return use


def _bool(mat: Any) -> Any:
    """``mat`` as CSR with every stored value 1 (a reachability pattern)."""
    mat = mat.tocsr()
    mat.data[:] = 1.0
    return mat


def open_then_close(arrays: ModelArrays, ints: np.ndarray, kinds: np.ndarray, new_highs: Callable[[], Any],
                    deadline: float = float("inf"), blocks: Blocks | None = None) -> tuple[np.ndarray | None, int]:
    """(integer values of a plan by the steps of the module docstring, or None; guiding-LP
    solves used). ``ints``: the integer columns; ``kinds``: :attr:`Roles.column_kind`;
    ``deadline``: ``time.perf_counter()`` value after which no LP is started; ``blocks``: the
    fixed-integer LP's :class:`~.blocks.Blocks` for ``ints`` if the caller has them."""
    a_int, rows = integer_rows(arrays, ints)
    a_int = a_int[:, ints].tocsr()
    lo_row, hi_row = arrays.row_lower[rows], arrays.row_upper[rows]
    lower = np.clip(0.0, arrays.col_lower[ints], arrays.col_upper[ints])
    upper = np.floor(arrays.col_upper[ints] + TOL)
    held = (kinds[ints] == TAKE) | (kinds[ints] == BUILD)
    lp = _GuidingLP(arrays, Blocks(arrays, ints) if blocks is None else blocks, new_highs, deadline)
    usage = _Usage(arrays, ints)
    y = got = None
    for hold in (held, np.zeros_like(held)):
        y = np.where(hold, lower, upper)
        got = lp.solve(y)
        if got is not None and got[1] <= TOL:
            break
    if got is None:
        return None, lp.solves
    x, base_slack = got
    first_use = usage(x)
    reach = usage.reach(lp.must) if len(lp.must) else None
    protected = np.zeros(len(ints), dtype=bool)
    swapped: set[int] = set()

    def broken(v: np.ndarray) -> np.ndarray:
        act = a_int @ v
        return (act > hi_row + TOL * np.maximum(1.0, np.abs(hi_row))) | \
               (act < lo_row - TOL * np.maximum(1.0, np.abs(lo_row)))

    def fits(trial: np.ndarray) -> np.ndarray | None:
        """The guiding LP's x on ``trial`` if it needs no more slack than the all-open plan (None
        without solving once :data:`MAX_LPS` are used)."""
        if lp.solves >= MAX_LPS:
            return None
        got = lp.solve(trial)
        return got[0] if got is not None and got[1] <= base_slack + TOL * max(1.0, base_slack) else None

    rounds_broken = np.zeros(len(rows), dtype=np.int64)
    for _ in range(MAX_ROUNDS):
        is_bad = broken(y)
        rounds_broken = np.where(is_bad, rounds_broken + 1, 0)
        bad = np.flatnonzero(is_bad)
        if not len(bad):
            return y, lp.solves
        batch = _batch(a_int, bad, y, usage(x), lower, protected, lo_row, hi_row, rounds_broken > HALVING_AFTER)
        if not len(batch):
            moved = _swap(a_int, bad, y, upper, lower, first_use, swapped, fits, hi_row, deadline,
                          usage.companions)
            if moved is None:
                if len(arrays.row_lower) > REPAIR_MAX_ROWS:
                    return None, lp.solves
                return _repair_mip(arrays, ints, y, _around(a_int, bad), new_highs, deadline), lp.solves
            y, x, opened = moved
            protected[opened] = True
            continue
        pending = [batch]
        while pending:
            if lp.solves >= MAX_LPS or time.perf_counter() >= deadline:
                return None, lp.solves
            todo = pending.pop(0)
            trial = y.copy()
            trial[todo] = 0.0
            got_x = fits(trial)
            if got_x is not None:
                y, x = trial, got_x
            elif len(todo) == 1:
                protected[todo[0]] = True
            else:
                pending = _split(todo, reach, lp, protected) + pending
    return None, lp.solves


def _split(todo: np.ndarray, reach: Any, lp: _GuidingLP, protected: np.ndarray) -> list[np.ndarray]:
    """After closing ``todo`` needed slack, the parts of it to try next, in order: the culprits
    are the columns of ``todo`` that cap a must row short of its volume (:meth:`_Usage.reach`);
    a single culprit is protected and the rest tried; several are tried after the rest, together
    (halved in turn if that fails); without a culprit told apart, the least-used half, then the other."""
    if reach is not None:
        short = np.flatnonzero(lp.slack > TOL * np.maximum(1.0, np.abs(lp.slack).max()))
        if len(short):
            hit = np.asarray(reach[todo][:, short].sum(axis=1)).ravel() > 0
            if 0 < hit.sum() < len(todo):
                if hit.sum() == 1:
                    protected[todo[hit][0]] = True
                    return [todo[~hit]]
                return [todo[~hit], todo[hit]]
    half = len(todo) // 2
    return [todo[:half], todo[half:]]


def _swap(a_int: Any, bad: np.ndarray, y: np.ndarray, upper: np.ndarray, lower: np.ndarray,
          first_use: np.ndarray, swapped: set[int], fits: Callable[[np.ndarray], np.ndarray | None],
          hi_row: np.ndarray, deadline: float, companions: Callable[[int], np.ndarray]
          ) -> tuple[np.ndarray, np.ndarray, int] | None:
    """(y, x, the column opened) of a plan where one broken row over its upper bound (``Σ tool ≤
    max_lines`` whose open lines are each needed) has all its open columns closed and one closed
    column opened instead, with its companions (:meth:`_Usage.companions`: the line-years its
    ``make`` needs) — the most used in the all-open plan first, at most :data:`SWAP_TRIES` per
    row, each row once — judged by the guiding LP; None if none fits. Rows the swap breaks
    (``running ≤ Σ tool`` of the lines left) are mended by the rounds that follow."""
    for r in bad:
        if int(r) in swapped:
            continue
        s, e = a_int.indptr[r], a_int.indptr[r + 1]
        cols, coef = a_int.indices[s:e], a_int.data[s:e]
        pushing = (coef > 0) & (y[cols] > 0.5)
        if not pushing.any() or (lower[cols[pushing]] > 0.5).any():
            continue
        swapped.add(int(r))
        cand = cols[(coef > 0) & (y[cols] < 0.5) & (upper[cols] > 0.5) & (coef <= hi_row[r] + TOL)]
        for c in cand[np.lexsort((cand, -first_use[cand]))][:SWAP_TRIES]:
            if time.perf_counter() >= deadline:
                return None
            trial = y.copy()
            trial[cols[pushing]] = 0.0
            comp = companions(int(c))
            trial[comp] = np.maximum(trial[comp], upper[comp])
            trial[c] = 1.0
            got_x = fits(trial)
            if got_x is not None:
                return trial, got_x, int(c)
    return None


def _batch(a_int: Any, bad: np.ndarray, y: np.ndarray, use: np.ndarray, lower: np.ndarray,
           protected: np.ndarray, lo_row: np.ndarray, hi_row: np.ndarray, halve: np.ndarray) -> np.ndarray:
    """Columns to close for the broken rows: per row, in order and judged after the closings
    before it, the least used of those pushing it over (open, not forced open by a bound, not
    protected; ties: the lowest column): one, or for a ``halve`` row, one after another until its
    excess is halved (a row ``Σ tool ≤ 40`` with 140 open closes 50, then 25, …: 7 rounds, not
    100); ordered by usage (least first, ties: lowest column)."""
    yy = y.copy()
    out: list[int] = []
    for r in bad:
        s, e = a_int.indptr[r], a_int.indptr[r + 1]
        cols, coef = a_int.indices[s:e], a_int.data[s:e]
        v = float(coef @ yy[cols])
        over = v > hi_row[r] + TOL * max(1.0, abs(hi_row[r]))
        if not over and v >= lo_row[r] - TOL * max(1.0, abs(lo_row[r])):
            continue  # mended by an earlier closing of this round
        push = coef > 0 if over else coef < 0
        pick = push & (yy[cols] > 0.5) & (lower[cols] < 0.5) & ~protected[cols]
        cand, c_coef = cols[pick], coef[pick]
        bound = hi_row[r] if over else lo_row[r]
        excess = v - bound
        for i in np.lexsort((cand, use[cand])):
            j = int(cand[i])
            v -= float(c_coef[i]) * yy[j]
            yy[j] = 0.0
            out.append(j)
            if not halve[r] or abs(v - bound) <= abs(excess) / 2.0 or (v <= bound if over else v >= bound):
                break  # one per round unless halving: usage is judged again in between
    batch = np.asarray(out, dtype=np.int64)
    return batch[np.lexsort((batch, use[batch]))] if len(batch) else batch


def _around(a_int: Any, bad: np.ndarray) -> np.ndarray:
    """Positions (in the integer columns) of the columns of rows ``bad`` of ``a_int`` and of every
    column sharing a row of ``a_int`` with one of them."""
    first = np.unique(a_int[bad].indices)
    touching = np.unique(a_int[:, first].tocsr().nonzero()[0])  # rows holding any of them
    return np.unique(np.concatenate([first, a_int[touching].indices]))


def _repair_mip(arrays: ModelArrays, ints: np.ndarray, y: np.ndarray, free: np.ndarray,
                new_highs: Callable[[], Any], deadline: float) -> np.ndarray | None:
    """Integer values of a plan from HiGHS's MIP of the whole model with the integer columns at
    ``y`` except those at positions ``free`` (within their bounds), or None if it finds none."""
    seconds = min(REPAIR_SECONDS, deadline - time.perf_counter())
    if seconds <= 0:
        return None
    lo, hi = arrays.col_lower.copy(), arrays.col_upper.copy()
    fixed = np.ones(len(ints), dtype=bool)
    fixed[free] = False
    lo[ints[fixed]] = hi[ints[fixed]] = y[fixed]
    h = new_highs()
    h.setOptionValue("mip_max_nodes", REPAIR_NODES)
    h.setOptionValue("time_limit", float(seconds))
    pass_arrays(h, arrays._replace(col_lower=lo, col_upper=hi))
    h.run()
    if h.getInfo().primal_solution_status != 2:  # no feasible plan
        return None
    return np.round(np.asarray(h.getSolution().col_value, dtype=float)[ints])
