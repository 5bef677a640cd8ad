"""Comparison: matrix, regret, EVPI/VSS on a hand-solved case; invariants; serial = parallel."""

from __future__ import annotations

import pytest

from builders import deal_case, load
from optimiser.compare import compare
from optimiser.model.sets import Risk
from optimiser.solver.options import SolveOptions

OPTS = SolveOptions(mip_gap=0)


def test_hand_solved_comparison(tmp_path):
    comp = compare(load(tmp_path, deal_case()), options=OPTS, workers=1)
    m = comp.matrix.set_index(["strategy", "scenario"])["npv"]
    expected = {("buy", "low"): 0, ("buy", "high"): 1000, ("partner", "low"): 250, ("partner", "high"): 950,
                ("neither", "low"): 0, ("neither", "high"): 0, ("optimise", "low"): 250, ("optimise", "high"): 1000}
    assert {k: m[k] for k in expected} == pytest.approx(expected)
    sto = comp.stochastic.set_index("strategy")
    assert sto["expected_npv"].to_dict() == pytest.approx({"optimise": 600, "buy": 500, "partner": 600, "neither": 0})
    assert sto["max_regret"].to_dict() == pytest.approx({"optimise": 50, "buy": 250, "partner": 50, "neither": 1000})
    assert comp.wait_and_see == pytest.approx(625)
    assert comp.stochastic_optimum == pytest.approx(600)
    assert comp.evpi == pytest.approx(25)
    assert comp.eev == pytest.approx(600)
    assert comp.vss == pytest.approx(0)
    assert comp.recommendation == {"expected": "partner", "worst_case": "partner", "minimax_regret": "partner"}


def test_invariants_and_parallel_equals_serial(tmp_path):
    inst = load(tmp_path, deal_case())
    serial = compare(inst, options=OPTS, workers=1)
    parallel = compare(inst, options=OPTS, workers=2)
    assert serial.to_json() == parallel.to_json()
    m = serial.matrix
    for s in serial.scenarios:
        best = m[(m.scenario == s) & (m.strategy == "optimise")]["objective"].iloc[0]
        assert (m[m.scenario == s]["objective"] <= best + 1e-6).all()
    assert (serial.regret["regret"] >= -1e-6).all()
    assert serial.evpi >= -1e-6 and serial.vss >= -1e-6


def test_cvar_premium(tmp_path):
    """With a heavy CVaR weight at α = 0.5 the tail is the low scenario: partner (250 there) stays
    optimal for optimise; forcing buy keeps 0 in the tail. Premium ≥ 0 in every row."""
    comp = compare(load(tmp_path, deal_case()), options=OPTS, workers=1, risk=Risk(alpha=0.5, weight=5))
    rows = {r["strategy"]: r for r in comp.risk["rows"]}
    assert all(r["premium"] >= -1e-6 for r in rows.values())
    assert rows["optimise"]["cvar_protected"] >= rows["optimise"]["cvar_neutral"] - 1e-6
    assert rows["optimise"]["cvar_neutral"] == pytest.approx(250)


