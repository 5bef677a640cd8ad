"""The management Excel report of one solve, and reusable plan sheets for other workbooks.

Reads only the result tables (:class:`~optimiser.results.Results`) and the
validated instance; never Pyomo or the model. Sheets, in order:

1. **Summary** — the answer on one screen (KPIs, NPV waterfall, production vs demand)
2. **Decisions** — deals (options), lines built, tooling
3. **Production** — programme × line × year (+ components, + yearly totals for the chart)
4. **Utilisation** — line × year heat map, by line, by year, and the long table
5. **Demand & shipments** — demand served / unmet per programme, market, year; shipments
6. **Capacity value** — shadow price of one more capacity unit per line-year
7. **Market share** — trajectory vs the target
8. **Scenarios** — probability, NPV, demand, unmet, utilisation per scenario
9. **Inputs** — every instance table as read (``source`` column included)
10. **Run record** — command, options, versions, timings, sizes; the only timestamp

Public building blocks (the comparison workbook uses the same code):

* :func:`write_report` — the whole report, written atomically.
* :func:`build_report` — the same workbook, not saved (tests, previews).
* :func:`add_plan_sheets` — sheets 1–8 of one solve into any workbook, with a
  sheet-name ``prefix`` (e.g. one set of sheets per strategy).
* :func:`add_plan_sheet` — one compact sheet with a solve's whole plan (KPIs,
  NPV breakdown, deals, lines built, tooling, production by year): "one sheet
  per strategy with its plan".
* :func:`add_inputs_sheet`, :func:`add_run_record_sheet` — sheets 9 and 10.
* :func:`headline` — the Summary's numbers as a :class:`Headline` (one row of
  a comparison table).

Lower-level helpers (Tables, formats, safe text, atomic save) live in
:mod:`optimiser.excel`; the craft every workbook shares (money in millions with exact values,
print header/footer and titles, page breaks, chart placement and labels) in
:mod:`optimiser.report_style` — a new workbook writer calls :func:`~optimiser.report_style.set_style`
once and gets it all through :class:`~optimiser.excel.Sheet`. A table longer than an Excel sheet holds (1,048,576 rows: the
production rows of a large stochastic model, say) goes on over continuation sheets
(``Production (2)``, …) right after its own, each part under a note saying which rows it
holds (:class:`optimiser.excel.Sheet`).
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from . import __version__
from .data import Instance
from .excel import (
    MONEY,
    PERCENT,
    UNITS,
    Block,
    Col,
    Sheet,
    fit_row_heights,
    wrap_cell,
    put,
    write_table,
    save_workbook,
    sheet_title,
    money_axis_format,
    row_below,
    style_chart,
    table_name,
)
from .finance import expected_cash_flow, finance
from .report_style import chart_anchor, beside_fits, label_series, money_format, money_header, money_unit, rows_for, \
    set_style, style_of
from .numbers import money, whole
from .results import NPV_CATEGORIES, UNIT_OF_KIND, WEIGHT_CATEGORIES, Results, units_by_kind
from .writers import column_type

#: Sheet names in report order.
SHEETS = ("Summary", "Decisions", "Production", "Utilisation", "Demand & shipments", "Capacity value",
          "Market share", "Scenarios", "Cash flow", "Plan", "Inputs", "Run record")
#: The sheets that describe the plan (what :func:`add_plan_sheets` writes).
PLAN_SHEETS = SHEETS[:9]

#: Columns (default width) the Summary's charts cover; their data goes to the right of them.
SUMMARY_CHART_COLUMNS = 13
#: Above this many programmes sold to markets, the production chart stacks by programme kind.
MAX_CHART_SERIES = 8

_GREEN, _RED, _BLUE, _GREY = "70AD47", "C0504D", "4472C4", "A5A5A5"


# =========================================================================== headline numbers

@dataclass(frozen=True)
class Headline:
    """The Summary's numbers for one solve (probability-weighted over scenarios)."""

    instance: str
    strategy: str
    scenarios: tuple[str, ...]
    scenario: str | None
    status: str
    status_words: str
    npv: float | None
    best_bound: float | None
    gap: float | None
    deals_taken: tuple[str, ...]
    lines_built: tuple[str, ...]
    utilisation: float | None
    active_line_years: int
    #: Expected units per programme kind (never added across kinds), in :data:`KINDS` order.
    units: tuple["KindUnits", ...]
    share_year: int
    share: float | None
    share_target: float | None
    share_gap_points: float | None
    share_units_short: float | None
    currency: str

    @property
    def share_words(self) -> str:
        """E.g. ``2.1 % vs 10 % target — 7.9 pts short, 1,580 units``."""
        if self.share is None:
            return f"no world-market size given for {self.share_year}"
        if self.share_target is None:
            return f"{_pct_words(self.share)} of the world market in {self.share_year} (no target set)"
        head = f"{_pct_words(self.share)} vs {_pct_words(self.share_target)} target"
        assert self.share_gap_points is not None
        if self.share_gap_points > 1e-9:
            return (f"{head} — {self.share_gap_points * 100:.1f} pts short, "
                    f"{(self.share_units_short or 0.0):,.0f} units")
        return f"{head} — target met ({-self.share_gap_points * 100:+.1f} pts)".replace("+-", "+")


