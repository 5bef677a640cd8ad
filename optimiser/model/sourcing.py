"""Family 3 — sourcing: how many lines a programme may be tooled on."""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from .matrix import RowsBuilder
from .sets import ModelData


def define_sourcing(m: pyo.ConcreteModel, md: ModelData) -> None:
    """Σ_l tool[p,l] ≤ max_lines[p]   ∀ p with a tool variable;
    Σ_l tool[p,l] ≥ 1   ∀ must_serve p with demand (it must be tooled somewhere).

    When some of p's lines are per-scenario copies (gated by a later option), both hold per scenario s
    over p's shared lines and its copies of s (must_serve: in the scenarios where p has demand)."""
    lines_of: dict[str, list[str]] = defaultdict(list)
    for p, l in md.tool_index:
        lines_of[p].append(l)
    copy = md.line_copy
    per_s = {p for p, ls in lines_of.items() if any(l in copy for l in ls)}

    def groups(p: str) -> list[tuple[object, list[str]]]:
        ls = lines_of[p]
        if p not in per_s:
            return [(p, ls)]
        return [((p, s), [l for l in ls if l not in copy or copy[l][1] == s]) for s in md.scenarios]

    b = RowsBuilder(m.tool)
    (tool,) = b.columns
    for p in lines_of:
        for key, ls in groups(p):
            if len(ls) > md.max_lines[p]:
                b.add(key, [tool[p, l] for l in ls], [1.0] * len(ls), ub=md.max_lines[p])
    m.sourcing = b.build()

    demanded = {(k[0], k[-1]) for k in md.demand_index}
    b = RowsBuilder(m.tool)
    (tool,) = b.columns
    for p in md.must_tool:
        for key, ls in groups(p):
            if p in per_s and (p, key[1]) not in demanded:
                continue
            b.add(key, [tool[p, l] for l in ls], [1.0] * len(ls), lb=1.0)
    m.must_tool = b.build()
