"""Every workbook the CLI writes, from result tables, instance data and analysis dataclasses alone.

Modules, lowest first:

* :mod:`~optimiser.report.format` — money, shares and names as text (the one formatting module);
* :mod:`~optimiser.report.style` — the craft every workbook shares (money in millions, print header and
  footer, page breaks, chart placement and labels);
* :mod:`~optimiser.report.xlsx` — column kinds, formats, Excel-safe values and names, ``Col``/``Block``;
  :mod:`~optimiser.report.blocks` — one Excel Table written cell by cell;
  :mod:`~optimiser.report.sheet` — the ``Sheet`` cursor, print layout, chart look;
  :mod:`~optimiser.report.xml_writer` — the fast sheet XML writer and the atomic save;
* :mod:`~optimiser.report.figures` — the report's numbers (no openpyxl);
* the sheets of a solve: :mod:`~optimiser.report.context`, :mod:`~optimiser.report.summary`,
  :mod:`~optimiser.report.production`, :mod:`~optimiser.report.plan_sheets`,
  :mod:`~optimiser.report.cash_flow`, put together by :mod:`~optimiser.report.workbook`
  (``write_report``);
* the other workbooks: :mod:`~optimiser.report.comparison` (``compare``), :mod:`~optimiser.report.decide`
  (``decide``), :mod:`~optimiser.report.sweep` (``sweep``), :mod:`~optimiser.report.alternatives`
  (``alternatives``), :mod:`~optimiser.report.diff` (``diff``), :mod:`~optimiser.report.tornado` (``tornado``).

The names below are importable from the package itself; each loads its module on first use, so
``import optimiser.report.format`` stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: Public name → the module of this package that defines it.
_EXPORTS = {
    "SHEETS": "workbook", "PLAN_SHEETS": "workbook", "add_plan_sheets": "workbook", "add_plan_sheet": "workbook",
    "add_plan_file_sheet": "workbook", "add_inputs_sheet": "workbook", "add_run_record_sheet": "workbook",
    "build_report": "workbook", "write_report": "workbook",
    "Headline": "figures", "KindUnits": "figures", "headline": "figures", "money_amounts": "figures",
    "write_comparison": "comparison",
    "build_decision_workbook": "decide", "write_decision_workbook": "decide",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
