"""The :class:`Sheet` cursor that stacks titled Tables down a worksheet (continuing a table longer than
an Excel sheet on further sheets), the print layout, and the shared chart look.

Landscape printing, one page wide, the first table's header frozen and repeated on every printed
page of a sheet with a long table, header and footer (:meth:`Sheet.finish`,
:mod:`optimiser.report.style`).

Typical use::

    sh = Sheet(wb.create_sheet("Production"))
    sh.title("Production", "units made per programme, line and year")
    block = sh.frame(df, "Production", currency="USD", empty_note="nothing was produced")
    ...
    sh.finish()
    save_workbook(wb, path)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from . import xlsx
from .blocks import transpose, write_columns
from .style import header_footer, page_breaks, spans_pages
from .xlsx import Block, Col, frame_columns, frame_values, put, sheet_title, table_name

# --------------------------------------------------------------------------- sheets

@dataclass
class Sheet:
    """A cursor that stacks titled blocks down a worksheet.

    ``row`` is the next free row. The first Table's header row is frozen and
    repeated on printed pages by :meth:`finish` (or ``freeze`` if set).

    An Excel sheet holds at most :data:`xlsx.MAX_SHEET_ROWS` rows. A Table that does not fit
    goes on over continuation sheets (``<title> (2)``, ``(3)``, … right after this one),
    each part its own Table under a note saying which rows it holds and where the rest
    is; the cursor then stays on the last of them, so the blocks that follow come after
    the table as usual. ``ws`` is the worksheet the cursor is on; a :class:`Block` knows
    its own (``block.ws``).
    """

    ws: Any
    row: int = 1
    freeze: str | None = None
    freeze_cols: int = 0
    blocks: list[Block] = field(default_factory=list)
    _first_header: int | None = None
    #: Worksheets the cursor has left: (worksheet, its first Table header row, its freeze setting).
    _done: list[tuple[Any, int | None, str | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._freeze_setting = self.freeze
        self._base_title = self.ws.title

    @property
    def wb(self) -> Any:
        return self.ws.parent

    @property
    def first_ws(self) -> Any:
        """The worksheet the sheet started on (charts go there, beside its first tables)."""
        return self._done[0][0] if self._done else self.ws

    def _fit(self, n: int) -> None:
        """Move on to a continuation sheet if the next ``n`` rows would run past the last row."""
        if self.row + n - 1 > xlsx.MAX_SHEET_ROWS:
            self._continue(self._next_sheet())

    def _next_sheet(self) -> Any:
        title = sheet_title(self.wb, f"{self._base_title} ({len(self._done) + 2})")
        return self.wb.create_sheet(title, index=self.wb.index(self.ws) + 1)

    def _continue(self, ws: Any) -> None:
        previous = self.ws
        self._done.append((self.ws, self._first_header, self.freeze))
        self.ws, self.row, self._first_header, self.freeze = ws, 1, None, self._freeze_setting
        self.title(f"{self._base_title} (continued)",
                   f"Continued from sheet {previous.title!r}: an Excel sheet holds at most {xlsx.MAX_SHEET_ROWS:,} rows.")

    def title(self, text: str, subtitle: str = "") -> None:
        """Sheet title (row 1) and an optional one-line reading guide (row 2)."""
        from openpyxl.styles import Font  # noqa: PLC0415

        self._fit(2 if subtitle else 1)
        put(self.ws, self.row, 1, text).font = Font(bold=True, size=14)
        self.row += 1
        if subtitle:
            put(self.ws, self.row, 1, subtitle).font = Font(italic=True, color="555555")
            self.row += 1
        self.row += 1

    def heading(self, text: str) -> None:
        """A block heading (bold) on its own row."""
        from openpyxl.styles import Font  # noqa: PLC0415

        self._fit(1)
        put(self.ws, self.row, 1, text).font = Font(bold=True, size=12)
        self.row += 1

    def note(self, text: str, italic: bool = True) -> None:
        """One line of explanatory text."""
        from openpyxl.styles import Font  # noqa: PLC0415

        self._fit(1)
        put(self.ws, self.row, 1, text).font = Font(italic=italic, color="555555" if italic else "000000")
        self.row += 1

    def gap(self, n: int = 1) -> None:
        self.row += n

    def table(self, cols: Sequence[Col], rows: Sequence[Sequence[Any]], name: str, empty_note: str = "none",
              col: int = 1, max_width: int = 48) -> Block | None:
        """Write a Table at the cursor (name made unique); ``None`` and a note when ``rows`` is empty.

        A table longer than the rows left on the sheet goes on over continuation sheets
        (see the class doc); the first part's Block is returned.
        """
        columns = transpose(rows, len(cols)) if rows else []
        return self.columns_table(cols, columns, len(rows), name, empty_note, col, max_width)

    def frame(self, df: Any, name: str, currency: str = "", columns: Sequence[str] | None = None,
              headers: Mapping[str, str] | None = None, kinds: Mapping[str, str] | None = None,
              empty_note: str = "none") -> Block | None:
        """Write a DataFrame as a Table (see :meth:`table`)."""
        cols = frame_columns(df, currency, columns, headers, kinds)
        values = frame_values(df, [c.key for c in cols]) if len(df) else []
        return self.columns_table(cols, values, len(df), name, empty_note)

    def columns_table(self, cols: Sequence[Col], columns: Sequence[Sequence[Any]], n_rows: int, name: str,
                      empty_note: str = "none", col: int = 1, max_width: int = 48) -> Block | None:
        """:meth:`table` for data given column by column (see :func:`write_columns`)."""
        if not n_rows or not cols:
            self.note(empty_note)
            self.row += 1
            return None
        if self.row + n_rows > xlsx.MAX_SHEET_ROWS:
            return self._long_table(cols, columns, n_rows, name, col, max_width)
        return self._place(write_columns(self.ws, self.row, col, cols, columns, table_name(self.wb, name),
                                         max_width=max_width))

    def _place(self, block: Block) -> Block:
        if self._first_header is None:
            self._first_header = block.header_row
        self.blocks.append(block)
        self.row = block.last_row + 2
        return block

    def _long_table(self, cols: Sequence[Col], columns: Sequence[Sequence[Any]], total: int, name: str, col: int,
                    max_width: int) -> Block:
        """A table in parts, each under a note saying which rows it holds: as many rows as fit
        here, the rest on the next sheet(s). Only when not even one row fits here does the table
        start on the next sheet, and then, if it fits there whole, it goes without a note."""
        start, first = 0, None
        while start < total:
            if start == 0 and total <= xlsx.MAX_SHEET_ROWS - self.row:  # fits whole (on a new sheet): no note
                n, following = total, None
            else:
                n = min(max(xlsx.MAX_SHEET_ROWS - self.row - 1, 0), total - start)  # under a note and the header
                following = self._next_sheet() if start + n < total else None
            if n == 0:  # not even one row fits here: say where the table is
                assert following is not None
                if self.row <= xlsx.MAX_SHEET_ROWS:
                    self.note(f"This table ({total - start:,} rows) is on sheet {following.title!r}.")
                self._continue(following)
                continue
            if n < total:
                rest = f"; the rest are on sheet {following.title!r}" if following is not None else ""
                self.note(f"Rows {start + 1:,}–{start + n:,} of {total:,}{rest} (an Excel sheet holds at most "
                          f"{xlsx.MAX_SHEET_ROWS:,} rows).")
            part = table_name(self.wb, name if start == 0 else f"{name}_from_row_{start + 1}")
            block = self._place(write_columns(self.ws, self.row, col, cols,
                                              [values[start:start + n] for values in columns], part,
                                              max_width=max_width))
            first = first or block
            start += n
            if following is not None:
                self._continue(following)
        assert first is not None
        return first

    def finish(self, landscape: bool = True) -> None:
        """Freeze the first Table's header, repeat it on printed pages when the sheet holds a table
        longer than a page, start later tables on a new page where they would not fit, set the print
        layout (on this sheet and each continuation sheet)."""
        from openpyxl.utils import get_column_letter  # noqa: PLC0415

        for ws, first_header, freeze in [*self._done, (self.ws, self._first_header, self.freeze)]:
            mine = [b for b in self.blocks if b.ws is ws]
            if freeze is None and first_header is not None:
                freeze = f"{get_column_letter(1 + self.freeze_cols)}{first_header + 1}"
                if any(spans_pages(b.n_rows) for b in mine):  # a long table: a header on every page
                    ws.print_title_rows = f"{first_header}:{first_header}"
            if freeze:
                ws.freeze_panes = freeze
            page_breaks(ws, [(b.header_row, b.last_row) for b in mine])
            print_setup(ws, landscape)


def print_setup(ws: Any, landscape: bool = True) -> None:
    """A4/Letter-neutral print layout: landscape, one page wide; header with the instance, sheet and
    run date, footer with the sheet and "page x of y" (:func:`optimiser.report.style.header_footer`)."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.75  # room for the header and footer lines
    ws.page_margins.header = ws.page_margins.footer = 0.3
    header_footer(ws)


