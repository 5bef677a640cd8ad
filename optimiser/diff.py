"""`optimiser diff A B`: what changed between two instances, or between two plans.

Instances (workbooks or CSV folders, any mix) are compared table by table on their parsed,
typed cells (so ``150`` in a CSV and ``150.0`` in a workbook are equal, and a blank cell equals
the column's default). Rows are matched by their table's key columns (:mod:`optimiser.schema`);
every added row, removed row and changed cell is reported, located like a validation error:
``table row N, column C: key: old → new`` (row numbers of B; of A for removed rows).

Plans (JSON plan files, :mod:`optimiser.plan`, or solve reports, through their Plan sheet) are
compared decision by decision (deals, builds and their years, tooling) with the KPI deltas (npv,
objective, per scenario, per NPV category).

Output: :meth:`InstanceDiff.lines` / :meth:`PlanDiff.lines` for the terminal, ``as_dict`` for
``--json``, `optimiser.report.diff.write_diff_workbook` for ``--out diff.xlsx`` (one sheet per changed table,
changed cells highlighted, written with the safe cell writer of :mod:`optimiser.report.xlsx`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, InvalidInstance
from .schema import TABLES, TABLES_BY_NAME


@dataclass(frozen=True)
class CellChange:
    column: str
    old: Any
    new: Any


@dataclass(frozen=True)
class RowChange:
    """One row of a table: ``kind`` added | removed | changed; ``key`` its key values; rows
    ``row_a`` / ``row_b`` (Excel row / CSV line) on each side; ``values`` the row (B's; A's
    when removed); ``cells`` the changed cells."""

    table: str
    kind: str
    key: tuple
    row_a: int | None
    row_b: int | None
    values: dict[str, Any]
    cells: tuple[CellChange, ...] = ()

    def key_text(self) -> str:
        return "/".join("" if k is None else value_text(k) for k in self.key)

    def lines(self) -> list[str]:
        if self.kind == "added":
            return [f"{self.table} row {self.row_b}: added {self.key_text()}"]
        if self.kind == "removed":
            return [f"{self.table} row {self.row_a} of A: removed {self.key_text()}"]
        return [f"{self.table} row {self.row_b}, column {c.column}: {self.key_text()}: {value_text(c.old)} → {value_text(c.new)}"
                for c in self.cells]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": [plain_value(k) for k in self.key], "row_a": self.row_a, "row_b": self.row_b,
                "changes": [{"column": c.column, "old": plain_value(c.old), "new": plain_value(c.new)} for c in self.cells],
                **({"values": {k: plain_value(v) for k, v in self.values.items()}} if self.kind != "changed" else {})}


@dataclass(frozen=True)
class InstanceDiff:
    a: str
    b: str
    changes: tuple[RowChange, ...]
    #: tables present on one side only: name → "added" | "removed"
    tables: dict[str, str] = field(default_factory=dict)

    def by_table(self) -> dict[str, list[RowChange]]:
        out: dict[str, list[RowChange]] = {}
        for ch in self.changes:
            out.setdefault(ch.table, []).append(ch)
        return out

    @property
    def n_cells(self) -> int:
        return sum(len(c.cells) for c in self.changes)

    def counts(self) -> dict[str, int]:
        return {k: sum(1 for c in self.changes if c.kind == k) for k in ("added", "removed", "changed")}

    def lines(self) -> list[str]:
        if not self.changes and not self.tables:
            return [f"{self.a} and {self.b}: the same instance data"]
        c = self.counts()
        out = [f"{self.a} → {self.b}: {c['added']} row(s) added, {c['removed']} removed, {c['changed']} changed "
               f"({self.n_cells} cell(s))"]
        for table, rows in self.by_table().items():
            extra = f" (table {self.tables[table]})" if table in self.tables else ""
            out.append(f"{table}{extra}:")
            out += [f"  {line}" for r in rows for line in r.lines()]
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"kind": "instances", "a": self.a, "b": self.b, "summary": self.counts() | {"cells": self.n_cells},
                "tables": {t: {"table": self.tables.get(t, "changed"), "rows": [r.as_dict() for r in rows]}
                           for t, rows in self.by_table().items()}}


@dataclass(frozen=True)
class PlanDiff:
    a: str
    b: str
    only_a: tuple[tuple[str, tuple], ...]
    only_b: tuple[tuple[str, tuple], ...]
    kpis: dict[str, dict[str, float | None]]
    words: tuple[str, ...]

    def lines(self) -> list[str]:
        out = [f"{self.a} → {self.b}: {len(self.only_a) + len(self.only_b)} decision(s) differ"]
        out += [f"  {w}" for w in self.words]
        for k, v in self.kpis.items():
            d = v["delta"]
            if k not in ("npv", "objective") and d is not None and abs(d) < 1e-9:
                continue  # per-scenario / per-category lines only where they moved
            out.append(f"  {k}: {value_text(v['a'])} → {value_text(v['b'])}" + ("" if d is None else f" ({d:+,.2f})"))
        return out

    def as_dict(self) -> dict[str, Any]:
        def dec(items: tuple) -> list[dict[str, Any]]:
            return [{"kind": k, "ids": list(ids)} for k, ids in items]

        return {"kind": "plans", "a": self.a, "b": self.b, "only_in_a": dec(self.only_a), "only_in_b": dec(self.only_b),
                "differences": list(self.words), "kpis": self.kpis}


def value_text(v: Any) -> str:
    if v is None:
        return "(blank)"
    if isinstance(v, float):
        return f"{v:,.6g}" if abs(v) < 1e6 else f"{v:,.2f}"
    return str(v)


def plain_value(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, float) and isinstance(y, float):
        return x == y or math.isclose(x, y, rel_tol=1e-12, abs_tol=0.0) or (math.isnan(x) and math.isnan(y))
    return x == y


# --------------------------------------------------------------------------- instances

def _typed_tables(path: Path) -> dict[str, list[Any]]:
    """The tables of the instance at ``path`` as typed rows (validation's parser; the instance
    need not be valid). Unreadable → InputError."""
    from .readers import read_instance_tables  # noqa: PLC0415
    from .tables import Collector, parse_table  # noqa: PLC0415

    raw = read_instance_tables(path)
    missing = [t.name for t in TABLES if t.required and t.name not in raw.tables]
    if missing:  # e.g. a solve report: its "Scenarios" sheet alone does not make an instance
        raise InputError(f"{path}: neither an instance nor a plan file (no {', '.join(missing)} table)")
    out = {}
    for table in TABLES:
        rt = raw.tables.get(table.name)
        if rt is not None:
            out[table.name] = parse_table(rt, table, Collector())
    return out


def _keyed(table: str, rows: list[Any]) -> dict[tuple, Any]:
    """Rows by key (key columns of the schema; a repeated key gets an occurrence number)."""
    key_cols = TABLES_BY_NAME[table].key or TABLES_BY_NAME[table].column_names
    out: dict[tuple, Any] = {}
    for r in rows:
        k = tuple(r[c] for c in key_cols)
        if table == "settings" and isinstance(k[0], str):
            k = (k[0].strip().lower(),)
        base, n = k, 2
        while k in out:
            k = (*base, f"#{n}")
            n += 1
        out[k] = r
    return out


def diff_instances(a: str | Path, b: str | Path) -> InstanceDiff:
    """Every added and removed row and every changed cell from instance ``a`` to ``b``."""
    ta, tb = _typed_tables(Path(a)), _typed_tables(Path(b))
    changes: list[RowChange] = []
    sides: dict[str, str] = {}
    for table in TABLES:
        name = table.name
        if name not in ta and name not in tb:
            continue
        if name not in ta:
            sides[name] = "added"
        elif name not in tb:
            sides[name] = "removed"
        ka, kb = _keyed(name, ta.get(name, [])), _keyed(name, tb.get(name, []))
        cols = [c for c in table.column_names if c not in (table.key or ())]
        for k, rb in kb.items():
            ra = ka.get(k)
            if ra is None:
                changes.append(RowChange(name, "added", k, None, rb.number, dict(rb.values)))
                continue
            cells = tuple(CellChange(c, ra[c], rb[c]) for c in cols if not _same(ra[c], rb[c]))
            if cells:
                changes.append(RowChange(name, "changed", k, ra.number, rb.number, dict(rb.values), cells))
        for k, ra in ka.items():
            if k not in kb:
                changes.append(RowChange(name, "removed", k, ra.number, None, dict(ra.values)))
    order = {"changed": 0, "added": 1, "removed": 2}
    changes.sort(key=lambda c: ([t.name for t in TABLES].index(c.table), order[c.kind],
                                c.row_b if c.row_b is not None else c.row_a or 0))
    return InstanceDiff(str(a), str(b), tuple(changes), sides)


# --------------------------------------------------------------------------- plans

def plan_from_report(path: Path) -> Any:
    """The plan in a solve report's "Plan" sheet (written by ``optimiser solve``; see
    :func:`optimiser.report.workbook.add_plan_file_sheet`), as a :class:`~optimiser.plan.Plan`."""
    from openpyxl import load_workbook  # noqa: PLC0415

    from .plan import Plan, PlanError  # noqa: PLC0415

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
        rows = [tuple(r) for r in wb["Plan"].iter_rows(values_only=True)]
        wb.close()
    except Exception as exc:  # noqa: BLE001 — any unreadable workbook is one line
        raise PlanError(f"{path}: cannot read the report's Plan sheet ({type(exc).__name__}: {exc})") from None
    facts: dict[str, Any] = {}
    deals, builds, tooling, scen, cat = [], [], [], {}, {}
    section = ""
    for r in rows:
        first = r[0] if r else None
        if first in ("item", "decision", "by"):
            section = first
            continue
        if first is None or len(r) < 3:
            continue
        if section == "item":
            facts[str(first)] = r[1]
        elif section == "decision":
            if first == "deal":
                deals.append(str(r[1]))
            elif first == "build":
                builds.append((str(r[1]), int(r[3])))
            elif first == "tooling":
                tooling.append((str(r[2]), str(r[1])))
        elif section == "by" and isinstance(r[2], (int, float)):
            (scen if first == "scenario" else cat)[str(r[1])] = float(r[2])
    if "instance" not in facts:
        raise PlanError(f"{path}: the report's Plan sheet holds no plan")
    number = (lambda v: float(v) if isinstance(v, (int, float)) else None)  # noqa: E731
    return Plan(str(facts["instance"]), str(facts.get("instance sha256") or ""), str(facts.get("strategy") or ""),
                None if facts.get("scenario") in (None, "all") else str(facts["scenario"]),
                tuple(x.strip() for x in str(facts.get("scenarios") or "").split(",") if x.strip()),
                str(facts.get("status") or ""), number(facts.get("npv")), number(facts.get("objective")),
                deals=tuple(deals), builds=tuple(builds), tooling=tuple(tooling), scenario_npv=scen,
                npv_by_category=cat, source=str(path))


def _is_report(path: Path) -> bool:
    """A workbook with the "Plan" and "Run record" sheets of a solve report."""
    from openpyxl import load_workbook  # noqa: PLC0415

    try:
        wb = load_workbook(path, read_only=True)
        names = set(wb.sheetnames)
        wb.close()
    except Exception:  # noqa: BLE001 — not a readable workbook: the instance reader says why
        return False
    return {"Plan", "Run record"} <= names


def diff_plans(a: str | Path, b: str | Path) -> PlanDiff:
    """Decisions in one plan (a plan file or a solve report) and not the other, in planner terms,
    and the KPI deltas."""
    from .plan import describe_difference, read_plan  # noqa: PLC0415

    def load(p: Path) -> Any:
        return read_plan(p) if p.suffix.lower() == ".json" else plan_from_report(p)

    pa, pb = load(Path(a)), load(Path(b))
    da, db = set(pa.decisions()), set(pb.decisions())
    kpis = {}
    pairs = [(k, getattr(pa, k), getattr(pb, k)) for k in ("npv", "objective")]
    for attr, label in (("scenario_npv", "npv in scenario"), ("npv_by_category", "npv category")):
        ka, kb = getattr(pa, attr), getattr(pb, attr)
        pairs += [(f"{label} {k}", ka.get(k), kb.get(k)) for k in sorted(set(ka) | set(kb))]
    for k, va, vb in pairs:
        kpis[k] = {"a": va, "b": vb, "delta": None if va is None or vb is None else vb - va}
    return PlanDiff(str(a), str(b), tuple(sorted(da - db)), tuple(sorted(db - da)), kpis,
                    tuple(describe_difference(pa, pb)))


def kind_of(path: str | Path) -> str:
    """``instance`` (CSV folder or workbook), ``plan`` (.json plan file, or a solve report: its Plan
    sheet) — or InputError, one line."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file or folder")
    if p.is_dir():
        return "instance"
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "plan" if _is_report(p) else "instance"
    if suffix == ".json":
        return "plan"
    raise InputError(f"{p}: neither an instance (.xlsx workbook or CSV folder) nor a plan file (.json)")


def diff(a: str | Path, b: str | Path) -> InstanceDiff | PlanDiff:
    """Diff two instances or two plan files (both of one kind)."""
    ka, kb = kind_of(a), kind_of(b)
    if ka != kb:
        raise InputError(f"cannot diff {a} ({'an ' + ka if ka == 'instance' else 'a ' + ka}) with {b} "
                         f"({'an ' + kb if kb == 'instance' else 'a ' + kb}): give two instances or two plan files")
    if ka == "plan":
        return diff_plans(a, b)
    try:
        return diff_instances(a, b)
    except InvalidInstance as exc:  # a reader problem (unreadable file): its first line
        first = next((p for p in exc.problems if p.severity == "error"), None)
        raise InputError(str(first) if first else str(exc)) from None
