"""Excel building blocks: the fast sheet writer writes openpyxl's own bytes; tables longer than an
Excel sheet go on over continuation sheets; values and styles of written tables."""

from __future__ import annotations

import zipfile
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import range_boundaries
from openpyxl.worksheet._writer import WorksheetWriter

from optimiser.report import xlsx as excel
from optimiser.report.blocks import write_columns, write_table
from optimiser.report.sheet import Sheet
from optimiser.report.xlsx import Col
from optimiser.report.xml_writer import fast_sheet_xml, fast_worksheet_writer, save_workbook


def _sheet_xml(ws: Any, writer: type) -> bytes:
    """The worksheet's XML as ``writer`` writes it (call once before comparing: the first write
    fills in a default, ``outlineLevelCol``, that later writes then include)."""
    out = BytesIO()
    writer(ws, out=out).write()
    return out.getvalue()


def _tricky_sheet() -> Any:
    wb = Workbook()
    ws = wb.active
    values = [1, -0.0, 0.1 + 0.2, 1e300, 12345678901234567, -7, True, False, "", " ", " lead", "trail ", "a&b<c>d\"e'",
              "line\nbreak", "tab\there", "ünï ✓ 中文", None, float("nan"), float("inf"), datetime(2020, 1, 2),
              "=SUM(A1)", "#N/A"]
    for i, v in enumerate(values, start=1):
        ws.cell(row=i, column=2).value = v
        ws.cell(row=i, column=4, value=v).font = Font(bold=True)
        ws.cell(row=i, column=5, value=v).number_format = "0.00%"
    ws.cell(row=3, column=7).font = Font(italic=True)  # a styled blank
    ws.cell(row=4, column=8)  # a blank cell without style: not written
    ws.row_dimensions[5].height = 30
    ws.row_dimensions[40].height = 22  # a row with a height and no cells
    ws.cell(row=8, column=1).comment = Comment("note", "me")
    ws.cell(row=9, column=1).hyperlink = "https://example.com/?a=1&b=2"
    ws.cell(row=10, column=30).value = "far right"
    text = ws.cell(row=2, column=1)
    text.value, text.data_type = "=looks like a formula", "s"
    write_table(ws, 50, 2, [Col("a", "a", "money"), Col("b", "b"), Col("c", "c", "bool")],
                [[1.5, "x", True], [None, "=y", False], [float("nan"), "long " * 20, None]], "T1")
    return ws


def test_fast_sheet_xml_is_openpyxls_own_bytes() -> None:
    ws = _tricky_sheet()
    fast = fast_worksheet_writer()
    expected = [_sheet_xml(ws, WorksheetWriter), _sheet_xml(ws, WorksheetWriter)][-1]
    assert _sheet_xml(ws, fast) == expected
    empty = Workbook().active
    expected = [_sheet_xml(empty, WorksheetWriter), _sheet_xml(empty, WorksheetWriter)][-1]
    assert _sheet_xml(empty, fast) == expected


def test_fast_sheet_xml_takes_the_fast_path_for_plain_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    wb = Workbook()
    ws = wb.active
    write_table(ws, 2, 1, [Col("n", "n", "units"), Col("t", "t"), Col("b", "b", "bool"), Col("f", "f", "pct")],
                [[i, f"row {i}", i % 2 == 0, i / 7] for i in range(200)], "Plain")
    ws.cell(row=1, column=1).value = "title"
    ws.row_dimensions[300].height = 40
    fast = fast_worksheet_writer()
    expected = [_sheet_xml(ws, WorksheetWriter), _sheet_xml(ws, WorksheetWriter)][-1]

    def no_slow_rows(*args: Any) -> None:
        raise AssertionError("a plain row went through openpyxl's per-cell writer")

    monkeypatch.setattr(fast, "write_row", no_slow_rows)
    assert _sheet_xml(ws, fast) == expected


def test_saved_report_files_are_the_same_with_the_fast_writer(tmp_path: Path) -> None:
    ws = _tricky_sheet()
    wb = ws.parent
    wb.create_sheet("second").append(["a", 1, None, True])
    plain, fast = tmp_path / "plain.xlsx", tmp_path / "fast.xlsx"
    wb.save(tmp_path / "first.xlsx")  # see _sheet_xml
    wb.save(plain)
    with fast_sheet_xml():
        wb.save(fast)
    with zipfile.ZipFile(plain) as a, zipfile.ZipFile(fast) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            if name != "docProps/core.xml":  # holds the save time
                assert a.read(name) == b.read(name), name
    # and the patch is undone afterwards
    import openpyxl.writer.excel as writer

    assert writer.WorksheetWriter is WorksheetWriter


