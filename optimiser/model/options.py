"""Family 5 — option gating and exclusive groups."""

from __future__ import annotations

import pyomo.environ as pyo

from .matrix import RowsBuilder
from .sets import ModelData


def define_option_gating(m: pyo.ConcreteModel, md: ModelData) -> None:
    """active[l,t,s] ≤ take[o(l)]   ∀ (l,t,s) ∈ active_index with requires_option;
    Σ_τ build[l,τ] ≤ take[o(l)] and tool[p,l] ≤ take[o(l)] (valid tightenings: nothing is
    built or tooled for a deal not taken);
    Σ_{o∈g} take[o] ≤ 1   ∀ exclusive groups g.

    A later option o (economics.md §5) is held in (t, s) when Σ_{τ≤t} takeyear[o,τ,s] = 1; its lines are
    copies per scenario (line@s), gated by what is held in their scenario:
    active[l@s,t,s] ≤ Σ_{τ≤t} takeyear[o,τ,s];  Σ_τ build[l@s,τ] ≤ Σ_τ takeyear[o,τ,s];  tool[p,l@s] ≤ Σ_τ takeyear[o,τ,s];
    Σ_τ takeyear[o,τ,s] ≤ 1 and take[o] ≤ Σ_τ takeyear[o,τ,s]   ∀ s (a strategy's take = taken in every scenario);
    exclusive groups per scenario: Σ_{now o∈g} take[o] + Σ_{later o∈g} Σ_τ takeyear[o,τ,s] ≤ 1."""
    req, later = md.requires_option, md.later
    copy = md.line_copy
    b = RowsBuilder(m.running, m.take, m.takeyear)
    running, take, ty = b.columns
    for k in md.active_index:
        l = k[0]
        if l in copy:
            o = req[l]
            held = [ty[o, tau, k[2]] for tau in later[o] if tau <= k[1]]
            b.add(k, [running[k]] + held, [1.0] + [-1.0] * len(held), ub=0.0)
        elif l in req:
            b.add(k, (running[k], take[req[l]]), (1.0, -1.0), ub=0.0)
    m.gate_active = b.build()

    b = RowsBuilder(m.build, m.take, m.takeyear)
    build, take, ty = b.columns
    for l in sorted(md.build_years):
        if l in req:
            bys = md.build_years[l]
            if l in copy:
                o, s = req[l], copy[l][1]
                gate = [ty[o, tau, s] for tau in later[o]]
            else:
                gate = [take[req[l]]]
            b.add(l, [build[l, tau] for tau in bys] + gate, [1.0] * len(bys) + [-1.0] * len(gate), ub=0.0)
    m.gate_build = b.build()

    b = RowsBuilder(m.tool, m.take, m.takeyear)
    tool, take, ty = b.columns
    for k in md.tool_index:
        l = k[1]
        if l in copy:
            o, s = req[l], copy[l][1]
            gate = [ty[o, tau, s] for tau in later[o]]
            b.add(k, [tool[k]] + gate, [1.0] + [-1.0] * len(gate), ub=0.0)
        elif l in req:
            b.add(k, (tool[k], take[req[l]]), (1.0, -1.0), ub=0.0)
    m.gate_tool = b.build()

    groups = md.exclusive_groups
    b = RowsBuilder(m.take, m.takeyear)
    take, ty = b.columns
    for g in sorted(groups):
        now = [o for o in groups[g] if o not in later]
        if len(now) == len(groups[g]):
            b.add(g, [take[o] for o in now], [1.0] * len(now), ub=1.0)
            continue
        for s in md.scenarios:
            cols = [take[o] for o in now] + [ty[o, tau, s] for o in groups[g] if o in later for tau in later[o]]
            b.add((g, s), cols, [1.0] * len(cols), ub=1.0)
    m.exclusive = b.build()

    b = RowsBuilder(m.take, m.takeyear)
    take, ty = b.columns
    for o in sorted(later):
        for s in md.scenarios:
            cols = [ty[o, tau, s] for tau in later[o]]
            b.add((o, s, "once"), cols, [1.0] * len(cols), ub=1.0)
            b.add((o, s, "every"), [take[o]] + cols, [1.0] + [-1.0] * len(cols), ub=0.0)
    m.later_option = b.build()
