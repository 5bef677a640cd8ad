"""Read an instance's tables from an ``.xlsx`` workbook or a folder of CSV files.

Both produce the same :class:`RawTables`: per table, the header and the rows
as raw cell values with the row number the planner sees (Excel row / CSV line,
header = 1). Nothing is interpreted here; :mod:`optimiser.validate` does that.
Hostile files (not a workbook, zip bombs, XML entity attacks, huge sheets) are
refused with an :class:`~optimiser.errors.InputError`. Inputs are opened
read-only and never modified.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, Problem
from .schema import (
    MAX_COLUMNS_PER_TABLE,
    MAX_COMPRESSION_RATIO,
    MAX_FILE_BYTES,
    MAX_ROWS_PER_TABLE,
    MAX_WORKBOOK_UNCOMPRESSED_BYTES,
    TABLES_BY_NAME,
)

#: Sheets a workbook may carry that are not tables (the template's README).
IGNORED_SHEETS = frozenset({"readme", "notes"})


@dataclass(frozen=True)
class RawTable:
    """One table as read: header and rows of raw cell values."""

    name: str
    header: tuple[str, ...]
    #: ``(row_number, values)`` with ``values`` aligned to ``header``.
    rows: tuple[tuple[int, tuple[Any, ...]], ...]
    #: Row number of the header line (1 unless rows above were blank).
    header_row: int = 1


@dataclass(frozen=True)
class RawTables:
    """Every table read from one instance, plus problems found while reading."""

    source: str
    kind: str  # "xlsx" or "csv"
    tables: dict[str, RawTable]
    problems: tuple[Problem, ...] = field(default_factory=tuple)


def read_instance_tables(path: str | Path) -> RawTables:
    """Read the tables of the instance at ``path`` (a workbook or a CSV folder)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file or folder")
    if p.is_dir():
        return read_csv_folder(p)
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        return read_workbook(p)
    if p.suffix.lower() == ".csv":
        raise InputError(f"{p}: give the folder that holds the CSV tables, not one CSV file")
    raise InputError(f"{p}: not an instance (expected an .xlsx workbook or a folder of CSV files)")


# --------------------------------------------------------------------- CSV

def _clean(value: Any) -> Any:
    """Blank strings become None; strings lose surrounding whitespace."""
    if isinstance(value, str):
        value = value.strip()
        return value if value else None
    return value


def read_csv_folder(folder: Path) -> RawTables:
    tables: dict[str, RawTable] = {}
    problems: list[Problem] = []
    for f in sorted(folder.iterdir()):
        if f.suffix.lower() != ".csv" or not f.is_file():
            continue
        name = f.stem
        if name not in TABLES_BY_NAME:
            problems.append(Problem(name, None, None, "warning",
                                    f"unknown table {f.name}; it is ignored "
                                    f"(known tables: {', '.join(TABLES_BY_NAME)})"))
            continue
        tables[name] = _read_csv(f, name)
    return RawTables(str(folder), "csv", tables, tuple(problems))


