"""What the report-writing commands share: their ``--out`` workbook checked before any work, and
their result printed as one JSON object or as lines (diff, alternatives, tornado)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Sequence

import typer

from ..errors import InputError
from ..writers import check_output


def check_workbook_out(out: Path | None, inputs: Sequence[Path], what: str) -> None:
    """Before any work: an ``--out`` workbook needs an .xlsx name and must pass the output rule
    (:func:`optimiser.writers.check_output`); ``None`` (no workbook) passes."""
    if out is None:
        return
    if out.suffix.lower() != ".xlsx":
        raise InputError(f"--out {out}: the {what} needs a name ending in .xlsx")
    check_output(out, inputs)


def emit(payload: dict[str, Any], lines: Iterable[str], out: Path | None, as_json: bool) -> None:
    """Print a job's result: ``payload`` plus the workbook path as one JSON object, or its lines and
    where the workbook went."""
    if as_json:
        typer.echo(json.dumps(payload | {"workbook": str(out) if out else None}, indent=2, ensure_ascii=False))
        return
    for line in lines:
        typer.echo(line)
    if out is not None:
        typer.echo(f"wrote {out}")
