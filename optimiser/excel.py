"""Small Excel building blocks shared by the report and the comparison workbook.

Everything here works on an openpyxl ``Workbook``/``Worksheet`` and plain
Python/pandas data; nothing knows about the model. The rules every sheet of
the project follows are enforced here, once:

* every data block is an Excel Table (filter buttons, banded rows) with a
  valid, workbook-unique ``displayName`` (:func:`table_name`);
* an empty block is never an empty Table (Excel needs ≥ 1 data row): the
  writers return ``None`` and leave a "none" note instead;
* number formats by column kind: money ``#,##0`` (currency in the header; in millions,
  ``#,##0.0,,`` and ``m USD``, in a report workbook: :mod:`optimiser.report_style`), money per
  unit (``price``) ``#,##0``, units ``#,##0``, percent ``0.0%``, years without a thousands separator;
* strings starting with ``=``, ``+``, ``-`` or ``@`` are stored as text, never
  as formulas (:func:`put`), and characters Excel cannot store are removed;
* landscape printing, one page wide, the first table's header frozen and
  repeated on every printed page of a sheet with a long table, header and footer
  (:meth:`Sheet.finish`, :mod:`optimiser.report_style`);
* :func:`save_workbook` writes atomically and turns every failure into an
  :class:`~optimiser.errors.OutputError`, leaving the previous file intact.

Typical use::

    sh = Sheet(wb.create_sheet("Production"))
    sh.title("Production", "units made per programme, line and year")
    block = sh.frame(df, "Production", currency="USD", empty_note="nothing was produced")
    ...
    sh.finish()
    save_workbook(wb, path)
"""

from __future__ import annotations

import math
import re
import threading
from contextlib import contextmanager
from copy import copy
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from .errors import OutputError, OptimiserError
from .report_style import MONEY_M, header_footer, money_format, money_header, page_breaks, spans_pages, style_of
from .writers import atomic_path

# --------------------------------------------------------------------------- formats

MONEY = "#,##0"
UNITS = "#,##0"
PERCENT = "0.0%"
YEAR = "0"
FACTOR = "0.00"
NUMBER = "#,##0.00"

#: Rows of one Excel worksheet: Excel cannot open a sheet with more. :meth:`Sheet.table` continues a
#: longer table on further sheets; :func:`write_table` refuses to write past it.
MAX_SHEET_ROWS = 1_048_576

#: Number format of each column kind (``text`` and ``bool`` get none).
FORMATS: dict[str, str | None] = {
    "money": MONEY, "price": MONEY, "seconds": "0.0", "units": UNITS, "pct": PERCENT, "year": YEAR, "factor": FACTOR, "number": NUMBER,
    "int": "0", "text": None, "bool": None,
}

#: Kinds written as right-aligned numbers.
NUMERIC_KINDS = frozenset({"money", "price", "seconds", "units", "pct", "year", "factor", "number", "int"})

#: Kind of the result columns the project writes (anything else is inferred: numbers → ``number``).
KINDS: dict[str, str] = {
    # money
    **{c: "money" for c in (
        "revenue", "variable_cost", "partner_fees", "logistics", "duties", "external_purchases", "fixed_cost",
        "capex", "tooling", "deal_costs", "unmet_penalty", "share_penalty", "npv", "value", "build_cost",
        "tooling_cost", "upfront_cost", "annual_cost", "freight", "duty", "best_bound", "start", "increase",
        "decrease", "total", "capex_limit")},
    # money per unit (rates, never scaled to millions)
    **{c: "price" for c in ("unit_price", "unit_fee", "cost_per_unit", "external_price", "shadow_price",
                            "shadow_price_npv")},
    # units (volumes and capacity)
    **{c: "units" for c in (
        "units", "demand", "served", "unmet", "committed", "needed", "made_inside", "bought_outside",
        "units_counting", "market_size", "capacity", "used", "capacity_used", "volume", "min_volume",
        "units_short")},
    # fractions
    **{c: "pct" for c in ("utilisation", "share", "target", "probability", "unmet_share", "gap", "discount_rate",
                          "tariff")},
    **{c: "factor" for c in ("demand_factor", "price_factor", "capacity_use", "quantity", "ramp_up")},
    **{c: "year" for c in ("year", "build_year", "ready_year", "tooling_year", "first_year", "last_year",
                           "available_from", "retire_after", "share_target_year", "base_year")},
    **{c: "int" for c in ("lead_time", "max_lines")},
    **{c: "seconds" for c in ("solve_seconds", "build_seconds", "seconds")},
    **{c: "bool" for c in ("taken", "active", "built", "must_serve", "counts_for_share")},
}

