"""Read a built Pyomo model into the matrices HiGHS takes (used by :func:`optimiser.model.compile.compile_model`).

Same result as Pyomo's ``LinearStandardFormCompiler`` in mixed form with the
objective minimised (verified by ``tests/test_compile.py``), without walking an
expression per row:

* columns: Var components in the order their first member is met (objective
  first, then the active constraints in declaration and index order), each
  component in its own index order; columns with no non-zero in the objective
  or any active row are dropped; fixed variables move to the right-hand side;
* rows: active constraints in declaration and index order; an equality is one
  row (``mult`` 0), an inequality one row per finite side (``mult`` +1 for
  ``≤ ub``, −1 for ``≥ lb``, in that order); rows without any bound are skipped,
  rows without any variable checked and skipped;
* :class:`~optimiser.model.matrix.LinearRows` families are sliced out of their
  CSR arrays with numpy; other constraints and the objective are read term by
  term when they are linear expressions, else through Pyomo's linear visitor.
"""

from __future__ import annotations

import math
from itertools import repeat
from operator import attrgetter
from typing import Any

import numpy as np
from pyomo.common.errors import InfeasibleConstraintException
from pyomo.common.gc_manager import PauseGC
from pyomo.core.base.block import Block
from pyomo.core.base.constraint import Constraint
from pyomo.core.base.enums import SortComponents
from pyomo.core.base.expression import Expression
from pyomo.core.base.objective import Objective, minimize
from pyomo.core.base.param import Param
from pyomo.core.base.set import RangeSet, Set
from pyomo.core.base.suffix import Suffix
from pyomo.core.base.var import Var, VarData
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression
from pyomo.core.expr.numvalue import native_numeric_types, native_types, value

from ..solver.arrays import ColumnKey
from .matrix import LinearObjective, LinearRows

INF = math.inf
_LB, _UB, _DOMAIN, _FIXED = (attrgetter(a) for a in ("_lb", "_ub", "_domain", "_fixed"))
_ORDERED = SortComponents.ORDERED_INDICES
_KNOWN = (Block, Constraint, Var, Param, Expression, Set, RangeSet, Objective, Suffix)


class CSCMatrix:
    """A compressed-sparse-column matrix (the arrays HiGHS takes), built with numpy alone.

    Attributes as in ``scipy.sparse.csc_array`` (``data``, ``indices``, ``indptr``, ``shape``,
    ``nnz``); :meth:`to_scipy` gives one. (Importing scipy after Pyomo also imports
    ``scipy.stats``, a second or more per process: the compiler does without it.)
    """

    __slots__ = ("data", "indices", "indptr", "shape")

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]) -> None:
        self.data, self.indices, self.indptr, self.shape = data, indices, indptr, shape

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])

    @classmethod
    def from_row_major(cls, data: np.ndarray, cols: np.ndarray, lengths: np.ndarray, shape: tuple[int, int]) -> "CSCMatrix":
        """From rows given in order (``lengths[i]`` terms of row ``i``); duplicates summed, zeros dropped."""
        m, n = shape
        rows = np.repeat(np.arange(m, dtype=np.int64), lengths)
        order = np.argsort(cols, kind="stable")  # rows stay ascending within a column
        c, r, d = cols[order], rows[order], data[order]
        if len(c) > 1:
            dup = (c[1:] == c[:-1]) & (r[1:] == r[:-1])
            if dup.any():
                starts = np.flatnonzero(np.concatenate(([True], ~dup)))
                d = np.add.reduceat(d, starts)
                c, r = c[starts], r[starts]
        nz = d != 0
        if not nz.all():
            c, r, d = c[nz], r[nz], d[nz]
        indptr = np.concatenate(([0], np.cumsum(np.bincount(c, minlength=n)))).astype(np.int64)
        return cls(d.astype(np.float64), r.astype(np.int32), indptr, (m, n))

    def select_columns(self, keep: np.ndarray) -> "CSCMatrix":
        start, stop = self.indptr[keep], self.indptr[keep + 1]
        length = stop - start
        idx = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length) + np.repeat(start, length)
        indptr = np.concatenate(([0], np.cumsum(length))).astype(np.int64)
        return CSCMatrix(self.data[idx], self.indices[idx], indptr, (self.shape[0], len(keep)))

    def __matmul__(self, x: np.ndarray) -> np.ndarray:
        col = np.repeat(np.arange(self.shape[1]), np.diff(self.indptr))
        return np.bincount(self.indices, weights=self.data * np.asarray(x, dtype=np.float64)[col], minlength=self.shape[0])

    def tocsc(self) -> "CSCMatrix":
        return self

    def to_scipy(self) -> Any:
        from scipy import sparse  # noqa: PLC0415

        return sparse.csc_array((self.data, self.indices, self.indptr), shape=self.shape)


