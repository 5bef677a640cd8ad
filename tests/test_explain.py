"""Planted infeasibilities of each kind are named correctly by `explain` (and by `solve`)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from builders import load, settings
from optimiser.cli import app
from optimiser.explain import explain
from optimiser.writers import dict_tables, write_tables


def base(**over):
    t = {
        "settings": settings(),
        "factories": [{"factory_id": "F", "country": "VN"}],
        "markets": [{"market_id": "M"}],
        "lines": [{"line_id": "L1", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "existing"}],
        "programmes": [{"programme_id": "P", "name": "Geely JV EV", "kind": "vehicle", "unit_price": 10}],
        "routings": [{"programme_id": "P", "line_type": "VA", "capacity_use": 1}],
        "demand": [{"programme_id": "P", "market_id": "M", "year": 2025, "volume": 100}],
    }
    t.update(over)
    return t


def test_must_serve(tmp_path):
    t = base(programmes=[{"programme_id": "P", "name": "Geely JV EV", "kind": "vehicle", "must_serve": True}],
             demand=[{"programme_id": "P", "market_id": "M", "year": 2025, "volume": 130}])
    why = explain(load(tmp_path, t))
    f = why.findings[0]
    assert f.violation == pytest.approx(30)
    if f.kind == "must_serve":
        assert "must serve all 130 units but at most 100" in f.message and "Geely JV EV" in f.message


def test_commitment_behind_forbidden_option(tmp_path):
    """The only line needs option jv; strategy 'none' forbids it; 80 units are committed."""
    t = base(lines=[{"line_id": "GJV", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "existing",
                     "requires_option": "jv"}],
             options=[{"option_id": "jv", "upfront_cost": 1}],
             strategies=[{"strategy_id": "none", "option_id": "jv", "decision": "forbid"}],
             demand=[{"programme_id": "P", "market_id": "M", "year": 2025, "volume": 100, "min_volume": 80}])
    why = explain(load(tmp_path, t), strategy="none")
    kinds = {f.kind for f in why.findings}
    assert kinds == {"commitment"} or kinds == {"strategy"}
    f = why.findings[0]
    if f.kind == "commitment":
        assert "committed 80 units but at most 0" in f.message
        assert "take option jv" in f.fixes
    else:
        assert "forbids option jv" in f.message


def test_budget(tmp_path):
    """A committed 50 units need the candidate line (build 300) but the budget allows 100."""
    t = base(lines=[{"line_id": "L1", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "candidate",
                     "build_cost": 300, "lead_time": 0}],
             demand=[{"programme_id": "P", "market_id": "M", "year": 2025, "volume": 50, "min_volume": 50}],
             budget=[{"year": 2025, "capex_limit": 100}])
    why = explain(load(tmp_path, t))
    f = why.findings[0]
    assert f.kind == "budget"
    assert f.violation == pytest.approx(200)
    assert "exceeds the budget of 100 USD by 200 USD" in f.message


def test_hard_share_target(tmp_path):
    """Target 10 % of 2,000 = 200 units; the line makes 100."""
    t = base(settings=settings(share_target=0.1),
             programmes=[{"programme_id": "P", "kind": "vehicle", "unit_price": 10, "counts_for_share": True}],
             demand=[{"programme_id": "P", "market_id": "M", "year": 2025, "volume": 300}],
             market_size=[{"year": 2025, "volume": 2000}])
    why = explain(load(tmp_path, t))
    kinds = [f.kind for f in why.findings]
    assert kinds[0] in ("share", "capacity")
    assert why.total_violation == pytest.approx(100)


def test_strategy_fixing_against_budget(tmp_path):
    """Strategy 'jv' takes an option with upfront 500 under a 100 budget: the budget finding names 400."""
    t = base(options=[{"option_id": "jv", "upfront_cost": 500}],
             lines=[{"line_id": "L1", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "existing",
                     "requires_option": "jv"}],
             strategies=[{"strategy_id": "jv", "option_id": "jv", "decision": "take"}],
             budget=[{"year": 2025, "capex_limit": 100}])
    inst = load(tmp_path, t)
    assert explain(inst).feasible  # optimise simply leaves the deal
    why = explain(inst, strategy="jv")
    assert [f.kind for f in why.findings] == ["budget"]
    assert why.findings[0].violation == pytest.approx(400)


def test_solve_cli_explains_and_exits_2(tmp_path):
    t = base(demand=[{"programme_id": "P", "market_id": "M", "year": 2025, "volume": 150, "min_volume": 150}])
    folder = tmp_path / "inst"
    write_tables(dict_tables(t), folder)
    res = CliRunner().invoke(app, ["solve", str(folder), "--no-report"])
    assert res.exit_code == 2
    assert "infeasible" in res.output
    assert "L1" in res.output and "1." in res.output
    res = CliRunner().invoke(app, ["explain", str(folder), "--json"])
    assert res.exit_code == 2
