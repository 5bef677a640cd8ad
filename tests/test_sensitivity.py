"""Parameters (any numeric input), break-even and tornado on hand-solved instances (issue 20 items 1–3).

The deal case (tests/test_compare.py): price 10, demand 100 × (½ low, 1½ high; p = ½ each).
Buy (upfront U, line LB cap 200, no toll) earns ½·(50·10 − U) + ½·(150·10 − U) = 1000 − U;
partner (upfront 100, line LP cap c, toll f) earns ½·min(50, c)·(10 − f) + ½·min(150, c)·(10 − f) − 100,
= 900 − 100 f at c = 200, and 75 + 3.5 c for 50 ≤ c ≤ 150 (f = 3). Neither earns 0.
So, against partner's 600: buy breaks even at U = 400; against buy's 500: partner's toll at f = 4,
partner's capacity at c = 425 / 3.5 = 121.428571…
"""

from __future__ import annotations

import json

import openpyxl
import pytest
from typer.testing import CliRunner

from builders import EXACT as OPTS, npv_of as _npv, tables_folder as _folder
from builders import deal_case, load

from optimiser.cli import app
from optimiser.errors import InputError
from optimiser.parameters import Base, Range, parse_change, parse_parameter, parse_range
from optimiser.engine import solve_instance
from optimiser.sensitivity import breakeven
from optimiser.solver.options import SolveOptions
from optimiser.tornado import tornado



# ------------------------------------------------------------------ parameters

def test_each_kind_of_path_changes_what_it_says(tmp_path):
    tables = deal_case()
    tables["demand"].append({"programme_id": "P", "market_id": "M", "year": 2026, "volume": 7})
    tables["settings"][2]["value"] = 2026  # last_year
    base = Base.load(_folder(tmp_path, tables))
    inst = base.with_changes([parse_change("options.upfront_cost[buy]=123")])
    assert {o.id: o.upfront_cost for o in inst.options} == {"buy": 123, "partner": 100}
    inst = base.with_changes([parse_change("settings.discount_rate=0.1")])
    assert inst.discount_rate == 0.1
    inst = base.with_changes([parse_change("programmes.unit_price[*]*1.5")])
    assert inst.programme("P").unit_price == 15
    inst = base.with_changes([parse_change("routings.unit_cost[P@VA]=2")])  # routing keyed by line_type
    assert all(r.unit_cost == 2 for r in inst.routings.values())
    inst = base.with_changes([parse_change("demand.volume[P@M@2026]*3")])  # composite key
    assert inst.demand[("P", "M", 2026)].volume == 21 and inst.demand[("P", "M", 2025)].volume == 100
    inst = base.with_changes([parse_change("demand.volume[*@*@2025]=40")])  # a wildcard part
    assert inst.demand[("P", "M", 2025)].volume == 40 and inst.demand[("P", "M", 2026)].volume == 7
    inst = base.with_changes([parse_change("lines.unit_fee[lb]=1")])  # ids compared as the validator does
    assert inst.line("LB").unit_fee == 1
    assert inst.fingerprint != base.instance.fingerprint
    assert base.instance.line("LB").unit_fee == 0  # the base is untouched


@pytest.mark.parametrize("text, words", [
    ("nosuch.capacity[LB]=1", "unknown table 'nosuch'"),
    ("lines.speed[LB]=1", "table lines has no column 'speed'"),
    ("lines.line_type[LB]=1", "not a numeric column"),
    ("lines.capacity[XX]=1", "no row of lines has line_id 'XX'"),
    ("lines.capacity=1", "say which rows"),
    ("demand.volume[P@M]=1", "named by 3 part"),
    ("settings.name=1", "not a number"),
    ("settings.discount_rate[x]=1", "a setting has no rows"),
    ("programmes.external_price[P]*2", "no external_price to multiply"),
    ("lines.capacity[LB]=-5", "lines row 2, column capacity: -5 is negative"),
    ("options.upfront_cost[buy]=abc", "not a number"),
    ("options.upfront_cost[buy]", "PARAMETER=VALUE"),
])
def test_bad_parameters_are_one_located_line(tmp_path, text, words):
    folder = _folder(tmp_path)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    base = Base.load(folder)
    with pytest.raises(InputError, match=words) as info:
        base.with_changes([parse_change(text)])
    assert "\n" not in str(info.value)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_range_with_low_above_high_is_refused():
    with pytest.raises(InputError, match="low 2 is above high 1"):
        parse_range("options.upfront_cost[buy]=2,1")
    assert parse_range("programmes.unit_price[*]*0.9,1.1") == Range(parse_parameter("programmes.unit_price[*]"),
                                                                   0.9, 1.1, "multiplier")


