"""The start plan (optimiser.local_search): feasible, never better than the optimum, and it never
changes the optimum HiGHS proves."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings as hsettings

from builders import load, settings
from optimiser import local_search
from optimiser.model.build import build_model
from optimiser.model.sets import prepare
from optimiser.pipeline import solve_instance
from optimiser.solve import LINKING_ROWS, SolveOptions, _model_arrays, _new_highs, compile_model
from test_properties import instances


def facility_tables() -> dict:
    """Capacitated facility location, one year, no discounting (the CFLP mapping of the spec).

    Warehouses A (capacity 100, fixed cost 50) and B (100, 60); customers M1 (40 units) and M2
    (50). Unit costs A→M1 1, A→M2 3, B→M1 2, B→M2 1.
    Open A only: 50 + 40 + 150 = 240; B only: 60 + 80 + 50 = 190; both: 110 + 40 + 50 = 200.
    Optimum: B only, NPV −190. The weak LP opens both a little, so rounding opens both (200) and
    closing A is the improving move.
    """
    cost = {("FA", "M1"): 1, ("FA", "M2"): 3, ("FB", "M1"): 2, ("FB", "M2"): 1}
    return {
        "settings": settings(),
        "factories": [{"factory_id": f, "country": "X"} for f in ("FA", "FB")],
        "markets": [{"market_id": m} for m in ("M1", "M2")],
        "lines": [{"line_id": "LA", "factory_id": "FA", "line_type": "W", "capacity": 100, "status": "existing",
                   "fixed_cost": 50},
                  {"line_id": "LB", "factory_id": "FB", "line_type": "W", "capacity": 100, "status": "existing",
                   "fixed_cost": 60}],
        "programmes": [{"programme_id": "P", "kind": "component", "unit_price": 0, "must_serve": True,
                        "max_lines": 2}],
        "routings": [{"programme_id": "P", "line_type": "W", "capacity_use": 1}],
        "logistics": [{"factory_id": f, "market_id": m, "cost_per_unit": c} for (f, m), c in cost.items()],
        "demand": [{"programme_id": "P", "market_id": "M1", "year": 2025, "volume": 40},
                   {"programme_id": "P", "market_id": "M2", "year": 2025, "volume": 50}],
    }


def _arrays(inst):
    cm = compile_model(build_model(prepare(inst, "optimise", None)))
    weak = np.array([name in LINKING_ROWS for name, _, _ in cm.rows], dtype=bool)
    return cm, _model_arrays(cm), weak


def test_start_plan_on_a_hand_solved_facility_location(tmp_path) -> None:
    inst = load(tmp_path, facility_tables())
    cm, arrays, weak = _arrays(inst)
    assert weak.any()  # the linking rows exist and are left out of the search's LP
    plan = local_search.find_start(arrays, weak, _new_highs, time_budget=60)
    assert plan is not None and plan.moves >= 1
    assert plan.cost == pytest.approx(190.0)
    assert local_search.satisfies(arrays, plan.x)
    res = solve_instance(inst, options=SolveOptions(mip_gap=0, local_search="on"))
    assert res.run.start_plan["npv"] == pytest.approx(-190.0)
    assert res.run.npv == pytest.approx(-190.0) and res.run.status == "optimal"
    off = solve_instance(inst, options=SolveOptions(mip_gap=0, local_search="off"))
    assert off.run.start_plan is None and off.run.npv == pytest.approx(-190.0)


def test_satisfies_sees_a_violated_row(tmp_path) -> None:
    inst = load(tmp_path, facility_tables())
    _, arrays, weak = _arrays(inst)
    plan = local_search.find_start(arrays, weak, _new_highs, time_budget=60)
    x = plan.x.copy()
    x[np.argmax(x)] += 1000.0  # more than any capacity or demand allows
    assert not local_search.satisfies(arrays, x)


def test_rounding_up_breaks_a_row(tmp_path) -> None:
    """max_lines 1 (single sourcing): rounding every used line up breaks Σ tool ≤ 1; the next
    rounding (or none) is used, and the optimum is the same."""
    t = facility_tables()
    t["programmes"][0]["max_lines"] = 1
    inst = load(tmp_path, t)
    res = solve_instance(inst, options=SolveOptions(mip_gap=0, local_search="on"))
    assert res.run.npv == pytest.approx(-190.0)  # B alone still serves both (capacity 100 ≥ 90)


@hsettings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_start_plan_never_beats_and_never_changes_the_optimum(tables) -> None:
    """On random instances: the start plan is feasible and no better than the optimum, and the
    proven optimum is the same with and without it."""
    with tempfile.TemporaryDirectory() as d:
        inst = load(Path(d), tables)
    from optimiser.errors import InfeasibleError

    try:
        off = solve_instance(inst, options=SolveOptions(mip_gap=0, local_search="off"))
    except InfeasibleError:
        with pytest.raises(InfeasibleError):
            solve_instance(inst, options=SolveOptions(mip_gap=0, local_search="on"))
        return
    on = solve_instance(inst, options=SolveOptions(mip_gap=0, local_search="on"))
    tol = 1e-6 * max(1.0, abs(off.run.npv))
    assert abs(on.run.npv - off.run.npv) <= tol
    if on.run.start_plan is not None:
        assert on.run.start_plan["npv"] <= off.run.npv + tol


def test_start_plan_with_two_threads(tmp_path) -> None:
    """HiGHS takes one thread count per process: the search's LPs use the MIP's (a search at 1
    thread followed by a MIP at 2 made HiGHS refuse to run)."""
    inst = load(tmp_path, facility_tables())
    res = solve_instance(inst, options=SolveOptions(mip_gap=0, local_search="on", threads=2))
    assert res.run.start_plan is not None and res.run.npv == pytest.approx(-190.0)


def test_auto_runs_only_on_large_models_dominated_by_linking_rows(tmp_path, monkeypatch) -> None:
    import optimiser.mip_process as solve

    inst = load(tmp_path, facility_tables())
    cm, _, weak = _arrays(inst)
    share = weak.mean()
    assert solve._search_settings(cm, SolveOptions(local_search="auto")) is None  # too few rows
    assert solve._search_settings(cm, SolveOptions(local_search="on")) is not None
    assert solve._search_settings(cm, SolveOptions(local_search="off")) is None
    monkeypatch.setattr(solve, "LOCAL_SEARCH_MIN_ROWS", 0)
    monkeypatch.setattr(solve, "LOCAL_SEARCH_MIN_LINKING_SHARE", share)
    got = solve._search_settings(cm, SolveOptions(local_search="auto", time_limit=100.0))
    assert got is not None and got["budget"] == pytest.approx(100.0 * solve.LOCAL_SEARCH_SHARE)
    monkeypatch.setattr(solve, "LOCAL_SEARCH_MIN_LINKING_SHARE", share + 1e-9)
    assert solve._search_settings(cm, SolveOptions(local_search="auto")) is None
