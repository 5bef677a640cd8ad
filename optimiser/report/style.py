"""Report craft shared by every workbook the CLI writes (solve, compare, sweep, alternatives, diff,
and the decision workbook built on them): money in millions, print titles, headers and footers,
page breaks, chart placement and data labels.

A workbook gets a :class:`ReportStyle` once (:func:`set_style`): the instance's name, its currency
and whether money shows in millions. Everything else reads it from ``ws.parent``:

* **Money in millions.** Cells keep the exact amount (tests and formulas read full dollars); only
  the display is scaled, by the number format ``#,##0.0,,`` (each trailing comma divides by
  1,000). The header names the unit: ``NPV (m USD)`` (:func:`money_header`). Workbooks whose
  largest amount is under a million keep whole currency units (``#,##0``) — a toy instance
  should not read ``0.0`` everywhere. Per-unit prices (``unit price``, fees, shadow prices)
  are never scaled: they are not money of a plan but rates.
* **Print.** Header: instance name (left), sheet name (centre), run date (right: the date the
  run record states when the writer gives one, else Excel's ``&D``, the date of printing, which
  keeps the file deterministic). Footer: sheet (left), ``page &P of &N`` (right). The first
  table's header repeats on every printed page (:meth:`optimiser.report.sheet.Sheet.finish`); a later
  table starts on a new page when the page it would start on is already well filled
  (:func:`page_breaks`).
* **Charts** sit beside their own table when their left edge stays within the first screen
  (:data:`SCREEN_PX` pixels from the sheet's left edge, about column L at default widths), else
  under it (:func:`chart_anchor`); bars that carry a figure get data labels in the table's own
  number format (:func:`label_series`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

#: Money shown in millions, one decimal; the stored value stays the exact amount.
MONEY_M = "#,##0.0,,"
#: Data-label format of money bars in millions: zero shows nothing (the hidden parts of a waterfall).
LABEL_M = '#,##0.0,,;-#,##0.0,,;;'
#: Whole currency units (a workbook whose amounts are all under a million).
MONEY_1 = "#,##0"
LABEL_1 = '#,##0;-#,##0;;'
#: From this largest absolute amount on, money shows in millions.
MILLIONS_FROM = 1e6
#: A chart's left edge stays within this many pixels of the sheet's left edge (the first screen of a
#: laptop: 1,366 px less the row headers and the window frame, with room for most of the chart).
SCREEN_PX = 1030
#: Rows of a printed page at 100 %, roughly (A4 landscape, default row height, header and footer).
PAGE_ROWS = 32
#: Series colours of the plan charts: rises, falls, the main series and capacity.
GREEN, RED, BLUE, GREY = "70AD47", "C0504D", "4472C4", "A5A5A5"


@dataclass(frozen=True)
class ReportStyle:
    """What every sheet of one workbook shares: whose report it is and how money shows."""

    instance: str
    currency: str
    millions: bool = True
    #: The run's date (``YYYY-MM-DD``) when the workbook states one; ``None`` → the date of printing.
    run_date: str | None = None

    @property
    def money_unit(self) -> str:
        """``m USD`` or ``USD``."""
        return f"m {self.currency}" if self.millions else self.currency

    @property
    def money_format(self) -> str:
        return MONEY_M if self.millions else MONEY_1

    @property
    def label_format(self) -> str:
        return LABEL_M if self.millions else LABEL_1


def set_style(wb: Any, instance: str, currency: str, amounts: Iterable[float | None] = (),
              run_date: str | None = None) -> ReportStyle:
    """Give ``wb`` its style: money in millions when the largest of ``amounts`` is at least
    :data:`MILLIONS_FROM` (or when no amounts are given)."""
    vals = [abs(float(v)) for v in amounts if v is not None and float(v) == float(v)]
    millions = (max(vals) >= MILLIONS_FROM) if vals else True
    style = ReportStyle(str(instance), str(currency), millions, run_date)
    wb._optimiser_report_style = style
    return style


def style_of(wb: Any) -> ReportStyle | None:
    """The workbook's style, or ``None`` (a workbook not made by a report writer: plain formats)."""
    return getattr(wb, "_optimiser_report_style", None)


