"""Family 5 — option gating and exclusive groups."""

from __future__ import annotations

import pyomo.environ as pyo

from .sets import ModelData


def define_option_gating(m: pyo.ConcreteModel, md: ModelData) -> None:
    """active[l,t,s] ≤ take[o(l)]   ∀ (l,t,s) ∈ active_index with requires_option;
    Σ_τ build[l,τ] ≤ take[o(l)] and tool[p,l] ≤ take[o(l)] (valid tightenings: nothing is
    built or tooled for a deal not taken);
    Σ_{o∈g} take[o] ≤ 1   ∀ exclusive groups g."""
    req = md.requires_option
    m.gate_active = pyo.Constraint([k for k in md.active_index if k[0] in req],
                                   rule=lambda _m, l, t, s: m.running[l, t, s] <= m.take[req[l]])
    m.gate_build = pyo.Constraint([l for l in sorted(md.build_years) if l in req],
                                  rule=lambda _m, l: sum(m.build[l, tau] for tau in md.build_years[l]) <= m.take[req[l]])
    m.gate_tool = pyo.Constraint([k for k in md.tool_index if k[1] in req],
                                 rule=lambda _m, p, l: m.tool[p, l] <= m.take[req[l]])
    groups = md.exclusive_groups
    m.exclusive = pyo.Constraint(sorted(groups), rule=lambda _m, g: sum(m.take[o] for o in groups[g]) <= 1)
