"""Validation: raw tables → :class:`~optimiser.data.Instance`, or every problem at once.

Each problem names table, row (as the planner sees it) and column. Checks run
in layers — structure, cell types and ranges, keys, references, cross-table
rules — and all problems of all layers are collected before one
:class:`~optimiser.errors.InvalidInstance` is raised.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable

from .data import (
    Demand,
    Factory,
    InputTable,
    Instance,
    Line,
    Market,
    Option,
    Programme,
    Routing,
    Scenario,
)
from .errors import InvalidInstance, Problem
from .readers import FORMULA, OVERFLOW, RawTable, RawTables
from .schema import OPTIMISE, SETTINGS_KEYS, SOURCE_COLUMN, TABLES, TABLES_BY_NAME, Column, Table

PROBABILITY_TOLERANCE = 1e-6
MAX_HORIZON_YEARS = 100
#: Years outside this range are typing mistakes (and would overflow the discount factors).
MIN_YEAR, MAX_YEAR = 1900, 2300


@dataclass
class Row:
    """A parsed row: typed values by column name, and where it came from."""

    number: int
    values: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.values.get(key)


class _Collector:
    def __init__(self, initial: Iterable[Problem] = ()) -> None:
        self.problems: list[Problem] = list(initial)

    def error(self, table: str, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(table, row, column, "error", message))

    def warn(self, table: str, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(table, row, column, "warning", message))

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


# ------------------------------------------------------------------ cells

#: Longest cell text quoted in a message.
SHOWN_MAX = 60

#: Text that is a date (or date and time) as ISO writes it: 2024-01-31, 2024-01-31T08:00:00, 2024-01-31 08:00.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?", re.IGNORECASE)


def date_text(value: _dt.date | _dt.datetime | _dt.time) -> str:
    """A date cell as text: ``2024-01-31`` for a date (or midnight), ISO otherwise.

    The CSV writer uses the same form, so a date in a workbook and in its CSV
    conversion load to the same text.
    """
    if isinstance(value, _dt.datetime) and value.time() == _dt.time(0) and value.tzinfo is None:
        return value.date().isoformat()
    return value.isoformat()


def number_text(x: float) -> str:
    """A float as text, the way the CSV writer writes it (``5`` for 5.0, ``1e-07``, ``1e+16``).

    Whole numbers below 1e16 are written without a decimal point, as a workbook
    gives them back (it does not tell 5 from 5.0), so both forms read alike.
    """
    return str(int(x)) if x.is_integer() and abs(x) < 1e16 else repr(x)


def _shown(raw: Any) -> str:
    """A cell value as quoted in a message: one line, at most SHOWN_MAX characters."""
    if isinstance(raw, bool):
        text = "TRUE" if raw else "FALSE"
    elif isinstance(raw, float):
        text = number_text(raw)
    elif isinstance(raw, (_dt.datetime, _dt.date, _dt.time)):
        text = date_text(raw)
    elif isinstance(raw, str):
        text = repr(raw) if (raw != raw.strip() or not raw or not raw.isprintable()) else raw
    else:
        text = str(raw)
    if len(text) > SHOWN_MAX:
        text = text[: SHOWN_MAX - 1] + "…"
    return text


class _CellError(Exception):
    pass


def parse_cell(col: Column, raw: Any) -> Any:
    """Convert one raw cell to the column's type; raise _CellError with a plain message."""
    if isinstance(raw, FORMULA):
        raise _CellError("")  # already reported by the reader
    t = col.type
    if isinstance(raw, (_dt.datetime, _dt.date, _dt.time, _dt.timedelta)):
        if t in ("int", "float", "bool"):
            what = "a time of day" if isinstance(raw, _dt.time) else (
                "a duration" if isinstance(raw, _dt.timedelta) else "a date")
            raise _CellError(f"{_shown(raw)} is {what}, but a {_type_word(col)} is expected")
        raw = str(raw) if isinstance(raw, _dt.timedelta) else date_text(raw)
    if t in ("id", "text"):
        if isinstance(raw, bool):
            return "TRUE" if raw else "FALSE"
        if isinstance(raw, float):
            return number_text(raw)
        text = str(raw).strip()
        if t == "id" and any(ch in text for ch in "\r\n\t"):
            raise _CellError(f"{_shown(text)} contains a line break or tab; ids must be one line")
        return text
    if t == "enum":
        text = str(raw).strip().lower()
        if text not in col.choices:
            raise _CellError(f"{_shown(raw)} is not one of {', '.join(col.choices)}")
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
        if _ISO_DATE.fullmatch(text):
            raise _CellError(f"{_shown(raw)} is a date, but a {_type_word(col)} is expected")
        raise _CellError(f"{_shown(raw)} is not true/false")
    # numbers
    if isinstance(raw, bool):
        raise _CellError(f"{_shown(raw)} is true/false, but a {_type_word(col)} is expected")
    try:
        if isinstance(raw, (int, float)):
            x = float(raw)
        else:
            text = str(raw).strip()
            if _ISO_DATE.fullmatch(text):
                raise _CellError(f"{_shown(raw)} is a date, but a {_type_word(col)} is expected")
            if text.lower() in ("true", "false"):
                raise _CellError(f"{_shown(raw)} is true/false, but a {_type_word(col)} is expected")
            x = float(text.replace("_", ""))
    except OverflowError:  # an integer too large for a float
        raise _CellError(f"{_shown(raw)} is too large (more than 1e15)") from None
    except ValueError:
        raise _CellError(f"{_shown(raw)} is not a {_type_word(col)}") from None
    if not math.isfinite(x):
        if isinstance(raw, str) and not any(w in raw.lower() for w in ("inf", "nan")):
            raise _CellError(f"{_shown(raw)} is too large (more than 1e15)")  # 1e400, or 400 digits
        raise _CellError(f"{_shown(raw)} is not a finite number")
    if abs(x) > 1e15:
        raise _CellError(f"{_shown(raw)} is too large (more than 1e15)")
    if t == "int":
        if not x.is_integer():
            raise _CellError(f"{_shown(raw)} is not a whole number")
        value: float | int = int(x)
    else:
        value = x
    if col.minimum is not None:
        bad = value <= col.minimum if col.strict_minimum else value < col.minimum
        if bad:
            what = "is negative" if (col.minimum == 0 and value < 0) else "is too small"
            raise _CellError(f"{_shown(raw)} {what} (must be {col.bound_text})")
    if col.maximum is not None and value > col.maximum:
        raise _CellError(f"{_shown(raw)} is too large (must be {col.bound_text})")
    return value


