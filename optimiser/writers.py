"""Write instance tables (CSV folder or workbook) and any file atomically.

Every write goes to a temporary file in the target's folder, then replaces the
target in one rename: a failed or killed write leaves the previous file intact.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import math
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from .errors import OutputError
from .readers import FORMULA, OVERFLOW, RawTables
from .schema import SETTINGS_KEYS, SOURCE_COLUMN, TABLES, TABLES_BY_NAME

TableRows = tuple[Sequence[str], Sequence[Sequence[Any]]]


def same_path(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def refuse_overwriting_input(target: Path, inputs: Sequence[Path]) -> None:
    """Never write over, inside or around the instance the tool is reading.

    A CSV folder target replaces the whole folder, so a target that contains
    the input (a parent folder) is refused as well.
    """
    target = Path(target)
    for src in inputs:
        src = Path(src)
        if (same_path(target, src) or _same_file(target, src) or (src.is_dir() and _inside(target, src))
                or _inside(src, target)):
            raise OutputError(f"{target}: refusing to write over the input instance {src}")


def _same_file(a: Path, b: Path) -> bool:
    """Hard links and other aliases of one file."""
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except (ValueError, OSError):
        return False


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success rename it over ``target``."""
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_name, 0o666 & ~umask)  # mkstemp makes it private; a report is an ordinary file
    except OSError as exc:
        raise OutputError(f"{target}: cannot write here ({exc.strerror or exc})") from None
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(f"{target}: could not be written ({exc.strerror or exc}); the previous file is untouched") from None
    finally:
        tmp.unlink(missing_ok=True)


def _cell_text(value: Any) -> str:
    """A cell as CSV text — the same text the validator makes of the cell (see validate.parse_cell)."""
    from .validate import date_text, number_text  # noqa: PLC0415

    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, FORMULA):
        return value.text
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return date_text(value)
    return str(value)


def _cells(row: Sequence[Any]) -> list[Any]:
    """A row as written: cells right of the header (kept by the reader) go back where they were."""
    out: list[Any] = []
    for v in row:
        if isinstance(v, OVERFLOW):
            out.extend(v.cells)
        else:
            out.append(v)
    return out


def _ordered(tables: Mapping[str, TableRows]) -> list[str]:
    known = [t.name for t in TABLES if t.name in tables]
    return known + sorted(n for n in tables if n not in TABLES_BY_NAME)