@dataclass(frozen=True)
class KindUnits:
    """Expected units of one programme kind: demanded, served, unmet, made (``unit`` names them)."""

    kind: str
    unit: str
    demand: float
    served: float
    unmet: float
    made: float

    @property
    def unmet_share(self) -> float | None:
        return self.unmet / self.demand if self.demand > 0 else None


def _pct_words(x: float) -> str:
    text = f"{x * 100:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + " %"


def _probabilities(res: Results) -> dict[str, float]:
    """Scenario → probability (equal weights if the scenarios table is missing)."""
    if not res.scenarios.empty:
        return {str(s): float(p) for s, p in zip(res.scenarios["scenario"], res.scenarios["probability"])}
    names = list(res.run.scenarios) or ["base"]
    return {s: 1.0 / len(names) for s in names}


def _weighted(df: pd.DataFrame, by: Sequence[str], values: Sequence[str], prob: dict[str, float]) -> pd.DataFrame:
    """Probability-weighted sums of ``values`` grouped by ``by`` (expected values over scenarios)."""
    if df.empty:
        return pd.DataFrame(columns=[*by, *values])
    d = df[[*by, *values, "scenario"]].copy()
    w = d["scenario"].map(prob).fillna(0.0).astype(float)
    for c in values:
        d[c] = d[c].astype(float) * w
    return d.groupby(list(by), sort=True)[list(values)].sum().reset_index()


def headline(instance: Instance, results: Results) -> Headline:
    """The headline numbers of a solve (what the Summary sheet and a comparison row show)."""
    r, res = results.run, results
    prob = _probabilities(res)
    u = res.utilisation[res.utilisation["active"].astype(bool)] if not res.utilisation.empty else res.utilisation
    util = None
    if not u.empty:
        w = u["scenario"].map(prob).fillna(0.0)
        cap = float((u["capacity"] * w).sum())
        util = float((u["used"] * w).sum()) / cap if cap > 0 else 0.0
    n_active = int(len(u[["line_id", "year"]].drop_duplicates())) if not u.empty else 0
    kind_units = tuple(KindUnits(str(x.kind), str(x.unit), float(x.demand), float(x.served), float(x.unmet), float(x.made))
                  for x in units_by_kind(res).itertuples())
    share_year = instance.share_target_year if instance.share_target is not None else instance.last_year
    share = gap_pts = short = None
    ms = res.market_share
    size = instance.market_size.get(share_year)
    if size and not ms.empty:
        m = ms[ms["year"] == share_year]
        units = float((m["units_counting"] * m["scenario"].map(prob).fillna(0.0)).sum())
        share = units / size
        if instance.share_target is not None:
            gap_pts = instance.share_target - share
            short = max(0.0, instance.share_target * size - units)
    taken = res.options[res.options["taken"].astype(bool)] if not res.options.empty else res.options
    deals = tuple(f"{x.option_id} — {x.name}" + (f" ({x.counterparty})" if x.counterparty else "")
                  for x in taken.itertuples())
    lines = tuple(f"{x.line_id} at {x.factory} (build {x.build_year}, ready {x.ready_year})"
                  for x in res.lines_built.itertuples())
    return Headline(
        instance=instance.name, strategy=r.strategy, scenarios=tuple(r.scenarios), scenario=r.scenario,
        status=r.status, status_words=r.status_words, npv=r.npv, best_bound=r.best_bound, gap=r.gap,
        deals_taken=deals, lines_built=lines, utilisation=util, active_line_years=n_active, units=kind_units,
        share_year=share_year, share=share,
        share_target=instance.share_target, share_gap_points=gap_pts, share_units_short=short, currency=r.currency)


# =========================================================================== context

@dataclass
class _Ctx:
    """What every sheet writer needs: the data, derived lookups and the names used so far."""

    instance: Instance
    results: Results
    prefix: str
    prob: dict[str, float]
    blocks: dict[str, Block]
    #: The unit of each production-by-year block (by its key in ``blocks``).
    units: dict[str, str] = field(default_factory=dict)

    @property
    def cur(self) -> str:
        return self.results.run.currency or self.instance.currency

    @property
    def multi(self) -> bool:
        return len(self.prob) > 1

    def name(self, base: str) -> str:
        """Table-name base with the sheet prefix."""
        return f"{self.prefix}{base}"

    def drop_scenario(self, df: pd.DataFrame) -> pd.DataFrame:
        """The scenario column only matters when there are several."""
        return df if self.multi or "scenario" not in df.columns else df.drop(columns=["scenario"])

    @property
    def factory_names(self) -> dict[str, str]:
        return {f.id: f.name for f in self.instance.factories}

    @property
    def market_names(self) -> dict[str, str]:
        return {m.id: m.name for m in self.instance.markets}

    def scen_note(self) -> str:
        if self.multi:
            return (f"{len(self.prob)} scenarios; totals and charts are expected values "
                    f"(probability-weighted); tables show each scenario.")
        return ""


def _ctx(instance: Instance, results: Results, prefix: str = "") -> _Ctx:
    return _Ctx(instance, results, prefix, _probabilities(results), {})


# =========================================================================== key/value blocks