def _type_word(col: Column) -> str:
    return {"int": "whole number", "float": "number", "bool": "true/false value"}.get(col.type, "value")


# ----------------------------------------------------------------- tables

def _parse_table(raw: RawTable, table: Table, out: _Collector, missing: set[str] | None = None) -> list[Row]:
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
        col_name = h if h in known else _header_key(h)
        if col_name in positions:
            out.error(name, raw.header_row, h, f"column {_shown(h)} appears twice in the header")
            continue
        if col_name not in known:
            out.warn(name, raw.header_row, h, f"unknown column {_shown(h)}; it is ignored "
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
                                         f"{', '.join(_shown(v) for v in extra[:5])}{more}")
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
            except _CellError as exc:
                if str(exc):
                    out.error(name, number, col.name, str(exc))
                parsed[col.name] = None
                ok = False
        j = positions.get(SOURCE_COLUMN)
        if j is not None and j < len(values) and values[j] is not None and not isinstance(values[j], OVERFLOW):
            parsed[SOURCE_COLUMN] = str(values[j]).strip()
        rows.append(Row(number, parsed) if ok else Row(number, parsed | {"__bad__": True}))
    return rows


def _header_key(header: str) -> str:
    """``Line ID`` / ``line-id`` / ``LINE_ID`` → ``line_id``."""
    return "_".join(header.replace("-", " ").lower().split())


def _one_of_partner(table: Table, column: str, positions: dict[str, int]) -> bool:
    for group in table.one_of:
        if column in group and any(c in positions for c in group):
            return True
    return False


def _good(rows: list[Row]) -> list[Row]:
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


def _quoted(value: Any) -> str:
    """A cell value in quotes for a message (``_shown`` already quotes text with invisible characters)."""
    text = _shown(value)
    return text if text.startswith(("'", '"')) else f"'{text}'"


