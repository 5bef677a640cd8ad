"""An empty instance workbook a planner fills in.

Every table is a sheet with a bold, frozen header; each header cell carries
the column's description, unit and default as a cell comment; enumerations get
drop-down lists; a first ``README`` sheet explains the tables. The reader skips
the README sheet, so a filled-in template is an instance as it stands.
"""

from __future__ import annotations

from pathlib import Path

from .schema import SETTINGS_KEYS, SOURCE_COLUMN, TABLES, Column
from .writers import atomic_path

MAX_TEMPLATE_ROWS = 5000


def column_note(col: Column) -> str:
    """The text shown for a column: description, type, unit, default, allowed values."""
    parts = [col.description]
    kind = {"id": "id (text)", "text": "text", "int": "whole number", "float": "number",
            "bool": "true/false", "enum": "one of: " + ", ".join(col.choices)}[col.type]
    parts.append(f"Type: {kind}.")
    if col.unit:
        parts.append(f"Unit: {col.unit}.")
    parts.append("Required." if col.required else f"Optional; default: {'blank' if col.default is None else col.default}.")
    if col.bound_text:
        parts.append(f"Must be {col.bound_text}.")
    if col.references:
        parts.append(f"Must match {col.references}.")
    return " ".join(p for p in parts if p)


def write_template(path: Path) -> None:
    """Write the template workbook to ``path`` (atomically)."""
    from openpyxl import Workbook  # noqa: PLC0415
    from openpyxl.comments import Comment  # noqa: PLC0415
    from openpyxl.styles import Alignment, Font, PatternFill  # noqa: PLC0415
    from openpyxl.worksheet.datavalidation import DataValidation  # noqa: PLC0415

    wb = Workbook()
    readme = wb.active
    readme.title = "README"
    readme["A1"] = "EV production-line capacity optimiser — instance template"
    readme["A1"].font = Font(bold=True, size=14)
    readme["A2"] = ("Fill in one sheet per table (header in row 1; hover a header for its meaning). Tables marked "
                    "required must be present; others may be deleted. Blank optional cells take their default. "
                    "Every table may carry a free-text 'source' column. Check with: optimiser validate FILE.xlsx")
    readme["A2"].alignment = Alignment(wrap_text=True)
    readme.merge_cells("A2:D2")
    readme.row_dimensions[2].height = 60
    readme.append([])
    readme.append(["table", "required", "what it holds", "columns"])
    for c in readme[4]:
        c.font = Font(bold=True)
    for t in TABLES:
        cols = ", ".join(c.name + ("*" if c.required else "") for c in t.columns)
        readme.append([t.name, "yes" if t.required else "no", t.description, cols])
    readme.append([])
    readme.append(["settings keys", "required", "meaning", "default"])
    for c in readme[readme.max_row]:
        c.font = Font(bold=True)
    for k in SETTINGS_KEYS:
        readme.append([k.name, "yes" if k.required else "no", column_note(k), "" if k.default is None else str(k.default)])
    for col, width in zip("ABCD", (22, 10, 70, 90)):
        readme.column_dimensions[col].width = width

    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for t in TABLES:
        ws = wb.create_sheet(t.name)
        names = [c.name for c in t.columns] + [SOURCE_COLUMN]
        ws.append(names)
        for j, name in enumerate(names, start=1):
            cell = ws.cell(1, j)
            cell.font = Font(bold=True)
            cell.fill = header_fill
            note = column_note(t.columns[j - 1]) if j <= len(t.columns) else "Where the numbers of this row came from (free text)."
            cell.comment = Comment(note, "optimiser", width=320, height=140)
            ws.column_dimensions[cell.column_letter].width = max(12, len(name) + 4)
            if j <= len(t.columns) and t.columns[j - 1].type in ("enum", "bool"):
                col = t.columns[j - 1]
                choices = col.choices if col.type == "enum" else ("true", "false")
                dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=not col.required,
                                    showErrorMessage=True, errorTitle=f"{t.name}.{col.name}",
                                    error=f"Choose one of: {', '.join(choices)}")
                dv.add(f"{cell.column_letter}2:{cell.column_letter}{MAX_TEMPLATE_ROWS}")
                ws.add_data_validation(dv)
        ws.freeze_panes = "A2"
        if t.name == "settings":
            for k in SETTINGS_KEYS:
                ws.append([k.name, None])
            dv = DataValidation(type="list", formula1='"' + ",".join(k.name for k in SETTINGS_KEYS) + '"', allow_blank=True)
            dv.add(f"A2:A{len(SETTINGS_KEYS) + 20}")
            ws.add_data_validation(dv)
    with atomic_path(Path(path)) as tmp:
        wb.save(tmp)
