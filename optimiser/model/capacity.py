"""Family 1 — capacity (and the ramp-up of a built line's first year)."""

from __future__ import annotations

import pyomo.environ as pyo

from .sets import ModelData


def define_capacity(m: pyo.ConcreteModel, md: ModelData) -> None:
    """Σ_p use[p,l]·make[p,l,t,s] ≤ cap[l,t]·active[l,t,s]   ∀ (l,t,s) ∈ active_index."""
    use, on_line, cap = md.capacity_use, md.make_on_line, md.capacity

    def rule(_m: pyo.ConcreteModel, l: str, t: int, s: str) -> object:
        return sum(use[p, l] * m.make[p, l, t, s] for p in on_line[l, t, s]) <= cap[l, t] * m.running[l, t, s]

    m.capacity = pyo.Constraint(md.active_index, rule=rule)


def define_ramp_up(m: pyo.ConcreteModel, md: ModelData) -> None:
    """Σ_p use·make[p,l,t,s] ≤ cap[l,t]·(Σ_{τ+lead<t} build[l,τ] + ramp[l]·build[l,t−lead])
    ∀ (l,t,s) ∈ active_index with l a candidate whose ramp_up < 1."""
    index = [k for k in md.active_index if k[0] in md.ramp_up]
    if not index:
        return
    use, on_line, cap = md.capacity_use, md.make_on_line, md.capacity

    def rule(_m: pyo.ConcreteModel, l: str, t: int, s: str) -> object:
        lead = md.lead_time[l]
        ready = sum(m.build[l, tau] for tau in md.build_years[l] if tau + lead < t)
        if t - lead in md.build_years[l]:
            ready = ready + md.ramp_up[l] * m.build[l, t - lead]
        return sum(use[p, l] * m.make[p, l, t, s] for p in on_line[l, t, s]) <= cap[l, t] * ready

    m.ramp = pyo.Constraint(index, rule=rule)