def test_table_values_styles_and_widths() -> None:
    wb = Workbook()
    ws = wb.active
    cols = [Col("m", "money", "money"), Col("p", "share", "pct"), Col("t", "text"), Col("b", "flag", "bool"),
            Col("y", "year", "year")]
    block = write_columns(ws, 1, 1, cols, [[np.float64(1234.5), None, float("inf")], [0.25, np.nan, 1],
                                           ["=A1", "bad\x01text", "x" * 60], [True, False, np.bool_(True)],
                                           [np.int64(2025), 2026, pd.NA]], "T")
    assert block.ref == "A1:E4"
    assert [[c.value for c in row] for row in ws.iter_rows(min_row=2, max_row=4)] == [
        [1234.5, 0.25, "=A1", "yes", 2025], [None, None, "badtext", "no", 2026], [None, 1, "x" * 60, "yes", None]]
    assert ws["C2"].data_type == "s" and ws["A2"].number_format == "#,##0" and ws["B2"].number_format == "0.0%"
    assert ws["E2"].number_format == "0" and ws["D2"].alignment.horizontal == "center"
    assert ws["A2"].alignment.horizontal == "right" and ws["C4"].alignment.wrap_text
    assert ws.row_dimensions[4].height == 30.0  # the wrapped text needs two lines
    assert ws.column_dimensions["C"].width == 48 and ws.column_dimensions["A"].width == 13  # openpyxl starts columns at 13
    assert [c.name for c in ws.tables["T"].tableColumns] == ["money", "share", "text", "flag", "year"]
    with pytest.raises(ValueError):
        write_columns(ws, 10, 1, cols[:1], [[]], "Empty")


def test_a_table_longer_than_a_sheet_goes_on_over_continuation_sheets(monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
    monkeypatch.setattr(excel, "MAX_SHEET_ROWS", 30)
    wb = Workbook()
    wb.remove(wb.active)
    sh = Sheet(wb.create_sheet("Production"))
    wb.create_sheet("Next")
    sh.title("Production", "units")
    sh.heading("All rows")
    cols = [Col("i", "i", "int"), Col("label", "label")]
    first = sh.table(cols, [[i, f"row {i}"] for i in range(70)], "Production")
    sh.heading("Totals")  # the last row left on the third sheet: this table goes to a fourth
    sh.table([Col("total", "total", "units")], [[70]] * 5, "Totals")
    sh.finish()
    assert first is not None and first.ws.title == "Production"
    assert wb.sheetnames == ["Production", "Production (2)", "Production (3)", "Production (4)", "Next"]
    with pytest.raises(ValueError, match="last row"):
        write_table(wb["Next"], 25, 1, cols, [[1, "a"]] * 10, "TooLong")
    path = save_workbook(wb, tmp_path / "long.xlsx")
    back = load_workbook(path)
    seen = []
    for ws in back.worksheets[:4]:
        assert ws.max_row <= 30
        for t in ws.tables.values():
            lo_col, lo_row, hi_col, hi_row = range_boundaries(t.ref)
            rows = list(ws.iter_rows(min_row=lo_row + 1, max_row=hi_row, min_col=lo_col, max_col=hi_col, values_only=True))
            if t.displayName.startswith("Production"):
                seen += rows
        texts = [c for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str)]
        if ws.title != "Production":
            assert ws.freeze_panes is not None and "Production (continued)" in texts
            assert any(f"Continued from sheet 'Production{'' if ws.title.endswith('(2)') else ' ('}" in t for t in texts)
    assert seen == [(i, f"row {i}") for i in range(70)]  # every row, in order, once
    notes = [c for ws in back.worksheets for row in ws.iter_rows(values_only=True) for c in row
             if isinstance(c, str) and c.startswith("Rows ")]
    assert notes[0] == "Rows 1–24 of 70; the rest are on sheet 'Production (2)' (an Excel sheet holds at most 30 rows)."
    assert notes[1:] == ["Rows 25–49 of 70; the rest are on sheet 'Production (3)' (an Excel sheet holds at most 30 rows).",
                         "Rows 50–70 of 70 (an Excel sheet holds at most 30 rows)."]
    # what follows the long table comes after it; here on a fourth sheet, the third being full
    assert "Totals" in back["Production (4)"].tables
    assert back["Production (3)"].cell(29, 1).value == "This table (5 rows) is on sheet 'Production (4)'."
    names = [n.lower() for ws in back.worksheets for n in ws.tables]
    assert len(names) == len(set(names))


@pytest.mark.slow  # a million rows: about a minute
def test_excel_row_limit_is_real(tmp_path: Path) -> None:
    wb = Workbook()
    wb.remove(wb.active)
    sh = Sheet(wb.create_sheet("Big"))
    sh.title("Big")
    n = excel.MAX_SHEET_ROWS + 10
    sh.columns_table([Col("i", "i", "int")], [list(range(n))], n, "Big")
    sh.finish()
    assert wb.sheetnames == ["Big", "Big (2)"]
    assert wb["Big"].max_row == excel.MAX_SHEET_ROWS
    path = save_workbook(wb, tmp_path / "big.xlsx")
    back = load_workbook(path, read_only=True)
    assert back["Big"].max_row == excel.MAX_SHEET_ROWS
