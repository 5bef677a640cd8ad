"""The files of ``optimiser sweep``: the workbook (the tidy table, a chart of NPV by variant and strategy,
an About sheet) and the spreadsheet-safe CSV, from the sweep's table and variants alone.
"""

from __future__ import annotations

import datetime as _dt
import math
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from ..data import Instance
from ..sweep import PARAMETERS, Variant, number_text
from ..writers import atomic_path
from .sheet import Sheet, money_axis_format, style_chart
from .style import chart_anchor, money_unit, set_style
from .xlsx import Col, csv_safe
from .xml_writer import save_workbook


def write_sweep_files(df: pd.DataFrame, targets: dict[str, Path | None], instance: Instance,
                      variants: Sequence[Variant], command: str = "") -> None:
    """Write what ``targets`` asks for: ``workbook`` (:func:`write_workbook`) and ``csv`` (:func:`write_csv`);
    called by :func:`optimiser.app.run_sweep`."""
    if targets.get("workbook") is not None:
        write_workbook(df, Path(targets["workbook"]), instance, variants, command)
    if targets.get("csv") is not None:
        write_csv(df, Path(targets["csv"]))


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """The tidy table as CSV (UTF-8, atomically); text starting with = + - @ (or tab/CR) gets a leading
    apostrophe, as spreadsheet-safe CSV does (OWASP CSV injection), numbers stay numbers."""
    safe = df.copy()
    for c in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[c]) and not pd.api.types.is_bool_dtype(safe[c]):
            safe[c] = safe[c].map(csv_safe)
    safe.columns = [csv_safe(str(c)) for c in safe.columns]
    with atomic_path(Path(path)) as tmp:
        safe.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    return Path(path)


def write_workbook(df: pd.DataFrame, path: Path, instance: Instance, variants: Sequence[Variant],
                   command: str = "") -> Path:
    """Sheet *Sweep*: title, then the tidy table as an Excel Table (money in the report's unit, seconds
    to 0.1 s, columns wide enough for their figures); *Chart*: NPV by variant (named by its parameter
    values) and strategy, chart under its table; *About*. Print setup as every report
    (:mod:`optimiser.report.style`)."""
    from openpyxl import Workbook  # noqa: PLC0415
    from openpyxl.chart import BarChart  # noqa: PLC0415

    wb = Workbook()
    wb.remove(wb.active)
    written = _dt.datetime.now().replace(microsecond=0)
    money_cols = [c for c in df.columns if c in ("npv", "worst_case") or str(c).startswith("npv[")]
    amounts = [float(v) for c in money_cols for v in df[c] if v is not None and v == v]
    set_style(wb, instance.name, instance.currency, amounts, run_date=written.date().isoformat())
    cur = instance.currency
    names = list(dict.fromkeys(v.name for v in variants))
    strategies = list(dict.fromkeys(df["strategy"])) if len(df) else []
    sh = Sheet(wb.create_sheet("Sweep"), freeze_cols=1)
    sh.title(f"{instance.name} — sweep: {len(names)} variant(s) × {len(strategies)} strateg"
             f"{'y' if len(strategies) == 1 else 'ies'}",
             f"One row per variant and strategy. NPV: expected cash NPV over the scenarios (or the one scenario's), "
             f"in {money_unit(wb, cur)}; best strategy: the highest NPV of the variant.")
    kinds = {c: "money" for c in money_cols} | {"gap": "pct", "solve_seconds": "seconds", "best_strategy": "bool"}
    kinds |= {c: "number" for c in df.columns if c not in kinds and c != "variant"
              and pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])}
    headers = {"npv": f"NPV ({cur})", "worst_case": f"worst scenario ({cur})", "solve_seconds": "solve seconds",
               "best_strategy": "best strategy", "options_taken": "deals taken", "lines_built": "lines built"}
    headers |= {c: f"NPV in {str(c)[4:-1]} ({cur})" for c in money_cols if str(c).startswith("npv[")}
    sh.frame(df, "SweepResults", cur, columns=[str(c) for c in df.columns], headers=headers, kinds=kinds,
             empty_note="no rows: nothing was solved")
    sh.finish()

    # Chart: expected NPV (or the scenario's NPV) per variant, one series per strategy
    ch = Sheet(wb.create_sheet("Chart"))
    ch.title(f"NPV by variant and strategy ({money_unit(wb, cur)})", "Each variant named by its parameter values.")
    label = {v.name: v.label for v in variants}
    npv = {(r.variant, r.strategy): r.npv for r in df[["variant", "strategy", "npv"]].itertuples()} if len(df) else {}
    cols = [Col("variant", "variant"), Col("parameters", "parameters")]
    cols += [Col(f"s{i}", f"{s} ({cur})", "money") for i, s in enumerate(strategies)]
    rows = [[n, label.get(n, ""), *[_cell(npv.get((n, s))) for s in strategies]] for n in names]
    block = ch.table(cols, rows, "SweepChart", empty_note="no variants")
    if block is not None and strategies:
        chart = BarChart()
        chart.type = "col"
        chart.add_data(block.references([f"s{i}" for i in range(len(strategies))]), titles_from_data=True)
        chart.set_categories(block.reference("parameters"))
        unit = money_unit(wb, cur)
        style_chart(chart, f"NPV by variant ({unit})", y_title=f"NPV ({unit})", x_title="variant",
                    y_format=money_axis_format(amounts), width=max(16, min(30, 1.2 * len(names))), height=9)
        chart_anchor(ch, chart, block)
    ch.finish()

    ab = Sheet(wb.create_sheet("About"))
    ab.title("About this sweep")
    about = [("instance", instance.name), ("instance_sha256", instance.fingerprint),
             ("currency", instance.currency), ("money shown in", money_unit(wb, cur)), ("variants", len(names)),
             ("rows", len(df)), ("written", written.isoformat(sep=" ")), ("command", command)]
    about += [(f"parameter {k}", f"{meaning}; default {number_text(d)}; {k}:ID for one {scope}")
              for k, (d, scope, meaning) in PARAMETERS.items()]
    about += [("parameter paths", "table.column[row]=v sets the cells (e.g. options.upfront_cost[buy_vinfast]); "
                                  "table.column[row]*=f multiplies them; see README, Parameters")]
    about += [("npv", "expected NPV over the instance's scenarios (two-stage plan), or the one scenario's NPV"),
              ("best_strategy", "yes for the strategy with the highest NPV within the variant")]
    ab.table([Col("item", "item"), Col("value", "value")], [[k, str(v)] for k, v in about], "SweepAbout",
             max_width=100)
    ab.finish()
    wb.active = 0
    return save_workbook(wb, Path(path))


def _cell(v: Any) -> Any:
    if v is None:
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v
