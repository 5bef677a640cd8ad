"""The LP with every integer column fixed, split into independent blocks and solved block by block.

Part of the solver layer (the construction heuristics :mod:`.construct` and :mod:`.open_close`
solve it many times). Why: once the integer columns (toolings, line-years, builds, options) are
fixed, the rows left couple continuous columns only within one scenario and year of one group of
programmes — the generated ``xl`` case's 2.5 M such rows fall into 565 independent parts of at
most 28 k columns. HiGHS solves the whole LP as one (44 s on xl, 148 s warm-started after a
closing), while the parts take 14.5 s together; and a plan changed in a few integer columns
changes only the parts whose rows hold them, so only those are solved again.

* :class:`Blocks` (the structure, computed once per model): the connected components of the
  bipartite graph rows ↔ continuous columns (explicit zeros ignored), rows over integer columns
  only set apart; components taken in label order and merged until each block holds at least
  :data:`MIN_BLOCK_COLUMNS` columns (fewer, larger LPs; the split stays exact: merged parts share
  no row).
* :class:`FixedIntegerLP`: for integer values ``y``, each block's LP is ``min c·x`` s.t.
  ``row_lower − A_int·y ≤ A_cont·x ≤ row_upper − A_int·y`` over its rows and columns, optionally
  with chosen rows made elastic (a slack column ``s ≥ 0`` on the row at a given cost per unit);
  a block's answer is kept for its last :data:`CACHED_STATES` values of the integer columns it
  touches, so a plan tried and then dropped costs nothing to come back to.

Exact: the blocks share no row, so their optima together are an optimum of the whole LP (the
same optimal value; among ties another vertex may be chosen). Deterministic: blocks in a fixed
order, each solved from scratch.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, NamedTuple

import numpy as np

from .arrays import ModelArrays, csr
from .highs import pass_arrays

#: Components are merged (in label order) until a block holds at least this many columns.
MIN_BLOCK_COLUMNS = 2_000
#: Answers kept per block (keyed by the values of the integer columns it touches).
CACHED_STATES = 3
#: A warm block is solved from scratch when more than this share of its integer values changed
#: (generated ``xl``: its first closing, 44.8 k → 20.1 k open, took 45 s warm against ~15 s cold).
WARM_MAX_CHANGED = 0.2
#: Row tolerance of the rows over integer columns only.
TOL = 1e-6


class Block(NamedTuple):
    """One block: its rows and continuous columns (model numbering), its matrix over them (CSC),
    the positions (in the integer columns) of the integer columns its rows hold, and those
    columns' coefficients in its rows (CSR: the shift of its row bounds is ``touch @ y[int_pos]``)."""

    rows: np.ndarray
    cols: np.ndarray
    matrix: Any
    int_pos: np.ndarray
    touch: Any


class Blocks:
    """The independent blocks of a model's fixed-integer LP (see the module docstring)."""

    def __init__(self, arrays: ModelArrays, ints: np.ndarray) -> None:
        import scipy.sparse as sp  # noqa: PLC0415 — scipy only when a heuristic runs
        from scipy.sparse.csgraph import connected_components  # noqa: PLC0415

        a = csr(arrays).copy()
        a.eliminate_zeros()
        n_rows, n_cols = a.shape
        self.ints = np.asarray(ints, dtype=np.int64)
        is_int = np.zeros(n_cols, dtype=bool)
        is_int[self.ints] = True
        cont = np.flatnonzero(~is_int)
        a_cont = a[:, cont].tocsr()
        has_cont = np.diff(a_cont.indptr) > 0
        #: Rows without a continuous column (rows over integer columns only, and empty rows).
        self.integer_rows = np.flatnonzero(~has_cont)
        rows = np.flatnonzero(has_cont)
        sub = a_cont[rows]
        graph = sp.bmat([[None, sub], [sub.T, None]]).tocsr()
        _, label = connected_components(graph, directed=False)
        row_label, col_label = label[:len(rows)], label[len(rows):]
        a_int = a[:, self.ints].tocsr()
        self.a_integer_rows = a_int[self.integer_rows]
        self.parts: list[Block] = []
        col_order = np.argsort(col_label, kind="stable")
        row_order = np.argsort(row_label, kind="stable")
        labels = np.unique(col_label)
        col_starts = np.searchsorted(col_label[col_order], labels)
        row_starts = np.searchsorted(row_label[row_order], labels)
        col_ends = np.append(col_starts[1:], len(col_order))
        row_ends = np.append(row_starts[1:], len(row_order))
        i = 0
        while i < len(labels):
            j, size = i, 0
            while j < len(labels) and (size < MIN_BLOCK_COLUMNS or j == i):
                size += col_ends[j] - col_starts[j]
                j += 1
            b_cols = np.sort(col_order[col_starts[i]:col_ends[j - 1]])
            b_rows = np.sort(row_order[row_starts[i]:row_ends[j - 1]])
            matrix = sub[b_rows][:, b_cols].tocsc()
            r = rows[b_rows]
            touch = a_int[r]
            int_pos = np.unique(touch.indices)
            self.parts.append(Block(r, cont[b_cols], matrix, int_pos, touch[:, int_pos].tocsr()))
            i = j

    def __len__(self) -> int:
        return len(self.parts)


