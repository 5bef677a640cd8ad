"""Family 8 — bill of materials: components cover what parents are made of."""

from __future__ import annotations

import pyomo.environ as pyo

from .matrix import RowsBuilder
from .sets import ModelData


def define_bom(m: pyo.ConcreteModel, md: ModelData) -> None:
    """Σ_f internal[c,f,t,s] + extbuy[c,t,s] ≥ Σ_parent qty[parent,c]·Σ_l make[parent,l,t,s]
    ∀ (c,t,s) ∈ bom_index (components whose parents can be made in t)."""
    if not md.bom_index:
        return
    ext = set(md.extbuy_index)
    b = RowsBuilder(m.make, m.internal, m.extbuy)
    make, internal, extbuy = b.columns
    for k in md.bom_index:
        c, t, s = k
        cols: list[int] = []
        coefs: list[float] = []
        for par, q in md.bom_parents[c]:
            for l in md.make_lines.get((par, t, s), ()):
                cols.append(make[par, l, t, s])
                coefs.append(q)
        supply = [internal[c, f, t, s] for f in md.bom_internal[k]]
        if k in ext:
            supply.append(extbuy[k])
        if cols:  # need − supply ≤ 0
            b.add(k, cols + supply, coefs + [-1.0] * len(supply), ub=0.0)
        else:  # nothing needed: supply ≥ 0
            b.add(k, supply, [1.0] * len(supply), lb=0.0)
    m.bom = b.build()
