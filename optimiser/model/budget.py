"""Family 9 — capex budget by year (optional)."""

from __future__ import annotations

import pyomo.environ as pyo

from .sets import ModelData


def define_budget(m: pyo.ConcreteModel, md: ModelData) -> None:
    """Σ_l build_cost[l]·build[l,t] + Σ_{(p,l): tooling year t} tooling[p,l]·tool[p,l]
    + [t = first_year]·Σ_o upfront[o]·take[o] ≤ capex_limit[t]   ∀ t in the budget table
    (a later option's upfront is in takeyear[o,t,s]). With per-scenario capex (later options, the
    copies of their lines) the row holds per scenario s, over the shared capex and s's own."""
    if not md.budget:
        return
    copy = md.line_copy
    per_s = bool(md.later)

    def tool_year(p: str, l: str) -> int:
        return md.tool_year.get((p, l), md.tooling_year[p])

    def capex(t: int, s: str | None) -> object:
        def mine(l: str) -> bool:
            return l not in copy or (s is not None and copy[l][1] == s)
        e = sum(md.build_cost[l] * m.build[l, tau] for (l, tau) in md.build_index if tau == t and mine(l))
        e = e + sum(md.tooling_cost[p, l] * m.tool[p, l] for (p, l) in md.tool_index if tool_year(p, l) == t and mine(l))
        if t == md.first_year:
            e = e + sum(md.upfront_cost[o] * m.take[o] for o in md.options if o not in md.later)
        if s is not None:
            e = e + sum(md.upfront_cost[o] * m.takeyear[o, t, s] for o in md.later if t in md.later[o])
        return e

    def rule(_m: pyo.ConcreteModel, *key: object) -> object:
        t, s = (key[0], key[1]) if per_s else (key[0], None)
        e = capex(t, s)
        if isinstance(e, (int, float)):  # nothing to spend in year t: limit ≥ 0 always holds
            return pyo.Constraint.Skip
        return e <= md.budget[t]

    index = [(t, s) for t in sorted(md.budget) for s in md.scenarios] if per_s else sorted(md.budget)
    m.budget = pyo.Constraint(index, rule=rule)
