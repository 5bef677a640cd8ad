"""Sweep: grid/CSV parsing, what each parameter does to the instance, the tidy table, the workbook."""

from __future__ import annotations

import csv
import json

import openpyxl
import pytest
from typer.testing import CliRunner

from builders import deal_case, load

from optimiser.cli import app
from optimiser.jobs.executors import SerialExecutor
from optimiser.errors import InputError
from optimiser.solver.options import SolveOptions
from optimiser.report.sweep import write_csv, write_workbook
from optimiser.sweep import Variant, apply_variant, parse_grid, read_variants, sweep

OPTS = SolveOptions(mip_gap=0)


def test_grid_is_the_cartesian_product_in_order(tmp_path):
    inst = load(tmp_path, deal_case())
    vs = parse_grid("demand_factor=0.8,1,1.2; option_cost:partner=1,2", inst)
    assert [v.name for v in vs][:2] == ["demand_factor=0.8, option_cost:partner=1",
                                        "demand_factor=0.8, option_cost:partner=2"]
    assert len({v.name for v in vs}) == 6
    assert vs[1].params == (("demand_factor", 0.8), ("option_cost:partner", 2.0))
    assert vs[-1].label == "demand_factor=1.2, option_cost:partner=2"


@pytest.mark.parametrize("grid, words", [
    ("demand=1", "unknown sweep parameter"),
    ("demand_factor=a", "not a number"),
    ("demand_factor=-1", "cannot be negative"),
    ("tariff_addon=1.5", "between -1 and 1"),
    ("option_cost:nope=2", "not a option"),
    ("demand_factor=1;demand_factor=2", "given twice"),
    ("demand_factor", "NAME=v1"),
    ("", "empty"),
])
def test_bad_grids_say_why(tmp_path, grid, words):
    inst = load(tmp_path, deal_case())
    with pytest.raises(InputError, match=words):
        parse_grid(grid, inst)


