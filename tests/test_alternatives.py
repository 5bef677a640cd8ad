"""`optimiser alternatives` (issue 21): modelling to generate alternatives.

Symmetric case: two identical existing lines L1, L2 (cap 100), P (price 10, cost 4, tooling 100 on
either, max_lines 1), demand 100: the optimum tools P on one line (NPV 600 − 100 = 500); the
only other plan within any bound below 20 % (not tooling at all: NPV 0) is P on the other line,
same NPV, 2 decisions apart.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from builders import load, settings
from optimiser.alternatives import find_alternatives, hamming, parse_within
from optimiser.cli import app
from optimiser.errors import InputError
from optimiser.solver.options import SolveOptions

TINY = Path(__file__).resolve().parent.parent / "instances" / "tiny"
EXACT = SolveOptions(mip_gap=0)


def _symmetric():
    return {
        "settings": settings(),
        "factories": [{"factory_id": "F", "country": "VN"}],
        "markets": [{"market_id": "M"}],
        "lines": [{"line_id": f"L{i}", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "existing"}
                  for i in (1, 2)],
        "programmes": [{"programme_id": "P", "kind": "vehicle", "unit_price": 10, "max_lines": 1}],
        "routings": [{"programme_id": "P", "line_type": "VA", "capacity_use": 1, "unit_cost": 4, "tooling_cost": 100}],
        "demand": [{"programme_id": "P", "market_id": "M", "year": 2025, "volume": 100}],
    }


def test_symmetric_lines_give_the_other_line(tmp_path):
    inst = load(tmp_path, _symmetric())
    alts = find_alternatives(inst, 0.0, 5, options=EXACT)
    assert alts.optimum.npv == pytest.approx(500)
    assert len(alts.found) == 1 and alts.stopped == "no other plan within the bound"
    (a,) = alts.found
    assert a.plan.npv == pytest.approx(500)
    assert {alts.optimum.tooling, a.plan.tooling} == {(("P", "L1"),), (("P", "L2"),)}
    assert a.distance_to_optimum == 2
    other = a.plan.tooling[0][1]
    assert a.differences == (f"tools P on {other}", f"no longer tools P on {'L1' if other == 'L2' else 'L2'}")


def test_each_alternative_within_the_bound_and_new(tmp_path):
    """instances/tiny: optimum 36,000 (EXPECTED.md); within 20 % → objective ≥ 28,800."""
    from optimiser.validate import load_instance

    inst, _ = load_instance(TINY)
    alts = find_alternatives(inst, 0.20, 5, options=EXACT)
    assert alts.optimum.npv == pytest.approx(36000)
    assert alts.floor == pytest.approx(28800, abs=0.01)
    assert alts.found
    earlier = [alts.optimum_results.first_stage()]
    for a in alts.found:
        assert a.plan.objective >= 28800 - 1e-6
        fs = a.results.first_stage()
        assert all(hamming(fs, e) >= 1 for e in earlier)
        assert a.distance_to_nearest == min(hamming(fs, e) for e in earlier)
        earlier.append(fs)
    # "neither" (no deal: 30,000) is within the bound and as far as it gets from the optimum
    assert any(a.plan.deals == () and a.plan.npv == pytest.approx(30000) for a in alts.found)


def test_parse_within():
    assert parse_within("2%") == pytest.approx(0.02)
    assert parse_within("0.05") == pytest.approx(0.05)
    for bad in ("-1%", "101%", "1.5", "lots"):
        with pytest.raises(InputError):
            parse_within(bad)


def test_cli_json_workbook_and_bad_input(tmp_path):
    out = tmp_path / "alt.xlsx"
    r = CliRunner().invoke(app, ["alternatives", str(TINY), "--within", "20%", "--count", "2", "--mip-gap", "0",
                                 "--json", "--out", str(out)])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["optimum"]["npv"] == pytest.approx(36000) and len(d["alternatives"]) <= 2
    assert d["alternatives"][0]["plan"]["format"] == "optimiser-plan"
    wb = load_workbook(out)
    assert wb.sheetnames[:2] == ["Summary", "Plan 0 (optimum)"] and len(wb.sheetnames) == 2 + len(d["alternatives"])
    for args, word in ((["--within", "-2%"], "--within"), (["--within", "150%"], "--within"),
                       (["--count", "0"], "--count")):
        r = CliRunner().invoke(app, ["alternatives", str(TINY), *args])
        assert r.exit_code == 1
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and word in lines[0]
