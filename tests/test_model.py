"""Hand-solved tiny instances, one (or more) per constraint family; optimum asserted exactly.

Every case runs the invariant checker of :mod:`builders` on its plan as well.
Unless said otherwise: one year (2025), discount rate 0, one market M, one factory F.
"""

from __future__ import annotations

import pytest

from builders import settings, solve
from optimiser.errors import InfeasibleError


def base(**over):
    t = {
        "settings": settings(),
        "factories": [{"factory_id": "F", "country": "VN"}],
        "markets": [{"market_id": "M"}],
        "lines": [{"line_id": "L1", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "existing"}],
        "programmes": [{"programme_id": "P", "kind": "vehicle", "unit_price": 10}],
        "routings": [{"programme_id": "P", "line_type": "VA", "capacity_use": 1, "unit_cost": 4}],
        "demand": [{"programme_id": "P", "market_id": "M", "year": 2025, "volume": 150}],
    }
    t.update(over)
    return t


def test_capacity_binds(tmp_path):
    """Capacity: Σ use·make ≤ cap·active. cap 100, use 2 → 50 units × (10 − 4) = 300."""
    t = base(routings=[{"programme_id": "P", "line_type": "VA", "capacity_use": 2, "unit_cost": 4}])
    res = solve(tmp_path, t)
    assert res.run.objective == pytest.approx(300)
    assert res.production["units"].sum() == pytest.approx(50)
    util = res.utilisation.iloc[0]
    assert util.used == pytest.approx(100) and util.utilisation == pytest.approx(1.0)
    # the shadow price of a binding line-year: one more capacity unit = ½ unit of P = 3
    assert res.capacity_value.iloc[0].shadow_price == pytest.approx(3.0)


def test_fixed_cost_switches_line_off(tmp_path):
    """active pays fixed_cost: margin 6 × 100 = 600 < fixed 700 → the line stays idle, NPV 0."""
    t = base(lines=[{"line_id": "L1", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "existing",
                     "fixed_cost": 700}])
    res = solve(tmp_path, t)
    assert res.run.objective == pytest.approx(0)
    assert not res.utilisation["active"].any()


def _two_lines(max_lines: int, demand: float):
    """L1: unit cost 5, no tooling; L2: unit cost 4, tooling 150 (line_id routings)."""
    return base(
        lines=[{"line_id": "L1", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "existing"},
               {"line_id": "L2", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "existing"}],
        programmes=[{"programme_id": "P", "kind": "vehicle", "unit_price": 10, "max_lines": max_lines}],
        routings=[{"programme_id": "P", "line_id": "L1", "capacity_use": 1, "unit_cost": 5},
                  {"programme_id": "P", "line_id": "L2", "capacity_use": 1, "unit_cost": 4, "tooling_cost": 150}],
        demand=[{"programme_id": "P", "market_id": "M", "year": 2025, "volume": demand}],
    )


def test_tooling_link_and_cost(tmp_path):
    """Tooling link: demand 80, single source. L1: 80×5 = 400; L2: 80×6 − 150 = 330 → L1, NPV 400."""
    res = solve(tmp_path, _two_lines(1, 80))
    assert res.run.objective == pytest.approx(400)
    assert res.tooling["line_id"].tolist() == ["L1"]


def test_sourcing_single(tmp_path):
    """Sourcing, max_lines 1, demand 200: L1 100×5 = 500 beats L2 100×6 − 150 = 450 → 500."""
    assert solve(tmp_path, _two_lines(1, 200)).run.objective == pytest.approx(500)


def test_sourcing_dual(tmp_path):
    """Sourcing, max_lines 2, demand 200: both lines, 500 + 450 = 950."""
    res = solve(tmp_path, _two_lines(2, 200))
    assert res.run.objective == pytest.approx(950)
    assert sorted(res.tooling["line_id"]) == ["L1", "L2"]


def _candidate(**line):
    """Three years; existing L0 (cap 100) retires after 2025; candidate L2 cap 100, build 300,
    lead 1, ramp 0.5. Price 10, cost 0, demand 100 a year, discount 0."""
    ln = {"line_id": "L2", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "candidate",
          "build_cost": 300, "lead_time": 1, "ramp_up": 0.5}
    ln.update(line)
    return base(
        settings=settings(2025, 2027),
        lines=[{"line_id": "L0", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "existing",
                "retire_after": 2025}, ln],
        programmes=[{"programme_id": "P", "kind": "vehicle", "unit_price": 10, "max_lines": 2}],
        routings=[{"programme_id": "P", "line_type": "VA", "capacity_use": 1}],
        demand=[{"programme_id": "P", "market_id": "M", "year": y, "volume": 100} for y in (2025, 2026, 2027)],
    )