def test_comparison_workbook_and_json(tmp_path):
    """`optimiser compare --json --out`: the JSON keys of the issue, and a workbook with the matrix,
    a chart over it and one plan sheet per strategy."""
    import json

    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from optimiser.cli import app
    from optimiser.writers import dict_tables, write_tables

    folder = tmp_path / "inst"
    write_tables(dict_tables(deal_case()), folder)
    out = tmp_path / "cmp.xlsx"
    res = CliRunner().invoke(app, ["compare", str(folder), "--workers", "1", "--mip-gap", "0", "--json",
                                   "--out", str(out), "--risk", "cvar", "--alpha", "0.5", "--weight", "1"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert {"matrix", "stochastic", "evpi", "vss", "recommendation"} <= set(data)
    assert data["evpi"] == pytest.approx(25)
    assert data["recommendation"]["expected"] == "partner"
    assert {r["strategy"] for r in data["matrix"]} == {"optimise", "buy", "partner", "neither"}
    wb = load_workbook(out)
    names = wb.sheetnames
    assert names[0] == "Comparison" and "Risk" in names and "Inputs" in names
    assert {"Plan optimise", "Plan buy", "Plan partner", "Plan neither"} <= set(names)
    ws = wb["Comparison"]
    assert "Matrix" in ws.tables
    ref = ws.tables["Matrix"].ref
    chart = ws._charts[0]
    series_refs = [s.val.numRef.f for s in chart.series]
    assert all(f.startswith("'Comparison'!") or f.startswith("Comparison!") for f in series_refs)
    assert len(series_refs) == 2  # one series per scenario
    first_row = int(ref.split(":")[0].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) + 1
    assert str(first_row) in series_refs[0]


def test_chosen_scenarios_are_renormalised_everywhere(tmp_path):
    """`--scenarios low,mid` of low (p ¼, factor ½), mid (p ½, factor 1), high (p ¼, factor 1½):
    renormalised to low ⅓, mid ⅔ — every figure over those two alone.

    Deterministic: buy low 0, mid 1000 − 500 = 500; partner low 250, mid 700 − 100 = 600.
    Stochastic: buy ⅓·0 + ⅔·500 = 333.3; partner ⅓·250 + ⅔·600 = 483.3; neither 0; optimise 483.3.
    WS = ⅓·250 + ⅔·600 = 483.3 → EVPI 0. EV demand ⅓·50 + ⅔·100 = 83.3: buy 833.3 − 500 = 333.3,
    partner 583.3 − 100 = 483.3 → partner, EEV = 483.3 → VSS 0. Max regret: partner 0, buy 250, neither 600.
    Over all three (the old answer): partner ¼·250 + ½·600 + ¼·950 = 600.
    """
    case = deal_case()
    case["scenarios"] = [{"scenario_id": "low", "probability": 0.25, "demand_factor": 0.5},
                         {"scenario_id": "mid", "probability": 0.5, "demand_factor": 1.0},
                         {"scenario_id": "high", "probability": 0.25, "demand_factor": 1.5}]
    comp = compare(load(tmp_path, case), scenarios=["low", "mid"], options=OPTS, workers=1)
    assert comp.probability == pytest.approx({"low": 1 / 3, "mid": 2 / 3})
    assert sum(comp.probability.values()) == pytest.approx(1.0)
    sto = comp.stochastic.set_index("strategy")
    assert sto["expected_npv"].to_dict() == pytest.approx(
        {"optimise": 1450 / 3, "buy": 1000 / 3, "partner": 1450 / 3, "neither": 0})
    assert sto["max_regret"].to_dict() == pytest.approx({"optimise": 0, "buy": 250, "partner": 0, "neither": 600})
    assert comp.wait_and_see == pytest.approx(1450 / 3)
    assert comp.evpi == pytest.approx(0, abs=1e-6)
    assert comp.eev == pytest.approx(1450 / 3)
    assert comp.vss == pytest.approx(0, abs=1e-6)
    assert set(comp.regret["scenario"]) == {"low", "mid"}
    assert comp.recommendation["expected"] == "partner"
    data = comp.to_json()
    assert data["probability"] == pytest.approx({"low": 1 / 3, "mid": 2 / 3})
    assert "renormalised" in data["scenario_note"] and "low 0.25 → 0.3333" in data["scenario_note"]
    assert all(abs(sum(p.probability for _, p in plan.scenarios.iterrows()) - 1) < 1e-9
               for plan in comp.plans.values())


def test_all_scenarios_chosen_is_no_restriction(tmp_path):
    comp = compare(load(tmp_path, deal_case()), scenarios=["high", "low"], options=OPTS, workers=1)
    assert comp.scenario_note is None and comp.evpi == pytest.approx(25)


def test_a_board_is_told_first_when_solves_are_not_proven_optimal() -> None:
    """Rows of solves stopped at their limit (status feasible, or a gap above 0.1 %) give the
    caveat sentence, with their count and largest gap; proven solves give none."""
    from optimiser.compare import not_proven  # noqa: PLC0415

    proven = [{"npv": 100.0, "status": "optimal", "gap": 1e-5}, {"npv": 90.0, "status": "optimal", "gap": 0.0}]
    assert not_proven(proven, 1e-4, "USD") is None
    short = proven + [{"npv": 80.0, "status": "feasible", "gap": 0.25}, {"npv": None, "status": "no_solution"}]
    text = not_proven(short, 25.0, "USD")
    assert text is not None and "1 of 3 solves" in text and "25.0%" in text
