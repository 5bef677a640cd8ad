"""The construction heuristic (optimiser.solver.construct): a plan before HiGHS starts, feasible against
every row, whose NPV is what the plan is worth, and a solve that keeps it when HiGHS has none."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from builders import load, settings, two_site_tables
from optimiser.errors import InfeasibleError
from optimiser.generate import generate_tables
from optimiser.model.build import build_model
from optimiser.model.compile import LINKING_ROWS, compile_model, compile_model_pyomo
from optimiser.model.sets import FirstStage, prepare
from optimiser.engine import solve_instance
from optimiser.solver import construct, open_close
from optimiser.solver.blocks import Blocks
from optimiser.solver.arrays import model_arrays, satisfies
from optimiser.solver.highs import new_highs, pass_arrays
from optimiser.solver.options import SolveOptions
from strategies import instances


def _built(inst):
    cm = compile_model(build_model(prepare(inst, "optimise", None)))
    weak = np.array([name in LINKING_ROWS for name, _, _ in cm.rows], dtype=bool)
    return cm, model_arrays(cm), weak


def _construct(inst):
    cm, arrays, weak = _built(inst)
    return cm, arrays, construct.construct(arrays, cm.roles.column_kind, weak, new_highs)


def _evaluate(inst, cm, x) -> float | None:
    """NPV of the plan ``x`` by another route: the model built with its first stage fixed
    (``fixed=`` as ``solve --fix``) and its running line-years pinned, compiled by Pyomo's own
    standard-form compiler, solved as an LP (every integer column is fixed)."""
    plan = {"take": {}, "build": {}, "tool": {}}
    running = {}
    for j, key in enumerate(cm.columns):
        if key.var in plan:
            plan[key.var][key.index if key.var != "take" else key.index[0]] = float(round(x[j]))
        elif key.var == "running":
            running[key.index] = float(round(x[j]))
    md = prepare(inst, "optimise", None, fixed=FirstStage(**plan))
    m = build_model(md)
    for idx in m.running:
        v = running.get(idx if isinstance(idx, tuple) else (idx,), 0.0)
        m.running[idx].setlb(v)
        m.running[idx].setub(v)
    ref = compile_model_pyomo(m)
    h = new_highs()
    pass_arrays(h, model_arrays(ref)._replace(integrality=np.zeros_like(ref.integrality)))
    h.run()
    if h.getModelStatus().name != "kOptimal":
        return None
    return -h.getInfo().objective_function_value


def test_existing_lines_serve_a_must_serve_programme(tmp_path) -> None:
    inst = load(tmp_path, two_site_tables())
    cm, arrays, plan = _construct(inst)
    assert plan is not None and plan.method in ("open, then closed", "existing lines")  # no build either way
    assert plan.cost == pytest.approx(240.0)
    assert construct.check(arrays, plan.x)
    assert _evaluate(inst, cm, plan.x) == pytest.approx(-240.0)
    built = [k for j, k in enumerate(cm.columns) if k.var == "build" and plan.x[j] > 0.5]
    assert built == []  # candidate lines stay off


def _sourcing_tables() -> dict:
    """One programme P (must_serve, 40 units to M1 and 50 to M2, at most one line: ``max_lines``
    1) and two existing lines: LA (FA, capacity 100, fixed cost 50, 3 a unit to either market)
    and LC (FC, capacity 60, fixed cost 10, 1 a unit).

    With both open the guiding LP ships 60 from LC and 30 from LA, so LA's tooling is the least
    used (30/90 against LC's 60/60) and is closed first — but LC alone cannot serve 90 units: the
    LP needs slack, so that closing is undone and LA's tooling protected; LC's is closed instead
    (then its line-year, which ``running ≤ Σ tool`` no longer allows). The plan: LA alone, cost
    50 + 90·3 = 320 (NPV −320), also the optimum (LC alone cannot serve 90)."""
    t = two_site_tables()
    t["factories"] = [{"factory_id": f, "country": "X"} for f in ("FA", "FC")]
    t["lines"] = [{"line_id": "LA", "factory_id": "FA", "line_type": "W", "capacity": 100, "status": "existing",
                   "fixed_cost": 50},
                  {"line_id": "LC", "factory_id": "FC", "line_type": "W", "capacity": 60, "status": "existing",
                   "fixed_cost": 10}]
    t["programmes"][0]["max_lines"] = 1
    t["logistics"] = [{"factory_id": f, "market_id": m, "cost_per_unit": 3 if f == "FA" else 1}
                      for f in ("FA", "FC") for m in ("M1", "M2")]
    return t


def test_open_then_close_protects_the_line_a_must_serve_programme_needs(tmp_path) -> None:
    inst = load(tmp_path, _sourcing_tables())
    cm, arrays, _ = _built(inst)
    ints = np.flatnonzero(arrays.integrality)
    y, solves = open_close.open_then_close(arrays, ints, np.asarray(cm.roles.column_kind), new_highs)
    assert y is not None
    value = {cm.columns[j]: y[n] for n, j in enumerate(ints)}
    tools = {k.index[1]: v for k, v in value.items() if k.var == "tool"}
    assert tools == {"LA": 1.0, "LC": 0.0}
    assert solves == 4  # all open; LA closed (needs slack: undone); LC closed; its line-year closed
    plan = construct.construct(arrays, cm.roles.column_kind, np.zeros(len(arrays.row_lower), dtype=bool), new_highs)
    assert plan is not None and plan.cost == pytest.approx(320.0)
    assert _evaluate(inst, cm, plan.x) == pytest.approx(-320.0)
    assert solve_instance(inst, options=SolveOptions(mip_gap=0.0)).run.objective == pytest.approx(-320.0)


@pytest.mark.parametrize("route", ["swap", "sub-MIP"])
def test_open_then_close_mends_a_stuck_row(tmp_path, monkeypatch, route) -> None:
    """P (must_serve 90 units, at most one line) on LA (capacity 100, 3 a unit, fixed 50), LB and
    LC (capacity 50 each, 1 a unit, fixed 10). All open, the LP ships 50 from LB and 40 from LC:
    LA is unused and closed first (LB + LC still serve 90); then closing either of LB and LC
    needs slack, so both are protected and closing is stuck with two lines tooled. The swap
    (LB and LC closed, LA opened: the guiding LP needs no slack) or, without swaps, the repair
    sub-MIP (the sourcing row's toolings and their line-years free) moves P to LA: cost
    50 + 90·3 = 320, the optimum (neither LB nor LC alone can serve 90)."""
    if route == "swap":
        def no_repair(*args, **kwargs):
            raise AssertionError("the swap should have mended the row")
        monkeypatch.setattr(open_close, "_repair_mip", no_repair)
    else:
        monkeypatch.setattr(open_close, "SWAP_TRIES", 0)
    t = _sourcing_tables()
    t["factories"] = [{"factory_id": f, "country": "X"} for f in ("FA", "FB", "FC")]
    t["lines"] = [{"line_id": "LA", "factory_id": "FA", "line_type": "W", "capacity": 100, "status": "existing",
                   "fixed_cost": 50}] + [
                  {"line_id": f"L{c}", "factory_id": f"F{c}", "line_type": "W", "capacity": 50, "status": "existing",
                   "fixed_cost": 10} for c in ("B", "C")]
    t["logistics"] = [{"factory_id": f, "market_id": m, "cost_per_unit": 3 if f == "FA" else 1}
                      for f in ("FA", "FB", "FC") for m in ("M1", "M2")]
    inst = load(tmp_path, t)
    cm, arrays, _ = _built(inst)
    ints = np.flatnonzero(arrays.integrality)
    y, _ = open_close.open_then_close(arrays, ints, np.asarray(cm.roles.column_kind), new_highs)
    assert y is not None
    tools = {cm.columns[j].index[1]: y[n] for n, j in enumerate(ints) if cm.columns[j].var == "tool"}
    assert tools == {"LA": 1.0, "LB": 0.0, "LC": 0.0}
    plan = construct.construct(arrays, cm.roles.column_kind, np.zeros(len(arrays.row_lower), dtype=bool), new_highs)
    assert plan is not None and plan.cost == pytest.approx(320.0)
    assert solve_instance(inst, options=SolveOptions(mip_gap=0.0)).run.objective == pytest.approx(-320.0)


def test_open_then_close_gives_generated_instances_a_feasible_plan() -> None:
    """Every plan it gives meets every row once the fixed-integer LP sets the rest (seeds 1–3)."""
    for seed in (1, 2, 3):
        with tempfile.TemporaryDirectory() as d:
            from optimiser.validate import load_instance  # noqa: PLC0415
            from optimiser.writers import dict_tables, write_tables  # noqa: PLC0415
            write_tables(dict_tables(generate_tables(12, 16, 5, 4, 3, seed=seed)), Path(d) / "g")
            inst, _ = load_instance(Path(d) / "g")
        cm, arrays, _ = _built(inst)
        ints = np.flatnonzero(arrays.integrality)
        y, _ = open_close.open_then_close(arrays, ints, np.asarray(cm.roles.column_kind), new_highs)
        assert y is not None
        a_int, rows = open_close.integer_rows(arrays, ints)
        act = a_int[:, ints] @ y
        assert np.all(act <= arrays.row_upper[rows] + 1e-6) and np.all(act >= arrays.row_lower[rows] - 1e-6)


def test_a_plan_that_must_build_is_found(tmp_path) -> None:
    """Only candidate lines exist: the plan must build one. Open-then-close reaches it through
    its repair sub-MIP (no existing line to open), or the all-lines rounding does; either way
    the cost is the hand optimum 690."""
    inst = load(tmp_path, two_site_tables(candidate_only=True))
    cm, arrays, plan = _construct(inst)
    assert plan is not None and plan.method in ("open, then closed", "all lines", "LP dive")
    assert construct.check(arrays, plan.x)
    assert plan.cost == pytest.approx(690.0)
    assert _evaluate(inst, cm, plan.x) == pytest.approx(-690.0)


def test_unused_binaries_are_closed(tmp_path) -> None:
    """Rounding every LP-used binary up can leave a line running that makes nothing; the plan
    never pays a fixed cost for a line-year without production, nor tooling without use."""
    inst = load(tmp_path, two_site_tables())
    cm, arrays, plan = _construct(inst)
    make = {}
    for j, k in enumerate(cm.columns):
        if k.var == "make":
            make[k.index[1:]] = make.get(k.index[1:], 0.0) + plan.x[j]
    for j, k in enumerate(cm.columns):
        if k.var == "running" and plan.x[j] > 0.5:
            assert make.get(k.index, 0.0) > 0


@pytest.mark.parametrize("seed", [1, 2])
def test_generated_instances_get_a_feasible_plan_worth_its_evaluation(tmp_path, seed) -> None:
    """Generated instances are feasible by construction (dedicated existing lines for every
    commitment): the construction finds a plan from existing lines, it meets every row, and its
    NPV is what the same plan is worth through the fixed model; the MIP optimum is no worse."""
    from optimiser.validate import load_instance
    from optimiser.writers import dict_tables, write_tables

    write_tables(dict_tables(generate_tables(12, 10, 3, 3, 2, seed=seed)), tmp_path / "g")
    inst, _ = load_instance(tmp_path / "g")
    cm, arrays, plan = _construct(inst)
    assert plan is not None and plan.method in ("nothing optional", "open, then closed", "existing lines")
    assert construct.check(arrays, plan.x) and satisfies(arrays, plan.x)
    npv = _evaluate(inst, cm, plan.x)
    assert npv == pytest.approx(-plan.cost, rel=1e-7)
    best = solve_instance(inst, options=SolveOptions(mip_gap=0, local_search="off"))
    assert best.run.objective >= npv - 1e-6 * abs(npv)


def test_a_solve_stopped_at_once_keeps_the_constructed_plan(tmp_path) -> None:
    """HiGHS with (almost) no time finds nothing; the solve ends with the constructed plan, and
    the bound it reports is HiGHS's own (none, or one the plan does not exceed)."""
    inst = load(tmp_path, two_site_tables())
    res = solve_instance(inst, options=SolveOptions(local_search="on", time_limit=1e-6))
    assert res.run.objective == pytest.approx(-240.0)
    assert res.run.start_plan is not None
    if res.run.best_bound is not None:
        assert res.run.best_bound >= res.run.objective - 1e-6 * max(1.0, abs(res.run.objective))


def test_the_reported_bound_is_never_ours(tmp_path) -> None:
    """With the plan constructed and HiGHS stopped before its root LP, the reported bound is
    HiGHS's (a valid one: at least the optimum, −240) or none; never the plan's own NPV."""
    inst = load(tmp_path, two_site_tables(candidate_only=True))
    res = solve_instance(inst, options=SolveOptions(local_search="on", time_limit=1e-6))
    assert res.run.objective == pytest.approx(-690.0)
    optimum = solve_instance(inst, options=SolveOptions(mip_gap=0, local_search="off")).run.objective
    assert optimum == pytest.approx(-690.0)
    if res.run.best_bound is not None:
        assert res.run.best_bound >= optimum - 1e-6


@st.composite
def committed_instances(draw):
    """The random instances of test_properties with commitments: each programme may be
    must_serve or carry a min_volume on some demand rows."""
    tables = draw(instances())
    for prog in tables["programmes"]:
        prog["must_serve"] = draw(st.booleans())
    for row in tables["demand"]:
        if row["volume"] and draw(st.integers(0, 3)) == 0:
            row["min_volume"] = draw(st.integers(0, row["volume"]))
    return tables


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(committed_instances())
def test_never_without_a_plan_when_one_exists(tables) -> None:
    """On random instances with commitments: whenever the model has a plan (HiGHS proves an
    optimum), the construction gives one, it meets every row, it is no better than the optimum,
    and a solve with (almost) no time for HiGHS still ends with a plan (never exit 3)."""
    with tempfile.TemporaryDirectory() as d:
        inst = load(Path(d), tables)
    try:
        best = solve_instance(inst, options=SolveOptions(mip_gap=0, local_search="off"))
    except InfeasibleError:
        return
    cm, arrays, plan = _construct(inst)
    assert plan is not None
    assert construct.check(arrays, plan.x)
    tol = 1e-6 * max(1.0, abs(best.run.objective))
    assert -plan.cost <= best.run.objective + tol
    quick = solve_instance(inst, options=SolveOptions(local_search="on", time_limit=1e-6))
    assert quick.run.objective is not None and quick.run.objective <= best.run.objective + tol


def test_auto_constructs_only_on_large_models_not_of_the_facility_location_shape(tmp_path, monkeypatch) -> None:
    """``auto``: the construction runs on MIPs of CONSTRUCT_MIN_ROWS rows or more, except where the
    local search's facility-location rule applies (capa–c keep their behaviour); ``on`` always,
    ``off`` never."""
    import optimiser.solver.child as mp

    inst = load(tmp_path, two_site_tables())
    cm, _, weak = _built(inst)
    assert mp.search_settings(cm, SolveOptions(local_search="auto")) is None  # too few rows
    assert mp.search_settings(cm, SolveOptions(local_search="on")).construct is not None
    assert mp.search_settings(cm, SolveOptions(local_search="off")) is None
    monkeypatch.setattr(mp, "CONSTRUCT_MIN_ROWS", 0)
    monkeypatch.setattr(mp, "LOCAL_SEARCH_MIN_ROWS", 0)
    monkeypatch.setattr(mp, "LOCAL_SEARCH_MIN_LINKING_SHARE", weak.mean() + 1e-9)  # not that shape
    got = mp.search_settings(cm, SolveOptions(local_search="auto", linking_rows="all"))
    assert got is not None and got.construct is not None and got.weak is None
    assert got.highs_defaults == {"mip_lp_solver": "ipm"}  # root LP by interior point there
    monkeypatch.setattr(mp, "LOCAL_SEARCH_MIN_LINKING_SHARE", weak.mean())  # that shape: local search only
    got = mp.search_settings(cm, SolveOptions(local_search="auto"))
    assert got.construct is None and got.weak is not None


def test_the_construction_stops_at_its_time_budget(tmp_path) -> None:
    """With no time at all no LP is started and there is no plan (the MIP keeps the time); with
    time, the same model gives the plan."""
    inst = load(tmp_path, two_site_tables())
    cm, arrays, weak = _built(inst)
    kinds = cm.roles.column_kind
    assert construct.construct(arrays, kinds, weak, new_highs, time_budget=0.0) is None
    plan = construct.construct(arrays, kinds, weak, new_highs, time_budget=60.0)
    assert plan is not None and plan.cost == pytest.approx(240.0)


def test_a_tooling_reaches_only_its_own_programmes_must_rows() -> None:
    """Culprits are told apart by reach (open_close._Usage.reach): a tooling of programme p caps
    p's ``make``, which reaches p's must rows (its ``must_serve`` demand) and no other
    programme's; each line-year reaches only must rows of programmes that line may make (the
    ``demand`` rows; a scenario's ``share`` row holds every programme, so every column reaches it)."""
    with tempfile.TemporaryDirectory() as d:
        from optimiser.validate import load_instance  # noqa: PLC0415
        from optimiser.writers import dict_tables, write_tables  # noqa: PLC0415
        write_tables(dict_tables(generate_tables(12, 16, 5, 4, 3, seed=1)), Path(d) / "g")
        inst, _ = load_instance(Path(d) / "g")
    cm, arrays, _ = _built(inst)
    ints = np.flatnonzero(arrays.integrality)
    lp = open_close._GuidingLP(arrays, Blocks(arrays, ints), new_highs)
    reach = open_close._Usage(arrays, ints).reach(lp.must)
    tooled = {}
    for n, j in enumerate(ints):
        if cm.columns[j].var == "tool":
            tooled.setdefault(cm.columns[j].index[1], set()).add(cm.columns[j].index[0])
    checked = 0
    for n, j in enumerate(ints):
        key = cm.columns[j]
        reached = {cm.rows[lp.must[i]][1][0] for i in reach[n].indices if cm.rows[lp.must[i]][0] == "demand"}
        if key.var == "tool":
            assert reached <= {key.index[0]}
            checked += bool(reached)
        elif key.var == "running":
            assert reached <= tooled.get(key.index[0], set())
    assert checked > 0
