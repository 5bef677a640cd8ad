"""`optimiser diff` (issue 21): exactly the cells a test changed, added/removed rows, plan diffs, bad input."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from optimiser.cli import app
from optimiser.diff import diff, diff_instances
from optimiser.errors import InputError
from optimiser.app import convert_instance

TINY = Path(__file__).resolve().parent.parent / "instances" / "tiny"


def _edit(folder: Path, table: str, fn) -> None:
    path = folder / f"{table}.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
        header = list(rows[0].keys()) if rows else []
    rows = fn(rows)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=header)
        w.writeheader()
        w.writerows(rows)


def _copy(tmp_path: Path, name: str = "b") -> Path:
    dst = tmp_path / name
    shutil.copytree(TINY, dst)
    return dst


def test_same_content_csv_and_workbook_has_no_difference(tmp_path):
    convert_instance(TINY, tmp_path / "tiny.xlsx")
    d = diff_instances(TINY, tmp_path / "tiny.xlsx")
    assert d.changes == ()


def test_finds_exactly_the_changed_cells(tmp_path):
    b = _copy(tmp_path)

    def demand(rows):
        for r in rows:
            if (r["programme_id"], r["year"]) == ("car", "2026"):
                r["volume"] = "220"
        return rows

    def lines(rows):
        for r in rows:
            if r["line_id"] == "vf_pack":
                r["capacity"] = "175"
                r["fixed_cost"] = "12"
        return rows

    _edit(b, "demand", demand)
    _edit(b, "lines", lines)
    # the other side a workbook: any mix
    convert_instance(b, tmp_path / "b.xlsx")
    for other in (b, tmp_path / "b.xlsx"):
        d = diff_instances(TINY, other)
        cells = {(c.table, c.key, cell.column, cell.old, cell.new) for c in d.changes for cell in c.cells}
        assert cells == {("demand", ("car", "m", 2026), "volume", 200.0, 220.0),
                         ("lines", ("vf_pack",), "capacity", 150.0, 175.0),
                         ("lines", ("vf_pack",), "fixed_cost", 0.0, 12.0)}
        assert all(c.kind == "changed" for c in d.changes)
        text = d.lines()
        assert "  demand row 3, column volume: car/m/2026: 200 → 220" in text
        assert "  lines row 4, column capacity: vf_pack: 150 → 175" in text


def test_added_and_removed_rows(tmp_path):
    b = _copy(tmp_path)
    _edit(b, "demand", lambda rows: [r for r in rows if r["programme_id"] != "van"]
          + [{"programme_id": "car", "market_id": "m", "year": "2027", "volume": "50", "source": ""}])
    d = diff_instances(TINY, b)
    kinds = {(c.kind, c.key) for c in d.changes}
    assert kinds == {("added", ("car", "m", 2027)), ("removed", ("van", "m", 2026))}
    assert d.counts() == {"added": 1, "removed": 1, "changed": 0}
    removed = next(c for c in d.changes if c.kind == "removed")
    assert removed.row_a == 4 and removed.row_b is None


def test_cli_json_and_workbook(tmp_path):
    b = _copy(tmp_path)

    def prog(rows):
        for r in rows:
            if r["programme_id"] == "van":
                r["unit_price"] = "950"
        return rows

    _edit(b, "programmes", prog)
    out = tmp_path / "diff.xlsx"
    r = CliRunner().invoke(app, ["diff", str(TINY), str(b), "--json", "--out", str(out)])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["kind"] == "instances" and d["summary"] == {"added": 0, "removed": 0, "changed": 1, "cells": 1}
    row = d["tables"]["programmes"]["rows"][0]
    assert row["key"] == ["van"] and row["changes"] == [{"column": "unit_price", "old": 900.0, "new": 950.0}]
    wb = load_workbook(out)
    assert wb.sheetnames == ["Summary", "programmes"]
    ws = wb["programmes"]
    head = [c.value for c in ws[1]]
    cell = ws.cell(row=2, column=head.index("unit_price") + 1)
    assert cell.value == 950 and cell.fill.fgColor.rgb.endswith("FFEB9C") and "900" in cell.comment.text
    other = ws.cell(row=2, column=head.index("kind") + 1)
    assert other.fill.fgColor.rgb in (None, "00000000")


def test_plan_diff(tmp_path):
    base = {"format": "optimiser-plan", "version": 1, "instance": "i", "instance_sha256": "s", "strategy": "optimise",
            "scenario": None, "scenarios": ["base"], "status": "optimal", "npv": 100.0, "objective": 100.0,
            "deals": [{"option_id": "A"}], "builds": [{"line_id": "L1", "build_year": 2024}],
            "tooling": [{"programme_id": "P", "line_id": "L1"}]}
    base["scenario_npv"] = {"low": 50.0, "high": 150.0}
    other = {**base, "npv": 90.0, "objective": 90.0, "deals": [{"option_id": "B"}],
             "scenario_npv": {"low": 60.0, "high": 120.0},
             "builds": [{"line_id": "L1", "build_year": 2025}],
             "tooling": [{"programme_id": "P", "line_id": "L1"}, {"programme_id": "Q", "line_id": "L1"}]}
    (tmp_path / "a.json").write_text(json.dumps(base))
    (tmp_path / "b.json").write_text(json.dumps(other))
    d = diff(tmp_path / "a.json", tmp_path / "b.json")
    assert d.words == ("takes option B instead of A", "builds line L1 in 2025 instead of 2024", "tools Q on L1")
    assert d.kpis["npv"] == {"a": 100.0, "b": 90.0, "delta": -10.0}
    assert d.kpis["npv in scenario high"] == {"a": 150.0, "b": 120.0, "delta": -30.0}
    assert d.kpis["npv in scenario low"]["delta"] == 10.0
    assert "  npv in scenario high: 150 → 120 (-30.00)" in d.lines()
    assert set(d.only_a) == {("deal", ("A",)), ("build", ("L1", 2024))}
    assert set(d.only_b) == {("deal", ("B",)), ("build", ("L1", 2025)), ("tooling", ("Q", "L1"))}


def test_neither_instance_nor_plan_is_one_line_exit_1(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    r = CliRunner().invoke(app, ["diff", str(TINY), str(tmp_path / "notes.txt")])
    assert r.exit_code == 1
    assert r.stderr.strip().splitlines() == [f"error: {tmp_path / 'notes.txt'}: neither an instance (.xlsx workbook "
                                             "or CSV folder) nor a plan file (.json)"]
    # a workbook that is not an instance (a solve report, say)
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Summary"
    wb.save(tmp_path / "report.xlsx")
    r = CliRunner().invoke(app, ["diff", str(TINY), str(tmp_path / "report.xlsx")])
    assert r.exit_code == 1 and len(r.stderr.strip().splitlines()) == 1 and "neither an instance" in r.stderr
    # an instance against a plan
    (tmp_path / "p.json").write_text("{}")
    with pytest.raises(InputError, match="give two instances or two plan files"):
        diff(TINY, tmp_path / "p.json")


def test_two_reports_diff_as_plans(tmp_path):
    """instances/tiny, EXPECTED.md: optimise (partner_vf, 36,000) against buy (buy_vf, 24,500;
    revenue 200,000 → 345,000, external purchases 0 → −70,000)."""
    from optimiser.app import run_solve

    run_solve(TINY, out=tmp_path / "opt.xlsx", save_plan=tmp_path / "opt.json")
    run_solve(TINY, strategy="buy", out=tmp_path / "buy.xlsx")
    same = diff(tmp_path / "opt.json", tmp_path / "opt.xlsx")
    assert not same.only_a and not same.only_b and same.kpis["npv"]["delta"] == pytest.approx(0)
    d = diff(tmp_path / "opt.xlsx", tmp_path / "buy.xlsx")
    assert d.words[0] == "takes option buy_vf instead of partner_vf"
    assert d.kpis["npv"]["delta"] == pytest.approx(-11500)
    assert d.kpis["npv category revenue"]["delta"] == pytest.approx(145000)
    assert d.kpis["npv category external_purchases"]["b"] == pytest.approx(-70000)
