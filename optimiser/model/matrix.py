"""Constraint families stored as a sparse matrix inside the Pyomo model.

A :class:`LinearRows` component is an indexed Pyomo ``Constraint`` whose rows
``lb ≤ Σ_j a_ij·x_j ≤ ub`` are held as CSR arrays (column ``j`` = a position in
one of the component's Var components) instead of one expression tree per row.
Building it costs a few list appends per non-zero; the compiler in
:mod:`optimiser.solver` takes the arrays as they are. It is still an ordinary
constraint of the model, the single source of truth:

* it is indexed by the family's own tuples (``m.tool_link[p, l, t, s]``), and
  ``keys()/values()/items()``, ``len``, ``in`` behave as for any constraint;
* every row is a ``ConstraintData``: ``body``, ``lower``, ``upper``, ``lb``,
  ``ub``, ``expr``, ``to_bounded_expression()`` are built on request from the
  matrix (so Pyomo's writers and solver interfaces read it like any other
  constraint), and ``activate()/deactivate()`` work per row and per family;
* ``set_value`` on a row replaces that row's expression; the compiler then reads
  the new expression instead of the matrix row.

Rows cannot be added or deleted after construction (build a new component).

:class:`LinearObjective` does the same for an objective ``Σ_k coef[k]·x[col[k]]``:
``expr`` is made on request, ``set_value`` replaces it.
"""

from __future__ import annotations

import weakref
from typing import Any, Iterable, Sequence

import numpy as np
from pyomo.core.base.constraint import ConstraintData, IndexedConstraint
from pyomo.core.base.objective import ObjectiveSense, ScalarObjective
from pyomo.core.base.set import OrderedSetOf
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression
from pyomo.core.expr.relational_expr import EqualityExpression, InequalityExpression, RangedExpression

INF = float("inf")

#: position of every index of a Var component, cached per component (recomputed if its size changes)
_POSITIONS: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


class _Keys(tuple):
    """A tuple of distinct index keys with O(1) membership and position (made on first use)."""

    def __contains__(self, key: object) -> bool:
        try:
            return key in self.__dict__["_pos"]
        except KeyError:
            return key in self._positions()
        except TypeError:  # an unhashable key is not a member
            return False

    def index(self, key: object, *args: Any) -> int:
        try:
            return self._positions()[key]
        except KeyError:
            raise ValueError(f"{key!r} is not in the index") from None

    def _positions(self) -> dict:
        pos = self.__dict__.get("_pos")
        if pos is None:
            pos = self.__dict__["_pos"] = {k: i for i, k in enumerate(self)}
        return pos


class TupleSet(OrderedSetOf):
    """An ordered Pyomo set that is a view of a tuple of distinct keys (no copy, no per-key checks).

    Index set of the large Vars: Pyomo's ``Set`` normalises and validates every key as it
    stores it, a second or so per million keys; the keys from :mod:`.sets` are already
    distinct tuples of the same length. Membership and ``ord`` are O(1).
    """

    def __init__(self, keys: Sequence[Any], **kwds: Any) -> None:
        super().__init__(_Keys(keys), **kwds)
        self._dimen_cache: Any = None

    @property
    def dimen(self) -> Any:
        if self._dimen_cache is None:  # (scans the keys once, when first asked)
            self._dimen_cache = super().dimen
        return self._dimen_cache

    def __str__(self) -> str:
        return self._name if self._name is not None else f"TupleSet({len(self._ref)} keys)"


def positions(var: Any) -> dict:
    """``{index: position}`` of a Var component, in its own iteration order (cached)."""
    pos = _POSITIONS.get(var)
    if pos is None or len(pos) != len(var):
        data = var._data
        dense = data.__class__ is dict and getattr(var, "_dense", False) and len(data) == len(var.index_set())
        pos = {k: i for i, k in enumerate(data if dense else var.keys())}  # a dense Var fills _data in index order
        _POSITIONS[var] = pos
    return pos