#: Friendlier headers for result columns (the key stays the column's identity).
HEADERS: dict[str, str] = {
    "option_id": "option", "programme_id": "programme id", "line_id": "line", "factory_id": "factory id",
    "market_id": "market", "component_id": "component id", "line_type": "line type",
    "exclusive_group": "exclusive group", "build_year": "build year", "ready_year": "ready year",
    "build_cost": "build cost", "tooling_cost": "tooling cost", "tooling_year": "tooling year",
    "upfront_cost": "upfront cost", "annual_cost": "annual cost", "capacity_used": "capacity used",
    "unit_price": "unit price", "made_inside": "made inside", "bought_outside": "bought outside",
    "units_counting": "units counting", "market_size": "world market", "shadow_price": "value of +1 capacity unit",
    "shadow_price_npv": "same, discounted to base year", "demand_factor": "demand factor",
    "price_factor": "price factor", "unmet_share": "unmet %", "variable_cost": "variable cost",
    "partner_fees": "partner fees", "external_purchases": "external purchases", "fixed_cost": "fixed cost",
    "deal_costs": "deal costs", "unmet_penalty": "unmet penalty", "share_penalty": "share penalty",
    "units_short": "units short",
}

_TEXT_LEADS = ("=", "+", "-", "@")
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_MAX_CELL_TEXT = 32767


def kind_of(column: str, sample: Any = None) -> str:
    """The kind of a column: from :data:`KINDS`, else inferred from a sample value."""
    if column in KINDS:
        return KINDS[column]
    if isinstance(sample, bool):
        return "bool"
    if isinstance(sample, (int, float)) and not isinstance(sample, bool):
        return "number"
    return "text"


def header_of(column: str, kind: str, currency: str = "") -> str:
    """The header shown for a result column: friendly name, currency for money."""
    text = HEADERS.get(column, column.replace("_", " "))
    return f"{text} ({currency})" if kind in ("money", "price") and currency else text


# --------------------------------------------------------------------------- values

def cell_value(v: Any) -> Any:
    """A value Excel can store: numpy/pandas scalars → Python, NaN/NA → ``None``,
    illegal control characters removed, over-long text cut."""
    if v is None:
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):  # numpy scalar
        try:
            v = v.item()
        except (ValueError, TypeError):
            pass
    if isinstance(v, bool):
        return v
    if isinstance(v, float):
        return None if (math.isnan(v) or math.isinf(v)) else v
    if isinstance(v, int):
        return v
    if isinstance(v, (datetime, date)):
        return v
    if isinstance(v, str):
        v = _ILLEGAL.sub("", v)
        return v[:_MAX_CELL_TEXT]
    try:  # pandas NA / NaT
        import pandas as pd  # noqa: PLC0415

        if pd.isna(v):
            return None
    except (TypeError, ValueError, ImportError):
        pass
    return cell_value(str(v))


#: Leading characters a spreadsheet may run as a formula when it opens a CSV file.
_CSV_LEADS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """A CSV cell that no spreadsheet runs as a formula: text starting with = + - @, tab or CR gets a
    leading apostrophe (OWASP's CSV-injection advice); numbers, and text that is a plain number such
    as ``-5``, are unchanged."""
    if not isinstance(value, str) or not value.startswith(_CSV_LEADS):
        return value
    try:
        float(value)
        return value
    except ValueError:
        return "'" + value


def put(ws: Any, row: int, col: int, value: Any, number_format: str | None = None) -> Any:
    """Write one cell safely: text that looks like a formula stays text. Returns the cell."""
    value = cell_value(value)
    cell = ws.cell(row=row, column=col)
    cell.value = value
    if isinstance(value, str) and value.startswith(_TEXT_LEADS):
        cell.data_type = "s"
    if number_format and isinstance(value, (int, float)) and not isinstance(value, bool):
        cell.number_format = number_format
    return cell


