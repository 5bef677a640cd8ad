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


# --- explain --iis: HiGHS's irreducible infeasible subset in planner terms -------------------

def _iis_items(why, kind=None):
    assert why.iis is not None
    return [it for it in why.iis.items if kind is None or it.kind == kind]


def test_iis_committed_volume_above_capacity(tmp_path):
    """150 committed on a 100-unit line: the IIS holds the demand row, the commitment and the line's limit."""
    t = base(demand=[{"programme_id": "P", "market_id": "M", "year": 2025, "volume": 150, "min_volume": 150}])
    why = explain(load(tmp_path, t), iis=True)
    assert not why.feasible and why.iis.status == "found" and why.iis.irreducible and why.iis.relaxation
    found = {(it.family, it.table, it.ids) for it in why.iis.items}
    assert ("demand", "demand", ("P", "M", "2025")) in found
    assert ("unmet", "demand", ("P", "M", "2025")) in found  # the commitment (min_volume) is a bound
    assert ("make", "lines", ("P", "L1", "2025")) in found  # make ≤ capacity / capacity_use
    text = "\n".join(why.lines())
    assert "Irreducible infeasible subset (IIS) of the LP relaxation" in text
    assert "committed demand of Geely JV EV (P) in market M 2025: 150 units, so at most 0 may go unmet" in text
    assert "bound: make[P, L1, 2025] ≤ 100" in text and "capacity of line L1" in text
    assert why.findings  # the elastic findings are still there, before the IIS
    assert text.index("1. ") < text.index("IIS")


def test_iis_strategy_option_against_exclusive_group(tmp_path):
    """Strategy 'buy' takes option a; the only line needs option b, in a's exclusive group; 80 are committed."""
    t = base(options=[{"option_id": "a", "upfront_cost": 1, "exclusive_group": "g"},
                      {"option_id": "b", "upfront_cost": 1, "exclusive_group": "g"}],
             lines=[{"line_id": "L1", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "existing",
                     "requires_option": "b"}],
             strategies=[{"strategy_id": "buy", "option_id": "a", "decision": "take"}],
             demand=[{"programme_id": "P", "market_id": "M", "year": 2025, "volume": 100, "min_volume": 80}])
    inst = load(tmp_path, t)
    assert explain(inst, iis=True).iis.status == "feasible"  # optimise takes b
    why = explain(inst, strategy="buy", iis=True)
    assert why.iis.status == "found"
    found = {(it.kind, it.family, it.table, it.ids) for it in why.iis.items}
    assert ("bound", "take", "strategies", ("buy", "a")) in found
    assert ("constraint", "exclusive", "options", ("g", "a", "b")) in found
    assert any(f[1].startswith("gate_") and f[2] == "lines" and f[3][-1] == "b" for f in found)
    assert ("bound", "unmet", "demand", ("P", "M", "2025")) in found
    text = "\n".join(why.iis.lines())
    assert "bound: strategy buy takes option a (table strategies)" in text
    assert "at most one option of exclusive group g (a, b) may be taken" in text


def test_iis_budget_too_small_for_must_serve_new_line(tmp_path):
    """A must_serve programme can only be made on a candidate line costing 300; the budget is 100."""
    t = base(lines=[{"line_id": "L1", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "candidate",
                     "build_cost": 300, "lead_time": 0}],
             programmes=[{"programme_id": "P", "name": "Geely JV EV", "kind": "vehicle", "unit_price": 10,
                          "must_serve": True}],
             demand=[{"programme_id": "P", "market_id": "M", "year": 2025, "volume": 50}],
             budget=[{"year": 2025, "capex_limit": 100}])
    why = explain(load(tmp_path, t), iis=True)
    assert why.iis.status == "found"
    found = {(it.family, it.table, it.ids) for it in why.iis.items}
    assert ("budget", "budget", ("2025",)) in found
    assert ("must_tool", "programmes", ("P",)) in found
    assert any(tb == "lines" and "L1" in ids for _, tb, ids in found)
    text = "\n".join(why.iis.lines())
    assert "capex budget in 2025: at most 100 USD (table budget: capex_limit)" in text
    assert "build_cost 300" in text


