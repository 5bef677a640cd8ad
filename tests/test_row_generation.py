"""Linking rows by row generation (optimiser.solver.row_generation): the LP over the rows found is the
strong LP, and the MIP over them has the optimum of the whole model."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings as hsettings

from builders import facility_tables, load
from optimiser.errors import InfeasibleError
from optimiser.model.build import build_model
from optimiser.model.compile import IMPLIED_LINKING_ROWS, compile_model
from optimiser.model.sets import prepare
from optimiser.engine import solve_instance
from optimiser.solver import local_search, row_generation
from optimiser.solver.arrays import model_arrays, row_activity, satisfies, without_rows
from optimiser.solver.child import SearchSettings, polished, search_settings
from optimiser.solver.highs import new_highs
from optimiser.solver.options import SolveOptions
from optimiser.solver.outcome import Read, Status, Termination
from strategies import instances


def _arrays(inst):
    cm = compile_model(build_model(prepare(inst, "optimise", None)))
    lazy = np.array([name in IMPLIED_LINKING_ROWS for name, _, _ in cm.rows], dtype=bool)
    return cm, model_arrays(cm), lazy


def _lp_value(arrays) -> float:
    """HiGHS's LP relaxation of the whole model (minimised, offset included)."""
    lp = arrays._replace(integrality=np.zeros_like(arrays.integrality))
    h = new_highs()
    h.passModel(len(lp.col_lower), len(lp.row_lower), int(lp.indptr[-1]), 1, 1, lp.offset, lp.cost, lp.col_lower,
                lp.col_upper, lp.row_lower, lp.row_upper, lp.indptr, lp.indices, lp.data, lp.integrality)
    h.run()
    assert h.getModelStatus().name == "kOptimal"
    return h.getInfo().objective_function_value


def test_without_rows_keeps_columns_and_the_other_rows(tmp_path) -> None:
    inst = load(tmp_path, facility_tables())
    _, arrays, lazy = _arrays(inst)
    assert lazy.any() and not lazy.all()
    sub = without_rows(arrays, lazy)
    assert len(sub.col_lower) == len(arrays.col_lower) and len(sub.row_lower) == int((~lazy).sum())
    x = np.linspace(0.0, 3.0, len(arrays.col_lower))
    assert np.allclose(row_activity(sub, x), row_activity(arrays, x)[~lazy])
    assert (sub.integrality == arrays.integrality).all()
    assert not without_rows(arrays, lazy, integer=False).integrality.any()


def test_hand_solved_facility_location_with_the_needed_rows_only(tmp_path) -> None:
    """test_local_search.facility_tables: optimum B alone, NPV −190 (worked out there). The rows
    the LP needs give the whole model's LP bound, and the MIP over them the same optimum."""
    inst = load(tmp_path, facility_tables())
    _, arrays, lazy = _arrays(inst)
    sel = row_generation.needed_rows(arrays, lazy, new_highs, time_budget=60)
    assert sel is not None and sel.converged and sel.optional == int(lazy.sum())
    assert sel.lp_objective == pytest.approx(_lp_value(arrays), rel=1e-9)
    assert sel.lp_objective == pytest.approx(190.0)  # here the strong LP is already integral
    res = solve_instance(inst, options=SolveOptions(mip_gap=0, local_search="off", linking_rows="needed"))
    assert res.run.npv == pytest.approx(-190.0) and res.run.status == "optimal"
    info = res.run.linking_rows
    assert info["converged"] and info["optional"] == int(lazy.sum()) and info["used"] == sel.added
    assert info["lp_bound"] == pytest.approx(-sel.lp_objective)
    every = solve_instance(inst, options=SolveOptions(mip_gap=0, local_search="off", linking_rows="all"))
    assert every.run.linking_rows is None and every.run.npv == pytest.approx(-190.0)


def test_the_weak_lp_is_weaker_here(tmp_path) -> None:
    """The rows matter on this instance. Without them (minimising cost): M1 from A, M2 from B
    (transport 40 + 50), each warehouse open just enough for what it ships, A 40/100 and B
    50/100: 90 + 0.4·50 + 0.5·60 = 140. With ship ≤ d·active, A's 40 units to M1 need A fully
    open, so the LP's best is the integer optimum 190."""
    inst = load(tmp_path, facility_tables())
    _, arrays, lazy = _arrays(inst)
    assert _lp_value(without_rows(arrays, lazy)) == pytest.approx(140.0)
    assert _lp_value(arrays) == pytest.approx(190.0)
    sel = row_generation.needed_rows(arrays, lazy, new_highs, time_budget=60)
    assert sel.added >= 1 and sel.rounds >= 2 and sel.lp_objective == pytest.approx(190.0)


