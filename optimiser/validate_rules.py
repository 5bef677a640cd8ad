"""The validator's rules across the whole instance: a way to market, the share target, unused ids,
economics, decision years and the sensitivity table.

Run after the per-table checks of :mod:`optimiser.validate_tables`, on what they return. Rules that
need whole tables are skipped while one of their tables has bad rows (:meth:`Context.clean`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .cells import shown
from .changes import check_sensitivity_rows
from .data import Demand, Routing
from .validate_context import Context


def check_reach(c: Context, routings: dict[tuple[str, str], Routing], demand: dict[tuple[str, str, int], Demand],
                logistics: dict[tuple[str, str], Any] | None) -> dict[str, list[str]]:
    """A must_serve programme with demand has a routing; must_serve or committed demand in a market
    has a factory that builds the programme and a logistics route there. Returns the lines of each programme."""
    out, programmes, markets, lines = c.out, c.programmes, c.markets, c.lines
    lines_of = defaultdict(list)
    for (pid, lid) in routings:
        lines_of[pid].append(lid)
    routable_known = c.clean("routings", "lines")
    for pid, r in programmes.items():
        if r["must_serve"] and not lines_of.get(pid) and routable_known:
            has_demand = any(k[0] == pid and d.volume > 0 for k, d in demand.items())
            if has_demand:
                out.error("programmes", r.number, "must_serve", f"must_serve programme {shown(pid)} has no line it can be built on (no routing)")
    reported = set()
    for table, r in [("demand", r) for r in c.rows("demand")] + [("scenario_demand", r) for r in c.rows("scenario_demand")]:
        pid, mid = r["programme_id"], r["market_id"]
        p = programmes.get(pid)
        if p is None or mid not in markets or (pid, mid) in reported:
            continue
        if table == "scenario_demand" and p["must_serve"] and (r["volume"] or 0) > 0:
            fy, ly = c.programme_years(p)
            if r["year"] is not None and not fy <= r["year"] <= ly:
                out.error(table, r.number, "year", f"must_serve demand of {shown(pid)} in {r['year']}, but the programme "
                                                   f"is only built in {fy}–{ly}")
                continue
        needs = (p["must_serve"] and (r["volume"] or 0) > 0) or (r["min_volume"] or 0) > 0
        if not needs or not lines_of.get(pid) or not routable_known or not c.clean("logistics"):
            continue
        facs = {lines[lid]["factory_id"] for lid in lines_of[pid] if lid in lines}
        if logistics is not None and not any((f, mid) in logistics for f in facs):
            reported.add((pid, mid))
            what = "must_serve programme" if p["must_serve"] else "committed volume of"
            out.error(table, r.number, "market_id",
                      f"{what} {shown(pid)} has demand in {shown(mid)}, but no factory that can build it "
                      f"({', '.join(shown(f) for f in sorted(facs))}) has a logistics route to {shown(mid)}")
    return lines_of


def check_share_target(c: Context) -> None:
    """With a share_target, market_size has the target year and some programme counts_for_share."""
    if c.values.get("share_target") is None:
        return
    ms = {r["year"]: r["volume"] for r in c.rows("market_size")}
    if c.target_year not in ms and c.clean("market_size"):
        c.out.error("market_size", None, "year", f"share_target is set but market_size has no row for {c.target_year}")
    if not any(r["counts_for_share"] for r in c.programmes.values()) and "programmes" not in c.absent:
        c.out.warn("programmes", None, "counts_for_share", "share_target is set but no programme counts_for_share")


def check_unused(c: Context, routings: dict[tuple[str, str], Routing], lines_of: dict[str, list[str]]) -> None:
    """Warnings for ids referenced nowhere (rows with a bad cell count as references): a factory
    without lines, a market without demand, an option nothing needs, a programme without demand
    or without a routing, a line no programme can use."""
    out, ids, absent = c.out, c.ids, c.absent
    routable_known = c.clean("routings", "lines")
    used_factories = ids("lines", "factory_id")
    for fid, r in c.factories.items():
        if fid not in used_factories and "lines" not in absent:
            out.warn("factories", r.number, "factory_id", f"factory {shown(fid)} has no lines")
    used_markets = ids("demand", "market_id") | ids("scenario_demand", "market_id")
    for mid, r in c.markets.items():
        if mid not in used_markets and not {"demand", "scenario_demand"} & absent:
            out.warn("markets", r.number, "market_id", f"market {shown(mid)} has no demand")
    used_options = ids("lines", "requires_option") | ids("strategies", "option_id")
    for oid, r in c.options.items():
        if oid not in used_options and not {"lines", "strategies"} & absent:
            out.warn("options", r.number, "option_id", f"option {shown(oid)} is required by no line and named by "
                                                       "no strategy; taking it only costs money")
    comps = ids("bom", "component_id")
    demanded = ids("demand", "programme_id") | ids("scenario_demand", "programme_id")
    for pid, r in c.programmes.items():
        if pid not in demanded and pid not in comps and not {"demand", "scenario_demand", "bom"} & absent:
            out.warn("programmes", r.number, "programme_id", f"programme {shown(pid)} has no demand and is no component")
        if not lines_of.get(pid) and (pid in demanded or pid in comps) and not r["must_serve"] and routable_known:
            if not (pid in comps and r["external_price"] is not None):
                out.warn("programmes", r.number, "programme_id",
                         f"programme {shown(pid)} has no routing: it can never be built")
    routed_lines = {lid for (_, lid) in routings}
    for lid, r in c.lines.items():
        if lid not in routed_lines and routable_known and c.clean("programmes"):
            out.warn("lines", r.number, "line_id", f"no programme can be built on line {shown(lid)} (no routing)")


def check_economics(c: Context) -> None:
    """Ranges of economics.md that one column's bounds cannot say: tax_rate < 1, terminal_growth below
    discount_rate with a perpetuity, and a yearly outside price only for a programme that has one."""
    out, settings, srow, programmes = c.out, c.values, c.settings.rows, c.programmes
    tax = settings.get("tax_rate")
    if tax is not None and tax >= 1.0:
        out.error("settings", srow.get("tax_rate"), "value", f"tax_rate: {shown(tax)} must be below 1 (a fraction: 0.25 = 25 %)")
    rate, g = settings.get("discount_rate"), settings.get("terminal_growth") or 0.0
    if settings.get("terminal_value") == "perpetuity" and rate is not None and g >= rate:
        out.error("settings", srow.get("terminal_growth", srow.get("terminal_value")), "value",
                  f"terminal_growth {shown(g)} must be below discount_rate {shown(rate)} for a perpetuity "
                  "(else the value after the horizon is infinite)")
    for r in c.rows("prices"):
        pid = r["programme_id"]
        if r["external_price"] is not None and pid in programmes and programmes[pid]["external_price"] is None:
            out.error("prices", r.number, "external_price",
                      f"{shown(pid)} has an outside price in {r['year']} but no programmes.external_price: "
                      "give the outside price there too (it is what the other years pay)")


def check_decide_from(c: Context) -> None:
    """An option decided later is decided inside the horizon (default first_year + 1); a given
    decide_from lies inside the horizon."""
    first, last = c.first, c.last
    for oid, r in c.options.items():
        if r["decide"] == "later":
            when = r["decide_from"] if r["decide_from"] is not None else first + 1
            if not first <= when <= last:
                c.out.error("options", r.number, "decide_from",
                            f"option {shown(oid)} is decided later from {when}, outside the horizon {first}–{last}"
                            + ("" if r["decide_from"] is not None else " (the default is first_year + 1)"))
        elif r["decide_from"] is not None and not first <= r["decide_from"] <= last:  # (economics.md: bad input)
            c.out.error("options", r.number, "decide_from",
                        f"option {shown(oid)}: decide_from {r['decide_from']} is outside the horizon {first}–{last} "
                        "(it is only read with decide = later)")


def check_sensitivity(c: Context) -> None:
    """Each sensitivity row's parameter names existing numeric cells (:mod:`optimiser.changes`)."""
    if c.rows("sensitivity"):
        check_sensitivity_rows(c.rows("sensitivity"), c.everything, c.values,
                               lambda row, col, msg: c.out.error("sensitivity", row, col, msg), c.clean)