def money_format(wb: Any, default: str = MONEY_1) -> str:
    """The number format of money cells in ``wb``."""
    s = style_of(wb)
    return s.money_format if s is not None else default


def money_unit(wb: Any, currency: str) -> str:
    """``m USD`` in a workbook showing millions, else the currency."""
    s = style_of(wb)
    return s.money_unit if s is not None else currency


def money_header(wb: Any, header: str) -> str:
    """A money column's header naming the unit shown: ``NPV (USD)`` → ``NPV (m USD)``; a header
    without the currency (a scenario name) gets `` (m USD)`` appended. Unchanged without a style
    or when the workbook shows whole units and the header names no currency."""
    s = style_of(wb)
    if s is None:
        return header
    cur, unit = s.currency, s.money_unit
    if f"({unit}" in header:
        return header
    if f"({cur}" in header:
        return header.replace(f"({cur}", f"({unit}", 1)
    return f"{header} ({unit})" if s.millions else header


def money_width(values: Iterable[float], fmt: str) -> int:
    """Characters the longest of ``values`` shows in money format ``fmt``."""
    vals = list(values)
    if not vals:
        return 0
    if fmt in (MONEY_M, LABEL_M):
        return max(len(f"{v / 1e6:,.1f}") for v in vals)
    return max(len(f"{v:,.0f}") for v in vals)


# --------------------------------------------------------------------------- print

def _escape(text: str) -> str:
    """Header/footer text shown as is (``&`` starts a code there)."""
    return text.replace("&", "&&")


def header_footer(ws: Any) -> None:
    """Header: instance (left), sheet (centre), run date (right); footer: sheet, page x of y."""
    s = style_of(ws.parent)
    name = s.instance if s is not None else (ws.parent.properties.title or "")
    when = f"run {s.run_date}" if s is not None and s.run_date else "printed &D"
    for hf in (ws.oddHeader, ws.evenHeader, ws.firstHeader):
        hf.left.text = _escape(name)[:80]
        hf.center.text = "&A"
        hf.right.text = when
    for hf in (ws.oddFooter, ws.evenFooter, ws.firstFooter):
        hf.left.text = "&A"
        hf.right.text = "page &P of &N"


def rows_per_page(ws: Any) -> int:
    """Rows of a printed page of ``ws`` (A4 landscape, fitted one page wide): :data:`PAGE_ROWS` at
    100 %, more when the sheet is wider than the page and printing scales it down."""
    width = column_px(ws, ws.max_column + 1)
    for chart in getattr(ws, "_charts", ()):
        anchor = chart.anchor
        col = anchor._from.col + 1 if not isinstance(anchor, str) else _anchor_col(anchor)
        width = max(width, column_px(ws, col) + chart_width_px(chart))
    page_px = (11.69 - 0.8) * 96  # A4 landscape less the side margins
    scale = min(1.0, page_px / max(width, 1))
    return max(PAGE_ROWS, int(PAGE_ROWS / scale))


def _anchor_col(anchor: str) -> int:
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string  # noqa: PLC0415

    return column_index_from_string(coordinate_from_string(anchor)[0])


def page_breaks(ws: Any, tables: Iterable[tuple[int, int]], page_rows: int | None = None) -> list[int]:
    """Start a later table (with a chart right under it) on a new page when it would not fit on the rest of the page it starts on
    and that page is already a quarter full: a break above its heading (the row above the header when
    it holds text), never through a chart. ``tables``: (header row, last row) of each table. Returns
    the rows broken after."""
    from openpyxl.worksheet.pagebreak import Break  # noqa: PLC0415

    spans = sorted(set(tables))
    if len(spans) < 2:
        return []
    page_rows = page_rows or rows_per_page(ws)
    charts = chart_rows(ws)
    breaks: list[int] = []
    page_top = 1
    for h, last in spans[1:]:
        last = max([last] + [b for a, b in charts if last < a <= last + 3])  # with the chart under it
        top = h - 1 if h > 1 and ws.cell(row=h - 1, column=1).value not in (None, "") else h
        while top - page_top >= page_rows:  # pages that filled up on their own
            page_top += page_rows
        if any(a < top <= b for a, b in charts):  # never through a chart
            continue
        fits = last - page_top < page_rows
        if not fits and top - page_top > page_rows // 4:
            breaks.append(top - 1)
            ws.row_breaks.append(Break(id=top - 1))
            page_top = top
    return breaks


