"""Family 10 — market-share target (optional; soft with a penalty, or hard)."""

from __future__ import annotations

import pyomo.environ as pyo

from ..errors import InfeasibleError
from .sets import ModelData


def define_share_target(m: pyo.ConcreteModel, md: ModelData) -> None:
    """Σ_{p counts} Σ_l make[p,l,T*,s] + short[s] ≥ share_target·market_size[T*]   ∀ s
    (``short`` exists only when the target is soft, i.e. share_penalty is set)."""
    if md.share_rhs is None or md.share_rhs <= 0:
        return
    t = md.share_year
    counted = md.share_programmes

    def rule(_m: pyo.ConcreteModel, s: str) -> object:
        made = sum(m.make[p, l, t, s] for p in counted for l in md.make_lines.get((p, t, s), ()))
        if s in m.short:
            made = made + m.short[s]
        if isinstance(made, (int, float)):
            raise InfeasibleError(
                f"the hard share target of {md.share_rhs:,.0f} units in {t} cannot be met in scenario {s}: "
                "no programme that counts for share can be made that year (set share_penalty to make it soft)")
        return made >= md.share_rhs

    m.share = pyo.Constraint(md.scenarios, rule=rule)
