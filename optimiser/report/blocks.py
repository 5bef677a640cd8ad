"""Writing one Excel Table cell by cell: :func:`write_table` / :func:`write_columns`, wrapped text
and the row heights it needs.

An empty block is never an empty Table (Excel needs ≥ 1 data row): the writers refuse it and
:class:`optimiser.report.sheet.Sheet` leaves a "none" note instead. Values are made Excel-safe
(:func:`optimiser.report.xlsx.cell_value`); one style per kind of cell is made once per workbook and
the cells are placed directly (openpyxl's per-cell setters are slow).
"""

from __future__ import annotations

from copy import copy
from typing import Any, Iterable, Mapping, Sequence

from . import xlsx
from .style import MONEY_M, money_format, money_header, style_of
from .xlsx import FACTOR, MONEY, NUMBER, NUMERIC_KINDS, PERCENT, Block, Col, cell_value, put, unique_headers


def _style_cache(ws: Any) -> dict:
    wb = ws.parent
    cache = getattr(wb, "_optimiser_style_cache", None)
    if cache is None:
        cache = {}
        wb._optimiser_style_cache = cache
    return cache


def _numbers_width(numbers: list[Any], number_format: str | None) -> int:
    """How many characters the longest of ``numbers`` (ints and floats) shows in ``number_format``
    (roughly: ``1,234`` for money and units, ``12.5%``, ``1,234.50``, ``0.25``, else as Python prints it)."""
    if not numbers:
        return 0
    if number_format == PERCENT:
        return max(len(f"{v * 100:.1f}%") for v in numbers)
    if number_format == MONEY_M:
        return max(len(f"{v / 1e6:,.1f}") for v in numbers)
    spec = {MONEY: "{:,.0f}", NUMBER: "{:,.2f}", FACTOR: "{:.2f}", "0.0": "{:.1f}"}.get(number_format or "")
    return max(map(len, map(spec.format if spec else str, numbers)))


def _cell_style(ws: Any, key: tuple[str | None, str], alignments: Mapping[str, Any]) -> Any:
    """The StyleArray of a data cell with number format ``key[0]`` and alignment ``key[1]``, made once
    per workbook (setting styles attribute by attribute is slow in openpyxl)."""
    from openpyxl.cell.cell import Cell  # noqa: PLC0415

    styles = _style_cache(ws)
    cached = styles.get(key)
    if cached is None:
        probe = Cell(ws)  # never placed on the sheet: only its style is kept
        if key[0]:
            probe.number_format = key[0]
        probe.alignment = alignments[key[1]]
        cached = styles[key] = copy(probe._style)
    return cached


def write_table(ws: Any, row: int, col: int, cols: Sequence[Col], rows: Sequence[Sequence[Any]], name: str,
                style: str = "TableStyleMedium2", max_width: int = 48) -> Block:
    """Write ``rows`` under a header as an Excel Table named ``name`` (already unique, see :func:`table_name`).

    ``rows`` must not be empty and must fit on the sheet (the last data row at most
    :data:`xlsx.MAX_SHEET_ROWS`; :meth:`Sheet.table` continues longer tables on further sheets).
    Values are made Excel-safe as by :func:`cell_value`; text is always stored as text
    (never as a formula). Booleans are written as ``yes``/``no``. Column widths grow to
    fit (never shrink, capped at ``max_width``); longer text wraps. Cells align to the top
    so wrapped rows stay readable.
    """
    return write_columns(ws, row, col, cols, transpose(rows, len(cols)), name, style, max_width)


def transpose(rows: Sequence[Sequence[Any]], n_cols: int) -> list[Sequence[Any]]:
    """Rows → columns (short rows padded with ``None``, extra values dropped)."""
    if any(len(r) < n_cols for r in rows):
        rows = [list(r) + [None] * (n_cols - len(r)) for r in rows]
    return list(zip(*rows))[:n_cols] if n_cols else []


