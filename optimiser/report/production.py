"""The Production sheet (production table, production vs demand by year per programme kind with its
chart) and the Utilisation sheet (heat map, by line, by year and kind of line, every line-year).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..results import UNIT_OF_KIND
from .context import Ctx
from .figures import line_kinds, weighted
from .format import short, table_prefix
from .sheet import Sheet, style_chart
from .style import BLUE, GREY, chart_anchor, label_series
from .xlsx import Block, Col

#: Above this many programmes sold to markets, the production chart stacks by programme kind.
MAX_CHART_SERIES = 8


def production_chart(ctx: Ctx, block: Block, unit: str) -> Any:
    """Stacked columns of one programme kind's production by programme, with its demand as a line."""
    from openpyxl.chart import BarChart, LineChart  # noqa: PLC0415

    series = [k for k in block.keys if k.startswith("s")]
    bar = BarChart()
    bar.type = "col"
    bar.grouping = "stacked"
    bar.overlap = 100
    bar.add_data(block.references(series), titles_from_data=True)
    bar.set_categories(block.reference("year"))
    line = LineChart()
    line.add_data(block.reference("demand", with_header=True), titles_from_data=True)
    line.set_categories(block.reference("year"))
    s = line.series[0]
    s.graphicalProperties.line.solidFill = "000000"
    s.graphicalProperties.line.width = 28575
    s.marker.symbol = "circle"
    s.smooth = False
    what = f"expected {unit}" if ctx.multi else unit
    style_chart(bar, f"Production vs demand by year ({what})", y_title=unit, y_format="#,##0", width=20, height=10)
    bar += line
    return bar

def production_by_year_rows(ctx: Ctx) -> list[tuple[str, str, list[Col], list[list[Any]]]]:
    """Per programme kind (units of different kinds are never added): year × programme expected units
    of the programmes sold to markets, their total, demand and unmet.

    Returns ``[(kind, unit, columns, rows)]`` in :data:`~optimiser.results.KINDS` order. A kind with
    more than :data:`MAX_CHART_SERIES` programmes shows its largest ones and the rest as one series.
    """
    inst, res, prob = ctx.instance, ctx.results, ctx.prob
    progs = {p.id: p for p in inst.programmes}
    with_demand = set(res.demand["programme_id"]) if not res.demand.empty else set()
    sold = [p.id for p in inst.programmes if p.id in with_demand]
    if not sold:
        sold = [p.id for p in inst.programmes]
    prod = weighted(res.production, ["programme_id", "year"], ["units"], prob)
    made = {(str(a), int(b)): float(u) for a, b, u in zip(prod["programme_id"], prod["year"], prod["units"])}
    dem = weighted(res.demand, ["kind", "year"], ["demand", "unmet"], prob)
    dmap = {(str(k), int(y)): (float(d), float(u)) for k, y, d, u in zip(dem["kind"], dem["year"], dem["demand"],
                                                                           dem["unmet"])}
    order = [k for k in UNIT_OF_KIND if any(progs[p].kind == k for p in sold)]
    order += sorted({progs[p].kind for p in sold} - set(order))
    out = []
    for kind in order:
        members = [p for p in sold if progs[p].kind == kind]
        if len(members) > MAX_CHART_SERIES:
            size = {p: sum(made.get((p, t), 0.0) for t in inst.years) for p in members}
            top = sorted(members, key=lambda p: (-size[p], members.index(p)))[: MAX_CHART_SERIES - 1]
            groups = [(progs[p].name or p, [p]) for p in members if p in top]
            groups.append((f"other {kind} programmes", [p for p in members if p not in top]))
        else:
            groups = [(progs[p].name or p, [p]) for p in members]
        unit = UNIT_OF_KIND.get(kind, "units")
        cols = [Col("year", "year", "year")]
        cols += [Col(f"s{i}", label, "units") for i, (label, _) in enumerate(groups)]
        cols += [Col("total", f"total made ({unit})", "units"), Col("demand", "demand", "units"),
                 Col("unmet", "unmet", "units")]
        rows = []
        for t in inst.years:
            vals = [sum(made.get((p, t), 0.0) for p in ps) for _, ps in groups]
            d, u = dmap.get((kind, t), (0.0, 0.0))
            rows.append([t, *vals, sum(vals), d, u])
        out.append((kind, unit, cols, rows))
    return out


def production_by_year_name(ctx: Ctx, index: int, kind: str) -> str:
    """Table name of a kind's production-by-year block (the first kind keeps the plain name)."""
    return ctx.name("Production_by_year" if index == 0 else f"Production_by_year_{table_prefix(kind)}")


