"""Sweeps re-use work (issue 7): one compiled model per structure, bounds changed between runs.

* the shared model with a job's bounds is exactly the job's fresh model (matrix, costs, rows, bounds);
* re-use and rebuild give the same NPV for every job of a comparison (gap 0: to 1e-6 relative);
* bounds changed between runs take effect (a forbidding strategy gets its own NPV, in any order);
* an evaluated plan on the shared model matches ``solve_instance(…, fixed=plan)``; a plan that needs
  columns the scenario lacks gets a fresh build;
* a session run without answer re-use is bit-identical to a fresh solve (the duals LP is undone).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from builders import deal_case, load

from optimiser.compare import compare
from optimiser.jobs.executors import SerialExecutor
from optimiser.jobs.tasks import Group, Job, group_tasks, run_group, run_job
from optimiser.errors import InfeasibleError
from optimiser.generate import generate_tables
from optimiser.model import build_model, prepare
from optimiser.model.compile import compile_model
from optimiser.model.sets import FirstStage, Risk
from optimiser.engine import solve_instance
from optimiser.jobs.reuse import SharedModel
from optimiser.schema import OPTIMISE
from optimiser.solver.options import SolveOptions
from optimiser.solver.session import Session
from optimiser.solver.solve import solve_compiled
from optimiser.sweep import parse_grid, sweep
from optimiser.validate import load_instance
from optimiser.writers import dict_tables, write_tables

OPTS = SolveOptions(mip_gap=0, threads=1)
TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A generated instance: 6 strategies, 3 scenarios (small enough for the fast suite)."""
    folder = tmp_path_factory.mktemp("gen") / "g"
    write_tables(dict_tables(generate_tables(lines=4, programmes=4, years=3, markets=2, scenarios=3, seed=1)), folder)
    inst, _ = load_instance(folder)
    return inst


def _strategies(inst):
    return [OPTIMISE, *[k for k in inst.strategy_names if k != OPTIMISE]]


