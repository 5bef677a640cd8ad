"""Fix-and-optimise (optimiser.solver.fix_optimise): sub-MIPs over one factory's lines at a time
improve a feasible plan; the plan stays feasible against every row, never beats the proven optimum,
is the same for the same work budget, and with every integer column free the optimum is reached."""

from __future__ import annotations

import numpy as np
import pytest

from optimiser.engine import solve_instance
from optimiser.generate import generate_tables
from optimiser.model.build import build_model
from optimiser.model.compile import compile_model
from optimiser.model.sets import prepare
from optimiser.solver import child, construct, fix_optimise
from optimiser.solver.arrays import model_arrays, satisfies
from optimiser.solver.highs import new_highs, pass_arrays
from optimiser.solver.options import SolveOptions
from optimiser.solver.start import plan_objective
from optimiser.validate import load_instance
from optimiser.writers import dict_tables, write_tables


def _instance_and_model(tmp_path, seed: int):
    write_tables(dict_tables(generate_tables(12, 10, 3, 3, 2, seed=seed)), tmp_path / "g")
    inst, _ = load_instance(tmp_path / "g")
    return inst, compile_model(build_model(prepare(inst, "optimise", None)))


def _model(tmp_path, seed: int):
    _, cm = _instance_and_model(tmp_path, seed)
    return cm, model_arrays(cm)


def _start(cm, arrays) -> np.ndarray:
    plan = construct.construct(arrays, cm.roles.column_kind, cm.roles.linking, new_highs)
    assert plan is not None
    return plan.x


def _improve(arrays, x0, hoods, max_nodes=None, **kw):
    return fix_optimise.improve(arrays, x0, hoods, fix_optimise.sub_mip_solver(arrays, new_highs, max_nodes),
                                lambda x: satisfies(arrays, x), **kw)


def _optimum(arrays) -> float:
    h = new_highs()
    h.setOptionValue("mip_rel_gap", 0.0)
    pass_arrays(h, arrays)
    h.run()
    assert h.getModelStatus().name == "kOptimal"
    return float(h.getInfo().objective_function_value)


def test_every_line_column_is_in_exactly_one_factory_neighbourhood(tmp_path) -> None:
    """Each running/tool/build column is free in one neighbourhood (its line's factory); the option
    columns are free in all; nothing else is."""
    cm, arrays = _model(tmp_path, 1)
    hoods = fix_optimise.factory_neighbourhoods(cm.roles)
    assert len(hoods) >= 2
    counts = np.zeros(len(cm.columns), dtype=int)
    for free in hoods:
        counts[free] += 1
    for j, key in enumerate(cm.columns):
        if key.var == "take":
            assert counts[j] == len(hoods)
        elif key.var in ("running", "tool", "build"):
            assert counts[j] <= 1
        else:
            assert counts[j] == 0
    assert sum(counts[j] == 1 for j, k in enumerate(cm.columns) if k.var == "running") == \
        sum(k.var == "running" for k in cm.columns)
    # one factory per neighbourhood: every line's running columns sit in one place
    line_hood = {}
    for i, free in enumerate(hoods):
        for j in free:
            if cm.columns[j].var == "running":
                assert line_hood.setdefault(cm.columns[j].index[0], i) == i


def _line_factory_columns(cm, factory_of_line) -> dict:
    """factory → ascending numbers of the running/build/tool columns of its lines (by name)."""
    at = {"running": 0, "build": 0, "tool": 1}
    out: dict = {}
    for j, key in enumerate(cm.columns):
        if key.var in at:
            f = factory_of_line(key.index[at[key.var]])
            if f is not None:
                out.setdefault(f, []).append(j)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_neighbourhoods_are_the_factories_of_the_lines_table_in_id_order(tmp_path, seed) -> None:
    """Neighbourhood i = the running/build/tool columns of the lines the instance's lines table puts
    at the i-th factory (ids in text order) plus every take column; and the same columns, in the
    same order, as the rule the solver used before the roles carried sites (a line's factory read
    from the flow[p, f, t, s] rows its make[p, l, t, s] columns enter)."""
    inst, cm = _instance_and_model(tmp_path, seed)
    hoods = fix_optimise.factory_neighbourhoods(cm.roles)
    take = [j for j, k in enumerate(cm.columns) if k.var == "take"]
    assert take
    factory = {ln.id: ln.factory for ln in inst.lines}
    by_table = _line_factory_columns(cm, lambda lid: factory[lid.split("@")[0]])
    want = [sorted(by_table[f] + take) for f in sorted(by_table, key=str)]
    assert len(want) >= 2
    assert [h.tolist() for h in hoods] == want
    # the old rule, from the flow rows (a line that makes nothing would be in no neighbourhood)
    flow_factory: dict = {}
    a = cm.a_csc
    for j, key in enumerate(cm.columns):
        if key.var == "make":
            for i in a.indices[a.indptr[j]:a.indptr[j + 1]]:
                if cm.rows[i][0] == "flow":
                    flow_factory.setdefault(key.index[1], cm.rows[i][1][1])
    by_flow = _line_factory_columns(cm, flow_factory.get)
    assert [h.tolist() for h in hoods] == [sorted(by_flow[f] + take) for f in sorted(by_flow, key=str)]


