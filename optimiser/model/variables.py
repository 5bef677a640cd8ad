"""Decision variables, each over its sparse index set (see :mod:`.sets`).

First stage: ``take[o]``, ``build[l,τ]``, ``tool[p,l]`` (for a line copied per scenario because a
later option gates it, ``build`` and ``tool`` of the copy are that scenario's decisions).
Per scenario: ``takeyear[o,τ,s]`` for a later option (economics.md §5).
Second stage (per scenario s): ``active[l,t,s]``, ``make[p,l,t,s]``,
``ship[p,f,m,t,s]``, ``unmet[p,m,t,s]``, ``internal[c,f,t,s]``,
``extbuy[c,t,s]``, ``short[s]``.
"""

from __future__ import annotations

import pyomo.environ as pyo

from .matrix import TupleSet
from .sets import ModelData


def define_variables(m: pyo.ConcreteModel, md: ModelData) -> None:
    """Create every variable with its tightest known bounds.

    A strategy fixes ``take[o]`` through its bounds (1 = take, 0 = forbid), so the
    column stays in the model and the plan reports it.
    """
    fix = md.option_fix
    m.take = pyo.Var(md.options, domain=pyo.Binary,
                     bounds=lambda _m, o: (1, 1) if fix.get(o) is True else ((0, 0) if fix.get(o) is False else (0, 1)))
    # a later option: taken in year τ in scenario s (forbid: never; take: row Σ_τ takeyear ≥ take[o], model/options.py)
    m.takeyear = pyo.Var(md.takeyear_index, domain=pyo.Binary,
                         bounds=lambda _m, o, tau, s: (0, 0) if fix.get(o) is False else (0, 1))
    m.build = pyo.Var(md.build_index, domain=pyo.Binary)
    m.tool = pyo.Var(md.tool_index, domain=pyo.Binary)
    # second stage: large, indexed by TupleSet views of the prepared tuples (see .matrix)
    m.running = pyo.Var(TupleSet(md.active_index), domain=pyo.Binary)
    m.make = pyo.Var(TupleSet(md.make_index), domain=pyo.NonNegativeReals)
    _set_bounds(m.make, md.make_index, md.make_ub)
    m.ship = pyo.Var(TupleSet(md.ship_index), domain=pyo.NonNegativeReals)
    m.unmet = pyo.Var(TupleSet(md.demand_index), domain=pyo.NonNegativeReals)
    _set_bounds(m.unmet, md.demand_index, md.unmet_ub)
    m.internal = pyo.Var(TupleSet(md.internal_index), domain=pyo.NonNegativeReals)
    m.extbuy = pyo.Var(TupleSet(md.extbuy_index), domain=pyo.NonNegativeReals)
    if md.fixed is not None:
        _fix_first_stage(m, md)
    soft_share = md.share_rhs is not None and md.share_penalty is not None
    m.short = pyo.Var(md.scenarios if soft_share else [], domain=pyo.NonNegativeReals)


def _set_bounds(var: pyo.Var, index: tuple, upper: dict) -> None:
    """``0 ≤ var[k] ≤ upper[k]`` for every k (what ``bounds=(0, upper[k])`` does, without a call per index:
    the values are plain floats, so the checks of the ``lower``/``upper`` setters have nothing to do)."""
    data = var._data
    for k in index:
        v = data[k]
        v._lb = 0
        v._ub = upper[k]


def _fix_first_stage(m: pyo.ConcreteModel, md: ModelData) -> None:
    """Pin take/build/tool to a given plan through their bounds (columns stay in the model)."""
    plan = md.fixed
    assert plan is not None
    copies = md.line_copy
    for var, values in ((m.take, {(k,): v for k, v in plan.take.items()}), (m.build, plan.build), (m.tool, plan.tool)):
        for idx in var:
            key = idx if isinstance(idx, tuple) else (idx,)
            if (var is m.take and key[0] in md.later) or (var is not m.take and key[-1 if var is m.tool else 0] in copies):
                continue  # decided per scenario: recourse, not part of the plan
            val = 1 if values.get(key, 0.0) > 0.5 else 0
            var[idx].setlb(val)
            var[idx].setub(val)