class Unsupported(Exception):
    """The model holds something this reader leaves to Pyomo's compiler."""


def _members(comp: Any) -> tuple[list[Any], list[Any]]:
    """(VarData, index) of a Var component in its ordered index order."""
    if not comp.is_indexed():
        return [comp], [None]
    data = comp._data
    if data.__class__ is dict and getattr(comp, "_dense", False) and len(data) == len(comp.index_set()):
        return list(data.values()), list(data)  # a dense Var fills _data in index order
    keys = list(comp.keys(_ORDERED))
    return [comp[k] for k in keys], keys


class _Columns:
    """Var components in first-met order, each a contiguous range of provisional columns."""

    def __init__(self) -> None:
        self.comps: list[Any] = []
        self.base: dict[int, int] = {}
        self.members: list[tuple[list[Any], list[Any]]] = []  # (VarData, index) per component
        self.col_of: dict[int, int] = {}  # id(VarData) -> provisional column, for components read term by term
        self._mapped: set[int] = set()
        self.size = 0

    def add(self, comp: Any) -> int:
        key = id(comp)
        b = self.base.get(key)
        if b is None:
            b = self.base[key] = self.size
            self.comps.append(comp)
            mem = _members(comp)
            self.members.append(mem)
            self.size += len(mem[0])
        return b

    def _map(self, comp: Any) -> None:
        b = self.add(comp)
        if id(comp) not in self._mapped:
            self._mapped.add(id(comp))
            members = self.members[list(self.base).index(id(comp))][0]
            self.col_of.update(zip(map(id, members), range(b, b + len(members))))

    def column(self, var: Any) -> int:
        j = self.col_of.get(id(var))
        if j is None:
            self._map(var.parent_component())
            j = self.col_of[id(var)]
        return j

    def columns_of(self, variables: list[Any]) -> list[int]:
        """Columns of many VarData (registering their components in the order first met)."""
        for ref in dict.fromkeys(v._component for v in variables):
            comp = ref()
            if id(comp) not in self._mapped:
                self._map(comp)
        col_of = self.col_of
        return [col_of[i] for i in map(id, variables)]


class _Linear:
    """Terms of one linear expression: provisional columns, coefficients, constant."""

    __slots__ = ("cols", "coefs", "constant")

    def __init__(self) -> None:
        self.cols: list[int] = []
        self.coefs: list[float] = []
        self.constant: float = 0.0


def _read_linear(expr: Any, columns: _Columns, visitor: Any) -> _Linear:
    out = _Linear()
    cls = expr.__class__
    if cls in native_types:
        out.constant = float(expr)
        return out
    if cls is LinearExpression:
        args = expr.args
    elif cls is MonomialTermExpression or isinstance(expr, VarData):
        args = (expr,)
    else:
        args = None
    if args is not None and len(args) > 16 and {a.__class__ for a in args} == {MonomialTermExpression}:
        coefs = [a._args_[0] for a in args]
        variables = [a._args_[1] for a in args]
        if all(c.__class__ in native_numeric_types for c in coefs) and not any(v.fixed for v in variables):
            out.cols = columns.columns_of(variables)
            out.coefs = coefs
            return out
    if args is not None:
        cols, coefs = out.cols, out.coefs
        column = columns.column
        for a in args:
            acls = a.__class__
            if acls is MonomialTermExpression:
                coef, var = a.args
                if coef.__class__ not in native_numeric_types:
                    coef = value(coef)
            elif acls in native_numeric_types:
                out.constant += a
                continue
            elif isinstance(a, VarData):
                coef, var = 1, a
            else:
                args = None
                break
            if var.fixed:
                out.constant += coef * var.value
            else:
                cols.append(column(var))
                coefs.append(coef)
        if args is not None:
            return out
        out = _Linear()
    repn = visitor.walk_expression(expr)
    if repn.nonlinear is not None:
        raise Unsupported("non-linear expression")
    var_map = visitor.var_map
    for vid, coef in repn.linear.items():
        out.cols.append(columns.column(var_map[vid]))
        out.coefs.append(coef)
    const = repn.constant
    out.constant = float(const if const.__class__ in native_types else value(const))
    return out


