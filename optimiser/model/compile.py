"""Turn a built Pyomo model into the solver's :class:`~optimiser.solver.arrays.Compiled`, roles included.

:func:`compile_model` reads the matrices (min −NPV) straight from the model
(:mod:`optimiser.model.read_arrays`), or through Pyomo's standard-form compiler
(:func:`compile_model_pyomo`) for models with anything else; :func:`model_roles` then tells the
solver, as masks, which rows and columns play which part (the model's constraint and variable
names stay here: the solver knows none of them).
"""

from __future__ import annotations

import math
import time
from typing import Any, Mapping

import numpy as np

from ..solver.arrays import BUILD, CONTINUOUS, RUNNING, TAKE, TOOL, ColumnKey, Compiled, Roles
from .read_arrays import Unsupported, compile_arrays

INF = math.inf

#: Columns whose upper bound only repeats what capacity and demand rows already say;
#: in the duals LP they are lifted so the capacity rows carry the shadow price.
IMPLIED_UPPER_BOUNDS = ("make",)
#: Rows ``make ≤ U·tool``: with tool fixed at 1 they only repeat the capacity/demand bound; their
#: index starts with the tool's (product, line).
TOOL_LINK_ROWS = "tool_link"
TOOL_COLUMN = "tool"
#: Valid inequalities (model/linking.py): with the integers fixed they repeat what capacity,
#: flow and demand rows say, so they are lifted too.
LINKING_ROWS = ("running_link", "ship_link", "running_needs_tooling")
#: Those of them every integer plan meets (running_needs_tooling only keeps every optimum): the
#: MIP may leave them out where its LP does not need them (optimiser.solver.row_generation).
IMPLIED_LINKING_ROWS = ("running_link", "ship_link")
#: A line-year's two capacity rows (``capacity``: ≤ cap·running; ``ramp``: ≤ cap·ready): their
#: right-hand sides are ranged after the duals LP, and one of the two is lifted in it.
CAPACITY_ROWS = "capacity"
RAMP_ROWS = "ramp"
#: Column kinds of the construction heuristic, by variable name.
KIND_OF = {"take": TAKE, "build": BUILD, "tool": TOOL, "running": RUNNING}
#: Variables of one line → position of the line in their index (``running[l, t, s]``,
#: ``build[l, τ]``, ``tool[p, l]``): their columns' site is the line's factory.
LINE_POSITION = {"running": 0, "build": 0, "tool": 1}
#: What a line makes: ``make[p, l, t, s]`` (a line with no such column has no site).
MAKE_COLUMN = "make"
#: The attribute :func:`optimiser.model.build.build_model` leaves on the model: line → factory
#: (:attr:`~optimiser.model.sets.ModelData.line_factory`), read here for the columns' sites.
LINE_FACTORY_ATTRIBUTE = "line_factory"


def column_sites(columns: tuple[ColumnKey, ...], line_factory: Mapping[str, str] | None) -> np.ndarray:
    """:attr:`~optimiser.solver.arrays.Roles.column_site`: for each ``running``, ``build`` and
    ``tool`` column of a line that makes something (it has a ``make[p, l, t, s]`` column) the
    number of the line's factory in ``line_factory`` (the factories of such lines numbered 0, 1, …
    in the order of their ids as text); −1 for every other column, for a line that can make
    nothing (its columns cannot change what is made) and for a line not in ``line_factory``
    (None: every column −1)."""
    site = np.full(len(columns), -1, dtype=np.int32)
    if not line_factory:
        return site
    making = {key.index[1] for key in columns if key.var == MAKE_COLUMN}
    number = {f: i for i, f in enumerate(sorted({line_factory[l] for l in making if l in line_factory}, key=str))}
    for j, key in enumerate(columns):
        pos = LINE_POSITION.get(key.var)
        if pos is not None and key.index[pos] in making:
            f = line_factory.get(key.index[pos])
            if f is not None:
                site[j] = number[f]
    return site


def column_programmes(columns: tuple[ColumnKey, ...]) -> np.ndarray:
    """:attr:`~optimiser.solver.arrays.Roles.column_programme`: for each ``tool[p, l]`` column the
    number of ``p``, the programmes with a tool column numbered 0, 1, … in the order of (the
    lines they can be tooled on, sorted; their id), so that programmes competing for the same
    lines are consecutive; −1 for every other column."""
    tool = [(j, key.index) for j, key in enumerate(columns) if key.var == TOOL_COLUMN]
    lines: dict[Any, set[Any]] = {}
    for _, (p, l) in tool:
        lines.setdefault(p, set()).add(l)
    order = sorted(lines, key=lambda p: (tuple(sorted(map(str, lines[p]))), str(p)))
    number = {p: i for i, p in enumerate(order)}
    out = np.full(len(columns), -1, dtype=np.int32)
    for j, (p, _) in tool:
        out[j] = number[p]
    return out


