"""Plans as objects (issue 21): plan files, `solve --fix`, `solve --start`, capacity-value ranges.

Hand-solved case (`_build_case`): years 2025–2026, one market M, factory F. Existing L0 (cap 100);
candidate L2 (cap 100, build 300, lead 0). P: price 10, cost 0, demand 150 a year of which 150
committed (min_volume). 200 of the 300 units need L2, so the optimum builds L2 in 2025, tools P on
L0 and L2: NPV = 300 × 10 − 300 = 2,700. Without L2, at most 100 of the 150 committed units a year
can be delivered.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from builders import load, settings
from optimiser.cli import app
from optimiser.errors import InfeasibleError
from optimiser.app import run_solve
from optimiser.engine import solve_instance
from optimiser.plan import Plan, PlanError, check_plan, plan_of, read_plan, write_plan
from optimiser.solver.options import SolveOptions

EXACT = SolveOptions(mip_gap=0)


def _build_case(price: float = 10, committed: float = 150):
    return {
        "settings": settings(2025, 2026),
        "factories": [{"factory_id": "F", "country": "VN"}],
        "markets": [{"market_id": "M"}],
        "lines": [{"line_id": "L0", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "existing"},
                  {"line_id": "L2", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "candidate",
                   "build_cost": 300, "lead_time": 0}],
        "programmes": [{"programme_id": "P", "kind": "vehicle", "unit_price": price, "max_lines": 2}],
        "routings": [{"programme_id": "P", "line_type": "VA", "capacity_use": 1}],
        "demand": [{"programme_id": "P", "market_id": "M", "year": y, "volume": 150, "min_volume": committed}
                   for y in (2025, 2026)],
    }


def _folder(tmp_path, tables, name="inst"):
    from optimiser.writers import dict_tables, write_tables

    folder = tmp_path / name
    write_tables(dict_tables(tables), folder)
    return folder


def test_plan_file_holds_the_first_stage_and_diffs_line_by_line(tmp_path):
    inst = load(tmp_path, _build_case())
    res = solve_instance(inst, options=EXACT)
    assert res.run.npv == pytest.approx(2700)
    plan = plan_of(res, inst)
    assert plan.deals == () and plan.builds == (("L2", 2025),)
    assert plan.tooling == (("P", "L0"), ("P", "L2"))
    assert plan.npv == pytest.approx(2700) and plan.objective == pytest.approx(2700)
    assert plan.instance_sha256 == inst.fingerprint and plan.status == "optimal"
    path = write_plan(plan, tmp_path / "plan.json")
    text = path.read_text()
    lines = text.splitlines()
    # one decision per line, keys sorted
    assert '    {"build_year": 2025, "line_id": "L2"}' in lines
    assert '    {"line_id": "L0", "programme_id": "P"},' in lines
    keys = [json.loads("{" + ln.rstrip(",") + "}") for ln in lines if ln.startswith('  "') and not ln.endswith("[")]
    top = [next(iter(k)) for k in keys]
    assert top == sorted(top)
    back = read_plan(path)
    assert back == plan
    assert json.loads(text)["format"] == "optimiser-plan"


def test_fingerprint_same_for_csv_and_workbook(tmp_path):
    from optimiser.app import convert_instance
    from optimiser.validate import load_instance

    folder = _folder(tmp_path, _build_case())
    convert_instance(folder, tmp_path / "book.xlsx")
    a, _ = load_instance(folder)
    b, _ = load_instance(tmp_path / "book.xlsx")
    assert a.fingerprint == b.fingerprint


def test_unknown_ids_are_named_one_line_each(tmp_path):
    inst = load(tmp_path, _build_case())
    plan = Plan("x", "0" * 64, "optimise", None, ("base",), "optimal", 1.0, 1.0,
                deals=("ghost_deal",), builds=(("L9", 2025), ("L0", 2025)), tooling=(("P", "L0"), ("Q", "L0")),
                source="old.json")
    with pytest.raises(PlanError) as err:
        check_plan(plan, inst)
    details = err.value.details
    assert details[0].startswith("warning: old.json: the plan was made for instance 'x' with other data")
    details = details[1:]
    assert len(details) == 4
    assert details[0] == "old.json: deals[0]: option 'ghost_deal' no longer exists (table options)"
    assert any("line 'L9' no longer exists" in d for d in details)
    assert any("'L0' is no longer a candidate" in d for d in details)
    assert any("programme 'Q' no longer exists" in d for d in details)


def test_malformed_plan_file_is_located(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text('{"format": "optimiser-plan",\n "version": 1,\n oops}')
    with pytest.raises(PlanError, match=r"bad.json: line 3, column 2"):
        read_plan(p)
    p.write_text(json.dumps({"format": "optimiser-plan", "version": 1, "instance": "i", "instance_sha256": "s",
                             "strategy": "optimise", "scenarios": [], "status": "optimal",
                             "builds": [{"line_id": "L2", "build_year": "soon"}]}))
    with pytest.raises(PlanError, match=r"builds\[0\]\.build_year: expected a whole year"):
        read_plan(p)
    p.write_text("[1, 2]")
    with pytest.raises(PlanError, match="not a plan file"):
        read_plan(p)


def test_fixed_plan_of_the_optimum_gives_the_optimum_and_the_report_has_the_plan(tmp_path):
    from openpyxl import load_workbook

    folder = _folder(tmp_path, _build_case())
    solved, report = run_solve(folder, options=EXACT, out=tmp_path / "r.xlsx", save_plan=tmp_path / "plan.json")
    assert solved.results.run.npv == pytest.approx(2700)
    fixed, _ = run_solve(folder, options=EXACT, write_report=False, fix=tmp_path / "plan.json")
    assert fixed.results.run.npv == pytest.approx(2700)
    assert fixed.results.first_stage() == solved.results.first_stage()
    ws = load_workbook(report)["Plan"]
    cells = [c for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert "L2" in cells and 2025 in cells and 2700 in cells and "build" in cells and "tooling" in cells


def _without_l2(tmp_path, tooling_too: bool = True):
    d = json.loads((tmp_path / "plan.json").read_text())
    d["builds"] = []
    if tooling_too:
        d["tooling"] = [t for t in d["tooling"] if t["line_id"] != "L2"]
    (tmp_path / "old.json").write_text(json.dumps(d))


def test_fixed_plan_without_the_needed_line_names_the_commitment(tmp_path):
    folder = _folder(tmp_path, _build_case())
    run_solve(folder, options=EXACT, write_report=False, save_plan=tmp_path / "plan.json")
    _without_l2(tmp_path)
    with pytest.raises(InfeasibleError) as err:
        run_solve(folder, options=EXACT, write_report=False, fix=tmp_path / "old.json")
    assert "can no longer be carried out" in str(err.value)
    text = "\n".join(err.value.details)
    # 150 committed each year, only L0's 100 can be delivered
    assert "M 2025: committed 150 units but at most 100 can be delivered" in text
    assert "M 2026: committed 150 units but at most 100 can be delivered" in text
    # a plan that still tools P on the line it no longer builds contradicts itself: said so
    _without_l2(tmp_path, tooling_too=False)
    with pytest.raises(InfeasibleError) as err:
        run_solve(folder, options=EXACT, write_report=False, fix=tmp_path / "old.json")
    assert err.value.details == ("old.json: tooling P on L2 needs line L2, which the plan does not build",) or \
        err.value.details[0].endswith("tooling P on L2 needs line L2, which the plan does not build")


def test_fixed_plan_of_a_worse_plan_is_worth_less(tmp_path):
    """Build L2 a year late (2026) with nothing committed: 100 + 200 units = 3,000 − 300 = 2,700 −
    the 50 units lost in 2025 (500) = 2,200."""
    folder = _folder(tmp_path, _build_case(committed=0))
    run_solve(folder, options=EXACT, write_report=False, save_plan=tmp_path / "plan.json")
    d = json.loads((tmp_path / "plan.json").read_text())
    d["builds"] = [{"line_id": "L2", "build_year": 2026}]
    (tmp_path / "late.json").write_text(json.dumps(d))
    late, _ = run_solve(folder, options=EXACT, write_report=False, fix=tmp_path / "late.json")
    assert late.results.run.npv == pytest.approx(2200)


def test_cli_save_plan_fix_and_errors(tmp_path):
    folder = _folder(tmp_path, _build_case())
    r = CliRunner().invoke(app, ["solve", str(folder), "--mip-gap", "0", "--no-report",
                                 "--save-plan", str(tmp_path / "p.json")])
    assert r.exit_code == 0, r.output
    # a plan for other data: a warning, and the plan is still evaluated
    other = _folder(tmp_path, _build_case(price=11), "other")
    r = CliRunner().invoke(app, ["solve", str(other), "--mip-gap", "0", "--no-report", "--json",
                                 "--fix", str(tmp_path / "p.json")])
    assert r.exit_code == 0, r.output
    assert "other data" in r.stderr
    assert json.loads(r.stdout)["npv"] == pytest.approx(300 * 11 - 300)
    # unknown ids: one line each, exit 1, nothing written
    d = json.loads((tmp_path / "p.json").read_text())
    d["builds"] = [{"line_id": "L7", "build_year": 2025}]
    d["deals"] = [{"option_id": "gone"}]
    (tmp_path / "bad.json").write_text(json.dumps(d))
    r = CliRunner().invoke(app, ["solve", str(folder), "--out", str(tmp_path / "x.xlsx"), "--fix", str(tmp_path / "bad.json")])
    assert r.exit_code == 1
    assert "deals[0]: option 'gone' no longer exists" in r.stderr
    assert "builds[0]: line 'L7' no longer exists" in r.stderr
    assert not (tmp_path / "x.xlsx").exists()
    # infeasible fixed plan: exit 2 with the commitment named
    d = json.loads((tmp_path / "p.json").read_text())
    d["builds"] = []
    d["tooling"] = [t for t in d["tooling"] if t["line_id"] != "L2"]
    (tmp_path / "old.json").write_text(json.dumps(d))
    r = CliRunner().invoke(app, ["solve", str(folder), "--no-report", "--fix", str(tmp_path / "old.json")])
    assert r.exit_code == 2
    assert "committed 150 units but at most 100" in r.stderr


def test_start_plan_checked_then_used_or_dropped(tmp_path):
    folder = _folder(tmp_path, _build_case())
    best, _ = run_solve(folder, options=EXACT, write_report=False, save_plan=tmp_path / "plan.json")
    warm, _ = run_solve(folder, options=EXACT, write_report=False, start=tmp_path / "plan.json")
    assert warm.results.run.npv == pytest.approx(2700)
    assert warm.results.run.start_plan["feasible"] is True
    assert warm.results.run.start_plan["npv"] == pytest.approx(2700)
    _without_l2(tmp_path)
    said = []
    cold, _ = run_solve(folder, options=EXACT, write_report=False, start=tmp_path / "old.json", notify=said.append)
    assert cold.results.run.npv == pytest.approx(2700)
    assert cold.results.run.start_plan["feasible"] is False
    assert any("HiGHS starts without it" in s for s in said)


# ------------------------------------------------------------------ ranges on capacity values

def _one_line(capacity: float):
    """cap on L1, use 1, demand 150, price 10, cost 4: each capacity unit is worth 6 while
    capacity < 150 (demand binds above, then it is worth 0)."""
    return {
        "settings": settings(),
        "factories": [{"factory_id": "F", "country": "VN"}],
        "markets": [{"market_id": "M"}],
        "lines": [{"line_id": "L1", "factory_id": "F", "line_type": "VA", "capacity": capacity, "status": "existing"}],
        "programmes": [{"programme_id": "P", "kind": "vehicle", "unit_price": 10}],
        "routings": [{"programme_id": "P", "line_type": "VA", "capacity_use": 1, "unit_cost": 4}],
        "demand": [{"programme_id": "P", "market_id": "M", "year": 2025, "volume": 150}],
    }


def _value(tmp_path, capacity, name):
    inst = load(tmp_path, _one_line(capacity), name)
    return solve_instance(inst, options=EXACT).capacity_value.iloc[0]


def test_capacity_value_range_brackets_capacity_and_dual_changes_outside(tmp_path):
    row = _value(tmp_path, 100, "c100")
    assert row.shadow_price == pytest.approx(6.0)
    assert row.capacity == pytest.approx(100)
    assert row.range_low == pytest.approx(0) and row.range_high == pytest.approx(150)
    assert row.range_low <= row.capacity <= row.range_high
    # inside the range the value holds; just above it the demand binds and it drops to 0
    assert _value(tmp_path, 149, "c149").shadow_price == pytest.approx(6.0)
    assert _value(tmp_path, 151, "c151").shadow_price == pytest.approx(0.0)


def test_capacity_value_range_on_a_ramp_up_year(tmp_path):
    """Candidate L2 built 2025, lead 1, ramp 0.5: in 2026 it offers 50 of its 100 (the ramp row
    binds, demand 100 with L0 retired): each unit is worth 10 up to 100 units of capacity."""
    t = _build_case(committed=0)
    t.update(settings=settings(2025, 2027),
             lines=[{"line_id": "L0", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "existing",
                     "retire_after": 2025},
                    {"line_id": "L2", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "candidate",
                     "build_cost": 300, "lead_time": 1, "ramp_up": 0.5}],
             demand=[{"programme_id": "P", "market_id": "M", "year": y, "volume": 100} for y in (2025, 2026, 2027)])
    res = solve_instance(load(tmp_path, t), options=EXACT)
    assert res.run.npv == pytest.approx(2200)
    cv = res.capacity_value.set_index(["line_id", "year"])
    r26 = cv.loc[("L2", 2026)]
    assert r26.shadow_price == pytest.approx(10.0) and r26.capacity == pytest.approx(50)
    assert r26.range_low == pytest.approx(0) and r26.range_high == pytest.approx(100)


def test_plan_that_contradicts_the_rules_is_named_before_solving(tmp_path):
    """A build from which the line is never ready within the horizon (lead time 2 from 2026, horizon
    ends 2026) would be silently dropped by the model: it is named instead; as a start it is dropped."""
    t = _build_case(committed=0)
    t["lines"][1]["lead_time"] = 1
    folder = _folder(tmp_path, t)
    run_solve(folder, options=EXACT, write_report=False, save_plan=tmp_path / "plan.json")
    d = json.loads((tmp_path / "plan.json").read_text())
    d["builds"] = [{"line_id": "L2", "build_year": 2026}]
    d["tooling"] = [{"line_id": "L2", "programme_id": "P"}]
    (tmp_path / "late.json").write_text(json.dumps(d))
    with pytest.raises(InfeasibleError) as err:
        run_solve(folder, options=EXACT, write_report=False, fix=tmp_path / "late.json")
    assert err.value.details == (f"{tmp_path / 'late.json'}: line L2 built in 2026 would be ready in 2027, "
                                 "outside its window 2025–2026 (table lines)",)
    said = []
    res, _ = run_solve(folder, options=EXACT, write_report=False, start=tmp_path / "late.json", notify=said.append)
    assert res.results.run.status == "optimal" and res.results.run.start_plan is None
    assert any("HiGHS starts without it" in s for s in said)


def test_capacity_ranging_agrees_with_highs_getranging():
    """Our ranging of the capacity rows (one basis solve per binding row) against HiGHS's own
    getRanging of the whole LP, on the default case's duals LP: equal on every binding row;
    a row with slack holds its value (0) from its activity upwards."""
    from pathlib import Path

    import highspy
    import numpy as np

    from optimiser.model import build_model, prepare
    from optimiser.model.compile import compile_model
    from optimiser.solver.duals import fixed_lp_duals, rhs_ranges
    from optimiser.solver.highs import new_highs, pass_compiled
    from optimiser.solver.solve import solve_compiled
    from optimiser.validate import load_instance

    inst, _ = load_instance(Path(__file__).resolve().parent.parent / "instances" / "foxconn-vinfast-2021")
    cm = compile_model(build_model(prepare(inst, scenario="base")))
    out = solve_compiled(cm, SolveOptions(duals=False))
    h = new_highs()
    pass_compiled(h, cm)
    assert fixed_lp_duals(h, cm, out.x, True) is not None
    ours = rhs_ranges(h, cm)
    _, rng = h.getRanging()
    status = h.getBasis().row_status
    activity = np.asarray(h.getSolution().row_value)
    binding = slack = 0
    for i, (name, _, _) in enumerate(cm.rows):
        if name not in ("capacity", "ramp") or np.isnan(ours[i, 0]):
            continue
        if status[i] == highspy.HighsBasisStatus.kBasic:
            slack += 1
            assert ours[i, 0] == pytest.approx(activity[i]) and ours[i, 1] == np.inf
        else:
            binding += 1
            assert ours[i, 0] == pytest.approx(rng.row_bound_dn.value_[i], abs=1e-6)
            assert ours[i, 1] == pytest.approx(rng.row_bound_up.value_[i], abs=1e-6)
    assert binding >= 10 and slack >= 10