# --------------------------------------------------------------------------- names

_TABLE_NAME_BAD = re.compile(r"[^A-Za-z0-9_.]")
_CELL_LIKE = re.compile(r"^([A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*|[RrCc])$")


def table_name(wb: Any, base: str) -> str:
    """A valid Excel Table ``displayName`` built from ``base``, unique in ``wb`` (case-insensitive).

    Letters, digits, ``_`` and ``.`` only; starts with a letter or ``_``; never
    looks like a cell reference (``A1``, ``R1C1``); at most 250 characters.
    """
    name = _TABLE_NAME_BAD.sub("_", base.strip()) or "Table"
    name = re.sub(r"_+", "_", name)
    if not (name[0].isalpha() or name[0] == "_"):
        name = "T_" + name
    if _CELL_LIKE.match(name):
        name = "T_" + name
    name = name[:240]
    used = {t.lower() for ws in wb.worksheets for t in ws.tables}
    used |= {n.lower() for n in getattr(wb, "defined_names", {})}
    candidate, k = name, 2
    while candidate.lower() in used:
        candidate = f"{name}_{k}"
        k += 1
    return candidate


_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def sheet_title(wb: Any, base: str) -> str:
    """A valid sheet title from ``base``: no ``[]:*?/\\``, ≤ 31 characters, unique in ``wb``."""
    title = _SHEET_BAD.sub("_", base).strip().strip("'") or "Sheet"
    if title.lower() == "history":
        title = "History_"
    title = title[:31]
    used = {ws.title.lower() for ws in wb.worksheets}
    candidate, k = title, 2
    while candidate.lower() in used:
        suffix = f" ({k})"
        candidate = title[: 31 - len(suffix)] + suffix
        k += 1
    return candidate


def unique_headers(headers: Iterable[Any]) -> list[str]:
    """Table headers as distinct non-empty strings (Excel compares them case-insensitively)."""
    out: list[str] = []
    seen: set[str] = set()
    for j, h in enumerate(headers, start=1):
        text = cell_value(h)
        text = str(text).strip() if text not in (None, "") else f"column {j}"
        text = text.replace("\n", " ")[:255]
        candidate, k = text, 2
        while candidate.lower() in seen:
            candidate = f"{text} ({k})"
            k += 1
        seen.add(candidate.lower())
        out.append(candidate)
    return out


# --------------------------------------------------------------------------- tables

@dataclass(frozen=True)
class Col:
    """One column of a block: ``key`` (source column), ``header`` shown, ``kind`` (see :data:`FORMATS`)."""

    key: str
    header: str
    kind: str = "text"

    @property
    def number_format(self) -> str | None:
        return FORMATS.get(self.kind)


