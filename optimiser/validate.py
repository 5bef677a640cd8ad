"""Validation: raw tables → :class:`~optimiser.data.Instance`, or every problem at once.

Each problem names table, row (as the planner sees it) and column. Checks run
in layers — structure, cell types and ranges, keys (:mod:`optimiser.tables`), references and
each table's rows (:mod:`optimiser.validate_tables`), rules across the instance
(:mod:`optimiser.validate_rules`) — and all problems of all layers are collected before one
:class:`~optimiser.errors.InvalidInstance` is raised. This module runs the layers in order and
builds the instance.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

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
from .readers import RawTables, read_instance_tables
from .schema import TABLES, TABLES_BY_NAME
from .tables import Collector, Row, Settings, check_keys, good_rows, parse_settings, parse_table
from .validate_context import Context, context
from .validate_rules import (
    check_decide_from,
    check_economics,
    check_reach,
    check_sensitivity,
    check_share_target,
    check_unused,
)
from .validate_tables import (
    check_lines,
    check_programmes,
    check_references,
    collect_bom,
    collect_demand,
    collect_logistics,
    collect_routings,
    collect_scenarios,
    collect_strategies,
)


def validate(raw: RawTables) -> tuple[Instance, tuple[Problem, ...]]:
    """Validate raw tables; return the instance and its warnings, or raise InvalidInstance."""
    out = Collector(raw.problems)
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
        rows = parse_table(rt, table, out, missing)
        if missing:
            incomplete.add(name)
        if name != "settings":  # settings keys are compared ignoring case in parse_settings
            check_keys(table, rows, out)
        if table.required and name not in ("settings", "demand") and not rt.rows and not missing:
            out.error(name, None, None, f"required table {name} has no rows")
        parsed[name] = rows
    present = {n: good_rows(r) for n, r in parsed.items()}
    instance = None
    if "settings" in present:
        settings = parse_settings(parsed["settings"], out)
        instance = _cross_checks(raw, settings, present, parsed, incomplete, out)
    problems = tuple(out.problems)
    if out.has_errors or instance is None:
        raise InvalidInstance(problems)
    return instance, problems


def _cross_checks(raw: RawTables, settings: Settings, t: dict[str, list[Row]],
                  everything: dict[str, list[Row]], incomplete: set[str], out: Collector) -> Instance | None:
    """Cross-table rules on the good rows ``t``; ``everything`` also has the rows with a bad cell.

    Ids of rows with a bad cell still count as existing and as used, so one bad
    cell gives one problem, not a trail of "unknown …" and "… is unused" after it.
    Rules that need whole tables are skipped while one of their tables has bad rows,
    and references into a table that is missing or lacks a required column are not checked.
    The instance is built only when no error was found.
    """
    c = context(raw, settings, t, everything, incomplete, out)
    check_references(c)
    line_types = check_lines(c)
    check_programmes(c)
    routings = collect_routings(c, line_types)
    demand = collect_demand(c)
    scenarios = collect_scenarios(c)
    bom = collect_bom(c)
    strategies = collect_strategies(c)
    logistics = collect_logistics(c)
    lines_of = check_reach(c, routings, demand, logistics)
    check_share_target(c)
    check_unused(c, routings, lines_of)
    check_economics(c)
    check_decide_from(c)
    check_sensitivity(c)
    if out.has_errors:
        return None
    return _build(c, routings, demand, scenarios, bom, strategies, logistics)


def _build(c: Context, routings: dict[tuple[str, str], Routing], demand: dict[tuple[str, str, int], Demand],
           scenarios: list[Scenario], bom: dict[tuple[str, str], float], strategies: dict[str, dict[str, bool]],
           logistics: dict[tuple[str, str], Any] | None) -> Instance:
    """The instance of checked tables: blanks take their defaults (a line available from first_year,
    a programme's years clipped to the horizon, its unmet penalty the default one)."""
    settings, first, last, t = c.values, c.first, c.last, c.good
    lines, programmes, factories, markets, options = c.lines, c.programmes, c.factories, c.markets, c.options
    base_year, target_year, share_target, raw = c.base_year, c.target_year, settings.get("share_target"), c.raw
    rows = c.rows

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


def fingerprint(tables: dict[str, list[Row]]) -> str:
    """sha256 of the canonical typed tables (row order, `source` and unknown columns excluded)."""
    canon = {}
    for name in sorted(tables):
        cols = TABLES_BY_NAME[name].column_names
        canon[name] = sorted(json.dumps([r[c] for c in cols], default=str) for r in tables[name])
    return hashlib.sha256(json.dumps(canon, sort_keys=True).encode()).hexdigest()


def load_instance(path: Any) -> tuple[Instance, tuple[Problem, ...]]:
    """Read and validate the instance at ``path`` (workbook or CSV folder)."""
    return validate(read_instance_tables(path))