def test_sensitivity_table_rows_are_validated(tmp_path):
    tables = deal_case()
    tables["sensitivity"] = [
        {"parameter": "options.upfront_cost[buy]", "low": 300, "high": 700},
        {"parameter": "lines.capacity[NOPE]", "low": 1, "high": 2},
        {"parameter": "programmes.unit_price[*]", "low": 1.1, "high": 0.9, "kind": "multiplier"},
        {"parameter": "programmes.external_price[P]", "low": 1, "high": 2, "kind": "multiplier"},
    ]
    from optimiser.errors import InvalidInstance

    with pytest.raises(InvalidInstance) as info:
        load(tmp_path, tables)
    errors = [str(p) for p in info.value.problems if p.severity == "error"]
    assert len(errors) == 3
    assert errors[0].startswith("sensitivity row 3, column parameter:") and "NOPE" in errors[0]
    assert errors[1].startswith("sensitivity row 4, column high: high 0.9 is below low 1.1")
    assert errors[2].startswith("sensitivity row 5, column parameter:") and "to multiply" in errors[2]


# ------------------------------------------------------------------ break-even

def _flips(base, text, value, eps, a, b):
    """A's and B's order on either side of ``value``: (A − B just below, A − B just above)."""
    below = base.with_changes([parse_change(f"{text}={value - eps}")])
    above = base.with_changes([parse_change(f"{text}={value + eps}")])
    return _npv(below, a) - _npv(below, b), _npv(above, a) - _npv(above, b)


def test_breakeven_purchase_price_is_exact_and_flips_the_order(tmp_path):
    base = Base.load(_folder(tmp_path))
    p = parse_parameter("options.upfront_cost[buy]")
    r = breakeven(base, p, "buy", "partner", 0, 1000, options=OPTS)
    assert r.breakeven.value == pytest.approx(400, abs=1e-6)
    assert r.breakeven.method == "exact (linear)"
    assert r.parameter_class == "objective coefficient (linear)"
    assert (r.breakeven.before, r.breakeven.after) == ("buy", "partner")
    assert r.recommendation.value == pytest.approx(400, abs=1e-6)
    assert (r.recommendation.before, r.recommendation.after) == ("buy", "partner")
    lo, hi = _flips(base, "options.upfront_cost[buy]", r.breakeven.value, 1.0, "buy", "partner")
    assert lo == pytest.approx(1.0) and hi == pytest.approx(-1.0)  # 1000 − U − 600 = ±1


def test_breakeven_of_a_toll_and_of_a_capacity(tmp_path):
    base = Base.load(_folder(tmp_path))
    fee = breakeven(base, parse_parameter("lines.unit_fee[LP]"), "partner", "buy", 0, 10, options=OPTS)
    assert fee.breakeven.value == pytest.approx(4, abs=1e-6)
    lo, hi = _flips(base, "lines.unit_fee[LP]", fee.breakeven.value, 0.01, "partner", "buy")
    assert lo > 0 > hi
    cap = breakeven(base, parse_parameter("lines.capacity[LP]"), "partner", "buy", 0, 200, options=OPTS)
    assert cap.breakeven.value == pytest.approx(425 / 3.5, abs=0.02)  # right-hand side: no exact step
    assert cap.parameter_class != "objective coefficient (linear)"
    lo, hi = _flips(base, "lines.capacity[LP]", cap.breakeven.value, 0.05, "partner", "buy")
    assert lo < 0 < hi


def test_no_breakeven_in_range_and_rebuild_agrees(tmp_path):
    base = Base.load(_folder(tmp_path))
    p = parse_parameter("options.upfront_cost[buy]")
    r = breakeven(base, p, "buy", "partner", 0, 300, options=OPTS)
    assert r.breakeven.value is None
    assert r.sentence() == "no break-even in [0, 300] between buy and partner: buy is ahead over the whole range"
    fresh = breakeven(base, p, "buy", "partner", 0, 1000, options=OPTS, reuse=False)
    assert fresh.breakeven.value == pytest.approx(400, abs=1e-6)


