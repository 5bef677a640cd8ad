"""`optimiser template`: every table as a sheet, described headers, drop-downs; a filled-in template is an instance."""

from __future__ import annotations

from openpyxl import load_workbook
from typer.testing import CliRunner

from optimiser.cli import app
from optimiser.schema import TABLES
from optimiser.validate import load_instance


def test_template_sheets_notes_and_dropdowns(tmp_path):
    out = tmp_path / "blank.xlsx"
    res = CliRunner().invoke(app, ["template", str(out)])
    assert res.exit_code == 0, res.output
    wb = load_workbook(out)
    assert wb.sheetnames == ["README"] + [t.name for t in TABLES]
    for t in TABLES:
        ws = wb[t.name]
        header = [c.value for c in ws[1]]
        assert header == [c.name for c in t.columns] + ["source"]
        assert all(c.font.bold for c in ws[1])
        assert ws.freeze_panes == "A2"
        assert all(c.comment is not None and c.comment.text for c in ws[1])
        enums = [c for c in t.columns if c.type in ("enum", "bool")]
        ranges = {str(dv.sqref).split(":")[0] for dv in ws.data_validations.dataValidation}
        for col in enums:
            letter = ws.cell(1, t.column_names.index(col.name) + 1).column_letter
            assert f"{letter}2" in ranges, (t.name, col.name)
    lines = wb["lines"]
    status_dv = next(dv for dv in lines.data_validations.dataValidation if str(dv.sqref).startswith("E2"))
    assert status_dv.formula1 == '"existing,candidate"'


def test_filled_template_is_a_valid_instance(tmp_path):
    out = tmp_path / "blank.xlsx"
    CliRunner().invoke(app, ["template", str(out)])
    wb = load_workbook(out)
    values = {"name": "filled", "first_year": 2025, "last_year": 2026}
    for row in wb["settings"].iter_rows(min_row=2):
        if row[0].value in values:
            row[1].value = values[row[0].value]
    wb["factories"].append(["F1", "Plant", "Us", "VN", "ASEAN"])
    wb["markets"].append(["M1", "Market", "ASEAN"])
    wb["lines"].append(["L1", "F1", "VA", 100, "existing"])
    wb["programmes"].append(["P1", "Car", "vehicle", None, 10])
    wb["routings"].append(["P1", "VA", None, 1])
    wb["demand"].append(["P1", "M1", 2025, 50])
    for t in TABLES:
        if not t.required:
            del wb[t.name]
    wb.save(out)
    inst, warnings = load_instance(out)
    assert inst.name == "filled" and inst.years == (2025, 2026)
    assert [w for w in warnings if w.severity == "error"] == []
