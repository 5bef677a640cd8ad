"""Ctrl-C, SIGTERM and SIGKILL of the CLI, with real signals to a real process (issue 17, items 10–12).

The rule (README, "When things go wrong"): Ctrl-C stops every command within seconds. `solve`
keeps the best plan found so far (report written, exit 0; exit 130 if there was none); a batch
(`compare`, `sweep`) says how many solves had finished and which were interrupted, writes
nothing and exits 130. SIGTERM is handled the same way, exiting 143 where Ctrl-C exits 130.
SIGKILL cannot be handled: the HiGHS children die with the CLI instead.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from builders import hard_gap_tables
from optimiser.writers import dict_tables, write_tables

CLI = [sys.executable, "-m", "optimiser"]
pytestmark = pytest.mark.skipif(sys.platform == "win32" or not Path("/proc/self/stat").exists(),
                                reason="POSIX signals; process trees read from /proc")


@pytest.fixture(scope="module")
def hard(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hard") / "gap"
    write_tables(dict_tables(hard_gap_tables()), folder)
    return folder


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A generated instance whose comparison takes half a minute or more with one worker."""
    from optimiser.generate import SIZES, generate_instance

    return generate_instance(tmp_path_factory.mktemp("gen") / "small", **SIZES["small"])


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        if fields[0] == "Z":
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    out: set[int] = set()
    todo = [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for p in pids:
        try:
            state = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            continue
        if state[state.rindex(")") + 2] != "Z":
            alive.add(p)
    return alive


def _start(*args: str, cwd: Path | None = None) -> subprocess.Popen:
    # SIGINT at its default, as a terminal's Ctrl-C finds it (a suite run in the background has it
    # ignored); a session of its own so a "terminal" Ctrl-C can go to the whole process group
    return subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for_solver(proc: subprocess.Popen, at_least: int = 2, timeout: float = 90) -> set[int]:
    """Wait until the CLI has its solver processes (fork server + HiGHS child)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = _descendants(proc.pid)
        if len(kids) >= at_least:
            return kids
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    raise AssertionError("no solver process appeared")


def _gone_within(pids: set[int], seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and _alive(pids):
        time.sleep(0.1)
    return _alive(pids)


def test_sigkill_of_the_cli_takes_its_highs_child_with_it(hard):
    proc = _start("solve", str(hard), "--time-limit", "300", "--mip-gap", "0", "--no-report")
    kids = _wait_for_solver(proc)
    time.sleep(1.0)
    kids |= _descendants(proc.pid)
    proc.kill()
    proc.communicate(timeout=30)
    assert _gone_within(kids, 5.0) == set()


def test_sigkill_of_a_parallel_compare_takes_workers_and_solvers_with_it(generated):
    proc = _start("compare", str(generated), "--workers", "2", "--mip-gap", "0", "--no-report")
    kids = _wait_for_solver(proc, at_least=5)  # two workers, their fork servers and solvers
    time.sleep(1.0)
    kids |= _descendants(proc.pid)
    proc.kill()
    proc.communicate(timeout=30)
    assert _gone_within(kids, 5.0) == set()


def test_sigterm_is_handled_as_ctrl_c_by_solve(hard):
    proc = _start("solve", str(hard), "--time-limit", "300", "--mip-gap", "0", "--json", "--no-report", "--log")
    assert proc.stderr is not None
    deadline = time.time() + 60
    for line in proc.stderr:  # wait until HiGHS is branching (it has a plan by then)
        if time.time() > deadline or line.strip().startswith(("B ", "H ", "L ", "T ", "S ", "R ", "C ", "F ", "J ",
                                                              "U ", "Z ", "l ", "z ")):
            break
    time.sleep(1.0)
    kids = _descendants(proc.pid)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert time.monotonic() - t0 < 15
    assert proc.returncode == 0, err[-2000:]
    data = json.loads(out)
    assert data["termination"] == "interrupted" and data["npv"] is not None
    assert "Traceback" not in err
    assert _gone_within(kids, 5.0) == set()


def _assert_interrupted_batch(proc: subprocess.Popen, sig: int, to_group: bool, code: int) -> None:
    kids = _wait_for_solver(proc, at_least=2)
    time.sleep(3.0)  # well into the comparison (the pool's workers ready)
    kids |= _descendants(proc.pid)
    t0 = time.monotonic()
    if to_group:
        os.killpg(proc.pid, sig)  # as a terminal's Ctrl-C: the CLI and every process it started
    else:
        proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    waited = time.monotonic() - t0
    assert proc.returncode == code, err[-3000:]
    assert waited < 15, waited
    assert "Traceback" not in err and "Exception ignored" not in err, err[-3000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: interrupted: ") and "solves had finished" in last and "nothing written" in last
    assert "Highest expected NPV" not in out and "Recommendation" not in out  # no answer from half the solves
    assert _gone_within(kids, 8.0) == set()


def test_ctrl_c_stops_a_serial_compare_within_seconds(generated, tmp_path):
    proc = _start("compare", str(generated), "--workers", "1", "--mip-gap", "0", "--out", str(tmp_path / "c.xlsx"))
    _assert_interrupted_batch(proc, signal.SIGINT, to_group=False, code=130)
    assert not (tmp_path / "c.xlsx").exists()


def test_ctrl_c_to_the_process_group_of_a_parallel_compare_prints_no_traceback(generated, tmp_path):
    proc = _start("compare", str(generated), "--workers", "2", "--mip-gap", "0", "--no-report")
    _assert_interrupted_batch(proc, signal.SIGINT, to_group=True, code=130)


def test_sigterm_stops_a_compare_with_exit_143(generated, tmp_path):
    proc = _start("compare", str(generated), "--workers", "1", "--mip-gap", "0", "--no-report")
    _assert_interrupted_batch(proc, signal.SIGTERM, to_group=False, code=143)


def test_serial_executor_stops_after_the_interrupted_solve(monkeypatch):
    """In process: once a solve reports the user's Ctrl-C, no further job runs and the rows so far
    come back in PartialComparison (before: the loop went on to the next job)."""
    from optimiser import isolation
    from optimiser.jobs import executors
    from optimiser.jobs.executors import PartialComparison, SerialExecutor
    from optimiser.jobs.tasks import Job

    ran: list[str] = []

    def fake_task(instance, task, opts):
        ran.append(task.key)
        if task.key == "b":
            isolation.note_interrupt()  # as run_in_child does when Ctrl-C reaches it
        return [{"key": task.key}]

    monkeypatch.setattr(executors, "run_task", fake_task)
    jobs = [Job(k, "deterministic", "optimise") for k in ("a", "b", "c")]
    with pytest.raises(PartialComparison) as info:
        SerialExecutor().run(None, jobs, executors.SolveOptions(), lambda row: None)  # type: ignore[arg-type]
    isolation.clear_interrupt()
    assert ran == ["a", "b"]
    assert [r["key"] for r in info.value.rows] == ["a"] and info.value.interrupted == ["b"]
