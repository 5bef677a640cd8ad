"""The bound beside the search (optimiser.solver.lp_bound): the LP relaxation solved in a thread,
reported only where it is tighter than HiGHS's, never above a plan, never changing the plan."""

from __future__ import annotations

import os
import time
from dataclasses import replace

import numpy as np
import pytest

from builders import load, two_site_tables
from optimiser.errors import InputError
from optimiser.jobs import executors
from optimiser.model.build import build_model
from optimiser.model.compile import compile_model
from optimiser.model.sets import prepare
from optimiser.solver import child
from optimiser.engine import solve_instance
from optimiser.solver import lp_bound
from optimiser.solver.arrays import ModelArrays
from optimiser.solver.highs import new_highs
from optimiser.solver.options import SolveOptions
from optimiser.solver.outcome import Read, Status, Termination


def _knapsack() -> ModelArrays:
    """max 5a + 4b s.t. 6a + 4b ≤ 9, a, b binary (HiGHS's sense: min −5a − 4b). Integer optimum 5
    (a alone); LP relaxation by hand: b = 1 (ratio 1 > 5/6), a = 5/6, value 4 + 25/6 = 49/6."""
    return ModelArrays(np.array([-5.0, -4.0]), 0.0, np.array([0, 1, 2], dtype=np.int32),
                       np.array([0, 0], dtype=np.int32), np.array([6.0, 4.0]), np.array([-np.inf]),
                       np.array([9.0]), np.zeros(2), np.ones(2), np.ones(2, dtype=np.int8))


def test_the_bound_is_the_lp_relaxations_optimum_worked_by_hand() -> None:
    job = lp_bound.start(_knapsack(), new_highs, 60.0)
    got = job.result(wait=60.0)
    assert got is not None and got.status == "kOptimal"
    assert got.min_cost == pytest.approx(-49 / 6, rel=1e-6)
    assert job.done() and job.stop() == got
    assert got.facts(True) == {"npv": pytest.approx(49 / 6, rel=1e-6), "seconds": round(got.seconds, 3),
                               "status": "kOptimal", "method": "LP relaxation (interior point, second core)",
                               "used": True}


def test_an_lp_not_solved_gives_no_bound() -> None:
    """An infeasible relaxation (a ≥ 2 with a ≤ 1 through the row) ends without a bound."""
    bad = _knapsack()._replace(row_lower=np.array([20.0]), row_upper=np.array([np.inf]))
    got = lp_bound.start(bad, new_highs, 60.0).result(wait=60.0)
    assert got is not None and got.min_cost is None and got.status != "kOptimal"


def _read(npv: float | None, bound: float | None) -> Read:
    x = None if npv is None else np.zeros(2)
    gap = None if npv is None or bound is None else abs(bound - npv) / abs(npv)
    return Read(Termination.TIME_LIMIT, Status.FEASIBLE if x is not None else Status.NO_SOLUTION, x, npv, bound, gap, 0)


def test_tighter_takes_the_lp_bound_only_where_it_is_tighter() -> None:
    lp = lp_bound.LPBound(min_cost=-110.0, seconds=1.0, status="kOptimal")  # NPV ≤ 110
    got, used = lp_bound.tighter(_read(100.0, 2500.0), lp)  # HiGHS's trivial bound 2,500
    assert used and got.best_bound == 110.0 and got.gap == pytest.approx(0.10)
    assert got.objective == 100.0 and got.status == Status.FEASIBLE
    got, used = lp_bound.tighter(_read(100.0, None), lp)  # HiGHS had no bound at all
    assert used and got.best_bound == 110.0
    same = _read(100.0, 105.0)  # HiGHS's root bound is tighter: it stays
    assert lp_bound.tighter(same, lp) == (same, False)
    proven = replace(_read(100.0, 100.0 + 1e-7), termination=Termination.OPTIMAL, status=Status.OPTIMAL)
    assert lp_bound.tighter(proven, lp_bound.LPBound(-100.0, 1.0, "kOptimal")) == (proven, False)


def test_tighter_leaves_a_run_without_plan_or_bound_and_distrusts_a_bound_below_the_plan() -> None:
    lp = lp_bound.LPBound(min_cost=-110.0, seconds=1.0, status="kOptimal")
    none = _read(None, None)
    assert lp_bound.tighter(none, lp) == (none, False)
    r = _read(100.0, 2500.0)
    assert lp_bound.tighter(r, None) == (r, False)
    assert lp_bound.tighter(r, lp_bound.LPBound(None, 5.0, "kTimeLimit")) == (r, False)
    above = _read(120.0, 2500.0)  # a plan above its own relaxation: the LP is not trusted
    assert lp_bound.tighter(above, lp) == (above, False)