def test_a_strategy_losing_its_plan_is_a_change_not_an_error(tmp_path):
    """A capex limit of 350 in 2025 makes buy infeasible for U > 350. Up to there buy earns
    1000 − U ≥ 650 > 600, so buy stays ahead until it has no plan: the change is at U = 350."""
    tables = deal_case()
    tables["budget"] = [{"year": 2025, "capex_limit": 350}]
    base = Base.load(_folder(tmp_path, tables))
    r = breakeven(base, parse_parameter("options.upfront_cost[buy]"), "buy", "partner", 0, 1000, options=OPTS,
                  tolerance=1.0)
    assert r.breakeven.value == pytest.approx(350, abs=0.5)  # the midpoint of a bracket narrower than 1
    assert r.breakeven.note.startswith("buy has no plan (infeasible) above 350")
    assert r.sentence().startswith("buy is ahead of partner up to options.upfront_cost[buy] = 350")
    assert (r.recommendation.before, r.recommendation.after) == ("buy", "partner")
    tables["budget"] = [{"year": 2025, "capex_limit": 450}]  # buy feasible to 450: the break-even at 400 is real
    base = Base.load(_folder(tmp_path, tables, "b450"))
    r = breakeven(base, parse_parameter("options.upfront_cost[buy]"), "buy", "partner", 0, 1000, options=OPTS)
    assert r.breakeven.value == pytest.approx(400, abs=1e-6) and r.breakeven.note is None


# ------------------------------------------------------------------ tornado

def test_tornado_rows_equal_solves_of_the_modified_instance(tmp_path):
    base = Base.load(_folder(tmp_path))
    ranges = [parse_range("programmes.unit_price[*]*0.9,1.1"), parse_range("options.upfront_cost[buy]=300,700")]
    t = tornado(base, ranges, OPTS)
    assert (t.recommended, t.runner_up) == ("partner", "buy")
    assert t.base.npv == pytest.approx({"buy": 500, "neither": 0, "partner": 600})
    # sorted by swing of the recommended strategy: price ±10 % moves partner 500 → 700; buy's price none
    assert [str(r.range.parameter) for r in t.rows] == ["programmes.unit_price[*]", "options.upfront_cost[buy]"]
    for row in t.rows:
        for point, value in ((row.low, row.range.low), (row.high, row.range.high)):
            inst = base.with_changes([row.range.change(value)])
            for k in ("buy", "partner", "neither"):
                assert point.npv[k] == pytest.approx(_npv(inst, k), abs=1e-6)
    price, buy = (r.as_dict(t.strategies) for r in t.rows)
    assert price["recommended_low"] == pytest.approx(500) and price["recommended_high"] == pytest.approx(700)
    assert price["swing"] == pytest.approx(200) and not price["flips"]
    assert buy["best_at_low"] == "buy" and buy["flips"]  # buy at 300: 700 > 600
    pooled = tornado(base, ranges, OPTS, reuse=False, workers=2)  # a model per solve, on a process pool
    assert [r.as_dict(pooled.strategies) for r in pooled.rows] == [r.as_dict(t.strategies) for r in t.rows]


# ------------------------------------------------------------------ commands

