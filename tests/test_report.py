"""The management Excel report: sheets, KPIs, charts, Tables, safe text, atomic and deterministic writes."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.utils import range_boundaries

from optimiser.errors import OutputError
from optimiser.engine import solve_instance
from optimiser.report import PLAN_SHEETS, SHEETS, add_plan_sheet, add_plan_sheets, build_report, headline, write_report
from optimiser.solver.options import SolveOptions
from optimiser.validate import load_instance
from optimiser.writers import dict_tables, write_tables

YEARS = (2024, 2025, 2026)
INJECTION = "=SUM(A1)"


def _tables() -> dict[str, list[dict[str, Any]]]:
    """Two scenarios, a deal, a candidate line needing it, and hostile programme names/ids."""
    return {
        "settings": [{"key": k, "value": v} for k, v in [
            ("name", "report-test"), ("first_year", 2024), ("last_year", 2026), ("currency", "USD"),
            ("discount_rate", 0.08), ("share_target", 0.10), ("share_penalty", 100.0)]],
        "factories": [{"factory_id": "F1", "name": "Ohio", "country": "US", "source": "press release 2021"},
                      {"factory_id": "F2", "name": "Hai Phong", "country": "VN"}],
        "markets": [{"market_id": "US", "name": "United States"}, {"market_id": "VN", "name": "Vietnam"}],
        "lines": [
            {"line_id": "L1", "factory_id": "F1", "line_type": "assembly", "capacity": 1000, "status": "existing",
             "fixed_cost": 1000},
            {"line_id": "L2", "factory_id": "F2", "line_type": "assembly", "capacity": 800, "status": "candidate",
             "fixed_cost": 1000, "build_cost": 50000, "lead_time": 1, "requires_option": "JV"},
        ],
        "programmes": [
            {"programme_id": "P1", "name": INJECTION, "kind": "vehicle", "unit_price": 300, "counts_for_share": True},
            {"programme_id": "-P2", "name": "+Pickup", "kind": "vehicle", "unit_price": 250, "counts_for_share": True},
        ],
        "routings": [
            {"programme_id": "P1", "line_type": "assembly", "capacity_use": 1, "unit_cost": 100, "tooling_cost": 2000},
            {"programme_id": "-P2", "line_type": "assembly", "capacity_use": 1, "unit_cost": 120, "tooling_cost": 1000},
        ],
        "demand": [{"programme_id": p, "market_id": m, "year": y, "volume": v}
                   for p in ("P1", "-P2") for m, v in (("US", 500), ("VN", 400)) for y in YEARS],
        "options": [{"option_id": "JV", "name": "Joint venture", "counterparty": "@VinFast", "kind": "jv",
                     "upfront_cost": 5000, "annual_cost": 100}],
        "scenarios": [{"scenario_id": "low", "probability": 0.4, "demand_factor": 0.8, "description": "slow uptake"},
                      {"scenario_id": "high", "probability": 0.6, "demand_factor": 1.3}],
        "market_size": [{"year": y, "volume": 20000} for y in YEARS],
    }


def _plain_tables() -> dict[str, list[dict[str, Any]]]:
    """One scenario, no deals, no candidate lines, no market size: the sparse case."""
    t = _tables()
    for name in ("options", "scenarios", "market_size"):
        del t[name]
    t["settings"] = [r for r in t["settings"] if r["key"] not in ("share_target", "share_penalty")]
    t["lines"] = [t["lines"][0]]
    return t


def _solve(folder: Path, tables: dict) -> tuple[Any, Any]:
    write_tables(dict_tables(tables), folder)
    instance, _ = load_instance(folder)
    return instance, solve_instance(instance, "optimise", None, SolveOptions(mip_gap=0))


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    return _solve(tmp_path_factory.mktemp("inst") / "inst", _tables())


@pytest.fixture(scope="module")
def report(solved: tuple[Any, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    instance, results = solved
    path = tmp_path_factory.mktemp("out") / "report.xlsx"
    assert write_report(instance, results, path, command="optimiser solve inst") == path
    return path


@pytest.fixture(scope="module")
def wb(report: Path) -> Any:
    return load_workbook(report)


# ----------------------------------------------------------------------------- helpers

def _table(wb: Any, name: str) -> tuple[Any, Any]:
    for ws in wb.worksheets:
        if name in ws.tables:
            return ws, ws.tables[name]
    raise KeyError(name)


def _records(ws: Any, table: Any) -> list[dict[str, Any]]:
    min_col, min_row, max_col, max_row = range_boundaries(table.ref)
    rows = list(ws.iter_rows(min_row=min_row, max_row=max_row, min_col=min_col, max_col=max_col, values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def _data_rows(table: Any) -> int:
    _, min_row, _, max_row = range_boundaries(table.ref)
    return max_row - min_row


def _kpis(wb: Any) -> dict[str, Any]:
    ws, t = _table(wb, "Summary")
    return {r["item"]: r["value"] for r in _records(ws, t)}


def _series(chart: Any) -> list[Any]:
    return [s for c in chart._charts for s in c.series]


def _ref_rows(formula: str) -> tuple[str, int, int, str]:
    m = re.fullmatch(r"'?(.+?)'?!\$([A-Z]+)\$(\d+):\$([A-Z]+)\$(\d+)", formula)
    assert m, formula
    return m.group(1), int(m.group(3)), int(m.group(5)), m.group(2)


def _assert_series_cover(chart: Any, ws: Any, table: Any) -> None:
    """Every series' values (and categories) are data rows of ``table`` on ``ws``."""
    _, min_row, _, max_row = range_boundaries(table.ref)
    series = _series(chart)
    assert series
    for s in series:
        for ref in (s.val.numRef.f, (s.cat.numRef or s.cat.strRef).f):
            sheet, first, last, _ = _ref_rows(ref)
            assert sheet == ws.title
            assert (first, last) == (min_row + 1, max_row), (ref, table.ref)


