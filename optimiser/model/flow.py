"""Family 6 — flow: what a factory makes is shipped or feeds the bill of materials."""

from __future__ import annotations

import pyomo.environ as pyo

from .matrix import TermsBuilder, index_positions
from .sets import ModelData


def define_flow(m: pyo.ConcreteModel, md: ModelData) -> None:
    """Σ_{l∈f} make[p,l,t,s] = Σ_m ship[p,f,m,t,s] + internal[p,f,t,s]   ∀ (p,f,t,s) ∈ flow_index
    (``internal`` only for BOM components; ``ship`` only on logistics routes to markets with demand)."""
    row = {k: i for i, k in enumerate(md.flow_index)}
    factory = md.line_factory
    b = TermsBuilder(md.flow_index, 0.0, 0.0, m.make, m.ship, m.internal)
    b.add(0, [row[p, factory[l], t, s] for (p, l, t, s) in md.make_index], index_positions(m.make, md.make_index), 1.0)
    b.add(1, [row[p, f, t, s] for (p, f, _, t, s) in md.ship_index], index_positions(m.ship, md.ship_index), -1.0)
    b.add(2, [row[k] for k in md.internal_index], index_positions(m.internal, md.internal_index), -1.0)
    m.flow = b.build()