def model_roles(columns: tuple[ColumnKey, ...], rows: tuple[tuple[str, tuple, int], ...],
                line_factory: Mapping[str, str] | None = None) -> Roles:
    """The :class:`~optimiser.solver.arrays.Roles` of a compiled model's columns and rows, from
    their variable and constraint names (the lists above) and the lines' factories
    (``line_factory``: :func:`column_sites`)."""
    names = [name for name, _, _ in rows]
    m = len(names)
    linking = np.fromiter((name in LINKING_ROWS for name in names), dtype=bool, count=m)
    implied = np.fromiter((name in IMPLIED_LINKING_ROWS for name in names), dtype=bool, count=m)
    ranged = np.fromiter((name in (CAPACITY_ROWS, RAMP_ROWS) for name in names), dtype=bool, count=m)
    col_of = {(k.var, k.index): j for j, k in enumerate(columns) if k.var == TOOL_COLUMN}
    tool_link = np.full(m, -1, dtype=np.int64)
    capacity_row: dict[tuple, int] = {}
    for i, (name, idx, _) in enumerate(rows):
        if name == TOOL_LINK_ROWS:
            tool_link[i] = col_of.get((TOOL_COLUMN, idx[:2]), -1)
        elif name == CAPACITY_ROWS:
            capacity_row[idx] = i
    ramp_partner = np.full(m, -1, dtype=np.int64)
    for i, (name, idx, _) in enumerate(rows):
        if name == RAMP_ROWS:
            ramp_partner[i] = capacity_row.get(idx, -1)
    n = len(columns)
    implied_upper = np.fromiter((k.var in IMPLIED_UPPER_BOUNDS for k in columns), dtype=bool, count=n)
    kind = np.fromiter((KIND_OF.get(k.var, CONTINUOUS) for k in columns), dtype=np.int8, count=n)
    return Roles(implied_upper=implied_upper, column_kind=kind, linking=linking, implied_linking=implied,
                 tool_link_column=tool_link, ranged=ranged, ramp_partner=ramp_partner,
                 column_site=column_sites(columns, line_factory), column_programme=column_programmes(columns))


def compile_model(model: Any) -> Compiled:
    """Pyomo model → matrices (min −NPV), read straight from the model.

    :class:`~optimiser.model.matrix.LinearRows` families are taken as the sparse arrays they
    are stored in; every other active constraint and the objective are read as Pyomo linear
    expressions. The result is the one Pyomo's ``LinearStandardFormCompiler`` gives in mixed
    form (same columns, rows, order and coefficients; columns in no row and without cost are
    dropped, fixed variables move to the right-hand side), in a fraction of the time. Models
    with anything else (sub-blocks, several objectives, non-linear terms, other component
    types) go through Pyomo's compiler (:func:`compile_model_pyomo`).
    """
    t0 = time.perf_counter()
    try:
        arrays = compile_arrays(model)
    except Unsupported:
        return compile_model_pyomo(model)
    columns, rows = arrays[8], arrays[9]
    return Compiled(*arrays, compile_seconds=time.perf_counter() - t0,
                    roles=model_roles(columns, rows, getattr(model, LINE_FACTORY_ATTRIBUTE, None)))


def compile_model_pyomo(model: Any) -> Compiled:
    """Pyomo model → matrices (min −NPV) through Pyomo's standard-form compiler (the reference route)."""
    t0 = time.perf_counter()
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler  # noqa: PLC0415 — reference route

    repn = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=1)  # 1 = minimize
    cols = repn.columns
    n = len(cols)
    col_lower = np.empty(n)
    col_upper = np.empty(n)
    integrality = np.zeros(n, dtype=np.int32)
    keys = []
    for j, v in enumerate(cols):
        lb, ub = v.bounds
        col_lower[j] = -INF if lb is None else lb
        col_upper[j] = INF if ub is None else ub
        if v.is_integer():
            integrality[j] = 1
        idx = v.index()
        keys.append(ColumnKey(v.parent_component().local_name, idx if isinstance(idx, tuple) else (idx,)))
    rhs = np.asarray(repn.rhs, dtype=float)
    m_rows = len(repn.rows)
    row_lower = np.full(m_rows, -INF)
    row_upper = np.full(m_rows, INF)
    row_keys = []
    for i, (con, mult) in enumerate(repn.rows):
        if mult == 0:
            row_lower[i] = row_upper[i] = rhs[i]
        elif mult > 0:
            row_upper[i] = rhs[i]
        else:
            row_lower[i] = rhs[i]
        idx = con.index()
        row_keys.append((con.parent_component().local_name, idx if isinstance(idx, tuple) else (idx,), int(mult)))
    c = repn.c.toarray().ravel() if repn.c.shape[0] else np.zeros(n)
    offset = float(repn.c_offset[0]) if len(repn.c_offset) else 0.0
    columns, rows = tuple(keys), tuple(row_keys)
    return Compiled(c, offset, repn.A.tocsc(), row_lower, row_upper, col_lower, col_upper, integrality,
                    columns, rows, time.perf_counter() - t0,
                    roles=model_roles(columns, rows, getattr(model, LINE_FACTORY_ATTRIBUTE, None)))
