"""Objective — maximise expected NPV (optionally + λ·CVaR of NPV)."""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from .sets import ModelData


def scenario_terms(m: pyo.ConcreteModel, md: ModelData) -> tuple[list, dict[str, list]]:
    """First-stage terms (shared) and second-stage terms per scenario of NPV (not probability-weighted).

    NPV_s = Σ_t δ_t [ Σ (price·pf_s·(1−tariff) − freight)·ship − Σ (unit_cost + unit_fee)·make
            − Σ external_price·extbuy − Σ unmet_penalty·unmet − Σ fixed_cost·active ] − share_penalty·short[s]
            − Σ_t δ_t Σ_o annual·take − Σ δ_τ build_cost·build − Σ δ_first_year(p) tooling·tool − δ_first Σ upfront·take
    """
    delta = md.delta
    first = md.first_year
    s2: dict[str, list] = defaultdict(list)
    for k in md.ship_index:
        if md.ship_value[k]:
            s2[k[4]].append(delta[k[3]] * md.ship_value[k] * m.ship[k])
    for k in md.make_index:
        c = md.make_cost[k[0], k[1]]
        if c:
            s2[k[3]].append(-delta[k[2]] * c * m.make[k])
    for k in md.extbuy_index:
        s2[k[2]].append(-delta[k[1]] * md.external_price[k[0]] * m.extbuy[k])
    for k in md.demand_index:
        pen = md.unmet_penalty[k[0]]
        if pen:
            s2[k[3]].append(-delta[k[2]] * pen * m.unmet[k])
    for k in md.active_index:
        fc = md.fixed_cost[k[0]]
        if fc:
            s2[k[2]].append(-delta[k[1]] * fc * m.running[k])
    if md.share_penalty:
        for s in m.short:
            s2[s].append(-md.share_penalty * m.short[s])
    annuity = sum(delta.values())
    s1 = [-(annuity * md.annual_cost[o] + delta[first] * md.upfront_cost[o]) * m.take[o] for o in md.options
          if md.annual_cost[o] or md.upfront_cost[o]]
    s1 += [-delta[tau] * md.build_cost[l] * m.build[l, tau] for (l, tau) in md.build_index if md.build_cost[l]]
    s1 += [-_tool_delta(md, p) * md.tooling_cost[p, l] * m.tool[p, l] for (p, l) in md.tool_index if md.tooling_cost[p, l]]
    return s1, s2


def define_objective(m: pyo.ConcreteModel, md: ModelData) -> None:
    """max Σ_s π_s NPV_s  (+ λ·[η − 1/(1−α)·Σ_s π_s u_s] with u_s ≥ η − NPV_s, u_s ≥ 0 when a CVaR
    term is asked for: Rockafellar–Uryasev for the lower tail of NPV)."""
    pi = md.probability
    s1, s2 = scenario_terms(m, md)
    expected = list(s1)
    for s in md.scenarios:
        expected += [pi[s] * term for term in s2.get(s, [])]
    if md.risk is None:
        m.npv = pyo.Objective(expr=pyo.quicksum(expected), sense=pyo.maximize)
        return
    alpha, weight = md.risk.alpha, md.risk.weight
    m.cvar_eta = pyo.Var(domain=pyo.Reals)
    m.cvar_excess = pyo.Var(md.scenarios, domain=pyo.NonNegativeReals)
    first = pyo.quicksum(s1)
    m.cvar_tail = pyo.Constraint(
        md.scenarios, rule=lambda _m, s: m.cvar_excess[s] >= m.cvar_eta - first - pyo.quicksum(s2.get(s, [])))
    cvar = m.cvar_eta - (1.0 / (1.0 - alpha)) * pyo.quicksum(pi[s] * m.cvar_excess[s] for s in md.scenarios)
    m.npv = pyo.Objective(expr=pyo.quicksum(expected) + weight * cvar, sense=pyo.maximize)


def _tool_delta(md: ModelData, p: str) -> float:
    """Tooling is paid at δ of the programme's first year (clipped to the horizon)."""
    year = min(max(md.tooling_year[p], md.first_year), md.years[-1])
    return md.delta[year]
