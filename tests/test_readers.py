"""Hostile and odd input files: each gets one clear error or a located problem, never a traceback.

Workbooks are crafted by hand with zipfile where openpyxl would not write the
attack. Every test checks that the input file is left exactly as it was.
"""

from __future__ import annotations

import os
import random
import struct
import time
import zipfile
from pathlib import Path
from typing import Callable

import openpyxl
import pytest
from typer.testing import CliRunner

from optimiser import read_csv, read_zip
from optimiser.cli import app
from optimiser.errors import InputError, InvalidInstance, Problem
from optimiser.readers import read_instance_tables
from optimiser.validate import load_instance

from builders import CONTENT_TYPES, NS, SETTINGS_ROWS, make_xlsx, refused, s, sheet_xml, snapshot
from conftest import minimal_tables, write_instance

def rewrite_member(src: Path, dst: Path, member: str, change: Callable[[bytes], bytes]) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info.filename, change(data) if info.filename == member else data)
    return dst


def member_of_sheet(path: Path, title: str) -> str:
    """The zip member holding the sheet called ``title`` (openpyxl writes sheet<i>.xml in order)."""
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return f"xl/worksheets/sheet{wb.sheetnames.index(title) + 1}.xml"
    finally:
        wb.close()


# ------------------------------------------------------------------ checks

def located(path: Path) -> tuple[Problem, ...]:
    """Validation fails with located problems; the CLI exits 1; the input is not modified."""
    before = snapshot(path)
    with pytest.raises(InvalidInstance) as caught:
        load_instance(path)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert snapshot(path) == before
    return caught.value.problems


def errors(problems: tuple[Problem, ...]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


# -------------------------------------------------------- not a workbook

def test_random_bytes_named_xlsx(tmp_path: Path) -> None:
    p = tmp_path / "random.xlsx"
    p.write_bytes(random.Random(1).randbytes(5000))
    refused(p, "not an Excel workbook")


def test_text_file_named_xlsx(tmp_path: Path) -> None:
    p = tmp_path / "notes.xlsx"
    p.write_text("key,value\nname,x\n")
    refused(p, "not an Excel workbook")


def test_empty_file_named_xlsx(tmp_path: Path) -> None:
    p = tmp_path / "empty.xlsx"
    p.write_bytes(b"")
    refused(p, "not an Excel workbook")


def test_zip_without_a_workbook(tmp_path: Path) -> None:
    p = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("readme.txt", "hello")
        z.writestr("xl/media/image1.png", b"\x89PNG")
    refused(p, "a zip archive without a workbook inside")


def test_workbook_with_broken_xml(tmp_path: Path) -> None:
    p = make_xlsx(tmp_path / "broken.xlsx", {"settings": "<worksheet><sheetData><row>"})
    refused(p, "not a readable Excel workbook")


def test_truncated_workbook(tmp_path: Path) -> None:
    good = write_instance(tmp_path, minimal_tables(), "xlsx")
    p = tmp_path / "truncated.xlsx"
    p.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    refused(p, "Excel workbook")


def test_corrupt_member_data(tmp_path: Path) -> None:
    """Flipped bytes inside a compressed member: a CRC or inflate error, reported in one line."""
    good = write_instance(tmp_path, minimal_tables(), "xlsx")
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as z:
        info = z.getinfo(member_of_sheet(good, "lines"))
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(start + 10, start + min(info.compress_size, 60)):
        data[k] ^= 0x5A
    p = tmp_path / "corrupt.xlsx"
    p.write_bytes(bytes(data))
    refused(p, "not a readable Excel workbook")


def test_csv_file_instead_of_folder(tmp_path: Path) -> None:
    folder = write_instance(tmp_path, minimal_tables(), "csv")
    refused(folder / "lines.csv", "give the folder that holds the CSV tables")


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        load_instance(tmp_path / "nowhere.xlsx")


# ------------------------------------------------------ XML entity attacks

LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
          + "]>")


def test_billion_laughs_in_a_sheet(tmp_path: Path) -> None:
    p = make_xlsx(tmp_path / "laughs.xlsx",
                  {"settings": sheet_xml([[s("A1", "key"), s("B1", "&lol9;")]], prolog=LAUGHS)})
    refused(p, "refused", "XML entit")


def test_billion_laughs_in_shared_strings(tmp_path: Path) -> None:
    sst = f'<?xml version="1.0"?>{LAUGHS}<sst {NS} count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>'
    p = make_xlsx(tmp_path / "laughs.xlsx", {"settings": sheet_xml([['<c r="A1" t="s"><v>0</v></c>']])},
                  shared_strings=sst)
    refused(p, "refused", "sharedStrings.xml", "XML entit")