def test_variants_csv_blank_means_default(tmp_path):
    inst = load(tmp_path, deal_case())
    f = tmp_path / "v.csv"
    f.write_text("variant,demand_factor,price_factor\nlow,0.5,\ncheap,,0.9\n", encoding="utf-8")
    vs = read_variants(f, inst)
    assert vs == [Variant("low", (("demand_factor", 0.5),)), Variant("cheap", (("price_factor", 0.9),))]
    f.write_text("variant,demand_factor\nx,1\nx,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="used twice"):
        read_variants(f, inst)


def test_each_parameter_changes_what_it_says(tmp_path):
    tables = deal_case()
    tables["logistics"] = [{"factory_id": "F", "market_id": "M", "cost_per_unit": 1, "tariff": 0.1}]
    inst = load(tmp_path, tables)
    v = apply_variant(inst, Variant("x", (("demand_factor", 2.0), ("price_factor:P", 0.5), ("tariff_addon", 0.05),
                                          ("option_cost:buy", 3.0))))
    assert v.demand[("P", "M", 2025)].volume == 2 * inst.demand[("P", "M", 2025)].volume
    assert v.programme("P").unit_price == 5
    assert v.logistics[("F", "M")] == (1, pytest.approx(0.15))
    assert {o.id: o.upfront_cost for o in v.options} == {"buy": 1500, "partner": 100}
    assert v.fingerprint != inst.fingerprint
    assert inst.programme("P").unit_price == 10  # the base instance is untouched


def test_sweep_table_matches_hand_solved_deal_case(tmp_path):
    """Base case (demand ×1): optimise 600 (partner), buy 500, partner 600 — see test_compare.deal_case.
    Demand ×0.5: partner ½(25·7−100)+½(75·7−100) = 250; buy ½(250−500)+½(750−500) = 0."""
    inst = load(tmp_path, deal_case())
    df = sweep(inst, parse_grid("demand_factor=0.5,1", inst), ["optimise", "buy", "partner"], options=OPTS,
               executor=SerialExecutor())
    got = {(r.variant, r.strategy): r.npv for r in df.itertuples()}
    v1, v2 = "demand_factor=0.5", "demand_factor=1"
    assert got == pytest.approx({(v1, "optimise"): 250, (v1, "buy"): 0, (v1, "partner"): 250,
                                 (v2, "optimise"): 600, (v2, "buy"): 500, (v2, "partner"): 600})
    assert list(df.columns[:3]) == ["variant", "demand_factor", "strategy"]
    assert df.loc[(df.variant == v2) & (df.strategy == "buy"), "best_strategy"].item() is False
    assert df.loc[(df.variant == v2) & (df.strategy == "partner"), "best_strategy"].item() is True
    assert {"npv[low]", "npv[high]"} <= set(df.columns)

    book, table = tmp_path / "s.xlsx", tmp_path / "s.csv"
    write_workbook(df, book, inst, parse_grid("demand_factor=0.5,1", inst))
    write_csv(df, table)
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == ["Sweep", "Chart", "About"]
    assert list(wb["Sweep"].tables) == ["SweepResults"]
    assert wb["Sweep"].tables["SweepResults"].ref == f"A4:{wb['Sweep'].cell(1, df.shape[1]).column_letter}10"  # under the title
    assert len(wb["Chart"]._charts) == 1
    rows = list(csv.DictReader(table.open(encoding="utf-8")))
    assert len(rows) == 6 and float(rows[0]["npv"]) == pytest.approx(250)


def test_sweep_command_json_and_files(tmp_path):
    folder = tmp_path / "deal"
    load(tmp_path, deal_case(), name="deal")
    book, table = tmp_path / "out.xlsx", tmp_path / "out.csv"
    r = CliRunner().invoke(app, ["sweep", str(folder), "--grid", "price_factor=1,2", "--strategies", "partner",
                                 "--workers", "1", "--out", str(book), "--csv", str(table), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [row["npv"] for row in out["rows"]] == pytest.approx([600, 600 + 0.5 * 500 + 0.5 * 1500])
    assert book.exists() and table.exists()
    bad = CliRunner().invoke(app, ["sweep", str(folder), "--grid", "nope=1", "--no-report"])
    assert bad.exit_code == 1


def test_grid_accepts_any_parameter_path(tmp_path):
    """Buy's upfront cost U: buy earns 1000 − U (tests/test_compare.deal_case); price × f: buy 1000·f − 500."""
    inst = load(tmp_path, deal_case())
    vs = parse_grid("options.upfront_cost[buy]=300,700; programmes.unit_price[*]*=1,2", inst)
    assert [v.name for v in vs] == ["options.upfront_cost[buy]=300, programmes.unit_price[*]*1",
                                    "options.upfront_cost[buy]=300, programmes.unit_price[*]*2",
                                    "options.upfront_cost[buy]=700, programmes.unit_price[*]*1",
                                    "options.upfront_cost[buy]=700, programmes.unit_price[*]*2"]
    df = sweep(inst, vs, ["buy"], options=OPTS, executor=SerialExecutor())
    assert list(df["npv"]) == pytest.approx([700, 1700, 300, 1300])
    assert list(df.columns[:4]) == ["variant", "options.upfront_cost[buy]", "programmes.unit_price[*]*", "strategy"]
    mixed = parse_grid("demand_factor=0.5; options.upfront_cost[buy]=0", inst)
    got = sweep(inst, mixed, ["buy"], options=OPTS, executor=SerialExecutor())
    assert got["npv"].item() == pytest.approx(500)  # ½(25 + 75)·10 − 0


@pytest.mark.parametrize("grid, words", [
    ("options.upfront_cost[nope]=1", "no row of options has option_id 'nope'"),
    ("options.name[buy]=1", "not a numeric column"),
    ("lines.capacity[LB]=abc", "not a number"),
])
def test_bad_parameter_paths_in_a_grid(tmp_path, grid, words):
    inst = load(tmp_path, deal_case())
    with pytest.raises(InputError, match=words):
        parse_grid(grid, inst)


def test_a_path_value_that_breaks_the_instance_names_the_variant(tmp_path):
    inst = load(tmp_path, deal_case())
    with pytest.raises(InputError, match=r"variant lines.capacity\[LB\]=-1: with lines.capacity\[LB\]=-1: "
                                         r"lines row 2, column capacity"):
        sweep(inst, parse_grid("lines.capacity[LB]=-1", inst), ["buy"], options=OPTS, executor=SerialExecutor())
