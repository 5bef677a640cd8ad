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
import re
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, Problem
from .schema import (
    MAX_CELL_CHARS,
    MAX_COLUMNS_PER_TABLE,
    MAX_ROW_CHARS,
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


def _table_name(name: str) -> str | None:
    """The table a sheet or file name stands for (case and surrounding blanks ignored)."""
    key = name.strip().lower()
    return key if key in TABLES_BY_NAME else None


def _one_line(text: str, limit: int = 300) -> str:
    """An error text as one short line (library messages can span several)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_instance_tables(path: str | Path) -> RawTables:
    """Read the tables of the instance at ``path`` (a workbook or a CSV folder)."""
    p = Path(path)
    if not p.exists():
        if p.is_symlink():
            raise InputError(f"{p}: {_not_a_file(p)}")
        raise InputError(f"{p}: no such file or folder")
    if p.is_dir():
        return read_csv_folder(p)
    if not p.is_file():
        what = _not_a_file(p)
        if what:
            raise InputError(f"{p}: {what}; an instance is an .xlsx workbook or a folder of CSV files")
        raise InputError(f"{p}: not a regular file (a device, pipe or socket cannot be an instance)")
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        return read_workbook(p)
    if p.suffix.lower() == ".csv":
        raise InputError(f"{p}: give the folder that holds the CSV tables, not one CSV file")
    raise InputError(f"{p}: not an instance (expected an .xlsx workbook or a folder of CSV files)")


# --------------------------------------------------------------------- CSV

def _clean(value: Any) -> Any:
    """Blank (empty or whitespace-only) strings become None; other values are kept as they are.

    Surrounding whitespace is kept so a conversion is lossless; the validator
    ignores it when it interprets a cell.
    """
    if isinstance(value, str) and (not value or value.isspace()):
        return None
    return value


def _not_a_file(path: Path) -> str | None:
    """What ``path`` is when it is not a regular file (never opens it, so a FIFO cannot block); None if it is one."""
    import os  # noqa: PLC0415
    import stat  # noqa: PLC0415

    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        import errno  # noqa: PLC0415

        if exc.errno == errno.ELOOP:
            return "a symbolic link that loops (it leads back to itself), not a file"
        if path.is_symlink():
            return "a symbolic link whose target does not exist"
        return f"cannot be examined ({exc.strerror or exc})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO), not a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a file"
    return "not a regular file"


def read_csv_folder(folder: Path) -> RawTables:
    tables: dict[str, RawTable] = {}
    problems: list[Problem] = []
    for f in sorted(folder.iterdir()):
        if f.suffix.lower() != ".csv":
            continue
        what = _not_a_file(f)
        if what is not None:
            if _table_name(f.stem) is not None:  # a table that cannot be read: say what it is
                raise InputError(f"{f}: table {_table_name(f.stem)} is {what}")
            continue
        name = _table_name(f.stem)
        if name is None:
            problems.append(Problem(_one_line(f.stem, 80), None, None, "warning",
                                    f"unknown table {_one_line(f.name, 80)}; it is ignored "
                                    f"(known tables: {', '.join(TABLES_BY_NAME)})"))
            continue
        if name in tables:
            problems.append(Problem(name, None, None, "error",
                                    f"the table is given twice ({_one_line(f.name, 80)} and another file of the same name "
                                    "in different case); keep one"))
            continue
        tables[name] = _read_csv(f, name)
    return RawTables(str(folder), "csv", tables, tuple(problems))


def _read_csv(path: Path, name: str) -> RawTable:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(f"{path}: {size / 1e6:.0f} MB is larger than the {MAX_FILE_BYTES / 1e6:.0f} MB limit for one table")
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{path}: the CSV is UTF-16 text; save it as UTF-8 (in Excel: CSV UTF-8)")
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise InputError(f"{path} line {line}: not a text CSV file (it contains NUL bytes / binary data)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{path} line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                         "save the CSV as UTF-8") from None
    # strict: an unterminated quote is an error, not a field that swallows the rest of the file;
    # lines come through a limit, so one 48 MB line is refused before it is split into fields
    reader = csv.reader(_limited_lines(text, path), strict=True)
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
                names = [c.strip() for c in record]
                while names and not names[-1]:
                    names.pop()  # trailing blank names, as in a workbook: their cells count as right of the table
                header = tuple(names)
                header_row = row_number
                if len(header) == 1:
                    for sep, word in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
                        if sep in header[0]:
                            raise InputError(f"{path} line {row_number}: the columns are separated by {word}, not "
                                             "commas; save the table as CSV with commas (in Excel: CSV UTF-8)")
                continue
            _check_row_size(path, row_number, record, header)
            values = [_clean(c) for c in record]
            if all(v is None for v in values):
                continue
            if len(rows) >= MAX_ROWS_PER_TABLE:
                raise InputError(f"{path}: more than {MAX_ROWS_PER_TABLE:,} rows; refusing to read it")
            rows.append((row_number, _fit(values, len(header))))
    except csv.Error as exc:
        why = str(exc)
        if "unexpected end of data" in why:
            why = f"a quoted value opened on line {line_start} is never closed"
        elif "field larger than field limit" in why:
            raise InputError(f"{path} line {line_start}: a cell longer than {MAX_CELL_CHARS:,} characters "
                             "(the most a spreadsheet cell holds); refusing to read it") from None
        raise InputError(f"{path} line {reader.line_num}: not readable as CSV ({_one_line(why)})") from None
    return RawTable(name, header or (), tuple(rows), header_row)


_NEWLINE = re.compile(r"\r\n|\r|\n")


def _limited_lines(text: str, path: Path) -> Any:
    """The lines of ``text`` (newlines kept, as csv wants them); a line longer than MAX_ROW_CHARS is refused."""
    pos, n, end = 0, 0, len(text)
    while pos < end:
        n += 1
        stop = min(end, pos + MAX_ROW_CHARS + 2)
        m = _NEWLINE.search(text, pos, stop)
        nxt = m.end() if m is not None else end
        if nxt - pos > MAX_ROW_CHARS or (m is None and stop < end):
            raise InputError(f"{path} line {n}: a row longer than {MAX_ROW_CHARS:,} characters; refusing to read it")
        yield text[pos:nxt]
        pos = nxt


def _check_row_size(path: Path | str, row_number: int, values: Any, header: tuple[str, ...] | None,
                    where: str = "line") -> None:
    """Refuse a row whose cells are too long (one cell > MAX_CELL_CHARS, all together > MAX_ROW_CHARS)."""
    total = 0
    for j, v in enumerate(values):
        if isinstance(v, str):
            n = len(v)
            if n > MAX_CELL_CHARS:
                column = header[j] if header is not None and j < len(header) and header[j] else f"#{j + 1}"
                raise InputError(f"{path} {where} {row_number}, column {_one_line(column, 80)}: a cell of {n:,} "
                                 f"characters is longer than {MAX_CELL_CHARS:,} (the most a spreadsheet cell "
                                 "holds); refusing to read it")
            total += n
    if total > MAX_ROW_CHARS:
        raise InputError(f"{path} {where} {row_number}: a row of {total:,} characters is longer than "
                         f"{MAX_ROW_CHARS:,}; refusing to read it")


def _fit(values: list[Any], width: int) -> tuple[Any, ...]:
    """Pad or cut a row to the header width; cells right of the header are kept in one _Overflow."""
    if len(values) < width:
        values = values + [None] * (width - len(values))
    elif len(values) > width:
        extra = list(values[width:])
        while extra and extra[-1] is None:
            extra.pop()
        values = values[:width]
        if extra:
            values.append(_Overflow(tuple(extra)))
    return tuple(values)


@dataclass(frozen=True)
class _Overflow:
    """Cells to the right of the last header column (reported by the validator).

    ``cells`` keeps their positions (blanks included) so a conversion writes
    them back where they were; ``values`` are the non-blank ones.
    """

    cells: tuple[Any, ...]

    @property
    def values(self) -> tuple[Any, ...]:
        return tuple(v for v in self.cells if v is not None)


OVERFLOW = _Overflow


# -------------------------------------------------------------------- XLSX

#: Member-size threshold above which the compression ratio is checked (smaller members cannot
#: hurt, and an empty or tiny member may compress very well for honest reasons).
BOMB_MEMBER_BYTES = 64 * 1024
_SCAN_CHUNK = 1 << 20
_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
#: Row start tags with a namespace prefix (``<x:row``); unprefixed ones are counted with bytes.count.
_PREFIXED_ROW_TAG = re.compile(rb"<[A-Za-z_][\w.-]*:row(?=[\s/>])")
#: A row number above 500,000 (cell references start with a letter, so only row numbers match).
#: Matches are rare, so whitespace before ``r`` is checked in Python; exotic spellings
#: (``r = '…'``) are caught later by the row counter of :func:`_read_sheet`.
_BIG_ROW_NUMBER = re.compile(rb'r="((?:[5-9]\d{5})|(?:[1-9]\d{6,11}))"')
_MERGE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*?\bref\s*=\s*[\"']([A-Za-z]{1,3}\d{1,7}(?::[A-Za-z]{1,3}\d{1,7})?)[\"']")


@dataclass
class _SheetScan:
    """What a byte-level pass over one worksheet found (before any XML parsing)."""

    rows: int = 0
    max_row_number: int = 0
    merged: list[str] = field(default_factory=list)


def _check_zip(path: Path) -> dict[str, _SheetScan]:
    """Refuse what is not a workbook or is hostile; return what the pre-scan saw per worksheet.

    Everything here works on the zip's declared sizes (which zipfile enforces
    while decompressing) and on raw bytes, so it is cheap and cannot be
    exploited by the XML it refuses: entity declarations (billion laughs,
    external entities), members that expand too much (zip bombs) and sheets
    with more rows than the limit are refused before openpyxl sees the file.
    """
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(f"{path}: {size / 1e6:.0f} MB is larger than the {MAX_FILE_BYTES / 1e6:.0f} MB limit")
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path}: not an Excel workbook (.xlsx files are zip archives; this one is not)")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = 0
            for info in infos:
                total += info.file_size
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > BOMB_MEMBER_BYTES and ratio > MAX_COMPRESSION_RATIO:
                    raise InputError(f"{path}: refused: member {_one_line(info.filename, 80)} expands {ratio:.0f}× "
                                     f"({info.file_size / 1e6:.1f} MB) — this looks like a zip bomb")
            if total > MAX_WORKBOOK_UNCOMPRESSED_BYTES:
                raise InputError(f"{path}: refused: it expands to {total / 1e6:.0f} MB, more than the "
                                 f"{MAX_WORKBOOK_UNCOMPRESSED_BYTES / 1e6:.0f} MB limit (zip bomb?)")
            names = {i.filename for i in infos}
            if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
                raise InputError(f"{path}: not an Excel workbook (a zip archive without a workbook inside)")
            scans: dict[str, _SheetScan] = {}
            for info in infos:
                low = info.filename.lower()
                if info.is_dir() or not low.endswith((".xml", ".rels", ".vml")):
                    continue
                is_sheet = low.startswith("xl/worksheets/")
                scan = _scan_member(path, zf, info, is_sheet)
                if is_sheet:
                    scans[info.filename] = scan
            return scans
    except InputError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, RuntimeError,
            NotImplementedError, ValueError) as exc:  # corrupt, encrypted or exotic archives
        raise InputError(f"{path}: not a readable Excel workbook ({_describe(exc)})") from None


def _scan_member(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, is_sheet: bool) -> _SheetScan:
    scan = _SheetScan()
    limit = MAX_ROWS_PER_TABLE + 1
    carry = b""
    with zf.open(info) as fh:
        head = fh.read(4)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) == 4 and head[1:2] == b"\x00"):
            # UTF-16 XML: the byte scan below would not see its declarations
            raise InputError(f"{path}: refused: {info.filename} is UTF-16 XML, which Excel does not write "
                             "(a crafted or corrupt file)")
        carry = head
        while True:
            chunk = fh.read(_SCAN_CHUNK)
            buf = carry + chunk
            if chunk:
                cut = buf.rfind(b"<")
                if cut <= 0 or len(buf) - cut > 65536:
                    cut = max(len(buf) - 64, 0)
                part, carry = buf[:cut], buf[cut:]
            else:
                part, carry = buf, b""
            if _DTD.search(part):
                raise InputError(f"{path}: refused: {info.filename} declares XML entities (<!DOCTYPE/<!ENTITY>); "
                                 "this is an XML entity attack or a corrupt file, not something Excel writes")
            if is_sheet:
                scan.rows += part.count(b"<row") - part.count(b"<rowBreaks")
                if b":row" in part:
                    scan.rows += len(_PREFIXED_ROW_TAG.findall(part))
                for m in _BIG_ROW_NUMBER.finditer(part):
                    if m.start() > 0 and part[m.start() - 1] in b" \t\r\n":
                        scan.max_row_number = max(scan.max_row_number, int(m.group(1)))
                        if scan.max_row_number > limit:
                            break
                if scan.rows > limit or scan.max_row_number > limit:
                    what = (f"more than {MAX_ROWS_PER_TABLE:,} rows" if scan.rows > limit
                            else f"a row numbered {scan.max_row_number:,}")
                    raise InputError(f"{path}: refused: worksheet {info.filename} has {what}; "
                                     f"a table may have at most {MAX_ROWS_PER_TABLE:,} rows")
                if b"mergeCell" in part:
                    scan.merged.extend(m.decode("ascii").upper() for m in _MERGE.findall(part))
            if not chunk:
                break
    return scan


def _is_entity_refusal(exc: BaseException) -> bool:
    """True when defusedxml (inside openpyxl) refused entity declarations somewhere in the cause chain."""
    seen = 0
    e: BaseException | None = exc
    while e is not None and seen < 10:
        name = type(e).__name__
        if "Forbidden" in name or "Entities" in name or "DTD" in name or "Defused" in name:
            return True
        e = e.__cause__ or e.__context__
        seen += 1
    return False


def _describe(exc: BaseException) -> str:
    """One line on why a library failed: the root cause, not openpyxl's multi-line wrapper."""
    root = exc
    for _ in range(10):
        nxt = root.__cause__ or root.__context__
        if nxt is None:
            break
        root = nxt
    text = f"{type(root).__name__}: {root}" if str(root) else type(root).__name__
    return _one_line(text)


