"""The MIP runs in a child process, so a HiGHS that ignores its time limit and cancel is stopped.

Stand-ins for HiGHS (module-level, so the child can import them) play the bad case seen on
OR-Library p33: a solver that reports an incumbent and then never returns, deaf to SIGINT.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import optimiser.isolation as isolation
import optimiser.solver.child as mip_process
import optimiser.solver.highs as solve
from builders import hard_gap_tables, load
from isolation_targets import HangingChild, crashing_child, deaf_child, listening_child, polite_child
from conftest import minimal_tables
from optimiser.model.build import build_model
from optimiser.model.compile import compile_model
from optimiser.model.sets import prepare
from optimiser.engine import solve_instance
from optimiser.solver.options import SolveOptions
from optimiser.solver.solve import solve_compiled

X = np.array([1.0, 2.5, 0.0, 7.0])


@pytest.fixture(autouse=True, scope="module")
def _server_running() -> None:
    """Start the fork server first (about a second, once per process), so deadlines below time
    the child, not the server's start."""
    isolation.run_in_child(polite_child, (None,), isolation.Incumbent(1), deadline_seconds=None)


def test_incumbent_survives_a_kill_past_the_deadline(monkeypatch) -> None:
    monkeypatch.setattr(isolation, "CANCEL_GRACE_SECONDS", 0.5)
    inc = isolation.Incumbent(len(X))
    t0 = time.monotonic()
    run = isolation.run_in_child(deaf_child, (X, 12.5, 10.0), inc, deadline_seconds=2.0)
    elapsed = time.monotonic() - t0
    assert run.stopped and run.killed and run.result is None and not run.interrupted
    assert 2.0 + 0.5 <= elapsed < 12.0
    x, objective, bound = inc.read()
    assert x.tolist() == X.tolist() and (objective, bound) == (12.5, 10.0)


def test_a_child_that_answers_is_not_stopped() -> None:
    inc = isolation.Incumbent(1)
    run = isolation.run_in_child(polite_child, ({"a": [1, 2]},), inc, deadline_seconds=60.0)
    assert run.result == ("ok", {"a": [1, 2]})
    assert not (run.stopped or run.killed or run.interrupted) and run.exitcode == 0
    assert inc.read() is None  # nothing offered


