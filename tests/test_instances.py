"""The shipped instances: the teaching case's hand-solved optimum, the default case's two forms, and the
hindsight case that differs from the default only where instances/README.md says."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import check_invariants
from optimiser.engine import solve_instance
from optimiser.solver.options import SolveOptions
from optimiser.validate import load_instance

ROOT = Path(__file__).resolve().parents[1] / "instances"
TINY = ROOT / "tiny"
DEFAULT = ROOT / "foxconn-vinfast-2021"
HINDSIGHT = ROOT / "foxconn-vinfast-2021-hindsight"


@pytest.mark.parametrize("strategy, npv, taken", [
    ("optimise", 36000, ["partner_vf"]),
    ("partner", 36000, ["partner_vf"]),
    ("buy", 24500, ["buy_vf"]),
    ("neither", 30000, []),
])
def test_teaching_case_optimum(strategy, npv, taken):
    """Worked out by hand in instances/README.md ("The teaching case") and instances/tiny/EXPECTED.md."""
    inst, warnings = load_instance(TINY)
    assert not warnings
    res = solve_instance(inst, strategy, None, SolveOptions(mip_gap=0))
    check_invariants(inst, res)
    assert res.run.npv == pytest.approx(npv, abs=1e-6)
    assert res.options_taken == taken


def test_teaching_case_partner_plan():
    """Partner: cars on home_asm 100 + 100, packs on vf_pack 100 + 100; breakdown as derived by hand."""
    inst, _ = load_instance(TINY)
    res = solve_instance(inst, "partner", None, SolveOptions(mip_gap=0))
    prod = {(r.programme_id, r.line_id, r.year): r.units for r in res.production.itertuples()}
    assert prod == pytest.approx({("car", "home_asm", 2025): 100, ("car", "home_asm", 2026): 100,
                                  ("pack", "vf_pack", 2025): 100, ("pack", "vf_pack", 2026): 100})
    bd = res.npv_breakdown.set_index("category")["value"].to_dict()
    assert bd["revenue"] == pytest.approx(200000)
    assert bd["variable_cost"] == pytest.approx(-140000)
    assert bd["partner_fees"] == pytest.approx(-6000)
    assert bd["fixed_cost"] == pytest.approx(-10000)
    assert bd["tooling"] == pytest.approx(-1000)
    assert bd["deal_costs"] == pytest.approx(-7000)


def test_default_workbook_equals_csv_folder():
    """instances/foxconn-vinfast-2021.xlsx is generated from the CSV folder with `optimiser convert`."""
    a, wa = load_instance(DEFAULT)
    b, wb = load_instance(DEFAULT.with_suffix(".xlsx"))
    assert a == b
    assert a.fingerprint == b.fingerprint
    assert not wa and not wb


#: Expected cash NPV (m USD) per strategy, as quoted in instances/README.md ("The answer").
README_NPV = {"optimise": 3110.2, "buy": 3110.2, "partner": 2387.1, "staged": 2993.1, "neither": 2501.0}


@pytest.mark.parametrize("strategy", ["optimise", "buy", "partner", "staged", "neither"])
def test_default_case_solves_for_every_strategy(strategy):
    """Stochastic form over all scenarios, to ≤ 0.1 % gap; the plan passes every invariant, and its cash NPV
    is the README's within the gap (the answer table must stay true when the case changes)."""
    inst, _ = load_instance(DEFAULT)
    res = solve_instance(inst, strategy, None, SolveOptions(mip_gap=1e-3, time_limit=120))
    assert res.run.status == "optimal"
    assert res.run.gap <= 1e-3
    check_invariants(inst, res)
    assert res.npv / 1e6 == pytest.approx(README_NPV[strategy], rel=2e-3)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"{README_NPV[strategy]:,.1f}" in readme


VF = {"vf_e34", "vf_8", "vf_9"}
#: What hindsight changes (instances/README.md, "The hindsight case"): (table, kind) → (which keys, which columns).
HINDSIGHT_CHANGES = {
    ("settings", "changed"): (lambda k: k == ("name",), {"value"}),
    ("market_size", "changed"): (lambda k: True, {"volume"}),
    ("prices", "changed"): (lambda k: k[0] == "liion_pack", {"unit_price", "external_price"}),
    ("demand", "changed"): (lambda k: k[0] in VF | {"byton_mbyte"}, {"volume"}),
    ("demand", "added"): (lambda k: k[0] == "lmc_endurance", None),
    ("routings", "changed"): (lambda k: k[0] in VF and k[1] == "vehicle_vf", {"unit_cost"}),
    ("routings", "added"): (lambda k: k[0] == "lmc_endurance", None),
    ("lines", "changed"): (lambda k: k[0] in ("hp_va_jv", "hp_va_own"), {"fixed_cost", "idle_cost"}),
    ("lines", "added"): (lambda k: k == ("lt_va",), None),
    ("markets", "added"): (lambda k: k == ("NA",), None),
    ("logistics", "added"): (lambda k: k == ("foxconn_us", "NA"), None),
    ("options", "added"): (lambda k: k == ("lordstown_purchase",), None),
    ("programmes", "added"): (lambda k: k == ("lmc_endurance",), None),
}


def test_hindsight_case_loads_and_differs_only_where_the_readme_says():
    """Both cases load without a warning; every difference (optimiser diff) is one the README lists, and
    every listed kind of difference is there. Nothing is removed; source texts are not compared."""
    from optimiser.diff import diff_instances

    for folder in (DEFAULT, HINDSIGHT):
        _, warnings = load_instance(folder)
        assert not warnings, folder
    d = diff_instances(DEFAULT, HINDSIGHT)
    assert not d.tables  # the same tables on both sides
    seen = set()
    for ch in d.changes:
        rule = HINDSIGHT_CHANGES.get((ch.table, ch.kind))
        assert rule is not None, f"unlisted difference: {ch.lines()}"
        keys, columns = rule
        assert keys(ch.key), f"unlisted row: {ch.lines()}"
        if columns is not None:
            assert {c.column for c in ch.cells} <= columns, ch.lines()
        seen.add((ch.table, ch.kind))
    assert seen == set(HINDSIGHT_CHANGES)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The hindsight case", 1)[1].split("\n## ", 1)[0]
    for table in {t for t, _ in HINDSIGHT_CHANGES}:
        assert f"`{table}`" in section, table
    # Byton never launches in hindsight
    demand = load_instance(HINDSIGHT)[0]
    assert all(v.volume == 0 for k, v in demand.demand.items() if k[0] == "byton_mbyte")