class _Rows:
    """Rows collected in order: CSR pieces plus (name, index, mult) and right-hand sides."""

    def __init__(self) -> None:
        self.data: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.lengths: list[np.ndarray] = []
        self.rhs: list[np.ndarray] = []
        self.mult: list[np.ndarray] = []
        self.keys: list[tuple[str, tuple, int]] = []
        # a pending block of single rows read from expressions
        self._d: list[float] = []
        self._c: list[int] = []
        self._n: list[int] = []
        self._r: list[float] = []
        self._m: list[int] = []

    def add_row(self, name: str, index: tuple, lin: _Linear, lb: float | None, ub: float | None) -> None:
        if lb is None and ub is None:
            return
        n = len(lin.cols)
        off = lin.constant
        if not n:
            if (lb is None or lb <= off) and (ub is None or ub >= off):
                return
            raise InfeasibleConstraintException(f"model contains a trivially infeasible constraint, '{name}{list(index)}'")
        emit = [(0, ub)] if lb == ub else [(s, b) for s, b in ((1, ub), (-1, lb)) if b is not None]
        for mult, bound in emit:
            self._d.extend(lin.coefs)
            self._c.extend(lin.cols)
            self._n.append(n)
            self._r.append(bound - off)
            self._m.append(mult)
            self.keys.append((name, index, mult))

    def flush(self) -> None:
        if self._n:
            self.data.append(np.asarray(self._d, dtype=np.float64))
            self.cols.append(np.asarray(self._c, dtype=np.int64))
            self.lengths.append(np.asarray(self._n, dtype=np.int64))
            self.rhs.append(np.asarray(self._r, dtype=np.float64))
            self.mult.append(np.asarray(self._m, dtype=np.int8))
            self._d, self._c, self._n, self._r, self._m = [], [], [], [], []

    def add_block(self, data: np.ndarray, cols: np.ndarray, lengths: np.ndarray, rhs: np.ndarray, mult: np.ndarray,
                  keys: list) -> None:
        self.flush()
        self.data.append(data)
        self.cols.append(cols)
        self.lengths.append(lengths)
        self.rhs.append(rhs)
        self.mult.append(mult.astype(np.int8))
        self.keys.extend(keys)


def _index_tuple(idx: Any) -> tuple:
    return idx if isinstance(idx, tuple) else (idx,)


def _row_keys(comp: LinearRows, rows: np.ndarray) -> list[tuple]:
    keys = comp._keys
    picked = keys if len(rows) == len(keys) else [keys[i] for i in rows.tolist()]
    if comp._tuple_keys:
        return picked
    return [_index_tuple(k) for k in picked]


def _array_terms(vars_: tuple, offsets: np.ndarray, local: np.ndarray, coefs: np.ndarray,
                 columns: _Columns) -> tuple[np.ndarray, np.ndarray]:
    """Provisional columns of terms stored as (local column, coefficient) arrays over ``vars_``,
    registering the Var components in the order their first term comes."""
    which = np.searchsorted(offsets, local, side="right") - 1
    first = [(int(np.argmax(which == v)), v) for v in range(len(vars_)) if (which == v).any()]
    for _, v in sorted(first):
        columns.add(vars_[v])
    base = np.array([columns.base.get(id(v), 0) for v in vars_], dtype=np.int64)
    return local - offsets[which] + base[which], coefs


