"""`solve --json`, the terminal summary and the report's Summary sheet give the same expected figures
(issue 17, items 6 and 9).

Before: `--json` had ``unmet_units`` = the sum over the four scenarios of the default case (2,650,000,
more than the 1,530,245 units demanded in expectation) while the terminal said 639,300 (expected);
and both added vehicles to 100-kWh battery units. Now every expected figure is Σ_s π_s·x_s, the JSON
says so (``basis``, ``expected_*`` keys, ``per_scenario``), and units are per programme kind.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "instances" / "foxconn-vinfast-2021"


def _cli(*args: str) -> str:
    env = os.environ | {"COLUMNS": "400"}
    done = subprocess.run([sys.executable, "-m", "optimiser", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("expected")
    data = json.loads(_cli("solve", str(DEFAULT), "--json", "--out", str(tmp / "a.xlsx")))
    text = " ".join(_cli("solve", str(DEFAULT), "--out", str(tmp / "b.xlsx")).split())
    wb = load_workbook(tmp / "a.xlsx")
    for ws in wb.worksheets:
        if "Summary" in ws.tables:
            min_col, min_row, max_col, max_row = range_boundaries(ws.tables["Summary"].ref)
            rows = list(ws.iter_rows(min_row=min_row + 1, max_row=max_row, min_col=min_col, max_col=max_col,
                                     values_only=True))
            kpis = {r[0]: (r[1], r[2]) for r in rows}
    return data, text, kpis


def _probabilities() -> dict[str, float]:
    with open(DEFAULT / "scenarios.csv", newline="", encoding="utf-8") as f:
        return {r["scenario_id"]: float(r["probability"]) for r in csv.DictReader(f)}


def test_json_expected_figures_are_probability_weighted(runs: Any) -> None:
    data, _, _ = runs
    prob = _probabilities()
    assert set(data["per_scenario"]) == set(prob)
    assert "unmet_units" not in data  # the old, summed key is gone
    assert "probability-weighted" in data["basis"]
    for kind in ("vehicle", "battery"):
        per = {s: data["per_scenario"][s]["units"][kind] for s in prob}
        for field in ("demand", "served", "unmet", "made"):
            expected = sum(prob[s] * per[s][field] for s in prob)
            assert data["expected_units"][kind][field] == pytest.approx(expected), (kind, field)
        assert data["expected_unmet_units"][kind] == pytest.approx(data["expected_units"][kind]["unmet"])
        summed = sum(per[s]["unmet"] for s in prob)
        assert data["expected_units"][kind]["unmet"] < summed  # not the sum over scenarios
        assert data["expected_units"][kind]["unmet"] <= data["expected_units"][kind]["demand"]
    assert data["expected_units"]["vehicle"]["unit"] == "vehicles"
    assert data["expected_units"]["battery"]["unit"] == "battery units"
    npv = sum(prob[s] * data["per_scenario"][s]["npv"] for s in prob)
    assert data["npv"] == pytest.approx(npv, rel=1e-6)
    assert data["per_scenario"]["low"]["probability"] == prob["low"] == 0.15


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def test_json_terminal_and_report_agree(runs: Any) -> None:
    data, text, kpis = runs
    # NPV: the terminal rounds to 2 decimals of millions or billions, the report holds the number
    m = re.search(r"NPV \(cash\): ([\d,.]+) (m|bn) USD", text)
    scale = {"m": 1e6, "bn": 1e9}[m.group(2)] if m else 1.0
    assert m and _number(m.group(1)) == pytest.approx(data["npv"] / scale, abs=0.006)
    assert kpis["NPV (m USD)"][0] == pytest.approx(data["npv"])
    for kind in ("vehicle", "battery"):
        e = data["expected_units"][kind]
        unit = e["unit"]
        m = re.search(rf"Unmet demand, {unit}: ([\d,]+) of ([\d,]+) \(expected over the scenarios\)", text)
        assert m, text
        assert _number(m.group(1)) == pytest.approx(e["unmet"], abs=0.5)
        assert _number(m.group(2)) == pytest.approx(e["demand"], abs=0.5)
        value, detail = kpis[f"Unmet demand ({unit})"]
        assert value == pytest.approx(e["unmet"])
        assert f"of {e['demand']:,.0f} {unit} demanded" in detail
    # units of different kinds are never added: no line adds vehicles and battery units
    total = data["expected_units"]["vehicle"]["demand"] + data["expected_units"]["battery"]["demand"]
    assert f"{total:,.0f}" not in text
    assert not any(k.startswith("Unmet demand (units)") for k in kpis)


def test_report_production_charts_one_per_kind(tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    _cli("solve", str(DEFAULT), "--out", str(out))
    wb = load_workbook(out)
    names = {n for ws in wb.worksheets for n in ws.tables}
    # e-drives (component) have no demand of their own: the chart covers the programmes sold to markets
    assert {"Production_by_year", "Production_by_year_battery"} <= names
    assert "Production_by_year_component" not in names
    assert len(wb["Summary"]._charts) == 1 + 2  # the waterfall, then production vs demand per kind
    # capacity vs used: one table and chart per kind of line (vehicle, battery and e-drive lines apart)
    assert {"Utilisation_by_year", "Utilisation_by_year_battery", "Utilisation_by_year_component"} <= names
    titles = [c.title.tx.rich.p[0].r[0].t for c in wb["Utilisation"]._charts if c.title is not None]
    assert [t for t in titles if t.startswith("Capacity available vs used")] == [
        f"Capacity available vs used by year — {k} lines" for k in ("vehicle", "battery", "component")]
    ws = wb["Production"]
    for name, unit in (("Production_by_year", "vehicles"), ("Production_by_year_battery", "battery units")):
        min_col, min_row, max_col, _ = range_boundaries(ws.tables[name].ref)
        header = [c.value for c in ws[min_row][min_col - 1:max_col]]
        assert f"total made ({unit})" in header


def test_sweep_json_says_what_npv_is() -> None:
    import pandas as pd

    from optimiser.sweep import sweep_json

    data = sweep_json(pd.DataFrame([{"variant": "v1", "strategy": "buy", "npv": 1.0}]), {})
    assert "expected (probability-weighted)" in data["basis"] and data["rows"][0]["npv"] == 1.0