def test_auto_runs_it_below_half_a_million_rows_with_a_second_cpu() -> None:
    assert lp_bound.wanted(68_328, 2)
    assert not lp_bound.wanted(68_328, 1) and not lp_bound.wanted(68_328, None)
    assert lp_bound.wanted(lp_bound.MAX_ROWS - 1, 2) and not lp_bound.wanted(lp_bound.MAX_ROWS, 2)


class _Shared:
    def __init__(self) -> None:
        self.offers: list[tuple[float, float]] = []

    def offer(self, x, cost, bound) -> None:
        self.offers.append((cost, bound))

    def read(self):
        return self.offers[-1] if self.offers else None


def test_offers_carry_the_lp_bound_once_it_is_known() -> None:
    job = lp_bound.start(_knapsack(), new_highs, 60.0)
    assert job.result(wait=60.0) is not None
    shared = _Shared()
    offers = lp_bound.BoundedOffers(shared, job)
    offers.offer(np.array([1.0, 0.0]), -5.0, -np.inf)  # a plan: cost −5 ≥ the LP's −49/6
    offers.offer(np.array([1.0, 0.0]), -5.0, -6.0)  # HiGHS's bound tighter than the LP's: kept
    assert shared.offers[0] == (-5.0, pytest.approx(-49 / 6))
    assert shared.offers[1] == (-5.0, -6.0)
    assert offers.read() == (-5.0, -6.0)


def _solve(tmp_path, monkeypatch, on: bool):
    monkeypatch.setattr(lp_bound, "wanted", lambda rows, cpus: on)
    inst = load(tmp_path, two_site_tables(candidate_only=True))
    return solve_instance(inst, options=SolveOptions(local_search="on", mip_gap=0))


def test_a_solve_with_the_bound_keeps_the_plan_and_the_optimum_below_the_bound(tmp_path, monkeypatch) -> None:
    """The hand case of builders.two_site_tables (optimum NPV −690, LB built): the LP relaxation's bound is
    at least the optimum; HiGHS proves the optimum, so its bound stays; the plan is the one the
    solve finds without the bound thread."""
    with_bound = _solve(tmp_path / "a", monkeypatch, True)
    without = _solve(tmp_path / "b", monkeypatch, False)
    assert with_bound.run.objective == pytest.approx(-690.0) == without.run.objective
    facts = with_bound.run.start_plan["lp_bound"]
    assert facts["status"] == "kOptimal" and facts["npv"] >= -690.0 - 1e-6 and facts["used"] is False
    assert with_bound.run.best_bound == pytest.approx(without.run.best_bound)
    assert "lp_bound" not in (without.run.start_plan or {})


def test_a_stopped_lp_gives_back_at_once_without_a_bound() -> None:
    """stop() on an LP still running cancels it: a dense 1,000 × 1,000 LP that takes IPX ~3 s
    alone ends interrupted, without a bound (solved on, it would end optimal)."""
    n = 1000
    rng = np.random.default_rng(0)
    dense = rng.uniform(1, 10, size=(n, n))
    arrays = ModelArrays(-rng.uniform(1, 10, n), 0.0, np.arange(0, n * n + 1, n, dtype=np.int32),
                         np.tile(np.arange(n, dtype=np.int32), n), dense.T.ravel(), np.full(n, -np.inf),
                         np.full(n, 100.0), np.zeros(n), np.full(n, np.inf), np.zeros(n, dtype=np.int8))
    job = lp_bound.start(arrays, new_highs, 600.0)
    got = job.stop()
    assert job.done() and got is not None
    assert got.status == "kInterrupt" and got.min_cost is None


def test_the_flag_is_checked_and_off_turns_it_off(tmp_path) -> None:
    """``second_core`` is auto or off (an InputError names the flag); with off the search
    settings never ask for the LP bound, even where auto would."""
    with pytest.raises(InputError, match="--second-core"):
        SolveOptions(second_core="on")  # type: ignore[arg-type]
    assert SolveOptions.from_flags(second_core="off").second_core == "off"
    inst = load(tmp_path, two_site_tables(candidate_only=True))
    cm = compile_model(build_model(prepare(inst, "optimise", None)))
    on = child.search_settings(cm, SolveOptions(local_search="on"))
    off = child.search_settings(cm, SolveOptions(local_search="on", second_core="off"))
    assert on.lp_bound is lp_bound.wanted(len(cm.row_lower), os.cpu_count())
    assert off.lp_bound is False


def test_the_serial_executor_runs_its_jobs_without_it(monkeypatch) -> None:
    """``compare``'s jobs get ``second_core`` off (same answers with any number of workers), with the
    thread count as before: 1 unless the planner set one."""
    seen = []
    monkeypatch.setattr(executors, "run_task", lambda inst, task, opts: seen.append(opts) or [{}])
    with executors.SerialExecutor() as ex:
        ex.run_many([(None, None)], SolveOptions(), lambda row: None)
        ex.run_many([(None, None)], SolveOptions(threads=2), lambda row: None)
    assert [(o.second_core, o.threads) for o in seen] == [("off", 1), ("off", 2)]