def production_sheet(sh: Sheet, ctx: Ctx) -> None:
    res, cur = ctx.results, ctx.cur
    sh.title("Production", "Units made of each programme on each line and year. " + ctx.scen_note())
    sh.frame(ctx.drop_scenario(res.production), ctx.name("Production"), cur,
                    columns=[c for c in ["scenario", "programme_id", "programme", "kind", "line_id", "factory_id",
                                         "factory", "year", "units", "capacity_used"]
                             if c != "scenario" or ctx.multi],
                    empty_note="nothing is produced")
    for i, (kind, unit, cols, rows) in enumerate(production_by_year_rows(ctx)):
        sh.heading(f"Production vs demand by year, {unit}" + (" (expected)" if ctx.multi else "")
                   + " — programmes sold to markets")
        block = sh.table(cols, rows, production_by_year_name(ctx, i, kind))
        if block is None:
            continue
        ctx.blocks[f"production_by_year:{i}"] = block
        ctx.units[f"production_by_year:{i}"] = unit
        chart_anchor(sh, production_chart(ctx, block, unit), block)  # beside or under its own table
    if not res.components.empty:
        sh.heading("Components: needed by parents, made inside, bought outside")
        sh.frame(ctx.drop_scenario(res.components), ctx.name("Components"), cur)