def _kv_table(sh: Sheet, rows: Sequence[tuple[str, Any, str | None, str]], name: str,
              headers: tuple[str, str, str] = ("item", "value", "detail"),
              widths: tuple[tuple[int, int], tuple[int, int]] = ((16, 44), (60, 60))) -> Block | None:
    """A three-column Table (item, value, detail) with one number format per row; ``"money"`` as the
    format: an amount, shown in the workbook's money unit (millions: ``#,##0.0,,``, item ``… (m USD)``)."""
    from openpyxl.styles import Alignment  # noqa: PLC0415

    rows = [(a, b, MONEY, d) if fmt == "money" and style_of(sh.wb) is None else (a, b, fmt, d)
            for a, b, fmt, d in rows]
    if style_of(sh.wb) is not None:  # money rows in the workbook's unit: "NPV (m USD)", #,##0.0,,
        rows = [(money_header(sh.wb, a), b, money_format(sh.wb), d) if fmt == "money" else (a, b, fmt, d)
                for a, b, fmt, d in rows]
    cols = [Col("item", headers[0]), Col("value", headers[1]), Col("detail", headers[2])]
    block = sh.table(cols, [[a, b, d] for a, b, _, d in rows], name)
    if block is None:
        return None
    vcol = block.col("value")
    for i, (_, v, fmt, _) in enumerate(rows):
        cell = block.ws.cell(row=block.first_row + i, column=vcol)
        if fmt and isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
            cell.number_format = fmt
        if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
            cell.alignment = Alignment(horizontal="right", vertical="top", indent=1)
        else:
            wrap_cell(cell)
        wrap_cell(block.ws.cell(row=block.first_row + i, column=block.col("detail")))
    for key, (lo, hi) in zip(("value", "detail"), widths):
        letter = block.ws.cell(row=1, column=block.col(key)).column_letter
        dim = block.ws.column_dimensions[letter]
        dim.width = min(hi, max(dim.width or 0, lo))
    fit_row_heights(block.ws, block.first_row, block.last_row)
    return block


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


def _kpi_rows(ctx: _Ctx) -> list[tuple[str, Any, str | None, str]]:
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
    by_p = _weighted(res.demand, ["kind", "programme_id"], ["unmet"], ctx.prob) if not res.demand.empty else None

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


# =========================================================================== sheet writers

def _summary(sh: Sheet, ctx: _Ctx) -> None:
    from openpyxl.chart import BarChart  # noqa: PLC0415

    res, cur = ctx.results, ctx.cur
    sh.title(f"{ctx.instance.name} — {res.run.strategy}: the plan on one page",
             "NPV, its make-up, the deals and lines chosen, how full the lines run and what demand is left. "
             + ctx.scen_note())
    # Narrow value and detail columns (text wraps): the charts beside them start within the first screen.
    ctx.blocks["kpi"] = _kv_table(sh, _kpi_rows(ctx), ctx.name("Summary"), widths=((16, 30), (42, 42)))
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
            for s, colour in zip(chart.series, [None, _GREEN, _RED, _BLUE]):
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
            chart.series[0].graphicalProperties.solidFill = _BLUE
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
        sh.ws.add_chart(_production_chart(ctx, prod, ctx.units[f"production_by_year:{i}"]), f"{anchor}{row}")
        row = row + rows_for(sh.ws, row, 10.0) + 2
        i += 1
    if not beside:
        sh.row = row
    sh.ws.print_area = f"A1:{get_column_letter(data_col - 2)}{max(sh.row, 46, row)}"


def _production_chart(ctx: _Ctx, block: Block, unit: str) -> Any:
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


def _decisions(sh: Sheet, ctx: _Ctx) -> None:
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


def _production_by_year_rows(ctx: _Ctx) -> list[tuple[str, str, list[Col], list[list[Any]]]]:
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
    prod = _weighted(res.production, ["programme_id", "year"], ["units"], prob)
    made = {(str(a), int(b)): float(u) for a, b, u in zip(prod["programme_id"], prod["year"], prod["units"])}
    dem = _weighted(res.demand, ["kind", "year"], ["demand", "unmet"], prob)
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


def _production_by_year_name(ctx: _Ctx, index: int, kind: str) -> str:
    """Table name of a kind's production-by-year block (the first kind keeps the plain name)."""
    return ctx.name("Production_by_year" if index == 0 else f"Production_by_year_{_table_prefix(kind)}")


def _production(sh: Sheet, ctx: _Ctx) -> None:
    res, cur = ctx.results, ctx.cur
    sh.title("Production", "Units made of each programme on each line and year. " + ctx.scen_note())
    main = sh.frame(ctx.drop_scenario(res.production), ctx.name("Production"), cur,
                    columns=[c for c in ["scenario", "programme_id", "programme", "kind", "line_id", "factory_id",
                                         "factory", "year", "units", "capacity_used"]
                             if c != "scenario" or ctx.multi],
                    empty_note="nothing is produced")
    for i, (kind, unit, cols, rows) in enumerate(_production_by_year_rows(ctx)):
        sh.heading(f"Production vs demand by year, {unit}" + (" (expected)" if ctx.multi else "")
                   + " — programmes sold to markets")
        block = sh.table(cols, rows, _production_by_year_name(ctx, i, kind))
        if block is None:
            continue
        ctx.blocks[f"production_by_year:{i}"] = block
        ctx.units[f"production_by_year:{i}"] = unit
        chart_anchor(sh, _production_chart(ctx, block, unit), block)  # beside or under its own table
    if not res.components.empty:
        sh.heading("Components: needed by parents, made inside, bought outside")
        sh.frame(ctx.drop_scenario(res.components), ctx.name("Components"), cur)


