"""The results layer (optimiser.results.extract) on a hand-solved instance: every table against
numbers worked out by hand, the NPV breakdown summing to the NPV, objective = NPV − weights, and
units of different kinds never added.

The instance (one year, no discounting): factory F ships to M1 (freight 1) and M2 (freight 3).
Vehicle V (price 50, unit cost 20, unmet penalty 7) runs on LV (capacity 80, fixed cost 100);
battery B (price 10, unit cost 4) on LB (capacity 1000). Demand: V 60 in M1, 40 in M2; B 30 in M1.
V's margin is 29 in M1 and 27 in M2 and LV holds 80, so: V 60 → M1, 20 → M2, 20 unmet in M2
(penalty 140, below the 27 × 20 = 540 margin it would need); B 30 → M1.
  revenue 80·50 + 30·10 = 4300; variable cost 80·20 + 30·4 = 1720; freight 60·1 + 20·3 + 30·1 = 150;
  fixed cost 100 → cash NPV 2330; objective = 2330 − 140 = 2190.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from builders import load, settings
from optimiser.data import Instance
from optimiser.model import build_model, prepare
from optimiser.results import (KINDS, NPV_CATEGORIES, UNIT_OF_KIND, WEIGHT_CATEGORIES, Results, RunInfo, extract,
                               units_by_kind)
from optimiser.model.compile import compile_model
from optimiser.solver.options import SolveOptions
from optimiser.solver.solve import solve_compiled


def hand_tables() -> dict:
    return {
        "settings": settings(),
        "factories": [{"factory_id": "F", "country": "X"}],
        "markets": [{"market_id": "M1"}, {"market_id": "M2"}],
        "lines": [{"line_id": "LV", "factory_id": "F", "line_type": "VA", "capacity": 80, "status": "existing",
                   "fixed_cost": 100},
                  {"line_id": "LB", "factory_id": "F", "line_type": "PK", "capacity": 1000, "status": "existing"}],
        "programmes": [{"programme_id": "V", "kind": "vehicle", "unit_price": 50, "unmet_penalty": 7},
                       {"programme_id": "B", "kind": "battery", "unit_price": 10}],
        "routings": [{"programme_id": "V", "line_type": "VA", "capacity_use": 1, "unit_cost": 20},
                     {"programme_id": "B", "line_type": "PK", "capacity_use": 1, "unit_cost": 4}],
        "logistics": [{"factory_id": "F", "market_id": "M1", "cost_per_unit": 1},
                      {"factory_id": "F", "market_id": "M2", "cost_per_unit": 3}],
        "demand": [{"programme_id": "V", "market_id": "M1", "year": 2025, "volume": 60},
                   {"programme_id": "V", "market_id": "M2", "year": 2025, "volume": 40},
                   {"programme_id": "B", "market_id": "M1", "year": 2025, "volume": 30}],
    }


@pytest.fixture(scope="module")
def res(tmp_path_factory: pytest.TempPathFactory) -> Results:
    """Prepare → build → compile → solve (in process) → extract: the results layer on its own."""
    return _extract(load(tmp_path_factory.mktemp("results"), hand_tables()))


def _extract(inst: Instance) -> Results:
    md = prepare(inst, "optimise", None)
    out = solve_compiled(compile_model(build_model(md)), SolveOptions(mip_gap=0, isolate=False))
    assert out.status == "optimal"
    run = RunInfo(instance=inst.name, instance_sha256=inst.fingerprint, strategy="optimise", scenario=None,
                  scenarios=md.scenarios, termination=out.termination, status=out.status, npv=out.objective,
                  best_bound=out.best_bound, gap=out.gap, build_seconds=0.0, handoff_seconds=0.0,
                  solve_seconds=0.0, extract_seconds=0.0, n_variables=out.n_variables,
                  n_binaries=out.n_binaries, n_constraints=out.n_constraints, n_nonzeros=out.n_nonzeros,
                  highs_version=out.highs_version, currency=inst.currency, objective=out.objective)
    return extract(inst, md, out, run)


def _rows(df: pd.DataFrame, keys: list[str], value: str) -> dict[tuple, float]:
    return {tuple(r[k] for k in keys): float(r[value]) for _, r in df.iterrows()}


def test_production_by_line(res: Results) -> None:
    assert _rows(res.production, ["programme_id", "line_id", "kind"], "units") == {
        ("V", "LV", "vehicle"): 80.0, ("B", "LB", "battery"): 30.0}
    assert _rows(res.production, ["line_id"], "capacity_used") == {("LV",): 80.0, ("LB",): 30.0}


def test_shipments_revenue_and_freight(res: Results) -> None:
    keys = ["programme_id", "market_id"]
    assert _rows(res.shipments, keys, "units") == {("V", "M1"): 60.0, ("V", "M2"): 20.0, ("B", "M1"): 30.0}
    assert _rows(res.shipments, keys, "revenue") == {("V", "M1"): 3000.0, ("V", "M2"): 1000.0, ("B", "M1"): 300.0}
    assert _rows(res.shipments, keys, "freight") == {("V", "M1"): 60.0, ("V", "M2"): 60.0, ("B", "M1"): 30.0}


def test_unmet_demand(res: Results) -> None:
    keys = ["programme_id", "market_id"]
    assert _rows(res.demand, keys, "served") == {("V", "M1"): 60.0, ("V", "M2"): 20.0, ("B", "M1"): 30.0}
    assert _rows(res.demand, keys, "unmet") == {("V", "M1"): 0.0, ("V", "M2"): 20.0, ("B", "M1"): 0.0}
    assert (res.demand["served"] + res.demand["unmet"] == res.demand["demand"]).all()


def test_npv_breakdown_sums_to_npv(res: Results) -> None:
    breakdown = dict(zip(res.npv_breakdown["category"], res.npv_breakdown["value"]))
    assert list(breakdown) == [c for c, _ in NPV_CATEGORIES]  # every cash category, in order; no weights
    assert not set(breakdown) & {c for c, _ in WEIGHT_CATEGORIES}
    assert breakdown["revenue"] == pytest.approx(4300.0)
    assert breakdown["variable_cost"] == pytest.approx(-1720.0)
    assert breakdown["logistics"] == pytest.approx(-150.0)
    assert breakdown["fixed_cost"] == pytest.approx(-100.0)
    others = set(breakdown) - {"revenue", "variable_cost", "logistics", "fixed_cost"}
    assert all(breakdown[c] == 0.0 for c in others)
    assert res.npv == pytest.approx(2330.0)
    assert sum(breakdown.values()) == pytest.approx(res.npv, abs=1e-9)
    by_scen = res.npv_by_scenario.set_index("scenario").loc["base"]
    assert by_scen["npv"] == pytest.approx(2330.0)
    assert sum(by_scen[c] for c, _ in NPV_CATEGORIES) == pytest.approx(by_scen["npv"])


def test_objective_is_npv_minus_weights(res: Results) -> None:
    assert res.unmet_penalty_cost == pytest.approx(140.0)  # 20 unmet × 7
    assert res.target_penalty == 0.0
    assert res.objective == pytest.approx(2190.0)
    assert res.objective == pytest.approx(res.npv - res.unmet_penalty_cost - res.target_penalty)
    assert res.run.objective == pytest.approx(res.objective)  # what HiGHS maximised
    by_scen = res.npv_by_scenario.set_index("scenario").loc["base"]
    assert by_scen["unmet_penalty"] == pytest.approx(-140.0) and by_scen["objective"] == pytest.approx(2190.0)


def test_units_per_kind_are_never_summed(res: Results) -> None:
    units = units_by_kind(res)
    assert list(units["kind"]) == ["vehicle", "battery"]  # KINDS order, one row per kind, no total row
    assert list(units["unit"]) == [UNIT_OF_KIND["vehicle"], UNIT_OF_KIND["battery"]]
    got = units.set_index("kind")[["demand", "served", "unmet", "made"]].to_dict("index")
    assert got == {"vehicle": {"demand": 100.0, "served": 80.0, "unmet": 20.0, "made": 80.0},
                   "battery": {"demand": 30.0, "served": 30.0, "unmet": 0.0, "made": 30.0}}
    assert 110.0 not in set(units[["demand", "served", "made"]].to_numpy().ravel())  # 80 + 30, 100 + 10
    assert set(res.production["kind"]) <= set(KINDS) and set(res.demand["kind"]) <= set(KINDS)


def test_utilisation_of_each_line(res: Results) -> None:
    assert _rows(res.utilisation, ["line_id"], "utilisation") == {("LV",): 1.0, ("LB",): 0.03}
    assert res.utilisation["active"].all()


def test_extract_reads_the_outcome_not_the_model(tmp_path: Path) -> None:
    """A forbidden line: extract reports what the solver chose, so LV closed means no vehicles."""
    tables = hand_tables()
    tables["lines"][0]["capacity"] = 0
    res = _extract(load(tmp_path, tables))
    # only batteries: 30 × (10 − 4 − 1) = 150; all 100 vehicles unmet (penalty 700)
    assert res.npv == pytest.approx(150.0) and res.unmet_penalty_cost == pytest.approx(700.0)
    assert set(res.production["programme_id"]) == {"B"}
