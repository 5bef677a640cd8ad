"""Workbook ⇄ CSV conversion: lossless both ways, never over its input, atomic."""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from optimiser.cli import app
from optimiser.errors import OutputError
from optimiser.app import convert_instance
from optimiser.readers import read_instance_tables
from optimiser.validate import load_instance

from conftest import Tables, minimal_tables, write_instance


def rich_tables() -> Tables:
    """A non-trivial instance: optional tables, `source` columns, awkward floats, unicode, ids like 007."""
    t = minimal_tables()
    t["settings"] += [{"key": "currency", "value": "VND"}, {"key": "discount_rate", "value": 0.1},
                      {"key": "share_target", "value": 0.1}, {"key": "share_penalty", "value": 1e-7}]
    t["factories"][0].update(name="Hải Phòng — 海防 ✓", source="VinFast annual report 2023, p. 12")
    t["factories"].append({"factory_id": "007", "name": "  Bond  ", "country": "GB", "region": "Europe",
                           "source": "a \"quoted\", comma'd note\nover two lines"})
    t["markets"][1].update(region="Nord-Amerika (Ünïcödé)")
    t["lines"].append({"line_id": "0042", "factory_id": "007", "line_type": "VA", "capacity": 0.1,
                       "status": "candidate", "fixed_cost": 1e-7, "build_cost": 1234567.891, "lead_time": 2,
                       "ramp_up": 1 / 3, "available_from": 2026, "unit_fee": 2.5e-12, "source": "est."})
    t["programmes"][0].update(name="=SUM(A1:A3)", customer="+Customer", must_serve=True, counts_for_share=True)
    t["programmes"][1].update(name="1e5", customer="-dash", unit_price=0.30000000000000004)
    t["demand"][0]["min_volume"] = 12.5
    t["logistics"] = [{"factory_id": f, "market_id": m, "cost_per_unit": c, "tariff": 0.025}
                      for f, m, c in (("F1", "ASEAN", 400), ("F1", "NA", 1250.75), ("F2", "NA", 0),
                                      ("007", "NA", 99), ("F2", "ASEAN", 1e-7))]
    t["options"] = [{"option_id": "O1", "name": "Lordstown deal", "upfront_cost": 2.3e8, "annual_cost": 0,
                     "exclusive_group": "US"},
                    {"option_id": "O2", "name": "JV 50/50", "counterparty": "Geely", "exclusive_group": "US"}]
    t["lines"][1]["requires_option"] = "O1"
    t["strategies"] = [{"strategy_id": "go-US", "option_id": "O1", "decision": "take"},
                       {"strategy_id": "go-US", "option_id": "O2", "decision": "forbid"}]
    t["scenarios"] = [{"scenario_id": "low", "probability": 0.1, "demand_factor": 0.7,
                       "description": "2024-01-31"},
                      {"scenario_id": "base", "probability": 0.7},
                      {"scenario_id": "high", "probability": 0.2, "demand_factor": 1.3, "price_factor": 0.95,
                       "description": "Ωmega"}]
    t["scenario_demand"] = [{"scenario_id": "high", "programme_id": "P1", "market_id": "NA", "year": 2026,
                             "volume": 333.3333333333333}]
    t["market_size"] = [{"year": 2026, "volume": 2.7e7}]
    t["budget"] = [{"year": 2025, "capex_limit": 1e9}]
    t["prices"] = [{"programme_id": "P2", "year": 2026, "unit_price": 113.25}]
    t["capacity_profile"] = [{"line_id": "L1", "year": 2026, "capacity": 1500}]
    return t


def cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    wb = openpyxl.load_workbook(path)
    try:
        return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    finally:
        wb.close()


def same_cells(a: dict[str, list[tuple]], b: dict[str, list[tuple]]) -> None:
    assert list(a) == list(b)
    for sheet in a:
        assert len(a[sheet]) == len(b[sheet]), sheet
        for row_a, row_b in zip(a[sheet], b[sheet]):
            assert row_a == row_b, sheet
            for x, y in zip(row_a, row_b):  # text stays text, numbers stay numbers
                assert isinstance(x, str) == isinstance(y, str) and isinstance(x, bool) == isinstance(y, bool), \
                    (sheet, x, y)


