"""Refuse a hostile or broken workbook before any XML is parsed: the byte-level zip checks.

Works on the zip's declared sizes (which zipfile enforces while decompressing) and on raw bytes:
entity declarations (billion laughs, external entities), members that expand too much (zip
bombs) and sheets with more rows than the limit are refused; merged ranges are noted per sheet.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError
from .raw import describe_error, one_line
from .schema import MAX_COMPRESSION_RATIO, MAX_FILE_BYTES, MAX_ROWS_PER_TABLE, MAX_WORKBOOK_UNCOMPRESSED_BYTES

#: Member-size threshold above which the compression ratio is checked (smaller members cannot
#: hurt, and an empty or tiny member may compress very well for honest reasons).
BOMB_MEMBER_BYTES = 64 * 1024
_SCAN_CHUNK = 1 << 20
DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
#: Row start tags with a namespace prefix (``<x:row``); unprefixed ones are counted with bytes.count.
_PREFIXED_ROW_TAG = re.compile(rb"<[A-Za-z_][\w.-]*:row(?=[\s/>])")
#: A row number above 500,000 (cell references start with a letter, so only row numbers match).
#: Matches are rare, so whitespace before ``r`` is checked in Python; exotic spellings
#: (``r = '…'``) are caught later by the row counter of :func:`_read_sheet`.
_BIG_ROW_NUMBER = re.compile(rb'r="((?:[5-9]\d{5})|(?:[1-9]\d{6,11}))"')
_MERGE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*?\bref\s*=\s*[\"']([A-Za-z]{1,3}\d{1,7}(?::[A-Za-z]{1,3}\d{1,7})?)[\"']")


@dataclass
class SheetScan:
    """What a byte-level pass over one worksheet found (before any XML parsing)."""

    rows: int = 0
    max_row_number: int = 0
    merged: list[str] = field(default_factory=list)


def check_zip(path: Path) -> dict[str, SheetScan]:
    """Refuse what is not a workbook or is hostile; return what the pre-scan saw per worksheet.

    Everything here works on the zip's declared sizes (which zipfile enforces
    while decompressing) and on raw bytes, so it is cheap and cannot be
    exploited by the XML it refuses: entity declarations (billion laughs,
    external entities), members that expand too much (zip bombs) and sheets
    with more rows than the limit are refused before openpyxl sees the file.
    """
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(f"{path}: {size / 1e6:.0f} MB is larger than the {MAX_FILE_BYTES / 1e6:.0f} MB limit")
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path}: not an Excel workbook (.xlsx files are zip archives; this one is not)")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = 0
            for info in infos:
                total += info.file_size
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > BOMB_MEMBER_BYTES and ratio > MAX_COMPRESSION_RATIO:
                    raise InputError(f"{path}: refused: member {one_line(info.filename, 80)} expands {ratio:.0f}× "
                                     f"({info.file_size / 1e6:.1f} MB) — this looks like a zip bomb")
            if total > MAX_WORKBOOK_UNCOMPRESSED_BYTES:
                raise InputError(f"{path}: refused: it expands to {total / 1e6:.0f} MB, more than the "
                                 f"{MAX_WORKBOOK_UNCOMPRESSED_BYTES / 1e6:.0f} MB limit (zip bomb?)")
            names = {i.filename for i in infos}
            if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
                raise InputError(f"{path}: not an Excel workbook (a zip archive without a workbook inside)")
            scans: dict[str, SheetScan] = {}
            for info in infos:
                low = info.filename.lower()
                if info.is_dir() or not low.endswith((".xml", ".rels", ".vml")):
                    continue
                is_sheet = low.startswith("xl/worksheets/")
                scan = _scan_member(path, zf, info, is_sheet)
                if is_sheet:
                    scans[info.filename] = scan
            return scans
    except InputError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, RuntimeError,
            NotImplementedError, ValueError) as exc:  # corrupt, encrypted or exotic archives
        raise InputError(f"{path}: not a readable Excel workbook ({describe_error(exc)})") from None


def _scan_member(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, is_sheet: bool) -> SheetScan:
    scan = SheetScan()
    limit = MAX_ROWS_PER_TABLE + 1
    carry = b""
    with zf.open(info) as fh:
        head = fh.read(4)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) == 4 and head[1:2] == b"\x00"):
            # UTF-16 XML: the byte scan below would not see its declarations
            raise InputError(f"{path}: refused: {info.filename} is UTF-16 XML, which Excel does not write "
                             "(a crafted or corrupt file)")
        carry = head
        while True:
            chunk = fh.read(_SCAN_CHUNK)
            buf = carry + chunk
            if chunk:
                cut = buf.rfind(b"<")
                if cut <= 0 or len(buf) - cut > 65536:
                    cut = max(len(buf) - 64, 0)
                part, carry = buf[:cut], buf[cut:]
            else:
                part, carry = buf, b""
            if DTD.search(part):
                raise InputError(f"{path}: refused: {info.filename} declares XML entities (<!DOCTYPE/<!ENTITY>); "
                                 "this is an XML entity attack or a corrupt file, not something Excel writes")
            if is_sheet:
                scan.rows += part.count(b"<row") - part.count(b"<rowBreaks")
                if b":row" in part:
                    scan.rows += len(_PREFIXED_ROW_TAG.findall(part))
                for m in _BIG_ROW_NUMBER.finditer(part):
                    if m.start() > 0 and part[m.start() - 1] in b" \t\r\n":
                        scan.max_row_number = max(scan.max_row_number, int(m.group(1)))
                        if scan.max_row_number > limit:
                            break
                if scan.rows > limit or scan.max_row_number > limit:
                    what = (f"more than {MAX_ROWS_PER_TABLE:,} rows" if scan.rows > limit
                            else f"a row numbered {scan.max_row_number:,}")
                    raise InputError(f"{path}: refused: worksheet {info.filename} has {what}; "
                                     f"a table may have at most {MAX_ROWS_PER_TABLE:,} rows")
                if b"mergeCell" in part:
                    scan.merged.extend(m.decode("ascii").upper() for m in _MERGE.findall(part))
            if not chunk:
                break
    return scan


def is_entity_refusal(exc: BaseException) -> bool:
    """True when defusedxml (inside openpyxl) refused entity declarations somewhere in the cause chain."""
    seen = 0
    e: BaseException | None = exc
    while e is not None and seen < 10:
        name = type(e).__name__
        if "Forbidden" in name or "Entities" in name or "DTD" in name or "Defused" in name:
            return True
        e = e.__cause__ or e.__context__
        seen += 1
    return False
