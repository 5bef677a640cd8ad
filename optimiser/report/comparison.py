"""The comparison workbook of ``optimiser compare``: recommendation, value of planning for uncertainty,
stochastic plans, the strategy × scenario matrix with its chart, regret, risk, one plan sheet per
strategy, inputs and run record — from the :class:`optimiser.compare.Comparison` tables alone.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from ..data import Instance
from .context import kv_table
from .sheet import Sheet, money_axis_format, style_chart
from .style import chart_anchor, money_unit, set_style
from .workbook import add_inputs_sheet, add_plan_sheet, version
from .xml_writer import save_workbook


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
    kv_table(rec, [("command", command, None, ""), ("instance sha256", instance.fingerprint, None, ""),
                    ("optimiser", __version__, None, ""), ("HiGHS", version("highspy"), None, ""),
                    ("Pyomo", version("pyomo"), None, ""),
                    ("written", written.isoformat(), None, "")],
              "Run_record")
    rec.finish()
    wb.properties.creator = f"optimiser {__version__}"
    wb.properties.title = f"{instance.name} — comparison"
    wb.active = 0
    return save_workbook(wb, Path(path))
