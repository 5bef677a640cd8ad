"""Excel cell and name rules every workbook of the project follows: column kinds and formats,
Excel-safe values, table and sheet names, and the :class:`Col`/:class:`Block` that describe a table.

Everything here works on an openpyxl ``Workbook``/``Worksheet`` and plain Python/pandas data;
nothing knows about the model. The rules, enforced once:

* every data block is an Excel Table (filter buttons, banded rows) with a
  valid, workbook-unique ``displayName`` (:func:`table_name`);
* number formats by column kind: money ``#,##0`` (currency in the header; in millions,
  ``#,##0.0,,`` and ``m USD``, in a report workbook: :mod:`optimiser.report.style`), money per
  unit (``price``) ``#,##0``, units ``#,##0``, percent ``0.0%``, years without a thousands separator;
* strings starting with ``=``, ``+``, ``-`` or ``@`` are stored as text, never
  as formulas (:func:`put`), and characters Excel cannot store are removed.

Tables are written by :mod:`optimiser.report.blocks`, stacked down a sheet by
:class:`optimiser.report.sheet.Sheet` and saved by :func:`optimiser.report.xml_writer.save_workbook`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable, Mapping, Sequence

from ..columns import HEADERS, KINDS

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