def _check_keys(table: Table, rows: list[Row], out: _Collector) -> None:
    """Each key occurs once; id columns are compared by :func:`id_key` (case and invisible characters ignored)."""
    if not table.key:
        return
    id_cols = {k for k in table.key if table.column(k).type == "id"}
    seen: dict[tuple, tuple[int, tuple]] = {}
    for r in _good(rows):
        key = tuple(r[k] for k in table.key)
        norm = tuple(id_key(v) if k in id_cols else v for k, v in zip(table.key, key))
        if norm in seen:
            first_row, first_key = seen[norm]
            shown = ", ".join(f"{k}={_shown(v)}" for k, v in zip(table.key, key) if v is not None)
            column = [k for k, v in zip(table.key, key) if v is not None][-1:] or [table.key[0]]
            if key == first_key:
                out.error(table.name, r.number, column[0], f"duplicate {shown} (first at row {first_row})")
                continue
            differ = [k for k, a, b in zip(table.key, key, first_key) if a != b]
            if len(table.key) == 1:
                out.error(table.name, r.number, table.key[0],
                          f"{_quoted(key[0])} duplicates row {first_row} {_quoted(first_key[0])} ({ID_RULE})")
            else:
                was = ", ".join(f"{k}={_quoted(v)}" for k, v in zip(table.key, first_key) if k in differ)
                out.error(table.name, r.number, differ[-1],
                          f"duplicate {shown}: row {first_row} has {was} ({ID_RULE})")
        else:
            seen[norm] = (r.number, key)


# --------------------------------------------------------------- settings

def _parse_settings(rows: list[Row], out: _Collector) -> dict[str, Any]:
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
            out.warn("settings", r.number, "key", f"unknown setting {_shown(key)}; it is ignored "
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
        except _CellError as exc:
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
                  f"discount_rate: {_shown(rate)} is more than 100 % a year; give it as a fraction (0.08 = 8 %)")
    values["_rows"] = where
    return values


# ------------------------------------------------------------------ main

def validate(raw: RawTables) -> tuple[Instance, tuple[Problem, ...]]:
    """Validate raw tables; return the instance and its warnings, or raise InvalidInstance."""
    out = _Collector(raw.problems)
    for table in TABLES:
        if table.required and table.name not in raw.tables:
            out.error(table.name, None, None, f"required table {table.name} is missing")
    parsed: dict[str, list[Row]] = {}
    incomplete: set[str] = set()
    for table in TABLES:  # schema order, so a workbook and its CSV folder list problems alike
        name = table.name
        rt = raw.tables.get(name)
        if rt is None:
            continue
        missing: set[str] = set()
        rows = _parse_table(rt, table, out, missing)
        if missing:
            incomplete.add(name)
        if name != "settings":  # settings keys are compared ignoring case in _parse_settings
            _check_keys(table, rows, out)
        if table.required and name not in ("settings", "demand") and not rt.rows and not missing:
            out.error(name, None, None, f"required table {name} has no rows")
        parsed[name] = rows
    present = {n: _good(r) for n, r in parsed.items()}
    instance = None
    if "settings" in present:
        settings = _parse_settings(parsed["settings"], out)
        instance = _cross_checks(raw, settings, present, parsed, incomplete, out)
    problems = tuple(out.problems)
    if out.has_errors or instance is None:
        raise InvalidInstance(problems)
    return instance, problems