def test_a_child_hears_sigint_even_where_the_parent_ignores_it() -> None:
    """The deadline's SIGINT stops the child gracefully (its answer, no kill) also in a process
    started with SIGINT ignored (a background job or nohup: its fork server and children inherit
    that, and before the fix only the kill 5 s later stopped the child — seen as a hung CI run)."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    script = ("import optimiser.isolation as iso; from isolation_targets import listening_child; "
              "iso.CANCEL_GRACE_SECONDS = 30.0; "
              "r = iso.run_in_child(listening_child, (), iso.Incumbent(1), deadline_seconds=1.0); "
              "print(r.stopped, r.killed, r.result)")
    here = Path(__file__).resolve().parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(here), str(here.parent), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert out.stdout.strip() == "True False ('stopped', True)", out.stderr[-2000:]


def test_a_child_that_dies_leaves_no_result() -> None:
    run = isolation.run_in_child(crashing_child, (), isolation.Incumbent(1), deadline_seconds=None)
    assert run.result is None and run.exitcode == 7 and not run.stopped


def _compiled(tmp_path, tables):
    inst = load(tmp_path, tables)
    return compile_model(build_model(prepare(inst, "optimise", None)))


def test_solve_returns_the_last_incumbent_when_highs_hangs(tmp_path, monkeypatch) -> None:
    """The plan HiGHS found in process is handed over by a child that then hangs: the solve
    comes back at the deadline with that plan, status feasible, time limit, stopped by watchdog."""
    cm = _compiled(tmp_path, minimal_tables())
    ref = solve_compiled(cm, SolveOptions(isolate=False, duals=False))
    assert ref.status == "optimal"

    monkeypatch.setattr(mip_process, "mip_child", HangingChild(ref.x, -ref.objective))
    monkeypatch.setattr(solve, "TIME_LIMIT_GRACE_SECONDS", 0.5)
    monkeypatch.setattr(isolation, "CANCEL_GRACE_SECONDS", 0.5)
    t0 = time.monotonic()
    out = solve_compiled(cm, SolveOptions(time_limit=1.0))
    assert time.monotonic() - t0 < 15.0
    assert out.stopped_by_watchdog and not out.interrupted
    assert (out.status, out.termination) == ("feasible", "time_limit")
    assert out.objective == pytest.approx(ref.objective)
    assert out.best_bound == pytest.approx(ref.objective + 5.0)
    assert np.allclose(out.x, ref.x)
    assert out.row_duals is not None  # the duals LP still runs, in this process


def test_isolated_and_in_process_solves_agree(tmp_path) -> None:
    """Same model, same options: the child process gives the same plan, bound and duals."""
    cm = _compiled(tmp_path, minimal_tables())
    a = solve_compiled(cm, SolveOptions(mip_gap=0, threads=1))
    b = solve_compiled(cm, SolveOptions(mip_gap=0, threads=1, isolate=False))
    assert (a.status, a.termination) == (b.status, b.termination) == ("optimal", "optimal")
    assert a.objective == b.objective and a.best_bound == b.best_bound
    assert np.array_equal(a.x, b.x) and np.array_equal(a.row_duals, b.row_duals)
    assert not a.stopped_by_watchdog


def test_time_limit_with_incumbent_through_the_child(tmp_path) -> None:
    """A hard GAP at a 1 s limit: HiGHS stops itself, the child reports a plan with a gap."""
    inst = load(tmp_path, hard_gap_tables())
    res = solve_instance(inst, options=SolveOptions(time_limit=1.0, threads=1))
    assert res.run.termination == "time_limit"
    assert res.run.status == "feasible" and res.run.gap is not None and res.run.gap > 0


def test_the_planner_is_told_highs_was_stopped(tmp_path, monkeypatch) -> None:
    """Through the pipeline: status words and --json say the plan is HiGHS's last before the stop."""
    from optimiser.cli.summary import solve_json

    inst = load(tmp_path, minimal_tables())
    cm = compile_model(build_model(prepare(inst, "optimise", None)))
    ref = solve_compiled(cm, SolveOptions(isolate=False, duals=False))
    monkeypatch.setattr(mip_process, "mip_child", HangingChild(ref.x, -ref.objective))
    monkeypatch.setattr(solve, "TIME_LIMIT_GRACE_SECONDS", 0.5)
    monkeypatch.setattr(isolation, "CANCEL_GRACE_SECONDS", 0.5)
    res = solve_instance(inst, options=SolveOptions(time_limit=1.0))
    assert res.run.objective == pytest.approx(ref.objective)
    assert res.run.status_words.endswith("time limit reached; HiGHS overran it and was stopped)")
    assert solve_json(res, None)["stopped_by_watchdog"] is True


def test_a_script_without_main_guard_runs_once(tmp_path) -> None:
    """The child does not re-run the caller's main script: a script from stdin (no file) and one
    without an ``if __name__ == "__main__"`` guard both solve, and the body runs once."""
    import subprocess
    import sys
    from pathlib import Path

    tests = Path(__file__).resolve().parent
    script = (f"import sys; sys.path.insert(0, {str(tests)!r})\n"
              "print('body', flush=True)\n"
              "from builders import load\nfrom conftest import minimal_tables\n"
              "from optimiser.engine import solve_instance\nfrom optimiser.solver.options import SolveOptions\n"
              f"inst = load(__import__('pathlib').Path({str(tmp_path)!r}), minimal_tables())\n"
              "print(solve_instance(inst, options=SolveOptions(mip_gap=0)).run.status)\n")
    for how in ("stdin", "file"):
        if how == "stdin":
            p = subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True, timeout=120)
        else:
            f = tmp_path / "plan.py"
            f.write_text(script)
            p = subprocess.run([sys.executable, str(f)], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        assert p.stdout.split() == ["body", "optimal"], (how, p.stdout, p.stderr)
