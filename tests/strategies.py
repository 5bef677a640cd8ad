"""Hypothesis strategies shared by the property tests: random small valid instances."""

from __future__ import annotations

from hypothesis import strategies as st

from builders import settings


@st.composite
def instances(draw):
    years = draw(st.integers(1, 2))
    n_fac = draw(st.integers(1, 2))
    n_mk = draw(st.integers(1, 2))
    n_prog = draw(st.integers(1, 3))
    n_lines = draw(st.integers(1, 4))
    facs = [f"F{i}" for i in range(n_fac)]
    mks = [f"M{i}" for i in range(n_mk)]
    options = [{"option_id": "buy", "upfront_cost": draw(st.integers(0, 400)), "exclusive_group": "vf"},
               {"option_id": "partner", "upfront_cost": draw(st.integers(0, 200)),
                "annual_cost": draw(st.integers(0, 50)), "exclusive_group": "vf"},
               {"option_id": "jv", "upfront_cost": draw(st.integers(0, 300))}]
    lines = []
    for i in range(n_lines):
        ln = {"line_id": f"L{i}", "factory_id": draw(st.sampled_from(facs)), "line_type": draw(st.sampled_from(["A", "B"])),
              "capacity": draw(st.integers(0, 200)), "status": draw(st.sampled_from(["existing", "candidate"])),
              "fixed_cost": draw(st.integers(0, 300))}
        if ln["status"] == "candidate":
            ln.update(build_cost=draw(st.integers(0, 500)), lead_time=draw(st.integers(0, 1)),
                      ramp_up=draw(st.sampled_from([0.5, 1.0])))
        opt = draw(st.sampled_from([None, "buy", "partner", "jv"]))
        if opt:
            ln["requires_option"] = opt
            ln["unit_fee"] = draw(st.integers(0, 3))
        lines.append(ln)
    types = sorted({ln["line_type"] for ln in lines})
    progs, routings, demand = [], [], []
    for j in range(n_prog):
        pid = f"P{j}"
        progs.append({"programme_id": pid, "kind": "vehicle", "unit_price": draw(st.integers(0, 20)),
                      "max_lines": draw(st.integers(1, 2)), "unmet_penalty": draw(st.integers(0, 5)),
                      "counts_for_share": draw(st.booleans())})
        for lt in draw(st.lists(st.sampled_from(types), min_size=1, max_size=2, unique=True)):
            routings.append({"programme_id": pid, "line_type": lt, "capacity_use": draw(st.sampled_from([0.5, 1, 2])),
                             "unit_cost": draw(st.integers(0, 12)), "tooling_cost": draw(st.integers(0, 100))})
        for m in mks:
            for y in range(years):
                demand.append({"programme_id": pid, "market_id": m, "year": 2025 + y, "volume": draw(st.integers(0, 150))})
    logistics = [{"factory_id": f, "market_id": m, "cost_per_unit": draw(st.integers(0, 3)),
                  "tariff": draw(st.sampled_from([0, 0.1]))} for f in facs for m in mks]
    extra = {}
    if draw(st.booleans()):
        extra = {"share_target": 0.05, "share_penalty": draw(st.integers(0, 10))}
    tables = {
        "settings": settings(2025, 2024 + years, draw(st.sampled_from([0.0, 0.1])), **extra),
        "factories": [{"factory_id": f, "country": "X"} for f in facs],
        "markets": [{"market_id": m} for m in mks],
        "lines": lines, "programmes": progs, "routings": routings, "demand": demand,
        "logistics": logistics, "options": options,
        "strategies": [{"strategy_id": "buy", "option_id": "buy", "decision": "take"},
                       {"strategy_id": "partner", "option_id": "partner", "decision": "take"},
                       {"strategy_id": "neither", "option_id": "buy", "decision": "forbid"},
                       {"strategy_id": "neither", "option_id": "partner", "decision": "forbid"},
                       {"strategy_id": "jv_only", "option_id": "jv", "decision": "take"}],
        "market_size": [{"year": 2024 + years, "volume": 1000}],
    }
    if draw(st.booleans()):
        tables["scenarios"] = [{"scenario_id": "low", "probability": 0.5, "demand_factor": 0.5},
                               {"scenario_id": "high", "probability": 0.5, "demand_factor": 1.5,
                                "price_factor": draw(st.sampled_from([1.0, 1.2]))}]
    return tables