def read_workbook(path: Path) -> RawTables:
    """Read every table sheet of a workbook (read-only; formulas use Excel's cached values)."""
    scans = _check_zip(path)
    with warnings.catch_warnings():
        # openpyxl warns about parts it drops (data-validation extensions, odd styles, …): noise
        # on the planner's terminal, and nothing the instance depends on
        warnings.simplefilter("ignore")
        return _read_workbook(path, scans)


def _read_workbook(path: Path, scans: dict[str, _SheetScan]) -> RawTables:
    import openpyxl  # noqa: PLC0415 - heavy import, only when needed

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except InputError:
        raise
    except Exception as exc:  # defusedxml, corrupt XML, missing parts: refuse, don't crash
        if _is_entity_refusal(exc):
            raise InputError(f"{path}: refused: the workbook contains XML entity declarations "
                             f"(an XML entity attack or a corrupt file)") from None
        raise InputError(f"{path}: not a readable Excel workbook ({_describe(exc)})") from None
    cached = None
    tables: dict[str, RawTable] = {}
    problems: list[Problem] = []
    try:
        for ws in wb.worksheets:
            title = ws.title
            if title.strip().lower() in IGNORED_SHEETS:
                continue
            name = _table_name(title)
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
        if _is_entity_refusal(exc):
            raise InputError(f"{path}: refused: the workbook contains XML entity declarations "
                             f"(an XML entity attack or a corrupt file)") from None
        raise InputError(f"{path}: not a readable Excel workbook ({_describe(exc)})") from None
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
        _check_row_size(f"{path}: sheet {name}", row_number, values, header, where="row")
        for j, v in enumerate(values):
            if j < len(header) and (isinstance(v, str) and v.startswith("=") or _is_formula_object(v)):
                formula_cells.append((len(rows), j))
        rows.append((row_number, _fit(values, len(header))))
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
        value = _clean(raw[j]) if j < len(raw) else None
        if value is None:
            text = _one_line(_formula_text(values[j]), 80)
            problems.append(Problem(table.name, row_number, table.header[j] or f"#{j + 1}", "error",
                                    f"formula {text} has no computed value; open and save the workbook "
                                    "in Excel, or type the value"))
            value = _Formula(text)
        new = list(values)
        new[j] = value
        rows[i] = (row_number, tuple(new))
    return RawTable(table.name, table.header, tuple(rows), table.header_row)


@dataclass(frozen=True)
class _Formula:
    """A formula cell without a cached value (already reported)."""

    text: str


FORMULA = _Formula


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