def _matrix_block(comp: LinearRows, rows: np.ndarray, columns: _Columns, out: _Rows) -> None:
    """Rows ``rows`` of a LinearRows family, straight from its arrays."""
    name = comp.local_name
    lo, up = comp._lower[rows], comp._upper[rows]
    eq = lo == up
    has_ub = ~eq & (up < INF)
    has_lb = ~eq & (lo > -INF)
    start, stop = comp._indptr[rows], comp._indptr[rows + 1]
    length = stop - start
    empty = length == 0
    if empty.any():  # rows without a variable: 0 must lie within the bounds
        bad = empty & ~((lo <= 0) & (up >= 0))
        if bad.any():
            i = int(rows[np.flatnonzero(bad)[0]])
            raise InfeasibleConstraintException(
                f"model contains a trivially infeasible constraint, '{name}{list(_index_tuple(comp._keys[i]))}'")
        keep = ~empty
        rows, lo, up, eq, has_ub, has_lb, start, length = (a[keep] for a in (rows, lo, up, eq, has_ub, has_lb, start, length))
    # columns: register this family's Var components in the order their first term appears
    if len(rows) == len(comp._keys):
        nz = slice(None)
    else:
        nz = (np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)) + np.repeat(start, length)
    glob, coefs = _array_terms(comp._vars, comp._offsets, comp._cols[nz], comp._coefs[nz], columns)
    # emitted rows: one for an equality, one per finite side otherwise (≤ first, then ≥)
    n_emit = np.where(eq, 1, has_ub.astype(np.int64) + has_lb.astype(np.int64))
    if (n_emit == 1).all():
        mult = np.where(eq, 0, np.where(has_ub, 1, -1)).astype(np.int8)
        rhs = np.where(has_lb & ~has_ub & ~eq, lo, up)
        out.add_block(coefs, glob, length, rhs, mult, list(zip(repeat(name), _row_keys(comp, rows), mult.tolist())))
        return
    # general case (ranged rows give two rows; rows without bounds none)
    src = np.repeat(np.arange(len(rows)), n_emit)
    second = np.zeros(len(src), dtype=bool)
    second[1:] = src[1:] == src[:-1]
    mult = np.where(eq[src], 0, np.where(second | ~has_ub[src], -1, 1)).astype(np.int8)
    rhs = np.where(mult == -1, lo[src], up[src])
    term_start = np.cumsum(length) - length
    lens = length[src]
    nz2 = (np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)) + np.repeat(term_start[src], lens)
    out.add_block(coefs[nz2], glob[nz2], lens, rhs, mult, list(zip(repeat(name), _row_keys(comp, rows[src]), mult.tolist())))


