"""Family 3 — sourcing: how many lines a programme may be tooled on."""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from .sets import ModelData


def define_sourcing(m: pyo.ConcreteModel, md: ModelData) -> None:
    """Σ_l tool[p,l] ≤ max_lines[p]   ∀ p with a tool variable;
    Σ_l tool[p,l] ≥ 1   ∀ must_serve p with demand (it must be tooled somewhere)."""
    lines_of: dict[str, list[str]] = defaultdict(list)
    for p, l in md.tool_index:
        lines_of[p].append(l)
    capped = [p for p, ls in lines_of.items() if len(ls) > md.max_lines[p]]
    m.sourcing = pyo.Constraint(capped, rule=lambda _m, p: sum(m.tool[p, l] for l in lines_of[p]) <= md.max_lines[p])
    m.must_tool = pyo.Constraint(list(md.must_tool), rule=lambda _m, p: sum(m.tool[p, l] for l in lines_of[p]) >= 1)
