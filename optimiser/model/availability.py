"""Family 4 — availability: candidate lines run only once built and ready.

Existing lines are available in [available_from, retire_after]: their
``active`` variables exist only in those years (see :mod:`.sets`).
"""

from __future__ import annotations

import pyomo.environ as pyo

from .matrix import RowsBuilder
from .sets import ModelData


def define_availability(m: pyo.ConcreteModel, md: ModelData) -> None:
    """Σ_τ build[l,τ] ≤ 1   ∀ candidate l;
    active[l,t,s] ≤ Σ_{τ: τ+lead ≤ t} build[l,τ]   ∀ (l,t,s) ∈ active_index, l candidate;
    tool[p,l] ≤ Σ_τ build[l,τ]   ∀ (p,l) ∈ tool_index, l candidate (no tooling on a line never built)."""
    if not md.build_years:
        return
    years = md.build_years
    b = RowsBuilder(m.build)
    (build,) = b.columns
    for l in sorted(years):
        b.add(l, [build[l, tau] for tau in years[l]], [1.0] * len(years[l]), ub=1.0)
    m.build_once = b.build()

    b = RowsBuilder(m.running, m.build)
    running, build = b.columns
    for k in md.active_index:
        l, t, _ = k
        if l not in years:
            continue
        lead = md.lead_time[l]
        ready = [build[l, tau] for tau in years[l] if tau + lead <= t]
        b.add(k, [running[k]] + ready, [1.0] + [-1.0] * len(ready), ub=0.0)
    m.availability = b.build()

    b = RowsBuilder(m.tool, m.build)
    tool, build = b.columns
    for k in md.tool_index:
        l = k[1]
        if l not in years:
            continue
        b.add(k, [tool[k]] + [build[l, tau] for tau in years[l]], [1.0] + [-1.0] * len(years[l]), ub=0.0)
    m.tool_built = b.build()
