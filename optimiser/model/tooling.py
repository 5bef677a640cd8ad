"""Family 2 — tooling link: production only on tooled lines, with the tightest U."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from .matrix import TermsBuilder, index_positions, positions
from .sets import ModelData


def define_tooling_link(m: pyo.ConcreteModel, md: ModelData) -> None:
    """make[p,l,t,s] ≤ U[p,l,t,s]·tool[p,l]   ∀ (p,l,t,s) ∈ make_index,

    U = min(cap[l,t]/use[p,l], demand of p reachable from l's factory in (t,s)
    + what BOM parents can draw) — the same value as make's upper bound.
    """
    index = md.make_index
    rows = np.arange(len(index))
    tool = positions(m.tool)
    b = TermsBuilder(index, None, 0.0, m.make, m.tool)
    b.add(0, rows, index_positions(m.make, index), 1.0)
    b.add(1, rows, [tool[k[0], k[1]] for k in index], -np.array([md.make_ub[k] for k in index], dtype=np.float64))
    m.tool_link = b.build()
