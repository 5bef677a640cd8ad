"""Family 1 — capacity (and the ramp-up of a built line's first year)."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from .matrix import RowsBuilder, TermsBuilder, index_positions
from .sets import ModelData


def define_capacity(m: pyo.ConcreteModel, md: ModelData) -> None:
    """Σ_p use[p,l]·make[p,l,t,s] ≤ cap[l,t]·active[l,t,s]   ∀ (l,t,s) ∈ active_index."""
    use, cap, index = md.capacity_use, md.capacity, md.active_index
    row = {k: i for i, k in enumerate(index)}
    b = TermsBuilder(index, None, 0.0, m.make, m.running)
    b.add(0, [row[l, t, s] for (_, l, t, s) in md.make_index], index_positions(m.make, md.make_index),
          [use[p, l] for (p, l, _, _) in md.make_index])
    b.add(1, np.arange(len(index)), index_positions(m.running, index), -np.array([cap[l, t] for (l, t, _) in index]))
    m.capacity = b.build()


def define_ramp_up(m: pyo.ConcreteModel, md: ModelData) -> None:
    """Σ_p use·make[p,l,t,s] ≤ cap[l,t]·(Σ_{τ+lead<t} build[l,τ] + ramp[l]·build[l,t−lead])
    ∀ (l,t,s) ∈ active_index with l a candidate whose ramp_up < 1."""
    index = [k for k in md.active_index if k[0] in md.ramp_up]
    if not index:
        return
    use, on_line, cap = md.capacity_use, md.make_on_line, md.capacity
    b = RowsBuilder(m.make, m.build)
    make, build = b.columns
    for k in index:
        l, t, s = k
        lead = md.lead_time[l]
        ps = on_line[k]
        c = cap[l, t]
        cols = [make[p, l, t, s] for p in ps]
        coefs = [use[p, l] for p in ps]
        for tau in md.build_years[l]:
            if tau + lead < t:
                cols.append(build[l, tau])
                coefs.append(-c)
        if t - lead in md.build_years[l]:
            cols.append(build[l, t - lead])
            coefs.append(-(c * md.ramp_up[l]))
        b.add(k, cols, coefs, ub=0.0)
    m.ramp = b.build()
