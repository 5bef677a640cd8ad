"""Objective — maximise expected NPV (optionally + λ·CVaR of NPV)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo

from . import coefficients
from .matrix import LinearObjective
from .sets import ModelData

#: ``(Var component, positions in it, coefficients)``: a run of objective terms
Segment = tuple[Any, np.ndarray, np.ndarray]


def npv_segments(m: pyo.ConcreteModel, md: ModelData) -> tuple[list[Segment], dict[str, list[Segment]]]:
    """First-stage terms (shared) and second-stage terms per scenario of the objective (not
    probability-weighted), with the coefficients of :mod:`.coefficients`:

    NPV_s = Σ_t δ_t [ Σ (price·pf_s·(1−tariff) − freight)·ship − Σ (unit_cost + unit_fee)·make
            − Σ external_price·extbuy − Σ unmet_penalty·unmet − Σ fixed_cost·active ] − share_penalty·short[s]
            − Σ_t δ_t Σ_o annual·take − Σ δ_τ build_cost·build − Σ δ_first_year(p) tooling·tool − δ_first Σ upfront·take

    (+ idle cost, tax, terminal value and equity shares when the instance sets them; the constant —
    idle cost of existing lines — is :func:`objective_constant`). Terms with a zero coefficient are
    left out. Within a scenario the terms come in the order ship, make, extbuy, unmet, active, short,
    each in its index order.
    """
    code = {s: i for i, s in enumerate(md.scenarios)}
    s2: dict[str, list[Segment]] = {s: [] for s in md.scenarios}
    for fam in coefficients.second_stage(md):
        if not fam.index:
            continue
        var = getattr(m, fam.var)
        pos = _positions(var, fam.index)
        scen = np.array([code[k[-1]] for k in fam.index], dtype=np.int64)
        mask = fam.total != 0
        for s, i in code.items():
            sel = np.flatnonzero(mask & (scen == i))
            s2[s].append((var, pos[sel], fam.total[sel]))
    if md.share_penalty:
        short = list(m.short.keys())
        for s in md.scenarios:
            if s in m.short:
                s2[s].append((m.short, np.array([short.index(s)]),
                              np.array([coefficients.share_penalty(md)], dtype=np.float64)))

    fs = coefficients.first_stage(md)
    s1: list[Segment] = []
    copy = md.line_copy
    for name, index in (("take", md.options), ("build", md.build_index), ("tool", md.tool_index)):
        tot = fs.total[name]
        at = 0 if name == "build" else 1
        own = {None: [i for i, k in enumerate(index) if tot[k] and (name == "take" or k[at] not in copy)]}
        if copy and name != "take":  # a copy's build and tooling belong to its scenario
            for i, k in enumerate(index):
                if tot[k] and k[at] in copy:
                    own.setdefault(copy[k[at]][1], []).append(i)
        var = getattr(m, name)
        for s, keep in own.items():
            if keep:
                seg = (var, _positions(var, index)[keep], np.array([tot[index[i]] for i in keep], dtype=np.float64))
                (s1 if s is None else s2[s]).append(seg)
    if md.takeyear_index:
        _, tot = coefficients.takeyear(md)
        pos = _positions(m.takeyear, md.takeyear_index)
        for s in md.scenarios:
            keep = [i for i, k in enumerate(md.takeyear_index) if k[2] == s and tot[k]]
            if keep:
                s2[s].append((m.takeyear, pos[keep], np.array([tot[md.takeyear_index[i]] for i in keep])))
    return s1, s2


def objective_constant(md: ModelData) -> float:
    """The objective's constant: idle cost of existing lines that need no deal (every scenario alike)."""
    return coefficients.first_stage(md).constant_total


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
        m.npv = LinearObjective(segments, sense=pyo.maximize, constant=objective_constant(md))
        return
    s1, s2 = scenario_terms(m, md)
    expected = list(s1)
    for s in md.scenarios:
        expected += [pi[s] * term for term in s2.get(s, [])]
    alpha, weight = md.risk.alpha, md.risk.weight
    m.cvar_eta = pyo.Var(domain=pyo.Reals)
    m.cvar_excess = pyo.Var(md.scenarios, domain=pyo.NonNegativeReals)
    const = objective_constant(md)
    first = pyo.quicksum(s1) + const
    m.cvar_tail = pyo.Constraint(
        md.scenarios, rule=lambda _m, s: m.cvar_excess[s] >= m.cvar_eta - first - pyo.quicksum(s2.get(s, [])))
    cvar = m.cvar_eta - (1.0 / (1.0 - alpha)) * pyo.quicksum(pi[s] * m.cvar_excess[s] for s in md.scenarios)
    m.npv = pyo.Objective(expr=pyo.quicksum(expected) + const + weight * cvar, sense=pyo.maximize)


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
