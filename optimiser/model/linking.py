"""Valid inequalities that tighten the LP relaxation (none changes the optimum).

The capacity row ``Σ_p use·make ≤ cap·active`` links production to a running line only in
aggregate: in the LP a line can run at a fraction just large enough for what it makes. Where
demand, not capacity, limits production, that fraction is too small, and the relaxation
overstates NPV (the classic weak facility-location link). These families add the
disaggregated links, each only where it cuts something the other rows do not already say.
See docs/model.md ("Strengthening") for the root gaps they close.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from .matrix import RowsBuilder, TermsBuilder, index_positions
from .sets import ModelData

#: Relative margin below which a bound is treated as already implied (floating-point noise).
_EPS = 1e-9


def running_costs(md: ModelData, line: str) -> bool:
    """Whether running ``line`` costs anything: a fixed cost, a build (candidate) or an option.

    Where it costs nothing, the LP runs the line fully for free and no link through ``active``
    can cut anything (e.g. the GAP benchmarks), so the families below skip such lines."""
    return md.fixed_cost.get(line, 0.0) > 0 or line in md.candidates or line in md.requires_option


def running_link_index(md: ModelData) -> list[tuple[str, str, int, str]]:
    """(p,l,t,s) with U[p,l,t,s] < cap[l,t]/use[p,l] on a line whose running costs: there the
    capacity row does not imply ``make ≤ U·active`` (where U equals cap/use it is the capacity
    row itself)."""
    cap, use, ub = md.capacity, md.capacity_use, md.make_ub
    costly = {l for l in md.line_factory if running_costs(md, l)}
    return [k for k in md.make_index
            if k[1] in costly and ub[k] < (cap[k[1], k[2]] / use[k[0], k[1]]) * (1.0 - _EPS)]


def define_running_link(m: pyo.ConcreteModel, md: ModelData) -> None:
    """make[p,l,t,s] ≤ U[p,l,t,s]·active[l,t,s]   ∀ (p,l,t,s) ∈ make_index with U < cap/use.

    Valid: with active = 0 the capacity row forces make = 0 (use > 0), with active = 1 it is
    make's bound U. Same U as the tooling link."""
    index = running_link_index(md) if md.tighten else []
    if not index:
        return
    rows = np.arange(len(index))
    b = TermsBuilder(index, None, 0.0, m.make, m.running)
    b.add(0, rows, index_positions(m.make, index), 1.0)
    run = {k: i for i, k in enumerate(md.active_index)}
    b.add(1, rows, [run[l, t, s] for (_, l, t, s) in index], -np.array([md.make_ub[k] for k in index]))
    m.running_link = b.build()


def ship_link_index(md: ModelData) -> list[tuple[str, str, str, int, str]]:
    """(p,f,m,t,s) where d[p,m,t,s] < U[p,l,t,s] for some line l of f making p (all of whose
    lines' running costs): elsewhere ``ship ≤ Σ_l make ≤ Σ_l U·active ≤ d·Σ_l active`` already
    follows from the running link, or some line of f runs for free."""
    d, ub, lines = md.demand, md.make_ub, md.flow_lines
    costly = {l for l in md.line_factory if running_costs(md, l)}
    out = []
    for k in md.ship_index:
        p, f, mk, t, s = k
        v = d[p, mk, t, s]
        ls = lines[p, f, t, s]
        if all(l in costly for l in ls) and any(v < ub[p, l, t, s] * (1.0 - _EPS) for l in ls):
            out.append(k)
    return out


def define_ship_link(m: pyo.ConcreteModel, md: ModelData) -> None:
    """ship[p,f,m,t,s] ≤ d[p,m,t,s]·Σ_{l∈f making p in (t,s)} active[l,t,s]   ∀ (p,f,m,t,s) in
    :func:`ship_link_index` — the facility-location link x_ij ≤ d_j·y_i.

    Valid: ship ≤ d (demand row), and with no line of f running for p nothing is made there."""
    index = ship_link_index(md) if md.tighten else []
    if not index:
        return
    lines = md.flow_lines
    b = RowsBuilder(m.ship, m.running)
    ship, run = b.columns
    for k in index:
        p, f, mk, t, s = k
        ls = lines[p, f, t, s]
        v = md.demand[p, mk, t, s]
        b.add(k, [ship[k]] + [run[l, t, s] for l in ls], [1.0] + [-v] * len(ls), ub=0.0)
    m.ship_link = b.build()


def define_running_needs_tooling(m: pyo.ConcreteModel, md: ModelData) -> None:
    """active[l,t,s] ≤ Σ_{p made on l in (t,s)} tool[p,l]   ∀ (l,t,s) ∈ active_index.

    Keeps every optimum (a line that runs with nothing tooled makes nothing and pays
    fixed_cost − idle_cost ≥ 0, so switching it off never loses NPV; lines whose idle_cost exceeds
    their fixed_cost are left out); cuts fractional plans that run a line a little without paying
    for its tooling."""
    if not md.tighten or not md.active_index:
        return
    b = RowsBuilder(m.running, m.tool)
    run, tool = b.columns
    costly = {l for l in md.line_factory if running_costs(md, l)
              and md.idle_cost.get(l, 0.0) <= md.fixed_cost.get(l, 0.0)}  # (else running empty can pay)
    for k in md.active_index:
        l = k[0]
        if l not in costly:
            continue
        ps = md.make_on_line[k]
        b.add(k, [run[k]] + [tool[p, l] for p in ps], [1.0] + [-1.0] * len(ps), ub=0.0)
    m.running_needs_tooling = b.build()
