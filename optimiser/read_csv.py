"""Read an instance's tables from a folder of CSV files (UTF-8, commas, one file per table).

Lines longer than MAX_ROW_CHARS, cells longer than MAX_CELL_CHARS, more than MAX_ROWS_PER_TABLE
rows, binary or UTF-16 files and unterminated quotes are refused with one located
:class:`~optimiser.errors.InputError`. Files are opened read-only; a FIFO or device is never opened.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from .errors import InputError, Problem
from .raw import RawTable, RawTables, check_row_size, clean_cell, fit_row, one_line, table_name
from .schema import MAX_CELL_CHARS, MAX_COLUMNS_PER_TABLE, MAX_FILE_BYTES, MAX_ROW_CHARS, MAX_ROWS_PER_TABLE, TABLES_BY_NAME

def not_a_file(path: Path) -> str | None:
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
    """Every ``NAME.csv`` of the folder whose NAME is a table (others are warned of and ignored)."""
    tables: dict[str, RawTable] = {}
    problems: list[Problem] = []
    for f in sorted(folder.iterdir()):
        if f.suffix.lower() != ".csv":
            continue
        what = not_a_file(f)
        if what is not None:
            if table_name(f.stem) is not None:  # a table that cannot be read: say what it is
                raise InputError(f"{f}: table {table_name(f.stem)} is {what}")
            continue
        name = table_name(f.stem)
        if name is None:
            problems.append(Problem(one_line(f.stem, 80), None, None, "warning",
                                    f"unknown table {one_line(f.name, 80)}; it is ignored "
                                    f"(known tables: {', '.join(TABLES_BY_NAME)})"))
            continue
        if name in tables:
            problems.append(Problem(name, None, None, "error",
                                    f"the table is given twice ({one_line(f.name, 80)} and another file of the same name "
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
            check_row_size(path, row_number, record, header)
            values = [clean_cell(c) for c in record]
            if all(v is None for v in values):
                continue
            if len(rows) >= MAX_ROWS_PER_TABLE:
                raise InputError(f"{path}: more than {MAX_ROWS_PER_TABLE:,} rows; refusing to read it")
            rows.append((row_number, fit_row(values, len(header))))
    except csv.Error as exc:
        why = str(exc)
        if "unexpected end of data" in why:
            why = f"a quoted value opened on line {line_start} is never closed"
        elif "field larger than field limit" in why:
            raise InputError(f"{path} line {line_start}: a cell longer than {MAX_CELL_CHARS:,} characters "
                             "(the most a spreadsheet cell holds); refusing to read it") from None
        raise InputError(f"{path} line {reader.line_num}: not readable as CSV ({one_line(why)})") from None
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
