"""Report craft (issue 20 item 5), checked on the written workbooks of the default case and of a small
generated instance, and on the comparison and sweep workbooks:

* money in millions: the cell keeps the exact amount (it equals the result table), the format
  ``#,##0.0,,`` shows millions, and the header names the unit (``NPV (m USD)``); per-unit prices
  are not scaled;
* every sheet prints with a header (instance, sheet, run date) and a footer (sheet, page x of y);
* every sheet holding a table longer than a page repeats its first table's header on printed
  pages (and a sheet without one repeats none); a later table that would not fit on the rest of a
  page starts on a new one, and no page break cuts through a chart;
* every chart starts within the first screen (left edge ≤ 1,030 px) and covers no table;
* the NPV waterfall's bars carry data labels;
* the sweep workbook has a title, print setup, columns wide enough for their figures and seconds
  to 0.1 s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries

from builders import deal_case, load

from optimiser.compare import compare
from optimiser.jobs.executors import SerialExecutor
from optimiser.generate import generate_instance
from optimiser.engine import solve_instance
from optimiser.report import write_comparison, write_report
from optimiser.report.style import MONEY_M, PAGE_ROWS, SCREEN_PX, chart_width_px, column_px, rows_for
from optimiser.solver.options import SolveOptions
from optimiser.report.sweep import write_workbook
from optimiser.sweep import parse_grid, sweep
from optimiser.validate import load_instance

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "instances" / "foxconn-vinfast-2021"
OPTS = SolveOptions(mip_gap=0)


@pytest.fixture(scope="module", params=["default", "generated"])
def case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, Any]:
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "default":
        inst, _ = load_instance(DEFAULT)
    else:
        inst, _ = load_instance(generate_instance(tmp / "gen", lines=5, programmes=5, years=4, markets=2,
                                                  scenarios=2, seed=3))
    res = solve_instance(inst, "optimise", None, SolveOptions(mip_gap=1e-4, time_limit=60))
    path = write_report(inst, res, tmp / "report.xlsx", command="optimiser solve")
    return inst, res, load_workbook(path)


def _tables(wb: Any) -> list[tuple[Any, Any, tuple[int, int, int, int]]]:
    return [(ws, t, range_boundaries(t.ref)) for ws in wb.worksheets for t in ws.tables.values()]


def _header(ws: Any, bounds: tuple[int, int, int, int]) -> list[Any]:
    min_col, min_row, max_col, _ = bounds
    return [ws.cell(min_row, c).value for c in range(min_col, max_col + 1)]


def _assert_print_setup(wb: Any, name: str) -> None:
    for ws in wb.worksheets:
        assert ws.oddHeader.left.text == name, ws.title
        assert ws.oddHeader.center.text == "&A", ws.title  # the sheet
        assert ws.oddHeader.right.text.startswith(("run 20", "printed &D")), ws.title  # the run date
        assert ws.oddFooter.right.text == "page &P of &N", ws.title
        assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage, ws.title


def _assert_charts_placed(wb: Any) -> int:
    """Every chart starts within the first screen and covers no Table. Returns the charts seen."""
    seen = 0
    for ws in wb.worksheets:
        tables = [range_boundaries(t.ref) for t in ws.tables.values()]
        for chart in ws._charts:
            seen += 1
            col, row = chart.anchor._from.col + 1, chart.anchor._from.row + 1
            left = column_px(ws, col)
            assert left <= SCREEN_PX, (ws.title, col, left)
            right = left + chart_width_px(chart)
            bottom = row + rows_for(ws, row, chart.height) - 1
            for min_col, min_row, max_col, max_row in tables:
                t_left, t_right = column_px(ws, min_col), column_px(ws, max_col + 1)
                rows_meet = min_row <= bottom and row <= max_row
                cols_meet = t_left < right and left < t_right
                assert not (rows_meet and cols_meet), (ws.title, chart.anchor._from, (min_col, min_row, max_col, max_row))
    return seen


# ----------------------------------------------------------------------------- the solve report

def test_money_in_millions_keeps_the_exact_amount(case: Any) -> None:
    inst, res, wb = case
    unit = f"(m {inst.currency})"
    seen = 0
    for ws, t, bounds in _tables(wb):
        min_col, min_row, max_col, max_row = bounds
        for j, h in enumerate(_header(ws, bounds)):
            cells = [ws.cell(r, min_col + j) for r in range(min_row + 1, max_row + 1)]
            numbers = [c for c in cells if isinstance(c.value, (int, float)) and not isinstance(c.value, bool)]
            if unit[:-1] in str(h):  # "(m USD)", "(m USD a year)"
                seen += 1
                assert all(c.number_format == MONEY_M for c in numbers), (t.displayName, h)
            elif numbers and t.displayName not in ("Summary", "Run_record", "Plan_facts") \
                    and not t.displayName.startswith("in_"):
                assert all(c.number_format != MONEY_M for c in numbers), (t.displayName, h)  # a unit, % or rate
            if "unit price" in str(h):
                assert f"({inst.currency})" in str(h) and all(c.number_format == "#,##0" for c in numbers)
    assert seen >= 10
    ws = next(w for w in wb.worksheets if "Summary" in w.tables)
    min_col, min_row, _, max_row = range_boundaries(ws.tables["Summary"].ref)
    kpi = {ws.cell(r, min_col).value: ws.cell(r, min_col + 1) for r in range(min_row + 1, max_row + 1)}
    npv = kpi[f"NPV {unit}"]
    assert npv.value == pytest.approx(res.run.npv, rel=1e-12) and npv.number_format == MONEY_M
    ws = next(w for w in wb.worksheets if "NPV_breakdown" in w.tables)
    bounds = range_boundaries(ws.tables["NPV_breakdown"].ref)
    j = _header(ws, bounds).index(f"NPV {unit}")
    stored = [ws.cell(r, bounds[0] + j).value for r in range(bounds[1] + 1, bounds[3] + 1)]
    assert stored == pytest.approx(list(res.npv_breakdown["value"]), rel=1e-12)  # full dollars, not millions


def test_every_sheet_prints_header_footer_and_repeats_long_table_headers(case: Any) -> None:
    inst, _, wb = case
    _assert_print_setup(wb, inst.name)
    for ws in wb.worksheets:
        firsts = sorted(range_boundaries(t.ref)[1] for t in ws.tables.values())
        longest = max((range_boundaries(t.ref)[3] - range_boundaries(t.ref)[1] for t in ws.tables.values()), default=0)
        if ws.title == "Inputs" or not firsts:
            continue
        if longest + 3 > PAGE_ROWS:  # a table longer than a page: the first table's header on every page
            assert ws.print_title_rows == f"${firsts[0]}:${firsts[0]}", ws.title
        else:  # nothing spans pages: no stray header above a later table
            assert ws.print_title_rows is None, ws.title
    if inst.name == "foxconn-vinfast-2021":  # Production, Utilisation, Demand, Capacity value, …
        assert sum(ws.print_title_rows is not None for ws in wb.worksheets) >= 4
    run_date = wb["Run record"]["B5"].value[:10]
    assert wb["Summary"].oddHeader.right.text == f"run {run_date}"  # the run record's date, not the clock


def test_later_tables_start_on_a_new_page_and_no_break_cuts_a_chart(case: Any) -> None:
    _, _, wb = case
    from optimiser.report.style import chart_rows

    broke = 0
    for ws in wb.worksheets:
        spans = chart_rows(ws)
        for b in ws.row_breaks.brk:
            broke += 1
            assert not any(a <= b.id < z for a, z in spans), (ws.title, b.id)
            assert ws.cell(b.id + 1, 1).value not in (None, ""), (ws.title, b.id)  # a heading opens the page
    assert broke >= 1


def test_charts_within_the_first_screen_and_off_the_tables(case: Any) -> None:
    _, _, wb = case
    assert _assert_charts_placed(wb) >= 3


def test_waterfall_bars_carry_their_figures(case: Any) -> None:
    _, _, wb = case
    waterfall = wb["Summary"]._charts[0]
    labelled = [s for s in waterfall.series if s.dLbls is not None and s.dLbls.showVal]
    assert len(labelled) >= 1
    for s in labelled:
        assert s.dLbls.numFmt in ('#,##0.0,,;-#,##0.0,,;;', '#,##0;-#,##0;;')
    title = "".join(r.t for p in waterfall.title.tx.rich.p for r in (p.r or []))
    assert "NPV" in title and "m " in title


# ----------------------------------------------------------------------------- compare and sweep

@pytest.fixture(scope="module")
def deal(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return load(tmp_path_factory.mktemp("deal"), deal_case())


def test_comparison_workbook_has_the_same_craft(deal: Any, tmp_path: Path) -> None:
    comp = compare(deal, options=OPTS, workers=1)
    wb = load_workbook(write_comparison(deal, comp, tmp_path / "c.xlsx"))
    _assert_print_setup(wb, deal.name)
    assert _assert_charts_placed(wb) >= 1
    ws = wb["Comparison"]
    chart = ws._charts[0]
    matrix = range_boundaries(ws.tables["Matrix"].ref)
    col, row = chart.anchor._from.col + 1, chart.anchor._from.row + 1
    assert col == matrix[2] + 2 or row > matrix[3]  # beside or under its own table
    # the deal case's amounts are small (hundreds): whole currency units, unit named
    header = _header(ws, range_boundaries(ws.tables["Stochastic"].ref))
    assert f"expected npv ({deal.currency})" in header


def test_sweep_workbook_formatted_like_the_others(deal: Any, tmp_path: Path) -> None:
    # 20 variants × 2 strategies: a table longer than a printed page
    variants = parse_grid("demand_factor=" + ",".join(f"{0.5 + 0.05 * i:.2f}" for i in range(20)), deal)
    df = sweep(deal, variants, ["optimise", "buy"], options=OPTS, executor=SerialExecutor())
    df.loc[0, "npv"] = 123_456_789_012.5  # a figure that needs a wide column
    path = write_workbook(df, tmp_path / "s.xlsx", deal, variants, command="optimiser sweep")
    wb = load_workbook(path)
    _assert_print_setup(wb, deal.name)
    assert _assert_charts_placed(wb) == 1
    ws = wb["Sweep"]
    assert ws["A1"].value.startswith(deal.name) and ws["A1"].font.bold
    min_col, min_row, max_col, max_row = range_boundaries(ws.tables["SweepResults"].ref)
    assert ws.print_title_rows == f"${min_row}:${min_row}"
    header = _header(ws, (min_col, min_row, max_col, max_row))
    npv_col = min_col + header.index(f"NPV (m {deal.currency})")
    assert ws.cell(min_row + 1, npv_col).value == pytest.approx(123_456_789_012.5)  # exact
    assert ws.cell(min_row + 1, npv_col).number_format == MONEY_M
    secs = min_col + header.index("solve seconds")
    assert all(ws.cell(r, secs).number_format == "0.0" for r in range(min_row + 1, max_row + 1))
    for c in range(min_col, max_col + 1):  # wide enough: no ######## (formatted text + filter button)
        width = ws.column_dimensions[ws.cell(1, c).column_letter].width
        for r in range(min_row + 1, max_row + 1):
            cell = ws.cell(r, c)
            if isinstance(cell.value, float) and cell.number_format == MONEY_M:
                assert len(f"{cell.value / 1e6:,.1f}") + 1 < width, (header[c - min_col], width)
            elif isinstance(cell.value, float) and cell.number_format == "0.0":
                assert len(f"{cell.value:.1f}") + 1 < width
    chart_sheet = wb["Chart"]
    cats = [chart_sheet.cell(r, 2).value for r in range(5, 5 + len(variants))]
    assert cats == [v.label for v in variants]  # variants named by their parameter values
