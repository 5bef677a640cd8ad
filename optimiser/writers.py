"""Write instance tables (CSV folder or workbook) and any file atomically.

Every write goes to a temporary file in the target's folder, then replaces the
target in one rename: a failed or killed write leaves the previous file intact.
Temporary files are named ``.NAME.optimiser-tmp-PID-…``; one left by a killed
process (its pid gone, or older than a day) is removed by the next write to that folder.

Every output path passes :func:`check_output` (the one rule for ``--out``, ``--write-model``,
``--csv``, converted, generated and template targets): a regular file or a new path, never a
device, FIFO, socket or folder, never an input, a file name the file system can hold.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import math
import os
import re
import shutil
import stat
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from .cells import date_text, number_text
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
            raise OutputError(f"{shown(target)}: refusing to write over the input instance {shown(src)}")


#: Longest path shown in a message (a 100 KB instance name is not echoed whole).
SHOWN_CHARS = 120


def shown(path: Any) -> str:
    """``path`` as a message shows it: at most :data:`SHOWN_CHARS` characters."""
    text = str(path)
    if len(text) <= SHOWN_CHARS:
        return text
    half = SHOWN_CHARS // 2 - 1
    return f"{text[:half]}…{text[-half:]} ({len(text):,} characters)"


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"))


def _what(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def check_output(target: Path, inputs: Sequence[Path] = (), *, folder: bool = False, force: bool = True,
                 flag: str = "--force") -> Path:
    """The one rule every output path passes before anything is computed or written.

    A file output (``folder=False``) goes to a new path or over a regular file; a CSV folder
    output to a new path or over a folder. Never a device, FIFO, socket, symlink loop, nor a
    name too long for the file system; never over, inside or around an input
    (:func:`refuse_overwriting_input`). ``force=False``: an existing target (a file, or a
    folder that is not empty) is refused unless the planner adds ``flag``.
    """
    target = Path(target)
    name_max, path_max = 255, 4096
    try:
        name_max = os.pathconf(target.parent if str(target.parent) else ".", "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        pass
    for part in target.parts:
        if len(os.fsencode(part)) > name_max:
            raise OutputError(f"{shown(target)}: a file name in this path is too long "
                              f"({len(os.fsencode(part)):,} bytes; this file system allows {name_max}); "
                              "give a shorter --out")
    if len(os.fsencode(str(target))) > path_max:
        raise OutputError(f"{shown(target)}: the path is too long ({len(os.fsencode(str(target))):,} bytes)")
    refuse_overwriting_input(target, inputs)
    try:
        st = os.stat(target)
    except FileNotFoundError:  # a new path (or a dangling symlink: the write replaces the link)
        st = None
    except OSError as exc:  # a symlink loop, a path through a file, no permission
        raise OutputError(f"{shown(target)}: cannot write here ({exc.strerror or exc})") from None
    if st is not None:
        if folder and not stat.S_ISDIR(st.st_mode):
            kind = "a file" if stat.S_ISREG(st.st_mode) else _what(st.st_mode)
            raise OutputError(f"{shown(target)}: exists and is {kind}, not a folder; give a new path")
        if not folder and not stat.S_ISREG(st.st_mode):
            raise OutputError(f"{shown(target)}: is {_what(st.st_mode)}; outputs go only to regular files "
                              "or new paths")
        if not force:
            empty_folder = stat.S_ISDIR(st.st_mode) and not any(Path(target).iterdir())
            if not empty_folder:
                raise OutputError(f"{shown(target)}: already exists; add {flag} to replace it")
    return target


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


#: Marks our temporary files and folders: ``.NAME.optimiser-tmp-PID-RANDOM[SUFFIX]``.
TMP_MARK = ".optimiser-tmp-"
_TMP_RE = re.compile(r"^\..*\.optimiser-tmp-(\d+)-[^/]*$", re.DOTALL)
#: A temporary file older than this is stale even if its pid is alive again (pids are reused).
STALE_SECONDS = 24 * 3600.0


def _tmp_prefix(name: str) -> str:
    """``.NAME.optimiser-tmp-PID-`` with NAME cut so the temporary name stays a legal file name."""
    keep = name
    while len(os.fsencode(f".{keep}{TMP_MARK}{os.getpid()}-XXXXXXXX.tmp.xlsx")) > 255 and keep:
        keep = keep[: max(len(keep) - 16, 0)]
    return f".{keep}{TMP_MARK}{os.getpid()}-"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove our temporary files and folders in ``folder`` left by a killed write: the pid in the
    name is gone, or the file is older than :data:`STALE_SECONDS`. Returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        m = _TMP_RE.match(entry.name)
        if not m:
            continue
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
            if _pid_alive(int(m.group(1))) and age < STALE_SECONDS:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


@contextmanager
def atomic_path(target: Path, keep_suffix: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success rename it over ``target``.

    ``target`` must pass :func:`check_output` (a regular file or a new path); ``keep_suffix``
    ends the temporary name with the target's suffix (for writers that choose the format by it).
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    check_output(target)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(folder)
        fd, tmp_name = tempfile.mkstemp(prefix=_tmp_prefix(target.name),
                                        suffix=".tmp" + (target.suffix if keep_suffix else ""), dir=folder)
        os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_name, 0o666 & ~umask)  # mkstemp makes it private; a report is an ordinary file
    except OSError as exc:
        raise OutputError(f"{shown(target)}: cannot write here ({exc.strerror or exc})") from None
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(f"{shown(target)}: could not be written ({exc.strerror or exc}); the previous file is "
                          "untouched") from None
    finally:
        tmp.unlink(missing_ok=True)


def _cell_text(value: Any) -> str:
    """A cell as CSV text — the same text the validator makes of the cell (see tables.parse_cell)."""
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
    check_output(folder, folder=True)
    if folder.is_dir():
        others = sorted(p.name for p in folder.iterdir() if not (p.is_file() and p.suffix.lower() == ".csv"))
        if others:
            raise OutputError(f"{shown(folder)}: exists and holds more than an instance's CSV files "
                              f"({', '.join(others[:3])}{', …' if len(others) > 3 else ''}); "
                              "give a new or empty folder")
    parent = folder.parent if str(folder.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(parent)
        tmp = Path(tempfile.mkdtemp(prefix=_tmp_prefix(folder.name), dir=parent))
    except OSError as exc:
        raise OutputError(f"{shown(folder)}: cannot write here ({exc.strerror or exc})") from None
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
            old = Path(tempfile.mkdtemp(prefix=_tmp_prefix(folder.name), suffix=".old", dir=parent))
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
        raise OutputError(f"{shown(folder)}: could not be written ({exc.strerror or exc}); nothing was changed") from None
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
            raise OutputError(f"{shown(path)}: table {name}, header: {_cell_problem(exc)}") from None
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
                raise OutputError(f"{shown(path)}: table {name}, data row {i}: {_cell_problem(exc)}") from None
            # the cells just appended (row i + 1): not ws[ws.max_row], which walks every cell of the sheet
            for j, v in enumerate(values, start=1):
                if isinstance(v, str) and v[:1] in ("=", "+", "-", "@"):
                    ws.cell(row=i + 1, column=j).data_type = "s"
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