def test_pairs_follow_the_single_neighbourhoods() -> None:
    """Three neighbourhoods, steps 1 and 3 (3 ≡ 0 mod 3: no pair): the singles, then {0,1}, {1,2},
    {0,2} as unions, each once."""
    hoods = [np.array([1, 9]), np.array([2, 9]), np.array([3, 9])]
    got = fix_optimise.with_pairs(hoods, steps=(1, 3))
    assert [list(h) for h in got] == [[1, 9], [2, 9], [3, 9], [1, 2, 9], [2, 3, 9], [1, 3, 9]]


@pytest.mark.parametrize("seed", [1, 2])
def test_the_improved_plan_is_feasible_no_worse_and_never_better_than_the_optimum(tmp_path, seed) -> None:
    """From the constructed plan: the result meets every row and bound, costs no more than the
    start, at least the proven optimum; its reported cost is its own c·x."""
    cm, arrays = _model(tmp_path, seed)
    x0 = _start(cm, arrays)
    hoods = fix_optimise.factory_neighbourhoods(cm.roles)
    plan = _improve(arrays, x0, hoods)
    assert satisfies(arrays, plan.x)
    assert plan.cost == pytest.approx(plan_objective(arrays, plan.x), rel=1e-12)
    assert plan.cost <= plan_objective(arrays, x0) + 1e-9
    best = _optimum(arrays)
    assert plan.cost >= best - 1e-6 * max(1.0, abs(best))
    assert plan.submips >= len(hoods)


def test_the_same_budget_gives_the_same_plan(tmp_path) -> None:
    cm, arrays = _model(tmp_path, 1)
    x0 = _start(cm, arrays)
    hoods = fix_optimise.factory_neighbourhoods(cm.roles)
    one = _improve(arrays, x0, hoods, max_nodes=5, max_submips=4)
    two = _improve(arrays, x0, hoods, max_nodes=5, max_submips=4)
    assert one.submips == two.submips == 4
    assert one.cost == two.cost
    assert np.array_equal(one.x, two.x)


def test_with_every_integer_column_free_the_optimum_is_reached(tmp_path) -> None:
    """One neighbourhood holding every integer column is the whole MIP: fix-and-optimise then
    ends at HiGHS's proven optimum (gap 0), and reports the plan to ``on_better``."""
    cm, arrays = _model(tmp_path, 2)
    x0 = _start(cm, arrays)
    seen = []
    plan = _improve(arrays, x0, [np.flatnonzero(arrays.integrality)], max_nodes=10**6,
                    on_better=lambda x, c: seen.append(c))
    best = _optimum(arrays)
    assert plan.cost == pytest.approx(best, rel=1e-4)
    assert seen and seen[-1] == plan.cost
    assert plan.improvements == len(seen)


def test_a_spent_budget_returns_the_start_unchanged(tmp_path) -> None:
    cm, arrays = _model(tmp_path, 1)
    x0 = _start(cm, arrays)
    plan = _improve(arrays, x0, fix_optimise.factory_neighbourhoods(cm.roles), max_submips=0)
    assert plan.submips == 0 and np.array_equal(plan.x, x0)
    assert plan.cost == plan_objective(arrays, x0)


def test_a_solve_reports_the_improvement_and_highs_bound_never_below_the_plan(tmp_path) -> None:
    """``solve`` with the construction on: the run record carries the improvement (sub-MIPs run,
    its NPV no lower than the constructed plan's), HiGHS starting from it ends no lower, and the
    reported bound (HiGHS's) is never below the plan's NPV."""
    write_tables(dict_tables(generate_tables(12, 10, 3, 3, 2, seed=1)), tmp_path / "g")
    inst, _ = load_instance(tmp_path / "g")
    run = solve_instance(inst, options=SolveOptions(local_search="on")).run
    facts = run.start_plan["improvement"]
    assert facts["submips"] >= 1 and facts["npv"] >= run.start_plan["npv"] - 1e-9 * abs(facts["npv"])
    assert run.objective >= facts["npv"] - 1e-6 * abs(facts["npv"])
    assert run.best_bound >= run.objective - 1e-6 * max(1.0, abs(run.objective))