def test_a_plan_a_little_off_a_left_out_row_is_polished(tmp_path) -> None:
    """HiGHS may return a binary at 1 − 1e-6; a ship ≤ d·active row left out of its model is
    then off by d·1e-6. The LP with the integers fixed on the whole model gives the plan instead:
    it meets every row and is no worse (here the optimum, NPV −190)."""
    inst = load(tmp_path, facility_tables())
    cm, arrays, lazy = _arrays(inst)
    plan = local_search.find_start(arrays, lazy, new_highs, time_budget=60)
    assert plan is not None and plan.cost == pytest.approx(190.0)
    x = plan.x.copy()
    ints = np.flatnonzero(arrays.integrality)
    on = [j for j in ints if x[j] > 0.5]
    x[on] = 1.0 - 1e-6
    assert not satisfies(arrays, x)
    npv_off = -(float(arrays.cost @ x) + arrays.offset)  # what HiGHS would report for it
    assert npv_off > -190.0  # the fixed cost left out by 1 − 1e-6
    read = Read(Termination.OPTIMAL, Status.OPTIMAL, x, npv_off, -190.0, 0.0, 1)
    search = SearchSettings(weak=None, lazy=lazy, construct=None, highs_defaults=None, construct_weak=None,
                            budget=0.0, construct_budget=0.0, rows_budget=0.0, max_rounds=0, threads=None)
    out = polished(arrays, read, search)
    assert satisfies(arrays, out.x)
    assert out.objective == pytest.approx(-190.0, abs=1e-9) and out.best_bound == -190.0
    assert (out.x[ints] == np.round(x[ints])).all()
    ok = Read(Termination.OPTIMAL, Status.OPTIMAL, plan.x, -190.0, -190.0, 0.0, 1)
    assert polished(arrays, ok, search) is ok  # nothing off: HiGHS's plan stands


def test_a_loop_stopped_short_gives_highs_every_row(tmp_path, monkeypatch) -> None:
    """The hand-solved case needs two rounds; stopped after one, the rows found would make an
    exact model with a weaker LP (in the branch and bound too), so HiGHS gets every row."""
    monkeypatch.setattr(row_generation, "MAX_ROUNDS", 1)
    inst = load(tmp_path, facility_tables())
    _, _, lazy = _arrays(inst)
    res = solve_instance(inst, options=SolveOptions(mip_gap=0, local_search="off", linking_rows="needed"))
    info = res.run.linking_rows
    assert not info["converged"] and info["stopped_by"] == "rounds" and info["rounds"] == 1
    assert info["used"] == info["optional"] == int(lazy.sum()) and info["lp_bound"] is None
    assert res.run.npv == pytest.approx(-190.0)


def test_a_session_finds_the_rows_once(tmp_path) -> None:
    """compare/sweep jobs share one model (solver.session.Session): the rows the first job's LP needed are
    handed to the next jobs (any subset of the implied rows is a valid model). Hand-solved: free,
    B alone (190); with B's line forced off, A alone: 50 + 1·40 + 3·50 = 240."""
    from optimiser.solver.session import Session

    inst = load(tmp_path, facility_tables())
    cm, _, _ = _arrays(inst)
    opts = SolveOptions(mip_gap=0, local_search="off", linking_rows="needed")
    with Session(cm, opts, reuse_answers=False, warm_start=False) as s:
        first = s.solve()
        assert first.objective == pytest.approx(-190.0) and first.linking_rows["converged"]
        assert "reused" not in first.linking_rows
        lo, hi = s.bounds()
        hi[[j for j, k in enumerate(cm.columns) if k.var == "running" and k.index[0] == "LB"]] = 0
        s.set_bounds(lo, hi)
        second = s.solve()
        assert second.objective == pytest.approx(-240.0) and second.linking_rows["reused"]
        assert second.linking_rows["used"] == first.linking_rows["used"]


def test_auto_rule_and_modes(tmp_path, monkeypatch) -> None:
    import optimiser.solver.child as mp

    inst = load(tmp_path, facility_tables())
    cm, _, _ = _arrays(inst)
    assert search_settings(cm, SolveOptions()) is None  # too few rows for auto
    got = search_settings(cm, SolveOptions(local_search="off", linking_rows="needed", time_limit=100.0))
    assert got.weak is None and got.lazy is not None
    assert got.rows_budget == pytest.approx(100.0 * mp.ROW_GENERATION_SHARE)
    got = search_settings(cm, SolveOptions(local_search="on", linking_rows="all"))
    assert got.weak is not None and got.lazy is None
    monkeypatch.setattr(mp, "LOCAL_SEARCH_MIN_ROWS", 0)
    monkeypatch.setattr(mp, "LOCAL_SEARCH_MIN_LINKING_SHARE", 0.0)
    got = search_settings(cm, SolveOptions())
    assert got.weak is not None and got.lazy is not None
    assert search_settings(cm, SolveOptions(local_search="off", linking_rows="all")) is None


@hsettings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_needed_rows_never_change_the_optimum_or_the_lp_bound(tables) -> None:
    """On random instances: with only the linking rows the LP needs, HiGHS proves the same optimum
    as with all of them, and the converged LP bound is the whole model's LP bound."""
    with tempfile.TemporaryDirectory() as d:
        inst = load(Path(d), tables)
    try:
        every = solve_instance(inst, options=SolveOptions(mip_gap=0, local_search="off", linking_rows="all"))
    except InfeasibleError:
        with pytest.raises(InfeasibleError):
            solve_instance(inst, options=SolveOptions(mip_gap=0, local_search="off", linking_rows="needed"))
        return
    needed = solve_instance(inst, options=SolveOptions(mip_gap=0, local_search="off", linking_rows="needed"))
    tol = 1e-6 * max(1.0, abs(every.run.objective))
    assert abs(needed.run.objective - every.run.objective) <= tol
    _, arrays, lazy = _arrays(inst)
    if lazy.any():
        sel = row_generation.needed_rows(arrays, lazy, new_highs, time_budget=60)
        if sel is not None and sel.converged:
            strong = _lp_value(arrays)
            assert sel.lp_objective == pytest.approx(strong, rel=1e-7, abs=1e-6)
