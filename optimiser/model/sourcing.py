"""Family 3 — sourcing: how many lines a programme may be tooled on."""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from .matrix import RowsBuilder
from .sets import ModelData


def define_sourcing(m: pyo.ConcreteModel, md: ModelData) -> None:
    """Σ_l tool[p,l] ≤ max_lines[p]   ∀ p with a tool variable;
    Σ_l tool[p,l] ≥ 1   ∀ must_serve p with demand (it must be tooled somewhere)."""
    lines_of: dict[str, list[str]] = defaultdict(list)
    for p, l in md.tool_index:
        lines_of[p].append(l)
    b = RowsBuilder(m.tool)
    (tool,) = b.columns
    for p, ls in lines_of.items():
        if len(ls) > md.max_lines[p]:
            b.add(p, [tool[p, l] for l in ls], [1.0] * len(ls), ub=md.max_lines[p])
    m.sourcing = b.build()
    b = RowsBuilder(m.tool)
    (tool,) = b.columns
    for p in md.must_tool:
        b.add(p, [tool[p, l] for l in lines_of[p]], [1.0] * len(lines_of[p]), lb=1.0)
    m.must_tool = b.build()
