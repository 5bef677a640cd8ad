"""The workbook of ``optimiser tornado --out``: one row per parameter, sorted by swing, and a bar chart of
the recommended strategy's expected NPV at low and high relative to the base (from a
:class:`optimiser.tornado.Tornado` alone).
"""

from __future__ import annotations

from pathlib import Path

from ..tornado import Tornado
from ..writers import atomic_path
from .xlsx import put


def write_tornado_workbook(t: Tornado, path: Path) -> Path:
    """Sheet *Tornado*: one row per parameter (sorted by swing) and a native bar chart of the recommended
    strategy's expected NPV at low and high relative to the base; every cell through :func:`optimiser.report.xlsx.put`."""
    from openpyxl import Workbook  # noqa: PLC0415
    from openpyxl.chart import BarChart, Reference  # noqa: PLC0415
    from openpyxl.styles import Font  # noqa: PLC0415

    cur = t.currency
    wb = Workbook()
    ws = wb.active
    ws.title = "Tornado"
    base_npv = t.base.npv.get(t.recommended) or 0.0
    put(ws, 1, 1, f"Tornado — {t.instance}: expected NPV of {t.recommended} (recommended) and "
                  f"{t.runner_up or '—'} (runner-up), M {cur}")
    ws.cell(1, 1).font = Font(bold=True, size=13)
    put(ws, 2, 1, f"base: {t.recommended} {base_npv / 1e6:,.1f} M {cur}"
                  + (f"; {t.runner_up} {(t.base.npv.get(t.runner_up) or 0) / 1e6:,.1f} M {cur}" if t.runner_up else ""))
    header = ["parameter", "kind", "low", "high", f"{t.recommended} at low (M {cur})",
              f"{t.recommended} at high (M {cur})", f"runner-up at low (M {cur})", f"runner-up at high (M {cur})",
              f"swing (M {cur})", "best at low", "best at high", "flips", f"change at low (M {cur})",
              f"change at high (M {cur})", "note"]
    top = 4
    for j, h in enumerate(header, start=1):
        put(ws, top, j, h).font = Font(bold=True)
    money = "#,##0.0;[Red]-#,##0.0"

    def m(x: float | None) -> float | None:
        return None if x is None else x / 1e6

    for i, row in enumerate(t.rows, start=top + 1):
        d = row.as_dict(t.strategies)
        vals = [d["parameter"], d["kind"], d["low"], d["high"], m(d["recommended_low"]), m(d["recommended_high"]),
                m(d["runner_up_low"]), m(d["runner_up_high"]), m(d["swing"]), d["best_at_low"], d["best_at_high"],
                "yes" if d["flips"] else "no",
                None if d["recommended_low"] is None else m(d["recommended_low"] - base_npv),
                None if d["recommended_high"] is None else m(d["recommended_high"] - base_npv), d["note"]]
        for j, v in enumerate(vals, start=1):
            put(ws, i, j, v, money if 5 <= j <= 9 or j in (13, 14) else None)
    widths = [44, 11, 12, 12, 16, 16, 16, 16, 12, 12, 12, 7, 16, 16, 40]
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[ws.cell(top, j).column_letter].width = w
    ws.freeze_panes = ws.cell(top + 1, 2)
    ws.print_title_rows = f"{top}:{top}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    if t.rows:
        last = top + len(t.rows)
        chart = BarChart()
        chart.type = "bar"
        chart.grouping = "clustered"
        chart.overlap = 100
        chart.title = f"Change in expected NPV of {t.recommended} (M {cur})"
        chart.x_axis.title = "parameter"
        chart.y_axis.title = f"M {cur} vs base"
        data = Reference(ws, min_col=13, max_col=14, min_row=top, max_row=last)
        cats = Reference(ws, min_col=1, min_row=top + 1, max_row=last)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(cats)
        chart.x_axis.scaling.orientation = "maxMin"  # largest swing on top
        chart.height, chart.width = max(7.5, 1.2 * len(t.rows) + 4), 22
        ws.add_chart(chart, ws.cell(last + 3, 1).coordinate)
    with atomic_path(Path(path)) as tmp:
        wb.save(tmp)
    return Path(path)
