"""Small Excel building blocks shared by the report and the comparison workbook.

Everything here works on an openpyxl ``Workbook``/``Worksheet`` and plain
Python/pandas data; nothing knows about the model. The rules every sheet of
the project follows are enforced here, once:

* every data block is an Excel Table (filter buttons, banded rows) with a
  valid, workbook-unique ``displayName`` (:func:`table_name`);
* an empty block is never an empty Table (Excel needs ≥ 1 data row): the
  writers return ``None`` and leave a "none" note instead;
* number formats by column kind: money ``#,##0`` (currency in the header),
  units ``#,##0``, percent ``0.0%``, years without a thousands separator;
* strings starting with ``=``, ``+``, ``-`` or ``@`` are stored as text, never
  as formulas (:func:`put`), and characters Excel cannot store are removed;
* landscape printing, one page wide, the first table's header frozen and
  repeated on every printed page (:meth:`Sheet.finish`);
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
from copy import copy
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .errors import OutputError, OptimiserError
from .writers import atomic_path

# --------------------------------------------------------------------------- formats

MONEY = "#,##0"
UNITS = "#,##0"
PERCENT = "0.0%"
YEAR = "0"
FACTOR = "0.00"
NUMBER = "#,##0.00"

#: Number format of each column kind (``text`` and ``bool`` get none).
FORMATS: dict[str, str | None] = {
    "money": MONEY, "units": UNITS, "pct": PERCENT, "year": YEAR, "factor": FACTOR, "number": NUMBER,
    "int": "0", "text": None, "bool": None,
}

#: Kinds written as right-aligned numbers.
NUMERIC_KINDS = frozenset({"money", "units", "pct", "year", "factor", "number", "int"})

#: Kind of the result columns the project writes (anything else is inferred: numbers → ``number``).
KINDS: dict[str, str] = {
    # money
    **{c: "money" for c in (
        "revenue", "variable_cost", "partner_fees", "logistics", "duties", "external_purchases", "fixed_cost",
        "capex", "tooling", "deal_costs", "unmet_penalty", "share_penalty", "npv", "value", "build_cost",
        "tooling_cost", "upfront_cost", "annual_cost", "unit_price", "freight", "duty", "shadow_price",
        "shadow_price_npv", "best_bound", "start", "increase", "decrease", "total", "unit_fee", "capex_limit",
        "cost_per_unit", "external_price")},
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
    return f"{text} ({currency})" if kind == "money" and currency else text


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


def _display_len(value: Any, number_format: str | None) -> int:
    if value is None:
        return 0
    if isinstance(value, bool):
        return 5
    if isinstance(value, (int, float)):
        if number_format == PERCENT:
            return len(f"{value * 100:.1f}%")
        if number_format in (MONEY, UNITS):
            return len(f"{value:,.0f}")
        if number_format == NUMBER:
            return len(f"{value:,.2f}")
        if number_format == FACTOR:
            return len(f"{value:.2f}")
        return len(str(value))
    return len(str(value))


def _style_cache(ws: Any) -> dict:
    wb = ws.parent
    cache = getattr(wb, "_optimiser_style_cache", None)
    if cache is None:
        cache = {}
        wb._optimiser_style_cache = cache
    return cache


def write_table(ws: Any, row: int, col: int, cols: Sequence[Col], rows: Sequence[Sequence[Any]], name: str,
                style: str = "TableStyleMedium2", max_width: int = 48) -> Block:
    """Write ``rows`` under a header as an Excel Table named ``name`` (already unique, see :func:`table_name`).

    ``rows`` must not be empty. Booleans are written as ``yes``/``no``. Column
    widths grow to fit (never shrink, capped at ``max_width``); longer text
    wraps. Cells align to the top so wrapped rows stay readable.
    """
    from openpyxl.styles import Alignment, Border, Font, Side  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415
    from openpyxl.worksheet.table import Table, TableStyleInfo  # noqa: PLC0415

    if not rows:
        raise ValueError("an Excel Table needs at least one data row")
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
    for i, values in enumerate(rows, start=1):
        for j, c in enumerate(cols):
            v = values[j] if j < len(values) else None
            v = cell_value(v)
            if c.kind == "bool" and isinstance(v, bool):
                v = "yes" if v else "no"
            fmt = c.number_format
            cell = put(ws, row + i, col + j, v)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                key = (fmt, "right")
            elif c.kind == "bool":
                key = (None, "centre")
            elif isinstance(v, str) and (len(v) > max_width - 3 or "\n" in v):
                key = (None, "wrap")
            else:
                key = (None, "left")
            # Setting styles one by one is slow in openpyxl; copy a style made once per workbook.
            if key[1] == "wrap":
                _wrapped(ws).setdefault(row + i, set()).add(col + j)
            cached = styles.get(key)
            if cached is None:
                if key[0]:
                    cell.number_format = key[0]
                cell.alignment = aligns[key[1]]
                styles[key] = copy(cell._style)
            else:
                cell._style = copy(cached)
            n = _display_len(v, fmt) if not isinstance(v, str) else max(len(x) for x in v.split("\n"))
            widths[j] = max(widths[j], n + 3)
    for j, w in enumerate(widths):
        letter = get_column_letter(col + j)
        dim = ws.column_dimensions[letter]
        dim.width = max(dim.width or 0, min(max_width, max(8, w)))
    block = Block(ws, name, row, col, tuple(c.key for c in cols), tuple(headers), len(rows))
    fit_row_heights(ws, block.first_row, block.last_row)
    table = Table(displayName=name, ref=block.ref)
    table.tableStyleInfo = TableStyleInfo(name=style, showRowStripes=True, showColumnStripes=False)
    ws.add_table(table)
    return block


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
    for r in range(first_row, last_row + 1):
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


def frame_rows(df: Any, keys: Sequence[str]) -> list[list[Any]]:
    """The DataFrame's rows as lists of Excel-safe values, in ``keys`` order."""
    if not len(df):
        return []
    return [[cell_value(v) for v in rec] for rec in df[list(keys)].itertuples(index=False, name=None)]