def test_availability_lead_time_and_ramp(tmp_path):
    """Availability: L0 makes 100 in 2025 (1000). L2 built 2025, ready 2026 at half capacity:
    50 + 100 units = 1500 − 300 build = 1200. NPV 2200."""
    res = solve(tmp_path, _candidate())
    assert res.run.objective == pytest.approx(2200)
    built = res.lines_built.iloc[0]
    assert (built.line_id, built.build_year, built.ready_year) == ("L2", 2025, 2026)
    by_year = res.production.groupby("year")["units"].sum().to_dict()
    assert by_year == pytest.approx({2025: 100, 2026: 50, 2027: 100})


def test_availability_late_build_not_worth(tmp_path):
    """Lead time 2: ready only 2027 at ramp 0.5 → 50 units = 500 > 300, still built; lead 3 → never ready."""
    assert solve(tmp_path, _candidate(lead_time=2)).run.objective == pytest.approx(1000 + 500 - 300)
    res = solve(tmp_path, _candidate(lead_time=3))
    assert res.run.objective == pytest.approx(1000) and res.lines_built.empty


def test_existing_line_available_from(tmp_path):
    """An existing line available from 2026 only: 2 years × 100 × 6 = 1200 of a 3-year horizon."""
    t = base(settings=settings(2025, 2027),
             lines=[{"line_id": "L1", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "existing",
                     "available_from": 2026}],
             demand=[{"programme_id": "P", "market_id": "M", "year": y, "volume": 100} for y in (2025, 2026, 2027)])
    assert solve(tmp_path, t).run.objective == pytest.approx(1200)


def _deal(demand: float):
    """Buy (upfront 500) or partner (upfront 100, toll 3/unit), one exclusive group.
    LB requires buy, LP requires partner; cap 100 each; price 10, cost 0."""
    return base(
        lines=[{"line_id": "LB", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "existing",
                "requires_option": "buy"},
               {"line_id": "LP", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "existing",
                "requires_option": "partner", "unit_fee": 3}],
        programmes=[{"programme_id": "P", "kind": "vehicle", "unit_price": 10, "max_lines": 2}],
        routings=[{"programme_id": "P", "line_type": "VA", "capacity_use": 1}],
        demand=[{"programme_id": "P", "market_id": "M", "year": 2025, "volume": demand}],
        options=[{"option_id": "buy", "upfront_cost": 500, "exclusive_group": "vf"},
                 {"option_id": "partner", "upfront_cost": 100, "exclusive_group": "vf"}],
        strategies=[{"strategy_id": "buy", "option_id": "buy", "decision": "take"},
                    {"strategy_id": "partner", "option_id": "partner", "decision": "take"},
                    {"strategy_id": "neither", "option_id": "buy", "decision": "forbid"},
                    {"strategy_id": "neither", "option_id": "partner", "decision": "forbid"}],
    )


def test_option_gating_strategies(tmp_path):
    """Option gating: buy 100×10 − 500 = 500; partner 100×7 − 100 = 600; neither 0; optimise = partner."""
    t = _deal(100)
    assert solve(tmp_path, t, "buy").run.objective == pytest.approx(500)
    assert solve(tmp_path, t, "partner").run.objective == pytest.approx(600)
    assert solve(tmp_path, t, "neither").run.objective == pytest.approx(0)
    res = solve(tmp_path, t)
    assert res.run.objective == pytest.approx(600) and res.options_taken == ["partner"]


def test_exclusive_group(tmp_path):
    """Exclusive group: demand 200 would pay 500 + 600 = 1100 with both deals; only one is allowed → 600."""
    res = solve(tmp_path, _deal(200))
    assert res.run.objective == pytest.approx(600)
    assert res.options_taken == ["partner"]