_ALIGNED: "weakref.WeakKeyDictionary[Any, Sequence[Any]]" = weakref.WeakKeyDictionary()


def index_positions(var: Any, index: Sequence[Any]) -> np.ndarray:
    """Position in ``var`` of every key of ``index`` (0, 1, 2, … when ``var`` was built over ``index``)."""
    data = var._data
    if _ALIGNED.get(var) is index and len(index) == len(data):
        return np.arange(len(index), dtype=np.int64)
    if len(data) == len(index) and getattr(var, "_dense", False) and list(data) == list(index):
        _ALIGNED[var] = index  # (checked once per Var and index)
        return np.arange(len(index), dtype=np.int64)
    pos = positions(var)
    return np.array([pos[k] for k in index], dtype=np.int64)


def _bound_array(values: Any, missing: float) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values.astype(np.float64)
    return np.array([missing if v is None else v for v in values], dtype=np.float64)


class RowData(ConstraintData):
    """One row of a :class:`LinearRows` family: its key, activity and expression live in the family
    (the expression is made from the matrix on request); the object holds its row number only."""

    __slots__ = ("_row",)

    @property
    def _index(self) -> Any:  # shadows ComponentData's slot
        return self._component()._keys[self._row]

    @_index.setter
    def _index(self, key: Any) -> None:
        if key != self._index:
            raise NotImplementedError("rows of a LinearRows family cannot be re-keyed")

    @property
    def _active(self) -> bool:  # shadows ActiveComponentData's slot
        return bool(self._component()._row_active[self._row])

    @_active.setter
    def _active(self, flag: bool) -> None:
        self._component()._row_active[self._row] = flag

    def __getstate__(self) -> list:  # (Pyomo's deepcopy/pickle protocol: a list of fields)
        comp = self._component
        return [None if comp is None else comp(), self._row]

    def __setstate__(self, state: list) -> None:
        comp, row = state
        object.__setattr__(self, "_component", None if comp is None else weakref.ref(comp))
        object.__setattr__(self, "_row", row)

    @property
    def _expr(self) -> Any:  # shadows ConstraintData's slot: the matrix row is the expression
        comp = self._component()
        override = comp._override.get(self._row)
        return override if override is not None else comp._row_expr(self._row)

    @_expr.setter
    def _expr(self, expr: Any) -> None:  # set_value() (after validation) or an explicit assignment
        self._component()._override[self._row] = expr