def write_columns(ws: Any, row: int, col: int, cols: Sequence[Col], columns: Sequence[Sequence[Any]], name: str,
                  style: str = "TableStyleMedium2", max_width: int = 48) -> Block:
    """:func:`write_table` for data given column by column (``columns[j]`` holds column ``cols[j]``'s
    values, all of the same length ≥ 1): what a DataFrame already is."""
    from openpyxl.styles import Alignment, Border, Font, Side  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415
    from openpyxl.worksheet.filters import AutoFilter  # noqa: PLC0415
    from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo  # noqa: PLC0415

    n_rows = len(columns[0]) if columns else 0
    if not n_rows:
        raise ValueError("an Excel Table needs at least one data row")
    if any(len(values) != n_rows for values in columns) or len(columns) != len(cols):
        raise ValueError("every column of a Table needs one value per row")
    if row + n_rows > xlsx.MAX_SHEET_ROWS:
        raise ValueError(f"table {name}: {n_rows:,} rows under row {row} run past the last row of an Excel sheet "
                         f"({xlsx.MAX_SHEET_ROWS:,}); Sheet.table continues long tables on further sheets")
    if style_of(ws.parent) is not None:  # a report workbook: money headers name the unit shown (m USD)
        cols = [Col(c.key, money_header(ws.parent, c.header), c.kind) if c.kind == "money" else c for c in cols]
    headers = unique_headers(c.header for c in cols)
    widths = [len(h) + 3 for h in headers]  # room for the filter button
    numeric = [c.kind in NUMERIC_KINDS for c in cols]
    right, centre, left = (Alignment(horizontal="right", vertical="top", indent=1),
                           Alignment(horizontal="center", vertical="top"), Alignment(horizontal="left", vertical="top"))
    wrap = Alignment(horizontal="left", vertical="top", wrap_text=True)
    rule = Border(bottom=Side(style="thin", color="808080"))
    styles = _style_cache(ws)
    aligns = {"right": right, "centre": centre, "left": left, "wrap": wrap}
    for j, h in enumerate(headers):
        cell = put(ws, row, col + j, h)
        cell.data_type = "s"
        key = ("header", "right" if numeric[j] else ("centre" if cols[j].kind == "bool" else "left"))
        cached = styles.get(key)
        if cached is None:
            cell.font = Font(bold=True)
            cell.border = rule
            cell.alignment = aligns[key[1]]
            styles[key] = copy(cell._style)
        else:
            cell._style = copy(cached)
    for j, c in enumerate(cols):
        widths[j] = max(widths[j], _write_column(ws, row + 1, col + j, c, columns[j], aligns, max_width))
    ws._current_row = max(ws._current_row, row + n_rows)
    for j, w in enumerate(widths):
        letter = get_column_letter(col + j)
        dim = ws.column_dimensions[letter]
        dim.width = max(dim.width or 0, min(max_width, max(8, w)))
    block = Block(ws, name, row, col, tuple(c.key for c in cols), tuple(headers), n_rows)
    fit_row_heights(ws, block.first_row, block.last_row)
    table = Table(displayName=name, ref=block.ref)
    table.tableStyleInfo = TableStyleInfo(name=style, showRowStripes=True, showColumnStripes=False)
    # The columns as openpyxl makes them when saving (it reads the whole range back to find the headers).
    table.tableColumns = [TableColumn(id=col + j, name=h) for j, h in enumerate(headers)]
    table.autoFilter = AutoFilter(ref=block.ref)
    ws.add_table(table)
    return block


