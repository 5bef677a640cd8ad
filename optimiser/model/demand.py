"""Family 7 — demand: served plus unmet equals demand; committed volumes are hard.

``unmet ≤ d − min(min_volume, d)`` and ``unmet = 0`` for must_serve are the
bounds of ``unmet`` (see :mod:`.variables`).
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from .matrix import TermsBuilder, index_positions
from .sets import ModelData


def define_demand(m: pyo.ConcreteModel, md: ModelData) -> None:
    """Σ_f ship[p,f,m,t,s] + unmet[p,m,t,s] = d[p,m,t,s]   ∀ (p,m,t,s) with d > 0."""
    index = md.demand_index
    row = {k: i for i, k in enumerate(index)}
    d = np.array([md.demand[k] for k in index], dtype=np.float64)
    b = TermsBuilder(index, d, d, m.ship, m.unmet)
    b.add(0, [row[p, mk, t, s] for (p, _, mk, t, s) in md.ship_index], index_positions(m.ship, md.ship_index), 1.0)
    b.add(1, np.arange(len(index)), index_positions(m.unmet, index), 1.0)
    m.demand = b.build()