# ----------------------------------------------------------------------------- tests

def test_sheets_in_order(wb: Any) -> None:
    assert wb.sheetnames == list(SHEETS)
    assert wb.active.title == "Summary"


def test_summary_kpis_equal_results(wb: Any, solved: tuple[Any, Any]) -> None:
    instance, res = solved
    k = _kpis(wb)
    assert k["NPV (m USD)"] == pytest.approx(res.run.npv)
    assert k["Strategy"] == "optimise"
    assert k["Solver status"] == res.run.status_words == "proven optimal"
    assert "JV" in k["Deals taken"] and k["Lines built"].startswith("L2 at Hai Phong")
    h = headline(instance, res)
    assert k["Utilisation"] == pytest.approx(h.utilisation)
    assert [u.kind for u in h.units] == ["vehicle"]  # the fixture's programmes are all vehicles
    (v,) = h.units
    d = res.demand
    w = d["scenario"].map(dict(zip(res.scenarios["scenario"], res.scenarios["probability"])))
    assert v.unmet == pytest.approx((d["unmet"] * w).sum()) and v.demand == pytest.approx((d["demand"] * w).sum())
    assert k["Unmet demand (vehicles)"] == pytest.approx(v.unmet)
    assert _kpi_detail(wb, "Unmet demand (vehicles)").startswith(f"{v.unmet / v.demand:.1%} of {v.demand:,.0f} vehicles")
    assert k["Market share 2026"] == pytest.approx(h.share)
    assert k["Share target"] == pytest.approx(0.10)
    # utilisation is capacity-weighted over active line-years, probability-weighted over scenarios
    u = res.utilisation[res.utilisation["active"]]
    w = u["scenario"].map(dict(zip(res.scenarios["scenario"], res.scenarios["probability"])))
    assert h.utilisation == pytest.approx((u["used"] * w).sum() / (u["capacity"] * w).sum())
    ws, t = _table(wb, "NPV_breakdown")
    got = {r["item"]: r["NPV (m USD)"] for r in _records(ws, t)}
    assert got == {row.label: pytest.approx(row.value) for row in res.npv_breakdown.itertuples()}
    assert "pts short" in _kpi_detail(wb, "Market share 2026")


def _kpi_detail(wb: Any, item: str) -> str:
    ws, t = _table(wb, "Summary")
    return next(r["detail"] for r in _records(ws, t) if r["item"] == item)


