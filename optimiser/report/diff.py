"""The workbook of ``optimiser diff --out``: a Summary sheet with every line of the terminal output and,
for two instances, one sheet per changed table with its changed cells highlighted (from a
:class:`optimiser.diff.InstanceDiff` or :class:`optimiser.diff.PlanDiff` alone).
"""

from __future__ import annotations

from pathlib import Path

from ..diff import InstanceDiff, PlanDiff, plain_value, value_text
from ..schema import TABLES_BY_NAME
from .sheet import print_setup
from .style import set_style
from .xlsx import put, sheet_title
from .xml_writer import save_workbook

_FILL = "FFEB9C"  # Excel's "neutral" yellow
_ADDED = "C6EFCE"
_REMOVED = "FFC7CE"


def write_diff_workbook(d: InstanceDiff | PlanDiff, path: Path) -> Path:
    """``--out diff.xlsx``: a Summary sheet (every line of the terminal output) and, for two
    instances, one sheet per changed table — its added, removed and changed rows (B's values;
    A's for removed rows), changed cells highlighted with the old value as a comment."""
    from openpyxl import Workbook  # noqa: PLC0415
    from openpyxl.comments import Comment  # noqa: PLC0415
    from openpyxl.styles import Font, PatternFill  # noqa: PLC0415

    wb = Workbook()
    set_style(wb, f"{Path(d.a).name} vs {Path(d.b).name}", "")  # header: what is compared; printed &D
    ws = wb.active
    ws.title = "Summary"
    for i, line in enumerate(d.lines(), 1):
        put(ws, i, 1, line)
    ws.column_dimensions["A"].width = 100
    print_setup(ws, landscape=False)
    if isinstance(d, InstanceDiff):
        fill = {k: PatternFill("solid", fgColor=c) for k, c in (("cell", _FILL), ("added", _ADDED), ("removed", _REMOVED))}
        bold = Font(bold=True)
        for table, rows in d.by_table().items():
            sh = wb.create_sheet(sheet_title(wb, table))
            cols = list(TABLES_BY_NAME[table].column_names)
            head = ["change", "row in A", "row in B", *cols]
            for j, h in enumerate(head, 1):
                put(sh, 1, j, h).font = bold
            for i, r in enumerate(rows, 2):
                put(sh, i, 1, r.kind)
                put(sh, i, 2, r.row_a)
                put(sh, i, 3, r.row_b)
                changed = {c.column: c for c in r.cells}
                for j, c in enumerate(cols, 4):
                    cell = put(sh, i, j, plain_value(r.values.get(c)))
                    if c in changed:
                        cell.fill = fill["cell"]
                        cell.comment = Comment(f"was: {value_text(changed[c].old)}", "optimiser diff")
                    elif r.kind in ("added", "removed"):
                        cell.fill = fill[r.kind]
            sh.freeze_panes = "D2"
            sh.print_title_rows = "1:1"
            print_setup(sh)
    return save_workbook(wb, Path(path))
