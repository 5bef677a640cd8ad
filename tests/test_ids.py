"""Ids that differ only by case or by an invisible character are the same id (issue 17, item 5).

A planner cannot tell ``gj_va`` from ``GJ_VA`` in a long sheet, nor ``gj_va`` from ``gj​_va``
(a zero-width space) at all: counted as two lines they double a line's capacity (the default
case's NPV went from 374 M to 477 M with one such duplicated line). Duplicates are found in the
normalised form; a reference that matches only after normalisation is an error with a hint.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from optimiser.errors import InvalidInstance
from optimiser.tables import id_key
from optimiser.validate import load_instance

from conftest import Tables, write_instance

DEFAULT = Path(__file__).resolve().parents[1] / "instances" / "foxconn-vinfast-2021"

VARIANTS = {
    "upper case": "GJ_VA",
    "zero-width space": "gj\u200b_va",
    "zero-width non-joiner": "gj_\u200cva",
    "zero-width joiner": "gj_va\u200d",
    "byte-order mark": "\ufeffgj_va",
    "soft hyphen": "gj\u00ad_va",
}


def _copy_default(tmp_path: Path) -> Path:
    folder = tmp_path / "case"
    shutil.copytree(DEFAULT, folder)
    return folder


def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _write(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


def test_normal_form() -> None:
    assert id_key("GJ_VA") == id_key("gj_va") == id_key("gj\u200b_va") == id_key(" gj_va ")
    assert id_key("a\u00a0b") == id_key("a b") == id_key("A  B")
    assert id_key("ｇｊ") == id_key("gj")  # NFKC: full-width letters
    assert id_key(2025) == 2025
    assert id_key("gj_va") != id_key("gj_vb")


@pytest.mark.parametrize("what", sorted(VARIANTS))
def test_default_case_duplicated_line_variant_is_an_error(tmp_path: Path, what: str) -> None:
    folder = _copy_default(tmp_path)
    rows = _rows(folder / "lines.csv")
    index = next(i for i, r in enumerate(rows) if r[0] == "gj_va")
    copy = list(rows[index])
    copy[0] = VARIANTS[what]
    rows.append(copy)
    _write(folder / "lines.csv", rows)
    with pytest.raises(InvalidInstance) as caught:
        load_instance(folder)
    errors = [p for p in caught.value.problems if p.severity == "error"]
    assert len(errors) == 1, errors
    e = errors[0]
    assert (e.table, e.row, e.column) == ("lines", len(rows), "line_id")
    assert f"duplicates row {index + 1} 'gj_va'" in e.message
    assert "ignoring case and invisible characters" in e.message


def test_default_case_exact_ids_still_load(tmp_path: Path) -> None:
    instance, _ = load_instance(_copy_default(tmp_path))
    assert "gj_va" in {ln.id for ln in instance.lines}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_reference_matching_only_after_normalisation_says_did_you_mean(tmp_path: Path, tables: Tables,
                                                                       kind: str) -> None:
    tables["lines"][0]["factory_id"] = "f1"          # factory is F1
    tables["demand"][0]["market_id"] = "ASEAN\u200b"  # market is ASEAN
    with pytest.raises(InvalidInstance) as caught:
        load_instance(write_instance(tmp_path, tables, kind))
    got = {(p.table, p.row, p.column): p.message for p in caught.value.problems if p.severity == "error"}
    assert got[("lines", 2, "factory_id")].startswith("unknown factory 'f1'; did you mean 'F1'?")
    assert got[("demand", 2, "market_id")].startswith("unknown market 'ASEAN\\u200b'; did you mean 'ASEAN'?")
    assert len(got) == 2, got


def test_line_type_matching_only_after_normalisation_says_did_you_mean(tmp_path: Path, tables: Tables) -> None:
    tables["routings"][0]["line_type"] = "va"
    with pytest.raises(InvalidInstance) as caught:
        load_instance(write_instance(tmp_path, tables))
    msgs = [p.message for p in caught.value.problems if p.severity == "error"]
    assert any(m.startswith("no line has line_type 'va'; did you mean 'VA'?") for m in msgs), msgs


def test_composite_key_duplicate_after_normalisation(tmp_path: Path, tables: Tables) -> None:
    tables["demand"].append(dict(tables["demand"][0]))
    tables["markets"].append({"market_id": "asean", "name": "again"})
    tables["demand"][-1]["market_id"] = "asean"
    with pytest.raises(InvalidInstance) as caught:
        load_instance(write_instance(tmp_path, tables))
    msgs = [(p.table, p.message) for p in caught.value.problems if p.severity == "error"]
    assert any(t == "markets" and "'asean' duplicates row 2 'ASEAN'" in m for t, m in msgs), msgs


def test_strategy_spelt_two_ways_is_an_error(tmp_path: Path) -> None:
    folder = _copy_default(tmp_path)
    rows = _rows(folder / "strategies.csv")
    header, first = rows[0], rows[1]
    other = next(r for r in rows[1:] if r[0] != first[0])
    extra = list(other)
    extra[0] = first[0].upper()  # a row of strategy BUY next to buy: two strategies before
    extra[header.index("option_id")] = next(r[header.index("option_id")] for r in rows[1:]
                                            if r[0] != first[0] and r[header.index("option_id")] not in
                                            {q[header.index("option_id")] for q in rows[1:] if q[0] == first[0]})
    rows.append(extra)
    _write(folder / "strategies.csv", rows)
    with pytest.raises(InvalidInstance) as caught:
        load_instance(folder)
    errors = [p for p in caught.value.problems if p.severity == "error"]
    assert [(p.table, p.row, p.column) for p in errors] == [("strategies", len(rows), "strategy_id")], errors
    assert "ignoring case and invisible characters" in errors[0].message