def utilisation_sheet(sh: Sheet, ctx: Ctx) -> None:
    from openpyxl.chart import BarChart  # noqa: PLC0415
    from openpyxl.formatting.rule import ColorScaleRule  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    inst, res, prob = ctx.instance, ctx.results, ctx.prob
    u = res.utilisation
    sh.title("Utilisation", "Capacity used ÷ capacity available on each active line and year (blank = line not "
                            "running). Capacity is in each line's own units (e.g. line-hours). " + ctx.scen_note())
    sh.freeze_cols = 3 if ctx.multi else 2
    if u.empty:
        sh.note("none: no line can run in the horizon")
        return
    years = list(inst.years)
    sh.heading("Heat map: utilisation by line and year")
    cols = ([Col("scenario", "scenario")] if ctx.multi else []) + [Col("line_id", "line"), Col("factory", "factory")]
    cols += [Col(f"y{t}", str(t), "pct") for t in years] + [Col("all", "all years", "pct")]
    rows = []
    keyed = {(str(s), str(l), int(t)): (bool(a), float(c), float(x)) for s, l, t, a, c, x in
             zip(u["scenario"], u["line_id"], u["year"], u["active"], u["capacity"], u["used"])}
    pairs = u[["scenario", "line_id", "factory"]].drop_duplicates()
    order = {s: i for i, s in enumerate(prob)}
    pairs = sorted(((str(s), str(l), str(f)) for s, l, f in pairs.itertuples(index=False, name=None)),
                   key=lambda x: (order.get(x[0], len(order)), x[1]))
    idle: list[str] = []
    for s, l, f in pairs:
        vals, cap_sum, used_sum, runs = [], 0.0, 0.0, False
        for t in years:
            a, c, x = keyed.get((s, l, t), (False, 0.0, 0.0))
            vals.append((x / c) if a and c > 0 else None)
            if a:
                runs = True
                cap_sum += c
                used_sum += x
        if not runs:
            if l not in idle:
                idle.append(l)
            continue
        rows.append(([s] if ctx.multi else []) + [l, short(f, 32), *vals,
                                                  (used_sum / cap_sum) if cap_sum > 0 else None])
    ran = {r[1] if ctx.multi else r[0] for r in rows}
    idle = [l for l in idle if l not in ran]
    heat = sh.table(cols, rows, ctx.name("Utilisation_heatmap"), empty_note="none: no line runs in any year")
    if idle:
        sh.row -= 1
        sh.note(f"Lines that never run (not built, or their deal not taken): {', '.join(sorted(idle))}"
                + (" — in some scenarios others idle too (blank rows left out)." if ctx.multi else "."))
        sh.gap()
    if heat is not None:
        ctx.blocks["heatmap"] = heat
        first, last = get_column_letter(heat.col(f"y{years[0]}")), get_column_letter(heat.col("all"))
        heat.ws.conditional_formatting.add(
            f"{first}{heat.first_row}:{last}{heat.last_row}",
            ColorScaleRule(start_type="num", start_value=0, start_color="FFFFFF",
                           mid_type="num", mid_value=0.7, mid_color="FFEB84",
                           end_type="num", end_value=1, end_color="F8696B"))
        for j in range(heat.col(f"y{years[0]}"), heat.col("all") + 1):
            heat.ws.column_dimensions[get_column_letter(j)].width = 8

    # ---- by line (expected, all active years) → bar chart
    act = u[u["active"].astype(bool)]
    sh.heading("By line: all active years" + (" (expected over scenarios)" if ctx.multi else ""))
    by_line = weighted(act, ["line_id", "factory", "line_type"], ["capacity", "used"], prob)
    yrs = act.groupby("line_id")["year"].nunique() if not act.empty else pd.Series(dtype=int)
    bl_rows = [[f"{x.line_id} ({short(x.factory)})", x.line_id, x.factory, x.line_type, int(yrs.get(x.line_id, 0)),
                x.capacity, x.used, (x.used / x.capacity) if x.capacity > 0 else 0.0]
               for x in by_line.itertuples()]
    bl = sh.table([Col("label", "line (factory)"), Col("line_id", "line"), Col("factory", "factory"),
                   Col("line_type", "line type"), Col("years", "active years", "int"),
                   Col("capacity", "capacity", "units"), Col("used", "used", "units"),
                   Col("utilisation", "utilisation", "pct")], bl_rows, ctx.name("Utilisation_by_line"),
                  empty_note="none: no line is active in any year")
    if bl is not None:
        ctx.blocks["by_line"] = bl
        chart = BarChart()
        chart.type = "bar"
        chart.add_data(bl.reference("utilisation", with_header=True), titles_from_data=True)
        chart.set_categories(bl.reference("label"))
        chart.y_axis.scaling.min = 0
        if all(r[-1] <= 1.0 + 1e-9 for r in bl_rows):
            chart.y_axis.scaling.max = 1
        chart.x_axis.scaling.orientation = "maxMin"  # first line on top, as in the table
        chart.series[0].graphicalProperties.solidFill = BLUE
        label_series(chart.series[0], "0%")
        style_chart(chart, "Utilisation by line (all active years)", y_format="0%",
                    height=max(7.0, 1.0 + 0.7 * bl.n_rows))
        chart.legend = None
        chart_anchor(sh, chart, bl, beside=False)  # the long table below widens the columns: under
    # ---- by year and kind of line → capacity vs used, one table and chart per kind (never added across kinds)
    line_kind = line_kinds(inst)
    act = act.assign(line_kind=act["line_id"].map(line_kind).fillna("no programme"))
    kinds = [k for k in (*UNIT_OF_KIND, "mixed", "no programme") if k in set(act["line_kind"])]
    for i, kind in enumerate(kinds):
        sh.heading(f"By year: active {_kind_lines(kind)}" + (" (expected over scenarios)" if ctx.multi else ""))
        by_year = weighted(act[act["line_kind"] == kind], ["year"], ["capacity", "used"], prob)
        by_year_rows = [[int(x.year), x.capacity, x.used, (x.used / x.capacity) if x.capacity > 0 else 0.0]
                        for x in by_year.itertuples()]
        name = "Utilisation_by_year" if i == 0 else f"Utilisation_by_year_{table_prefix(kind)}"
        block = sh.table([Col("year", "year", "year"), Col("capacity", "capacity", "units"),
                          Col("used", "used", "units"), Col("utilisation", "utilisation", "pct")], by_year_rows,
                         ctx.name(name), empty_note="none: no line is active in any year")
        if block is None:
            continue
        if "by_year" not in ctx.blocks:
            ctx.blocks["by_year"] = block
        chart = BarChart()
        chart.type = "col"
        chart.add_data(block.references(["capacity", "used"]), titles_from_data=True)
        chart.set_categories(block.reference("year"))
        chart.series[0].graphicalProperties.solidFill = GREY
        chart.series[1].graphicalProperties.solidFill = BLUE
        style_chart(chart, f"Capacity available vs used by year — {_kind_lines(kind)}",
                    y_title="capacity units", y_format="#,##0", height=7.5)
        chart_anchor(sh, chart, block, beside=False)
    sh.heading("All line-years")
    sh.frame(ctx.drop_scenario(u), ctx.name("Utilisation"), ctx.cur)

def _kind_lines(kind: str) -> str:
    """``vehicle`` → ``vehicle lines``; ``mixed`` → ``lines making several kinds``."""
    return {"mixed": "lines making several kinds of programme",
            "no programme": "lines no programme is routed to"}.get(kind, f"{kind} lines")
