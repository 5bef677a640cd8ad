"""Random junk in random cells of a valid instance never crashes the reader or the validator.

``load_instance`` either returns an instance or raises InvalidInstance whose
error problems each name a table and, where a cell is at fault, its row and
column (or a plain one-line InputError for a file that is refused as a whole,
e.g. a NUL byte in a CSV). The same junk written as CSV and as xlsx gives the
same outcome: equal instances, or the same located problems.

The default run (200 examples) is derandomised so CI is stable; the ``slow``
variants (1000 examples) explore new examples every time: ``pytest -m slow``.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from optimiser.errors import InputError, InvalidInstance, Problem
from optimiser.schema import TABLES_BY_NAME
from optimiser.validate import load_instance

from conftest import Tables, minimal_tables, write_instance

#: Characters a workbook cannot hold at all (openpyxl refuses to write them).
_ILLEGAL_IN_XLSX = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")

TRICKY_TEXT = [
    "", " ", "\t", "\n", "\u00a0", "nan", "NaN", "inf", "-inf", "1e999", "-1e999", "1e15", "1e16", "-0", "0x10",
    "1_000", "1,000", "١٢٣", "１２", "TRUE", "false", "yes", "007", "2024-01-31", "2024-01-31T08:00:00",
    "=1+1", "=SUM(A1:A3)", "+5", "@x", "'quoted", '"', '""', "a,b", "line\nbreak", "\r\n", "é" * 200,
    "x" * 5000, "🙂", "\u202e", "None", "null", "existing", "candidate", "vehicle", "F1", "P1", "L1", "ASEAN",
    "VA", "optimise", "2025", "2026", "2025.0", "1", "0", "-1", "-40", "0.5", "1.5",
]

JUNK = st.one_of(
    st.sampled_from(TRICKY_TEXT),
    st.text(max_size=40),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-300, 5e-324, 1e308, 2025.0, 2025.5, 0.1, 1 / 3]),
    st.booleans(),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 12, 31)),
    st.none(),
)

OPTIONAL = {
    "options": [{"option_id": "O1", "upfront_cost": 5}],
    "strategies": [{"strategy_id": "S", "option_id": "O1", "decision": "take"}],
    "scenarios": [{"scenario_id": "lo", "probability": 0.5}, {"scenario_id": "hi", "probability": 0.5}],
    "scenario_demand": [{"scenario_id": "lo", "programme_id": "P1", "market_id": "NA", "year": 2026, "volume": 1}],
    "logistics": [{"factory_id": "F1", "market_id": "ASEAN", "tariff": 0.1}, {"factory_id": "F2", "market_id": "NA"}],
    "budget": [{"year": 2025, "capex_limit": 1e9}],
    "prices": [{"programme_id": "P1", "year": 2026, "unit_price": 29000}],
    "capacity_profile": [{"line_id": "L1", "year": 2026, "capacity": 1200}],
    "market_size": [{"year": 2026, "volume": 1e6}],
    "bom": [{"parent_id": "P1", "component_id": "P2", "quantity": 2}],
}


def base_tables(optional: tuple[str, ...] = tuple(OPTIONAL)) -> Tables:
    """The minimal instance plus the optional tables named (all by default); valid without warnings."""
    t = minimal_tables()
    t.update({k: [dict(r) for r in v] for k, v in OPTIONAL.items() if k in optional})
    if "options" in optional:
        t["lines"][1]["requires_option"] = "O1"
    if "strategies" in optional and "options" not in optional:
        t["options"] = [dict(r) for r in OPTIONAL["options"]]
        t["lines"][1]["requires_option"] = "O1"
    if "scenario_demand" in optional:
        t["scenarios"] = [dict(r) for r in OPTIONAL["scenarios"]]
    return t


@st.composite
def broken_instances(draw: st.DrawFn, max_optional: int = len(OPTIONAL)) -> Tables:
    """A valid instance with 1–4 faults: junk in a cell, a junk column, a junk row, a row dropped.

    ``max_optional`` bounds the optional tables included (workbooks with every table are slow to write).
    """
    optional = draw(st.lists(st.sampled_from(sorted(OPTIONAL)), max_size=max_optional, unique=True))
    t = base_tables(tuple(optional) if max_optional < len(OPTIONAL) else tuple(OPTIONAL))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        table = draw(st.sampled_from(sorted(t)))
        rows = t[table]
        action = draw(st.sampled_from(["cell", "cell", "cell", "new column", "new row", "drop row"]))
        if action == "new row" or not rows:
            rows.append({})
        if action == "drop row" and rows:
            rows.pop(draw(st.integers(min_value=0, max_value=len(rows) - 1)))
            continue
        row = rows[draw(st.integers(min_value=0, max_value=len(rows) - 1))]
        if action == "new column":
            column = draw(st.one_of(st.text(max_size=12), st.sampled_from(["source", "Line ID", " year ", ""])))
        else:
            known = list(TABLES_BY_NAME[table].column_names) if table in TABLES_BY_NAME else []
            column = draw(st.sampled_from(sorted(set(row) | set(known) | {"source"})))
        row[column] = draw(JUNK)
    return t


def for_xlsx(value: Any) -> Any:
    """A workbook cannot hold control characters at all: leave those out of the xlsx form."""
    return _ILLEGAL_IN_XLSX.sub("", value) if isinstance(value, str) else value


def representable(value: Any) -> Any:
    """The junk both forms hold alike: no line breaks (a CSV record would span lines, so its line
    numbers move), no sub-second times (a workbook stores times as fractions of a day)."""
    value = for_xlsx(value)
    if isinstance(value, str):
        return value.replace("\r", "").replace("\n", " ")
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0)
    return value


Outcome = tuple[str, Any, tuple[Problem, ...]]


def check(tables: Tables, kind: str, base: Path) -> Outcome:
    """Load the junk instance in one form; assert the outcome is one of the allowed ones; return it."""
    if kind == "xlsx":
        tables = {name: [{for_xlsx(k): for_xlsx(v) for k, v in r.items()} for r in rows]
                  for name, rows in tables.items()}
    with tempfile.TemporaryDirectory(dir=base) as tmp:
        path = write_instance(Path(tmp), tables, kind)
        try:
            instance, warnings = load_instance(path)
        except InvalidInstance as exc:
            errors = [p for p in exc.problems if p.severity == "error"]
            assert errors, "InvalidInstance without an error"
            for p in exc.problems:
                assert isinstance(p.table, str) and p.table, p
                assert "\n" not in p.message and "\r" not in p.message, p
                assert len(p.message) < 1000, p
                if p.row is not None:
                    assert isinstance(p.row, int) and p.row >= 1, p
                    assert p.table in tables or p.table.lower() in tables, p
                    if p.severity == "error":
                        assert p.column, p  # an error in a row names its cell's column
            return ("invalid", None, exc.problems)
        except InputError as exc:  # the file as a whole is refused (e.g. NUL byte in a CSV)
            assert not isinstance(exc, InvalidInstance)
            message = str(exc)
            assert "\n" not in message and str(path) in message
            assert kind == "csv" and "NUL" in message, message
            return ("refused", None, ())
        assert all(p.severity == "warning" for p in warnings)
        assert instance.first_year <= instance.last_year
        assert all(line.capacity >= 0 for line in instance.lines)
        return ("valid", instance, warnings)


SETTINGS = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


# 140 CSV-only + 60 CSV-and-xlsx examples by default (a workbook costs ~10× a CSV folder).
@settings(max_examples=140, derandomize=True, **SETTINGS)
@given(tables=broken_instances())
def test_junk_in_csv_cells_never_crashes(tmp_path_factory: pytest.TempPathFactory, tables: Tables) -> None:
    check(tables, "csv", tmp_path_factory.getbasetemp())


def check_both(tables: Tables, base: Path) -> None:
    """Neither form crashes, and both give the same outcome: equal instances or the same problems."""
    tables = {name: [{representable(k): representable(v) for k, v in r.items()} for r in rows]
              for name, rows in tables.items()}
    csv_form, xlsx_form = check(tables, "csv", base), check(tables, "xlsx", base)
    assert csv_form[0] == xlsx_form[0]
    assert csv_form[1] == xlsx_form[1]
    if csv_form[1] is not None:
        assert csv_form[1].fingerprint == xlsx_form[1].fingerprint
    assert csv_form[2] == xlsx_form[2]


@settings(max_examples=60, derandomize=True, **SETTINGS)
@given(tables=broken_instances(max_optional=2))
def test_junk_in_cells_never_crashes_and_both_forms_agree(tmp_path_factory: pytest.TempPathFactory,
                                                          tables: Tables) -> None:
    check_both(tables, tmp_path_factory.getbasetemp())


@pytest.mark.slow
@settings(max_examples=500, **SETTINGS)
@given(tables=broken_instances())
def test_junk_in_csv_cells_never_crashes_long(tmp_path_factory: pytest.TempPathFactory, tables: Tables) -> None:
    check(tables, "csv", tmp_path_factory.getbasetemp())


@pytest.mark.slow
@settings(max_examples=500, **SETTINGS)
@given(tables=broken_instances(max_optional=4))
def test_junk_in_cells_never_crashes_and_both_forms_agree_long(tmp_path_factory: pytest.TempPathFactory,
                                                               tables: Tables) -> None:
    check_both(tables, tmp_path_factory.getbasetemp())


@pytest.mark.parametrize("optional", [tuple(OPTIONAL), (), ("strategies",), ("scenario_demand",)])
def test_the_base_instances_are_valid(tmp_path: Path, optional: tuple[str, ...]) -> None:
    for kind in ("csv", "xlsx"):
        _, warnings = load_instance(write_instance(tmp_path / kind, base_tables(optional), kind))
        assert warnings == ()
