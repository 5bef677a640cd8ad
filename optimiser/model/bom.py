"""Family 8 — bill of materials: components cover what parents are made of."""

from __future__ import annotations

import pyomo.environ as pyo

from .sets import ModelData


def define_bom(m: pyo.ConcreteModel, md: ModelData) -> None:
    """Σ_f internal[c,f,t,s] + extbuy[c,t,s] ≥ Σ_parent qty[parent,c]·Σ_l make[parent,l,t,s]
    ∀ (c,t,s) ∈ bom_index (components whose parents can be made in t)."""
    if not md.bom_index:
        return
    ext = set(md.extbuy_index)

    def rule(_m: pyo.ConcreteModel, c: str, t: int, s: str) -> object:
        supply = sum(m.internal[c, f, t, s] for f in md.bom_internal[c, t, s])
        if (c, t, s) in ext:
            supply = supply + m.extbuy[c, t, s]
        need = sum(q * m.make[par, l, t, s] for par, q in md.bom_parents[c] for l in md.make_lines.get((par, t, s), ()))
        return supply >= need

    m.bom = pyo.Constraint(md.bom_index, rule=rule)