def row_below(ws: Any, start_row: int, height_cm: float, gap_rows: int = 2) -> int:
    """The first row below something ``height_cm`` tall anchored at ``start_row`` (row heights honoured)."""
    r, acc = start_row, 0.0
    while acc < height_cm:
        acc += (ws.row_dimensions[r].height or 15.0) * 2.54 / 72
        r += 1
    return r + gap_rows


def money_axis_format(values: Iterable[float]) -> str:
    """A compact axis number format for money of this size: ``#,##0``, millions or billions."""
    top = max((abs(v) for v in values if v is not None), default=0.0)
    if top >= 5e9:
        return '#,##0.0,,," bn"'
    if top >= 5e6:
        return '#,##0,," m"'
    return "#,##0"


def style_chart(chart: Any, title: str, y_title: str = "", x_title: str = "", y_format: str | None = None,
                width: float = 18.0, height: float = 9.0) -> Any:
    """Common chart look: title, visible axes (openpyxl ≥ 3.1 hides them otherwise), legend at the bottom."""
    chart.title = title
    chart.width, chart.height = width, height
    for axis in (chart.x_axis, chart.y_axis):
        axis.delete = False
    if y_title:
        chart.y_axis.title = y_title
    if x_title:
        chart.x_axis.title = x_title
    if y_format:
        chart.y_axis.number_format = y_format
    if chart.legend is not None:
        chart.legend.position = "b"
    return chart
