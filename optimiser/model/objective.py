"""Objective — maximise expected NPV (optionally + λ·CVaR of NPV)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo

from .matrix import LinearObjective
from .sets import ModelData

#: ``(Var component, positions in it, coefficients)``: a run of objective terms
Segment = tuple[Any, np.ndarray, np.ndarray]


def npv_segments(m: pyo.ConcreteModel, md: ModelData) -> tuple[list[Segment], dict[str, list[Segment]]]:
    """First-stage terms (shared) and second-stage terms per scenario of NPV (not probability-weighted):

    NPV_s = Σ_t δ_t [ Σ (price·pf_s·(1−tariff) − freight)·ship − Σ (unit_cost + unit_fee)·make
            − Σ external_price·extbuy − Σ unmet_penalty·unmet − Σ fixed_cost·active ] − share_penalty·short[s]
            − Σ_t δ_t Σ_o annual·take − Σ δ_τ build_cost·build − Σ δ_first_year(p) tooling·tool − δ_first Σ upfront·take

    Terms with a zero coefficient are left out. Within a scenario the terms come in the order
    ship, make, extbuy, unmet, active, short, each in its index order.
    """
    delta = md.delta
    first = md.first_year
    code = {s: i for i, s in enumerate(md.scenarios)}
    s2: dict[str, list[Segment]] = {s: [] for s in md.scenarios}

    def second_stage(var: Any, index: tuple, t_at: int, coef: list[float], keep: list[bool] | None = None,
                     negate: bool = True) -> None:
        if not index:
            return
        pos = _positions(var, index)
        d = np.array([delta[k[t_at]] for k in index], dtype=np.float64)
        c = (-d if negate else d) * np.array(coef, dtype=np.float64)
        scen = np.array([code[k[-1]] for k in index], dtype=np.int64)
        mask = np.ones(len(index), dtype=bool) if keep is None else np.array(keep, dtype=bool)
        for s, i in code.items():
            sel = np.flatnonzero(mask & (scen == i))
            s2[s].append((var, pos[sel], c[sel]))

    value = md.ship_value
    v = [value[k] for k in md.ship_index]
    second_stage(m.ship, md.ship_index, 3, v, [x != 0 for x in v], negate=False)
    cost = md.make_cost
    c = [cost[k[0], k[1]] for k in md.make_index]
    second_stage(m.make, md.make_index, 2, c, [x != 0 for x in c])
    price = [md.external_price[k[0]] for k in md.extbuy_index]
    second_stage(m.extbuy, md.extbuy_index, 1, price, [x != 0 for x in price])
    pen = [md.unmet_penalty[k[0]] for k in md.demand_index]
    second_stage(m.unmet, md.demand_index, 2, pen, [x != 0 for x in pen])
    fc = [md.fixed_cost[k[0]] for k in md.active_index]
    second_stage(m.running, md.active_index, 1, fc, [x != 0 for x in fc])
    if md.share_penalty:
        short = list(m.short.keys())
        for s in md.scenarios:
            if s in m.short:
                s2[s].append((m.short, np.array([short.index(s)]), np.array([-md.share_penalty], dtype=np.float64)))

    annuity = sum(delta.values())
    s1: list[Segment] = []
    opts = [o for o in md.options if md.annual_cost[o] or md.upfront_cost[o]]
    if opts:
        pos = _positions(m.take, md.options)
        at = {o: i for i, o in enumerate(md.options)}
        s1.append((m.take, pos[[at[o] for o in opts]],
                   np.array([-(annuity * md.annual_cost[o] + delta[first] * md.upfront_cost[o]) for o in opts])))
    keep = [i for i, (l, _) in enumerate(md.build_index) if md.build_cost[l]]
    if keep:
        s1.append((m.build, _positions(m.build, md.build_index)[keep],
                   np.array([-delta[md.build_index[i][1]] * md.build_cost[md.build_index[i][0]] for i in keep])))
    keep = [i for i, k in enumerate(md.tool_index) if md.tooling_cost[k]]
    if keep:
        s1.append((m.tool, _positions(m.tool, md.tool_index)[keep],
                   np.array([-_tool_delta(md, md.tool_index[i][0]) * md.tooling_cost[md.tool_index[i]] for i in keep])))
    return s1, s2


def scenario_terms(m: pyo.ConcreteModel, md: ModelData) -> tuple[list, dict[str, list]]:
    """:func:`npv_segments` as lists of Pyomo terms ``coefficient · variable``."""
    s1, s2 = npv_segments(m, md)
    return _terms(s1), {s: _terms(segs) for s, segs in s2.items() if any(len(p) for _, p, _ in segs)}


def define_objective(m: pyo.ConcreteModel, md: ModelData) -> None:
    """max Σ_s π_s NPV_s  (+ λ·[η − 1/(1−α)·Σ_s π_s u_s] with u_s ≥ η − NPV_s, u_s ≥ 0 when a CVaR
    term is asked for: Rockafellar–Uryasev for the lower tail of NPV)."""
    pi = md.probability
    if md.risk is None:
        s1, s2 = npv_segments(m, md)
        segments = list(s1)
        for s in md.scenarios:
            if pi[s]:  # (a zero-probability scenario adds nothing)
                segments += [(var, pos, pi[s] * coef) for var, pos, coef in s2[s]]
        m.npv = LinearObjective(segments, sense=pyo.maximize)
        return
    s1, s2 = scenario_terms(m, md)
    expected = list(s1)
    for s in md.scenarios:
        expected += [pi[s] * term for term in s2.get(s, [])]
    alpha, weight = md.risk.alpha, md.risk.weight
    m.cvar_eta = pyo.Var(domain=pyo.Reals)
    m.cvar_excess = pyo.Var(md.scenarios, domain=pyo.NonNegativeReals)
    first = pyo.quicksum(s1)
    m.cvar_tail = pyo.Constraint(
        md.scenarios, rule=lambda _m, s: m.cvar_excess[s] >= m.cvar_eta - first - pyo.quicksum(s2.get(s, [])))
    cvar = m.cvar_eta - (1.0 / (1.0 - alpha)) * pyo.quicksum(pi[s] * m.cvar_excess[s] for s in md.scenarios)
    m.npv = pyo.Objective(expr=pyo.quicksum(expected) + weight * cvar, sense=pyo.maximize)


def _positions(var: Any, index: tuple) -> np.ndarray:
    """Position in ``var`` of every key of ``index`` (``var`` is built over ``index``: 0, 1, 2, …)."""
    data = var._data
    if len(data) == len(index) and list(data) == list(index):
        return np.arange(len(index), dtype=np.int64)
    pos = {k: i for i, k in enumerate(var.keys())}
    return np.array([pos[k] for k in index], dtype=np.int64)


def _terms(segments: list[Segment]) -> list:
    out = []
    for var, pos, coef in segments:
        values = list(var.values())
        out += [c * values[j] for c, j in zip(coef.tolist(), pos.tolist())]
    return out


def _tool_delta(md: ModelData, p: str) -> float:
    """Tooling is paid at δ of the programme's first year (clipped to the horizon)."""
    year = min(max(md.tooling_year[p], md.first_year), md.years[-1])
    return md.delta[year]
