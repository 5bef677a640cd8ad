"""What every plan-sheet writer shares: the :class:`Ctx` (instance, results, scenario weights and the
blocks written so far) and the three-column key/value Table (:func:`kv_table`) of KPIs and run records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import pandas as pd

from ..data import Instance
from ..results import Results
from .blocks import fit_row_heights, wrap_cell
from .figures import probabilities
from .sheet import Sheet
from .style import money_format, money_header, style_of
from .xlsx import MONEY, Block, Col


@dataclass
class Ctx:
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


def make_ctx(instance: Instance, results: Results, prefix: str = "") -> Ctx:
    return Ctx(instance, results, prefix, probabilities(results), {})

def kv_table(sh: Sheet, rows: Sequence[tuple[str, Any, str | None, str]], name: str,
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
