"""Family 9 — capex budget by year (optional)."""

from __future__ import annotations

import pyomo.environ as pyo

from .sets import ModelData


def define_budget(m: pyo.ConcreteModel, md: ModelData) -> None:
    """Σ_l build_cost[l]·build[l,t] + Σ_{(p,l): first_year(p)=t} tooling[p,l]·tool[p,l]
    + [t = first_year]·Σ_o upfront[o]·take[o] ≤ capex_limit[t]   ∀ t in the budget table."""
    if not md.budget:
        return

    def rule(_m: pyo.ConcreteModel, t: int) -> object:
        capex = sum(md.build_cost[l] * m.build[l, tau] for (l, tau) in md.build_index if tau == t)
        capex = capex + sum(md.tooling_cost[p, l] * m.tool[p, l] for (p, l) in md.tool_index if md.tooling_year[p] == t)
        if t == md.first_year:
            capex = capex + sum(md.upfront_cost[o] * m.take[o] for o in md.options)
        if isinstance(capex, (int, float)):  # nothing to spend in year t: limit ≥ 0 always holds
            return pyo.Constraint.Skip
        return capex <= md.budget[t]

    m.budget = pyo.Constraint(sorted(md.budget), rule=rule)
