"""`optimiser decide` on the hand-solved deal case (tests/test_compare.py) with a sensitivity table.

Stochastic plans: partner 600 (upfront 100, toll 3 on 200 units expected), buy 500 (upfront 500),
neither 0 → recommended partner, runner-up buy, lead 100. The bridge buy → partner: deal costs
−100 − (−500) = +400, partner tolls −300 (½·50·3 + ½·150·3), Σ = 100. Break-evens: buy's upfront
cost at 400 (1000 − U = 600; buy is the runner-up, so searched over [0, 500]); partner's upfront at
200 (900 − U = 500, searched over [100, 300]); the toll f (sensitivity row, 2..6) at 4 (900 − 100 f = 500).
"""

from __future__ import annotations

import json

import openpyxl
import pytest
from typer.testing import CliRunner

from builders import npv_of as _npv, tables_folder as _folder
from builders import deal_case

from optimiser.cli import app
from optimiser.parameters import Base, parse_change

SENSITIVITY = [{"parameter": "lines.unit_fee[LP]", "low": 2, "high": 6, "note": "toll"},
               {"parameter": "programmes.unit_price[*]", "low": 0.9, "high": 1.1, "kind": "multiplier"}]





def _tables():
    t = deal_case()
    t["sensitivity"] = [dict(r) for r in SENSITIVITY]
    return t


