"""The shared table parsing (optimiser.tables) and cell text (optimiser.cells), on tiny hand-made tables."""

from __future__ import annotations

import datetime as dt

from optimiser.cells import date_text, number_text, quoted, shown
from optimiser.raw import RawTable
from optimiser.schema import TABLES_BY_NAME
from optimiser.tables import Collector, check_keys, good_rows, header_key, parse_settings, parse_table


def test_parse_table_types_cells_and_locates_a_bad_one() -> None:
    raw = RawTable("markets", ("Market ID", "name", "region"),
                   ((2, ("VN", "Vietnam", "ASEAN")), (3, ("TH", 7.0, None)), (4, (None, "blank id", None))))
    out = Collector()
    rows = parse_table(raw, TABLES_BY_NAME["markets"], out)
    assert [r.number for r in rows] == [2, 3, 4]
    assert rows[0]["market_id"] == "VN" and rows[0]["name"] == "Vietnam"
    assert rows[1]["name"] == "7"  # a number in a text column reads as the CSV writer writes it
    assert [(p.table, p.row, p.column, p.severity) for p in out.problems] == [("markets", 4, "market_id", "error")]
    assert out.problems[0].message == "market_id is required but blank"
    assert [r.number for r in good_rows(rows)] == [2, 3]


def test_parse_table_reports_a_missing_column_at_the_header_row() -> None:
    raw = RawTable("markets", ("name",), ((5, ("Vietnam",)),), header_row=4)
    out, missing = Collector(), set()
    rows = parse_table(raw, TABLES_BY_NAME["markets"], out, missing)
    assert missing == {"market_id"}
    assert [(p.table, p.row, p.column, p.message) for p in out.problems] == [
        ("markets", 4, "market_id", "required column is missing")]
    assert good_rows(rows) == []  # a row without a required column is never used


def test_check_keys_compares_ids_ignoring_case() -> None:
    raw = RawTable("markets", ("market_id",), ((2, ("VN",)), (3, ("vn",))))
    out = Collector()
    check_keys(TABLES_BY_NAME["markets"], parse_table(raw, TABLES_BY_NAME["markets"], out), out)
    assert [(p.row, p.column) for p in out.problems] == [(3, "market_id")]
    assert out.problems[0].message.startswith("'vn' duplicates row 2 'VN'")


def test_parse_settings_keeps_the_row_of_each_key() -> None:
    raw = RawTable("settings", ("key", "value"), ((2, ("name", "x")), (3, ("first_year", 2025)),
                                                   (4, ("last_year", 2030)), (5, ("discount_rate", 0.08))))
    out = Collector()
    s = parse_settings(parse_table(raw, TABLES_BY_NAME["settings"], out), out)
    assert not out.has_errors
    assert (s.values["first_year"], s.values["last_year"], s.values["discount_rate"]) == (2025, 2030, 0.08)
    assert s.rows == {"name": 2, "first_year": 3, "last_year": 4, "discount_rate": 5}
    assert "_rows" not in s.values


def test_header_key_and_cell_text() -> None:
    assert header_key("Line ID") == header_key("line-id") == header_key("LINE_ID") == "line_id"
    assert number_text(5.0) == "5" and number_text(1e-7) == "1e-07" and number_text(1e16) == "1e+16"
    assert date_text(dt.datetime(2024, 1, 31)) == "2024-01-31"
    assert date_text(dt.datetime(2024, 1, 31, 8, 0)) == "2024-01-31T08:00:00"
    assert shown(" a") == "' a'" and quoted("a") == "'a'" and quoted(" a") == "' a'"
    assert shown("x" * 100) == "x" * 59 + "…"