def _bounds(members: list[tuple[list[Any], list[Any]]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per provisional column: lower, upper, integrality, fixed flag, value."""
    lows, ups, ints, fixed, vals = [], [], [], [], []
    for data, _ in members:
        n = len(data)
        lb_raw = list(map(_LB, data))
        ub_raw = list(map(_UB, data))
        doms = set(map(id, map(_DOMAIN, data)))
        simple = len(doms) == 1 and set(map(type, lb_raw)) | set(map(type, ub_raw)) <= {float, int, type(None)}
        if simple:
            dom = data[0]._domain
            dlb, dub = dom.bounds()
            lb = np.array([np.nan if x is None else x for x in lb_raw], dtype=np.float64)
            ub = np.array([np.nan if x is None else x for x in ub_raw], dtype=np.float64)
            if np.isinf(lb).any() or np.isinf(ub).any():
                simple = False
        if simple:
            lb = np.where(np.isnan(lb), -INF if dlb is None else dlb, lb if dlb is None else np.maximum(lb, dlb))
            ub = np.where(np.isnan(ub), INF if dub is None else dub, ub if dub is None else np.minimum(ub, dub))
            integer = np.full(n, 1 if data and data[0].is_integer() else 0, dtype=np.int32)
        else:
            pairs = [v.bounds for v in data]
            lb = np.array([-INF if a is None else a for a, _ in pairs], dtype=np.float64)
            ub = np.array([INF if b is None else b for _, b in pairs], dtype=np.float64)
            integer = np.array([1 if v.is_integer() else 0 for v in data], dtype=np.int32)
        fx = np.fromiter(map(_FIXED, data), dtype=bool, count=n)
        lows.append(lb)
        ups.append(ub)
        ints.append(integer)
        fixed.append(fx)
        vals.append(np.array([v._value if f else 0.0 for v, f in zip(data, fx.tolist())], dtype=np.float64)
                    if fx.any() else np.zeros(n))
    cat = (lambda xs, dt: np.concatenate(xs) if xs else np.empty(0, dtype=dt))
    return cat(lows, np.float64), cat(ups, np.float64), cat(ints, np.int32), cat(fixed, bool), cat(vals, np.float64)


def compile_arrays(model: Any) -> tuple:
    """``(c, offset, A_csc, row_lower, row_upper, col_lower, col_upper, integrality, columns, rows)``
    (with Python's cyclic garbage collector paused: see :func:`optimiser.model.build.build_model`)."""
    with PauseGC():
        return _compile_arrays(model)


def _compile_arrays(model: Any) -> tuple:
    from pyomo.repn.linear import LinearRepnVisitor  # noqa: PLC0415
    from pyomo.repn.util import VarRecorder  # noqa: PLC0415

    for comp in model.component_objects(active=True, descend_into=True):
        if comp.ctype not in _KNOWN or (comp.ctype is Block and comp is not model):
            raise Unsupported(f"component {comp.name} ({comp.ctype.__name__})")
    visitor = LinearRepnVisitor({}, var_recorder=VarRecorder({}, _ORDERED))
    columns = _Columns()

    # objective (minimised)
    objectives = list(model.component_data_objects(Objective, active=True, descend_into=True))
    if len(objectives) > 1:
        raise Unsupported("several objectives")
    obj_cols: list[int] = []
    obj_coefs: list[float] = []
    offset = 0.0
    if objectives:
        obj = objectives[0]
        if isinstance(obj, LinearObjective) and obj.from_arrays:
            obj_cols, obj_coefs = _array_terms(obj._vars, obj._offsets, obj._cols, obj._coefs, columns)
            offset = obj.constant
        else:
            lin = _read_linear(obj.expr, columns, visitor)
            obj_cols, obj_coefs, offset = lin.cols, lin.coefs, lin.constant
        if obj.sense != minimize:
            obj_coefs = np.negative(np.asarray(obj_coefs, dtype=np.float64))
            offset = -offset

    # constraints, in declaration and index order
    rows = _Rows()
    for comp in model.component_objects(Constraint, active=True, descend_into=True, sort=_ORDERED):
        if isinstance(comp, LinearRows) and not comp._override:
            take, _ = comp.matrix_rows()
            if len(take):
                _matrix_block(comp, take, columns, rows)
            continue
        name = comp.local_name
        for con in comp.values(_ORDERED):
            if not con.active:
                continue
            lb, body, ub = con.to_bounded_expression()
            if lb.__class__ not in native_types:
                lb = value(lb)
            if ub.__class__ not in native_types:
                ub = value(ub)
            rows.add_row(name, _index_tuple(con.index()), _read_linear(body, columns, visitor), lb, ub)
    rows.flush()

    # matrices over provisional columns
    n_prov = columns.size
    lengths = np.concatenate(rows.lengths) if rows.lengths else np.empty(0, dtype=np.int64)
    data = np.concatenate(rows.data) if rows.data else np.empty(0)
    cols = np.concatenate(rows.cols) if rows.cols else np.empty(0, dtype=np.int64)
    rhs = np.concatenate(rows.rhs) if rows.rhs else np.empty(0)
    mult = np.concatenate(rows.mult) if rows.mult else np.empty(0, dtype=np.int8)
    m = len(lengths)
    a = CSCMatrix.from_row_major(data, cols, lengths, (m, n_prov))
    c_dense = np.bincount(np.asarray(obj_cols, dtype=np.int64), weights=np.asarray(obj_coefs, dtype=np.float64),
                          minlength=n_prov).astype(np.float64) if len(obj_cols) else np.zeros(n_prov)
    active = (np.diff(a.indptr) > 0) | (c_dense != 0)

    col_lower, col_upper, integrality, fixed, fixed_value = _bounds(columns.members)
    fixed &= active
    if fixed.any():
        x = np.where(fixed, fixed_value, 0.0)
        offset = offset + float(c_dense @ x)
        rhs = rhs - a @ x
        active &= ~fixed
    keep = np.flatnonzero(active)
    a = a.select_columns(keep) if len(keep) != n_prov else a
    columns_out: list[ColumnKey] = []
    for comp, (_, index), start in zip(columns.comps, columns.members, columns.base.values()):
        sel = keep[(keep >= start) & (keep < start + len(index))] - start
        if not len(sel):
            continue
        picked = [index[j] for j in sel.tolist()] if len(sel) != len(index) else index
        if not (picked and picked[0].__class__ is tuple and all(k.__class__ is tuple for k in picked)):
            picked = [_index_tuple(k) for k in picked]
        columns_out.extend(map(tuple.__new__, repeat(ColumnKey), zip(repeat(comp.local_name), picked)))
    columns_out = tuple(columns_out)
    row_lower = np.where(mult == 1, -INF, rhs)
    row_upper = np.where(mult == -1, INF, rhs)
    return (c_dense[keep], float(offset), a, row_lower, row_upper, col_lower[keep], col_upper[keep],
            integrality[keep], columns_out, tuple(rows.keys))