def _cross_checks(raw: RawTables, settings: dict[str, Any], t: dict[str, list[Row]],
                  everything: dict[str, list[Row]], incomplete: set[str], out: _Collector) -> Instance | None:
    """Cross-table rules on the good rows ``t``; ``everything`` also has the rows with a bad cell.

    Ids of rows with a bad cell still count as existing and as used, so one bad
    cell gives one problem, not a trail of "unknown …" and "… is unused" after it.
    Rules that need whole tables are skipped while one of their tables has bad rows,
    and references into a table that is missing or lacks a required column are not checked.
    """
    srow = settings["_rows"]
    #: Tables whose absence (or missing required column) is already an error: what follows from it is not said again.
    absent = {tb.name for tb in TABLES if tb.required and tb.name not in raw.tables} | set(incomplete)
    first, last = settings.get("first_year"), settings.get("last_year")
    horizon_ok = isinstance(first, int) and isinstance(last, int)
    if horizon_ok and last < first:
        out.error("settings", srow.get("last_year"), "value", f"last_year {last} is before first_year {first}")
        horizon_ok = False
    if horizon_ok and last - first + 1 > MAX_HORIZON_YEARS:
        out.error("settings", srow.get("last_year"), "value", f"the horizon of {last - first + 1} years is longer than {MAX_HORIZON_YEARS}")
        horizon_ok = False
    if not horizon_ok:
        first, last = 0, 10**6
    base_year = settings.get("base_year")
    if base_year is None:
        base_year = first
    target_year = settings.get("share_target_year")
    if target_year is None:
        target_year = last
    elif horizon_ok and not first <= target_year <= last:
        out.error("settings", srow.get("share_target_year"), "value",
                  f"share_target_year {target_year} is outside the horizon {first}–{last}")

    def rows(name: str) -> list[Row]:
        return t.get(name, [])

    def all_rows(name: str) -> list[Row]:
        return everything.get(name, [])

    def clean(*names: str) -> bool:
        """True when every row of these tables is good and none is missing (whole-table rules are meaningful)."""
        return all(len(t.get(n, [])) == len(everything.get(n, [])) and n not in absent for n in names)

    def ids(name: str, column: str) -> set[Any]:
        return {r[column] for r in all_rows(name) if r[column] is not None}

    def in_horizon(name: str, r: Row, col: str = "year") -> bool:
        y = r[col]
        if y is not None and horizon_ok and not first <= y <= last:
            out.error(name, r.number, col, f"year {y} is outside the horizon {first}–{last}")
            return False
        return True

    # -------- entities
    factories = {r["factory_id"]: r for r in rows("factories")}
    markets = {r["market_id"]: r for r in rows("markets")}
    options = {r["option_id"]: r for r in rows("options")}
    programmes = {r["programme_id"]: r for r in rows("programmes")}
    lines = {r["line_id"]: r for r in rows("lines")}
    words = {"factories": "factory", "markets": "market", "options": "option",
             "programmes": "programme", "lines": "line", "scenarios": "scenario"}
    scenarios_rows = {r["scenario_id"]: r for r in rows("scenarios")}

    # -------- references (every references= column of every present table, bad rows included)
    dangling: dict[str, list[tuple[str, str, list[Row]]]] = {}
    for table in TABLES:
        for col in table.columns:
            if not col.references:
                continue
            target, target_col = col.references.split(".")
            target_spec = TABLES_BY_NAME[target]
            if (target_spec.required and target not in t) or target in incomplete:
                continue  # "required table/column … is missing" already says it
            known = ids(target, target_col)
            near = {id_key(k): k for k in known}
            if target not in t:  # an optional table that is missing: one error for it, not one per row
                naming = [r for r in all_rows(table.name) if r[col.name] is not None]
                if naming:
                    dangling.setdefault(target, []).append((table.name, col.name, naming))
                continue
            for r in all_rows(table.name):
                v = r[col.name]
                if v is not None and v not in known:
                    hint = ""
                    if id_key(v) in near:
                        out.error(table.name, r.number, col.name,
                                  f"unknown {words[target]} {_quoted(v)}; did you mean {_quoted(near[id_key(v)])}? "
                                  f"(ids must match exactly; {ID_RULE} only for this hint)")
                    else:
                        out.error(table.name, r.number, col.name,
                                  f"unknown {words[target]} {_shown(v)}{hint}")

    for target, uses in dangling.items():  # one error per missing table, at its first use
        name, col, rs = uses[0]
        total = sum(len(x) for _, _, x in uses)
        more = "" if total == 1 else (f"; {total} cells name one: "
                                      + ", ".join(f"{n}.{c} ×{len(x)}" for n, c, x in uses))
        out.error(name, rs[0].number, col, f"unknown {words[target]} {_shown(rs[0][col])} "
                                           f"(there is no {target} table{more})")

    # -------- lines
    line_types = defaultdict(list)
    for r in all_rows("lines"):
        if r["line_type"] is not None and r["line_id"] is not None:
            line_types[r["line_type"]].append(r["line_id"])
    for lid, r in lines.items():
        af, ra = r["available_from"], r["retire_after"]
        if af is not None and ra is not None and ra < af:
            out.error("lines", r.number, "retire_after", f"retire_after {ra} is before available_from {af}")
        if r["status"] == "existing" and (r["build_cost"] or 0) > 0:
            out.warn("lines", r.number, "build_cost", "an existing line is never built; build_cost is ignored")
        if horizon_ok and ra is not None and ra < first:
            out.warn("lines", r.number, "retire_after", f"the line retires before the horizon starts ({ra} < {first}); it never runs")

    # -------- programmes
    for pid, r in programmes.items():
        fy = r["first_year"] if r["first_year"] is not None else first
        ly = r["last_year"] if r["last_year"] is not None else last
        if fy > ly:
            out.error("programmes", r.number, "last_year", f"last_year {ly} is before first_year {fy}")

    # -------- routings
    routings: dict[tuple[str, str], Routing] = {}
    type_rows: dict[tuple[str, str], Row] = {}
    line_rows: dict[tuple[str, str], Row] = {}
    for r in rows("routings"):
        lt, lid = r["line_type"], r["line_id"]
        if lt is not None and lid is not None:
            out.error("routings", r.number, "line_id", "give line_type or line_id, not both")
            continue
        if lt is None and lid is None:
            out.error("routings", r.number, "line_type", "give line_type or line_id (both are blank)")
            continue
        if lt is not None:
            if lt not in line_types:
                if "lines" in t and "lines" not in incomplete:
                    near = [k for k in line_types if id_key(k) == id_key(lt)]
                    if near:
                        out.error("routings", r.number, "line_type",
                                  f"no line has line_type {_quoted(lt)}; did you mean {_quoted(near[0])}? "
                                  f"(line types must match exactly; {ID_RULE} only for this hint)")
                    else:
                        out.error("routings", r.number, "line_type", f"no line has line_type {_shown(lt)}")
                continue
            type_rows[(r["programme_id"], lt)] = r
        else:
            line_rows[(r["programme_id"], lid)] = r
    for (pid, lt), r in type_rows.items():
        if pid not in programmes:
            continue
        for lid in line_types[lt]:
            if lid in lines:
                routings[(pid, lid)] = Routing(pid, lid, r["capacity_use"], r["unit_cost"], r["tooling_cost"])
    for (pid, lid), r in line_rows.items():
        if pid in programmes and lid in lines:
            routings[(pid, lid)] = Routing(pid, lid, r["capacity_use"], r["unit_cost"], r["tooling_cost"])

    # -------- demand and years
    demand: dict[tuple[str, str, int], Demand] = {}
    for r in rows("demand"):
        if not in_horizon("demand", r):
            continue
        vol, mv = r["volume"], r["min_volume"] or 0.0
        if mv > vol:
            out.warn("demand", r.number, "min_volume",
                     f"committed {_shown(mv)} is more than the volume {_shown(vol)}; the commitment is capped at the volume")
        p = programmes.get(r["programme_id"])
        if p is not None:
            fy = p["first_year"] if p["first_year"] is not None else first
            ly = p["last_year"] if p["last_year"] is not None else last
            if not fy <= r["year"] <= ly and vol > 0:
                if p["must_serve"] or mv > 0:  # a promise that cannot be kept: the model would be infeasible
                    what = "must_serve demand" if p["must_serve"] else f"committed volume {_shown(mv)}"
                    out.error("demand", r.number, "year", f"{what} of {_shown(r['programme_id'])} in {r['year']}, but the "
                                                          f"programme is only built in {fy}–{ly}")
                else:
                    out.warn("demand", r.number, "year", f"{_shown(r['programme_id'])} is not built in {r['year']} "
                                                         f"(its years are {fy}–{ly}); this demand goes unmet")
        demand[(r["programme_id"], r["market_id"], r["year"])] = Demand(vol, mv)
    for name in ("scenario_demand", "prices", "capacity_profile", "budget", "market_size"):
        for r in rows(name):
            in_horizon(name, r)

    # -------- scenarios
    scen_list = list(scenarios_rows.values())
    scenarios: list[Scenario] = []
    if scen_list:
        given = [r["probability"] for r in scen_list if r["probability"] is not None]
        blanks = [r for r in scen_list if r["probability"] is None]
        if given and blanks:
            rest = 1.0 - sum(given)
            share = rest / len(blanks)
            if rest < -PROBABILITY_TOLERANCE and clean("scenarios"):
                out.error("scenarios", None, "probability", f"the given probabilities already sum to {sum(given):g} > 1")
        else:
            share = 1.0 / len(scen_list)
        total = sum(given) + share * len(blanks) if given else 1.0
        if given and abs(total - 1.0) > PROBABILITY_TOLERANCE and clean("scenarios"):
            out.error("scenarios", None, "probability", f"probabilities sum to {total:.6g}, not 1")
        for r in scen_list:
            prob = r["probability"] if r["probability"] is not None else share
            scenarios.append(Scenario(r["scenario_id"], float(prob), r["demand_factor"], r["price_factor"], r["description"] or ""))
    else:
        scenarios.append(Scenario("base", 1.0, 1.0, 1.0, "the instance's demand and prices"))

    # -------- bom
    bom: dict[tuple[str, str], float] = {}
    children = defaultdict(list)
    for r in rows("bom"):
        if r["parent_id"] == r["component_id"]:
            out.error("bom", r.number, "component_id", f"{_shown(r['parent_id'])} cannot be its own component")
            continue
        bom[(r["parent_id"], r["component_id"])] = r["quantity"]
        children[r["parent_id"]].append((r["component_id"], r.number))
    _check_bom_cycles(children, out)

    # -------- strategies and options
    strategies: dict[str, dict[str, bool]] = defaultdict(dict)
    spelt: dict[str, tuple[str, int]] = {}
    for r in rows("strategies"):
        if r["strategy_id"].lower() == OPTIMISE:
            out.error("strategies", r.number, "strategy_id", f"{OPTIMISE} is reserved: it is the strategy that restricts nothing")
            continue
        first_spelling, first_row = spelt.setdefault(id_key(r["strategy_id"]), (r["strategy_id"], r.number))
        if first_spelling != r["strategy_id"]:
            out.error("strategies", r.number, "strategy_id",
                      f"{_quoted(r['strategy_id'])} duplicates row {first_row} {_quoted(first_spelling)} ({ID_RULE}); "
                      "spell a strategy alike on every row")
            continue
        strategies[r["strategy_id"]][r["option_id"]] = r["decision"] == "take"
    groups = defaultdict(list)
    for oid, r in options.items():
        if r["exclusive_group"]:
            groups[r["exclusive_group"]].append(oid)
    for sid, fix in strategies.items():
        for g, members in groups.items():
            taken = [o for o in members if fix.get(o) is True]
            if len(taken) > 1:
                row = next(r.number for r in rows("strategies") if r["strategy_id"] == sid and r["option_id"] == taken[-1])
                out.error("strategies", row, "option_id",
                          f"strategy {_shown(sid)} takes {', '.join(_shown(o) for o in taken)}, but they are in the same "
                          f"exclusive_group {_shown(g)}")

    # -------- logistics
    logistics = None
    if "logistics" in t:
        logistics = {(r["factory_id"], r["market_id"]): (r["cost_per_unit"], r["tariff"]) for r in rows("logistics")}
        for r in rows("logistics"):
            if r["tariff"] is not None and r["tariff"] > 1:
                out.warn("logistics", r.number, "tariff",
                         f"tariff {_shown(r['tariff'])} is more than the whole unit price; tariffs are fractions "
                         "(0.25 = 25 %)")

    # -------- must_serve and committed volumes need a way to market
    lines_of = defaultdict(list)
    for (pid, lid) in routings:
        lines_of[pid].append(lid)
    routable_known = clean("routings", "lines")
    for pid, r in programmes.items():
        if r["must_serve"] and not lines_of.get(pid) and routable_known:
            has_demand = any(k[0] == pid and d.volume > 0 for k, d in demand.items())
            if has_demand:
                out.error("programmes", r.number, "must_serve", f"must_serve programme {_shown(pid)} has no line it can be built on (no routing)")
    reported = set()
    for table, r in [("demand", r) for r in rows("demand")] + [("scenario_demand", r) for r in rows("scenario_demand")]:
        pid, mid = r["programme_id"], r["market_id"]
        p = programmes.get(pid)
        if p is None or mid not in markets or (pid, mid) in reported:
            continue
        if table == "scenario_demand" and p["must_serve"] and (r["volume"] or 0) > 0:
            fy = p["first_year"] if p["first_year"] is not None else first
            ly = p["last_year"] if p["last_year"] is not None else last
            if r["year"] is not None and not fy <= r["year"] <= ly:
                out.error(table, r.number, "year", f"must_serve demand of {_shown(pid)} in {r['year']}, but the programme "
                                                   f"is only built in {fy}–{ly}")
                continue
        needs = (p["must_serve"] and (r["volume"] or 0) > 0) or (r["min_volume"] or 0) > 0
        if not needs or not lines_of.get(pid) or not routable_known or not clean("logistics"):
            continue
        facs = {lines[lid]["factory_id"] for lid in lines_of[pid] if lid in lines}
        if logistics is not None and not any((f, mid) in logistics for f in facs):
            reported.add((pid, mid))
            what = "must_serve programme" if p["must_serve"] else "committed volume of"
            out.error(table, r.number, "market_id",
                      f"{what} {_shown(pid)} has demand in {_shown(mid)}, but no factory that can build it "
                      f"({', '.join(_shown(f) for f in sorted(facs))}) has a logistics route to {_shown(mid)}")

    # -------- share target
    share_target = settings.get("share_target")
    if share_target is not None:
        ms = {r["year"]: r["volume"] for r in rows("market_size")}
        if target_year not in ms and clean("market_size"):
            out.error("market_size", None, "year", f"share_target is set but market_size has no row for {target_year}")
        if not any(r["counts_for_share"] for r in programmes.values()) and "programmes" not in absent:
            out.warn("programmes", None, "counts_for_share", "share_target is set but no programme counts_for_share")

    # -------- ids referenced nowhere (warnings; rows with a bad cell count as references)
    used_factories = ids("lines", "factory_id")
    for fid, r in factories.items():
        if fid not in used_factories and "lines" not in absent:
            out.warn("factories", r.number, "factory_id", f"factory {_shown(fid)} has no lines")
    used_markets = ids("demand", "market_id") | ids("scenario_demand", "market_id")
    for mid, r in markets.items():
        if mid not in used_markets and not {"demand", "scenario_demand"} & absent:
            out.warn("markets", r.number, "market_id", f"market {_shown(mid)} has no demand")
    used_options = ids("lines", "requires_option") | ids("strategies", "option_id")
    for oid, r in options.items():
        if oid not in used_options and not {"lines", "strategies"} & absent:
            out.warn("options", r.number, "option_id", f"option {_shown(oid)} is required by no line and named by "
                                                       "no strategy; taking it only costs money")
    comps = ids("bom", "component_id")
    demanded = ids("demand", "programme_id") | ids("scenario_demand", "programme_id")
    for pid, r in programmes.items():
        if pid not in demanded and pid not in comps and not {"demand", "scenario_demand", "bom"} & absent:
            out.warn("programmes", r.number, "programme_id", f"programme {_shown(pid)} has no demand and is no component")
        if not lines_of.get(pid) and (pid in demanded or pid in comps) and not r["must_serve"] and routable_known:
            if not (pid in comps and r["external_price"] is not None):
                out.warn("programmes", r.number, "programme_id",
                         f"programme {_shown(pid)} has no routing: it can never be built")
    routed_lines = {lid for (_, lid) in routings}
    for lid, r in lines.items():
        if lid not in routed_lines and routable_known and clean("programmes"):
            out.warn("lines", r.number, "line_id", f"no programme can be built on line {_shown(lid)} (no routing)")

    _check_economics(settings, rows("prices"), programmes, out)
    for oid, r in options.items():
        if r["decide"] == "later":
            when = r["decide_from"] if r["decide_from"] is not None else first + 1
            if not first <= when <= last:
                out.error("options", r.number, "decide_from",
                          f"option {_shown(oid)} is decided later from {when}, outside the horizon {first}–{last}"
                          + ("" if r["decide_from"] is not None else " (the default is first_year + 1)"))
        elif r["decide_from"] is not None and not first <= r["decide_from"] <= last:  # (economics.md: bad input)
            out.error("options", r.number, "decide_from",
                      f"option {_shown(oid)}: decide_from {r['decide_from']} is outside the horizon {first}–{last} "
                      "(it is only read with decide = later)")
    # -------- sensitivity ranges: each parameter names existing numeric cells (optimiser.parameters)
    if rows("sensitivity"):
        from .parameters import check_sensitivity_rows  # noqa: PLC0415

        check_sensitivity_rows(rows("sensitivity"), everything, settings,
                               lambda row, col, msg: out.error("sensitivity", row, col, msg), clean)

    if out.has_errors:
        return None

    # -------- build the instance
    def default(value: Any, fallback: Any) -> Any:
        return fallback if value is None else value

    dup = settings["default_unmet_penalty"] or 0.0
    inst_lines = tuple(
        Line(lid, r["factory_id"], r["line_type"], r["capacity"], r["status"], r["fixed_cost"],
             r["build_cost"] if r["status"] == "candidate" else 0.0, r["lead_time"],
             default(r["available_from"], first), r["retire_after"], r["ramp_up"], r["requires_option"], r["unit_fee"],
             r["idle_cost"], r["life"])
        for lid, r in lines.items())
    inst_programmes = tuple(
        Programme(pid, r["name"] or pid, r["kind"], r["customer"] or "", r["unit_price"], r["max_lines"], r["must_serve"],
                  default(r["unmet_penalty"], dup), max(default(r["first_year"], first), first),
                  min(default(r["last_year"], last), last), r["counts_for_share"], r["external_price"])
        for pid, r in programmes.items())
    instance = Instance(
        name=str(settings["name"]), first_year=first, last_year=last,
        currency=settings["currency"] or "USD", discount_rate=settings["discount_rate"],
        base_year=base_year, share_target=share_target, share_target_year=target_year,
        share_penalty=settings["share_penalty"], default_unmet_penalty=dup,
        factories=tuple(Factory(k, r["name"] or k, r["owner"] or "", r["country"], r["region"] or "", r["equity_share"])
                        for k, r in factories.items()),
        markets=tuple(Market(k, r["name"] or k, r["region"] or "") for k, r in markets.items()),
        lines=inst_lines, programmes=inst_programmes,
        options=tuple(Option(k, r["name"] or k, r["counterparty"] or "", r["kind"] or "", r["upfront_cost"],
                             r["annual_cost"], r["exclusive_group"], r["life"], r["decide"] or "now",
                             (default(r["decide_from"], first + 1) if r["decide"] == "later" else None))
                for k, r in options.items()),
        scenarios=tuple(scenarios), has_scenarios_table="scenarios" in t,
        routings=routings, demand=demand,
        scenario_demand={(r["scenario_id"], r["programme_id"], r["market_id"], r["year"]): r["volume"] for r in rows("scenario_demand")},
        logistics=logistics, bom=bom, strategies=dict(strategies),
        market_size={r["year"]: r["volume"] for r in rows("market_size")},
        budget={r["year"]: r["capex_limit"] for r in rows("budget")},
        prices={(r["programme_id"], r["year"]): r["unit_price"] for r in rows("prices") if r["unit_price"] is not None},
        external_prices={(r["programme_id"], r["year"]): r["external_price"] for r in rows("prices")
                         if r["external_price"] is not None},
        tax_rate=settings["tax_rate"] or 0.0, terminal_value=settings["terminal_value"] or "none",
        terminal_growth=settings["terminal_growth"] or 0.0, asset_life=settings["asset_life"] or 10,
        capacity_profile={(r["line_id"], r["year"]): r["capacity"] for r in rows("capacity_profile")},
        inputs=tuple(InputTable(rt.name, rt.header, tuple(v for _, v in rt.rows)) for rt in raw.tables.values()),
        fingerprint=fingerprint(t),
    )
    return instance


