"""The workbook of ``optimiser alternatives --out``: a Summary sheet (one row per near-optimal plan) and
the plan sheet of the optimum and of each alternative (from an
:class:`optimiser.alternatives.Alternatives` alone).
"""

from __future__ import annotations

from pathlib import Path

from ..alternatives import Alternatives
from ..data import Instance
from .sheet import Sheet
from .style import set_style
from .workbook import add_plan_file_sheet
from .xlsx import Col
from .xml_writer import save_workbook


def write_alternatives_workbook(instance: Instance, alts: Alternatives, path: Path) -> Path:
    """``--out``: a Summary sheet (one row per plan: NPV, Δ, distances, differences) and a plan
    sheet for the optimum and for each alternative (the content of its plan file)."""
    from openpyxl import Workbook  # noqa: PLC0415

    wb = Workbook()
    wb.remove(wb.active)
    set_style(wb, instance.name, alts.optimum.currency,
              [alts.optimum.npv or 0.0, *((a.plan.npv or 0.0) for a in alts.found)])  # printed &D: no run date here
    sh = Sheet(wb.create_sheet("Summary"))
    cur = alts.optimum.currency
    sh.title(f"{instance.name}: near-optimal alternatives",
             f"Plans whose objective is within {alts.within:.2%} of the optimum (≥ {alts.floor:,.0f} {cur}), each as "
             "different as possible from the optimum and from every earlier one in deals, builds and tooling. "
             f"Stopped: {alts.stopped}.")
    opt_npv = alts.optimum.npv or 0.0
    rows = [["Plan 0 (optimum)", alts.optimum.npv, 0.0, 0, 0, "the optimum"]]
    rows += [[f"Plan {a.rank}", a.plan.npv, (a.plan.npv or 0.0) - opt_npv, a.distance_to_optimum,
              a.distance_to_nearest, "; ".join(a.differences)] for a in alts.found]
    sh.table([Col("plan", "plan"), Col("npv", f"NPV ({cur})", "money"), Col("delta", f"vs optimum ({cur})", "money"),
              Col("d_opt", "decisions differing from the optimum", "int"),
              Col("d_near", "from the nearest earlier plan", "int"), Col("what", "difference from the optimum")],
             rows, "Alternatives", max_width=80)
    sh.finish()
    add_plan_file_sheet(wb, alts.optimum_results, title="Plan 0 (optimum)", plan=alts.optimum)
    for a in alts.found:
        add_plan_file_sheet(wb, a.results, title=f"Plan {a.rank}", plan=a.plan)
    return save_workbook(wb, Path(path))
