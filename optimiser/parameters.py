"""Any numeric input as a parameter: one addressing scheme, applied to the tables and re-validated.

A *parameter* names numeric cells of the instance tables, read from the schema
(:mod:`optimiser.schema`), so every ``int``/``float`` column of every table is addressable —
columns added to the schema become parameters without a change here:

=========================================  ===================================================
``settings.discount_rate``                 a setting (``settings`` is a key/value table)
``options.upfront_cost[buy_vinfast]``      one row, by its key
``programmes.unit_price[*]``               every row of the table
``demand.volume[vf8@VN@2025]``             a composite key: the key columns' values joined by
                                           ``@`` in the schema's key order; any part may be ``*``
``routings.unit_cost[vf8@hp_va_partner]``  routings are keyed by programme and *either* a
                                           ``line_type`` or a ``line_id`` (one of the two per
                                           row): the second part matches whichever the row has;
                                           write ``line_id:X`` or ``line_type:X`` to say which
=========================================  ===================================================

A *change* sets the cells: ``P=120`` (absolute value) or ``P*1.1`` (multiplier of each cell's
current value; a blank cell whose column has a default counts as that default, a blank cell
without one — ``programmes.external_price`` of a component that cannot be bought — is an error
for one row; a ``*`` selector multiplies the cells that have a value and leaves blank ones blank).
Ids are compared as the validator compares them (:func:`optimiser.tables.id_key`).

Changes are applied to the tables as read (:class:`Base`: the raw tables and their validated
instance) and the result is validated again, so a change that makes the instance invalid (a
negative capacity) is reported as the validator would, located, with the change that caused it.
The input files are never touched. Every error is an :class:`~optimiser.errors.InputError` of one
line. The names and their checks live in :mod:`optimiser.changes` (re-exported here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable

from .changes import (
    NOT_PARAMETERS,
    Change,
    Parameter,
    check_against,
    check_sensitivity_rows,
    current_values,
    key_parts,
    number,
    parse_change,
    parse_parameter,
    select_rows,
)
from .data import Instance
from .errors import InputError, InvalidInstance
from .readers import RawTable, RawTables, read_instance_tables
from .schema import TABLES_BY_NAME, Column
from .tables import Collector, header_key, parse_settings, parse_table
from .validate import validate

__all__ = [
    "NOT_PARAMETERS", "Base", "Change", "Parameter", "Range", "check_against", "check_sensitivity_rows",
    "current_values", "key_parts", "number", "parse_change", "parse_parameter", "parse_range", "select_rows",
    "sensitivity_ranges",
]

# ------------------------------------------------------------------ the base and applying changes

@dataclass(frozen=True)
class Base:
    """An instance's tables as read and the instance they validate to (what changes start from)."""

    raw: RawTables
    instance: Instance

    @classmethod
    def load(cls, path: str | Path) -> "Base":
        raw = read_instance_tables(path)
        instance, _ = validate(raw)
        return cls(raw, instance)

    @classmethod
    def of(cls, instance: Instance) -> "Base":
        """From an instance alone (its ``inputs``): rows numbered from 2 in order (blank lines of the
        file are not counted, so a row number in a message may be lower than the file's)."""
        tables = {t.name: RawTable(t.name, t.header, tuple((i + 2, v) for i, v in enumerate(t.rows)))
                  for t in instance.inputs}
        return cls(RawTables(instance.name, "inputs", tables), instance)

    def parsed(self, table: str) -> list[Any]:
        """The typed rows of a table (each with ``number`` and ``values``)."""
        rt = self.raw.tables.get(table)
        if rt is None:
            return []
        return parse_table(rt, TABLES_BY_NAME[table], Collector())

    def settings(self) -> dict[str, Any]:
        """The typed settings (defaults filled in)."""
        return parse_settings(self.parsed("settings"), Collector()).values

    def check(self, change: Change) -> None:
        """The change names existing cells (and multiplies none that is blank)."""
        p = change.parameter
        check_against(change, {p.table: self.parsed(p.table)} if not p.is_setting else {}, self.settings())

    def with_changes(self, changes: Iterable[Change]) -> Instance:
        """The instance with every change applied in order, validated again (a new object)."""
        changes = list(changes)
        if not changes:
            return self.instance
        raw = self.raw
        for ch in changes:
            raw = _apply(Base(raw, self.instance), ch)
        said = "; ".join(str(c) for c in changes)
        try:
            inst, _ = validate(raw)
        except InvalidInstance as exc:
            first = next(p for p in exc.problems if p.severity == "error")
            raise InputError(f"with {said}: {first}") from None
        return inst