def test_breakeven_command_json_and_errors(tmp_path):
    folder = _folder(tmp_path)
    runner = CliRunner()
    res = runner.invoke(app, ["breakeven", str(folder), "--parameter", "options.upfront_cost[buy]",
                              "--between", "buy,partner", "--range", "0,1000", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["breakeven"]["value"] == pytest.approx(400)
    assert data["between"] == ["buy", "partner"] and data["recommendation"]["after"] == "partner"
    res = runner.invoke(app, ["breakeven", str(folder), "--parameter", "options.upfront_cost[nope]",
                              "--between", "buy,partner", "--range", "0,1000"])
    assert res.exit_code == 1 and "no row of options has option_id 'nope'" in res.output
    res = runner.invoke(app, ["breakeven", str(folder), "--parameter", "options.upfront_cost[buy]",
                              "--between", "buy,partner", "--range", "10,1"])
    assert res.exit_code == 1 and "low 10 is above high 1" in res.output
    res = runner.invoke(app, ["breakeven", str(folder), "--parameter", "options.upfront_cost[buy]",
                              "--between", "buy,partner", "--range", "-10,1"])
    assert res.exit_code == 1 and "is negative" in res.output


def test_breakeven_range_defaults_to_the_sensitivity_row_else_twice_the_value(tmp_path):
    tables = deal_case()
    tables["sensitivity"] = [{"parameter": "options.upfront_cost[buy]", "low": 350, "high": 450}]
    runner = CliRunner()
    for folder, (lo, hi) in ((_folder(tmp_path, tables, "with"), (350, 450)), (_folder(tmp_path), (0, 1000))):
        res = runner.invoke(app, ["breakeven", str(folder), "--parameter", "options.upfront_cost[buy]",
                                  "--between", "buy,partner", "--json"])
        assert res.exit_code == 0, res.output
        data = json.loads(res.stdout)
        assert (data["low"], data["high"]) == (lo, hi)
        assert data["breakeven"]["value"] == pytest.approx(400)


def test_tornado_command_writes_a_bar_chart(tmp_path):
    tables = deal_case()
    tables["sensitivity"] = [{"parameter": "options.upfront_cost[buy]", "low": 300, "high": 700, "note": "range"},
                             {"parameter": "programmes.unit_price[*]", "low": 0.9, "high": 1.1, "kind": "multiplier"}]
    folder = _folder(tmp_path, tables)
    out = tmp_path / "t.xlsx"
    res = CliRunner().invoke(app, ["tornado", str(folder), "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert [r["parameter"] for r in data["rows"]] == ["programmes.unit_price[*]", "options.upfront_cost[buy]"]
    ws = openpyxl.load_workbook(out)["Tornado"]
    assert len(ws._charts) == 1 and ws._charts[0].type == "bar"
    assert ws.cell(5, 1).value == "programmes.unit_price[*]"
    assert ws.cell(5, 5).value == pytest.approx(500 / 1e6) and ws.cell(5, 6).value == pytest.approx(700 / 1e6)
    bad = tmp_path / "t.csv"
    res = CliRunner().invoke(app, ["tornado", str(folder), "--out", str(bad)])
    assert res.exit_code == 1 and not bad.exists()
    invalid = tmp_path / "invalid.xlsx"
    res = CliRunner().invoke(app, ["tornado", str(folder), "--out", str(invalid), "--workers", "1",
                                   "--parameter", "lines.capacity[LB]=-1,5"])
    assert res.exit_code == 1 and not invalid.exists()
    assert "with lines.capacity[LB]=-1: lines row 2, column capacity: -1 is negative" in res.output


def test_template_has_the_sensitivity_sheet(tmp_path):
    from optimiser.template import write_template

    write_template(tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx")["sensitivity"]
    assert [c.value for c in ws[1]][:5] == ["parameter", "low", "high", "kind", "note"]


@pytest.mark.slow
def test_default_case_partner_fee_breakeven_flips_on_resolves():
    """Default case: partner's annual fee is an objective coefficient only, so the break-even with buy
    is exact (linear); re-solves 0.1 M either side put the strategies in opposite orders, and the
    tornado's figures are those of `solve` on the changed instance."""
    base = Base.load("instances/foxconn-vinfast-2021")
    opts = SolveOptions()
    r = breakeven(base, parse_parameter("options.annual_cost[partner_vinfast]"), "buy", "partner", 0, 3e8,
                  options=opts)
    assert r.breakeven.method == "exact (linear)" and 1.5e8 < r.breakeven.value < 1.9e8
    for sign in (-1, 1):
        inst = base.with_changes([parse_change(f"options.annual_cost[partner_vinfast]={r.breakeven.value + sign * 1e5}")])
        d = solve_instance(inst, "buy", None, opts).run.npv - solve_instance(inst, "partner", None, opts).run.npv
        assert (d < 0) if sign < 0 else (d > 0)
    t = tornado(base, [parse_range("settings.discount_rate=0.06,0.12")], opts)
    row = t.rows[0]
    inst = base.with_changes([parse_change("settings.discount_rate=0.12")])
    assert row.high.npv[t.recommended] == pytest.approx(solve_instance(inst, t.recommended, None, opts).run.npv,
                                                        rel=1e-4)


def test_tornado_row_where_the_recommendation_has_no_plan_comes_first(tmp_path):
    """Capex limit 600: partner's upfront cost at 1000 is over it, so partner has no plan there and buy
    (500 ≤ 600, NPV 500) is best: the row flips and, its swing unknown, sorts first."""
    tables = deal_case()
    tables["budget"] = [{"year": 2025, "capex_limit": 600}]
    base = Base.load(_folder(tmp_path, tables))
    t = tornado(base, [parse_range("programmes.unit_price[*]*0.9,1.1"),
                       parse_range("options.upfront_cost[partner]=100,1000")], OPTS)
    first = t.rows[0].as_dict(t.strategies)
    assert first["parameter"] == "options.upfront_cost[partner]" and first["swing"] is None
    assert first["recommended_high"] is None and first["status_high"]["partner"] == "infeasible"
    assert first["best_at_high"] == "buy" and first["flips"]
    assert t.rows[1].swing == pytest.approx(200)
