"""Shared table parsing: raw rows → typed rows, every problem located (table, row, column).

Used by the validator (:mod:`optimiser.validate`), parameter changes (:mod:`optimiser.parameters`)
and instance diffs (:mod:`optimiser.diff`): :func:`parse_table` types a table's cells by the
schema, :func:`check_keys` finds repeated keys, :func:`parse_settings` reads the key/value
``settings`` table, and :class:`Collector` gathers every problem so one error can list them all.
"""

from __future__ import annotations

import datetime as _dt
import math
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable

from .cells import ISO_DATE, date_text, number_text, quoted, shown
from .errors import Problem
from .raw import FORMULA, OVERFLOW, RawTable
from .schema import SETTINGS_KEYS, SOURCE_COLUMN, Column, Table

#: Years outside this range are typing mistakes (and would overflow the discount factors).
MIN_YEAR, MAX_YEAR = 1900, 2300

@dataclass
class Row:
    """A parsed row: typed values by column name, and where it came from."""

    number: int
    values: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.values.get(key)


class Collector:
    """Every problem found, in order; :attr:`has_errors` says whether any is an error."""

    def __init__(self, initial: Iterable[Problem] = ()) -> None:
        self.problems: list[Problem] = list(initial)

    def error(self, table: str, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(table, row, column, "error", message))

    def warn(self, table: str, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(table, row, column, "warning", message))

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)

class CellError(Exception):
    """A cell that is not of its column's type or range; the message says why (blank: already reported)."""


def parse_cell(col: Column, raw: Any) -> Any:
    """Convert one raw cell to the column's type; raise CellError with a plain message."""
    if isinstance(raw, FORMULA):
        raise CellError("")  # already reported by the reader
    t = col.type
    if isinstance(raw, (_dt.datetime, _dt.date, _dt.time, _dt.timedelta)):
        if t in ("int", "float", "bool"):
            what = "a time of day" if isinstance(raw, _dt.time) else (
                "a duration" if isinstance(raw, _dt.timedelta) else "a date")
            raise CellError(f"{shown(raw)} is {what}, but a {type_word(col)} is expected")
        raw = str(raw) if isinstance(raw, _dt.timedelta) else date_text(raw)
    if t in ("id", "text"):
        if isinstance(raw, bool):
            return "TRUE" if raw else "FALSE"
        if isinstance(raw, float):
            return number_text(raw)
        text = str(raw).strip()
        if t == "id" and any(ch in text for ch in "\r\n\t"):
            raise CellError(f"{shown(text)} contains a line break or tab; ids must be one line")
        return text
    if t == "enum":
        text = str(raw).strip().lower()
        if text not in col.choices:
            raise CellError(f"{shown(raw)} is not one of {', '.join(col.choices)}")
        return text
    if t == "bool":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, (int, float)) and raw in (0, 1):
            return bool(raw)
        text = str(raw).strip().lower()
        if text in ("true", "yes", "y", "1", "t", "x"):
            return True
        if text in ("false", "no", "n", "0", "f", ""):
            return False
        if ISO_DATE.fullmatch(text):
            raise CellError(f"{shown(raw)} is a date, but a {type_word(col)} is expected")
        raise CellError(f"{shown(raw)} is not true/false")
    # numbers
    if isinstance(raw, bool):
        raise CellError(f"{shown(raw)} is true/false, but a {type_word(col)} is expected")
    try:
        if isinstance(raw, (int, float)):
            x = float(raw)
        else:
            text = str(raw).strip()
            if ISO_DATE.fullmatch(text):
                raise CellError(f"{shown(raw)} is a date, but a {type_word(col)} is expected")
            if text.lower() in ("true", "false"):
                raise CellError(f"{shown(raw)} is true/false, but a {type_word(col)} is expected")
            x = float(text.replace("_", ""))
    except OverflowError:  # an integer too large for a float
        raise CellError(f"{shown(raw)} is too large (more than 1e15)") from None
    except ValueError:
        raise CellError(f"{shown(raw)} is not a {type_word(col)}") from None
    if not math.isfinite(x):
        if isinstance(raw, str) and not any(w in raw.lower() for w in ("inf", "nan")):
            raise CellError(f"{shown(raw)} is too large (more than 1e15)")  # 1e400, or 400 digits
        raise CellError(f"{shown(raw)} is not a finite number")
    if abs(x) > 1e15:
        raise CellError(f"{shown(raw)} is too large (more than 1e15)")
    if t == "int":
        if not x.is_integer():
            raise CellError(f"{shown(raw)} is not a whole number")
        value: float | int = int(x)
    else:
        value = x
    if col.minimum is not None:
        bad = value <= col.minimum if col.strict_minimum else value < col.minimum
        if bad:
            what = "is negative" if (col.minimum == 0 and value < 0) else "is too small"
            raise CellError(f"{shown(raw)} {what} (must be {col.bound_text})")
    if col.maximum is not None and value > col.maximum:
        raise CellError(f"{shown(raw)} is too large (must be {col.bound_text})")
    return value