def _check_economics(settings: dict[str, Any], prices: list[Row], programmes: dict[str, Row], out: _Collector) -> None:
    """Ranges of economics.md that one column's bounds cannot say: tax_rate < 1, terminal_growth below
    discount_rate with a perpetuity, and a yearly outside price only for a programme that has one."""
    srow = settings["_rows"]
    tax = settings.get("tax_rate")
    if tax is not None and tax >= 1.0:
        out.error("settings", srow.get("tax_rate"), "value", f"tax_rate: {_shown(tax)} must be below 1 (a fraction: 0.25 = 25 %)")
    rate, g = settings.get("discount_rate"), settings.get("terminal_growth") or 0.0
    if settings.get("terminal_value") == "perpetuity" and rate is not None and g >= rate:
        out.error("settings", srow.get("terminal_growth", srow.get("terminal_value")), "value",
                  f"terminal_growth {_shown(g)} must be below discount_rate {_shown(rate)} for a perpetuity "
                  "(else the value after the horizon is infinite)")
    for r in prices:
        pid = r["programme_id"]
        if r["external_price"] is not None and pid in programmes and programmes[pid]["external_price"] is None:
            out.error("prices", r.number, "external_price",
                      f"{_shown(pid)} has an outside price in {r['year']} but no programmes.external_price: "
                      "give the outside price there too (it is what the other years pay)")