def test_flow_logistics_and_tariff(tmp_path):
    """Flow: F1 serves M1 (freight 1) and may reach M2 (freight 3, tariff 10 %); F2 reaches M2 only
    (freight 1, unit cost 2). Caps 100, demand 100 in each market, price 10.
    Best: F1→M1 100×9 + F2→M2 100×7 = 1600 (F1→M2 would earn 10 − 1 − 3 = 6)."""
    t = base(
        factories=[{"factory_id": "F1", "country": "VN"}, {"factory_id": "F2", "country": "US"}],
        markets=[{"market_id": "M1"}, {"market_id": "M2"}],
        lines=[{"line_id": "L1", "factory_id": "F1", "line_type": "VA", "capacity": 100, "status": "existing"},
               {"line_id": "L2", "factory_id": "F2", "line_type": "VA", "capacity": 100, "status": "existing"}],
        programmes=[{"programme_id": "P", "kind": "vehicle", "unit_price": 10, "max_lines": 2}],
        routings=[{"programme_id": "P", "line_id": "L1", "capacity_use": 1},
                  {"programme_id": "P", "line_id": "L2", "capacity_use": 1, "unit_cost": 2}],
        demand=[{"programme_id": "P", "market_id": "M1", "year": 2025, "volume": 100},
                {"programme_id": "P", "market_id": "M2", "year": 2025, "volume": 100}],
        logistics=[{"factory_id": "F1", "market_id": "M1", "cost_per_unit": 1},
                   {"factory_id": "F1", "market_id": "M2", "cost_per_unit": 3, "tariff": 0.1},
                   {"factory_id": "F2", "market_id": "M2", "cost_per_unit": 1}],
    )
    res = solve(tmp_path, t)
    assert res.run.objective == pytest.approx(1600)
    routes = {(r.factory_id, r.market_id): r.units for r in res.shipments.itertuples()}
    assert routes == pytest.approx({("F1", "M1"): 100, ("F2", "M2"): 100})


def test_flow_tariff_route_used_when_needed(tmp_path):
    """Only F1 exists; M2 via freight 3 and a 10 % duty: 10 − 1 − 3 = 6 per unit; cap 100 split by margin:
    M1 (9) first: demand 60 → 540, then M2 40 × 6 = 240. NPV 780, duties 40."""
    t = base(
        markets=[{"market_id": "M1"}, {"market_id": "M2"}],
        routings=[{"programme_id": "P", "line_type": "VA", "capacity_use": 1}],
        demand=[{"programme_id": "P", "market_id": "M1", "year": 2025, "volume": 60},
                {"programme_id": "P", "market_id": "M2", "year": 2025, "volume": 100}],
        logistics=[{"factory_id": "F", "market_id": "M1", "cost_per_unit": 1},
                   {"factory_id": "F", "market_id": "M2", "cost_per_unit": 3, "tariff": 0.1}],
    )
    res = solve(tmp_path, t)
    assert res.run.objective == pytest.approx(780)
    duties = res.npv_breakdown.set_index("category")["value"]["duties"]
    assert duties == pytest.approx(-40)


def test_demand_committed_volume(tmp_path):
    """Demand: a loss-making unit (price 5, cost 8) is still made up to the committed 30: NPV −90."""
    t = base(programmes=[{"programme_id": "P", "kind": "vehicle", "unit_price": 5}],
             routings=[{"programme_id": "P", "line_type": "VA", "capacity_use": 1, "unit_cost": 8}],
             demand=[{"programme_id": "P", "market_id": "M", "year": 2025, "volume": 50, "min_volume": 30}])
    res = solve(tmp_path, t)
    assert res.run.objective == pytest.approx(-90)
    assert res.demand.iloc[0].unmet == pytest.approx(20)


def test_demand_must_serve_and_penalty(tmp_path):
    """must_serve: all 50 loss-making units are made, NPV −150. Without it but with an unmet
    penalty of 4 > loss 3, serving is still cheaper: −150; with penalty 2: leave unmet, −100."""
    def t(**p):
        return base(programmes=[{"programme_id": "P", "kind": "vehicle", "unit_price": 5, **p}],
                    routings=[{"programme_id": "P", "line_type": "VA", "capacity_use": 1, "unit_cost": 8}],
                    demand=[{"programme_id": "P", "market_id": "M", "year": 2025, "volume": 50}])
    assert solve(tmp_path, t(must_serve=True)).run.objective == pytest.approx(-150)
    assert solve(tmp_path, t(unmet_penalty=4)).run.objective == pytest.approx(-150)
    assert solve(tmp_path, t(unmet_penalty=2)).run.objective == pytest.approx(-100)