@pytest.mark.parametrize("where", ["sharedStrings", "sheet", "workbook"])
def test_external_entity_never_reads_the_file(tmp_path: Path, where: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-42")
    xxe = f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    sst = None
    sheet = sheet_xml([[s("A1", "key"), s("B1", "value")], [s("A2", "name"), s("B2", "&xxe;")]],
                      prolog=xxe if where == "sheet" else "")
    if where == "sharedStrings":
        sst = f'<?xml version="1.0"?>{xxe}<sst {NS} count="1" uniqueCount="1"><si><t>&xxe;</t></si></sst>'
        sheet = sheet_xml([[s("A1", "key"), s("B1", "value")], [s("A2", "name"), '<c r="B2" t="s"><v>0</v></c>']])
    p = make_xlsx(tmp_path / "xxe.xlsx", {"settings": sheet}, shared_strings=sst,
                  workbook_prolog=xxe if where == "workbook" else "")
    message = refused(p, "refused", "XML entit")
    assert "TOP-SECRET" not in message


def test_parameter_entity_with_odd_spacing_and_case(tmp_path: Path) -> None:
    prolog = '<!doctype x [ <!ENTITY % p SYSTEM "http://example.invalid/x.dtd"> %p; ]>'
    p = make_xlsx(tmp_path / "pe.xlsx", {"settings": sheet_xml(SETTINGS_ROWS, prolog=prolog)})
    refused(p, "refused", "XML entit")


def test_utf16_xml_member_is_refused(tmp_path: Path) -> None:
    """UTF-16 would hide a DOCTYPE from a byte scan: refuse it outright."""
    xml = sheet_xml(SETTINGS_ROWS, prolog=LAUGHS).replace('encoding="UTF-8"', 'encoding="UTF-16"')
    p = make_xlsx(tmp_path / "utf16.xlsx", {"settings": xml.encode("utf-16")})
    refused(p, "refused", "UTF-16")


def test_entity_refusal_does_not_rely_on_the_byte_scan_alone(tmp_path: Path, monkeypatch) -> None:
    """With the pre-scan blinded, defusedxml inside openpyxl still refuses and we say why in one line."""
    monkeypatch.setattr(read_zip, "DTD", __import__("re").compile(rb"(?!x)x"))
    sst = f'<?xml version="1.0"?>{LAUGHS}<sst {NS} count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>'
    p = make_xlsx(tmp_path / "laughs.xlsx", {"settings": sheet_xml([['<c r="A1" t="s"><v>0</v></c>']])},
                  shared_strings=sst)
    refused(p, "refused", "XML entity declarations")


# ----------------------------------------------------------------- zip bombs

def test_zip_bomb_member_with_huge_ratio(tmp_path: Path) -> None:
    p = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES.format(parts=""))
        z.writestr("xl/workbook.xml", f"<workbook {NS}/>")
        with z.open("xl/worksheets/sheet1.xml", "w") as fh:
            zeros = bytes(1 << 20)
            for _ in range(24):  # 24 MB of zeros, about 24 kB on disk
                fh.write(zeros)
    assert p.stat().st_size < 100_000
    t0 = time.perf_counter()
    refused(p, "refused", "zip bomb")
    assert time.perf_counter() - t0 < 5


def test_zip_expanding_beyond_the_total_limit(tmp_path: Path, monkeypatch) -> None:
    """Many members each under the per-member check add up past the total limit (limit lowered to stay fast)."""
    monkeypatch.setattr(read_zip, "MAX_WORKBOOK_UNCOMPRESSED_BYTES", 5_000_000)
    p = tmp_path / "wide-bomb.xlsx"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES.format(parts=""))
        z.writestr("xl/workbook.xml", f"<workbook {NS}/>")
        for i in range(8):  # incompressible, so each passes the per-member ratio check
            z.writestr(f"xl/media/pad{i}.bin", random.Random(i).randbytes(1_000_000))
    refused(p, "refused", "expands to 8 MB", "zip bomb")


def test_zip_whose_header_lies_about_the_size(tmp_path: Path) -> None:
    """A member that claims to be small but inflates to more: zipfile stops at the claimed size and the CRC fails."""
    p = make_xlsx(tmp_path / "liar.xlsx", {"settings": sheet_xml(SETTINGS_ROWS + [[s("A3", "x" * 5000)]])})
    data = bytearray(p.read_bytes())
    with zipfile.ZipFile(p) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    claimed = 100
    struct.pack_into("<I", data, info.header_offset + 22, claimed)  # local header: uncompressed size
    central = data.index(b"PK\x01\x02")
    while True:  # find the central-directory entry of this member
        name_len = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46: central + 46 + name_len] == info.filename.encode():
            break
        central = data.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, central + 24, claimed)
    p.write_bytes(bytes(data))
    refused(p, "not a readable Excel workbook")