def test_number_formats(wb: Any) -> None:
    ws, t = _table(wb, "Summary")
    min_col, min_row, _, max_row = range_boundaries(t.ref)
    formats = {ws.cell(r, min_col).value: ws.cell(r, min_col + 1).number_format for r in range(min_row + 1, max_row + 1)}
    assert formats["NPV (m USD)"] == "#,##0.0,,"  # millions shown, the exact amount stored
    assert formats["Utilisation"] == "0.0%"
    assert formats["Unmet demand (vehicles)"] == "#,##0"
    ws, t = _table(wb, "Demand")
    header = [c.value for c in ws[range_boundaries(t.ref)[1]]]
    first = range_boundaries(t.ref)[1] + 1
    assert ws.cell(first, header.index("year") + 1).number_format == "0"
    assert ws.cell(first, header.index("demand") + 1).number_format == "#,##0"
    ws, t = _table(wb, "Shipments")
    header = [c.value for c in ws[range_boundaries(t.ref)[1]]]
    assert "revenue (m USD)" in header
    first = range_boundaries(t.ref)[1] + 1
    assert ws.cell(first, header.index("revenue (m USD)") + 1).number_format == "#,##0.0,,"
    assert ws.cell(first, header.index("unit price (USD)") + 1).number_format == "#,##0"  # a rate: not scaled


def test_tables_cover_the_data(wb: Any, solved: tuple[Any, Any]) -> None:
    instance, res = solved
    expected = {"Production": len(res.production), "Demand": len(res.demand), "Shipments": len(res.shipments),
                "Utilisation": len(res.utilisation), "Capacity_value": len(res.capacity_value),
                "Scenarios": 2, "Options": 1, "Lines_built": 1, "Tooling": len(res.tooling),
                "Market_share": len(res.market_share), "NPV_breakdown": len(res.npv_breakdown)}
    expected |= {f"in_{t.name}": len(t.rows) for t in instance.inputs}
    for name, n in expected.items():
        ws, t = _table(wb, name)
        assert _data_rows(t) == n, name
        min_col, min_row, max_col, _ = range_boundaries(t.ref)
        header = [ws.cell(min_row, c).value for c in range(min_col, max_col + 1)]
        assert all(isinstance(h, str) and h for h in header) and len(set(header)) == len(header)
    names = [n.lower() for ws in wb.worksheets for n in ws.tables]
    assert len(names) == len(set(names))
    # the inputs keep their source column and typed numbers
    ws, t = _table(wb, "in_factories")
    assert _records(ws, t)[0]["source"] == "press release 2021"
    ws, t = _table(wb, "in_lines")
    assert _records(ws, t)[0]["capacity"] == 1000


def test_scenario_column_and_scenarios_sheet(wb: Any, solved: tuple[Any, Any]) -> None:
    _, res = solved
    ws, t = _table(wb, "Production")
    recs = _records(ws, t)
    assert {r["scenario"] for r in recs} == {"low", "high"}
    assert {r["programme"] for r in recs} == {INJECTION, "+Pickup"}
    assert "factory" in recs[0]
    ws, t = _table(wb, "Scenarios")
    recs = _records(ws, t)
    assert [r["scenario"] for r in recs] == list(res.scenarios["scenario"])
    assert [r["NPV (m USD)"] for r in recs] == pytest.approx(list(res.scenarios["npv"]))
    assert recs[0]["description"] == "slow uptake"


def test_charts_point_at_their_data(wb: Any) -> None:
    summary = wb["Summary"]
    assert len(summary._charts) == 2
    waterfall, production = summary._charts
    ws, t = _table(wb, "NPV_waterfall")
    assert ws.title == "Summary"
    _assert_series_cover(waterfall, ws, t)
    ws, t = _table(wb, "Production_by_year")
    assert ws.title == "Production"
    _assert_series_cover(production, ws, t)
    assert [type(c).__name__ for c in production._charts] == ["BarChart", "LineChart"]
    assert production._charts[0].grouping == "stacked"
    # the series titles are the programme names (one stacked series each) and demand
    titles = [ws[s.tx.strRef.f.split("!")[1].replace("$", "")].value for s in _series(production)]
    assert titles == [INJECTION, "+Pickup", "demand"]
    assert len(wb["Production"]._charts) == 1
    _assert_series_cover(wb["Production"]._charts[0], ws, t)
    ws, t = _table(wb, "Utilisation_by_line")
    bar = wb["Utilisation"]._charts[0]
    assert bar.type == "bar"
    _assert_series_cover(bar, ws, t)
    ws, t = _table(wb, "Utilisation_by_year")
    _assert_series_cover(wb["Utilisation"]._charts[1], ws, t)
    ws, t = _table(wb, "Share_chart")
    _assert_series_cover(wb["Market share"]._charts[0], ws, t)
    assert len(_series(wb["Market share"]._charts[0])) == 4  # low, high, expected, target