def _write_column(ws: Any, first: int, cj: int, c: Col, values: Sequence[Any], aligns: Mapping[str, Any],
                  max_width: int) -> int:
    """Cells ``first``… of column ``cj``: each value made Excel-safe (:func:`cell_value`), styled by
    what it is; returns the width the column needs (text length + 3, as for the header).

    One style per kind of cell is made once per workbook and the cells are placed directly, as
    openpyxl's own ``Worksheet.append`` does: ``ws.cell()`` and style setters cost per cell.
    """
    from openpyxl.cell.cell import Cell  # noqa: PLC0415

    cells = ws._cells
    wrapped = _wrapped(ws)
    longest = max_width - 3
    is_bool = c.kind == "bool"
    fmt = money_format(ws.parent, MONEY) if c.kind == "money" else c.number_format
    s_number = _cell_style(ws, (fmt, "right"), aligns)
    s_other = _cell_style(ws, (None, "centre" if is_bool else "left"), aligns)
    s_wrap = _cell_style(ws, (None, "wrap"), aligns)
    width = 0
    numbers: list[Any] = []
    texts: dict[str, tuple[str, bool, int]] = {}  # each distinct text: (Excel-safe text, wraps, width)
    for r, v in enumerate(values, start=first):
        t = type(v)
        if t is not float and t is not int and t is not str and t is not bool and v is not None:
            v = cell_value(v)  # numpy and pandas scalars, NA, dates, anything else
            t = type(v)
        if t is float:
            if v - v != 0:  # NaN or infinite: blank
                v, t = None, type(None)
        if t is float or t is int:
            cell = Cell(ws, r, cj, None, s_number)
            cell._value = v  # data type "n", as Cell starts
            numbers.append(v)
        elif t is str:
            seen = texts.get(v)
            if seen is None:
                text = cell_value(v)
                wraps = not is_bool and (len(text) > longest or "\n" in text)
                seen = texts[v] = (text, wraps, max(len(x) for x in text.split("\n")) + 3)
            text, wraps, w = seen
            if wraps:
                cell = Cell(ws, r, cj, None, s_wrap)
                wrapped.setdefault(r, set()).add(cj)
            else:
                cell = Cell(ws, r, cj, None, s_other)
            if w > width:
                width = w
            cell._value = text
            cell.data_type = "s"  # text, even when it looks like a formula or an error code
        elif v is None:
            cell = Cell(ws, r, cj, None, s_other)
            if width < 3:
                width = 3
        elif t is bool:
            cell = Cell(ws, r, cj, None, s_other)
            if is_bool:
                cell._value = "yes" if v else "no"
                cell.data_type = "s"
                width = max(width, len(cell._value) + 3)
            else:
                cell._value = v
                cell.data_type = "b"
                width = max(width, 8)
        else:  # dates and times: openpyxl types them
            cell = Cell(ws, r, cj, None, s_other)
            cell.value = v
            width = max(width, len(str(v)) + 3)
        cells[(r, cj)] = cell
    return max(width, _numbers_width(numbers, fmt) + 3)


def wrap_cell(cell: Any) -> None:
    """Wrap the cell's text (top-left aligned) and remember it for :func:`fit_row_heights`."""
    from openpyxl.styles import Alignment  # noqa: PLC0415

    cell.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
    _wrapped(cell.parent).setdefault(cell.row, set()).add(cell.column)


def _wrapped(ws: Any) -> dict[int, set[int]]:
    reg = getattr(ws, "_optimiser_wrapped", None)
    if reg is None:
        reg = {}
        ws._optimiser_wrapped = reg
    return reg


def fit_row_heights(ws: Any, first_row: int, last_row: int, line_height: float = 15.0) -> None:
    """Give rows with wrapped text the height their lines need (neither Excel nor
    LibreOffice re-fits the rows of a generated file when opening it). Call again
    after widening columns: heights are recomputed from every wrapped cell of the row
    (cells wrapped by :func:`write_table` or :func:`wrap_cell`)."""
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    reg = _wrapped(ws)
    dims = ws.row_dimensions
    rows: Iterable[int] = range(first_row, last_row + 1)
    if last_row - first_row > len(reg) + len(dims):  # a long block: only rows with wrapped text or a height matter
        rows = sorted({r for r in reg if first_row <= r <= last_row} | {r for r in dims if first_row <= r <= last_row})
    for r in rows:
        lines = 1
        for c in sorted(reg.get(r, ())):
            value = ws.cell(row=r, column=c).value
            if not isinstance(value, str):
                continue
            width = ws.column_dimensions[get_column_letter(c)].width or 8.43
            per = max(1, int(width * 1.1) - 1)  # characters per line, roughly
            lines = max(lines, sum(max(1, -(-len(part) // per)) for part in value.split("\n")))
        if lines > 1:
            ws.row_dimensions[r].height = line_height * lines
        elif r in ws.row_dimensions and ws.row_dimensions[r].height:
            ws.row_dimensions[r].height = None