# ------------------------------------------------------------ huge sheets

def test_sheet_declaring_two_million_rows_is_refused_quickly(tmp_path: Path) -> None:
    p = make_xlsx(tmp_path / "dim.xlsx", {"settings": sheet_xml(SETTINGS_ROWS, dimension="A1:A2000000")})
    t0 = time.perf_counter()
    refused(p, "2,000,000 rows")
    assert time.perf_counter() - t0 < 5


def _stream_rows(n_rows: int) -> Callable[[object], None]:
    """Rows of varied numbers (so the member compresses like real data, not like a bomb)."""
    rng = random.Random(7)
    block = b"".join(b"<row><c><v>%d.%d</v></c></row>" % (rng.randrange(10**9), rng.randrange(10**6))
                     for _ in range(4000))

    def write(fh) -> None:
        fh.write(f'<?xml version="1.0"?><worksheet {NS}><sheetData>'.encode())
        fh.write(b'<row><c t="inlineStr"><is><t>key</t></is></c></row>')
        for _ in range(n_rows // 4000):
            fh.write(block)
        fh.write(b"</sheetData></worksheet>")
    return write


def test_sheet_streaming_a_million_rows_is_refused_quickly(tmp_path: Path) -> None:
    p = make_xlsx(tmp_path / "rows.xlsx", {"settings": _stream_rows(1_000_000)}, compresslevel=1)
    try:
        t0 = time.perf_counter()
        refused(p, "more than 500,000 rows")  # load_instance and the CLI: two refusals
        assert time.perf_counter() - t0 < 5
    finally:
        p.unlink()  # ~12 MB: don't keep it in pytest's retained temp folders


def test_one_row_numbered_two_million_is_refused_quickly(tmp_path: Path) -> None:
    """openpyxl would otherwise hand out two million empty rows to fill the gap."""
    rows = sheet_xml(SETTINGS_ROWS).replace("</sheetData>", '<row r="2000000"><c r="A2000000"><v>1</v></c></row>'
                                                          "</sheetData>")
    p = make_xlsx(tmp_path / "gap.xlsx", {"settings": rows})
    t0 = time.perf_counter()
    refused(p, "a row numbered 2,000,000")
    assert time.perf_counter() - t0 < 5


def test_many_rows_in_a_csv_are_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(read_csv, "MAX_ROWS_PER_TABLE", 1000)
    folder = write_instance(tmp_path, minimal_tables(), "csv")
    with open(folder / "demand.csv", "a") as fh:
        fh.writelines(f"P1,ASEAN,2025,{i}\n" for i in range(1500))
    refused(folder, "more than 1,000 rows")


# ------------------------------------------------------------------- CSV

def test_csv_with_nul_bytes(tmp_path: Path) -> None:
    folder = write_instance(tmp_path, minimal_tables(), "csv")
    f = folder / "lines.csv"
    f.write_bytes(f.read_bytes().replace(b"L2", b"L\x002"))
    refused(folder, "lines.csv line 3", "NUL bytes")


def test_csv_not_utf8(tmp_path: Path) -> None:
    folder = write_instance(tmp_path, minimal_tables(), "csv")
    f = folder / "factories.csv"
    f.write_bytes(f.read_bytes().replace(b"Lordstown", "Lörđstown".encode("cp1250")))
    refused(folder, "factories.csv line 3", "not UTF-8", "save the CSV as UTF-8")


def test_csv_utf16(tmp_path: Path) -> None:
    folder = write_instance(tmp_path, minimal_tables(), "csv")
    f = folder / "markets.csv"
    f.write_bytes(f.read_text().encode("utf-16"))
    refused(folder, "markets.csv", "UTF-16")


def test_csv_with_old_mac_line_endings_and_crlf(tmp_path: Path) -> None:
    folder = write_instance(tmp_path, minimal_tables(), "csv")
    for f, sep in ((folder / "lines.csv", "\r"), (folder / "demand.csv", "\r\n")):
        f.write_bytes(f.read_bytes().replace(b"\n", sep.encode()))
    f = folder / "lines.csv"
    f.write_bytes(f.read_bytes().replace(b"500", b"-500"))
    assert errors(located(folder)) == [Problem("lines", 3, "capacity", "error", "-500 is negative (must be ≥ 0)")]


def test_csv_with_utf8_bom_is_fine(tmp_path: Path) -> None:
    """Excel's "CSV UTF-8" starts with a byte-order mark; it must not end up in the first header."""
    folder = write_instance(tmp_path, minimal_tables(), "csv")
    for f in folder.iterdir():
        f.write_bytes(b"\xef\xbb\xbf" + f.read_bytes())
    _, warnings = load_instance(folder)
    assert warnings == ()


def test_csv_with_unterminated_quote(tmp_path: Path) -> None:
    folder = write_instance(tmp_path, minimal_tables(), "csv")
    (folder / "factories.csv").write_text('factory_id,country\nF1,"VN\nF2,US\n')
    refused(folder, "factories.csv", "a quoted value opened on line 2 is never closed")


def test_csv_with_semicolons(tmp_path: Path) -> None:
    """European Excel saves "CSV" with semicolons: one clear error, not a dozen missing columns."""
    folder = write_instance(tmp_path, minimal_tables(), "csv")
    f = folder / "lines.csv"
    f.write_text(f.read_text().replace(",", ";"))
    refused(folder, "lines.csv line 1", "separated by semicolons")


def test_csv_with_more_columns_than_the_limit(tmp_path: Path) -> None:
    folder = write_instance(tmp_path, minimal_tables(), "csv")
    (folder / "markets.csv").write_text(",".join(f"c{i}" for i in range(300)) + "\n")
    refused(folder, "300 columns")


def test_unknown_csv_files_are_warnings(tmp_path: Path) -> None:
    folder = write_instance(tmp_path, minimal_tables(), "csv")
    (folder / "notes.csv").write_text("a\n1\n")
    (folder / "README.md").write_text("hello")
    _, warnings = load_instance(folder)
    assert [(p.table, p.severity) for p in warnings] == [("notes", "warning")]
    assert warnings[0].message.startswith("unknown table notes.csv; it is ignored")


# ------------------------------------------------- odd but readable workbooks

def test_extra_sheets_are_warnings_and_readme_is_ignored(tmp_path: Path) -> None:
    p = write_instance(tmp_path, minimal_tables(), "xlsx")
    wb = openpyxl.load_workbook(p)
    wb.create_sheet("Pivot")["A1"] = "anything"
    wb.create_sheet("README")["A1"] = "how to fill this in"
    wb.save(p)
    before = snapshot(p)
    _, warnings = load_instance(p)
    assert snapshot(p) == before
    assert len(warnings) == 1
    assert warnings[0].table == "Pivot" and warnings[0].severity == "warning" and warnings[0].row is None
    assert warnings[0].message.startswith("unknown sheet 'Pivot'; it is ignored")


def test_table_given_twice_in_a_workbook(tmp_path: Path) -> None:
    p = write_instance(tmp_path, minimal_tables(), "xlsx")
    wb = openpyxl.load_workbook(p)
    wb.copy_worksheet(wb["markets"]).title = "Markets "
    wb.save(p)
    assert errors(located(p)) == [
        Problem("markets", None, None, "error", "the table appears twice in the workbook (sheet 'Markets '); keep one")]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_duplicate_headers_are_errors(tmp_path: Path, kind: str) -> None:
    t = minimal_tables()
    if kind == "csv":
        folder = write_instance(tmp_path, t, "csv")
        (folder / "factories.csv").write_text("factory_id,country,name,country\nF1,VN,a,VN\nF2,US,b,US\n")
        path = folder
    else:
        path = write_instance(tmp_path, t, "xlsx")
        wb = openpyxl.load_workbook(path)
        ws = wb["factories"]
        ws["D1"], ws["D2"], ws["D3"] = "country", "VN", "US"
        wb.save(path)
    assert errors(located(path)) == [
        Problem("factories", 1, "country", "error", "column country appears twice in the header")]


def _with_formula(tmp_path: Path, cached: str | None) -> Path:
    """lines!D3 (L2's capacity) is =2*250, with or without the value Excel computed."""
    base = write_instance(tmp_path, minimal_tables(), "xlsx", name="base")
    wb = openpyxl.load_workbook(base)
    assert wb["lines"]["D1"].value == "capacity"
    wb["lines"]["D3"] = "=2*250"
    wb.save(base)
    member = member_of_sheet(base, "lines")

    def add_cache(xml: bytes) -> bytes:
        assert b"<f>2*250</f><v />" in xml or b"<f>2*250</f><v></v>" in xml
        value = f"<v>{cached}</v>".encode() if cached is not None else b"<v />"
        return xml.replace(b"<f>2*250</f><v />", b"<f>2*250</f>" + value).replace(
            b"<f>2*250</f><v></v>", b"<f>2*250</f>" + value)

    return rewrite_member(base, tmp_path / "formula.xlsx", member, add_cache)


def test_formula_with_cached_value_uses_the_value(tmp_path: Path) -> None:
    p = _with_formula(tmp_path, "500")
    before = snapshot(p)
    instance, warnings = load_instance(p)
    assert snapshot(p) == before
    assert warnings == ()
    assert instance.line("L2").capacity == 500


def test_formula_without_cached_value_is_a_located_error(tmp_path: Path) -> None:
    p = _with_formula(tmp_path, None)
    assert errors(located(p)) == [
        Problem("lines", 3, "capacity", "error", "formula =2*250 has no computed value; open and save the "
                                                 "workbook in Excel, or type the value")]


@pytest.mark.parametrize("cached", ["500", None])
def test_array_formula(tmp_path: Path, cached: str | None) -> None:
    """Array formulas come out of openpyxl as objects, not text: still a formula (cached value or error)."""
    p = write_instance(tmp_path, minimal_tables(), "xlsx", name="base")
    member = member_of_sheet(p, "lines")
    value = f"<v>{cached}</v>" if cached else ""

    def to_array(xml: bytes) -> bytes:
        old = b'<c r="D3" t="n"><v>500</v></c>'
        assert old in xml
        return xml.replace(old, f'<c r="D3"><f t="array" ref="D3">2*250</f>{value}</c>'.encode())

    q = rewrite_member(p, tmp_path / "array.xlsx", member, to_array)
    if cached:
        assert load_instance(q)[0].line("L2").capacity == 500
    else:
        assert errors(located(q)) == [
            Problem("lines", 3, "capacity", "error", "formula =2*250 has no computed value; open and save the "
                                                     "workbook in Excel, or type the value")]


def test_merged_cells_are_a_located_error(tmp_path: Path) -> None:
    p = write_instance(tmp_path, minimal_tables(), "xlsx")
    wb = openpyxl.load_workbook(p)
    ws = wb["factories"]
    assert ws["C1"].value == "country"
    ws["C3"] = None
    ws.merge_cells("C2:C3")
    ws.merge_cells("F1:G1")  # right of the table: harmless
    wb.save(p)
    assert errors(located(p)) == [
        Problem("factories", 2, "country", "error",
                "cells C2:C3 are merged; a merged range keeps its value only in its first cell and the others "
                "read as blank — unmerge them and fill in every cell"),
        Problem("factories", 3, "country", "error", "country is required but blank"),
    ]


def test_stale_dimension_does_not_hide_rows(tmp_path: Path) -> None:
    """Some writers declare a wrong <dimension>; every row there is must still be read."""
    p = write_instance(tmp_path, minimal_tables(), "xlsx")
    member = member_of_sheet(p, "demand")
    q = rewrite_member(p, tmp_path / "stale.xlsx", member,
                       lambda xml: __import__("re").sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1"', xml))
    instance, _ = load_instance(q)
    assert len(instance.demand) == 3


def test_rows_numbered_as_the_planner_sees_them_with_blank_rows_above_the_header(tmp_path: Path) -> None:
    p = write_instance(tmp_path, minimal_tables(), "xlsx")
    wb = openpyxl.load_workbook(p)
    wb["lines"].insert_rows(1, amount=2)  # header now on row 3, L2 on row 5
    wb["lines"]["D5"] = -40
    wb.save(p)
    assert errors(located(p)) == [Problem("lines", 5, "capacity", "error", "-40 is negative (must be ≥ 0)")]


def test_values_right_of_the_header_are_a_warning(tmp_path: Path) -> None:
    folder = write_instance(tmp_path, minimal_tables(), "csv")
    (folder / "markets.csv").write_text("market_id,name\nASEAN,ASEAN,,stray\nNA,North America\n")
    _, warnings = load_instance(folder)
    assert warnings == (Problem("markets", 2, None, "warning", "values right of the last column are ignored: stray"),)


def test_reading_is_read_only(tmp_path: Path) -> None:
    """Valid inputs too: reading never writes, renames or touches the files (bytes and mtimes)."""
    for kind in ("csv", "xlsx"):
        path = write_instance(tmp_path / kind, minimal_tables(), kind)
        before = snapshot(path)
        os.chmod(path, 0o555 if kind == "csv" else 0o444)
        try:
            load_instance(path)
            read_instance_tables(path)
            assert CliRunner().invoke(app, ["validate", str(path)]).exit_code == 0
        finally:
            os.chmod(path, 0o755 if kind == "csv" else 0o644)
        assert snapshot(path) == before
        assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
