"""Excel report (minimal placeholder; the full management workbook replaces it)."""

from __future__ import annotations

from pathlib import Path

from .data import Instance
from .results import Results
from .writers import atomic_path


def write_report(instance: Instance, results: Results, path: Path, command: str = "") -> Path:
    from openpyxl import Workbook  # noqa: PLC0415

    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    ws.append(["NPV", results.run.npv])
    for name in ("npv_breakdown", "options", "production", "utilisation", "demand"):
        df = getattr(results, name)
        sh = wb.create_sheet(name)
        sh.append(list(df.columns))
        for row in df.itertuples(index=False):
            sh.append([None if v != v else v for v in row])
    with atomic_path(Path(path)) as tmp:
        wb.save(tmp)
    return Path(path)