class LinearRows(IndexedConstraint):
    """``lb[i] ≤ Σ_k coef[k]·x[col[k]] ≤ ub[i]`` for rows ``i`` keyed by ``keys[i]`` (CSR storage).

    ``vars`` are the Var components the columns point into; column ``j`` is position
    ``j − offset[v]`` of ``vars[v]`` (offsets follow the order of ``vars``).
    Use :class:`RowsBuilder` rather than this constructor.
    """

    def __init__(self, keys: Sequence[Any], indptr: Sequence[int], cols: Sequence[int], coefs: Sequence[float],
                 lower: Sequence[float | None], upper: Sequence[float | None], vars: Sequence[Any], **kwds: Any) -> None:
        n = len(keys)
        IndexedConstraint.__init__(self, TupleSet(keys), **kwds)
        if len(indptr) != n + 1 or len(lower) != n or len(upper) != n or len(cols) != len(coefs):
            raise ValueError("LinearRows: inconsistent matrix dimensions")
        self._keys = list(keys)
        self._tuple_keys = all(k.__class__ is tuple for k in self._keys)
        self._indptr = np.asarray(indptr, dtype=np.int64)
        self._cols = np.asarray(cols, dtype=np.int64)
        self._coefs = np.asarray(coefs, dtype=np.float64)
        self._lower = _bound_array(lower, -INF)
        self._upper = _bound_array(upper, INF)
        self._vars = tuple(vars)
        self._sizes = tuple(len(v) for v in self._vars)
        self._offsets = np.concatenate(([0], np.cumsum(self._sizes, dtype=np.int64)))
        self._override: dict[int, Any] = {}
        self._values_cache: list | None = None
        self._expr_cache: dict[int, Any] | None = None

    def construct(self, data: Any = None) -> None:
        if self._constructed:
            return
        self._constructed = True
        self._row_active = np.ones(len(self._keys), dtype=bool)
        if len(set(self._keys)) != len(self._keys):
            raise ValueError(f"{self.name}: duplicate row keys")
        self.__dict__["_rows"] = None  # the RowData objects are made on first use (see _data)

    @property
    def _data(self) -> dict:  # type: ignore[override]
        """``{key: RowData}``, made on first use: compiling the model never needs the row objects."""
        rows = self.__dict__.get("_rows")
        if rows is None and self._constructed:
            ref = weakref.ref(self)
            new = RowData.__new__
            rows = {}
            for i, key in enumerate(self._keys):
                d = rows[key] = new(RowData)
                d._component = ref
                d._row = i
            self.__dict__["_rows"] = rows
        return rows

    @_data.setter
    def _data(self, value: dict) -> None:
        self.__dict__["_rows"] = value

    def __len__(self) -> int:
        return len(self._keys) if self._constructed else 0

    # -- no rows may be added or removed (the matrix is the storage)
    def _getitem_when_not_present(self, index: Any) -> Any:
        raise KeyError(f"Index '{index}' is not valid for constraint family {self.name}")

    def __setitem__(self, index: Any, value: Any) -> None:
        if index in self._data:
            self._data[index].set_value(value)
            return
        raise NotImplementedError(f"{self.name}: rows of a LinearRows family cannot be added")

    def __delitem__(self, index: Any) -> None:
        raise NotImplementedError(f"{self.name}: rows of a LinearRows family cannot be deleted")

    def add(self, index: Any, expr: Any) -> Any:
        raise NotImplementedError(f"{self.name}: rows of a LinearRows family cannot be added")

    # -- expressions on request
    def _columns(self) -> list[Any]:
        """The VarData of every column (all Vars concatenated), made once."""
        if any(len(v) != s for v, s in zip(self._vars, self._sizes)):
            raise RuntimeError(f"{self.name}: a Var it refers to changed size after the rows were built")
        if self._values_cache is None:
            flat: list[Any] = []
            for v in self._vars:
                data = v._data
                dense = data.__class__ is dict and getattr(v, "_dense", False) and len(data) == len(v.index_set())
                flat.extend(data.values() if dense else v.values())
            self._values_cache = flat
        return self._values_cache

    def row_terms(self, i: int) -> list[tuple[float, Any]]:
        """``[(coef, VarData), ...]`` of matrix row ``i`` (ignores a set_value override)."""
        a, b = int(self._indptr[i]), int(self._indptr[i + 1])
        flat = self._columns()
        return [(c, flat[j]) for j, c in zip(self._cols[a:b].tolist(), self._coefs[a:b].tolist())]

    def _row_expr(self, i: int) -> Any:
        """The relational expression of matrix row ``i``, made once and kept (solver interfaces
        that walk the model ask for body, bounds and sense separately)."""
        cache = self._expr_cache
        if cache is None:
            cache = self._expr_cache = {}
        expr = cache.get(i)
        if expr is not None:
            return expr
        body = LinearExpression([MonomialTermExpression(t) for t in self.row_terms(i)])
        lo, up = float(self._lower[i]), float(self._upper[i])
        if lo == up:
            expr = EqualityExpression((body, up))
        elif lo == -INF:
            expr = InequalityExpression((body, up), False)
        elif up == INF:
            expr = InequalityExpression((lo, body), False)
        else:
            expr = RangedExpression((lo, body, up), (False, False))
        cache[i] = expr
        return expr

    def matrix_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(row positions read from the matrix, row positions whose expression was replaced), active rows only."""
        active = self._row_active
        if self._override:
            over = np.zeros(len(self._keys), dtype=bool)
            over[list(self._override)] = True
            return np.flatnonzero(active & ~over), np.flatnonzero(active & over)
        return np.flatnonzero(active), np.empty(0, dtype=np.int64)


class RowsBuilder:
    """Collect rows one by one in plain Python, then make a :class:`LinearRows` of them.

    >>> b = RowsBuilder(m.make, m.tool)          # the Var components the rows use
    >>> mk, tl = b.columns                       # {index: column} per Var
    >>> b.add(key, [mk[k], tl[k[:2]]], [1.0, -u], ub=0.0)
    >>> m.tool_link = b.build()
    """

    __slots__ = ("vars", "columns", "keys", "indptr", "cols", "coefs", "lower", "upper")

    def __init__(self, *vars: Any) -> None:
        self.vars = vars
        self.columns: list[dict] = []
        offset = 0
        for v in vars:
            pos = positions(v)
            self.columns.append(pos if offset == 0 else {k: i + offset for k, i in pos.items()})
            offset += len(pos)
        self.keys: list[Any] = []
        self.indptr: list[int] = [0]
        self.cols: list[int] = []
        self.coefs: list[float] = []
        self.lower: list[float | None] = []
        self.upper: list[float | None] = []

    def add(self, key: Any, cols: Iterable[int], coefs: Iterable[float], lb: float | None = None,
            ub: float | None = None) -> None:
        """Row ``lb ≤ Σ coefs·x[cols] ≤ ub`` (``lb == ub`` for an equality), terms in expression order."""
        self.keys.append(key)
        self.cols.extend(cols)
        self.coefs.extend(coefs)
        self.indptr.append(len(self.cols))
        self.lower.append(lb)
        self.upper.append(ub)

    def build(self, doc: str | None = None) -> LinearRows:
        return LinearRows(self.keys, self.indptr, self.cols, self.coefs, self.lower, self.upper, self.vars, doc=doc)


class TermsBuilder:
    """Rows given in bulk: their keys and bounds, then their terms as arrays, one batch per Var.

    Within a row, terms keep the order of the :meth:`add` calls, and within one call the
    order of the arrays — so a family whose rows read ``Σ make − Σ ship`` adds the make terms
    first. Vectorised: no Python work per row beyond computing ``rows``.

    >>> b = TermsBuilder(md.make_index, None, 0.0, m.make, m.tool)
    >>> b.add(0, np.arange(n), index_positions(m.make, md.make_index), 1.0)
    >>> b.add(1, np.arange(n), tool_positions, -ub)
    >>> m.tool_link = b.build()
    """

    def __init__(self, keys: Sequence[Any], lower: Any, upper: Any, *vars: Any) -> None:
        n = len(keys)
        self.keys = keys
        self.lower = _bound_list(lower, n)
        self.upper = _bound_list(upper, n)
        self.vars = vars
        self._offsets = np.concatenate(([0], np.cumsum([len(v) for v in vars], dtype=np.int64)))
        self._rows: list[np.ndarray] = []
        self._cols: list[np.ndarray] = []
        self._coefs: list[np.ndarray] = []

    def add(self, var: int, rows: Any, positions: Any, coefs: Any) -> None:
        """Terms ``coefs[k]·vars[var][positions[k]]`` in rows ``rows[k]`` (``coefs`` may be a scalar)."""
        rows = np.asarray(rows, dtype=np.int64)
        self._rows.append(rows)
        self._cols.append(np.asarray(positions, dtype=np.int64) + self._offsets[var])
        self._coefs.append(np.broadcast_to(np.asarray(coefs, dtype=np.float64), rows.shape))

    def build(self, doc: str | None = None) -> LinearRows:
        n = len(self.keys)
        rows = np.concatenate(self._rows) if self._rows else np.empty(0, dtype=np.int64)
        order = np.argsort(rows, kind="stable")
        cols = np.concatenate(self._cols)[order] if self._cols else np.empty(0, dtype=np.int64)
        coefs = np.concatenate(self._coefs)[order] if self._coefs else np.empty(0)
        indptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=n)))) if n else np.zeros(1, dtype=np.int64)
        return LinearRows(self.keys, indptr, cols, coefs, self.lower, self.upper, self.vars, doc=doc)


def _bound_list(bound: Any, n: int) -> Any:
    if bound is None or isinstance(bound, (int, float)):
        return [bound] * n
    return bound


class LinearObjective(ScalarObjective):
    """A scalar objective ``constant + Σ_k coef[k]·x[k]`` held as arrays, in term order.

    ``segments`` is a sequence of ``(Var component, positions, coefficients)``: term ``k`` of a
    segment is ``coefficients[k]·var[position k]`` (positions in the Var's own order). ``expr``
    is a ``LinearExpression`` made (once) on request; ``set_value`` replaces it, and then the
    compiler reads the new expression.
    """

    def __init__(self, segments: Sequence[tuple[Any, Sequence[int], Sequence[float]]], sense: Any,
                 constant: float = 0.0, **kwds: Any) -> None:
        self._explicit: Any = None
        #: the objective's constant term (carried to HiGHS as its offset)
        self.constant = float(constant)
        self._built: Any = None
        self._ready = False
        vars_: list[Any] = []
        where: dict[int, int] = {}
        cols, coefs = [], []
        for var, pos, coef in segments:
            if len(pos) != len(coef):
                raise ValueError("LinearObjective: positions and coefficients differ in length")
            if not len(pos):
                continue
            if id(var) not in where:
                where[id(var)] = len(vars_)
                vars_.append(var)
            cols.append((where[id(var)], np.asarray(pos, dtype=np.int64)))
            coefs.append(np.asarray(coef, dtype=np.float64))
        self._vars = tuple(vars_)
        self._sizes = tuple(len(v) for v in self._vars)
        self._offsets = np.concatenate(([0], np.cumsum(self._sizes, dtype=np.int64)))
        self._cols = (np.concatenate([self._offsets[v] + p for v, p in cols]) if cols else np.empty(0, dtype=np.int64))
        self._coefs = np.concatenate(coefs) if coefs else np.empty(0)
        self._sense_init = ObjectiveSense(sense)
        ScalarObjective.__init__(self, **kwds)
        self._ready = True

    @property
    def _args_(self) -> tuple:  # shadows ObjectiveData's slot
        if self._explicit is not None:
            return self._explicit
        if self._built is None:
            self._built = (self._linear_expression(),)
        return self._built

    @_args_.setter
    def _args_(self, value: tuple) -> None:
        if getattr(self, "_ready", False):  # (the base constructor and unpickling store a placeholder)
            self._explicit = value

    def construct(self, data: Any = None) -> None:
        if self._constructed:
            return
        self._constructed = True
        self._data[None] = self
        self._sense = self._sense_init

    def _linear_expression(self) -> Any:
        if any(len(v) != s for v, s in zip(self._vars, self._sizes)):
            raise RuntimeError(f"{self.name}: a Var it refers to changed size after the objective was built")
        values = [list(v.values()) for v in self._vars]
        which = np.searchsorted(self._offsets, self._cols, side="right") - 1
        local = (self._cols - self._offsets[which]).tolist()
        terms = [MonomialTermExpression((c, values[w][j])) for c, w, j in zip(self._coefs.tolist(), which.tolist(), local)]
        return LinearExpression(([self.constant] if self.constant else []) + terms)

    @property
    def from_arrays(self) -> bool:
        """True while the objective is still the arrays it was built from (no set_value since)."""
        return self._explicit is None
