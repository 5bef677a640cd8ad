"""The tables of an instance as read, before any interpretation: :class:`RawTables`.

Per table, the header and the rows as raw cell values with the row number the planner sees
(Excel row / CSV line, header = 1), plus the markers a reader leaves in a row (cells right of
the header: :data:`OVERFLOW`; a formula without a computed value: :data:`FORMULA`) and the
helpers both readers share (blank cells, row widths, row-size limits, one-line messages).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, Problem
from .schema import MAX_CELL_CHARS, MAX_ROW_CHARS, TABLES_BY_NAME

#: Sheets a workbook may carry that are not tables (the template's README).
IGNORED_SHEETS = frozenset({"readme", "notes"})


@dataclass(frozen=True)
class RawTable:
    """One table as read: header and rows of raw cell values."""

    name: str
    header: tuple[str, ...]
    #: ``(row_number, values)`` with ``values`` aligned to ``header``.
    rows: tuple[tuple[int, tuple[Any, ...]], ...]
    #: Row number of the header line (1 unless rows above were blank).
    header_row: int = 1


@dataclass(frozen=True)
class RawTables:
    """Every table read from one instance, plus problems found while reading."""

    source: str
    kind: str  # "xlsx" or "csv"
    tables: dict[str, RawTable]
    problems: tuple[Problem, ...] = field(default_factory=tuple)


def table_name(name: str) -> str | None:
    """The table a sheet or file name stands for (case and surrounding blanks ignored)."""
    key = name.strip().lower()
    return key if key in TABLES_BY_NAME else None


def one_line(text: str, limit: int = 300) -> str:
    """An error text as one short line (library messages can span several)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clean_cell(value: Any) -> Any:
    """Blank (empty or whitespace-only) strings become None; other values are kept as they are.

    Surrounding whitespace is kept so a conversion is lossless; the validator
    ignores it when it interprets a cell.
    """
    if isinstance(value, str) and (not value or value.isspace()):
        return None
    return value


def check_row_size(path: Path | str, row_number: int, values: Any, header: tuple[str, ...] | None,
                    where: str = "line") -> None:
    """Refuse a row whose cells are too long (one cell > MAX_CELL_CHARS, all together > MAX_ROW_CHARS)."""
    total = 0
    for j, v in enumerate(values):
        if isinstance(v, str):
            n = len(v)
            if n > MAX_CELL_CHARS:
                column = header[j] if header is not None and j < len(header) and header[j] else f"#{j + 1}"
                raise InputError(f"{path} {where} {row_number}, column {one_line(column, 80)}: a cell of {n:,} "
                                 f"characters is longer than {MAX_CELL_CHARS:,} (the most a spreadsheet cell "
                                 "holds); refusing to read it")
            total += n
    if total > MAX_ROW_CHARS:
        raise InputError(f"{path} {where} {row_number}: a row of {total:,} characters is longer than "
                         f"{MAX_ROW_CHARS:,}; refusing to read it")


def fit_row(values: list[Any], width: int) -> tuple[Any, ...]:
    """Pad or cut a row to the header width; cells right of the header are kept in one _Overflow."""
    if len(values) < width:
        values = values + [None] * (width - len(values))
    elif len(values) > width:
        extra = list(values[width:])
        while extra and extra[-1] is None:
            extra.pop()
        values = values[:width]
        if extra:
            values.append(_Overflow(tuple(extra)))
    return tuple(values)


@dataclass(frozen=True)
class _Overflow:
    """Cells to the right of the last header column (reported by the validator).

    ``cells`` keeps their positions (blanks included) so a conversion writes
    them back where they were; ``values`` are the non-blank ones.
    """

    cells: tuple[Any, ...]

    @property
    def values(self) -> tuple[Any, ...]:
        return tuple(v for v in self.cells if v is not None)


OVERFLOW = _Overflow


@dataclass(frozen=True)
class _Formula:
    """A formula cell without a cached value (already reported)."""

    text: str


FORMULA = _Formula


def describe_error(exc: BaseException) -> str:
    """One line on why a library failed: the root cause, not openpyxl's multi-line wrapper."""
    root = exc
    for _ in range(10):
        nxt = root.__cause__ or root.__context__
        if nxt is None:
            break
        root = nxt
    text = f"{type(root).__name__}: {root}" if str(root) else type(root).__name__
    return one_line(text)