def spans_pages(n_rows: int, page_rows: int = PAGE_ROWS) -> bool:
    """A table of ``n_rows`` rows is long: it cannot fit on one printed page with its heading."""
    return n_rows + 3 > page_rows


# --------------------------------------------------------------------------- charts

def chart_rows(ws: Any) -> list[tuple[int, int]]:
    """The (first, last) row each chart on ``ws`` covers."""
    from openpyxl.utils.cell import coordinate_from_string  # noqa: PLC0415

    out = []
    for chart in getattr(ws, "_charts", ()):
        anchor = chart.anchor
        if isinstance(anchor, str):
            first = coordinate_from_string(anchor)[1]
        else:
            first = anchor._from.row + 1
        out.append((first, first + rows_for(ws, first, chart.height) - 1))
    return out


def column_px(ws: Any, col: int) -> int:
    """Pixels from the sheet's left edge to the left edge of column ``col`` (1-based)."""
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    px = 0
    for j in range(1, col):
        dim = ws.column_dimensions.get(get_column_letter(j))
        width = dim.width if dim is not None and dim.width else 8.43
        px += int(width * 7 + 5)
    return px


def chart_width_px(chart: Any) -> int:
    return int(chart.width / 2.54 * 96)


def rows_for(ws: Any, start_row: int, height_cm: float) -> int:
    """How many rows from ``start_row`` something ``height_cm`` tall covers (row heights honoured)."""
    r, acc = start_row, 0.0
    while acc < height_cm:
        acc += (ws.row_dimensions[r].height or 15.0) * 2.54 / 72
        r += 1
    return r - start_row


def beside_fits(ws: Any, col: int) -> bool:
    """A chart whose left edge is column ``col`` starts within the first screen."""
    return column_px(ws, col) <= SCREEN_PX


def chart_anchor(sh: Any, chart: Any, block: Any, top_row: int | None = None, beside: bool = True) -> str:
    """Place ``chart`` beside ``block`` (two columns right of it, from ``top_row`` or the block's
    heading) when it starts within the first screen, else under the block. Under means at the
    sheet cursor, which must be just past the block: the cursor then moves below the chart, so
    what follows is not hidden. ``beside=False``: always under (a sheet whose later, wider tables
    would widen the columns the chart starts after). Adds the chart; returns its anchor cell."""
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    ws = block.ws
    col = block.last_col + 2
    if beside and beside_fits(ws, col):
        row = top_row if top_row is not None else max(1, block.header_row - 1)
        anchor = f"{get_column_letter(col)}{row}"
        if sh.ws is ws:  # what follows starts below the chart: a wider table must not run under it
            sh.row = max(sh.row, row + rows_for(ws, row, chart.height) + 1)
    else:
        row = max(sh.row, block.last_row + 2) if sh.ws is ws else block.last_row + 2
        anchor = f"A{row}"
        if sh.ws is ws:
            sh.row = row + rows_for(ws, row, chart.height) + 1
    ws.add_chart(chart, anchor)
    return anchor


def label_series(series: Any, number_format: str, position: str | None = None) -> None:
    """Data labels showing each bar's value in ``number_format`` (no series or category name)."""
    from openpyxl.chart.label import DataLabelList  # noqa: PLC0415

    labels = DataLabelList()
    labels.showVal = True
    for attr in ("showSerName", "showCatName", "showLegendKey", "showPercent", "showLeaderLines"):
        setattr(labels, attr, False)
    labels.numFmt = number_format
    if position:
        labels.position = position
    series.dLbls = labels
