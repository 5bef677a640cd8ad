"""Family 2 — tooling link: production only on tooled lines, with the tightest U."""

from __future__ import annotations

import pyomo.environ as pyo

from .sets import ModelData


def define_tooling_link(m: pyo.ConcreteModel, md: ModelData) -> None:
    """make[p,l,t,s] ≤ U[p,l,t,s]·tool[p,l]   ∀ (p,l,t,s) ∈ make_index,

    U = min(cap[l,t]/use[p,l], demand of p reachable from l's factory in (t,s)
    + what BOM parents can draw) — the same value as make's upper bound.
    """
    ub = md.make_ub

    def rule(_m: pyo.ConcreteModel, p: str, l: str, t: int, s: str) -> object:
        return m.make[p, l, t, s] <= ub[p, l, t, s] * m.tool[p, l]

    m.tool_link = pyo.Constraint(md.make_index, rule=rule)
