"""Read an instance's tables from an ``.xlsx`` workbook (one sheet per table, read-only).

The file first passes :func:`optimiser.read_zip.check_zip`; openpyxl then reads each table
sheet. Formulas take the values Excel cached (a formula never computed is an error), merged
ranges are errors (their other cells read blank), unknown sheets are warned of.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

from .errors import InputError, Problem
from .raw import (
    FORMULA,
    IGNORED_SHEETS,
    RawTable,
    RawTables,
    check_row_size,
    clean_cell,
    describe_error,
    fit_row,
    one_line,
    table_name,
)
from .read_zip import SheetScan, check_zip, is_entity_refusal
from .schema import MAX_COLUMNS_PER_TABLE, MAX_ROWS_PER_TABLE, TABLES_BY_NAME

def read_workbook(path: Path) -> RawTables:
    """Read every table sheet of a workbook (read-only; formulas use Excel's cached values)."""
    scans = check_zip(path)
    with warnings.catch_warnings():
        # openpyxl warns about parts it drops (data-validation extensions, odd styles, …): noise
        # on the planner's terminal, and nothing the instance depends on
        warnings.simplefilter("ignore")
        return _read_workbook(path, scans)


def _read_workbook(path: Path, scans: dict[str, SheetScan]) -> RawTables:
    import openpyxl  # noqa: PLC0415 - heavy import, only when needed

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except InputError:
        raise
    except Exception as exc:  # defusedxml, corrupt XML, missing parts: refuse, don't crash
        if is_entity_refusal(exc):
            raise InputError(f"{path}: refused: the workbook contains XML entity declarations "
                             f"(an XML entity attack or a corrupt file)") from None
        raise InputError(f"{path}: not a readable Excel workbook ({describe_error(exc)})") from None
    cached = None
    tables: dict[str, RawTable] = {}
    problems: list[Problem] = []
    try:
        for ws in wb.worksheets:
            title = ws.title
            if title.strip().lower() in IGNORED_SHEETS:
                continue
            name = table_name(title)
            if name is None:
                problems.append(Problem(title, None, None, "warning",
                                        f"unknown sheet {title!r}; it is ignored "
                                        f"(known tables: {', '.join(TABLES_BY_NAME)})"))
                continue
            if name in tables:
                problems.append(Problem(name, None, None, "error",
                                        f"the table appears twice in the workbook (sheet {title!r}); keep one"))
                continue
            formula_cells: list[tuple[int, int]] = []
            table = _read_sheet(path, ws, name, formula_cells)
            if formula_cells:
                if cached is None:
                    cached = openpyxl.load_workbook(path, read_only=True, data_only=True)
                table = _fill_cached(table, cached[title], formula_cells, problems)
            member = str(getattr(ws, "_worksheet_path", "") or "").lstrip("/")
            scan = scans.get(member)
            if scan is not None and scan.merged:
                _report_merged(table, scan.merged, problems)
            tables[name] = table
    except InputError:
        raise
    except Exception as exc:
        if is_entity_refusal(exc):
            raise InputError(f"{path}: refused: the workbook contains XML entity declarations "
                             f"(an XML entity attack or a corrupt file)") from None
        raise InputError(f"{path}: not a readable Excel workbook ({describe_error(exc)})") from None
    finally:
        wb.close()
        if cached is not None:
            cached.close()
    return RawTables(str(path), "xlsx", tables, tuple(problems))


def _read_sheet(path: Path, ws: Any, name: str, formula_cells: list[tuple[int, int]]) -> RawTable:
    declared = ws.max_row or 0
    if declared > MAX_ROWS_PER_TABLE + 1:
        raise InputError(f"{path}: sheet {name} declares {declared:,} rows, more than the limit of "
                         f"{MAX_ROWS_PER_TABLE:,}; refusing to read it")
    # The declared dimension is only a hint (some writers get it wrong): read every row there is.
    ws.reset_dimensions()
    header: tuple[str, ...] | None = None
    header_row = 1
    rows: list[tuple[int, tuple[Any, ...]]] = []
    seen = 0
    for row_number, raw in enumerate(ws.iter_rows(values_only=True, max_col=MAX_COLUMNS_PER_TABLE), start=1):
        seen += 1
        if seen > MAX_ROWS_PER_TABLE + 1:
            raise InputError(f"{path}: sheet {name} has more than {MAX_ROWS_PER_TABLE:,} rows; refusing to read it")
        if raw.count(None) == len(raw):
            continue  # a blank row (fast path: gaps between rows come as runs of these)
        values = [clean_cell(v) for v in raw]
        if header is None:
            if all(v is None for v in values):
                continue
            while values and values[-1] is None:
                values.pop()
            header = tuple("" if v is None else str(v).strip() for v in values)
            header_row = row_number
            continue
        if all(v is None for v in values):
            continue
        check_row_size(f"{path}: sheet {name}", row_number, values, header, where="row")
        for j, v in enumerate(values):
            if j < len(header) and (isinstance(v, str) and v.startswith("=") or _is_formula_object(v)):
                formula_cells.append((len(rows), j))
        rows.append((row_number, fit_row(values, len(header))))
    return RawTable(name, header or (), tuple(rows), header_row)


def _is_formula_object(value: Any) -> bool:
    """openpyxl's ArrayFormula / DataTableFormula (array and what-if table formulas)."""
    return type(value).__module__.startswith("openpyxl.worksheet.formula")


def _formula_text(value: Any) -> str:
    text = getattr(value, "text", None) if _is_formula_object(value) else value
    return str(text) if text else "(array or data-table formula)"


def _fill_cached(table: RawTable, ws_values: Any, cells: list[tuple[int, int]], problems: list[Problem]) -> RawTable:
    """Replace formulas by the values Excel computed; a formula never computed is an error."""
    wanted = {table.rows[i][0] for i, _ in cells}
    by_row: dict[int, tuple[Any, ...]] = {}
    ws_values.reset_dimensions()
    for row_number, raw in enumerate(ws_values.iter_rows(values_only=True, max_col=MAX_COLUMNS_PER_TABLE), start=1):
        if row_number in wanted:
            by_row[row_number] = raw
        if row_number >= max(wanted):
            break
    rows = list(table.rows)
    for i, j in cells:
        row_number, values = rows[i]
        raw = by_row.get(row_number, ())
        value = clean_cell(raw[j]) if j < len(raw) else None
        if value is None:
            text = one_line(_formula_text(values[j]), 80)
            problems.append(Problem(table.name, row_number, table.header[j] or f"#{j + 1}", "error",
                                    f"formula {text} has no computed value; open and save the workbook "
                                    "in Excel, or type the value"))
            value = FORMULA(text)
        new = list(values)
        new[j] = value
        rows[i] = (row_number, tuple(new))
    return RawTable(table.name, table.header, tuple(rows), table.header_row)


def _cell_ref(ref: str) -> tuple[int, int]:
    """``"C12"`` → ``(12, 3)`` (row, 1-based column)."""
    m = re.fullmatch(r"([A-Z]{1,3})(\d+)", ref)
    if not m:
        return (0, 0)
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


def _report_merged(table: RawTable, ranges: list[str], problems: list[Problem]) -> None:
    """Merged cells hold their value only in the first cell; the others read blank. Say so."""
    width = len(table.header)
    for ref in ranges:
        first, _, last = ref.partition(":")
        (r1, c1), (r2, c2) = _cell_ref(first), _cell_ref(last or first)
        if (r1, c1) == (r2, c2) or c1 > width or r2 < table.header_row:
            continue  # one cell, or right of the table: nothing is lost
        column = table.header[c1 - 1] if 1 <= c1 <= width else None
        problems.append(Problem(table.name, r1, column or None, "error",
                                f"cells {ref} are merged; a merged range keeps its value only in its first cell "
                                "and the others read as blank — unmerge them and fill in every cell"))
