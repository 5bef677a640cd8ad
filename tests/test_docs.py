"""The table reference is generated from the schema and must stay in step with it."""

from pathlib import Path

from optimiser.docs import render


def test_tables_doc_is_current():
    doc = Path(__file__).resolve().parents[1] / "docs" / "tables.md"
    assert doc.read_text(encoding="utf-8").strip() == render().strip(), "run: python -m optimiser.docs > docs/tables.md"