def test_every_tool_column_is_in_exactly_one_programme_neighbourhood(tmp_path) -> None:
    """Programme neighbourhoods hold tool columns only, each once, all of a programme's in one
    neighbourhood, at most ``size`` programmes each, in the order of the programme numbers."""
    cm, _ = _model(tmp_path, 1)
    hoods = fix_optimise.programme_neighbourhoods(cm.roles, size=3)
    tool = [j for j, k in enumerate(cm.columns) if k.var == "tool"]
    assert sorted(j for h in hoods for j in h.tolist()) == tool
    numbers = cm.roles.column_programme
    programmes = [sorted({cm.columns[j].index[0] for j in h}) for h in hoods]
    assert all(1 <= len(ps) <= 3 for ps in programmes)
    assert len({p for ps in programmes for p in ps}) == sum(len(ps) for ps in programmes)
    assert [sorted(set(numbers[h].tolist())) for h in hoods] == \
        [list(range(i, min(i + 3, numbers.max() + 1))) for i in range(0, numbers.max() + 1, 3)]
    with pytest.raises(ValueError):
        fix_optimise.programme_neighbourhoods(cm.roles, size=0)


def test_kinds_of_neighbourhood_are_taken_in_turn() -> None:
    a, b = [np.array([1]), np.array([2]), np.array([3])], [np.array([7])]
    assert [h.tolist() for h in fix_optimise.interleaved(a, b)] == [[1], [7], [2], [3]]
    assert fix_optimise.interleaved() == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_programme_moves_stay_feasible_and_never_beat_the_optimum(tmp_path, seed) -> None:
    """From the plan at which factory neighbourhoods stop improving, programme neighbourhoods keep
    every row and bound, cost no more and never less than the proven optimum."""
    cm, arrays = _model(tmp_path, seed)
    local = _improve(arrays, _start(cm, arrays), fix_optimise.factory_neighbourhoods(cm.roles))
    plan = _improve(arrays, local.x, fix_optimise.programme_neighbourhoods(cm.roles, size=2))
    assert satisfies(arrays, plan.x)
    assert plan.cost <= local.cost + 1e-9 * max(1.0, abs(local.cost))
    best = _optimum(arrays)
    assert plan.cost >= best - 1e-6 * max(1.0, abs(best))
    if seed == 3:  # here factory moves stop at NPV 12.13 bn; programme moves reach 13.04 (optimum 13.49)
        assert plan.cost < local.cost - 1e-3 * abs(local.cost)


@pytest.mark.parametrize("rows, limit, beside, submips", [
    (68_328, 120.0, False, 6),        # medium: 0.35 × 120 / (68,328 × 1e-4) = 6.1
    (68_328, 120.0, True, 12),        # medium, the LP bound beside: 0.7 × 120 / 6.83 = 12.3
    (499_999, 600.0, False, 4),       # just below the big-model rows: 0.35 × 600 / 50.0 = 4.2
    (499_999, 600.0, True, 8),        # the same, the LP bound beside: 0.7 × 600 / 50.0 = 8.4
    (1_037_280, 600.0, False, 8),     # large: 0.7 × 600 / (1,037,280 × 5e-5) = 8.1
    (1_037_280, 600.0, True, 8),      # (the LP bound never runs there; the same budget either way)
    (2_600_000, 600.0, False, 3),     # xl: 0.7 × 600 / 130 = 3.2
    (10_000_000, 60.0, False, 1),     # never none
    (10, 1e6, False, fix_optimise.MAX_SUBMIPS),
])
def test_the_improvement_budget_by_model_size(rows, limit, beside, submips) -> None:
    got, seconds = fix_optimise.improve_budget(rows, limit, beside)
    big = rows >= fix_optimise.BIG_MODEL_ROWS or beside
    share = fix_optimise.BIG_IMPROVE_SHARE if big else fix_optimise.IMPROVE_SHARE
    assert got == submips
    assert seconds == pytest.approx(1.5 * share * limit)


def test_no_limit_means_every_sub_mip_and_no_safety_stop() -> None:
    assert fix_optimise.improve_budget(1_037_280, None) == (fix_optimise.MAX_SUBMIPS, float("inf"))


def test_the_improvement_never_runs_past_the_limit() -> None:
    search = child.SearchSettings(weak=None, lazy=None, construct=None, highs_defaults=None, construct_weak=None, budget=0.0,
                            construct_budget=0.0, rows_budget=0.0, max_rounds=0, threads=None, improve_budget=630.0)
    assert child.improve_seconds(search, 600.0, 100.0) == pytest.approx(0.95 * 600 - 100)  # 470: the limit
    assert child.improve_seconds(search, 600.0, 10.0) == pytest.approx(560.0)
    assert child.improve_seconds(search, 1000.0, 10.0) == pytest.approx(630.0)  # its own stop
    assert child.improve_seconds(search, None, 10.0) == pytest.approx(630.0)
    assert child.improve_seconds(search, 600.0, 700.0) == pytest.approx(1e-3)  # past the limit already