def type_word(col: Column) -> str:
    return {"int": "whole number", "float": "number", "bool": "true/false value"}.get(col.type, "value")



# ----------------------------------------------------------------- tables

def parse_table(raw: RawTable, table: Table, out: Collector, missing: set[str] | None = None) -> list[Row]:
    """Parse a table's rows; add the names of missing required columns to ``missing``."""
    name = table.name
    header = raw.header
    known = set(table.column_names) | {SOURCE_COLUMN}
    positions: dict[str, int] = {}
    for j, h in enumerate(header):
        if not h:
            if any(j < len(v) and v[j] is not None for _, v in raw.rows):
                out.warn(name, raw.header_row, f"#{j + 1}", "a column without a header holds values; they are ignored")
            continue
        col_name = h if h in known else header_key(h)
        if col_name in positions:
            out.error(name, raw.header_row, h, f"column {shown(h)} appears twice in the header")
            continue
        if col_name not in known:
            out.warn(name, raw.header_row, h, f"unknown column {shown(h)}; it is ignored "
                                              f"(known: {', '.join(table.column_names)})")
            continue
        positions[col_name] = j
    missing = set() if missing is None else missing
    for col in table.columns:
        if col.required and col.name not in positions and not _one_of_partner(table, col.name, positions):
            out.error(name, raw.header_row, col.name, "required column is missing")
            missing.add(col.name)
    for group in table.one_of:
        if not any(c in positions for c in group):
            out.error(name, raw.header_row, group[0],
                      f"required column is missing: give a {' or a '.join(group)} column")
            missing.add(group[0])
    rows: list[Row] = []
    for number, values in raw.rows:
        parsed: dict[str, Any] = {}
        if values and isinstance(values[-1], OVERFLOW):
            extra = values[-1].values
            more = f" … and {len(extra) - 5:,} more" if len(extra) > 5 else ""
            out.warn(name, number, None, f"values right of the last column are ignored: "
                                         f"{', '.join(shown(v) for v in extra[:5])}{more}")
        ok = not missing  # a row without a required column is never used (the column error says why)
        for col in table.columns:
            j = positions.get(col.name)
            raw_value = values[j] if j is not None and j < len(values) else None
            if raw_value is None or isinstance(raw_value, OVERFLOW):
                if col.required and j is not None:
                    out.error(name, number, col.name, f"{col.name} is required but blank")
                    ok = False
                parsed[col.name] = col.default
                continue
            try:
                parsed[col.name] = parse_cell(col, raw_value)
            except CellError as exc:
                if str(exc):
                    out.error(name, number, col.name, str(exc))
                parsed[col.name] = None
                ok = False
        j = positions.get(SOURCE_COLUMN)
        if j is not None and j < len(values) and values[j] is not None and not isinstance(values[j], OVERFLOW):
            parsed[SOURCE_COLUMN] = str(values[j]).strip()
        rows.append(Row(number, parsed) if ok else Row(number, parsed | {"__bad__": True}))
    return rows


def header_key(header: str) -> str:
    """``Line ID`` / ``line-id`` / ``LINE_ID`` → ``line_id``."""
    return "_".join(header.replace("-", " ").lower().split())


def _one_of_partner(table: Table, column: str, positions: dict[str, int]) -> bool:
    for group in table.one_of:
        if column in group and any(c in positions for c in group):
            return True
    return False


def good_rows(rows: list[Row]) -> list[Row]:
    """The rows without a bad cell."""
    return [r for r in rows if not r.values.get("__bad__")]


#: Said after every message that compares ids in their normalised form.
ID_RULE = "ids are compared ignoring case and invisible characters"


