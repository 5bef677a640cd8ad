"""Parameters and changes: naming any numeric input (``table.column[row]``) and checking a change
against typed rows.

The addressing scheme (``settings.discount_rate``, ``options.upfront_cost[buy_vinfast]``,
``programmes.unit_price[*]``, ``demand.volume[vf8@VN@2025]``, ``routings.unit_cost[line_id:X]``)
is read from the schema, so every ``int``/``float`` column of every table is a parameter. A
:class:`Change` sets the cells (``P=120``) or multiplies them (``P*1.1``). Ids are compared as the
validator compares them (:func:`optimiser.tables.id_key`). Applying changes to an instance and
validating it again is :mod:`optimiser.parameters`; this module needs no instance, so the validator
can check the ``sensitivity`` table with it (:func:`check_sensitivity_rows`). Every error is an
:class:`~optimiser.errors.InputError` of one line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Sequence

from .errors import InputError
from .schema import SETTINGS_KEYS, TABLES_BY_NAME, Column, Table
from .tables import id_key

#: Tables a parameter may not address (they describe analyses, not the plant).
NOT_PARAMETERS = frozenset({"sensitivity", "strategies"})

_PATH = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[(.*)\])?\s*$", re.DOTALL)


@dataclass(frozen=True)
class Parameter:
    """Numeric cells of one column: ``table.column[selector]`` (``selector`` None for a setting;
    a tuple of key parts, ``"*"`` for any, or ``("*",)`` for every row)."""

    table: str
    column: str
    selector: tuple[str, ...] | None
    text: str

    @property
    def is_setting(self) -> bool:
        return self.table == "settings"

    @property
    def column_def(self) -> Column:
        if self.is_setting:
            return next(c for c in SETTINGS_KEYS if c.name == self.column)
        return TABLES_BY_NAME[self.table].column(self.column)

    @property
    def is_integer(self) -> bool:
        return self.column_def.type == "int"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Change:
    """A parameter set to ``value`` (``kind`` ``absolute``) or multiplied by it (``multiplier``)."""

    parameter: Parameter
    kind: str
    value: float

    def __str__(self) -> str:
        return f"{self.parameter}{'=' if self.kind == 'absolute' else '*'}{self.value:g}"


def _numeric_columns(table: str) -> list[str]:
    cols = SETTINGS_KEYS if table == "settings" else TABLES_BY_NAME[table].columns
    return [c.name for c in cols if c.type in ("int", "float")]


def key_parts(table: Table) -> list[tuple[str, ...]]:
    """The parts of a row selector of ``table``: one per key column, a one-of group counting once."""
    parts: list[tuple[str, ...]] = []
    for k in table.key:
        group = next((g for g in table.one_of if k in g), None)
        if group is None:
            parts.append((k,))
        elif group not in parts:
            parts.append(group)
    return parts


def parse_parameter(text: str) -> Parameter:
    """``table.column[selector]`` → :class:`Parameter`, checked against the schema (not an instance)."""
    raw = str(text)
    m = _PATH.match(raw)
    if not m:
        raise InputError(f"parameter {raw.strip()!r}: write table.column[row] (e.g. options.upfront_cost[buy_vinfast], "
                         "programmes.unit_price[*], settings.discount_rate)")
    table, column, sel = m.group(1).lower(), m.group(2).lower(), m.group(3)
    shown = raw.strip()
    if table in NOT_PARAMETERS or (table not in TABLES_BY_NAME):
        known = ", ".join(t for t in TABLES_BY_NAME if t not in NOT_PARAMETERS and _numeric_columns(t))
        raise InputError(f"parameter {shown}: unknown table {table!r}; tables with numbers: {known}")
    if table == "settings":
        names = [c.name for c in SETTINGS_KEYS]
        if column not in names:
            raise InputError(f"parameter {shown}: unknown setting {column!r}; numeric settings: "
                             f"{', '.join(_numeric_columns('settings'))}")
        if column not in _numeric_columns("settings"):
            raise InputError(f"parameter {shown}: setting {column} is not a number")
        if sel is not None:
            raise InputError(f"parameter {shown}: a setting has no rows; write settings.{column}")
        return Parameter(table, column, None, f"settings.{column}")
    spec = TABLES_BY_NAME[table]
    if column not in spec.column_names:
        raise InputError(f"parameter {shown}: table {table} has no column {column!r}; numeric columns: "
                         f"{', '.join(_numeric_columns(table)) or 'none'}")
    if column not in _numeric_columns(table):
        raise InputError(f"parameter {shown}: {table}.{column} is not a numeric column "
                         f"(numeric columns: {', '.join(_numeric_columns(table)) or 'none'})")
    parts = key_parts(spec)
    form = "@".join("/".join(p) for p in parts)
    if sel is None or not sel.strip():
        raise InputError(f"parameter {shown}: say which rows: {table}.{column}[{form}] or {table}.{column}[*]")
    pieces = tuple(p.strip() for p in sel.split("@"))
    if pieces == ("*",):
        selector: tuple[str, ...] = ("*",) * len(parts)
    elif len(pieces) != len(parts):
        raise InputError(f"parameter {shown}: {table} rows are named by {len(parts)} part(s), {form} "
                         f"(joined by @), not {len(pieces)}")
    else:
        if any(not p for p in pieces):
            raise InputError(f"parameter {shown}: an empty part in [{sel}]; use * for any")
        selector = pieces
    text = f"{table}.{column}[{'@'.join(selector) if set(selector) != {'*'} else '*'}]"
    return Parameter(table, column, selector, text)


_CHANGE = re.compile(r"^(.*?)(=|\*)\s*([^=*\]]+)$", re.DOTALL)


def parse_change(text: str) -> Change:
    """``P=120`` (absolute) or ``P*1.1`` (multiplier) → :class:`Change`."""
    raw = str(text).strip()
    m = _CHANGE.match(raw)
    if not m or "]" in m.group(3):
        raise InputError(f"{raw!r}: write PARAMETER=VALUE or PARAMETER*FACTOR (e.g. options.upfront_cost[buy_vinfast]=5e8)")
    param = parse_parameter(m.group(1))
    return Change(param, "absolute" if m.group(2) == "=" else "multiplier", number(m.group(3), str(param)))


def number(text: Any, what: str) -> float:
    """A finite number, or a located InputError."""
    try:
        v = float(str(text).strip().replace("_", ""))
    except ValueError:
        raise InputError(f"{what}: {str(text).strip()!r} is not a number") from None
    if not math.isfinite(v):
        raise InputError(f"{what}: {str(text).strip()!r} is not a finite number")
    return v


# ------------------------------------------------------------------ matching rows

def _matches(part: str, columns: tuple[str, ...], row: dict[str, Any], spec: Table) -> bool:
    if part == "*":
        return True
    want_cols = columns
    if len(columns) > 1 and ":" in part:
        col, _, value = part.partition(":")
        if col.strip().lower() in columns:
            want_cols, part = (col.strip().lower(),), value.strip()
    for c in want_cols:
        v = row.get(c)
        if v is None:
            continue
        if spec.column(c).type == "int":
            try:
                if int(float(part)) == v:
                    return True
            except ValueError:
                pass
        elif id_key(str(v)) == id_key(part):
            return True
    return False


def select_rows(param: Parameter, rows: Sequence[Any]) -> list[Any]:
    """The rows (objects with ``values``: typed cells by column) ``param`` selects; an InputError
    naming the first part that matches nothing."""
    spec = TABLES_BY_NAME[param.table]
    parts = key_parts(spec)
    assert param.selector is not None
    hit = [r for r in rows if all(_matches(p, cols, r.values, spec) for p, cols in zip(param.selector, parts))]
    if hit:
        if set(param.selector) != {"*"} and "*" not in param.selector:
            # one row per key, except routings by line_type and by line_id sharing a name
            if len(hit) > 1:
                raise InputError(f"parameter {param}: matches {len(hit)} rows of {param.table} (a line_type and a "
                                 f"line_id of that name); write line_type:NAME or line_id:NAME")
        return hit
    if not rows:
        raise InputError(f"parameter {param}: table {param.table} has no rows in this instance")
    for i, (p, cols) in enumerate(zip(param.selector, parts)):
        if not any(_matches(p, cols, r.values, spec) for r in rows):
            ids = sorted({str(r.values.get(c)) for r in rows for c in cols if r.values.get(c) is not None})
            shown = ", ".join(ids[:12]) + (" …" if len(ids) > 12 else "")
            raise InputError(f"parameter {param}: no row of {param.table} has {'/'.join(cols)} {p!r} ({shown})")
    raise InputError(f"parameter {param}: no row of {param.table} has the key {'@'.join(param.selector)}")


def current_values(param: Parameter, rows: Sequence[Any]) -> list[tuple[Any, float | None]]:
    """(row, value now) for every selected row; the value is the typed cell (its default when blank)."""
    return [(r, r.values.get(param.column)) for r in select_rows(param, rows)]


def check_against(change: Change, tables: dict[str, list[Any]], settings: dict[str, Any] | None = None) -> None:
    """Raise InputError if ``change`` names no cell of these parsed tables or multiplies a blank one."""
    p = change.parameter
    if p.is_setting:
        now = (settings or {}).get(p.column, p.column_def.default)
        if change.kind == "multiplier" and now is None:
            raise InputError(f"parameter {p}: the setting has no value to multiply; give an absolute value (=)")
        return
    found = current_values(p, tables.get(p.table, []))
    if change.kind == "multiplier" and "*" in (p.selector or ()) and any(v is not None for _, v in found):
        return  # a wildcard multiplies the cells that have a value; blank ones stay blank
    for r, v in found:
        if change.kind == "multiplier" and v is None:
            key = "@".join(str(r.values.get(c[0]) or r.values.get(c[-1])) for c in key_parts(TABLES_BY_NAME[p.table]))
            raise InputError(f"parameter {p}: {p.table} row {r.number} ({key}) has no {p.column} to multiply "
                             "(blank); give an absolute value (=)")


def check_sensitivity_rows(rows: Sequence[Any], tables: dict[str, list[Any]], settings: dict[str, Any],
                           error: Any, usable: Any = lambda table: True) -> None:
    """Validation of the ``sensitivity`` table: each row's parameter names existing numeric cells,
    ``low ≤ high``, and a multiplier does not multiply a blank cell. ``error(row, column, message)``;
    rows are matched only in tables ``usable(table)`` says are whole (no bad rows, no missing column)."""
    for r in rows:
        try:
            p = parse_parameter(r.values.get("parameter") or "")
        except InputError as exc:
            error(r.number, "parameter", str(exc))
            continue
        low, high = r.values.get("low"), r.values.get("high")
        if low is not None and high is not None and low > high:
            error(r.number, "high", f"high {high:g} is below low {low:g}")
        kind = r.values.get("kind") or "absolute"
        if not p.is_setting and not usable(p.table):
            continue  # that table's own errors are reported; its rows cannot be matched reliably
        try:
            check_against(Change(p, kind, 1.0), tables, settings)
        except InputError as exc:
            error(r.number, "parameter", str(exc))
