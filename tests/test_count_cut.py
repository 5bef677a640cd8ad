"""The open-count cut (optimiser.solver.count_cut): Σ running ≥ ⌈LP minimum⌉ is valid (never changes the
optimum, never lifts the LP bound above it) and closes a hand-worked LP gap."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings as hsettings

from builders import load, settings
from optimiser.engine import solve_instance
from optimiser.model.build import build_model
from optimiser.model.compile import IMPLIED_LINKING_ROWS, LINKING_ROWS, compile_model
from optimiser.model.sets import prepare
from optimiser.solver import count_cut
from optimiser.solver.arrays import model_arrays
from optimiser.solver.highs import new_highs
from optimiser.solver.options import SolveOptions
from strategies import instances


def three_sites(volumes: tuple[int, ...] = (8, 8, 9)) -> dict:
    """Three warehouses A, B, C (capacity 10 each, fixed costs 100, 120, 150), customers M1, M2,
    M3 (``volumes``, 25 units by default, each under a capacity so the linking rows
    ship ≤ d·running exist), every unit cost 1.

    25 units need all three open: optimum 370 + 25 = 395 (NPV −395). The LP relaxation pays 10,
    12, 15 per unit of capacity: A and B fully open, C half (10 + 10 + 5 units), 100 + 120 + 75 +
    25 = 320 (half-open C may ship up to half of each demand, 12.5 ≥ 5, so the linking rows do
    not cut it). Its least count of open sites is 25/10 = 2.5, so the cut is Σ running ≥ 3, which
    makes the LP the optimum: 395."""
    sites = {"A": 100, "B": 120, "C": 150}
    return {
        "settings": settings(),
        "factories": [{"factory_id": f"F{s}", "country": "X"} for s in sites],
        "markets": [{"market_id": f"M{k + 1}"} for k in range(len(volumes))],
        "lines": [{"line_id": f"L{s}", "factory_id": f"F{s}", "line_type": "W", "capacity": 10, "status": "existing",
                   "fixed_cost": f} for s, f in sites.items()],
        "programmes": [{"programme_id": "P", "kind": "component", "unit_price": 0, "must_serve": True,
                        "max_lines": 3}],
        "routings": [{"programme_id": "P", "line_type": "W", "capacity_use": 1}],
        "logistics": [{"factory_id": f"F{s}", "market_id": f"M{k + 1}", "cost_per_unit": 1}
                      for s in sites for k in range(len(volumes))],
        "demand": [{"programme_id": "P", "market_id": f"M{k + 1}", "year": 2025, "volume": v}
                   for k, v in enumerate(volumes)],
    }


def _arrays(inst):
    cm = compile_model(build_model(prepare(inst, "optimise", None)))
    names = [name for name, _, _ in cm.rows]
    lazy = np.array([name in IMPLIED_LINKING_ROWS for name in names], dtype=bool)
    weak = np.array([name in LINKING_ROWS for name in names], dtype=bool)
    return cm, model_arrays(cm), lazy, weak


def _lp_value(arrays) -> float:
    lp = arrays._replace(integrality=np.zeros_like(arrays.integrality))
    h = new_highs()
    h.passModel(len(lp.col_lower), len(lp.row_lower), int(lp.indptr[-1]), 1, 1, lp.offset, lp.cost, lp.col_lower,
                lp.col_upper, lp.row_lower, lp.row_upper, lp.indptr, lp.indices, lp.data, lp.integrality)
    h.run()
    assert h.getModelStatus().name == "kOptimal"
    return h.getInfo().objective_function_value


def _mip_value(arrays) -> float:
    h = new_highs()
    h.setOptionValue("mip_rel_gap", 0.0)
    h.passModel(len(arrays.col_lower), len(arrays.row_lower), int(arrays.indptr[-1]), 1, 1, arrays.offset,
                arrays.cost, arrays.col_lower, arrays.col_upper, arrays.row_lower, arrays.row_upper, arrays.indptr,
                arrays.indices, arrays.data, arrays.integrality)
    h.run()
    assert h.getModelStatus().name == "kOptimal"
    return h.getInfo().objective_function_value


def test_the_cut_closes_the_hand_worked_gap(tmp_path) -> None:
    inst = load(tmp_path, three_sites())
    cm, arrays, lazy, weak = _arrays(inst)
    cols = count_cut.gated_binaries(arrays, lazy)
    assert sorted(cm.columns[j].index[0] for j in cols) == ["LA", "LB", "LC"]
    assert all(cm.columns[j].var == "running" for j in cols)
    cut = count_cut.open_count_cut(arrays, cols, weak, new_highs, time_budget=60)
    assert cut is not None and cut.lp_minimum == pytest.approx(2.5) and cut.rhs == 3.0
    cut_arrays = count_cut.with_cut(arrays, cut)
    assert len(cut_arrays.row_lower) == len(arrays.row_lower) + 1 and len(cut_arrays.col_lower) == len(arrays.col_lower)
    assert _lp_value(arrays) == pytest.approx(320.0)
    assert _lp_value(cut_arrays) == pytest.approx(395.0)  # the LP bound reaches the optimum, never past it
    assert _mip_value(arrays) == pytest.approx(395.0) and _mip_value(cut_arrays) == pytest.approx(395.0)


def test_an_integral_count_gives_no_cut(tmp_path) -> None:
    """20 units over capacity 10: the LP's least count is 2, an integer, so nothing to cut."""
    inst = load(tmp_path, three_sites((6, 7, 7)))
    _, arrays, lazy, weak = _arrays(inst)
    assert count_cut.open_count_cut(arrays, count_cut.gated_binaries(arrays, lazy), weak, new_highs, 60) is None
    assert count_cut.add_count_cut(arrays, lazy, weak, new_highs, 60) == (arrays, None)