def id_key(value: Any) -> Any:
    """An id in the form ids are compared in: NFKC, format characters removed, spaces collapsed, case-folded.

    ``GJ-VA``, ``gj-va``, ``gj\u200b-va`` (zero-width space), ``gj\xa0va`` vs ``gj va`` (no-break
    space), soft hyphens, zero-width (non-)joiners and byte-order marks all compare alike, so two
    rows a planner cannot tell apart on screen are not counted as two entities. Non-text values
    (years) are returned unchanged. Ids are kept as written; this is only for comparing.
    """
    if not isinstance(value, str):
        return value
    text = unicodedata.normalize("NFKC", value)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return " ".join(text.split()).casefold()


def check_keys(table: Table, rows: list[Row], out: Collector) -> None:
    """Each key occurs once; id columns are compared by :func:`id_key` (case and invisible characters ignored)."""
    if not table.key:
        return
    id_cols = {k for k in table.key if table.column(k).type == "id"}
    seen: dict[tuple, tuple[int, tuple]] = {}
    for r in good_rows(rows):
        key = tuple(r[k] for k in table.key)
        norm = tuple(id_key(v) if k in id_cols else v for k, v in zip(table.key, key))
        if norm in seen:
            first_row, first_key = seen[norm]
            named = ", ".join(f"{k}={shown(v)}" for k, v in zip(table.key, key) if v is not None)
            column = [k for k, v in zip(table.key, key) if v is not None][-1:] or [table.key[0]]
            if key == first_key:
                out.error(table.name, r.number, column[0], f"duplicate {named} (first at row {first_row})")
                continue
            differ = [k for k, a, b in zip(table.key, key, first_key) if a != b]
            if len(table.key) == 1:
                out.error(table.name, r.number, table.key[0],
                          f"{quoted(key[0])} duplicates row {first_row} {quoted(first_key[0])} ({ID_RULE})")
            else:
                was = ", ".join(f"{k}={quoted(v)}" for k, v in zip(table.key, first_key) if k in differ)
                out.error(table.name, r.number, differ[-1],
                          f"duplicate {named}: row {first_row} has {was} ({ID_RULE})")
        else:
            seen[norm] = (r.number, key)


# --------------------------------------------------------------- settings

@dataclass
class Settings:
    """The ``settings`` table read: typed ``values`` by key (defaults filled in) and the row
    each key was given on (``rows``; a key left to its default has none)."""

    values: dict[str, Any]
    rows: dict[str, int] = field(default_factory=dict)


def parse_settings(rows: list[Row], out: Collector) -> Settings:
    """The key/value ``settings`` rows as :class:`Settings`: unknown keys warned about, repeated,
    missing required or implausible values (a year outside MIN_YEAR–MAX_YEAR, a rate above 100 %) are errors."""
    spec = {c.name: c for c in SETTINGS_KEYS}
    values: dict[str, Any] = {}
    where: dict[str, int] = {}
    any_bad = False
    for r in rows:
        if r.values.get("__bad__"):
            any_bad = True
            if r["key"] is not None:
                where.setdefault(str(r["key"]).strip().lower(), r.number)
            continue
        key = str(r["key"]).strip()
        k = key.lower()
        if k not in spec:
            out.warn("settings", r.number, "key", f"unknown setting {shown(key)}; it is ignored "
                                                  f"(known: {', '.join(spec)})")
            continue
        if k in where:
            out.error("settings", r.number, "key", f"setting {k} is given twice (first at row {where[k]})")
            continue
        where[k] = r.number
        if r["value"] is None:  # a blank value takes the default (the template lists every key)
            if spec[k].required:
                out.error("settings", r.number, "value", f"required setting {k} has no value")
            values[k] = spec[k].default
            continue
        try:
            values[k] = parse_cell(spec[k], r["value"])
        except CellError as exc:
            out.error("settings", r.number, "value", f"{k}: {exc}")
    for col in SETTINGS_KEYS:
        if col.name not in values and col.name not in where:
            if col.required and not any_bad:
                out.error("settings", None, "key", f"required setting {col.name} is missing")
            values[col.name] = col.default
        values.setdefault(col.name, col.default)
    for k in ("first_year", "last_year", "base_year", "share_target_year"):
        y = values.get(k)
        if y is not None and not MIN_YEAR <= y <= MAX_YEAR:
            out.error("settings", where.get(k), "value", f"{k}: {y} is not a plausible year ({MIN_YEAR}–{MAX_YEAR})")
            values[k] = None
    rate = values.get("discount_rate")
    if rate is not None and rate > 1:
        out.error("settings", where.get("discount_rate"), "value",
                  f"discount_rate: {shown(rate)} is more than 100 % a year; give it as a fraction (0.08 = 8 %)")
    return Settings(values, where)


