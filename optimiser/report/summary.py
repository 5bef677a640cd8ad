"""The Summary sheet (KPIs, NPV waterfall, production vs demand charts) and the Decisions sheet (deals,
lines built, tooling); :func:`kpi_rows` also heads the one-sheet plan of a comparison workbook.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..data import Instance
from ..finance import finance
from ..numbers import money, whole
from ..results import Results
from .blocks import write_table
from .context import Ctx, kv_table
from .figures import KindUnits, headline, weighted
from .production import production_chart
from .sheet import Sheet, money_axis_format, style_chart
from .style import BLUE, GREEN, RED, beside_fits, label_series, money_unit, rows_for, style_of
from .xlsx import PERCENT, UNITS, Col, put, table_name

#: Columns (default width) the Summary's charts cover; their data goes to the right of them.
SUMMARY_CHART_COLUMNS = 13


def _strategy_words(instance: Instance, strategy: str) -> str:
    fix = instance.strategies.get(strategy)
    if not fix:
        return "every deal open: the optimiser chooses"
    take = sorted(o for o, v in fix.items() if v)
    forbid = sorted(o for o, v in fix.items() if not v)
    parts = ([f"take {', '.join(take)}"] if take else []) + ([f"forbid {', '.join(forbid)}"] if forbid else [])
    return "; ".join(parts) + "; other deals open"


def _joined(items: Sequence[str], limit: int = 6, more: str = "see Decisions") -> str:
    """Items one per line (the cell wraps), at most ``limit`` of them."""
    if not items:
        return "none"
    head = "\n".join(items[:limit])
    return head if len(items) <= limit else f"{head}\n… {len(items) - limit} more ({more})"


def kpi_rows(ctx: Ctx) -> list[tuple[str, Any, str | None, str]]:
    inst, res, cur = ctx.instance, ctx.results, ctx.cur
    h = headline(inst, res)
    r = res.run
    if r.scenario:
        scen, scen_d = r.scenario, "one scenario of the instance, solved alone"
    elif ctx.multi:
        scen = ", ".join(f"{s} ({p:.0%})" for s, p in ctx.prob.items())
        scen_d = f"stochastic: {len(ctx.prob)} scenarios, one plan of builds and deals for all"
    else:
        scen, scen_d = next(iter(ctx.prob)), "deterministic"
    gap = f"gap {r.gap:.2%}" if r.gap is not None else "gap unknown"
    bound = f"; best bound {money(r.best_bound, cur)}" if r.best_bound is not None else ""
    by_p = weighted(res.demand, ["kind", "programme_id"], ["unmet"], ctx.prob) if not res.demand.empty else None

    def top_unmet(k: KindUnits) -> str:
        if by_p is None or k.unmet <= 0.5:
            return ""
        mine = by_p[(by_p["kind"] == k.kind) & (by_p["unmet"] > 0.5)].sort_values(
            ["unmet", "programme_id"], ascending=[False, True])
        return "; most in " + ", ".join(f"{x.programme_id} ({whole(x.unmet)})" for x in mine.head(3).itertuples())

    unmet_rows: list[tuple[str, Any, str | None, str]] = [
        (f"Unmet demand ({k.unit})", k.unmet, UNITS,
         f"{k.unmet_share:.1%} of {k.demand:,.0f} {k.unit} demanded"
         + (" (expected over scenarios)" if ctx.multi else "") + top_unmet(k))
        for k in h.units if k.demand > 0]
    if not unmet_rows:
        unmet_rows = [("Unmet demand", None, None, "no demand")]
    rows: list[tuple[str, Any, str | None, str]] = [
        ("Instance", inst.name, None, f"{inst.first_year}–{inst.last_year}; money in {cur}, discounted to "
                                      f"{inst.base_year} at {inst.discount_rate:.1%} a year"),
        ("Strategy", r.strategy, None, _strategy_words(inst, r.strategy)),
        ("Scenario(s)", scen, None, scen_d),
        ("Solver status", r.status_words, None, gap + bound),
        (f"NPV ({cur})", r.npv, "money", ("cash, expected over scenarios" if ctx.multi else "cash net present value of the plan")
         + (f"; after {inst.tax_rate:.0%} tax" if inst.tax_rate else "")
         + ("" if inst.terminal_value == "none" else f"; terminal value: {inst.terminal_value}")),
        (f"Objective ({cur})", res.objective, "money", _objective_words(res, cur)),
        ("Deals taken", _joined(h.deals_taken), None,
         f"{len(h.deals_taken)} of {len(res.options)} deal(s) on offer" if len(res.options) else "no deals on offer"),
        ("Lines built", _joined(h.lines_built), None, f"{len(h.lines_built)} new line(s)"),
        ("Utilisation", h.utilisation, PERCENT,
         f"capacity-weighted over {h.active_line_years} active line-years" if h.utilisation is not None
         else "no line active"),
        *unmet_rows,
        (f"Market share {h.share_year}", h.share, PERCENT, h.share_words),
    ]
    if h.share_target is not None:
        kind = "hard constraint" if inst.share_penalty is None else f"soft: {inst.share_penalty:,.0f} {cur} per unit short"
        rows.append(("Share target", h.share_target, PERCENT, f"in {h.share_year}; {kind}"))
    fin = finance(res.cash_flow, ctx.prob)
    rows += [("IRR", fin.irr, PERCENT, "of the expected free cash flow (terminal value in the last year)"
              if fin.irr is not None else "not defined: the cash flow never changes sign"),
             ("Payback year", fin.payback_year, None, "from when the cumulative expected cash stays ≥ 0"
              if fin.payback_year is not None else "the cumulative expected cash ends below 0"),
             (f"Peak funding need ({cur})", fin.peak_funding, "money", "deepest point of the cumulative expected cash")]
    return rows


def _objective_words(res: Results, cur: str) -> str:
    """What the solver maximised, with the weights in words."""
    weights = [(v, w) for v, w in ((res.unmet_penalty_cost, "unmet-demand penalty"),
                                   (res.target_penalty, "share-target penalty")) if v]
    if not weights:
        return "what was optimised: equal to the NPV (no penalty weights in this plan)"
    return "what was optimised: NPV " + " ".join(f"− {money(v, cur)} {w}" for v, w in weights) + " (weights, not cash)"

def summary_sheet(sh: Sheet, ctx: Ctx) -> None:
    from openpyxl.chart import BarChart  # noqa: PLC0415

    res, cur = ctx.results, ctx.cur
    sh.title(f"{ctx.instance.name} — {res.run.strategy}: the plan on one page",
             "NPV, its make-up, the deals and lines chosen, how full the lines run and what demand is left. "
             + ctx.scen_note())
    # Narrow value and detail columns (text wraps): the charts beside them start within the first screen.
    ctx.blocks["kpi"] = kv_table(sh, kpi_rows(ctx), ctx.name("Summary"), widths=((16, 30), (42, 42)))
    sh.heading(f"NPV breakdown ({money_unit(sh.wb, cur)}, discounted{', expected over scenarios' if ctx.multi else ''})")
    br = res.npv_breakdown.rename(columns={"label": "item"})
    bd = sh.frame(br, ctx.name("NPV_breakdown"), cur, columns=["item", "value", "category"],
                  headers={"value": f"NPV ({cur})"}, kinds={"category": "text"})
    if bd is not None:
        ctx.blocks["breakdown"] = bd
    # ---- waterfall (stacked columns with an invisible base); plain bars if the running total dips below 0
    items = [(str(x.label), float(x.value)) for x in res.npv_breakdown.itertuples() if abs(float(x.value)) >= 0.5]
    total = sum(v for _, v in items)
    running, ok, rows = 0.0, True, []
    for label, v in items:
        after = running + v
        if running < -1e-6 or after < -1e-6:
            ok = False
        # blank, not 0, where a bar has no part: no empty label ("0.0") sits on the chart
        rows.append([label, min(running, after), v if v > 0 else None, -v if v < 0 else None, None])
        running = after
    rows.append(["NPV", 0.0, None, None, total])
    ok = ok and total >= 0
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    kpi = ctx.blocks.get("kpi")
    anchor_col = (kpi.last_col + 2) if kpi is not None else 5
    # Charts go beside the KPIs when they start within the first screen, else under the NPV breakdown.
    beside = beside_fits(sh.ws, anchor_col)
    if not beside:
        anchor_col = 1
    anchor = get_column_letter(anchor_col)
    # Charts take about 12 default-width columns; the waterfall's data sits to their right, outside the print area.
    data_col = max(anchor_col + SUMMARY_CHART_COLUMNS + 1, (kpi.last_col + 2) if kpi is not None else 5)
    if beside:
        data_col = anchor_col + SUMMARY_CHART_COLUMNS + 1
    row = 4 if beside else sh.row
    if items:
        cols = [Col("item", "item"), Col("start", f"start ({cur})", "money"), Col("increase", f"increase ({cur})", "money"),
                Col("decrease", f"decrease ({cur})", "money"), Col("total", f"total ({cur})", "money")]
        head_row = kpi.header_row if kpi is not None else sh.row
        from openpyxl.styles import Font  # noqa: PLC0415

        put(sh.ws, head_row - 1, data_col, "Chart data — NPV waterfall").font = Font(bold=True, size=12)
        wf = write_table(sh.ws, head_row, data_col, cols, rows, table_name(sh.wb, ctx.name("NPV_waterfall")))
        ctx.blocks["waterfall"] = wf
        chart = BarChart()
        chart.type = "col"
        chart.gapWidth = 50
        labels = style_of(sh.wb).label_format if style_of(sh.wb) is not None else "#,##0;-#,##0;;"
        if ok:  # waterfall: an invisible base under the rises, falls and the final total
            chart.grouping = "stacked"
            chart.overlap = 100
            chart.add_data(wf.references(["start", "increase", "decrease", "total"]), titles_from_data=True)
            chart.set_categories(wf.reference("item"))
            for s, colour in zip(chart.series, [None, GREEN, RED, BLUE]):
                if colour is None:
                    s.graphicalProperties.noFill = True
                    s.graphicalProperties.line.noFill = True
                else:
                    s.graphicalProperties.solidFill = colour
                    s.graphicalProperties.line.solidFill = colour
                    label_series(s, labels)  # every bar carries its figure: a small NPV stays readable
        else:  # the running total goes below zero: signed bars of the breakdown itself
            assert bd is not None
            chart.add_data(bd.reference("value", with_header=True), titles_from_data=True)
            chart.set_categories(bd.reference("item"))
            chart.series[0].invertIfNegative = False
            chart.series[0].graphicalProperties.solidFill = BLUE
            label_series(chart.series[0], labels)
            chart.x_axis.tickLblPos = "low"  # labels under the plot, not on the zero line
        unit = money_unit(sh.wb, cur)
        scale = 1e6 if unit != cur else 1.0
        style_chart(chart, f"NPV make-up ({unit}): NPV {total / scale:,.{1 if scale > 1 else 0}f}", y_title=unit,
                    width=20, height=10,
                    y_format="#,##0,," if scale > 1 else money_axis_format(
                        [abs(v) for v in (*(r[1] + (r[2] or 0) + (r[3] or 0) + (r[4] or 0) for r in rows),
                                          *(v for _, v in items))]))
        chart.legend = None
        sh.ws.add_chart(chart, f"{anchor}{row}")
        row = row + rows_for(sh.ws, row, 10.0) + 2
    i = 0
    while (prod := ctx.blocks.get(f"production_by_year:{i}")) is not None:  # one chart per programme kind
        sh.ws.add_chart(production_chart(ctx, prod, ctx.units[f"production_by_year:{i}"]), f"{anchor}{row}")
        row = row + rows_for(sh.ws, row, 10.0) + 2
        i += 1
    if not beside:
        sh.row = row
    sh.ws.print_area = f"A1:{get_column_letter(data_col - 2)}{max(sh.row, 46, row)}"

def decisions_sheet(sh: Sheet, ctx: Ctx) -> None:
    res, cur, inst = ctx.results, ctx.cur, ctx.instance
    sh.title("Decisions", "The deals taken, the lines built and the programmes tooled on each line.")
    sh.heading("Deals (options)")
    sh.frame(res.options, ctx.name("Options"), cur,
             columns=["option_id", "name", "counterparty", "kind", "exclusive_group", "strategy", "taken",
                      "upfront_cost", "annual_cost"],
             headers={"strategy": "strategy says", "annual_cost": f"annual cost ({cur} a year)"},
             empty_note="none: the instance offers no deals")
    per_s = ["scenario"] if "scenario" in res.lines_built.columns else []
    if not res.option_years.empty:
        sh.heading("Deals decided later: the year each scenario takes them (blank: never)")
        sh.frame(res.option_years, ctx.name("Option_years"), cur, columns=["option_id", "scenario", "year_taken"],
                 headers={"year_taken": "year taken"}, kinds={"year_taken": "year"})
    sh.heading("Lines built")
    sh.frame(res.lines_built, ctx.name("Lines_built"), cur,
             columns=["line_id", "factory_id", "factory", "line_type", "build_year", "ready_year", "build_cost",
                      "capacity", *per_s],
             headers={"scenario": "scenario (a later deal's line)"},
             empty_note="none: no new line is built")
    built = set(res.lines_built["line_id"]) if not res.lines_built.empty else set()
    cand = [ln for ln in inst.lines if ln.is_candidate and ln.id not in built]
    if cand:
        sh.heading("Candidate lines not built")
        fac = ctx.factory_names
        sh.table([Col("line_id", "line"), Col("factory", "factory"), Col("line_type", "line type"),
                  Col("capacity", "capacity", "units"), Col("build_cost", f"build cost ({cur})", "money"),
                  Col("lead_time", "lead time (years)", "int"), Col("requires_option", "requires deal")],
                 [[ln.id, fac.get(ln.factory, ln.factory), ln.line_type, ln.capacity, ln.build_cost, ln.lead_time,
                   ln.requires_option or ""] for ln in cand], ctx.name("Lines_not_built"))
    sh.heading("Tooling (programme × line)")
    sh.frame(res.tooling, ctx.name("Tooling"), cur,
             columns=["programme_id", "programme", "line_id", "factory_id", "tooling_year", "tooling_cost", *per_s],
             headers={"scenario": "scenario (a later deal's line)"},
             empty_note="none: no programme is tooled on any line")
