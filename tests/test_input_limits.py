"""Cell, row and zip-member limits; table files that are not files (issue 17, item 16).

Before: a single 48 MB CSV row was read (1.1 GB RSS) and echoed in a 75 MB warning; a zip member
just under 10 MB at 1,026× compression was accepted; a ``lines.csv`` that was a folder, FIFO or
symlink loop gave "required table lines is missing".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from optimiser.readers import read_instance_tables
from optimiser.schema import MAX_CELL_CHARS, MAX_ROW_CHARS
from optimiser.validate import load_instance

from builders import CONTENT_TYPES, NS, SETTINGS_ROWS, make_xlsx, refused, s, sheet_xml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "instances" / "foxconn-vinfast-2021"


def _case(tmp_path: Path) -> Path:
    folder = tmp_path / "case"
    shutil.copytree(DEFAULT, folder)
    return folder


def _append_line(path: Path, line: str) -> int:
    text = path.read_text(encoding="utf-8")
    if not text.endswith("\n"):
        text += "\n"
    path.write_text(text + line + "\n", encoding="utf-8")
    return text.count("\n") + 1


def test_csv_row_with_millions_of_fields_is_refused(tmp_path: Path) -> None:
    folder = _case(tmp_path)
    n = _append_line(folder / "markets.csv", "x," + "a," * 600_000)
    message = refused(folder, f"markets.csv line {n}: a row longer than {MAX_ROW_CHARS:,} characters")
    assert len(message) < 400


@pytest.mark.parametrize("size", [MAX_CELL_CHARS + 1, 200_000])
def test_csv_cell_longer_than_a_spreadsheet_cell_is_refused(tmp_path: Path, size: int) -> None:
    folder = _case(tmp_path)
    n = _append_line(folder / "markets.csv", "x," + "n" * size)
    message = refused(folder, f"markets.csv line {n}", f"longer than {MAX_CELL_CHARS:,}")
    assert len(message) < 400


def test_xlsx_cell_longer_than_a_spreadsheet_cell_is_refused(tmp_path: Path) -> None:
    rows = SETTINGS_ROWS + [[s("A3", "first_year"), s("B3", "y" * (MAX_CELL_CHARS + 10))]]
    p = make_xlsx(tmp_path / "long.xlsx", {"settings": sheet_xml(rows)})
    refused(p, "sheet settings row 3, column value: a cell of 32,777 characters")


def test_48_mb_row_is_refused_without_reading_it(tmp_path: Path) -> None:
    """The hostile file of the issue: one 48 MB row; refused in a small process (before: 1.1 GB RSS)."""
    folder = _case(tmp_path)
    with open(folder / "markets.csv", "a", encoding="utf-8") as f:
        f.write("x," + "a," * 24_000_000 + "\n")
    code = ("import resource, sys\nfrom optimiser.cli import app\n"
            "try:\n    app(['validate', sys.argv[1]])\nexcept SystemExit as e:\n"
            "    print(e.code, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    done = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, timeout=300)
    code_, rss_kb = done.stdout.split()
    assert code_ == "1" and len(done.stderr) < 400 and "a row longer than" in done.stderr
    # measured alone: 131–201 MB (the file itself is 48 MB); 450–470 MB seen in full runs on a machine
    # loaded by other suites; before the row limit: 1.1 GB. The bound keeps that failing and the rest not.
    assert int(rss_kb) < 700_000, rss_kb


def test_cells_right_of_the_table_are_not_all_echoed(tmp_path: Path) -> None:
    folder = _case(tmp_path)
    _append_line(folder / "markets.csv", "ZZ,Z-land,EU," + ",".join(f"v{i}" for i in range(1000)))
    _, warnings = load_instance(folder)
    w = next(p for p in warnings if "right of the last column" in p.message)
    assert w.message.endswith("v1, v2, v3, v4, v5 … and 994 more") and len(w.message) < 300  # v0 is the source


def test_small_member_with_bomb_ratio_is_refused(tmp_path: Path) -> None:
    """100 KB of zeros (ratio ~1,000×): refused although far under the old 10 MB threshold."""
    p = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES.format(parts=""))
        z.writestr("xl/workbook.xml", f"<workbook {NS}/>")
        z.writestr("xl/worksheets/sheet1.xml", bytes(9_900_000))
    refused(p, "refused", "expands", "zip bomb")


def test_real_workbooks_still_load(tmp_path: Path) -> None:
    """The default case, the template and a report (openpyxl's own output) pass the ratio check."""
    read_instance_tables(ROOT / "instances" / "foxconn-vinfast-2021.xlsx")
    from optimiser.template import write_template

    write_template(tmp_path / "t.xlsx")
    assert "lines" in read_instance_tables(tmp_path / "t.xlsx").tables


@pytest.mark.parametrize("what", ["folder", "loop", "dangling", "fifo"])
def test_table_that_is_not_a_file_says_what_it_is(tmp_path: Path, what: str) -> None:
    folder = _case(tmp_path)
    target = folder / "lines.csv"
    target.unlink()
    if what == "folder":
        target.mkdir()
        words = "a folder"
    elif what == "loop":
        os.symlink("lines.csv", target)
        words = "a symbolic link that loops"
    elif what == "dangling":
        os.symlink("nowhere.csv", target)
        words = "a symbolic link whose target does not exist"
    else:
        os.mkfifo(target)
        words = "a named pipe (FIFO)"
    done = subprocess.run([sys.executable, "-m", "optimiser", "validate", str(folder)], capture_output=True,
                          text=True, timeout=120)  # a FIFO must not block
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and f"table lines is {words}" in lines[0], done.stderr
    assert "missing" not in lines[0]


@pytest.mark.parametrize("what", ["fifo", "loop"])
def test_instance_path_that_is_not_a_file_says_what_it_is(tmp_path: Path, what: str) -> None:
    p = tmp_path / "case.xlsx"
    if what == "fifo":
        os.mkfifo(p)
        words = "a named pipe (FIFO), not a file"
    else:
        os.symlink("case.xlsx", p)
        words = "a symbolic link that loops"
    done = subprocess.run([sys.executable, "-m", "optimiser", "validate", str(p)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1 and words in done.stderr, done.stderr