def _apply(base: Base, change: Change) -> RawTables:
    p = change.parameter
    col = p.column_def
    tables = dict(base.raw.tables)
    if p.is_setting:
        rt = tables.get("settings")
        if rt is None:
            raise InputError(f"parameter {p}: the instance has no settings table")
        now = base.settings().get(p.column)
        new = _new_value(change, now, "settings", None)
        rows = list(rt.rows)
        kpos = _position(rt, "key")
        vpos = _position(rt, "value")
        if kpos is None or vpos is None:
            raise InputError(f"parameter {p}: the settings table has no key/value columns")
        for i, (n, values) in enumerate(rows):
            if kpos < len(values) and str(values[kpos]).strip().lower() == p.column:
                vals = list(values) + [None] * (len(rt.header) - len(values))
                vals[vpos] = _cell(new, col)
                rows[i] = (n, tuple(vals))
                break
        else:
            vals = [None] * len(rt.header)
            vals[kpos], vals[vpos] = p.column, _cell(new, col)
            rows.append((max((n for n, _ in rows), default=rt.header_row) + 1, tuple(vals)))
        tables["settings"] = replace(rt, rows=tuple(rows))
        return replace(base.raw, tables=tables)
    rt = tables.get(p.table)
    if rt is None:
        raise InputError(f"parameter {p}: the instance has no {p.table} table")
    parsed = base.parsed(p.table)
    chosen = {r.number: r.values.get(p.column) for r in select_rows(p, parsed)}
    if change.kind == "multiplier" and "*" in (p.selector or ()) and any(v is not None for v in chosen.values()):
        chosen = {n: v for n, v in chosen.items() if v is not None}  # blank cells (no value) stay blank
    pos = _position(rt, p.column)
    header = rt.header
    if pos is None:  # the column is not in the file: add it (blank elsewhere = its default)
        header = (*header, p.column)
        pos = len(header) - 1
    rows = []
    for n, values in rt.rows:
        vals = list(values) + [None] * (len(header) - len(values))
        if n in chosen:
            vals[pos] = _cell(_new_value(change, chosen[n], p.table, n), col)
        rows.append((n, tuple(vals)))
    tables[p.table] = replace(rt, header=header, rows=tuple(rows))
    return replace(base.raw, tables=tables)


def _position(rt: RawTable, column: str) -> int | None:
    for j, h in enumerate(rt.header):
        if h == column or header_key(h) == column:
            return j
    return None


def _new_value(change: Change, now: float | None, table: str, row: int | None) -> float:
    if change.kind == "absolute":
        return change.value
    if now is None:
        where = f"{table} row {row}" if row is not None else table
        raise InputError(f"parameter {change.parameter}: {where} has no {change.parameter.column} to multiply "
                         "(blank); give an absolute value (=)")
    return float(now) * change.value


def _cell(value: float, col: Column) -> float | int:
    """The raw cell written: a whole number for an int column when the value is whole (else the
    validator says it is not a whole number)."""
    if col.type == "int" and float(value).is_integer():
        return int(value)
    return float(value)


@dataclass(frozen=True)
class Range:
    """A parameter with a low and a high value (a row of ``sensitivity`` or a ``--parameter P=LO,HI``)."""

    parameter: Parameter
    low: float
    high: float
    kind: str = "absolute"
    note: str = ""
    row: int | None = None

    def change(self, value: float) -> Change:
        return Change(self.parameter, self.kind, value)

    def as_dict(self) -> dict[str, Any]:
        return {"parameter": str(self.parameter), "low": self.low, "high": self.high, "kind": self.kind,
                "note": self.note, "row": self.row}


def parse_range(text: str) -> Range:
    """``P=LO,HI`` (absolute values) or ``P*LO,HI`` (multipliers) → :class:`Range`."""
    raw = str(text).strip()
    m = re.match(r"^(.*?)(=|\*)\s*([^=*\]]+)$", raw, re.DOTALL)
    if not m or "," not in m.group(3):
        raise InputError(f"--parameter {raw!r}: write PARAMETER=LOW,HIGH or PARAMETER*LOW,HIGH "
                         "(e.g. options.upfront_cost[buy_vinfast]=4e8,1.2e9)")
    p = parse_parameter(m.group(1))
    lo_t, _, hi_t = m.group(3).partition(",")
    lo, hi = number(lo_t, f"--parameter {p} low"), number(hi_t, f"--parameter {p} high")
    if lo > hi:
        raise InputError(f"--parameter {raw}: low {lo:g} is above high {hi:g}")
    return Range(p, lo, hi, "absolute" if m.group(2) == "=" else "multiplier")


def sensitivity_ranges(base: Base) -> list[Range]:
    """The rows of the instance's ``sensitivity`` table (validated already) as ranges."""
    out = []
    for r in base.parsed("sensitivity"):
        v = r.values
        out.append(Range(parse_parameter(v["parameter"]), float(v["low"]), float(v["high"]),
                         v.get("kind") or "absolute", v.get("note") or "", r.number))
    return out
