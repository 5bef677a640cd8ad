"""Family 5 — option gating and exclusive groups."""

from __future__ import annotations

import pyomo.environ as pyo

from .matrix import RowsBuilder
from .sets import ModelData


def define_option_gating(m: pyo.ConcreteModel, md: ModelData) -> None:
    """active[l,t,s] ≤ take[o(l)]   ∀ (l,t,s) ∈ active_index with requires_option;
    Σ_τ build[l,τ] ≤ take[o(l)] and tool[p,l] ≤ take[o(l)] (valid tightenings: nothing is
    built or tooled for a deal not taken);
    Σ_{o∈g} take[o] ≤ 1   ∀ exclusive groups g."""
    req = md.requires_option
    b = RowsBuilder(m.running, m.take)
    running, take = b.columns
    for k in md.active_index:
        if k[0] in req:
            b.add(k, (running[k], take[req[k[0]]]), (1.0, -1.0), ub=0.0)
    m.gate_active = b.build()

    b = RowsBuilder(m.build, m.take)
    build, take = b.columns
    for l in sorted(md.build_years):
        if l in req:
            bys = md.build_years[l]
            b.add(l, [build[l, tau] for tau in bys] + [take[req[l]]], [1.0] * len(bys) + [-1.0], ub=0.0)
    m.gate_build = b.build()

    b = RowsBuilder(m.tool, m.take)
    tool, take = b.columns
    for k in md.tool_index:
        if k[1] in req:
            b.add(k, (tool[k], take[req[k[1]]]), (1.0, -1.0), ub=0.0)
    m.gate_tool = b.build()

    groups = md.exclusive_groups
    b = RowsBuilder(m.take)
    (take,) = b.columns
    for g in sorted(groups):
        b.add(g, [take[o] for o in groups[g]], [1.0] * len(groups[g]), ub=1.0)
    m.exclusive = b.build()