@dataclass(frozen=True)
class Block:
    """Where a written Excel Table sits: use it to point charts and tests at the data.

    ``header_row`` holds the headers, data rows are ``first_row``..``last_row``,
    columns start at ``first_col`` in the order of ``keys``.
    """

    ws: Any
    name: str
    header_row: int
    first_col: int
    keys: tuple[str, ...]
    headers: tuple[str, ...]
    n_rows: int

    @property
    def first_row(self) -> int:
        return self.header_row + 1

    @property
    def last_row(self) -> int:
        return self.header_row + self.n_rows

    @property
    def last_col(self) -> int:
        return self.first_col + len(self.keys) - 1

    @property
    def ref(self) -> str:
        from openpyxl.utils import get_column_letter  # noqa: PLC0415

        return (f"{get_column_letter(self.first_col)}{self.header_row}:"
                f"{get_column_letter(self.last_col)}{self.last_row}")

    def col(self, key: str) -> int:
        """Absolute column number of ``key``."""
        return self.first_col + self.keys.index(key)

    def reference(self, key: str, with_header: bool = False) -> Any:
        """An ``openpyxl.chart.Reference`` to the column's data (and header, for series titles)."""
        from openpyxl.chart import Reference  # noqa: PLC0415

        c = self.col(key)
        return Reference(self.ws, min_col=c, max_col=c,
                         min_row=self.header_row if with_header else self.first_row, max_row=self.last_row)

    def references(self, keys: Sequence[str]) -> Any:
        """One Reference spanning adjacent columns ``keys`` with their headers (``add_data(titles_from_data=True)``)."""
        from openpyxl.chart import Reference  # noqa: PLC0415

        cols = [self.col(k) for k in keys]
        assert cols == list(range(cols[0], cols[0] + len(cols))), "columns must be adjacent"
        return Reference(self.ws, min_col=cols[0], max_col=cols[-1], min_row=self.header_row, max_row=self.last_row)


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
    :data:`MAX_SHEET_ROWS`; :meth:`Sheet.table` continues longer tables on further sheets).
    Values are made Excel-safe as by :func:`cell_value`; text is always stored as text
    (never as a formula). Booleans are written as ``yes``/``no``. Column widths grow to
    fit (never shrink, capped at ``max_width``); longer text wraps. Cells align to the top
    so wrapped rows stay readable.
    """
    return write_columns(ws, row, col, cols, _transpose(rows, len(cols)), name, style, max_width)


def _transpose(rows: Sequence[Sequence[Any]], n_cols: int) -> list[Sequence[Any]]:
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
    if row + n_rows > MAX_SHEET_ROWS:
        raise ValueError(f"table {name}: {n_rows:,} rows under row {row} run past the last row of an Excel sheet "
                         f"({MAX_SHEET_ROWS:,}); Sheet.table continues long tables on further sheets")
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


def frame_columns(df: Any, currency: str = "", columns: Sequence[str] | None = None,
                  headers: Mapping[str, str] | None = None, kinds: Mapping[str, str] | None = None) -> list[Col]:
    """Columns of a DataFrame as :class:`Col` (kinds from :data:`KINDS` or inferred; friendly headers)."""
    keys = list(columns) if columns is not None else [str(c) for c in df.columns]
    out = []
    for k in keys:
        sample = None
        if k in df.columns and len(df):
            s = df[k].dropna()
            sample = cell_value(s.iloc[0]) if len(s) else None
        kind = (kinds or {}).get(k) or kind_of(k, sample)
        head = (headers or {}).get(k) or header_of(k, kind, currency)
        out.append(Col(k, head, kind))
    return out


def frame_values(df: Any, keys: Sequence[str]) -> list[list[Any]]:
    """The DataFrame's columns ``keys`` as lists of Python values (NaN kept: :func:`write_columns`
    makes values Excel-safe)."""
    return [df[k].tolist() for k in keys]


# --------------------------------------------------------------------------- sheets

@dataclass
class Sheet:
    """A cursor that stacks titled blocks down a worksheet.

    ``row`` is the next free row. The first Table's header row is frozen and
    repeated on printed pages by :meth:`finish` (or ``freeze`` if set).

    An Excel sheet holds at most :data:`MAX_SHEET_ROWS` rows. A Table that does not fit
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
        if self.row + n - 1 > MAX_SHEET_ROWS:
            self._continue(self._next_sheet())

    def _next_sheet(self) -> Any:
        title = sheet_title(self.wb, f"{self._base_title} ({len(self._done) + 2})")
        return self.wb.create_sheet(title, index=self.wb.index(self.ws) + 1)

    def _continue(self, ws: Any) -> None:
        previous = self.ws
        self._done.append((self.ws, self._first_header, self.freeze))
        self.ws, self.row, self._first_header, self.freeze = ws, 1, None, self._freeze_setting
        self.title(f"{self._base_title} (continued)",
                   f"Continued from sheet {previous.title!r}: an Excel sheet holds at most {MAX_SHEET_ROWS:,} rows.")

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
        columns = _transpose(rows, len(cols)) if rows else []
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
        if self.row + n_rows > MAX_SHEET_ROWS:
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
            if start == 0 and total <= MAX_SHEET_ROWS - self.row:  # fits whole (on a new sheet): no note
                n, following = total, None
            else:
                n = min(max(MAX_SHEET_ROWS - self.row - 1, 0), total - start)  # under a note and the header
                following = self._next_sheet() if start + n < total else None
            if n == 0:  # not even one row fits here: say where the table is
                assert following is not None
                if self.row <= MAX_SHEET_ROWS:
                    self.note(f"This table ({total - start:,} rows) is on sheet {following.title!r}.")
                self._continue(following)
                continue
            if n < total:
                rest = f"; the rest are on sheet {following.title!r}" if following is not None else ""
                self.note(f"Rows {start + 1:,}–{start + n:,} of {total:,}{rest} (an Excel sheet holds at most "
                          f"{MAX_SHEET_ROWS:,} rows).")
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
    run date, footer with the sheet and "page x of y" (:func:`optimiser.report_style.header_footer`)."""
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


# --------------------------------------------------------------------------- saving

#: Rows of sheet XML handed to the file at once by the fast cell writer.
_XML_CHUNK_ROWS = 2000
_SAVE_LOCK = threading.RLock()


@lru_cache(maxsize=1)
def _fast_worksheet_writer() -> Any:
    """openpyxl's ``WorksheetWriter`` with a faster ``<sheetData>``: the same XML, byte for byte
    (tests compare them), written as strings instead of one ElementTree element per cell.

    openpyxl (without lxml) serialises every cell through et_xmlfile's pure-Python writer, the
    slowest part of saving a big report. Only the plain cells a report holds — numbers, text,
    booleans, blanks, with or without a style — take the fast path; a row holding anything else
    (formulas, dates, errors, comments, hyperlinks, rich text) is written by openpyxl itself.
    With lxml installed, openpyxl's own writer is used unchanged.
    """
    from xml.etree.ElementTree import _escape_attrib, _escape_cdata  # type: ignore[attr-defined]  # noqa: PLC0415

    from openpyxl import LXML  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415
    from openpyxl.worksheet._writer import WorksheetWriter  # noqa: PLC0415
    from openpyxl.worksheet.dimensions import SheetDimension  # noqa: PLC0415

    class FastWorksheetWriter(WorksheetWriter):  # type: ignore[misc, valid-type]
        _by_row: dict[int, list] | None = None

        def write_dimensions(self) -> None:
            # Worksheet.calculate_dimension walks every cell: group the cells by row once, here,
            # and keep the groups for write_rows.
            self._by_row = by_row = _cells_by_row(self.ws._cells)
            ref = "A1:A1"
            if by_row:
                first_col = min(cells[0].column for cells in by_row.values())
                last_col = max(cells[-1].column for cells in by_row.values())
                ref = (f"{get_column_letter(first_col)}{min(by_row)}:"
                       f"{get_column_letter(last_col)}{max(by_row)}")
            self.xf.send(SheetDimension(ref).to_tree())

        def write_rows(self) -> None:
            xf = self.xf.send(True)
            raw = getattr(xf, "_file", None)
            with xf.element("sheetData"):
                if LXML or not callable(raw) or type(xf).__module__ != "et_xmlfile.xmlfile":
                    for row_idx, row in self.rows():
                        self.write_row(xf, row, row_idx)
                else:
                    self._write_plain_rows(xf, raw)
            self.xf.send(None)

        def _write_plain_rows(self, xf: Any, raw: Any) -> None:
            ws = self.ws
            by_row = self._by_row if self._by_row is not None else _cells_by_row(ws._cells)
            dims = ws.row_dimensions
            add = ws.parent._cell_styles.add
            style_ids: dict[bytes, int] = {}

            def style_attr(sa: Any) -> str:  # ' s="<the workbook's style id>"', looked up once per style
                if not any(sa):
                    return ""
                key = sa.tobytes()
                sid = style_ids.get(key)
                if sid is None:
                    sid = style_ids[key] = add(sa)
                return f' s="{sid}"'

            writer = _RowWriter(dims, style_attr, get_column_letter, _escape_cdata, _escape_attrib)
            out: list[str] = []
            for n, r in enumerate(sorted(by_row.keys() | dims.keys()), start=1):
                cells = by_row.get(r, ())
                if not writer.row(r, cells, out):  # something only openpyxl writes: this row through it
                    if out:
                        raw("".join(out))
                        out.clear()
                    self.write_row(xf, list(cells), r)
                elif n % _XML_CHUNK_ROWS == 0:
                    raw("".join(out))
                    out.clear()
            if out:
                raw("".join(out))

    return FastWorksheetWriter


def _cells_by_row(cells: Mapping[tuple[int, int], Any]) -> dict[int, list]:
    """A worksheet's cells grouped by row, each row in column order."""
    from collections import defaultdict  # noqa: PLC0415
    from operator import attrgetter  # noqa: PLC0415

    by_row: dict[int, list] = defaultdict(list)
    for key, cell in cells.items():
        by_row[key[0]].append(cell)
    column = attrgetter("column")
    for row in by_row.values():
        row.sort(key=column)
    return dict(by_row)


