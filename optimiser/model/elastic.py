"""The elastic model: every hard promise gets a non-negative slack, and total weighted slack is minimised.

Used only to explain infeasibility. Slacks (all ≥ 0):

* ``slack_commit[p,m,t,s]``: unmet beyond ``d − committed`` (committed and must_serve volumes);
* ``slack_capacity[l,t,s]``: capacity units beyond ``cap·active`` (and the ramp-up limit);
* ``slack_budget[t]``: capex beyond ``capex_limit[t]``;
* ``slack_share[s]``: units short of a hard share target;
* ``slack_strategy[o]``: a strategy's take/forbid not kept.
"""

from __future__ import annotations

import pyomo.environ as pyo

from .sets import ModelData

#: Weights of the violation objective (per unit, per capacity unit, per currency unit, per option).
WEIGHTS = {"commit": 1.0, "capacity": 1.0, "budget": 1e-3, "share": 1.0, "strategy": 1e5}


#: Weights with a plan fixed (``md.fixed``): the lines' capacity is what the plan has, so the
#: violation is put on the commitments it cannot meet rather than on capacity it would need.
FIXED_PLAN_WEIGHTS = {**WEIGHTS, "capacity": 1e3}


def make_elastic(m: pyo.ConcreteModel, md: ModelData) -> None:
    """Turn a built model into its elastic version (in place); with a fixed plan the weights are
    :data:`FIXED_PLAN_WEIGHTS`."""
    terms = []
    WEIGHTS = FIXED_PLAN_WEIGHTS if md.fixed is not None else globals()["WEIGHTS"]  # noqa: N806
    # committed volumes and must_serve: unmet may exceed its bound, paid by slack_commit
    tight = [k for k in md.demand_index if md.unmet_ub[k] < md.demand[k] - 1e-9]
    for k in tight:
        m.unmet[k].setub(md.demand[k])
    m.slack_commit = pyo.Var(tight, domain=pyo.NonNegativeReals)
    m.commit_elastic = pyo.Constraint(tight, rule=lambda _m, *k: m.unmet[k] <= md.unmet_ub[k] + m.slack_commit[k])
    terms += [WEIGHTS["commit"] * m.slack_commit[k] for k in tight]
    if hasattr(m, "must_tool"):
        m.must_tool.deactivate()  # implied by must_serve demand, which is now elastic

    # capacity (and ramp-up)
    m.slack_capacity = pyo.Var(md.active_index, domain=pyo.NonNegativeReals)
    m.capacity.deactivate()
    use, on_line, cap = md.capacity_use, md.make_on_line, md.capacity
    for k in md.make_index:  # make's bound repeats cap/use: lift it to demand alone
        m.make[k].setub(None)
    m.capacity_elastic = pyo.Constraint(md.active_index, rule=lambda _m, l, t, s: (
        sum(use[p, l] * m.make[p, l, t, s] for p in on_line[l, t, s]) <= cap[l, t] * m.running[l, t, s] + m.slack_capacity[l, t, s]))
    m.tool_link.deactivate()
    m.tool_link_elastic = pyo.Constraint(md.make_index, rule=lambda _m, p, l, t, s: (
        m.make[p, l, t, s] <= (md.make_ub[p, l, t, s] + sum(md.demand.get((p, mk, t, s), 0.0) for mk in md.flow_markets.get((p, md.line_factory[l], t, s), ()))) * m.tool[p, l]))
    if hasattr(m, "ramp"):
        ramp_index = list(m.ramp.keys())
        m.ramp.deactivate()

        def ramp_rule(_m: pyo.ConcreteModel, l: str, t: int, s: str) -> object:
            lead = md.lead_time[l]
            ready = sum(m.build[l, tau] for tau in md.build_years[l] if tau + lead < t)
            if t - lead in md.build_years[l]:
                ready = ready + md.ramp_up[l] * m.build[l, t - lead]
            return sum(use[p, l] * m.make[p, l, t, s] for p in on_line[l, t, s]) <= cap[l, t] * ready + m.slack_capacity[l, t, s]

        m.ramp_elastic = pyo.Constraint(ramp_index, rule=ramp_rule)
    terms += [WEIGHTS["capacity"] * m.slack_capacity[k] for k in md.active_index]

    # budget
    if hasattr(m, "budget"):
        years = list(m.budget.keys())
        m.slack_budget = pyo.Var(years, domain=pyo.NonNegativeReals)
        for t in years:
            con = m.budget[t]
            body = con.body
            m.budget[t].deactivate()
            setattr(m, f"budget_elastic_{t}", pyo.Constraint(expr=body <= con.upper + m.slack_budget[t]))
        terms += [WEIGHTS["budget"] * m.slack_budget[t] for t in years]

    # hard share target
    if hasattr(m, "share") and len(m.short) == 0:
        m.slack_share = pyo.Var(md.scenarios, domain=pyo.NonNegativeReals)
        for s in md.scenarios:
            con = m.share[s]
            body = con.body
            con.deactivate()
            setattr(m, f"share_elastic_{s}", pyo.Constraint(expr=body + m.slack_share[s] >= con.lower))
        terms += [WEIGHTS["share"] * m.slack_share[s] for s in md.scenarios]

    # strategy fixings
    fixed = sorted(md.option_fix)
    m.slack_strategy = pyo.Var(fixed, domain=pyo.NonNegativeReals, bounds=(0, 1))
    for o in fixed:
        m.take[o].setlb(0)
        m.take[o].setub(1)
    m.strategy_elastic = pyo.Constraint(fixed, rule=lambda _m, o: (
        m.take[o] + m.slack_strategy[o] >= 1 if md.option_fix[o] else m.take[o] - m.slack_strategy[o] <= 0))
    terms += [WEIGHTS["strategy"] * m.slack_strategy[o] for o in fixed]

    m.npv.deactivate()
    if hasattr(m, "cvar_tail"):
        m.cvar_tail.deactivate()
    m.violation = pyo.Objective(expr=pyo.quicksum(terms) if terms else 0.0, sense=pyo.minimize)
