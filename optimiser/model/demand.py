"""Family 7 — demand: served plus unmet equals demand; committed volumes are hard.

``unmet ≤ d − min(min_volume, d)`` and ``unmet = 0`` for must_serve are the
bounds of ``unmet`` (see :mod:`.variables`).
"""

from __future__ import annotations

import pyomo.environ as pyo

from .sets import ModelData


def define_demand(m: pyo.ConcreteModel, md: ModelData) -> None:
    """Σ_f ship[p,f,m,t,s] + unmet[p,m,t,s] = d[p,m,t,s]   ∀ (p,m,t,s) with d > 0."""

    def rule(_m: pyo.ConcreteModel, p: str, mk: str, t: int, s: str) -> object:
        served = sum(m.ship[p, f, mk, t, s] for f in md.demand_sources.get((p, mk, t, s), ()))
        return served + m.unmet[p, mk, t, s] == md.demand[p, mk, t, s]

    m.demand = pyo.Constraint(md.demand_index, rule=rule)