def write_csv_folder(tables: Mapping[str, TableRows], folder: Path) -> None:
    """Write one ``<table>.csv`` per table into ``folder``, atomically as a whole.

    An existing folder is replaced as a whole, so it must hold nothing but CSV
    files (a previous instance): a folder with anything else is refused, never emptied.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: exists and is not a folder")
    if folder.is_dir():
        others = sorted(p.name for p in folder.iterdir() if not (p.is_file() and p.suffix.lower() == ".csv"))
        if others:
            raise OutputError(f"{folder}: exists and holds more than an instance's CSV files "
                              f"({', '.join(others[:3])}{', …' if len(others) > 3 else ''}); "
                              "give a new or empty folder")
    parent = folder.parent if str(folder.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=parent))
    except OSError as exc:
        raise OutputError(f"{folder}: cannot write here ({exc.strerror or exc})") from None
    try:
        for name in _ordered(tables):
            header, rows = tables[name]
            buf = io.StringIO(newline="")
            w = csv.writer(buf, lineterminator="\n")
            w.writerow(header)
            for row in rows:
                w.writerow([_cell_text(v) for v in _cells(row)])
            (tmp / f"{name}.csv").write_text(buf.getvalue(), encoding="utf-8")
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old.", dir=parent))
            old.rmdir()
            os.replace(folder, old)
            try:
                os.replace(tmp, folder)
            except OSError:
                os.replace(old, folder)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, folder)
    except OSError as exc:
        raise OutputError(f"{folder}: could not be written ({exc.strerror or exc}); nothing was changed") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


_SETTING_TYPES = {c.name: c.type for c in SETTINGS_KEYS}


def column_type(table: str, column: str, setting_key: Any = None) -> str | None:
    """The schema type of an input column (of a settings value: of its key's setting), if known."""
    if table == "settings" and column == "value":
        return _SETTING_TYPES.get(str(setting_key).strip().lower()) if setting_key is not None else None
    spec = TABLES_BY_NAME.get(table)
    if spec is None or column == SOURCE_COLUMN:
        return None
    try:
        return spec.column(column).type
    except KeyError:
        return None


def _typed(col_type: str | None, value: Any) -> Any:
    """A cell as the value the workbook should hold.

    Text that is exactly how the CSV writer spells a number (``5``, ``0.1``,
    ``1e-07``) becomes a number in a number column, and ``TRUE``/``FALSE`` a
    boolean in a true/false column; anything else stays text as it is — so
    ``007`` stays ``007`` and a CSV → xlsx → CSV round trip gives the same text.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # a workbook cannot hold NaN/inf (openpyxl would write a blank)
    if not isinstance(value, str):
        return value
    if col_type == "bool" and value in ("TRUE", "FALSE"):
        return value == "TRUE"
    if col_type in ("int", "float"):
        try:
            x = float(value)
        except ValueError:
            return value
        if not math.isfinite(x):
            return value
        if x.is_integer() and abs(x) < 1e16 and str(int(x)) == value:
            return int(x)
        if repr(x) == value:
            return x
    return value


def write_workbook(tables: Mapping[str, TableRows], path: Path) -> None:
    """Write every table as a sheet (header bold and frozen), atomically."""
    from openpyxl import Workbook  # noqa: PLC0415
    from openpyxl.styles import Font  # noqa: PLC0415
    from openpyxl.utils.exceptions import IllegalCharacterError  # noqa: PLC0415

    unwritable = (ValueError, TypeError, IllegalCharacterError)

    wb = Workbook()
    wb.remove(wb.active)
    for name in _ordered(tables):
        header, rows = tables[name]
        header = list(header)
        ws = wb.create_sheet(name)
        try:
            ws.append(header)
        except unwritable as exc:
            raise OutputError(f"{path}: table {name}, header: {_cell_problem(exc)}") from None
        for cell in ws[1]:
            cell.font = Font(bold=True)
            if isinstance(cell.value, str) and cell.value[:1] in ("=", "+", "-", "@"):
                cell.data_type = "s"  # a header is text, never a formula
        key_at = header.index("key") if name == "settings" and "key" in header else None
        types = [column_type(name, h) for h in header]
        for i, row in enumerate(rows, start=1):
            values = _cells(row)
            row_types = list(types)
            if key_at is not None and "value" in header and key_at < len(values):
                row_types[header.index("value")] = column_type(name, "value", values[key_at])
            values = [_typed(row_types[j] if j < len(row_types) else None, v) for j, v in enumerate(values)]
            values = [v.text if isinstance(v, FORMULA) else v for v in values]
            try:
                ws.append(values)
            except unwritable as exc:
                raise OutputError(f"{path}: table {name}, data row {i}: {_cell_problem(exc)}") from None
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str) and cell.value[:1] in ("=", "+", "-", "@"):
                    cell.data_type = "s"
        ws.freeze_panes = "A2"
        for j, h in enumerate(header, start=1):
            ws.column_dimensions[ws.cell(1, j).column_letter].width = max(10, min(40, len(str(h)) + 4))
    with atomic_path(Path(path)) as tmp, _exact_numbers():
        wb.save(tmp)


@contextmanager
def _exact_numbers() -> Iterator[None]:
    """Write every number so it reads back exactly.

    openpyxl writes numbers with ``%.16g``, which loses the 17th digit
    (0.30000000000000004 comes back as 0.3) and turns integers above 2**53
    into rounded floats. While our workbook is saved, such a float is written
    as ``repr`` (Excel reads 17 significant digits) and an integer as its digits.
    """
    from openpyxl.cell import _writer  # noqa: PLC0415

    original = _writer.safe_string

    def exact(value: Any) -> str:
        if isinstance(value, float) and math.isfinite(value):
            text = "%.16g" % value
            return text if float(text) == value else repr(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return original(value)

    _writer.safe_string = exact
    try:
        yield
    finally:
        _writer.safe_string = original


def _cell_problem(exc: Exception) -> str:
    if type(exc).__name__ == "IllegalCharacterError":
        return "a cell holds a control character that a workbook cannot store; remove it (or keep the CSV form)"
    return f"a cell cannot be written to a workbook ({type(exc).__name__}: {exc})"


def raw_to_rows(raw: RawTables) -> dict[str, TableRows]:
    """Tables as read, ready for a writer."""
    return {name: (t.header, [v for _, v in t.rows]) for name, t in raw.tables.items()}


def write_tables(tables: Mapping[str, TableRows], target: Path) -> None:
    """Write tables as a workbook (``.xlsx``) or a CSV folder (anything else)."""
    target = Path(target)
    if target.suffix.lower() in (".xlsx", ".xlsm"):
        write_workbook(tables, target)
    else:
        write_csv_folder(tables, target)


def dict_tables(tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, TableRows]:
    """``{table: [row dicts]}`` → ``{table: (header, rows)}`` (header = union of keys, in order)."""
    out: dict[str, TableRows] = {}
    for name, rows in tables.items():
        header: list[str] = []
        for r in rows:
            for k in r:
                if k not in header:
                    header.append(k)
        if not rows and name in TABLES_BY_NAME:
            header = list(TABLES_BY_NAME[name].column_names)
        out[name] = (header, [[r.get(k) for k in header] for r in rows])
    return out
