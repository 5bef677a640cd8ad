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
9. **Cash flow** — undiscounted money of each year
10. **Plan** — the plan file's content
11. **Inputs** — every instance table as read (``source`` column included)
12. **Run record** — command, options, versions, timings, sizes; the only timestamp

The sheets themselves are written by :mod:`optimiser.report.summary`, :mod:`~optimiser.report.production`,
:mod:`~optimiser.report.plan_sheets` and :mod:`~optimiser.report.cash_flow`; this module puts them in a
workbook. Public building blocks (the comparison and decision workbooks use the same code):

* :func:`write_report` — the whole report, written atomically.
* :func:`build_report` — the same workbook, not saved (tests, previews).
* :func:`add_plan_sheets` — the plan sheets of one solve into any workbook, with a
  sheet-name ``prefix`` (e.g. one set of sheets per strategy).
* :func:`add_plan_sheet` — one compact sheet with a solve's whole plan (KPIs,
  NPV breakdown, deals, lines built, tooling, production by year): "one sheet
  per strategy with its plan".
* :func:`add_plan_file_sheet`, :func:`add_inputs_sheet`, :func:`add_run_record_sheet`.

A table longer than an Excel sheet holds goes on over continuation sheets
(:class:`optimiser.report.sheet.Sheet`).
"""

from __future__ import annotations

import platform
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Sequence

from .. import __version__
from ..data import Instance
from ..plan import plan_of
from ..results import Results
from ..schema import TABLES
from ..writers import column_type
from .cash_flow import cash_flow_sheet
from .context import kv_table, make_ctx
from .figures import money_amounts
from .format import input_cell, table_prefix
from .plan_sheets import capacity_value_sheet, demand_sheet, market_share_sheet, scenarios_sheet
from .production import production_by_year_name, production_by_year_rows, production_sheet, utilisation_sheet
from .sheet import Sheet
from .style import money_unit, set_style, style_of
from .summary import decisions_sheet, kpi_rows, summary_sheet
from .xlsx import Col, sheet_title
from .xml_writer import save_workbook

#: Sheet names in report order.
SHEETS = ("Summary", "Decisions", "Production", "Utilisation", "Demand & shipments", "Capacity value",
          "Market share", "Scenarios", "Cash flow", "Plan", "Inputs", "Run record")
#: The sheets that describe the plan (what :func:`add_plan_sheets` writes).
PLAN_SHEETS = SHEETS[:9]


_WRITERS = {
    "Summary": summary_sheet, "Decisions": decisions_sheet, "Production": production_sheet, "Utilisation": utilisation_sheet,
    "Demand & shipments": demand_sheet, "Capacity value": capacity_value_sheet, "Market share": market_share_sheet,
    "Scenarios": scenarios_sheet, "Cash flow": cash_flow_sheet,
}
#: Sheets whose blocks others point at are filled first (the Summary charts Production's yearly totals).
_FILL_ORDER = ("Production", "Decisions", "Utilisation", "Demand & shipments", "Capacity value", "Market share",
               "Scenarios", "Cash flow", "Summary")


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
    ctx = make_ctx(instance, results, table_prefix(prefix))
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
    ctx = make_ctx(instance, results, table_prefix(title + "_"))
    sh = Sheet(ws)
    res, cur = results, ctx.cur
    sh.title(f"{instance.name} — strategy {results.run.strategy}", ctx.scen_note())
    kv_table(sh, kpi_rows(ctx), ctx.name("KPI"))
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
    for i, (kind, unit, cols, rows) in enumerate(production_by_year_rows(ctx)):
        sh.heading(f"Production vs demand by year, {unit}" + (" (expected)" if ctx.multi else ""))
        sh.table(cols, rows, production_by_year_name(ctx, i, kind))
    sh.finish()
    return ws


def add_plan_file_sheet(wb: Any, results: Results, title: str = "Plan", plan: Any = None) -> Any:
    """Append the "Plan" sheet: the content of the plan file (``solve --save-plan``) — where it
    came from, its KPIs and every first-stage decision, one per row."""

    p = plan if plan is not None else plan_of(results)
    ws = wb.create_sheet(sheet_title(wb, title))
    sh = Sheet(ws)
    prefix = table_prefix(title + "_") if title != "Plan" else ""
    sh.title("Plan", "The first-stage decisions of this solve, as `solve --save-plan` writes them: evaluate them "
                     "under new data with `solve --fix`, or start from them with `solve --start`.")
    kv_table(sh, [("instance", p.instance, None, ""), ("instance sha256", p.instance_sha256, None, "fingerprint"),
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

def add_inputs_sheet(wb: Any, instance: Instance, title: str = "Inputs") -> Any:
    """Append a sheet with every instance table exactly as read (one Table per input table,
    ``source`` column included; numbers typed as in the instance workbook)."""

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
                columns.append([input_cell(v, kind) for v in values])
        sh.columns_table(cols, columns, len(t.rows), f"in_{t.name}", empty_note="(no rows)", max_width=30)
    sh.finish()
    return ws


def _input_value(table: str, column: str, value: Any, setting_key: Any = None) -> Any:
    """A cell as read, typed like the instance workbook: text spelling a number exactly
    (``5``, ``0.1``) becomes a number in a number column; anything else stays as it is."""
    key = str(setting_key) if table == "settings" and column == "value" else None
    return input_cell(value, column_type(table, column, key))


def version(dist: str) -> str:
    """The installed version of the distribution ``dist``, or ``not installed``."""
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
        ("HiGHS version", r.highs_version, None, f"highspy {version('highspy')}"),
        ("Pyomo version", version("pyomo"), None, ""),
        ("openpyxl version", version("openpyxl"), None, ""),
        ("pandas version", version("pandas"), None, ""),
        ("Python version", platform.python_version(), None, ""),
    ]
    kv_table(sh, rows, "Run_record")
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