class _RowWriter:
    """The XML of one row as openpyxl writes it, for plain cells."""

    def __init__(self, dims: Any, style_attr: Any, column_letter: Any, escape_text: Any, escape_attrib: Any) -> None:
        self.dims, self.style_attr, self.column_letter = dims, style_attr, column_letter
        self.escape_text, self.escape_attrib = escape_text, escape_attrib
        self.letters: dict[int, str] = {}
        self.styles: dict[int, tuple[Any, str]] = {}  # column → (last StyleArray seen, its s attribute)

    def row(self, r: int, cells: Sequence[Any], out: list[str]) -> bool:
        """Append row ``r``'s XML to ``out``; ``False`` (nothing appended) if a cell needs openpyxl's writer."""
        parts: list[str] = []
        if r in self.dims:
            attrs = {"r": f"{r}"}
            attrs.update(self.dims[r])
            parts.append("<row" + "".join(f' {k}="{self.escape_attrib(v)}"' for k, v in attrs.items()) + ">")
        else:
            parts.append(f'<row r="{r}">')
        letters, styles = self.letters, self.styles
        for cell in cells:
            if cell._comment is not None or cell._hyperlink is not None:
                return False
            v = cell._value
            sa = cell._style
            c = cell.column
            if sa is None:
                s = ""
            else:
                seen = styles.get(c)
                if seen is not None and seen[0] == sa:
                    s = seen[1]
                else:
                    s = self.style_attr(sa)
                    styles[c] = (sa, s)
            if v is None and not s:
                continue
            letter = letters.get(c)
            if letter is None:
                letter = letters[c] = self.column_letter(c)
            dt, t = cell.data_type, type(v)
            if dt == "n":
                if v is None:
                    parts.append(f'<c r="{letter}{r}"{s} t="n" />')
                elif t is int or (t is float and v - v == 0):  # finite
                    parts.append(f'<c r="{letter}{r}"{s} t="n"><v>{"%.16g" % v}</v></c>')
                else:
                    return False
            elif dt == "s" and t is str:
                if v == "":
                    parts.append(f'<c r="{letter}{r}"{s} t="inlineStr" />')
                else:
                    stripped = v.strip()
                    space = ' xml:space="preserve"' if stripped and v != stripped else ""
                    parts.append(f'<c r="{letter}{r}"{s} t="inlineStr"><is><t{space}>{self.escape_text(v)}</t></is></c>')
            elif dt == "b" and t is bool:
                parts.append(f'<c r="{letter}{r}"{s} t="b"><v>{"%.16g" % v}</v></c>')
            else:
                return False
        parts.append("</row>")
        out.extend(parts)
        return True