def _utilisation(sh: Sheet, ctx: _Ctx) -> None:
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
        rows.append(([s] if ctx.multi else []) + [l, _short(f, 32), *vals,
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
    by_line = _weighted(act, ["line_id", "factory", "line_type"], ["capacity", "used"], prob)
    yrs = act.groupby("line_id")["year"].nunique() if not act.empty else pd.Series(dtype=int)
    bl_rows = [[f"{x.line_id} ({_short(x.factory)})", x.line_id, x.factory, x.line_type, int(yrs.get(x.line_id, 0)),
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
        chart.series[0].graphicalProperties.solidFill = _BLUE
        label_series(chart.series[0], "0%")
        style_chart(chart, "Utilisation by line (all active years)", y_format="0%",
                    height=max(7.0, 1.0 + 0.7 * bl.n_rows))
        chart.legend = None
        chart_anchor(sh, chart, bl, beside=False)  # the long table below widens the columns: under
    # ---- by year and kind of line → capacity vs used, one table and chart per kind (never added across kinds)
    line_kind = _line_kinds(inst)
    act = act.assign(line_kind=act["line_id"].map(line_kind).fillna("no programme"))
    kinds = [k for k in (*UNIT_OF_KIND, "mixed", "no programme") if k in set(act["line_kind"])]
    for i, kind in enumerate(kinds):
        sh.heading(f"By year: active {_kind_lines(kind)}" + (" (expected over scenarios)" if ctx.multi else ""))
        by_year = _weighted(act[act["line_kind"] == kind], ["year"], ["capacity", "used"], prob)
        by_year_rows = [[int(x.year), x.capacity, x.used, (x.used / x.capacity) if x.capacity > 0 else 0.0]
                        for x in by_year.itertuples()]
        name = "Utilisation_by_year" if i == 0 else f"Utilisation_by_year_{_table_prefix(kind)}"
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
        chart.series[0].graphicalProperties.solidFill = _GREY
        chart.series[1].graphicalProperties.solidFill = _BLUE
        style_chart(chart, f"Capacity available vs used by year — {_kind_lines(kind)}",
                    y_title="capacity units", y_format="#,##0", height=7.5)
        chart_anchor(sh, chart, block, beside=False)
    sh.heading("All line-years")
    sh.frame(ctx.drop_scenario(u), ctx.name("Utilisation"), ctx.cur)


def _line_kinds(inst: Instance) -> dict[str, str]:
    """Line → the kind of programme it makes (from the routings): a kind, ``mixed``, or absent."""
    kinds: dict[str, set[str]] = {}
    progs = {p.id: p.kind for p in inst.programmes}
    for (p, line) in inst.routings:
        kinds.setdefault(line, set()).add(progs.get(p, ""))
    return {line: next(iter(k)) if len(k) == 1 else "mixed" for line, k in kinds.items()}


def _kind_lines(kind: str) -> str:
    """``vehicle`` → ``vehicle lines``; ``mixed`` → ``lines making several kinds``."""
    return {"mixed": "lines making several kinds of programme",
            "no programme": "lines no programme is routed to"}.get(kind, f"{kind} lines")


def _short(text: str, n: int = 24) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _demand(sh: Sheet, ctx: _Ctx) -> None:
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
        bp = _weighted(d, ["programme_id"], ["demand", "committed", "served", "unmet"], prob)
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


def _capacity_value(sh: Sheet, ctx: _Ctx) -> None:
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
    pv = _weighted(cv, ["line_id", "year"], ["shadow_price"], ctx.prob)
    val = {(str(l), int(t)): float(v) for l, t, v in zip(pv["line_id"], pv["year"], pv["shadow_price"])}
    fac = ctx.factory_names
    lines = [ln for ln in inst.lines if any((ln.id, t) in val for t in years)]
    cols = [Col("line_id", "line"), Col("factory", "factory")]
    cols += [Col(f"y{t}", str(t), "price") for t in years] + [Col("max", "highest", "price")]
    rows = []
    for ln in lines:
        vals = [val.get((ln.id, t)) for t in years]
        rows.append([ln.id, _short(fac.get(ln.factory, ln.factory), 32), *vals,
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


def _market_share(sh: Sheet, ctx: _Ctx) -> None:
    from openpyxl.chart import LineChart  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    inst, res = ctx.instance, ctx.results
    h = headline(inst, res)
    tgt = (f"target {_pct_words(inst.share_target)} in {inst.share_target_year}"
           if inst.share_target is not None else "no share target set")
    sh.title("Market share", f"Units of programmes that count for share ÷ world EV market, by year; {tgt}. "
                             f"{h.share_year}: {h.share_words}.")
    ms = res.market_share
    main = sh.frame(ctx.drop_scenario(ms), ctx.name("Market_share"), ctx.cur,
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
            s.graphicalProperties.line.solidFill = _RED
            s.graphicalProperties.line.dashStyle = "dash"
        elif k == "expected":
            s.graphicalProperties.line.solidFill = "000000"
            s.graphicalProperties.line.width = 31750
        else:
            s.marker.symbol = "circle"
    style_chart(chart, "Share of the world EV market vs target", y_format="0%")
    chart.y_axis.scaling.min = 0
    chart_anchor(sh, chart, block)


def _scenarios(sh: Sheet, ctx: _Ctx) -> None:
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


def _cash_flow_sheet(sh: Sheet, ctx: _Ctx) -> None:
    res, cur = ctx.results, ctx.cur
    sh.title("Cash flow by year",
             "Undiscounted money of each year: operating cash flow before tax, capex when spent, tax on "
             "(operating cash flow − straight-line depreciation; negative = a credit against the group's other "
             "profits), the terminal value in the last year. Σ discount factor × free cash flow = NPV. "
             "Penalty weights are not cash and are not here. " + ctx.scen_note())
    cols = ["year", "revenue", "operating_costs", "operating_cash_flow", "capex", "depreciation", "tax",
            "terminal_value", "free_cash_flow", "discount_factor"]
    heads = {c: f"{c.replace('_', ' ')} ({cur})" for c in cols if c not in ("year", "discount_factor")}
    kinds = {c: "money" for c in heads} | {"discount_factor": "factor"}
    if ctx.multi:
        sh.heading("Expected over the scenarios")
        sh.frame(expected_cash_flow(res.cash_flow, ctx.prob), ctx.name("Cash_flow_expected"), cur, columns=cols,
                 headers=heads, kinds=kinds, empty_note="none")
    sh.heading("By scenario")
    sh.frame(res.cash_flow, ctx.name("Cash_flow"), cur, columns=["scenario", *cols], headers=heads, kinds=kinds,
             empty_note="none")


_WRITERS = {
    "Summary": _summary, "Decisions": _decisions, "Production": _production, "Utilisation": _utilisation,
    "Demand & shipments": _demand, "Capacity value": _capacity_value, "Market share": _market_share,
    "Scenarios": _scenarios, "Cash flow": _cash_flow_sheet,
}
#: Sheets whose blocks others point at are filled first (the Summary charts Production's yearly totals).
_FILL_ORDER = ("Production", "Decisions", "Utilisation", "Demand & shipments", "Capacity value", "Market share",
               "Scenarios", "Cash flow", "Summary")


# =========================================================================== public API

def money_amounts(results: Results) -> list[float]:
    """The plan's headline amounts (NPV, objective, each NPV category): their size decides whether
    a workbook shows money in millions (:func:`optimiser.report_style.set_style`)."""
    vals = [results.run.npv, results.objective]
    if not results.npv_breakdown.empty:
        vals += [float(v) for v in results.npv_breakdown["value"]]
    return [float(v) for v in vals if v is not None]


def _ensure_style(wb: Any, instance: Instance, results: Results) -> None:
    """Give ``wb`` the report style of this plan unless its writer already chose one."""
    if style_of(wb) is None:
        set_style(wb, instance.name, instance.currency, money_amounts(results))


def add_plan_sheets(wb: Any, instance: Instance, results: Results, prefix: str = "",
                    sheets: Sequence[str] = PLAN_SHEETS) -> dict[str, Any]:
    """Append the plan sheets of one solve (default: Summary … Scenarios) to ``wb``.

    Sheet titles are ``prefix + name`` (made valid and unique, ≤ 31 characters);
    Table names carry the prefix too, so several solves can share a workbook,
    e.g. ``add_plan_sheets(wb, inst, res_a, prefix="A ")``. Returns
    ``{name: worksheet}`` keyed by the unprefixed names in ``sheets``.
    """
    ctx = _ctx(instance, results, _table_prefix(prefix))
    _ensure_style(wb, instance, results)
    out = {name: wb.create_sheet(sheet_title(wb, f"{prefix}{name}")) for name in sheets}
    for name in _FILL_ORDER:
        if name in out:
            sh = Sheet(out[name])
            _WRITERS[name](sh, ctx)
            sh.finish()
    return out


def add_plan_sheet(wb: Any, instance: Instance, results: Results, title: str) -> Any:
    """Append ONE sheet holding a solve's whole plan, stacked: headline KPIs, NPV breakdown,
    deals, lines built, tooling and production vs demand by year.

    For "one sheet per strategy with its plan" in a comparison workbook; every
    block is a Table named after ``title``. Returns the worksheet.
    """
    _ensure_style(wb, instance, results)
    ws = wb.create_sheet(sheet_title(wb, title))
    ctx = _ctx(instance, results, _table_prefix(title + "_"))
    sh = Sheet(ws)
    res, cur = results, ctx.cur
    sh.title(f"{instance.name} — strategy {results.run.strategy}", ctx.scen_note())
    _kv_table(sh, _kpi_rows(ctx), ctx.name("KPI"))
    sh.heading(f"NPV breakdown ({money_unit(wb, cur)})")
    sh.frame(res.npv_breakdown.rename(columns={"label": "item"}), ctx.name("NPV_breakdown"), cur,
             columns=["item", "value", "category"], headers={"value": f"NPV ({cur})"}, kinds={"category": "text"})
    sh.heading("Deals (options)")
    sh.frame(res.options, ctx.name("Options"), cur,
             columns=["option_id", "name", "counterparty", "strategy", "taken", "upfront_cost", "annual_cost"],
             empty_note="none: the instance offers no deals")
    sh.heading("Lines built")
    sh.frame(res.lines_built, ctx.name("Lines_built"), cur,
             columns=["line_id", "factory", "line_type", "build_year", "ready_year", "build_cost", "capacity"],
             empty_note="none: no new line is built")
    sh.heading("Tooling")
    sh.frame(res.tooling, ctx.name("Tooling"), cur,
             columns=["programme_id", "programme", "line_id", "tooling_year", "tooling_cost"], empty_note="none")
    for i, (kind, unit, cols, rows) in enumerate(_production_by_year_rows(ctx)):
        sh.heading(f"Production vs demand by year, {unit}" + (" (expected)" if ctx.multi else ""))
        sh.table(cols, rows, _production_by_year_name(ctx, i, kind))
    sh.finish()
    return ws


def add_plan_file_sheet(wb: Any, results: Results, title: str = "Plan", plan: Any = None) -> Any:
    """Append the "Plan" sheet: the content of the plan file (``solve --save-plan``) — where it
    came from, its KPIs and every first-stage decision, one per row."""
    from .plan import plan_of  # noqa: PLC0415

    p = plan if plan is not None else plan_of(results)
    ws = wb.create_sheet(sheet_title(wb, title))
    sh = Sheet(ws)
    prefix = _table_prefix(title + "_") if title != "Plan" else ""
    sh.title("Plan", "The first-stage decisions of this solve, as `solve --save-plan` writes them: evaluate them "
                     "under new data with `solve --fix`, or start from them with `solve --start`.")
    _kv_table(sh, [("instance", p.instance, None, ""), ("instance sha256", p.instance_sha256, None, "fingerprint"),
                   ("strategy", p.strategy, None, ""), ("scenario", p.scenario or "all", None, ""),
                   ("scenarios", ", ".join(p.scenarios), None, ""), ("status", p.status, None, ""),
                   ("npv", p.npv, "money", ""), ("objective", p.objective, "money", "")],
              f"{prefix}Plan_facts")
    rows = ([["deal", o, "", None] for o in p.deals] + [["build", l, "", t] for l, t in p.builds]
            + [["tooling", l, pr, None] for pr, l in p.tooling])
    sh.heading("Decisions")
    sh.table([Col("kind", "decision"), Col("line_or_option", "line / option"), Col("programme", "programme"),
              Col("year", "build year", "year")], rows, f"{prefix}Plan_decisions",
             empty_note="none: no deal, build or tooling")
    sh.heading(f"NPV per scenario and per category ({money_unit(wb, p.currency)})")
    kpi = ([["scenario", k, v] for k, v in sorted(p.scenario_npv.items())]
           + [["category", k, v] for k, v in sorted(p.npv_by_category.items())])
    sh.table([Col("kind", "by"), Col("name", "scenario / category"), Col("value", f"NPV ({p.currency})", "money")],
             kpi, f"{prefix}Plan_npv", empty_note="none")
    sh.finish()
    return ws


def _table_prefix(prefix: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in prefix)


def add_inputs_sheet(wb: Any, instance: Instance, title: str = "Inputs") -> Any:
    """Append a sheet with every instance table exactly as read (one Table per input table,
    ``source`` column included; numbers typed as in the instance workbook)."""
    from .schema import TABLES  # noqa: PLC0415

    ws = wb.create_sheet(sheet_title(wb, title))
    sh = Sheet(ws, freeze="")
    sh.title("Inputs", f"Every table of instance {instance.name} as it was read (sha256 {instance.fingerprint[:16]}…).")
    known = [t.name for t in TABLES]
    tables = sorted(instance.inputs, key=lambda t: (known.index(t.name) if t.name in known else len(known), t.name))
    if not tables:
        sh.note("none: the instance carries no input tables")
    for t in tables:
        sh.heading(f"{t.name} — {len(t.rows)} row(s)")
        header = [str(h) if h is not None else "" for h in t.header]
        cols = [Col(f"c{j}", h) for j, h in enumerate(header)]
        key_at = header.index("key") if t.name == "settings" and "key" in header else None
        if not cols:
            sh.note("(no columns)")
            continue
        columns = []
        for j, h in enumerate(header):
            values = [row[j] if j < len(row) else None for row in t.rows]
            if key_at is not None and h == "value":  # a setting's value is typed by its key
                keys = [row[key_at] if key_at < len(row) else None for row in t.rows]
                columns.append([_input_value(t.name, h, v, k) for v, k in zip(values, keys)])
            else:
                kind = column_type(t.name, h)
                columns.append([_typed_input(v, kind) for v in values])
        sh.columns_table(cols, columns, len(t.rows), f"in_{t.name}", empty_note="(no rows)", max_width=30)
    sh.finish()
    return ws


def _input_value(table: str, column: str, value: Any, setting_key: Any = None) -> Any:
    """A cell as read, typed like the instance workbook: text spelling a number exactly
    (``5``, ``0.1``) becomes a number in a number column; anything else stays as it is."""
    key = str(setting_key) if table == "settings" and column == "value" else None
    return _typed_input(value, column_type(table, column, key))


def _typed_input(value: Any, col_type: str | None) -> Any:
    """:func:`_input_value` once the column's type is known."""
    import math  # noqa: PLC0415

    if hasattr(value, "text") and not isinstance(value, str):  # a formula without a cached value
        return value.text
    if hasattr(value, "values") and isinstance(getattr(value, "values"), tuple):  # cells beyond the header
        return " ".join(str(v) for v in value.values)
    if not isinstance(value, str):
        return value
    if col_type in ("int", "float"):
        try:
            x = float(value)
        except ValueError:
            return value
        if math.isfinite(x):
            if x.is_integer() and abs(x) < 1e15 and str(int(x)) == value:
                return int(x)
            if repr(x) == value:
                return x
    return value


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def add_run_record_sheet(wb: Any, instance: Instance, results: Results, command: str = "",
                         timestamp: datetime | None = None, title: str = "Run record") -> Any:
    """Append the run record: command, options, instance fingerprint, versions, timings, sizes,
    status, and the time the report was written (the workbook's only timestamp)."""
    r = results.run
    ws = wb.create_sheet(sheet_title(wb, title))
    sh = Sheet(ws)
    when = (timestamp or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    sh.title("Run record", "How this report was produced: enough to reproduce it.")
    total = r.build_seconds + r.handoff_seconds + r.solve_seconds + r.extract_seconds
    secs = "0.000"
    rows: list[tuple[str, Any, str | None, str]] = [
        ("written at", when, None, "the only timestamp in this workbook (the printed header shows its date)"),
        ("command", command or "(called from Python)", None, ""),
        ("instance", r.instance, None, ""),
        ("instance sha256", r.instance_sha256, None, "fingerprint of the instance content"),
        ("strategy", r.strategy, None, ""),
        ("scenario", r.scenario or "all", None, ", ".join(r.scenarios)),
        ("status", r.status, None, r.status_words),
        ("termination", r.termination, None, ""),
        (f"NPV ({r.currency})", r.npv, "money", ""),
        (f"best bound ({r.currency})", r.best_bound, "money", ""),
        ("gap", r.gap, "0.00%", "relative MIP gap at the end"),
        ("build seconds", r.build_seconds, secs, "read → model → matrices"),
        ("handoff seconds", r.handoff_seconds, secs, "matrices → HiGHS"),
        ("solve seconds", r.solve_seconds, secs, "HiGHS"),
        ("extract seconds", r.extract_seconds, secs, "solution → result tables"),
        ("total seconds", total, secs, ""),
        ("variables", r.n_variables, "#,##0", ""),
        ("binary variables", r.n_binaries, "#,##0", ""),
        ("constraints", r.n_constraints, "#,##0", ""),
        ("nonzeros", r.n_nonzeros, "#,##0", ""),
    ]
    for k in sorted(r.options):
        v = r.options[k]
        rows.append((f"option {k}", "default" if v is None else (v if isinstance(v, (int, float, str)) else str(v)),
                     None, ""))
    rows += [
        ("optimiser version", __version__, None, ""),
        ("HiGHS version", r.highs_version, None, f"highspy {_version('highspy')}"),
        ("Pyomo version", _version("pyomo"), None, ""),
        ("openpyxl version", _version("openpyxl"), None, ""),
        ("pandas version", _version("pandas"), None, ""),
        ("Python version", platform.python_version(), None, ""),
    ]
    _kv_table(sh, rows, "Run_record")
    sh.finish()
    return ws


def build_report(instance: Instance, results: Results, command: str = "",
                 timestamp: datetime | None = None) -> Any:
    """The report workbook (openpyxl ``Workbook``), not saved."""
    from openpyxl import Workbook  # noqa: PLC0415

    wb = Workbook()
    wb.remove(wb.active)
    when = (timestamp or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(tzinfo=None, microsecond=0)
    set_style(wb, instance.name, instance.currency, money_amounts(results), run_date=when.date().isoformat())
    add_plan_sheets(wb, instance, results)
    add_plan_file_sheet(wb, results)
    add_inputs_sheet(wb, instance)
    add_run_record_sheet(wb, instance, results, command, when.replace(tzinfo=timezone.utc))
    wb.properties.creator = f"optimiser {__version__}"
    wb.properties.title = f"{instance.name} — {results.run.strategy}"
    wb.properties.created = when
    wb.active = 0
    return wb


def write_report(instance: Instance, results: Results, path: Path, command: str = "") -> Path:
    """Write the management report to ``path`` atomically.

    Raises :class:`~optimiser.errors.OutputError` (previous file intact) when
    the target cannot be written (locked, read-only, a folder, disk full).
    """
    path = Path(path)
    wb = build_report(instance, results, command)
    return save_workbook(wb, path)


# --------------------------------------------------------------------------- comparison workbook

def write_comparison(instance: Instance, comp: Any, path: Path, command: str = "") -> Path:
    """Write the comparison workbook (``optimiser compare``) atomically.

    Sheets: Comparison (recommendation in words, value of the stochastic solution, the
    stochastic plans, the strategy × scenario matrix with a chart, regret), optional Risk,
    one plan sheet per strategy (:func:`add_plan_sheet`), Inputs. Works from the
    :class:`optimiser.compare.Comparison` tables alone.
    """
    from openpyxl import Workbook  # noqa: PLC0415
    from openpyxl.chart import BarChart  # noqa: PLC0415

    cur = comp.currency
    wb = Workbook()
    wb.remove(wb.active)
    written = datetime.now(timezone.utc).replace(microsecond=0)
    amounts = [float(v) for v in comp.matrix["npv"] if v is not None and v == v]
    if "expected_npv" in comp.stochastic.columns:
        amounts += [float(v) for v in comp.stochastic["expected_npv"] if v is not None and v == v]
    set_style(wb, instance.name, cur, amounts, run_date=written.date().isoformat())
    sh = Sheet(wb.create_sheet("Comparison"))
    sh.title(f"{instance.name} — strategies compared across {len(comp.scenarios)} scenarios",
             "NPV = cash NPV in " + cur + " (the objective, what was optimised, subtracts the penalty weights "
             "unmet-demand and share-target, which are not cash); stochastic plans decide deals, builds and tooling "
             "before demand is known"
             + (f". Scenarios: {comp.scenario_note}" if getattr(comp, "scenario_note", None) else ""))
    sh.heading("Recommendation")
    for sentence in comp.sentences:
        sh.note(sentence, italic=False)
    sh.gap()
    sh.heading("Value of planning for uncertainty")
    sh.frame(comp.value, "Value", cur, columns=["measure", "value", "meaning"],
             headers={"value": f"value ({cur})"}, kinds={"value": "money"})
    if getattr(comp, "flexibility", None):
        sh.heading("Value of flexibility (options decided later, per scenario)")
        flex = pd.DataFrame([{"option": r["option_id"], "value": r["value"], "optimum": r["optimum"],
                              "optimum_now": r["optimum_now"],
                              "taken": ", ".join(f"{k} in {y}" for k, y in r["year_taken"].items() if y is not None)
                              or "never"} for r in comp.flexibility])
        sh.frame(flex, "Flexibility", cur, columns=["option", "value", "optimum", "optimum_now", "taken"],
                 headers={"value": f"value of waiting ({cur})", "optimum": f"optimum as specified ({cur})",
                          "optimum_now": f"optimum deciding now ({cur})", "taken": "taken (scenario in year)"},
                 kinds={"value": "money", "optimum": "money", "optimum_now": "money", "taken": "text"})
    sh.heading("Stochastic plans (one per strategy)")
    sto_cols = ["strategy", "expected_npv", "objective", "worst_case", "max_regret", "irr", "payback_year",
                "peak_funding", "status", "gap", "options_taken", "lines_built"]
    sh.frame(comp.stochastic, "Stochastic", cur, columns=[c for c in sto_cols if c in comp.stochastic.columns],
             headers={"objective": f"objective, with weights ({cur})", "irr": "IRR", "payback_year": "payback year",
                      "peak_funding": f"peak funding need ({cur})"},
             kinds={"expected_npv": "money", "objective": "money", "worst_case": "money", "max_regret": "money",
                    "gap": "pct", "irr": "pct", "payback_year": "year", "peak_funding": "money"})
    sh.heading("NPV by strategy and scenario (each scenario known in advance)")
    wide = comp.matrix.pivot(index="strategy", columns="scenario", values="npv").reindex(
        index=comp.strategies, columns=comp.scenarios).reset_index()
    wide.columns = [str(c) for c in wide.columns]
    block = sh.frame(wide, "Matrix", cur, columns=["strategy", *comp.scenarios],
                     kinds={s: "money" for s in comp.scenarios})
    if block is not None:  # the chart beside or under its own table
        chart = BarChart()
        chart.type = "col"
        chart.add_data(block.references(list(comp.scenarios)), titles_from_data=True)
        chart.set_categories(block.reference("strategy"))
        unit = money_unit(wb, cur)
        style_chart(chart, f"NPV by strategy across scenarios ({unit})", y_title=unit, width=20, height=10,
                    y_format=money_axis_format(float(v) for v in comp.matrix["npv"] if v is not None and v == v))
        chart_anchor(sh, chart, block)
    sh.heading("Regret of each stochastic plan (best NPV in the scenario − the plan's NPV there)")
    sh.frame(comp.regret, "Regret", cur, columns=["strategy", "scenario", "npv", "best_npv", "regret"],
             kinds={"npv": "money", "best_npv": "money", "regret": "money"})
    sh.heading("Matrix, long form")
    sh.frame(comp.matrix, "Matrix_long", cur, columns=["strategy", "scenario", "npv", "objective", "status", "gap"],
             kinds={"npv": "money", "objective": "money", "gap": "pct"})
    sh.finish()
    if comp.risk:
        rsh = Sheet(wb.create_sheet("Risk"))
        rsh.title(f"CVaR protection: worst {1 - comp.risk['alpha']:.0%} of outcomes, weight {comp.risk['weight']:g}",
                  "premium = risk-neutral expected NPV − protected expected NPV")
        rsh.frame(pd.DataFrame(comp.risk["rows"]), "Risk", cur,
                  columns=["strategy", "expected_npv_neutral", "expected_npv_cvar", "premium", "cvar_neutral",
                           "cvar_protected", "status", "options_taken"],
                  kinds={k: "money" for k in ("expected_npv_neutral", "expected_npv_cvar", "premium",
                                               "cvar_neutral", "cvar_protected")})
        rsh.finish()
    for k in comp.strategies:
        if k in comp.plans:
            add_plan_sheet(wb, instance, comp.plans[k], f"Plan {k}")
    add_inputs_sheet(wb, instance)
    rec = Sheet(wb.create_sheet("Run record"))
    rec.title("Run record")
    _kv_table(rec, [("command", command, None, ""), ("instance sha256", instance.fingerprint, None, ""),
                    ("optimiser", __version__, None, ""), ("HiGHS", _version("highspy"), None, ""),
                    ("Pyomo", _version("pyomo"), None, ""),
                    ("written", written.isoformat(), None, "")],
              "Run_record")
    rec.finish()
    wb.properties.creator = f"optimiser {__version__}"
    wb.properties.title = f"{instance.name} — comparison"
    wb.active = 0
    return save_workbook(wb, Path(path))