def test_waterfall_adds_up_to_npv(wb: Any, solved: tuple[Any, Any]) -> None:
    _, res = solved
    ws, t = _table(wb, "NPV_waterfall")
    recs = _records(ws, t)
    assert recs[-1]["item"] == "NPV"
    assert recs[-1]["total (m USD)"] == pytest.approx(res.npv_breakdown["value"].sum())
    for r in recs[:-1]:  # each bar starts where the running total was
        assert r["start (m USD)"] >= 0


def test_heat_map_has_a_colour_scale(wb: Any) -> None:
    ws, t = _table(wb, "Utilisation_heatmap")
    rules = [(str(rng.sqref), r.type) for rng, rs in ws.conditional_formatting._cf_rules.items() for r in rs]
    min_col, min_row, max_col, max_row = range_boundaries(t.ref)
    assert any(kind == "colorScale" and range_boundaries(ref)[1] == min_row + 1
               and range_boundaries(ref)[3] == max_row for ref, kind in rules)
    header = [ws.cell(min_row, c).value for c in range(min_col, max_col + 1)]
    assert header[-4:] == ["2024", "2025", "2026", "all years"]


def test_formula_like_text_stays_text(wb: Any) -> None:
    found = {INJECTION: 0, "+Pickup": 0, "-P2": 0, "@VinFast": 0}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value in found:
                    assert cell.data_type == "s", (ws.title, cell.coordinate)
                    found[cell.value] += 1
    assert all(found.values()), found
    assert wb["Inputs"] is not None and INJECTION in [r["name"] for r in _records(*_table(wb, "in_programmes"))]


def test_print_setup_and_frozen_headers(wb: Any) -> None:
    for name in PLAN_SHEETS:
        ws = wb[name]
        assert ws.page_setup.orientation == "landscape"
        assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    for name, table in (("Production", "Production"), ("Demand & shipments", "Demand"), ("Summary", "Summary")):
        ws, t = _table(wb, table)
        assert ws.title == name
        assert ws.freeze_panes == f"A{range_boundaries(t.ref)[1] + 1}"


def test_run_record_and_the_only_timestamp(wb: Any, solved: tuple[Any, Any]) -> None:
    from importlib.metadata import version

    _, res = solved
    ws, t = _table(wb, "Run_record")
    rec = {r["item"]: r["value"] for r in _records(ws, t)}
    assert rec["command"] == "optimiser solve inst"
    assert rec["instance sha256"] == res.run.instance_sha256
    assert rec["Pyomo version"] == version("pyomo")
    assert rec["openpyxl version"] == version("openpyxl")
    assert rec["HiGHS version"] == res.run.highs_version
    assert rec["option mip_gap"] == 0 and rec["option time_limit"] == "default"
    assert rec["variables"] == res.run.n_variables
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", rec["written at"])
    stamp = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d")
    for sheet in wb.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for v in row:
                if sheet.title != "Run record":
                    assert not isinstance(v, datetime)
                    assert not (isinstance(v, str) and stamp.search(v)), (sheet.title, v)


def test_deterministic(solved: tuple[Any, Any], tmp_path: Path) -> None:
    instance, res = solved
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_report(instance, res, a)
    wb2 = build_report(instance, res, timestamp=datetime(2001, 1, 1, tzinfo=timezone.utc))
    wb2.save(b)
    wa, wb_ = load_workbook(a), load_workbook(b)
    assert wa.sheetnames == wb_.sheetnames
    for x, y in zip(wa.worksheets, wb_.worksheets):
        vx = [list(r) for r in x.iter_rows(values_only=True)]
        vy = [list(r) for r in y.iter_rows(values_only=True)]
        if x.title == "Run record":
            i = next(i for i, r in enumerate(vx) if r[0] == "written at")
            assert vx[i][1] != vy[i][1]
            vx[i][1] = vy[i][1] = None
        assert vx == vy, x.title
        assert sorted(x.tables) == sorted(y.tables)
        assert [t.ref for t in x.tables.values()] == [t.ref for t in y.tables.values()]