def _decide(folder, out):
    res = CliRunner().invoke(app, ["decide", str(folder), "--out", str(out), "--json", "--workers", "1",
                                   "--mip-gap", "0"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("decide")
    folder = _folder(tmp, _tables())
    out = tmp / "d.xlsx"
    return folder, out, _decide(folder, out)


def _cells(path):
    wb = openpyxl.load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


def _row(sheet, first):
    return next(r for r in sheet if r and r[0] == first)


def test_recommendation_and_first_sheet_agree_with_the_json(run):
    _, out, d = run
    assert (d["recommended"], d["runner_up"]) == ("partner", "buy")
    assert d["margin"] == pytest.approx(100)
    npv = {r["strategy"]: r["expected_npv"] for r in d["strategies"]}
    assert npv == pytest.approx({"buy": 500, "partner": 600, "neither": 0, "optimise": 600})
    cells = _cells(out)
    assert list(cells)[:6] == ["Decision", "Strategies", "NPV bridge", "Break-evens", "Tornado", "Flexibility"]
    assert any(t.startswith("Plan ") for t in cells)
    first = cells["Decision"]
    text = [r[0] for r in first if r and isinstance(r[0], str)]
    assert d["headline"] in text and all(s in text for s in d["why"] + d["changes"] + d["caveats"])
    assert _row(first, "lead over the runner-up (M USD)")[2] == pytest.approx(d["margin"] / 1e6, abs=1e-15)
    assert _row(first, "expected cash NPV, recommended (M USD)")[2] == pytest.approx(600 / 1e6, abs=1e-15)
    assert "buy wins only if the upfront cost of buy falls below 400 USD (now 500 USD)." in d["changes"]
    strat = cells["Strategies"]
    for r in d["strategies"]:
        row = _row(strat, r["strategy"])
        assert row[1] == pytest.approx(r["expected_npv"] / 1e6, abs=1e-15)
        assert row[2] == pytest.approx(r["worst_case"] / 1e6, abs=1e-15)
        assert row[3] == pytest.approx(r["max_regret"] / 1e6, abs=1e-15)
        assert row[4] == pytest.approx(r["cvar"] / 1e6, abs=1e-15)


def test_bridge_sums_to_the_npv_difference(run):
    _, out, d = run
    rows = {r["category"]: r["delta"] for r in d["bridge"]["rows"]}
    assert rows["deal_costs"] == pytest.approx(400) and rows["partner_fees"] == pytest.approx(-300)
    assert sum(rows.values()) == pytest.approx(d["margin"], abs=1e-9)
    assert d["bridge"]["total"] == pytest.approx(d["margin"], abs=1e-9)
    sheet = _cells(out)["NPV bridge"]
    labels = [r["label"] for r in d["bridge"]["rows"]]
    deltas = [_row(sheet, lab)[3] for lab in labels]
    assert sum(deltas) == pytest.approx(d["margin"] / 1e6, abs=1e-12)
    assert _row(sheet, "cash NPV (total)")[3] == pytest.approx(d["margin"] / 1e6, abs=1e-15)
    ws = openpyxl.load_workbook(out)["NPV bridge"]
    assert len(ws._charts) == 1


def test_breakevens_flip_the_order_when_resolved_either_side(run):
    folder, out, d = run
    be = {b["parameter"]: b for b in d["breakevens"]}
    sheet = _cells(out)["Break-evens"]
    for p, b in be.items():  # money parameters in millions, as the unit column says
        row = _row(sheet, p)
        scale = 1e6 if row[2] == "M USD" else 1.0  # per-unit rates stay in whole currency units
        assert row[2] in ("M USD", "as in the instance", "× today's value")
        assert row[3] == pytest.approx(b["current"] / scale, abs=1e-15)
        assert row[6] == (None if b["value"] is None else pytest.approx(b["value"] / scale, abs=1e-15))
    assert _row(sheet, "options.upfront_cost[buy]")[2] == "M USD"
    assert be["options.annual_cost[buy]"]["method"] == "not searched"  # buy's, already 0: cannot fall
    assert be["options.upfront_cost[buy]"]["value"] == pytest.approx(400, abs=1e-6)
    assert be["options.upfront_cost[partner]"]["value"] == pytest.approx(200, abs=1e-6)
    assert be["lines.unit_fee[LP]"]["value"] == pytest.approx(4, abs=1e-6)
    assert be["lines.unit_fee[LP]"]["source"] == "sensitivity row 2"
    assert "programmes.unit_price[*]" not in be  # ±10 % never flips partner and buy
    base = Base.load(folder)
    assert be["options.upfront_cost[partner]"]["solves"] == 3  # buy cannot move: partner alone, at 3 values
    for p, eps in (("options.upfront_cost[buy]", 1.0), ("options.upfront_cost[partner]", 1.0),
                   ("lines.unit_fee[LP]", 0.01)):
        v = be[p]["value"]
        sides = []
        for x in (v - eps, v + eps):
            inst = base.with_changes([parse_change(f"{p}={x}")])
            sides.append(_npv(inst, "partner") - _npv(inst, "buy"))
        assert sides[0] * sides[1] < 0


def test_tornado_rows_equal_solve_of_the_modified_instance(run):
    folder, out, d = run
    t = d["tornado"]
    base = Base.load(folder)
    assert [r["parameter"] for r in t["rows"]] == ["lines.unit_fee[LP]", "programmes.unit_price[*]"]
    for r in t["rows"]:
        for end in ("low", "high"):
            op = "=" if r["kind"] == "absolute" else "*"
            inst = base.with_changes([parse_change(f"{r['parameter']}{op}{r[end]}")])
            for k in ("partner", "buy"):
                assert r[f"npv_{end}"][k] == pytest.approx(_npv(inst, k), abs=1e-6)
    sheet = _cells(out)["Tornado"]
    assert _row(sheet, "lines.unit_fee[LP]")[4] == pytest.approx(t["rows"][0]["recommended_low"] / 1e6)


def test_two_runs_are_identical(run, tmp_path):
    folder, out, d = run
    out2 = tmp_path / "d2.xlsx"
    d2 = _decide(folder, out2)
    d.pop("workbook"), d2.pop("workbook")
    assert d2 == d
    assert _cells(out2) == _cells(out)


def test_unknown_parameter_in_the_sensitivity_table_is_one_line_and_writes_nothing(tmp_path):
    t = _tables()
    t["sensitivity"].append({"parameter": "lines.capacity[NOPE]", "low": 1, "high": 2})
    folder = _folder(tmp_path, t)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    out = tmp_path / "bad.xlsx"
    res = CliRunner().invoke(app, ["decide", str(folder), "--out", str(out), "--workers", "1"])
    assert res.exit_code == 1
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert any("sensitivity row 4, column parameter" in x and "NOPE" in x for x in lines)
    assert not out.exists()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_range_that_breaks_the_instance_or_a_bad_out_fails_before_any_solve(tmp_path):
    t = _tables()
    t["sensitivity"].append({"parameter": "lines.capacity[LB]", "low": -1, "high": 5})
    folder = _folder(tmp_path, t)
    out = tmp_path / "bad.xlsx"
    res = CliRunner().invoke(app, ["decide", str(folder), "--out", str(out), "--workers", "1"])
    assert res.exit_code == 1 and not out.exists()
    assert "with lines.capacity[LB]=-1: lines row 2, column capacity: -1 is negative" in res.output
    res = CliRunner().invoke(app, ["decide", str(_folder(tmp_path, _tables(), "ok")), "--out",
                                   str(tmp_path / "d.csv")])
    assert res.exit_code == 1 and "ending in .xlsx" in res.output and not (tmp_path / "d.csv").exists()