def _read_csv(path: Path, name: str) -> RawTable:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(f"{path}: {size / 1e6:.0f} MB is larger than the {MAX_FILE_BYTES / 1e6:.0f} MB limit for one table")
    data = path.read_bytes()
    if b"\x00" in data:
        raise InputError(f"{path}: not a text CSV file (it contains binary data)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}); save the CSV as UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header: tuple[str, ...] | None = None
    header_row = 1
    rows: list[tuple[int, tuple[Any, ...]]] = []
    line_start = 1
    try:
        for record in reader:
            row_number = line_start
            line_start = reader.line_num + 1
            if header is None:
                if not any(c.strip() for c in record):
                    continue
                if len(record) > MAX_COLUMNS_PER_TABLE:
                    raise InputError(f"{path}: {len(record)} columns is more than the limit of {MAX_COLUMNS_PER_TABLE}")
                header = tuple(c.strip() for c in record)
                header_row = row_number
                continue
            values = [_clean(c) for c in record]
            if all(v is None for v in values):
                continue
            if len(rows) >= MAX_ROWS_PER_TABLE:
                raise InputError(f"{path}: more than {MAX_ROWS_PER_TABLE:,} rows; refusing to read it")
            rows.append((row_number, _fit(values, len(header))))
    except csv.Error as exc:
        raise InputError(f"{path} line {reader.line_num}: not readable as CSV ({exc})") from None
    return RawTable(name, header or (), tuple(rows), header_row)


def _fit(values: list[Any], width: int) -> tuple[Any, ...]:
    """Pad or cut a row to the header width; extra non-blank cells are kept under a blank name."""
    if len(values) < width:
        values = values + [None] * (width - len(values))
    elif len(values) > width:
        extra = [v for v in values[width:] if v is not None]
        values = values[:width]
        if extra:
            values.append(_Overflow(tuple(extra)))
    return tuple(values)


@dataclass(frozen=True)
class _Overflow:
    """Cells to the right of the last header column (reported by the validator)."""

    values: tuple[Any, ...]


OVERFLOW = _Overflow


# -------------------------------------------------------------------- XLSX

def _check_zip(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(f"{path}: {size / 1e6:.0f} MB is larger than the {MAX_FILE_BYTES / 1e6:.0f} MB limit")
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path}: not an Excel workbook (.xlsx files are zip archives; this one is not)")
    try:
        with zipfile.ZipFile(path) as zf:
            total = 0
            for info in zf.infolist():
                total += info.file_size
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > 10_000_000 and ratio > MAX_COMPRESSION_RATIO:
                    raise InputError(f"{path}: refused: member {info.filename} expands {ratio:.0f}× "
                                     f"({info.file_size / 1e6:.0f} MB) — this looks like a zip bomb")
            if total > MAX_WORKBOOK_UNCOMPRESSED_BYTES:
                raise InputError(f"{path}: refused: it expands to {total / 1e6:.0f} MB, more than the "
                                 f"{MAX_WORKBOOK_UNCOMPRESSED_BYTES / 1e6:.0f} MB limit (zip bomb?)")
            names = set(zf.namelist())
            if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
                raise InputError(f"{path}: not an Excel workbook (a zip archive without a workbook inside)")
    except zipfile.BadZipFile as exc:
        raise InputError(f"{path}: not a readable Excel workbook ({exc})") from None


def read_workbook(path: Path) -> RawTables:
    """Read every table sheet of a workbook (read-only; formulas use Excel's cached values)."""
    _check_zip(path)
    import openpyxl  # noqa: PLC0415 - heavy import, only when needed

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except InputError:
        raise
    except Exception as exc:  # defusedxml, corrupt XML, missing parts: refuse, don't crash
        kind = type(exc).__name__
        if "Forbidden" in kind or "Entities" in kind or "DTD" in kind:
            raise InputError(f"{path}: refused: the workbook contains XML entity declarations "
                             f"(an XML entity attack or a corrupt file)") from None
        raise InputError(f"{path}: not a readable Excel workbook ({kind}: {exc})") from None
    cached = None
    tables: dict[str, RawTable] = {}
    problems: list[Problem] = []
    try:
        for ws in wb.worksheets:
            name = ws.title.strip()
            if name.lower() in IGNORED_SHEETS:
                continue
            if name not in TABLES_BY_NAME:
                problems.append(Problem(name, None, None, "warning",
                                        f"unknown sheet {ws.title!r}; it is ignored "
                                        f"(known tables: {', '.join(TABLES_BY_NAME)})"))
                continue
            if name in tables:
                problems.append(Problem(name, None, None, "error", "the table appears twice in the workbook"))
                continue
            formula_cells: list[tuple[int, int]] = []
            table = _read_sheet(path, ws, name, formula_cells)
            if formula_cells:
                if cached is None:
                    cached = openpyxl.load_workbook(path, read_only=True, data_only=True)
                table = _fill_cached(table, cached[ws.title], formula_cells, problems)
            tables[name] = table
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path}: not a readable Excel workbook ({type(exc).__name__}: {exc})") from None
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
    header: tuple[str, ...] | None = None
    header_row = 1
    rows: list[tuple[int, tuple[Any, ...]]] = []
    seen = 0
    for row_number, raw in enumerate(ws.iter_rows(values_only=True, max_col=MAX_COLUMNS_PER_TABLE), start=1):
        seen += 1
        if seen > MAX_ROWS_PER_TABLE + 1:
            raise InputError(f"{path}: sheet {name} has more than {MAX_ROWS_PER_TABLE:,} rows; refusing to read it")
        values = [_clean(v) for v in raw]
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
        for j, v in enumerate(values):
            if isinstance(v, str) and v.startswith("=") and j < len(header):
                formula_cells.append((len(rows), j))
        rows.append((row_number, _fit(values, len(header))))
    return RawTable(name, header or (), tuple(rows), header_row)


def _fill_cached(table: RawTable, ws_values: Any, cells: list[tuple[int, int]], problems: list[Problem]) -> RawTable:
    """Replace formulas by the values Excel computed; a formula never computed is an error."""
    wanted = {table.rows[i][0] for i, _ in cells}
    by_row: dict[int, tuple[Any, ...]] = {}
    for row_number, raw in enumerate(ws_values.iter_rows(values_only=True, max_col=MAX_COLUMNS_PER_TABLE), start=1):
        if row_number in wanted:
            by_row[row_number] = raw
        if row_number >= max(wanted):
            break
    rows = list(table.rows)
    for i, j in cells:
        row_number, values = rows[i]
        raw = by_row.get(row_number, ())
        value = _clean(raw[j]) if j < len(raw) else None
        if value is None:
            problems.append(Problem(table.name, row_number, table.header[j], "error",
                                    f"formula {values[j]} has no computed value; open and save the workbook "
                                    "in Excel, or type the value"))
            value = _Formula(values[j])
        new = list(values)
        new[j] = value
        rows[i] = (row_number, tuple(new))
    return RawTable(table.name, table.header, tuple(rows), table.header_row)


@dataclass(frozen=True)
class _Formula:
    """A formula cell without a cached value (already reported)."""

    text: str


FORMULA = _Formula