def test_solve_takes_the_cut_on_the_facility_location_shape(tmp_path, monkeypatch) -> None:
    """Through solve (the MIP's child process): on the shape where the start plan and the needed
    rows run, HiGHS gets the cut, proves the optimum and its bound equals it."""
    import optimiser.solver.child as mp

    inst = load(tmp_path, three_sites())
    small = solve_instance(inst, options=SolveOptions(mip_gap=0))  # too few rows for auto: no cut
    assert small.run.linking_rows is None and small.run.npv == pytest.approx(-395.0)
    monkeypatch.setattr(mp, "LOCAL_SEARCH_MIN_ROWS", 0)
    monkeypatch.setattr(mp, "LOCAL_SEARCH_MIN_LINKING_SHARE", 0.0)
    res = solve_instance(inst, options=SolveOptions(mip_gap=0))
    assert res.run.status == "optimal" and res.run.npv == pytest.approx(-395.0)
    assert res.run.linking_rows["count_cut"]["rhs"] == 3.0
    assert res.run.linking_rows["lp_bound"] == pytest.approx(-395.0)  # the strong LP with the cut
    assert res.run.linking_rows["lp_proof"]  # the start plan (395) meets it: no MIP needed
    assert res.run.best_bound == pytest.approx(-395.0) and res.run.best_bound >= res.run.npv - 1e-9
    off = solve_instance(inst, options=SolveOptions(mip_gap=0, local_search="off", linking_rows="all"))
    assert off.run.linking_rows is None and off.run.npv == pytest.approx(-395.0)


def test_a_session_reuses_the_rows_with_its_own_cut(tmp_path, monkeypatch) -> None:
    """A Session's second job (C's site forced open) reuses the first job's rows, padded over its
    own cut: the LP pays 150 for C, 100 for A, 60 for half of B, + 25 = 335, least count 2.5, so
    the cut is again Σ running ≥ 3 and the optimum all three: 395. The first job's LP proof is
    not this job's: its MIP runs (rows reused, so no proof by the LP)."""
    import optimiser.solver.child as mp
    from optimiser.solver.session import Session

    monkeypatch.setattr(mp, "LOCAL_SEARCH_MIN_ROWS", 0)
    monkeypatch.setattr(mp, "LOCAL_SEARCH_MIN_LINKING_SHARE", 0.0)
    cm, _, _, _ = _arrays(load(tmp_path, three_sites()))
    with Session(cm, SolveOptions(mip_gap=0), reuse_answers=False, warm_start=False) as s:
        first = s.solve()
        assert first.objective == pytest.approx(-395.0) and first.linking_rows["lp_proof"]
        lo, hi = s.bounds()
        lo[[j for j, k in enumerate(cm.columns) if k.var == "running" and k.index[0] == "LC"]] = 1
        s.set_bounds(lo, hi)
        second = s.solve()
        assert second.objective == pytest.approx(-395.0) and second.linking_rows["reused"]
        assert second.linking_rows["count_cut"]["rhs"] == 3.0
        assert second.linking_rows["count_cut"]["lp_minimum"] == pytest.approx(2.5)
        assert "lp_proof" not in second.linking_rows
        assert second.linking_rows["used"] == first.linking_rows["used"]