@contextmanager
def fast_sheet_xml() -> Iterator[None]:
    """While open, workbooks save their cells with :func:`_fast_worksheet_writer` (same XML, faster)."""
    try:
        import openpyxl.writer.excel as excel_writer  # noqa: PLC0415

        fast = _fast_worksheet_writer()
        assert isinstance(getattr(excel_writer, "WorksheetWriter", None), type)
    except Exception:  # noqa: BLE001 - another openpyxl layout: save as openpyxl does
        yield
        return
    with _SAVE_LOCK:
        previous = excel_writer.WorksheetWriter
        excel_writer.WorksheetWriter = fast
        try:
            yield
        finally:
            excel_writer.WorksheetWriter = previous


def save_workbook(wb: Any, path: Path) -> Path:
    """Save ``wb`` to ``path`` atomically; any failure → OutputError, the previous file untouched."""
    path = Path(path)
    if path.exists() and path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name ending in .xlsx")
    try:
        with atomic_path(path) as tmp, fast_sheet_xml():
            wb.save(tmp)
    except OptimiserError:
        raise
    except OSError as exc:  # pragma: no cover - atomic_path already converts these
        raise OutputError(f"{path}: could not be written ({exc.strerror or exc}); the previous file is untouched") from None
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds
        raise OutputError(f"{path}: could not be written ({type(exc).__name__}: {exc}); "
                          "the previous file is untouched") from exc
    return path