def convert(src: Path, dst: Path) -> None:
    result = CliRunner().invoke(app, ["convert", str(src), str(dst)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("wrote ")


def test_xlsx_to_csv_to_xlsx_round_trip(tmp_path: Path) -> None:
    src = write_instance(tmp_path, rich_tables(), "xlsx", name="src")
    convert(src, tmp_path / "csv")
    convert(tmp_path / "csv", tmp_path / "back.xlsx")

    same_cells(cells(src), cells(tmp_path / "back.xlsx"))
    a, wa = load_instance(src)
    b, wb = load_instance(tmp_path / "csv")
    c, wc = load_instance(tmp_path / "back.xlsx")
    assert a == b == c
    assert a.fingerprint == b.fingerprint == c.fingerprint
    assert wa == wb == wc
    # the awkward values came through exactly
    assert {f.id for f in a.factories} == {"F1", "F2", "007"}
    assert a.line("0042").capacity == 0.1 and a.line("0042").fixed_cost == 1e-7
    assert a.line("0042").ramp_up == 1 / 3 and a.line("0042").unit_fee == 2.5e-12
    assert a.programme("P2").unit_price == 0.30000000000000004
    assert a.programme("P1").name == "=SUM(A1:A3)" and a.programme("P1").must_serve is True
    assert a.currency == "VND" and a.share_penalty == 1e-7
    assert a.scenario("low").description == "2024-01-31"
    assert [f.name for f in a.factories if f.id == "007"] == ["Bond"]
    assert cells(src)["factories"][3][0] == "007"  # an id stays text in the workbook


def test_csv_to_xlsx_to_csv_gives_the_same_files(tmp_path: Path) -> None:
    src = write_instance(tmp_path, rich_tables(), "csv", name="src")
    convert(src, tmp_path / "book.xlsx")
    convert(tmp_path / "book.xlsx", tmp_path / "again")
    files = sorted(p.name for p in src.iterdir())
    assert files == sorted(p.name for p in (tmp_path / "again").iterdir())
    for name in files:
        assert (src / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name
    assert load_instance(src)[0].fingerprint == load_instance(tmp_path / "book.xlsx")[0].fingerprint


def test_text_that_looks_like_a_number_stays_text(tmp_path: Path) -> None:
    """Decision: CSV text becomes a number cell only where the column is a number and the text is exactly
    how the writer spells that number; '007', '1e5' in a name, '+5' and the currency '007' stay text."""
    t = minimal_tables()
    t["settings"].append({"key": "currency", "value": "007"})
    t["markets"][0].update(market_id="007", name="1e5")
    for r in t["demand"]:
        if r["market_id"] == "ASEAN":
            r["market_id"] = "007"
    t["lines"][0]["capacity"] = "+1000"
    t["lines"][1]["capacity"] = "500"
    folder = write_instance(tmp_path, t, "csv")
    convert(folder, tmp_path / "book.xlsx")
    got = cells(tmp_path / "book.xlsx")
    assert ("currency", "007") in got["settings"]
    assert ("first_year", 2025) in got["settings"]
    assert got["markets"][1][:2] == ("007", "1e5")
    assert got["lines"][1][3] == "+1000" and got["lines"][2][3] == 500
    a, b = load_instance(folder)[0], load_instance(tmp_path / "book.xlsx")[0]
    assert a == b and a.currency == "007" and a.line("L1").capacity == 1000


def test_number_ids_typed_in_excel_load_the_same_after_a_round_trip(tmp_path: Path) -> None:
    """A planner types 7 as an id: the cell is a number in Excel, text after the round trip — same instance."""
    src = write_instance(tmp_path, minimal_tables(), "xlsx", name="src")
    wb = openpyxl.load_workbook(src)
    wb["markets"]["A2"] = 7
    for row in wb["demand"].iter_rows(min_row=2):
        if row[1].value == "ASEAN":
            row[1].value = 7.0
    wb["programmes"]["D1"], wb["programmes"]["D2"] = "must_serve", True
    wb.save(src)
    convert(src, tmp_path / "csv")
    convert(tmp_path / "csv", tmp_path / "back.xlsx")
    a, b, c = (load_instance(p)[0] for p in (src, tmp_path / "csv", tmp_path / "back.xlsx"))
    assert a == b == c and "7" in {m.id for m in a.markets} and a.programme("P1").must_serve
    assert cells(tmp_path / "back.xlsx")["markets"][1][0] == "7"


def test_dates_convert_to_the_same_text(tmp_path: Path) -> None:
    src = write_instance(tmp_path, minimal_tables() | {"scenarios": [
        {"scenario_id": "a", "description": dt.datetime(2024, 1, 31)},
        {"scenario_id": "b", "description": dt.datetime(2024, 1, 31, 8, 30)}]}, "xlsx", name="src")
    convert(src, tmp_path / "csv")
    assert (tmp_path / "csv" / "scenarios.csv").read_text().splitlines()[1:] == [
        "a,2024-01-31", "b,2024-01-31T08:30:00"]
    a, b = load_instance(src)[0], load_instance(tmp_path / "csv")[0]
    assert a == b and a.scenario("a").description == "2024-01-31"


def test_convert_keeps_what_validation_would_reject(tmp_path: Path) -> None:
    """Convert needs a readable instance, not a valid one; stray cells right of the header keep their place."""
    folder = write_instance(tmp_path, minimal_tables(), "csv")
    (folder / "markets.csv").write_text("market_id,name\nASEAN,ASEAN,,stray\nNA,North America\n")
    (folder / "lines.csv").write_text((folder / "lines.csv").read_text().replace("1000", "lots"))
    convert(folder, tmp_path / "book.xlsx")
    convert(tmp_path / "book.xlsx", tmp_path / "again")
    for name in ("markets.csv", "lines.csv"):
        assert (folder / name).read_text() == (tmp_path / "again" / name).read_text()
    assert cells(tmp_path / "book.xlsx")["markets"][1] == ("ASEAN", "ASEAN", None, "stray")


# ------------------------------------------------------------ never over the input

def _refused(src: Path, dst: Path, *phrases: str) -> None:
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in ([src] if src.is_file() else src.rglob("*"))}
    result = CliRunner().invoke(app, ["convert", str(src), str(dst)])
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: ")
    for phrase in phrases:
        assert phrase in result.stderr
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in ([src] if src.is_file() else src.rglob("*"))}
    assert after == before


def test_convert_refuses_to_write_over_its_input_workbook(tmp_path: Path) -> None:
    src = write_instance(tmp_path, minimal_tables(), "xlsx")
    _refused(src, src, "refusing to write over the input")
    _refused(src, tmp_path / "." / src.name, "refusing to write over the input")


def test_convert_refuses_a_hard_link_to_its_input(tmp_path: Path) -> None:
    src = write_instance(tmp_path, minimal_tables(), "xlsx")
    os.link(src, tmp_path / "alias.xlsx")
    _refused(src, tmp_path / "alias.xlsx", "refusing to write over the input")


def test_convert_refuses_to_write_over_inside_or_around_its_input_folder(tmp_path: Path) -> None:
    src = write_instance(tmp_path / "project", minimal_tables(), "csv")
    _refused(src, src, "refusing to write over the input")
    _refused(src, src / "copy.xlsx", "refusing to write over the input")
    _refused(src, src / "sub", "refusing to write over the input")
    _refused(src, tmp_path / "project", "refusing to write over the input")  # would replace the parent


def test_convert_refuses_to_replace_a_folder_holding_other_files(tmp_path: Path) -> None:
    src = write_instance(tmp_path, minimal_tables(), "xlsx")
    docs = tmp_path / "documents"
    docs.mkdir()
    (docs / "thesis.docx").write_bytes(b"precious")
    result = CliRunner().invoke(app, ["convert", str(src), str(docs)])
    assert result.exit_code == 1 and "already exists; add --force" in result.stderr
    result = CliRunner().invoke(app, ["convert", str(src), str(docs), "--force"])  # even so, never emptied
    assert result.exit_code == 1 and "holds more than an instance's CSV files" in result.stderr
    assert (docs / "thesis.docx").read_bytes() == b"precious"


def test_convert_replaces_a_previous_conversion(tmp_path: Path) -> None:
    src = write_instance(tmp_path, minimal_tables(), "xlsx")
    out = tmp_path / "csv"
    convert(src, out)
    (out / "budget.csv").write_text("year,capex_limit\n2025,1\n")  # stale table from an older run
    refused = CliRunner().invoke(app, ["convert", str(src), str(out)])  # not without --force
    assert refused.exit_code == 1 and "already exists; add --force" in refused.stderr
    assert (out / "budget.csv").exists()
    result = CliRunner().invoke(app, ["convert", str(src), str(out), "--force"])
    assert result.exit_code == 0, result.stderr
    assert not (out / "budget.csv").exists()
    assert load_instance(out)[0] == load_instance(src)[0]


# ------------------------------------------------------------------ atomic writes

def test_workbook_write_failure_leaves_the_old_file_and_no_temp_files(tmp_path: Path, monkeypatch) -> None:
    src = write_instance(tmp_path, minimal_tables(), "csv")
    target = tmp_path / "out.xlsx"
    target.write_bytes(b"previous version")

    def broken_save(self, filename) -> None:
        Path(filename).write_bytes(b"half a workbook")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(openpyxl.Workbook, "save", broken_save)
    with pytest.raises(OutputError, match="No space left on device.*untouched"):
        convert_instance(src, target)
    assert target.read_bytes() == b"previous version"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inst", "out.xlsx"]


def test_csv_folder_write_failure_leaves_the_old_folder_and_no_temp_folders(tmp_path: Path, monkeypatch) -> None:
    src = write_instance(tmp_path, minimal_tables(), "xlsx")
    target = tmp_path / "out"
    convert(src, target)
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    real = Path.write_text
    calls = {"n": 0}

    def flaky(self: Path, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(5, "Input/output error")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", flaky)
    with pytest.raises(OutputError, match="nothing was changed"):
        convert_instance(src, target)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inst.xlsx", "out"]


def test_a_cell_a_workbook_cannot_hold_is_a_clear_error(tmp_path: Path) -> None:
    folder = write_instance(tmp_path, minimal_tables(), "csv")
    f = folder / "markets.csv"
    f.write_text(f.read_text().replace("North America", "North\x01America"))
    result = CliRunner().invoke(app, ["convert", str(folder), str(tmp_path / "book.xlsx")])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {tmp_path / 'book.xlsx'}: table markets, data row 2: a cell holds a control character that a "
        "workbook cannot store; remove it (or keep the CSV form)"]
    assert not (tmp_path / "book.xlsx").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inst"]


def test_converted_workbook_reads_as_the_same_raw_tables(tmp_path: Path) -> None:
    folder = write_instance(tmp_path, rich_tables(), "csv")
    convert(folder, tmp_path / "book.xlsx")
    a, b = read_instance_tables(folder), read_instance_tables(tmp_path / "book.xlsx")
    assert list(a.tables) != [] and set(a.tables) == set(b.tables)
    for name in a.tables:
        assert a.tables[name].header == b.tables[name].header
        assert [n for n, _ in a.tables[name].rows] == [n for n, _ in b.tables[name].rows]


def test_convert_refuses_a_hostile_workbook_and_writes_nothing(tmp_path: Path) -> None:
    p = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", bytes(20_000_000))
    result = CliRunner().invoke(app, ["convert", str(p), str(tmp_path / "out")])
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1 and "zip bomb" in result.stderr
    assert sorted(x.name for x in tmp_path.iterdir()) == ["bomb.xlsx"]