# --------------------------------------------------------------------------- sheets

@dataclass
class Sheet:
    """A cursor that stacks titled blocks down a worksheet.

    ``row`` is the next free row. The first Table's header row is frozen and
    repeated on printed pages by :meth:`finish` (or ``freeze`` if set).
    """

    ws: Any
    row: int = 1
    freeze: str | None = None
    freeze_cols: int = 0
    blocks: list[Block] = field(default_factory=list)
    _first_header: int | None = None

    @property
    def wb(self) -> Any:
        return self.ws.parent

    def title(self, text: str, subtitle: str = "") -> None:
        """Sheet title (row 1) and an optional one-line reading guide (row 2)."""
        from openpyxl.styles import Font  # noqa: PLC0415

        put(self.ws, self.row, 1, text).font = Font(bold=True, size=14)
        self.row += 1
        if subtitle:
            put(self.ws, self.row, 1, subtitle).font = Font(italic=True, color="555555")
            self.row += 1
        self.row += 1

    def heading(self, text: str) -> None:
        """A block heading (bold) on its own row."""
        from openpyxl.styles import Font  # noqa: PLC0415

        put(self.ws, self.row, 1, text).font = Font(bold=True, size=12)
        self.row += 1

    def note(self, text: str, italic: bool = True) -> None:
        """One line of explanatory text."""
        from openpyxl.styles import Font  # noqa: PLC0415

        put(self.ws, self.row, 1, text).font = Font(italic=italic, color="555555" if italic else "000000")
        self.row += 1

    def gap(self, n: int = 1) -> None:
        self.row += n

    def table(self, cols: Sequence[Col], rows: Sequence[Sequence[Any]], name: str, empty_note: str = "none",
              col: int = 1, max_width: int = 48) -> Block | None:
        """Write a Table at the cursor (name made unique); ``None`` and a note when ``rows`` is empty."""
        if not rows:
            self.note(empty_note)
            self.row += 1
            return None
        block = write_table(self.ws, self.row, col, cols, rows, table_name(self.wb, name), max_width=max_width)
        if self._first_header is None:
            self._first_header = block.header_row
        self.blocks.append(block)
        self.row = block.last_row + 2
        return block

    def frame(self, df: Any, name: str, currency: str = "", columns: Sequence[str] | None = None,
              headers: Mapping[str, str] | None = None, kinds: Mapping[str, str] | None = None,
              empty_note: str = "none") -> Block | None:
        """Write a DataFrame as a Table (see :meth:`table`)."""
        cols = frame_columns(df, currency, columns, headers, kinds)
        return self.table(cols, frame_rows(df, [c.key for c in cols]), name, empty_note)

    def finish(self, landscape: bool = True) -> None:
        """Freeze the first Table's header, repeat it on printed pages, set the print layout."""
        from openpyxl.utils import get_column_letter  # noqa: PLC0415

        if self.freeze is None and self._first_header is not None:
            self.freeze = f"{get_column_letter(1 + self.freeze_cols)}{self._first_header + 1}"
            self.ws.print_title_rows = f"{self._first_header}:{self._first_header}"
        if self.freeze:
            self.ws.freeze_panes = self.freeze
        print_setup(self.ws, landscape)


def print_setup(ws: Any, landscape: bool = True) -> None:
    """A4/Letter-neutral print layout: landscape, one page wide, sheet name and page in the footer."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.left.text = "&A"
    ws.oddFooter.right.text = "page &P of &N"


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

def save_workbook(wb: Any, path: Path) -> Path:
    """Save ``wb`` to ``path`` atomically; any failure → OutputError, the previous file untouched."""
    path = Path(path)
    if path.exists() and path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name ending in .xlsx")
    try:
        with atomic_path(path) as tmp:
            wb.save(tmp)
    except OptimiserError:
        raise
    except OSError as exc:  # pragma: no cover - atomic_path already converts these
        raise OutputError(f"{path}: could not be written ({exc.strerror or exc}); the previous file is untouched") from None
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds
        raise OutputError(f"{path}: could not be written ({type(exc).__name__}: {exc}); "
                          "the previous file is untouched") from exc
    return path
