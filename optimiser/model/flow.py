"""Family 6 — flow: what a factory makes is shipped or feeds the bill of materials."""

from __future__ import annotations

import pyomo.environ as pyo

from .sets import ModelData


def define_flow(m: pyo.ConcreteModel, md: ModelData) -> None:
    """Σ_{l∈f} make[p,l,t,s] = Σ_m ship[p,f,m,t,s] + internal[p,f,t,s]   ∀ (p,f,t,s) ∈ flow_index
    (``internal`` only for BOM components; ``ship`` only on logistics routes to markets with demand)."""
    internal = set(md.internal_index)

    def rule(_m: pyo.ConcreteModel, p: str, f: str, t: int, s: str) -> object:
        out = sum(m.ship[p, f, mk, t, s] for mk in md.flow_markets.get((p, f, t, s), ()))
        if (p, f, t, s) in internal:
            out = out + m.internal[p, f, t, s]
        return sum(m.make[p, l, t, s] for l in md.flow_lines[p, f, t, s]) == out

    m.flow = pyo.Constraint(md.flow_index, rule=rule)