@hsettings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_the_cut_never_changes_the_optimum_or_passes_it(tables) -> None:
    """On random instances: the MIP with the cut has the optimum of the MIP without it, and the
    LP with the cut never bounds above that optimum."""
    with tempfile.TemporaryDirectory() as d:
        inst = load(Path(d), tables)
    _, arrays, lazy, weak = _arrays(inst)
    if not lazy.any():
        return
    cut_arrays, cut = count_cut.add_count_cut(arrays, lazy, weak, new_highs, 60)
    if cut is None:
        return
    try:
        best = _mip_value(arrays)
    except AssertionError:  # no plan (infeasible): the cut must not make one
        with pytest.raises(AssertionError):
            _mip_value(cut_arrays)
        return
    tol = 1e-6 * max(1.0, abs(best))
    assert abs(_mip_value(cut_arrays) - best) <= tol
    assert _lp_value(cut_arrays) <= best + tol


def test_a_bound_proves_a_plan_only_within_the_gap() -> None:
    """Cost 1e7: at gap 0 only LP accuracy (1e-9 · 1e7 = 0.01) is allowed; a bound 1 below the
    cost proves nothing at gap 0 but does at 1e-7 (1e-7 · 1e7 = 1); a bound above the cost (an
    LP a little off) proves it."""
    assert count_cut.bound_proves(1e7, 1e7 - 0.005, 0.0, 1e-6)
    assert not count_cut.bound_proves(1e7, 1e7 - 1.0, 0.0, 1e-6)
    assert count_cut.bound_proves(1e7, 1e7 - 1.0, 1e-7, 1e-6)
    assert not count_cut.bound_proves(1e7, 1e7 - 1.01, 1e-7, 1e-6)
    assert count_cut.bound_proves(1e7, 1e7 + 0.5, 0.0, 1e-6)
    assert count_cut.bound_proves(0.0, -1e-7, 0.0, 1e-6) and not count_cut.bound_proves(0.0, -1e-5, 0.0, 1e-6)


def test_the_run_record_carries_this_solves_cut_only() -> None:
    """Rows reused from an earlier solve (a Session) bring its facts: its cut and its LP proof go,
    this solve's cut comes in; an earlier solve's kept rows cover the cut row as kept."""
    earlier = {"used": 7, "converged": True, "count_cut": {"rhs": 3.0}, "lp_proof": True, "reused": True}
    assert count_cut.cut_facts(earlier, None) == {"used": 7, "converged": True, "reused": True}
    assert count_cut.cut_facts(earlier, {"rhs": 4.0}) == {"used": 7, "converged": True, "reused": True,
                                                          "count_cut": {"rhs": 4.0}}
    assert count_cut.cut_facts(None, {"rhs": 4.0}) == {"count_cut": {"rhs": 4.0}}
    assert count_cut.cut_facts(None, None) is None
    inst_rows = np.array([True, False, True])
    two_more = type("A", (), {"row_lower": np.zeros(5)})()
    assert count_cut.padded(inst_rows, two_more).tolist() == [True, False, True, True, True]


@pytest.mark.parametrize("cpus", [1, 2])
def test_the_start_plan_beside_the_rows_gives_the_same_answer(tmp_path, monkeypatch, cpus) -> None:
    """On the facility-location shape with a second CPU (``--second-core auto``) the start-plan
    search runs beside the count cut and the row generation (optimiser.solver.beside); its plan is
    waited for, so the LP proof still takes it: the same optimum (−395), the same start plan and
    the same proof as with ``off`` (one after the other). One CPU: never beside."""
    import optimiser.solver.child as mp

    monkeypatch.setattr(mp, "LOCAL_SEARCH_MIN_ROWS", 0)
    monkeypatch.setattr(mp, "LOCAL_SEARCH_MIN_LINKING_SHARE", 0.0)
    monkeypatch.setattr(mp.os, "cpu_count", lambda: cpus)
    inst = load(tmp_path, three_sites())
    cm, _, _, _ = _arrays(inst)
    assert mp.search_settings(cm, SolveOptions(mip_gap=0)).plan_beside is (cpus >= 2)
    assert mp.search_settings(cm, SolveOptions(mip_gap=0, second_core="off")).plan_beside is False
    runs = [solve_instance(inst, options=SolveOptions(mip_gap=0, second_core=mode)).run for mode in ("auto", "off")]
    for run in runs:
        assert run.status == "optimal" and run.npv == pytest.approx(-395.0)
        assert run.linking_rows["lp_proof"] and run.start_plan is not None
    assert runs[0].start_plan["npv"] == pytest.approx(runs[1].start_plan["npv"])
    assert runs[0].start_plan["lp_solves"] == runs[1].start_plan["lp_solves"]
