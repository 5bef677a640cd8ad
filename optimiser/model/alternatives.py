"""Modelling to generate alternatives: the objective swapped for the distance to earlier plans.

Used only by :mod:`optimiser.alternatives`. Given earlier first-stage plans x̂¹…x̂ᴷ (binary
vectors over the free ``take[o]``, ``build[l,τ]`` and ``tool[p,l]`` columns) and a floor on the
objective, :func:`define_alternative_search` turns a built model (in place) into

    maximise   z + ε·Σ_k D_k(x)
    subject to every row of the model,
               NPV(x) ≥ floor                                   (npv_floor)
               z ≤ D_k(x)                     ∀ k = 1…K          (distance_to)
    with       D_k(x) = Σ_{i: x̂ᵏ_i = 0} x_i + Σ_{i: x̂ᵏ_i = 1} (1 − x_i)   (Hamming distance)

so the plan found is as far as possible from the nearest earlier plan (z; ε < 1/(K·n) only
breaks ties towards being far from all of them) while its objective stays above the floor.
``z = 0`` at the optimum means every plan within the floor is one of the earlier ones.
"""

from __future__ import annotations

from typing import Any, Sequence

import pyomo.environ as pyo

from .matrix import LinearObjective, LinearRows
from .sets import FirstStage, ModelData


def first_stage_binaries(m: pyo.ConcreteModel) -> list[tuple[str, tuple, Any]]:
    """(var name, index tuple, VarData) of every first-stage binary the model leaves free
    (a strategy's take/forbid fixes a ``take`` column through its bounds: left out)."""
    out = []
    for name in ("take", "build", "tool"):
        var = getattr(m, name)
        for idx, v in var.items():
            if v.lb is not None and v.ub is not None and v.lb == v.ub:
                continue
            out.append((name, idx if isinstance(idx, tuple) else (idx,), v))
    return out


def _value(plan: FirstStage, name: str, idx: tuple) -> float:
    if name == "take":
        return plan.take.get(idx[0], 0.0)
    return (plan.build if name == "build" else plan.tool).get(idx, 0.0)


def define_alternative_search(m: pyo.ConcreteModel, md: ModelData, plans: Sequence[FirstStage],
                              floor: float) -> None:
    """Replace the objective of built model ``m`` by the distance to ``plans`` and keep NPV ≥
    ``floor`` (see the module docstring for the rows)."""
    obj = m.npv
    if isinstance(obj, LinearObjective) and obj.from_arrays:
        m.npv_floor = LinearRows([0], [0, len(obj._cols)], obj._cols, obj._coefs, [float(floor)], [None], obj._vars)
    else:
        m.npv_floor = pyo.Constraint(expr=obj.expr >= float(floor))
    obj.deactivate()
    binaries = first_stage_binaries(m)
    m.distance = pyo.Var(domain=pyo.NonNegativeReals)
    signed = []  # per plan: (terms of D_k without its constant, the constant)
    for plan in plans:
        terms, ones = [], 0
        for name, idx, v in binaries:
            if _value(plan, name, idx) > 0.5:
                terms.append(-v)
                ones += 1
            else:
                terms.append(v)
        signed.append((terms, ones))
    m.distance_to = pyo.Constraint(range(len(plans)), rule=lambda _m, k: (
        m.distance <= pyo.quicksum(signed[k][0]) + signed[k][1]))
    eps = 1.0 / (len(plans) * max(len(binaries), 1) + 1)
    m.alternative = pyo.Objective(
        expr=m.distance + eps * pyo.quicksum(t for terms, _ in signed for t in terms), sense=pyo.maximize)
