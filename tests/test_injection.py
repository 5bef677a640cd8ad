"""Formula injection: names a planner typed never run as formulas in a sweep's workbook or CSV
(issue 17, item 17). Before: a strategy or variant named ``=…`` became a live formula on the
sweep's Chart sheet (cells appended without the shared safe writer) and the CSV carried it as is.
"""

from __future__ import annotations

import csv
import zipfile

import openpyxl
import pytest

from builders import deal_case, load

from optimiser.jobs.executors import SerialExecutor
from optimiser.report.xlsx import csv_safe
from optimiser.solver.options import SolveOptions
from optimiser.report.sweep import write_csv, write_workbook
from optimiser.sweep import read_variants, sweep

EVIL_STRATEGY = "=1+2"
EVIL_VARIANTS = ("=2*3", "@SUM(1)", "+cmd", "-5")


def test_csv_safe() -> None:
    assert csv_safe("=1+2") == "'=1+2" and csv_safe("@x") == "'@x" and csv_safe("+a") == "'+a"
    assert csv_safe("-a") == "'-a" and csv_safe("\tx") == "'\tx" and csv_safe("\rx") == "'\rx"
    assert csv_safe("-5") == "-5" and csv_safe("+1.5e3") == "+1.5e3"  # numbers stay numbers
    assert csv_safe(-5.0) == -5.0 and csv_safe("partner") == "partner" and csv_safe(None) is None


def test_sweep_workbook_and_csv_keep_names_as_text(tmp_path) -> None:
    case = deal_case()
    for r in case["strategies"]:
        if r["strategy_id"] == "partner":
            r["strategy_id"] = EVIL_STRATEGY
    inst = load(tmp_path, case)
    f = tmp_path / "v.csv"
    f.write_text("variant,demand_factor\n" + "".join(f'"{n}",{x}\n' for n, x in zip(EVIL_VARIANTS, (0.5, 1, 1, 1))),
                 encoding="utf-8")
    variants = read_variants(f, inst)
    assert [v.name for v in variants] == list(EVIL_VARIANTS)
    df = sweep(inst, variants, [EVIL_STRATEGY], options=SolveOptions(mip_gap=0), executor=SerialExecutor())
    book, table = tmp_path / "s.xlsx", tmp_path / "s.csv"
    write_workbook(df, book, inst, variants)
    write_csv(df, table)
    with zipfile.ZipFile(book) as z:  # no formula anywhere in the package
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name
    wb = openpyxl.load_workbook(book)
    texts = {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert EVIL_STRATEGY in texts and set(EVIL_VARIANTS) - {"-5"} <= texts
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
    rows = list(csv.reader(table.open(encoding="utf-8", newline="")))
    cells = {c for r in rows for c in r}
    assert "'" + EVIL_STRATEGY in cells and EVIL_STRATEGY not in cells
    assert {"'=2*3", "'@SUM(1)", "'+cmd"} <= cells and not ({"=2*3", "@SUM(1)", "+cmd"} & cells)
    assert "-5" in cells  # a name that is a number is not a formula
    npv = rows[0].index("npv")
    assert float(rows[1][npv]) == pytest.approx(250)  # numbers stay numbers


def test_converted_workbook_header_is_never_a_formula(tmp_path) -> None:
    """An unknown column headed ``=1+2`` stays text when the tables are written as a workbook."""
    from conftest import minimal_tables, write_instance

    tables = minimal_tables()
    for r in tables["factories"]:
        r["=1+2"] = "x"
    out = write_instance(tmp_path, tables, "xlsx")
    ws = openpyxl.load_workbook(out)["factories"]
    header = [c for c in ws[1] if c.value == "=1+2"]
    assert header and header[0].data_type == "s"
