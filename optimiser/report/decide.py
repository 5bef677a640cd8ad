"""The decision workbook of `optimiser decide`: written from a :class:`~optimiser.decide.Decision` alone.

Sheets, in order:

1. **Decision** — what to do and why, in words generated from the numbers: the recommended
   strategy and its deals, its expected cash NPV and lead over the runner-up, the break-evens that
   would flip it, the value of keeping later options open, EVPI and VSS in a sentence each, and the
   caveats (horizon, terminal value, tax, what is not modelled); then the key figures (M currency).
2. **Strategies** — per strategy: expected cash NPV, worst scenario, max regret, CVaR, IRR, payback
   year, peak funding, deals taken.
3. **NPV bridge** — runner-up's NPV, Δ per cash category, recommended NPV (Σ Δ = the difference);
   penalties apart (not cash); a bar chart of the Δs with data labels.
4. **Break-evens** — every deal cost term and flipping sensitivity row searched.
5. **Tornado** — the sensitivity rows at low and high (with a bar chart), when the instance has them.
6. **Flexibility** — value of deciding each later option later, and the year each scenario takes it.
7. The recommended strategy's plan sheets (:func:`optimiser.report.workbook.add_plan_sheets`, prefix ``Plan``).

Money is in millions of the instance's currency (M in every money header). Print: each sheet's
first table header repeated, landscape one page wide, footer with the sheet and page x of y, header
with the instance name (:func:`_page_style`, the one place to swap for shared style helpers).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import __version__
from ..decide import Decision, is_money
from .sheet import Sheet, style_chart
from .workbook import add_plan_sheets
from .xlsx import Col
from .xml_writer import save_workbook

M = 1e6


def _mm(x: float | None) -> float | None:
    """Money in millions (None stays None)."""
    return None if x is None else x / M


def _page_style(ws: Any, instance: str) -> None:
    """Print header with the instance name (footer and repeated titles come from ``Sheet.finish``)."""
    ws.oddHeader.left.text = instance
    ws.oddHeader.right.text = "&A"


def _finish(sh: Sheet, instance: str) -> None:
    sh.finish()
    _page_style(sh.first_ws, instance)


def _decision_sheet(wb: Any, d: Decision) -> None:
    cur = d.currency
    sh = Sheet(wb.create_sheet("Decision"))
    sh.title(f"{d.instance} — decision", "What to do, why, and what would change it (generated from the numbers "
                                         "below; money in M " + cur + ")")
    sentences: list[int] = []

    def say(text: str, italic: bool = False) -> None:
        sentences.append(sh.row)
        sh.note(text, italic=italic)

    sh.heading(d.headline)
    sentences.append(sh.row - 1)
    for s in d.why:
        say(s)
    sh.gap()
    sh.heading("What would change the answer")
    for s in d.changes:
        say(s)
    sh.gap()
    sh.heading("Value of waiting and of knowing")
    for s in d.value_sentences or ["Only one scenario: no value of information to report."]:
        say(s)
    sh.gap()
    sh.heading("Caveats")
    for s in d.caveats:
        say(s, italic=True)
    sh.gap()
    sh.heading("Key figures")
    rows = [["recommended strategy", d.recommended, None],
            ["runner-up", d.runner_up or "—", None],
            [f"expected cash NPV, recommended (M {cur})", None, _mm(d.npv(d.recommended))],
            [f"expected cash NPV, runner-up (M {cur})", None, _mm(d.npv(d.runner_up))],
            [f"lead over the runner-up (M {cur})", None, _mm(d.margin)],
            [f"EVPI (M {cur})", None, _mm(d.evpi)], [f"VSS (M {cur})", None, _mm(d.vss)]]
    sh.table([Col("item", "item"), Col("name", "strategy"), Col("value", f"value (M {cur})", "number")], rows,
             "Decision_key_figures")
    _finish(sh, d.instance)
    _wrap_sentences(sh.first_ws, sentences)


def _wrap_sentences(ws: Any, rows: list[int], width: float = 110) -> None:
    """Sentences in a wide column A, wrapped, rows as tall as their lines (so they print on the page)."""
    from openpyxl.styles import Alignment  # noqa: PLC0415

    ws.column_dimensions["A"].width = width
    per = int(width * 1.05)
    for r in rows:
        cell = ws.cell(r, 1)
        cell.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
        lines = max(1, -(-len(str(cell.value or "")) // per))
        if lines > 1:
            ws.row_dimensions[r].height = 15.0 * lines + (3 if cell.font and cell.font.b else 0)


def _strategies_sheet(wb: Any, d: Decision) -> None:
    cur = d.currency
    sh = Sheet(wb.create_sheet("Strategies"))
    sh.title("Strategies compared", "Stochastic plans: deals, builds and tooling decided before demand is known; "
                                    f"cash NPV in M {cur}; CVaR = mean NPV of the worst 10 % of outcomes")
    cols = [Col("strategy", "strategy"), Col("expected_npv", f"expected cash NPV (M {cur})", "number"),
            Col("worst_case", f"worst scenario (M {cur})", "number"),
            Col("max_regret", f"max regret (M {cur})", "number"),
            Col("cvar", f"CVaR 90 % (M {cur})", "number"), Col("irr", "IRR", "pct"),
            Col("payback_year", "payback year", "year"), Col("peak_funding", f"peak funding (M {cur})", "number"),
            Col("options_taken", "deals taken"), Col("objective", f"objective, with penalties (M {cur})", "number")]
    money = {"expected_npv", "worst_case", "max_regret", "cvar", "peak_funding", "objective"}
    rows = [[_mm(r[c.key]) if c.key in money else r[c.key] for c in cols] for r in d.strategies]
    sh.table(cols, rows, "Strategies")
    _finish(sh, d.instance)


def _bridge_sheet(wb: Any, d: Decision) -> None:
    from openpyxl.chart import BarChart  # noqa: PLC0415
    from openpyxl.chart.label import DataLabelList  # noqa: PLC0415

    cur = d.currency
    sh = Sheet(wb.create_sheet("NPV bridge"))
    sh.title(f"NPV bridge: {d.runner_up or '—'} → {d.recommended}",
             f"Expected cash NPV by category (M {cur}); Δ = recommended − runner-up; the Δs sum to the difference")
    if not d.bridge:
        sh.note("No runner-up with a plan: no bridge.")
        _finish(sh, d.instance)
        return
    cols = [Col("label", "category"), Col("runner_up", f"{d.runner_up} (M {cur})", "number"),
            Col("recommended", f"{d.recommended} (M {cur})", "number"), Col("delta", f"Δ (M {cur})", "number")]
    rows = [[r["label"], _mm(r["runner_up"]), _mm(r["recommended"]), _mm(r["delta"])] for r in d.bridge]
    rows.append(["cash NPV (total)", _mm(d.npv(d.runner_up)), _mm(d.npv(d.recommended)), _mm(d.margin)])
    block = sh.table(cols, rows, "Bridge")
    sh.gap()
    sh.heading("Penalties (weights the plans were optimised with; not cash, not in the NPVs)")
    sh.table([Col("penalty", "penalty"), Col("runner_up", f"{d.runner_up} (M {cur})", "number"),
              Col("recommended", f"{d.recommended} (M {cur})", "number")],
             [[p["penalty"], _mm(p["runner_up"]), _mm(p["recommended"])] for p in d.penalties], "Bridge_penalties")
    if block is not None:
        from openpyxl.chart import Reference  # noqa: PLC0415

        chart = BarChart()
        chart.type = "bar"
        ws = block.ws
        n = len(d.bridge)
        chart.add_data(Reference(ws, min_col=block.first_col + 3, min_row=block.header_row,
                                 max_row=block.header_row + n), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=block.first_col, min_row=block.header_row + 1,
                                       max_row=block.header_row + n))
        chart.dataLabels = DataLabelList()
        chart.dataLabels.showVal = True
        chart.x_axis.scaling.orientation = "maxMin"
        style_chart(chart, f"Δ expected cash NPV, {d.recommended} − {d.runner_up} (M {cur})", y_title=f"M {cur}",
                    width=18, height=max(8.0, 0.6 * n + 3))
        chart.legend = None
        ws.add_chart(chart, ws.cell(sh.row + 2, 1).coordinate)
    _finish(sh, d.instance)


def _breakeven_sheet(wb: Any, d: Decision) -> None:
    cur = d.currency
    sh = Sheet(wb.create_sheet("Break-evens"))
    sh.title(f"Break-evens between {d.recommended} and {d.runner_up or '—'}",
             f"The value of each input at which the two have equal expected cash NPV; money in M {cur} (see unit); "
             "blank: no break-even in the range searched")
    cols = [Col("parameter", "parameter"), Col("source", "from"), Col("unit", "unit"),
            Col("current", "current value", "number"), Col("low", "searched from", "number"),
            Col("high", "searched to", "number"), Col("value", "break-even", "number"), Col("method", "found by"),
            Col("sentence", "in words")]
    rows = []
    for b in d.breakevens:
        money = is_money(b["parameter"], b["kind"])
        unit = f"M {cur}" if money else ("× today's value" if b["kind"] == "multiplier" else "as in the instance")
        rows.append([b["parameter"], b["source"], unit,
                     *((_mm(b[k]) if money else b[k]) for k in ("current", "low", "high", "value")),
                     b["method"], b["sentence"]])
    sh.table(cols, rows, "Breakevens", empty_note="none: no runner-up, or no deal cost or sensitivity row to search")
    _finish(sh, d.instance)


def _tornado_sheet(wb: Any, d: Decision) -> None:
    from openpyxl.chart import BarChart, Reference  # noqa: PLC0415

    cur = d.currency
    sh = Sheet(wb.create_sheet("Tornado"))
    t = d.tornado
    sh.title("Tornado: expected cash NPV with each input at its low and high value",
             f"M {cur}; sorted by the swing of {d.recommended}; rows from the instance's sensitivity table")
    if t is None:
        sh.note("The instance has no sensitivity table: add one (parameter, low, high) to get a tornado.")
        _finish(sh, d.instance)
        return
    base = t["base"]["npv"].get(t["recommended"]) or 0.0
    cols = [Col("parameter", "parameter"), Col("kind", "kind"), Col("low", "low", "number"),
            Col("high", "high", "number"), Col("rl", f"{t['recommended']} at low (M {cur})", "number"),
            Col("rh", f"{t['recommended']} at high (M {cur})", "number"),
            Col("ul", f"{t['runner_up']} at low (M {cur})", "number"),
            Col("uh", f"{t['runner_up']} at high (M {cur})", "number"), Col("swing", f"swing (M {cur})", "number"),
            Col("cl", f"change at low (M {cur})", "number"), Col("ch", f"change at high (M {cur})", "number"),
            Col("flips", "flips")]
    rows = []
    for r in t["rows"]:
        rows.append([r["parameter"], r["kind"], r["low"], r["high"], _mm(r["recommended_low"]),
                     _mm(r["recommended_high"]), _mm(r["runner_up_low"]), _mm(r["runner_up_high"]), _mm(r["swing"]),
                     None if r["recommended_low"] is None else _mm(r["recommended_low"] - base),
                     None if r["recommended_high"] is None else _mm(r["recommended_high"] - base),
                     "yes" if r["flips"] else "no"])
    block = sh.table(cols, rows, "Tornado")
    if block is not None:
        ws = block.ws
        chart = BarChart()
        chart.type = "bar"
        chart.grouping = "clustered"
        chart.overlap = 100
        chart.add_data(Reference(ws, min_col=block.first_col + 9, max_col=block.first_col + 10,
                                 min_row=block.header_row, max_row=block.last_row), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=block.first_col, min_row=block.header_row + 1,
                                       max_row=block.last_row))
        chart.x_axis.scaling.orientation = "maxMin"
        style_chart(chart, f"Change in expected NPV of {t['recommended']} (M {cur})", y_title=f"M {cur} vs base",
                    width=20, height=max(7.5, 1.2 * len(rows) + 4))
        ws.add_chart(chart, ws.cell(block.last_row + 3, 1).coordinate)
    _finish(sh, d.instance)


def _flexibility_sheet(wb: Any, d: Decision) -> None:
    cur = d.currency
    sh = Sheet(wb.create_sheet("Flexibility"))
    sh.title("Value of flexibility and of information", f"M {cur}")
    cols = [Col("option_id", "option decided later"), Col("value", f"value of waiting (M {cur})", "number"),
            Col("optimum", f"optimum as specified (M {cur})", "number"),
            Col("optimum_now", f"optimum deciding now (M {cur})", "number"), Col("taken", "taken (scenario in year)")]
    rows = [[f["option_id"], _mm(f["value"]), _mm(f["optimum"]), _mm(f["optimum_now"]), f["taken"]]
            for f in d.flexibility]
    sh.table(cols, rows, "Flexibility", empty_note="none: the instance has no option decided later")
    sh.gap()
    for s in d.value_sentences:
        sh.note(s, italic=False)
    _finish(sh, d.instance)


def build_decision_workbook(d: Decision, instance: Any) -> Any:
    """The decision workbook (openpyxl ``Workbook``), not saved; ``instance`` is the validated
    instance (for the recommended strategy's plan sheets)."""
    from openpyxl import Workbook  # noqa: PLC0415

    wb = Workbook()
    wb.remove(wb.active)
    _decision_sheet(wb, d)
    _strategies_sheet(wb, d)
    _bridge_sheet(wb, d)
    _breakeven_sheet(wb, d)
    _tornado_sheet(wb, d)
    _flexibility_sheet(wb, d)
    if d.plan is not None:
        sheets = add_plan_sheets(wb, instance, d.plan, prefix="Plan ")
        for ws in sheets.values():
            _page_style(ws, d.instance)
    wb.properties.creator = f"optimiser {__version__}"
    wb.properties.title = f"{d.instance} — decision"
    wb.active = 0
    return wb


def write_decision_workbook(d: Decision, instance: Any, path: Path) -> Path:
    """Write the decision workbook atomically (previous file intact on failure)."""
    return save_workbook(build_decision_workbook(d, instance), Path(path))
