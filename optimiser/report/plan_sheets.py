"""The Demand & shipments, Capacity value, Market share and Scenarios sheets of a solve's plan."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..numbers import whole
from ..results import NPV_CATEGORIES, WEIGHT_CATEGORIES, units_by_kind
from .context import Ctx
from .figures import headline, weighted
from .format import pct_words, short
from .sheet import Sheet, style_chart
from .style import RED, chart_anchor, money_unit
from .xlsx import Col


def demand_sheet(sh: Sheet, ctx: Ctx) -> None:
    res, cur, prob = ctx.results, ctx.cur, ctx.prob
    sh.title("Demand & shipments", "Demand by programme, market and year: what is served, what is left unmet, and "
                                   "the committed (minimum) volume; then the shipments from factories to markets. "
                                   + ctx.scen_note())
    d = res.demand.copy()
    mk = ctx.market_names
    if not d.empty:
        d["market"] = d["market_id"].map(mk).fillna(d["market_id"])
    cols = [c for c in ["scenario", "programme_id", "programme", "market_id", "market", "year", "demand", "committed",
                        "served", "unmet"] if c != "scenario" or ctx.multi]
    sh.heading("Demand")
    sh.frame(d, ctx.name("Demand"), cur, columns=cols, headers={"market": "market name"},
             empty_note="none: the instance has no demand")
    if not d.empty:
        sh.heading("By programme, all markets and years" + (" (expected over scenarios)" if ctx.multi else ""))
        bp = weighted(d, ["programme_id"], ["demand", "committed", "served", "unmet"], prob)
        names = {p.id: p.name for p in ctx.instance.programmes}
        order = {p.id: i for i, p in enumerate(ctx.instance.programmes)}
        rows = sorted(([x.programme_id, names.get(x.programme_id, x.programme_id), x.demand, x.committed, x.served,
                        x.unmet, (x.unmet / x.demand) if x.demand > 0 else None] for x in bp.itertuples()),
                      key=lambda r: order.get(r[0], len(order)))
        sh.table([Col("programme_id", "programme id"), Col("programme", "programme"), Col("demand", "demand", "units"),
                  Col("committed", "committed", "units"), Col("served", "served", "units"),
                  Col("unmet", "unmet", "units"), Col("unmet_share", "unmet %", "pct")], rows,
                 ctx.name("Demand_by_programme"))
    sh.heading("Shipments (factory → market)")
    s = res.shipments.copy()
    if not s.empty:
        s["factory"] = s["factory_id"].map(ctx.factory_names).fillna(s["factory_id"])
    sh.frame(s, ctx.name("Shipments"), cur,
             columns=[c for c in ["scenario", "programme_id", "programme", "factory_id", "factory", "market_id", "year",
                                  "units", "unit_price", "revenue", "freight", "duty"] if c != "scenario" or ctx.multi],
             empty_note="none: nothing is shipped")


def capacity_value_sheet(sh: Sheet, ctx: Ctx) -> None:
    from openpyxl.formatting.rule import ColorScaleRule  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    res, cur, inst = ctx.results, ctx.cur, ctx.instance
    cv = res.capacity_value.copy()
    sh.title("Capacity value", "Shadow price of capacity: what one more capacity unit on a line in a year would "
                               "add to NPV, with every build, deal and tooling decision kept as planned.")
    if cv.empty:
        sh.note("not available: the solver returned no capacity duals for this plan")
        return
    u = res.utilisation
    runs = {(str(s), str(l), int(t)): bool(a) for s, l, t, a in
            zip(u["scenario"], u["line_id"], u["year"], u["active"])} if not u.empty else {}
    cv["runs"] = [runs.get((str(s), str(l), int(t)), False) for s, l, t in zip(cv["scenario"], cv["line_id"], cv["year"])]
    cv = cv.sort_values(["shadow_price", "scenario", "line_id", "year"], ascending=[False, True, True, True],
                        ignore_index=True)
    live = cv[cv["runs"]]
    sh.note("How to read: an extra unit of capacity on line X in year T would add the value shown to NPV "
            "(money of year T); zero = the line has slack in that year.", italic=False)
    if not live.empty and float(live.iloc[0]["shadow_price"]) > 0.5:
        top = live.iloc[0]
        sh.note(f"For example: an extra unit of capacity on line {top['line_id']} in {int(top['year'])} would add "
                f"{whole(float(top['shadow_price']))} {cur} to NPV (money of {int(top['year'])})"
                + (f" in scenario {top['scenario']}" if ctx.multi else "") + ".", italic=False)
    else:
        sh.note("Every running line has slack in every year: more capacity there would add nothing.", italic=False)
    if not cv["runs"].all():
        sh.note("Rows where the line does not run (not built yet, deal not taken, retired) value capacity the plan "
                "cannot use as it stands: read them as a hint of what enabling that line would be worth.")
    sh.gap()
    # ---- compact view: line × year, probability-weighted, money of the year
    years = list(inst.years)
    sh.heading("Value of +1 capacity unit by line and year" + (" (expected over scenarios)" if ctx.multi else "")
               + f", {cur}, money of the year")
    pv = weighted(cv, ["line_id", "year"], ["shadow_price"], ctx.prob)
    val = {(str(l), int(t)): float(v) for l, t, v in zip(pv["line_id"], pv["year"], pv["shadow_price"])}
    fac = ctx.factory_names
    lines = [ln for ln in inst.lines if any((ln.id, t) in val for t in years)]
    cols = [Col("line_id", "line"), Col("factory", "factory")]
    cols += [Col(f"y{t}", str(t), "price") for t in years] + [Col("max", "highest", "price")]
    rows = []
    for ln in lines:
        vals = [val.get((ln.id, t)) for t in years]
        rows.append([ln.id, short(fac.get(ln.factory, ln.factory), 32), *vals,
                     max((v for v in vals if v is not None), default=None)])
    rows.sort(key=lambda r: (-(r[-1] or 0.0), r[0]))
    grid = sh.table(cols, rows, ctx.name("Capacity_value_grid"))
    if grid is not None:
        first, last = get_column_letter(grid.col(f"y{years[0]}")), get_column_letter(grid.col(f"y{years[-1]}"))
        grid.ws.conditional_formatting.add(
            f"{first}{grid.first_row}:{last}{grid.last_row}",
            ColorScaleRule(start_type="min", start_color="FFFFFF", end_type="max", end_color="63BE7B"))
    sh.heading("Every line-year" + (" and scenario" if ctx.multi else "") + ", highest first")
    sh.note("Range: the value holds while that line-year's capacity stays between 'holds from' and 'holds up to' "
            "(everything else as planned); outside it another constraint binds and the value changes. "
            "A blank upper end: it holds for any larger capacity.", italic=False)
    cv["factory"] = cv["factory_id"].map(fac).fillna(cv["factory_id"])
    has_range = "range_low" in cv.columns and cv["range_low"].notna().any()
    sh.frame(ctx.drop_scenario(cv), ctx.name("Capacity_value"), cur,
             columns=[c for c in ["scenario", "line_id", "factory", "year", "runs", "shadow_price", "shadow_price_npv",
                                  *(("capacity", "range_low", "range_high") if has_range else ())]
                      if c != "scenario" or ctx.multi],
             headers={"shadow_price": f"value of +1 unit ({cur})",
                      "shadow_price_npv": f"discounted to {inst.base_year} ({cur})",
                      "runs": "line runs", "capacity": "capacity available", "range_low": "holds from (capacity)",
                      "range_high": "holds up to (capacity)"},
             kinds={"runs": "bool", "capacity": "units", "range_low": "units", "range_high": "units"})


def market_share_sheet(sh: Sheet, ctx: Ctx) -> None:
    from openpyxl.chart import LineChart  # noqa: PLC0415

    inst, res = ctx.instance, ctx.results
    h = headline(inst, res)
    tgt = (f"target {pct_words(inst.share_target)} in {inst.share_target_year}"
           if inst.share_target is not None else "no share target set")
    sh.title("Market share", f"Units of programmes that count for share ÷ world EV market, by year; {tgt}. "
                             f"{h.share_year}: {h.share_words}.")
    ms = res.market_share
    sh.frame(ctx.drop_scenario(ms), ctx.name("Market_share"), ctx.cur,
                    columns=[c for c in ["scenario", "year", "units_counting", "market_size", "share", "target"]
                             if c != "scenario" or ctx.multi],
                    empty_note="none: no market share to show")
    if ms.empty or ms["share"].isna().all():
        if not ms.empty:
            sh.note("no world-market size given (market_size table): shares cannot be computed")
        return
    sh.heading("Chart data — share vs target")
    scen = list(ctx.prob)
    cols = [Col("year", "year", "year")]
    cols += [Col(f"s{i}", f"share ({s})" if ctx.multi else "share", "pct") for i, s in enumerate(scen)]
    if ctx.multi:
        cols.append(Col("expected", "share (expected)", "pct"))
    if inst.share_target is not None:
        cols.append(Col("target", f"target ({inst.share_target_year})", "pct"))
    look = {(str(s), int(t)): (None if pd.isna(v) else float(v)) for s, t, v in
            zip(ms["scenario"], ms["year"], ms["share"])}
    units = {(str(s), int(t)): float(v) for s, t, v in zip(ms["scenario"], ms["year"], ms["units_counting"])}
    rows = []
    for t in inst.years:
        row: list[Any] = [t] + [look.get((s, t)) for s in scen]
        if ctx.multi:
            size = inst.market_size.get(t)
            row.append(sum(ctx.prob[s] * units.get((s, t), 0.0) for s in scen) / size if size else None)
        if inst.share_target is not None:
            row.append(inst.share_target)
        rows.append(row)
    block = sh.table(cols, rows, ctx.name("Share_chart"))
    assert block is not None
    ctx.blocks["share_chart"] = block
    chart = LineChart()
    keys = [c.key for c in cols[1:]]
    chart.add_data(block.references(keys), titles_from_data=True)
    chart.set_categories(block.reference("year"))
    for s, k in zip(chart.series, keys):
        s.smooth = False
        if k == "target":
            s.graphicalProperties.line.solidFill = RED
            s.graphicalProperties.line.dashStyle = "dash"
        elif k == "expected":
            s.graphicalProperties.line.solidFill = "000000"
            s.graphicalProperties.line.width = 31750
        else:
            s.marker.symbol = "circle"
    style_chart(chart, "Share of the world EV market vs target", y_format="0%")
    chart.y_axis.scaling.min = 0
    chart_anchor(sh, chart, block)


def scenarios_sheet(sh: Sheet, ctx: Ctx) -> None:
    inst, res, cur = ctx.instance, ctx.results, ctx.cur
    r = res.run
    if ctx.multi:
        sub = (f"Stochastic solve: one plan of builds, deals and tooling for all {len(ctx.prob)} scenarios; "
               "production and shipments adapt to each. NPV on the Summary is the probability-weighted mean.")
    elif r.scenario:
        sub = f"Solved for scenario {r.scenario} alone (deterministic); the instance may have other scenarios."
    else:
        sub = "Deterministic solve: one scenario."
    sh.title("Scenarios", sub)
    sc = res.scenarios.copy()
    if not sc.empty:
        desc = {s.id: s.description for s in inst.scenarios}
        sc["description"] = sc["scenario"].map(desc).fillna("")
    sh.heading("Outcome per scenario")
    sh.frame(sc, ctx.name("Scenarios"), cur,
             columns=["scenario", "probability", "demand_factor", "price_factor", "npv", "utilisation", "description"],
             headers={"npv": f"NPV ({cur})"}, empty_note="none")
    sh.heading("Units per scenario and programme kind (kinds are never added together)")
    uk = units_by_kind(res, by_scenario=True)
    if not uk.empty:
        uk["unmet_share"] = [(u / d) if d > 0 else None for u, d in zip(uk["unmet"], uk["demand"])]
    sh.frame(uk, ctx.name("Scenario_units"), cur,
             columns=["scenario", "kind", "unit", "demand", "served", "unmet", "unmet_share", "made"],
             headers={"kind": "programme kind"}, kinds={"kind": "text", "unit": "text"}, empty_note="none")
    sh.heading(f"NPV by category and scenario ({money_unit(sh.wb, cur)}, discounted)")
    nb = res.npv_by_scenario
    if nb.empty:
        sh.note("none")
        return
    scen = [str(x) for x in nb["scenario"]]
    probs = [float(x) for x in nb["probability"]]
    cols = [Col("item", "item")] + [Col(f"s{i}", f"{x} ({cur})", "money") for i, x in enumerate(scen)]
    if ctx.multi:
        cols.append(Col("expected", f"expected ({cur})", "money"))
    rows = []
    for cat, label in [*NPV_CATEGORIES, ("npv", "NPV (cash)"), *WEIGHT_CATEGORIES, ("objective", "Objective")]:
        vals = [float(v) for v in nb[cat]]
        rows.append([label, *vals] + ([sum(p * v for p, v in zip(probs, vals))] if ctx.multi else []))
    sh.table(cols, rows, ctx.name("NPV_by_scenario"))
