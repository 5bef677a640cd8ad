"""Write instance tables (CSV folder or workbook) and any file atomically.

Every write goes to a temporary file in the target's folder, then replaces the
target in one rename: a failed or killed write leaves the previous file intact.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from .errors import OutputError
from .readers import FORMULA, OVERFLOW, RawTables
from .schema import SOURCE_COLUMN, TABLES, TABLES_BY_NAME

TableRows = tuple[Sequence[str], Sequence[Sequence[Any]]]


def same_path(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def refuse_overwriting_input(target: Path, inputs: Sequence[Path]) -> None:
    """Never write over (or inside) the instance the tool is reading."""
    for src in inputs:
        src = Path(src)
        if same_path(target, src) or (src.is_dir() and _inside(target, src)):
            raise OutputError(f"{target}: refusing to write over the input instance {src}")


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
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, FORMULA):
        return value.text
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _ordered(tables: Mapping[str, TableRows]) -> list[str]:
    known = [t.name for t in TABLES if t.name in tables]
    return known + sorted(n for n in tables if n not in TABLES_BY_NAME)


def write_csv_folder(tables: Mapping[str, TableRows], folder: Path) -> None:
    """Write one ``<table>.csv`` per table into ``folder``, atomically as a whole."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: exists and is not a folder")
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
                w.writerow([_cell_text(v) for v in row if not isinstance(v, OVERFLOW)])
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


def _typed(table: str, column: str, value: Any) -> Any:
    """A CSV string as the value the workbook should hold (numbers as numbers)."""
    if not isinstance(value, str):
        return value
    spec = TABLES_BY_NAME.get(table)
    col_type = None
    if spec is not None and column != SOURCE_COLUMN:
        try:
            col_type = spec.column(column).type
        except KeyError:
            col_type = None
    if table == "settings" and column == "value":
        col_type = "float"
    if col_type in ("int", "float"):
        try:
            x = float(value)
        except ValueError:
            return value
        if x.is_integer() and "." not in value and "e" not in value.lower() and abs(x) < 1e15:
            return int(x)
        return x if repr(x) == value or str(x) == value else value
    return value


def write_workbook(tables: Mapping[str, TableRows], path: Path) -> None:
    """Write every table as a sheet (header bold and frozen), atomically."""
    from openpyxl import Workbook  # noqa: PLC0415
    from openpyxl.styles import Font  # noqa: PLC0415

    wb = Workbook()
    wb.remove(wb.active)
    for name in _ordered(tables):
        header, rows = tables[name]
        ws = wb.create_sheet(name)
        ws.append(list(header))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            values = [_typed(name, header[j] if j < len(header) else "", v)
                      for j, v in enumerate(row) if not isinstance(v, OVERFLOW)]
            values = [v.text if isinstance(v, FORMULA) else v for v in values]
            ws.append(values)
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str) and cell.value[:1] in ("=", "+", "-", "@"):
                    cell.data_type = "s"
        ws.freeze_panes = "A2"
        for j, h in enumerate(header, start=1):
            ws.column_dimensions[ws.cell(1, j).column_letter].width = max(10, min(40, len(str(h)) + 4))
    with atomic_path(Path(path)) as tmp:
        wb.save(tmp)


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