def test_must_serve_infeasible(tmp_path):
    """must_serve demand 150 on a 100-unit line cannot be met: infeasible, not a silent shortfall."""
    t = base(programmes=[{"programme_id": "P", "kind": "vehicle", "unit_price": 10, "must_serve": True}])
    with pytest.raises(InfeasibleError):
        solve(tmp_path, t)


def test_bom_internal_and_external(tmp_path):
    """BOM: vehicle V (price 100, cost 10), demand 10, needs 2 packs C. Pack line: 15 packs, cost 5;
    outside price 20. 15 made (75) + 5 bought (100): NPV = 10×90 − 75 − 100 = 725."""
    t = base(
        lines=[{"line_id": "LV", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "existing"},
               {"line_id": "LC", "factory_id": "F", "line_type": "PK", "capacity": 15, "status": "existing"}],
        programmes=[{"programme_id": "V", "kind": "vehicle", "unit_price": 100},
                    {"programme_id": "C", "kind": "battery", "external_price": 20}],
        routings=[{"programme_id": "V", "line_type": "VA", "capacity_use": 1, "unit_cost": 10},
                  {"programme_id": "C", "line_type": "PK", "capacity_use": 1, "unit_cost": 5}],
        demand=[{"programme_id": "V", "market_id": "M", "year": 2025, "volume": 10}],
        bom=[{"parent_id": "V", "component_id": "C", "quantity": 2}],
    )
    res = solve(tmp_path, t)
    assert res.run.objective == pytest.approx(725)
    comp = res.components.iloc[0]
    assert (comp.needed, comp.made_inside, comp.bought_outside) == pytest.approx((20, 15, 5))


def test_bom_without_external_limits_parent(tmp_path):
    """BOM with no outside supply: 15 packs allow only 7.5 vehicles: 7.5 × 90 − 15 × 5 = 600."""
    t = base(
        lines=[{"line_id": "LV", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "existing"},
               {"line_id": "LC", "factory_id": "F", "line_type": "PK", "capacity": 15, "status": "existing"}],
        programmes=[{"programme_id": "V", "kind": "vehicle", "unit_price": 100},
                    {"programme_id": "C", "kind": "battery"}],
        routings=[{"programme_id": "V", "line_type": "VA", "capacity_use": 1, "unit_cost": 10},
                  {"programme_id": "C", "line_type": "PK", "capacity_use": 1, "unit_cost": 5}],
        demand=[{"programme_id": "V", "market_id": "M", "year": 2025, "volume": 10}],
        bom=[{"parent_id": "V", "component_id": "C", "quantity": 2}],
    )
    assert solve(tmp_path, t).run.objective == pytest.approx(600)


def _build_one_year(**extra):
    """One year, candidate line (cap 100, build 300, lead 0), price 10, cost 0, demand 100 → 700 if built."""
    t = {"lines": [{"line_id": "L1", "factory_id": "F", "line_type": "VA", "capacity": 100,
                    "status": "candidate", "build_cost": 300, "lead_time": 0}],
         "routings": [{"programme_id": "P", "line_type": "VA", "capacity_use": 1}],
         "demand": [{"programme_id": "P", "market_id": "M", "year": 2025, "volume": 100}]}
    t.update(extra)
    return base(**t)


def test_budget(tmp_path):
    """Budget: a 300 build under a 200 limit is impossible (NPV 0); a 300 limit allows it (700)."""
    assert solve(tmp_path, _build_one_year()).run.objective == pytest.approx(700)
    assert solve(tmp_path, _build_one_year(budget=[{"year": 2025, "capex_limit": 200}])).run.objective == pytest.approx(0)
    assert solve(tmp_path, _build_one_year(budget=[{"year": 2025, "capex_limit": 300}])).run.objective == pytest.approx(700)


def _share(penalty):
    """Share target 10 % of a 1,000 market = 100 units of a loss-making programme (price 10, cost 12)."""
    extra = {"share_target": 0.1}
    if penalty is not None:
        extra["share_penalty"] = penalty
    return base(settings=settings(**extra),
                programmes=[{"programme_id": "P", "kind": "vehicle", "unit_price": 10, "counts_for_share": True}],
                routings=[{"programme_id": "P", "line_type": "VA", "capacity_use": 1, "unit_cost": 12}],
                demand=[{"programme_id": "P", "market_id": "M", "year": 2025, "volume": 100}],
                market_size=[{"year": 2025, "volume": 1000}])


