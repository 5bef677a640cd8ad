"""Saving a workbook: atomically, every failure one :class:`~optimiser.errors.OutputError` with the
previous file intact, and with the fast ``<sheetData>`` XML writer (the same bytes openpyxl writes,
built as strings instead of one ElementTree element per cell).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from ..errors import OptimiserError, OutputError
from ..writers import atomic_path

# --------------------------------------------------------------------------- saving

#: Rows of sheet XML handed to the file at once by the fast cell writer.
_XML_CHUNK_ROWS = 2000
_SAVE_LOCK = threading.RLock()


@lru_cache(maxsize=1)
def fast_worksheet_writer() -> Any:
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
    """While open, workbooks save their cells with :func:`fast_worksheet_writer` (same XML, faster)."""
    try:
        import openpyxl.writer.excel as excel_writer  # noqa: PLC0415

        fast = fast_worksheet_writer()
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
