"""Family 4 — availability: candidate lines run only once built and ready.

Existing lines are available in [available_from, retire_after]: their
``active`` variables exist only in those years (see :mod:`.sets`).
"""

from __future__ import annotations

import pyomo.environ as pyo

from .sets import ModelData


def define_availability(m: pyo.ConcreteModel, md: ModelData) -> None:
    """Σ_τ build[l,τ] ≤ 1   ∀ candidate l;
    active[l,t,s] ≤ Σ_{τ: τ+lead ≤ t} build[l,τ]   ∀ (l,t,s) ∈ active_index, l candidate;
    tool[p,l] ≤ Σ_τ build[l,τ]   ∀ (p,l) ∈ tool_index, l candidate (no tooling on a line never built)."""
    if not md.build_years:
        return
    years = md.build_years
    m.build_once = pyo.Constraint(sorted(years), rule=lambda _m, l: sum(m.build[l, tau] for tau in years[l]) <= 1)

    def avail(_m: pyo.ConcreteModel, l: str, t: int, s: str) -> object:
        lead = md.lead_time[l]
        return m.running[l, t, s] <= sum(m.build[l, tau] for tau in years[l] if tau + lead <= t)

    m.availability = pyo.Constraint([k for k in md.active_index if k[0] in years], rule=avail)
    m.tool_built = pyo.Constraint([k for k in md.tool_index if k[1] in years],
                                  rule=lambda _m, p, l: m.tool[p, l] <= sum(m.build[l, tau] for tau in years[l]))
