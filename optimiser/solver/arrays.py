"""The compiled model as arrays: what the model layer hands the solver, and the array operations on it.

A leaf module (numpy and scipy only): :class:`Compiled` (min −NPV as a CSC matrix with row and
column bounds, the keys back to variables and constraints, and the :class:`Roles` of rows and
columns the solver acts on), :class:`ModelArrays` (the same without keys, as HiGHS's
``passModel`` takes it and a child process receives it), and the row operations the heuristics
share (:func:`csr`, :func:`without_rows`, :func:`row_activity`, :func:`violated`).

The solver knows no model names: which columns have an implied upper bound, which rows are
linking rows and so on arrive as masks in :class:`Roles`, made by :mod:`optimiser.model.compile`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from ..errors import InputError

INF = math.inf

#: Column kinds of :attr:`Roles.column_kind` (one small integer per column), used by the
#: construction heuristic (:mod:`optimiser.solver.construct`).
CONTINUOUS, TAKE, BUILD, TOOL, RUNNING, OTHER_INTEGER = 0, 1, 2, 3, 4, 5

#: A row is violated when it is off by more than this, relative to max(1, |activity|).
VIOLATION_TOL = 1e-6


class ColumnKey(NamedTuple):
    """Which variable a column is: component name and index tuple."""

    var: str
    index: tuple


@dataclass(frozen=True)
class Roles:
    """What the solver needs to know of the model's rows and columns, as masks (one entry per
    column or row; see :func:`optimiser.model.compile.model_roles` for which model names they hold).

    * ``implied_upper`` (columns): the upper bound only repeats what capacity and demand rows
      say; the duals LP lifts it so the capacity rows carry the shadow price;
    * ``column_kind`` (columns): :data:`TAKE`, :data:`BUILD`, :data:`TOOL`, :data:`RUNNING` or
      :data:`CONTINUOUS` (the construction heuristic's view of a column);
    * ``linking`` (rows): valid inequalities the model does not need once the integers are fixed
      (lifted in the duals LP, left out of the start-plan search's LP);
    * ``implied_linking`` (rows): those of them every integer plan meets (the MIP may leave them
      out where its LP does not need them: :mod:`optimiser.solver.row_generation`);
    * ``tool_link_column`` (rows): for a row ``make ≤ U·tool``, the column of its ``tool``
      (with tool fixed at 1 the row repeats the capacity bound and is lifted); −1 elsewhere;
    * ``ranged`` (rows): rows whose right-hand side is ranged after the duals LP (capacity rows);
    * ``ramp_partner`` (rows): for a ramp row (``≤ cap·ready``), its line-year's capacity row
      (``≤ cap·running``); −1 elsewhere;
    * ``column_site`` (columns): for a :data:`RUNNING`, :data:`TOOL` or :data:`BUILD` column of a
      line that can make something, the number of the factory the line stands in (0, 1, … in the
      order of the factories' ids as text); −1 for every other column (fix-and-optimise's
      neighbourhoods: :mod:`optimiser.solver.fix_optimise`);
    * ``column_programme`` (columns): for a :data:`TOOL` column, the number of its programme, the
      programmes numbered so that those that can be tooled on the same lines are consecutive; −1
      for every other column (fix-and-optimise's programme neighbourhoods).
    """

    implied_upper: np.ndarray
    column_kind: np.ndarray
    linking: np.ndarray
    implied_linking: np.ndarray
    tool_link_column: np.ndarray
    ranged: np.ndarray
    ramp_partner: np.ndarray
    column_site: np.ndarray
    column_programme: np.ndarray

    @classmethod
    def none(cls, n_columns: int, n_rows: int) -> "Roles":
        """No row or column has a role (a model the solver treats as plain arrays)."""
        return cls(np.zeros(n_columns, dtype=bool), np.zeros(n_columns, dtype=np.int8), np.zeros(n_rows, dtype=bool),
                   np.zeros(n_rows, dtype=bool), np.full(n_rows, -1, dtype=np.int64), np.zeros(n_rows, dtype=bool),
                   np.full(n_rows, -1, dtype=np.int64), np.full(n_columns, -1, dtype=np.int32),
                   np.full(n_columns, -1, dtype=np.int32))


@dataclass
class Compiled:
    """The model as matrices (min −NPV), with the map back to variables and constraints and the
    roles of its rows and columns (:class:`Roles`; none given: no roles)."""

    sense_min_cost: np.ndarray
    offset: float
    a_csc: Any
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    columns: tuple[ColumnKey, ...]
    rows: tuple[tuple[str, tuple, int], ...]
    compile_seconds: float
    roles: Roles | None = field(default=None)

    def __post_init__(self) -> None:
        if self.roles is None:
            self.roles = Roles.none(len(self.col_lower), len(self.row_lower))


class ModelArrays(NamedTuple):
    """The model as HiGHS's ``passModel`` takes it (min −NPV; CSC matrix), without the row and
    column keys: what a child process needs to rebuild it."""

    cost: np.ndarray
    offset: float
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray


def model_arrays(cm: Compiled, col_lower: np.ndarray | None = None,
                 col_upper: np.ndarray | None = None) -> ModelArrays:
    """``cm`` as :class:`ModelArrays`, with other column bounds if given."""
    a = cm.a_csc
    return ModelArrays(cm.sense_min_cost, cm.offset, a.indptr.astype(np.int32), a.indices.astype(np.int32),
                       a.data.astype(float), cm.row_lower, cm.row_upper,
                       cm.col_lower if col_lower is None else col_lower,
                       cm.col_upper if col_upper is None else col_upper, cm.integrality)


def csr(arrays: ModelArrays) -> Any:
    """The matrix of ``arrays`` in CSR form (rows sliced fast)."""
    import scipy.sparse as sp  # noqa: PLC0415 — scipy only when a heuristic runs (CLI start-up)

    shape = (len(arrays.row_lower), len(arrays.col_lower))
    return sp.csc_matrix((arrays.data, arrays.indices, arrays.indptr), shape=shape).tocsr()


def without_rows(arrays: ModelArrays, drop: np.ndarray, integer: bool = True) -> ModelArrays:
    """``arrays`` without the rows in the mask ``drop`` (columns unchanged); all columns
    continuous unless ``integer``."""
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


def satisfies(arrays: ModelArrays, x: np.ndarray, tol: float = 1e-6) -> bool:
    """Whether ``x`` meets every row and bound of ``arrays`` (within ``tol``, relative above 1)."""
    cl, cu = arrays.col_lower, arrays.col_upper
    if np.any(x < cl - tol * np.maximum(1, np.abs(cl))) or np.any(x > cu + tol * np.maximum(1, np.abs(cu))):
        return False
    return not np.isnan(x).any() and not violated(arrays, x, tol).any()


#: Coefficients, bounds and right-hand sides handed to HiGHS must stay below this. Its doubles carry
#: 15–16 digits, its infinite bound is 1e20, and it refuses a matrix entry of 1e15 or more outright
#: (``large_matrix_value``): beyond this every tolerance (1e-7 relative) is lost and HiGHS stops with
#: an error that looks like a time-out.
MAX_MAGNITUDE = 1e15


def check_magnitudes(cm: Compiled) -> None:
    """Refuse a model with a finite cost, matrix entry, column bound or row bound of
    :data:`MAX_MAGNITUDE` or more in absolute value (InputError naming the variable or constraint and its
    index), before HiGHS spends its time on it. Such numbers come from the instance: a money
    column, a volume or the discounting ((1 + r)^-(t − base_year) for r near −1)."""
    def worst(values: np.ndarray) -> tuple[int, float] | None:
        v = np.abs(np.asarray(values, dtype=float))
        v = np.where(np.isfinite(v), v, 0.0)
        if not len(v) or v.max() < MAX_MAGNITUDE:
            return None
        j = int(v.argmax())
        return j, float(v[j])

    def col(j: int) -> str:
        key = cm.columns[j]
        return f"{key.var}[{', '.join(map(str, key.index))}]"

    def row(i: int) -> str:
        name, idx = cm.rows[i][0], cm.rows[i][1]
        return f"{name}[{', '.join(map(str, idx))}]"

    found = None
    if (w := worst(cm.sense_min_cost)) is not None:
        found = (w[1], f"the objective (NPV) coefficient of {col(w[0])}")
    elif (w := worst(cm.a_csc.data)) is not None:
        a = cm.a_csc
        k = w[0]  # CSC: entry k is in column j with indptr[j] ≤ k < indptr[j+1], row indices[k]
        j = int(np.searchsorted(np.asarray(a.indptr), k, side="right") - 1)
        found = (w[1], f"a coefficient of {col(j)} in {row(int(a.indices[k]))}")
    elif (w := worst(np.concatenate([cm.col_lower, cm.col_upper]))) is not None:
        found = (w[1], f"a bound of {col(w[0] % len(cm.col_lower))}")
    elif (w := worst(np.concatenate([cm.row_lower, cm.row_upper]))) is not None:
        found = (w[1], f"the right-hand side of {row(w[0] % len(cm.row_lower))}")
    if found is not None:
        raise InputError(f"the model holds {found[0]:.3g} as {found[1]}: numbers from {MAX_MAGNITUDE:.0e} up "
                         "are beyond what HiGHS can compute with; check the instance's money and volume "
                         "columns and settings discount_rate / base_year")
