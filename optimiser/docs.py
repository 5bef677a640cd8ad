"""Render the table reference (docs/tables.md) from the column definitions in :mod:`optimiser.schema`.

``python -m optimiser.docs > docs/tables.md``; a test keeps the file in step with the schema.
"""

from __future__ import annotations

from .schema import SETTINGS_KEYS, SOURCE_COLUMN, TABLES, Column
from .template import column_note


def _row(col: Column) -> str:
    default = "—" if col.required else ("blank" if col.default is None else f"`{col.default}`")
    kind = col.type if col.type != "enum" else "one of " + ", ".join(f"`{c}`" for c in col.choices)
    req = "yes" if col.required else ""
    return f"| `{col.name}` | {kind} | {req} | {default} | {col.unit} | {col.description} |"


def render() -> str:
    out = ["# Instance tables", "",
           "Generated from `optimiser/schema.py` (`python -m optimiser.docs > docs/tables.md`); the reader, "
           "the validator and `optimiser template` use the same definitions.", "",
           f"Every table may also carry a free-text `{SOURCE_COLUMN}` column (where the numbers came from); it is "
           "kept for the report's Inputs sheet and ignored by the model. Unknown columns get a warning.", ""]
    for t in TABLES:
        out += [f"## `{t.name}`{' (required)' if t.required else ''}", "", t.description, ""]
        if t.key:
            out += [f"Key (unique): {', '.join(f'`{k}`' for k in t.key)}.", ""]
        for group in t.one_of:
            out += [f"Exactly one of {', '.join(f'`{c}`' for c in group)} per row.", ""]
        out += ["| column | type | required | default | unit | meaning |", "|---|---|---|---|---|---|"]
        out += [_row(c) for c in t.columns]
        out.append("")
        if t.name == "settings":
            out += ["Keys:", "", "| key | meaning |", "|---|---|"]
            out += [f"| `{k.name}` | {column_note(k)} |" for k in SETTINGS_KEYS]
            out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(render())