def _same_compiled(a, b):
    assert a.columns == b.columns and a.rows == b.rows
    assert np.array_equal(a.sense_min_cost, b.sense_min_cost) and a.offset == b.offset
    for name in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(a.a_csc, name), getattr(b.a_csc, name)), name
    for name in ("row_lower", "row_upper", "integrality"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


@pytest.mark.parametrize("which", ["tiny", "generated"])
def test_shared_model_with_job_bounds_is_the_fresh_model(which, generated):
    inst = load_instance(TINY)[0] if which == "tiny" else generated
    scenarios = [s.id for s in inst.scenarios] + ([None] if len(inst.scenarios) > 1 else [])
    for s in scenarios:
        shared = SharedModel(inst, s, None, OPTS)
        for k in _strategies(inst):
            fresh = compile_model(build_model(prepare(inst, k, s)))
            _same_compiled(shared.compiled, fresh)
            lo, hi = shared.bounds(shared.job_data(k))
            assert np.array_equal(lo, fresh.col_lower) and np.array_equal(hi, fresh.col_upper), (s, k)
        if s is not None:  # a plan that fits: the optimise plan of this scenario
            plan = solve_instance(inst, OPTIMISE, s, OPTS).first_stage()
            assert shared.fits(plan)
            fresh = compile_model(build_model(prepare(inst, OPTIMISE, s, fixed=plan)))
            _same_compiled(shared.compiled, fresh)
            lo, hi = shared.bounds(shared.job_data(OPTIMISE, plan))
            assert np.array_equal(lo, fresh.col_lower) and np.array_equal(hi, fresh.col_upper)
        shared.close()


def _rows(inst, reuse, **kw):
    rows = []
    comp = compare(inst, options=OPTS, workers=1, reuse=reuse, progress=rows.append, **kw)
    return comp, {r["key"]: r for r in rows}


@pytest.mark.parametrize("which", ["tiny", "deal", "generated"])
def test_reuse_and_rebuild_give_the_same_npv_for_every_job(which, generated, tmp_path):
    inst = {"tiny": lambda: load_instance(TINY)[0], "deal": lambda: load(tmp_path, deal_case()),
            "generated": lambda: generated}[which]()
    comp_a, rebuild = _rows(inst, reuse=False)
    comp_b, reuse = _rows(inst, reuse=True)
    assert set(rebuild) == set(reuse)
    assert all(r["how"] == "fresh" for r in rebuild.values())
    if len(inst.strategy_names) > 1 or len(inst.scenarios) > 1:
        assert any(r["how"] in ("solved", "dominated", "warm") for r in reuse.values())
    for key, a in rebuild.items():
        b = reuse[key]
        assert a["status"] == b["status"], key
        if a["npv"] is None:
            assert b["npv"] is None, key
        else:
            assert b["npv"] == pytest.approx(a["npv"], rel=1e-6, abs=1e-6), key
            for s, v in a["scenario_npv"].items():
                assert b["scenario_npv"][s] == pytest.approx(v, rel=1e-6, abs=1e-6), (key, s)
    ja, jb = comp_a.to_json(), comp_b.to_json()
    for name in ("wait_and_see", "stochastic_optimum", "eev", "evpi", "vss"):
        assert (ja[name] is None) == (jb[name] is None), name
        if ja[name] is not None:
            assert jb[name] == pytest.approx(ja[name], rel=1e-6, abs=1e-6), name
    assert ja["recommendation"] == jb["recommendation"]


def test_cvar_jobs_reuse_one_model_with_the_same_answers(tmp_path):
    inst = load(tmp_path, deal_case())
    risk = Risk(alpha=0.5, weight=5)
    a, ra = _rows(inst, reuse=False, risk=risk)
    b, rb = _rows(inst, reuse=True, risk=risk)
    assert {k: r["how"] for k, r in rb.items() if k.startswith("cvar:")}["cvar:optimise"] == "solved"
    for k in ra:
        assert rb[k]["npv"] == pytest.approx(ra[k]["npv"], abs=1e-6), k
    assert a.risk == b.risk


def test_changed_bounds_take_effect_in_any_order(tmp_path):
    """deal_case, scenario high: optimise 1000 (buy), buy 1000, partner 950, neither 0. A strategy that
    forbids what the previous plan took must get its own NPV, never the previous one's; looser bounds
    after tighter ones must not be answered by the tighter run either."""
    inst = load(tmp_path, deal_case())
    want = {"optimise": 1000, "buy": 1000, "partner": 950, "neither": 0}
    for order in (["optimise", "partner", "neither", "buy"], ["neither", "partner", "buy", "optimise"],
                  ["buy", "optimise", "neither", "optimise", "partner"]):
        with SharedModel(inst, "high", None, OPTS) as shared:
            for k in order:
                res = shared.solve(k)
                assert res.run.npv == pytest.approx(want[k]), (order, k)
                assert res.options_taken == ({"optimise": ["buy"], "buy": ["buy"], "partner": ["partner"],
                                              "neither": []}[k]), (order, k)
                if k == "neither":
                    assert shared.last == "solved"  # optimise's plan takes buy: it cannot answer neither
    with SharedModel(inst, "high", None, OPTS) as shared:
        shared.solve("optimise")
        shared.solve("buy")  # optimise's plan takes buy, so it is buy's optimum too
        assert shared.last == "dominated"


def test_an_earlier_infeasible_run_answers_tighter_bounds(tmp_path):
    """Taking both exclusive deals is infeasible; pinning a tooling column as well stays infeasible
    without running HiGHS. Loosening again solves."""
    inst = load(tmp_path, deal_case())
    md = prepare(inst, OPTIMISE, "high")
    cm = compile_model(build_model(md))
    col = {(k.var, k.index): j for j, k in enumerate(cm.columns)}
    s = Session(cm, OPTS)
    lo, hi = cm.col_lower.copy(), cm.col_upper.copy()
    for o in ("buy", "partner"):
        lo[col[("take", (o,))]] = 1
    s.set_bounds(lo, hi)
    assert s.solve().status == "infeasible" and s.last == "solved"
    tool = next(j for (v, _), j in col.items() if v == "tool")
    lo2, hi2 = lo.copy(), hi.copy()
    hi2[tool] = 0
    s.set_bounds(lo2, hi2)
    assert s.solve().status == "infeasible" and s.last == "dominated"
    s.set_bounds(cm.col_lower, cm.col_upper)
    out = s.solve()
    assert out.status == "optimal" and out.objective == pytest.approx(1000) and s.last == "solved"
    assert s.stats.runs == 3 and s.stats.dominated == 1 and s.stats.solved == 2


def test_session_runs_are_the_fresh_solves_bit_for_bit(generated):
    """Without answer re-use or warm starts, each run on the kept model (after other strategies and
    their duals LPs) gives exactly the fresh build's plan, objective and capacity duals."""
    inst = generated
    s = inst.scenarios[0].id
    shared = SharedModel(inst, s, None, OPTS, reuse_answers=False)
    for k in _strategies(inst)[::-1] + _strategies(inst):
        md = shared.job_data(k)
        shared.session.set_bounds(*shared.bounds(md))
        got = shared.session.solve()
        want = solve_compiled(compile_model(build_model(prepare(inst, k, s))), OPTS)
        assert got.status == want.status and got.objective == want.objective, k
        assert np.array_equal(got.x, want.x), k
        assert np.array_equal(got.row_duals, want.row_duals), k
    shared.close()


def test_warm_start_from_a_plan_inside_the_bounds(tmp_path):
    inst = load(tmp_path, deal_case())
    cold = SharedModel(inst, "high", None, OPTS)
    warm = SharedModel(inst, "high", None, OPTS, warm_start=True, reuse_answers=False)
    for k in ("partner", "optimise"):  # partner's plan lies inside optimise's bounds: a valid start
        a, b = cold.solve(k), warm.solve(k)
        assert a.run.npv == pytest.approx(b.run.npv)
    assert warm.last == "warm" and warm.session.stats.warm == 1
    # an explicit start outside the bounds is not passed (HiGHS would only warn and repair it)
    md = warm.job_data("neither")
    warm.session.set_bounds(*warm.bounds(md))
    warm.session.set_start(np.ones(warm.session.n_columns))
    out = warm.session.solve()
    assert out.objective == pytest.approx(0) and warm.last == "solved"
    cold.close()
    warm.close()


def test_evaluate_on_the_shared_model_matches_solve_instance_fixed(generated):
    inst = generated
    plan = solve_instance(inst, OPTIMISE, None, OPTS).first_stage()  # the stochastic plan
    for sc in inst.scenarios:
        with SharedModel(inst, sc.id, None, OPTS) as shared:
            shared.solve(OPTIMISE)
            if not shared.fits(plan):
                continue
            got = shared.solve(OPTIMISE, fixed=plan)
        want = solve_instance(inst, OPTIMISE, sc.id, OPTS, fixed=plan)
        assert got.run.npv == pytest.approx(want.run.npv, rel=1e-6)
        assert got.first_stage() == want.first_stage()
        assert got.options.equals(want.options)


def test_a_plan_needing_columns_the_scenario_lacks_gets_a_fresh_build(tmp_path):
    """Scenario 'none' has no demand, so no tool columns; a plan that tooled P on LP needs one
    (prepare adds it): the group runs that job on a fresh build, with the same answer."""
    tables = deal_case()
    tables["scenarios"].append({"scenario_id": "none", "probability": 0, "demand_factor": 0})
    tables["scenarios"][0]["probability"] = 0.5
    inst = load(tmp_path, tables)
    plan = FirstStage(take={"partner": 1.0}, build={}, tool={("P", "LP"): 1.0})
    shared = SharedModel(inst, "none", None, OPTS)
    assert not shared.fits(plan)
    shared.close()
    group = Group((Job("det:optimise:none", "deterministic", OPTIMISE, "none"),
                   Job("eval:none", "evaluate", OPTIMISE, "none", fixed=plan)))
    rows = run_group(inst, group, OPTS)
    assert [r["how"] for r in rows] == ["solved", "fresh"]
    want = solve_instance(inst, OPTIMISE, "none", OPTS, fixed=plan)
    assert rows[1]["npv"] == pytest.approx(want.run.npv) == pytest.approx(-100)
    assert rows[1] == run_job(inst, group.jobs[1], OPTS) | {"job_seconds": rows[1]["job_seconds"],
                                                            "solve_seconds": rows[1]["solve_seconds"],
                                                            "build_seconds": rows[1]["build_seconds"],
                                                            "handoff_seconds": rows[1]["handoff_seconds"]}


def test_infeasible_jobs_in_a_group_say_so(tmp_path):
    """A commitment no deal-free plan can meet: 'neither' is infeasible in every scenario, on the
    shared model as on a fresh one."""
    tables = deal_case()
    tables["demand"][0]["min_volume"] = 40
    inst = load(tmp_path, tables)
    with pytest.raises(InfeasibleError):
        solve_instance(inst, "neither", "low", OPTS)
    rows = run_group(inst, Group(tuple(Job(f"det:{k}:low", "deterministic", k, "low")
                                       for k in ("optimise", "neither", "partner"))), OPTS)
    assert [r["status"] for r in rows] == ["optimal", "infeasible", "optimal"]
    assert rows[2]["npv"] == pytest.approx(250)


def test_grouping_depends_on_the_jobs_only(tmp_path):
    inst = load(tmp_path, deal_case())
    jobs = [Job(f"det:{k}:{s}", "deterministic", k, s) for k in ("buy", "optimise") for s in ("low", "high")]
    jobs += [Job("ev", "expected", OPTIMISE), Job("sto:buy", "stochastic", "buy"),
             Job("sto:optimise", "stochastic", OPTIMISE)]
    tasks, index = group_tasks([(inst, j) for j in jobs])
    kinds = [t.key for _, t in tasks]
    assert kinds == ["det:optimise:low+det:buy:low", "det:optimise:high+det:buy:high", "ev",
                     "sto:optimise+sto:buy"]
    assert sorted(index) == list(range(len(jobs)))
    assert [jobs[i].key for i in index] == [k for t in kinds for k in t.split("+")]


def test_sweep_reuse_matches_rebuild(tmp_path):
    inst = load(tmp_path, deal_case())
    grid = parse_grid("demand_factor=0.5,1;option_cost:buy=1,3", inst)
    strategies = ["partner", "optimise", "buy", "neither"]
    a = sweep(inst, grid, strategies, options=OPTS, executor=SerialExecutor(), reuse=False)
    b = sweep(inst, grid, strategies, options=OPTS, executor=SerialExecutor(), reuse=True)
    cols = [c for c in a.columns if c != "solve_seconds"]
    assert a[cols].equals(b[cols])


def test_cli_no_reuse_gives_the_same_json(tmp_path):
    from typer.testing import CliRunner

    from optimiser.cli import app

    folder = tmp_path / "inst"
    write_tables(dict_tables(deal_case()), folder)
    out = {}
    for flag in ("--reuse", "--no-reuse"):
        res = CliRunner().invoke(app, ["compare", str(folder), "--workers", "1", "--mip-gap", "0", "--json",
                                       "--no-report", flag])
        assert res.exit_code == 0, res.output
        out[flag] = json.loads(res.stdout)
    assert out["--reuse"] == out["--no-reuse"]
