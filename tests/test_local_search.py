"""The start plan (optimiser.solver.local_search): feasible, never better than the optimum, and it never
changes the optimum HiGHS proves."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings as hsettings

from builders import facility_tables, load
from optimiser.model.build import build_model
from optimiser.model.compile import LINKING_ROWS, compile_model
from optimiser.model.sets import prepare
from optimiser.engine import solve_instance
from optimiser.solver import local_search
from optimiser.solver.arrays import model_arrays, satisfies, without_rows
from optimiser.solver.highs import new_highs
from optimiser.solver.options import SolveOptions
from strategies import instances


def _arrays(inst):
    cm = compile_model(build_model(prepare(inst, "optimise", None)))
    weak = np.array([name in LINKING_ROWS for name, _, _ in cm.rows], dtype=bool)
    return cm, model_arrays(cm), weak


def test_start_plan_on_a_hand_solved_facility_location(tmp_path) -> None:
    inst = load(tmp_path, facility_tables())
    cm, arrays, weak = _arrays(inst)
    assert weak.any()  # the linking rows exist and are left out of the search's LP
    plan = local_search.find_start(arrays, weak, new_highs, time_budget=60)
    assert plan is not None and plan.moves >= 1
    assert plan.cost == pytest.approx(190.0)
    assert satisfies(arrays, plan.x)
    res = solve_instance(inst, options=SolveOptions(mip_gap=0, local_search="on"))
    assert res.run.start_plan["npv"] == pytest.approx(-190.0)
    assert res.run.npv == pytest.approx(-190.0) and res.run.status == "optimal"
    off = solve_instance(inst, options=SolveOptions(mip_gap=0, local_search="off"))
    assert off.run.start_plan is None and off.run.npv == pytest.approx(-190.0)


def test_satisfies_sees_a_violated_row(tmp_path) -> None:
    inst = load(tmp_path, facility_tables())
    _, arrays, weak = _arrays(inst)
    plan = local_search.find_start(arrays, weak, new_highs, time_budget=60)
    x = plan.x.copy()
    x[np.argmax(x)] += 1000.0  # more than any capacity or demand allows
    assert not satisfies(arrays, x)


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
    tol = 1e-6 * max(1.0, abs(off.run.objective))  # (optima: the objective, weights included)
    assert abs(on.run.objective - off.run.objective) <= tol
    if on.run.start_plan is not None:
        assert on.run.start_plan["npv"] <= off.run.objective + tol


def test_start_plan_with_two_threads(tmp_path) -> None:
    """HiGHS takes one thread count per process: the search's LPs use the MIP's (a search at 1
    thread followed by a MIP at 2 made HiGHS refuse to run)."""
    inst = load(tmp_path, facility_tables())
    res = solve_instance(inst, options=SolveOptions(mip_gap=0, local_search="on", threads=2))
    assert res.run.start_plan is not None and res.run.npv == pytest.approx(-190.0)


def test_auto_runs_only_on_large_models_dominated_by_linking_rows(tmp_path, monkeypatch) -> None:
    import optimiser.solver.child as solve

    inst = load(tmp_path, facility_tables())
    cm, _, weak = _arrays(inst)
    share = weak.mean()
    assert solve.search_settings(cm, SolveOptions(local_search="auto")) is None  # too few rows
    assert solve.search_settings(cm, SolveOptions(local_search="on")) is not None
    assert solve.search_settings(cm, SolveOptions(local_search="off")) is None
    monkeypatch.setattr(solve, "LOCAL_SEARCH_MIN_ROWS", 0)
    monkeypatch.setattr(solve, "LOCAL_SEARCH_MIN_LINKING_SHARE", share)
    got = solve.search_settings(cm, SolveOptions(local_search="auto", time_limit=100.0))
    assert got is not None and got.budget == pytest.approx(100.0 * solve.LOCAL_SEARCH_SHARE)
    monkeypatch.setattr(solve, "LOCAL_SEARCH_MIN_LINKING_SHARE", share + 1e-9)
    assert solve.search_settings(cm, SolveOptions(local_search="auto")) is None


def _tiny_cflp_arrays():
    """The same warehouses as :func:`facility_tables`, written straight as matrices:
    columns yA, yB (binary), xA1, xA2, xB1, xB2; min 50yA + 60yB + xA1 + 3xA2 + 2xB1 + xB2;
    rows xA1 + xB1 = 40, xA2 + xB2 = 50, xA1 + xA2 − 100yA ≤ 0, xB1 + xB2 − 100yB ≤ 0, and the
    weak (left-out) gates x_ij − d_j·y_i ≤ 0. Optimum B alone, 190."""
    import scipy.sparse as sp

    from optimiser.solver.arrays import ModelArrays

    rows = [  # (row lower, row upper, {column: coefficient})
        (40, 40, {2: 1, 4: 1}), (50, 50, {3: 1, 5: 1}),
        (-np.inf, 0, {2: 1, 3: 1, 0: -100}), (-np.inf, 0, {4: 1, 5: 1, 1: -100}),
        (-np.inf, 0, {2: 1, 0: -40}), (-np.inf, 0, {3: 1, 0: -50}), (-np.inf, 0, {4: 1, 1: -40}),
        (-np.inf, 0, {5: 1, 1: -50}),
    ]
    r, c, v = zip(*[(i, j, a) for i, (_, _, terms) in enumerate(rows) for j, a in terms.items()])
    a = sp.csc_matrix((v, (r, c)), shape=(len(rows), 6))
    arrays = ModelArrays(np.array([50.0, 60, 1, 3, 2, 1]), 0.0, a.indptr.astype(np.int32), a.indices.astype(np.int32),
                         a.data.astype(float), np.array([lo for lo, _, _ in rows], dtype=float),
                         np.array([up for _, up, _ in rows], dtype=float), np.zeros(6),
                         np.array([1.0, 1, np.inf, np.inf, np.inf, np.inf]), np.array([1, 1, 0, 0, 0, 0], dtype=np.uint8))
    weak = np.array([False] * 4 + [True] * 4)
    return arrays, weak


def test_gates_become_bounds_and_price_an_opening() -> None:
    """With B alone open the demand rows' duals are B's unit costs (u1 = 2, u2 = 1; B has slack),
    so xA1 prices at 1 − 2 = −1 and xA2 at 3 − 1 = 2, though both are out of the live LP (held at 0
    by their gates). Opening A may gain 40·(−1) + 50·0 = −40 against its fixed cost 50 (so +10:
    not worth it, and indeed A alone or both cost 240 and 200 against 190)."""
    arrays, weak = _tiny_cflp_arrays()
    gates = local_search._Gates(arrays, weak)
    assert sorted(gates.xcol.tolist()) == [2, 3, 4, 5]
    y = np.array([0.0, 1.0, 0, 0, 0, 0])
    assert gates.upper(y, arrays.col_upper).tolist() == [1.0, 1.0, 0.0, 0.0, 40.0, 50.0]
    ints = np.array([0, 1], dtype=np.int32)
    lp = without_rows(arrays, weak, integer=False)
    live = local_search._LiveLP(lp, gates, ints, new_highs, deadline=float("inf"))
    assert live.evaluate(np.array([0.0, 1.0])) == pytest.approx(190.0)
    assert sorted(live.present.tolist()) == [1, 4, 5]  # yA and A's flows are not in the LP
    rc = live.reduced_costs()
    assert rc[[2, 3]] == pytest.approx([-1.0, 2.0])
    assert (rc + gates.open_gain(rc))[0] == pytest.approx(50.0 - 40.0)
    assert live.evaluate(np.array([1.0, 1.0])) == pytest.approx(200.0)  # A's columns added back
    assert live.evaluate(np.array([1.0, 0.0])) == pytest.approx(240.0)
    assert live.evaluate(np.array([0.0, 0.0])) is None
    plan = local_search.find_start(arrays, weak, new_highs, time_budget=60)
    assert plan.cost == pytest.approx(190.0) and satisfies(arrays, plan.x)


def test_a_rebuilt_live_lp_gives_the_same_plan(tmp_path, monkeypatch) -> None:
    """The live LP rebuilt before every move (instead of growing by added columns) finds the same
    plan at the same cost: the two ways of keeping it give the same LPs."""
    inst = load(tmp_path, facility_tables())
    _, arrays, weak = _arrays(inst)
    grown = local_search.find_start(arrays, weak, new_highs, time_budget=60)
    monkeypatch.setattr(local_search, "REBUILD_FACTOR", 0.0)
    monkeypatch.setattr(local_search, "REBUILD_MIN_COLUMNS", -1)
    builds = []
    monkeypatch.setattr(local_search._LiveLP, "_build", _counting(local_search._LiveLP._build, builds))
    rebuilt = local_search.find_start(arrays, weak, new_highs, time_budget=60)
    assert rebuilt.cost == pytest.approx(grown.cost) == pytest.approx(190.0)
    assert np.allclose(rebuilt.x, grown.x)
    assert len(builds) == rebuilt.evaluations  # one build per LP solve


def _counting(method, calls: list):
    def wrapped(self, *args):
        calls.append(1)
        return method(self, *args)
    return wrapped


def test_a_failing_search_leaves_highs_without_a_start(tmp_path, monkeypatch, capsys) -> None:
    """The start plan is optional: an error inside it is reported on stderr and the MIP goes on
    without a start (it does not fail the solve)."""
    from optimiser import isolation
    from optimiser.solver import child as mip_process

    inst = load(tmp_path, facility_tables())
    _, arrays, weak = _arrays(inst)

    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(local_search, "find_start", broken)
    incumbent = isolation.Incumbent(len(arrays.col_lower))
    search = mip_process.SearchSettings(weak=weak, lazy=None, construct=None, highs_defaults=None, construct_weak=None,
                                        budget=10.0, construct_budget=0.0, rows_budget=0.0, max_rounds=0, threads=None)
    assert mip_process.local_search_plan(arrays, search, incumbent, log=False) is None
    assert incumbent.read() is None
    assert "start-plan search failed (ValueError: boom)" in capsys.readouterr().err