def test_share_target_soft_and_hard(tmp_path):
    """Penalty 5 > loss 2: make 100 (−200). Penalty 1: stay short (−100). Hard target: −200."""
    assert solve(tmp_path, _share(5)).run.objective == pytest.approx(-200)
    res = solve(tmp_path, _share(1))
    assert res.run.objective == pytest.approx(-100)
    assert res.market_share.iloc[0].share == pytest.approx(0.0)
    assert solve(tmp_path, _share(None)).run.objective == pytest.approx(-200)


def test_discounting_and_prices_table(tmp_path):
    """Two years, r = 10 %, base 2025; the prices table sets 2026 to 12. Cap 100, cost 4:
    2025: 100×6 = 600; 2026: 100×8 / 1.1 = 727.27…; NPV 1327.2727…"""
    t = base(settings=settings(2025, 2026, 0.1),
             demand=[{"programme_id": "P", "market_id": "M", "year": y, "volume": 100} for y in (2025, 2026)],
             prices=[{"programme_id": "P", "year": 2026, "unit_price": 12}])
    assert solve(tmp_path, t).run.objective == pytest.approx(600 + 800 / 1.1)


def test_capacity_profile(tmp_path):
    """capacity_profile lifts 2026 capacity to 150: 100 + 150 units × 6 = 1500."""
    t = base(settings=settings(2025, 2026),
             demand=[{"programme_id": "P", "market_id": "M", "year": y, "volume": 200} for y in (2025, 2026)],
             capacity_profile=[{"line_id": "L1", "year": 2026, "capacity": 150}])
    assert solve(tmp_path, t).run.objective == pytest.approx(1500)


def _stochastic(**extra):
    """Two scenarios (½ low ×0.5, ½ high ×1.5) of demand 100; candidate cap 200, build 600, lead 0;
    price 10, cost 0. Build: ½·500 + ½·1500 − 600 = 400 > 0."""
    return _build_one_year(
        lines=[{"line_id": "L1", "factory_id": "F", "line_type": "VA", "capacity": 200,
                "status": "candidate", "build_cost": 600, "lead_time": 0}],
        scenarios=[{"scenario_id": "low", "probability": 0.5, "demand_factor": 0.5},
                   {"scenario_id": "high", "probability": 0.5, "demand_factor": 1.5}], **extra)


def test_two_stage_extensive_form(tmp_path):
    """Stochastic: build shared → 400. Deterministic: low alone does not build (0), high builds (900).
    Wait-and-see 450 ≥ stochastic 400 (EVPI 50)."""
    res = solve(tmp_path, _stochastic())
    assert res.run.objective == pytest.approx(400)
    assert sorted(res.scenarios["npv"]) == pytest.approx([500 - 600, 1500 - 600])
    assert solve(tmp_path, _stochastic(), scenario="low").run.objective == pytest.approx(0)
    assert solve(tmp_path, _stochastic(), scenario="high").run.objective == pytest.approx(900)


def test_scenario_demand_override_and_price_factor(tmp_path):
    """high overrides demand to 300 (cap 200 binds) and doubles prices: ½·(50×10) + ½·(200×20) − 600 = 1650."""
    t = _stochastic(scenario_demand=[{"scenario_id": "high", "programme_id": "P", "market_id": "M",
                                      "year": 2025, "volume": 300}])
    t["scenarios"][1]["price_factor"] = 2
    assert solve(tmp_path, t).run.objective == pytest.approx(0.5 * 500 + 0.5 * 4000 - 600)


def test_explain_committed_volume(tmp_path):
    """Explain: committed 150 on a 100-unit line → one finding of 50 units (or 50 capacity units)."""
    from builders import load
    from optimiser.explain import explain

    t = base(demand=[{"programme_id": "P", "market_id": "M", "year": 2025, "volume": 150, "min_volume": 150}])
    why = explain(load(tmp_path, t))
    assert not why.feasible
    assert why.total_violation == pytest.approx(50)
    f = why.findings[0]
    assert f.violation == pytest.approx(50)
    assert f.kind in ("commitment", "capacity")
    assert "L1" in f.message