def test_iis_none_when_only_integrality_is_infeasible(tmp_path):
    """50 of 100 committed on a candidate line costing 300 under a 200 budget: half a line (150) fits the
    LP relaxation, a whole one does not — no LP IIS; explain says so in one line."""
    t = base(lines=[{"line_id": "L1", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "candidate",
                     "build_cost": 300, "lead_time": 0}],
             demand=[{"programme_id": "P", "market_id": "M", "year": 2025, "volume": 100, "min_volume": 50}],
             budget=[{"year": 2025, "capex_limit": 200}])
    why = explain(load(tmp_path, t), iis=True)
    assert not why.feasible and [f.kind for f in why.findings] == ["budget"]
    assert why.iis.status == "integrality" and why.iis.items == ()
    assert why.iis.lines() == [why.iis.message]
    assert "LP relaxation is feasible" in why.iis.message and "integrality" in why.iis.message


def test_iis_feasible_instance(tmp_path):
    why = explain(load(tmp_path, base()), iis=True)
    assert why.feasible and why.iis.status == "feasible" and why.iis.items == ()
    assert why.lines()[-1] == "IIS: none — the model is feasible."


def test_iis_unavailable_is_one_line():
    """When HiGHS cannot compute an IIS the report is one clear line (and the findings stand)."""
    from optimiser.explain import translate_iis
    from optimiser.solver.iis import IisResult

    rep = translate_iis(None, None, IisResult("unavailable", True, message="HiGHS reached the time limit while "
                                                                           "computing the IIS"), feasible=False)
    assert rep.status == "unavailable"
    assert rep.lines() == ["IIS: not available — HiGHS reached the time limit while computing the IIS."]


def test_compute_iis_plain_lp():
    """solve.compute_iis on a hand-built LP: x + y ≥ 5 with x ≤ 2, y ≤ 2 (a third row is irrelevant)."""
    import numpy as np
    import scipy.sparse as sp

    from optimiser.solver.arrays import ColumnKey, Compiled
    from optimiser.solver.iis import compute_iis

    a = sp.csc_matrix(np.array([[1.0, 1.0], [1.0, -1.0], [0.0, 1.0]]))
    cols = (ColumnKey("x", ()), ColumnKey("y", ()))
    rows = (("need", (), -1), ("spread", (), 1), ("other", (), -1))
    cm = Compiled(np.zeros(2), 0.0, a, np.array([5.0, -np.inf, -10.0]), np.array([np.inf, 10.0, np.inf]),
                  np.zeros(2), np.array([2.0, 2.0]), np.zeros(2, dtype=np.int32), cols, rows, 0.0)
    res = compute_iis(cm)
    assert res.status == "found" and res.irreducible and not res.relaxation
    assert [(r.key[0], r.bound) for r in res.rows] == [("need", "lower")]
    assert sorted((c.key.var, c.bound, c.upper) for c in res.columns) == [("x", "upper", 2.0), ("y", "upper", 2.0)]
    feasible = Compiled(cm.sense_min_cost, 0.0, a, np.array([3.0, -np.inf, -10.0]), cm.row_upper, cm.col_lower,
                        cm.col_upper, cm.integrality, cols, rows, 0.0)
    assert compute_iis(feasible).status == "feasible"


def test_explain_cli_iis_text_json_and_exit_2(tmp_path):
    t = base(demand=[{"programme_id": "P", "market_id": "M", "year": 2025, "volume": 150, "min_volume": 150}])
    folder = tmp_path / "inst"
    write_tables(dict_tables(t), folder)
    res = CliRunner().invoke(app, ["explain", str(folder), "--iis"])
    assert res.exit_code == 2, res.output
    assert "Irreducible infeasible subset (IIS)" in res.output and "table demand" in res.output
    res = CliRunner().invoke(app, ["explain", str(folder), "--iis", "--json"])
    assert res.exit_code == 2
    import json

    data = json.loads(res.stdout)
    assert data["feasible"] is False and data["findings"]
    assert data["iis"]["status"] == "found" and data["iis"]["lp_relaxation"] is True
    assert {"kind", "family", "table", "ids", "text"} <= set(data["iis"]["items"][0])
    res = CliRunner().invoke(app, ["explain", str(folder), "--json"])
    assert "iis" not in json.loads(res.stdout)
    ok = tmp_path / "ok"
    write_tables(dict_tables(base()), ok)
    res = CliRunner().invoke(app, ["explain", str(ok), "--iis"])
    assert res.exit_code == 0 and "IIS: none — the model is feasible." in res.output