def _check_bom_cycles(children: dict[str, list[tuple[str, int]]], out: _Collector) -> None:
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> bool:
        state[node] = 1
        for child, row in children.get(node, []):
            if state.get(child) == 1:
                cycle = path[path.index(child):] + [child] if child in path else [node, child]
                out.error("bom", row, "component_id", f"the bill of materials has a cycle: {' → '.join(cycle)}")
                return True
            if state.get(child) is None and visit(child, path + [child]):
                return True
        state[node] = 2
        return False

    for node in sorted(children):
        if state.get(node) is None and visit(node, [node]):
            return


def fingerprint(tables: dict[str, list[Row]]) -> str:
    """sha256 of the canonical typed tables (row order, `source` and unknown columns excluded)."""
    canon = {}
    for name in sorted(tables):
        cols = TABLES_BY_NAME[name].column_names
        canon[name] = sorted(json.dumps([r[c] for c in cols], default=str) for r in tables[name])
    return hashlib.sha256(json.dumps(canon, sort_keys=True).encode()).hexdigest()


def load_instance(path: Any) -> tuple[Instance, tuple[Problem, ...]]:
    """Read and validate the instance at ``path`` (workbook or CSV folder)."""
    from .readers import read_instance_tables  # noqa: PLC0415

    return validate(read_instance_tables(path))
