"""Objective — maximise expected NPV (the model minimises −NPV; see :func:`npv_terms`)."""

from __future__ import annotations

import pyomo.environ as pyo

from .sets import ModelData


def define_objective(m: pyo.ConcreteModel, md: ModelData) -> None:
    """max NPV = Σ_s π_s Σ_t δ_t [ Σ (price·pf_s·(1−tariff) − freight)·ship − Σ (unit_cost + unit_fee)·make
    − Σ external_price·extbuy − Σ unmet_penalty·unmet − Σ fixed_cost·active ] − Σ_t δ_t Σ_o annual·take
    − Σ δ_τ build_cost·build − Σ δ_first_year(p) tooling·tool − δ_first Σ upfront·take − share_penalty·Σ_s π_s short[s]."""
    pi, delta = md.probability, md.delta
    first = md.first_year
    terms = []
    terms += [pi[k[4]] * delta[k[3]] * md.ship_value[k] * m.ship[k] for k in md.ship_index if md.ship_value[k] != 0]
    terms += [-pi[k[3]] * delta[k[2]] * md.make_cost[k[0], k[1]] * m.make[k] for k in md.make_index if md.make_cost[k[0], k[1]] != 0]
    terms += [-pi[k[2]] * delta[k[1]] * md.external_price[k[0]] * m.extbuy[k] for k in md.extbuy_index]
    terms += [-pi[k[3]] * delta[k[2]] * md.unmet_penalty[k[0]] * m.unmet[k] for k in md.demand_index if md.unmet_penalty[k[0]] != 0]
    terms += [-pi[k[2]] * delta[k[1]] * md.fixed_cost[k[0]] * m.running[k] for k in md.active_index if md.fixed_cost[k[0]] != 0]
    annuity = sum(delta.values())
    terms += [-(annuity * md.annual_cost[o] + delta[first] * md.upfront_cost[o]) * m.take[o] for o in md.options
              if md.annual_cost[o] or md.upfront_cost[o]]
    terms += [-delta[tau] * md.build_cost[l] * m.build[l, tau] for (l, tau) in md.build_index if md.build_cost[l]]
    terms += [-_tool_delta(md, p) * md.tooling_cost[p, l] * m.tool[p, l] for (p, l) in md.tool_index if md.tooling_cost[p, l]]
    if md.share_penalty:
        terms += [-pi[s] * md.share_penalty * m.short[s] for s in m.short]
    m.npv = pyo.Objective(expr=pyo.quicksum(terms), sense=pyo.maximize)


def _tool_delta(md: ModelData, p: str) -> float:
    """Tooling is paid at δ of the programme's first year (clipped to the horizon)."""
    year = min(max(md.tooling_year[p], md.first_year), md.years[-1])
    return md.delta[year]