def test_failed_write_keeps_the_previous_report(solved: tuple[Any, Any], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from openpyxl.workbook.workbook import Workbook

    instance, res = solved
    target = tmp_path / "keep.xlsx"
    target.write_bytes(b"previous report")

    def broken_save(self: Any, filename: Any) -> None:
        Path(filename).write_bytes(b"half a zip")
        raise RuntimeError("disk went away")

    monkeypatch.setattr(Workbook, "save", broken_save)
    with pytest.raises(OutputError, match="previous file is untouched"):
        write_report(instance, res, target)
    assert target.read_bytes() == b"previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.xlsx"]  # no temporary file left


def test_unwritable_target_is_an_output_error(solved: tuple[Any, Any], tmp_path: Path) -> None:
    instance, res = solved
    folder = tmp_path / "a_folder.xlsx"
    folder.mkdir()
    with pytest.raises(OutputError):
        write_report(instance, res, folder)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError):
        write_report(instance, res, blocker / "report.xlsx")  # parent is a file


def test_sparse_instance_and_empty_tables(tmp_path: Path) -> None:
    instance, res = _solve(tmp_path / "plain", _plain_tables())
    path = write_report(instance, res, tmp_path / "plain.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == list(SHEETS)
    dec = [c for row in wb["Decisions"].iter_rows(values_only=True) for c in row if c]
    assert "none: the instance offers no deals" in dec and "none: no new line is built" in dec
    ws, t = _table(wb, "Scenarios")
    assert _data_rows(t) == 1
    assert "Production" in wb["Production"].tables
    assert "scenario" not in _records(*_table(wb, "Production"))[0]
    # every result table empty: still a valid workbook, notes instead of Tables
    empty = replace(res, **{f: getattr(res, f).iloc[0:0] for f in (
        "options", "lines_built", "tooling", "production", "shipments", "demand", "utilisation", "components",
        "capacity_value", "market_share")})
    path = write_report(instance, empty, tmp_path / "empty.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == list(SHEETS)
    for ws in wb.worksheets:
        for t in ws.tables.values():
            assert _data_rows(t) >= 1, (ws.title, t.displayName)
    assert "Production" not in wb["Production"].tables


def test_plan_sheets_for_a_comparison_workbook(solved: tuple[Any, Any], tmp_path: Path) -> None:
    from openpyxl import Workbook

    instance, res = solved
    wb = Workbook()
    wb.remove(wb.active)
    a = add_plan_sheets(wb, instance, res, prefix="A ")
    b = add_plan_sheets(wb, instance, res, prefix="B ")
    one = add_plan_sheet(wb, instance, res, "optimise plan")
    assert list(a) == list(PLAN_SHEETS) and b["Summary"].title == "B Summary"
    assert one.title == "optimise plan"
    path = tmp_path / "cmp.xlsx"
    wb.save(path)
    back = load_workbook(path)
    names = [n.lower() for ws in back.worksheets for n in ws.tables]
    assert len(names) == len(set(names))
    assert "B_Production" in back["B Production"].tables
    assert any(n.startswith("optimise_plan_") for n in back["optimise plan"].tables)
    # B's Summary chart plots B's production, not A's
    _assert_series_cover(back["B Summary"]._charts[1], *_table(back, "B_Production_by_year"))


def test_report_reads_no_model_code() -> None:
    import optimiser.report

    for path in sorted(Path(optimiser.report.__file__).parent.glob("*.py")):
        mod = SimpleNamespace(__name__=f"optimiser.report.{path.stem}", __file__=str(path))
        tree = ast.parse(Path(mod.__file__).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [("." if node.level else "") + (node.module or "")]  # ..model counts as .model
            else:
                continue
            for n in names:
                assert not re.match(r"(pyomo|\.model|\.solve|optimiser\.(model|solve)|highspy)", n), (mod.__name__, n)


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.slow  # LibreOffice takes 5-20 s to start: run with `pytest -m slow tests/test_report.py`
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed")
def test_libreoffice_renders_the_report(report: Path, tmp_path: Path) -> None:
    profile = (tmp_path / "lo-profile").as_uri()
    proc = subprocess.run([SOFFICE, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                           "--outdir", str(tmp_path), str(report)], capture_output=True, text=True, timeout=120)
    pdf = tmp_path / "report.pdf"
    assert pdf.exists(), proc.stderr
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000


def test_excel_helpers_make_valid_names_and_values() -> None:
    import math

    import numpy as np
    from openpyxl import Workbook

    from optimiser.report.blocks import write_table
    from optimiser.report.xlsx import Col, cell_value, sheet_title, table_name, unique_headers

    wb = Workbook()
    ws = wb.active
    valid = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
    for base in ("A1", "R1C1", "r", "1st table", "Demand & shipments", "=SUM(A1)", ""):
        name = table_name(wb, base)
        assert valid.match(name) and not re.fullmatch(r"[A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*|[RrCc]", name), name
    write_table(ws, 1, 1, [Col("a", "a")], [[1]], table_name(wb, "Plan"))
    assert table_name(wb, "plan") == "plan_2"  # unique, case-insensitively
    assert sheet_title(wb, "a/b:c*d?[e]" + "x" * 40) == "a_b_c_d__e_" + "x" * 20
    wb.create_sheet("Summary")
    assert sheet_title(wb, "summary") == "summary (2)"
    assert unique_headers(["x", "X", None, ""]) == ["x", "X (2)", "column 3", "column 4"]
    assert cell_value(float("nan")) is None and cell_value(np.int64(3)) == 3 and isinstance(cell_value(np.float64(2.5)), float)
    assert cell_value("bad\x01text\x1f") == "badtext"
    assert len(cell_value("x" * 40000)) == 32767
    assert cell_value(np.bool_(True)) is True and not math.isnan(cell_value(1.5))


def test_negative_npv_gets_signed_bars_instead_of_a_waterfall(solved: tuple[Any, Any], tmp_path: Path) -> None:
    instance, res = solved
    br = res.npv_breakdown.copy()
    br.loc[br["category"] == "capex", "value"] = -5e7  # the running total goes below zero
    path = write_report(instance, replace(res, npv_breakdown=br), tmp_path / "neg.xlsx")
    wb = load_workbook(path)
    chart = wb["Summary"]._charts[0]
    ws, t = _table(wb, "NPV_breakdown")
    _assert_series_cover(chart, ws, t)
    assert len(_series(chart)) == 1


def test_a_table_longer_than_an_excel_sheet_continues_on_the_next_sheet(solved: tuple[Any, Any], wb: Any,
                                                                          tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Excel holds 1,048,576 rows a sheet; here, as if it held 40: the Shipments table and the
    Inputs overflow onto sheets of their own, right after theirs, and nothing is lost."""
    from optimiser.report import xlsx as excel

    instance, res = solved
    monkeypatch.setattr(excel, "MAX_SHEET_ROWS", 40)
    path = write_report(instance, res, tmp_path / "long.xlsx")
    back = load_workbook(path)
    # Utilisation overflows too: its charts sit under their tables and take rows of their own.
    assert back.sheetnames == ["Summary", "Decisions", "Production", "Utilisation", "Utilisation (2)", "Demand & shipments",
                               "Demand & shipments (2)", "Capacity value", "Market share", "Scenarios", "Cash flow", "Plan", "Inputs",
                               "Inputs (2)", "Run record"]
    assert all(ws.max_row <= 40 for ws in back.worksheets)
    parts = [_records(ws, t) for ws in back.worksheets for t in ws.tables.values()
             if t.displayName.startswith("Shipments")]
    assert len(parts) == 2 and all(parts)
    assert [r for p in parts for r in p] == _records(*_table(wb, "Shipments"))  # every row, in order
    note = back["Demand & shipments"].cell(range_boundaries(back["Demand & shipments"].tables["Shipments"].ref)[1] - 1, 1)
    assert note.value.startswith(f"Rows 1–2 of {len(res.shipments)}; the rest are on sheet 'Demand & shipments (2)'")
    for name in ("in_demand", "Demand", "Production"):
        assert _records(*_table(back, name)) == _records(*_table(wb, name)), name
    _assert_series_cover(back["Summary"]._charts[1], *_table(back, "Production_by_year"))
