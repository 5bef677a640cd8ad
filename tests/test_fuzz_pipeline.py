"""Nothing crashes: mutated instances (CSV and workbook) give a located message or a plan.

Mutations: junk in cells (wrong types, blanks, negatives, NaN/inf, huge numbers, unicode and
whitespace in ids, dates, formulas), missing tables, extra tables/sheets, duplicate headers,
merged cells. Each mutated instance is validated and, when valid, solved; the only exceptions
allowed are the domain errors the CLI turns into exit codes.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from optimiser.errors import InfeasibleError, InputError, InvalidInstance, NoSolutionError, OutputError
from optimiser.engine import solve_instance
from optimiser.solver.options import SolveOptions
from optimiser.validate import load_instance
from optimiser.writers import write_tables

TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny"


def _base() -> dict[str, tuple[list[str], list[list]]]:
    out = {}
    for f in sorted(TINY.glob("*.csv")):
        with open(f, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        out[f.stem] = (rows[0], [list(r) for r in rows[1:]])
    return out


BASE = _base()
JUNK = st.one_of(
    st.none(), st.just(""), st.just("  "), st.text(max_size=12), st.integers(-10**18, 10**18),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(["nan", "inf", "-inf", "1e309", "-1", "0",
                                                                    "TRUE", "  L1 ", "ünïcødé", "a\tb", "1,5", "=1+1",
                                                                    "+cmd", "@x", "-0"]),
    st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)), st.booleans())


@st.composite
def mutations(draw):
    tables = {k: (list(h), [list(r) for r in rows]) for k, (h, rows) in BASE.items()}
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["cell", "cell", "cell", "drop_table", "extra_table", "dup_header",
                                     "drop_column", "extra_row"]))
        name = draw(st.sampled_from(sorted(tables)))
        header, rows = tables[name]
        if kind == "cell" and rows:
            i = draw(st.integers(0, len(rows) - 1))
            j = draw(st.integers(0, len(header) - 1))
            rows[i][j] = draw(JUNK)
        elif kind == "drop_table" and len(tables) > 1:
            del tables[name]
        elif kind == "extra_table":
            tables[draw(st.sampled_from(["extra", "Lines", "notes2"]))] = (["a", "b"], [[1, 2]])
        elif kind == "dup_header" and header:
            header.append(draw(st.sampled_from(header)))
            for r in rows:
                r.append(draw(JUNK))
        elif kind == "drop_column" and len(header) > 1:
            j = draw(st.integers(0, len(header) - 1))
            del header[j]
            for r in rows:
                if j < len(r):
                    del r[j]
        elif kind == "extra_row" and rows:
            rows.append([draw(JUNK) for _ in header])
    return tables, draw(st.sampled_from(["csv", "xlsx", "xlsx_merged"]))


def _write(tables, form: str, folder: Path) -> Path:
    if form == "csv":
        target = folder / "inst"
        write_tables(tables, target)
        return target
    target = folder / "inst.xlsx"
    write_tables(tables, target)
    if form == "xlsx_merged":
        from openpyxl import load_workbook

        wb = load_workbook(target)
        ws = wb[wb.sheetnames[0]]
        if ws.max_row >= 3 and ws.max_column >= 2:
            ws.merge_cells(start_row=2, start_column=1, end_row=3, end_column=2)
        wb.save(target)
    return target


def _check(tables, form: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        try:
            path = _write(tables, form, Path(d))
        except OutputError:  # e.g. a control character a workbook cannot hold: no such file can exist
            assume(False)
        try:
            inst, _ = load_instance(path)
        except InvalidInstance as exc:
            errors = [p for p in exc.problems if p.severity == "error"]
            assert errors and all(p.table and p.message for p in errors)
            return
        except InputError as exc:
            assert str(exc)
            return
    try:
        res = solve_instance(inst, options=SolveOptions(time_limit=10, duals=False))
        assert res.run.npv is not None
    except (InfeasibleError, NoSolutionError, InputError, OutputError) as exc:
        assert str(exc)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutations())
def test_mutated_instances_never_crash(case):
    _check(*case)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutations())
def test_mutated_instances_never_crash_nightly(case):
    _check(*case)