class FixedIntegerLP:
    """The model's LP with the integer columns at given values, solved by :class:`Blocks`.

    ``elastic``: rows given a slack column ``s ≥ 0`` (added to the row) at ``penalty`` per unit;
    ``check_integer_rows``: whether the rows over integer columns only must hold (else they are
    left out, as the guiding LP of :mod:`.open_close` does); ``new_highs``: a fresh Highs object;
    ``warm``: keep one Highs object per block and start each solve from its last basis (the
    block's rows shifted only), unless more than :data:`WARM_MAX_CHANGED` of the integer values
    it touches changed (then from scratch, presolve included); ``seconds_left``: the most seconds
    the next block LP may take (HiGHS's time limit; None: none)."""

    def __init__(self, arrays: ModelArrays, blocks: Blocks, new_highs: Callable[[], Any],
                 elastic: np.ndarray | None = None, penalty: float = 0.0, check_integer_rows: bool = True,
                 warm: bool = False, seconds_left: Callable[[], float] | None = None) -> None:
        self.arrays, self.blocks, self.new_highs = arrays, blocks, new_highs
        self.check_integer_rows, self.warm, self.seconds_left = check_integer_rows, warm, seconds_left
        self.elastic = np.zeros(0, dtype=np.int64) if elastic is None else np.asarray(elastic, dtype=np.int64)
        self.penalty = float(penalty)
        where = np.full(len(arrays.row_lower), -1, dtype=np.int64)
        where[self.elastic] = np.arange(len(self.elastic))
        #: Per block: positions in :attr:`elastic` of its elastic rows, and those rows' places in the block.
        self._slack: list[tuple[np.ndarray, np.ndarray]] = []
        for part in blocks.parts:
            pos = where[part.rows]
            self._slack.append((pos[pos >= 0], np.flatnonzero(pos >= 0)))
        self._cache: list[OrderedDict[bytes, tuple[np.ndarray, np.ndarray] | None]] = \
            [OrderedDict() for _ in blocks.parts]
        self._highs: list[Any] = [None] * len(blocks.parts)
        self._last: list[np.ndarray | None] = [None] * len(blocks.parts)
        #: Block LPs solved so far (cached answers not counted).
        self.block_solves = 0

    def solve(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(every column's value, integer columns at ``y``; slack per elastic row) of an optimum,
        or None if some block has none (infeasible, or stopped by HiGHS's time limit) or a row
        over integer columns only is broken (when checked)."""
        arrays, blocks = self.arrays, self.blocks
        y = np.asarray(y, dtype=float)
        if self.check_integer_rows and len(blocks.integer_rows):
            act = blocks.a_integer_rows @ y
            lo, hi = arrays.row_lower[blocks.integer_rows], arrays.row_upper[blocks.integer_rows]
            if np.any(act > hi + TOL * np.maximum(1.0, np.abs(hi))) or \
                    np.any(act < lo - TOL * np.maximum(1.0, np.abs(lo))):
                return None
        x = np.zeros(len(arrays.col_lower))
        x[blocks.ints] = y
        slack = np.zeros(len(self.elastic))
        for k, part in enumerate(blocks.parts):
            yk = y[part.int_pos]
            key = yk.tobytes()
            cache = self._cache[k]
            if key in cache:
                cache.move_to_end(key)
                got = cache[key]
            else:
                got = self._solve_block(k, yk)
                cache[key] = got
                if len(cache) > CACHED_STATES:
                    cache.popitem(last=False)
            if got is None:
                return None
            x[part.cols] = got[0]
            slack[self._slack[k][0]] = got[1]
        return x, slack

    def _solve_block(self, k: int, yk: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(column values, slack values) of block ``k`` with its integer columns at ``yk``, or None."""
        self.block_solves += 1
        rows, cols, matrix, _, touch = self.blocks.parts[k]
        shift = touch @ yk
        lo_row, hi_row = self.arrays.row_lower[rows] - shift, self.arrays.row_upper[rows] - shift
        h, last = self._highs[k], self._last[k]
        if h is None or last is None or np.count_nonzero(last != yk) > WARM_MAX_CHANGED * len(yk):
            h = self.new_highs()
            pass_arrays(h, self._block_lp(k, lo_row, hi_row))
            if self.warm:
                self._highs[k] = h
        else:
            h.changeRowsBounds(len(rows), np.arange(len(rows), dtype=np.int32), lo_row, hi_row)
        if self.warm:
            self._last[k] = yk
        if self.seconds_left is not None:
            h.setOptionValue("time_limit", float(h.getRunTime() + max(self.seconds_left(), 1e-3)))
        h.run()
        if h.getModelStatus().name != "kOptimal":
            return None
        sol = np.asarray(h.getSolution().col_value, dtype=float)
        return sol[:len(cols)], sol[len(cols):]

    def _block_lp(self, k: int, lo_row: np.ndarray, hi_row: np.ndarray) -> ModelArrays:
        """Block ``k``'s LP with the given row bounds (its elastic rows' slack columns appended)."""
        arrays = self.arrays
        rows, cols, matrix, _, _ = self.blocks.parts[k]
        local = self._slack[k][1]
        cost, lo, hi = arrays.cost[cols], arrays.col_lower[cols], arrays.col_upper[cols]
        if len(local):
            import scipy.sparse as sp  # noqa: PLC0415

            eye = sp.csc_matrix((np.ones(len(local)), (local, np.arange(len(local)))),
                                shape=(len(rows), len(local)))
            matrix = sp.hstack([matrix, eye], format="csc")
            cost = np.concatenate([cost, np.full(len(local), self.penalty)])
            lo = np.concatenate([lo, np.zeros(len(local))])
            hi = np.concatenate([hi, np.full(len(local), np.inf)])
        return ModelArrays(cost, 0.0, matrix.indptr.astype(np.int32), matrix.indices.astype(np.int32),
                           matrix.data.astype(float), lo_row, hi_row, lo, hi,
                           np.zeros(len(cost), dtype=arrays.integrality.dtype))
