"""Dask executor: a LocalCluster and a scheduler + worker on 127.0.0.1 give exactly the serial results.

Skipped when the dask extra is not installed. Every Dask call has a deadline: pytest-timeout
on each test, connect/wait timeouts on the client, and the scheduler/worker processes this
test starts are stopped (by their own pid) in a finally block.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from builders import deal_case, load  # noqa: E402

from optimiser.compare import compare  # noqa: E402
from optimiser.errors import InputError  # noqa: E402
from optimiser.jobs.dask import DaskExecutor, make_dask_executor  # noqa: E402
from optimiser.jobs.executors import SerialExecutor  # noqa: E402
from optimiser.solver.options import SolveOptions  # noqa: E402
from optimiser.sweep import parse_grid, sweep  # noqa: E402

OPTS = SolveOptions(mip_gap=0)
DEADLINE = 30.0  # seconds for a process to come up


def _drop_timing(df):
    return df.drop(columns=["solve_seconds"])


@pytest.mark.timeout(120)
def test_local_cluster_gives_the_serial_comparison(tmp_path):
    inst = load(tmp_path, deal_case())
    serial = compare(inst, options=OPTS, workers=1)
    with DaskExecutor(None, workers=2) as ex:  # compare() enters it again: the nested `with` reuses the cluster
        assert ex.worker_count() == 2
        dask = compare(inst, options=OPTS, executor=ex)
        assert ex.worker_count() == 2  # still open after compare's own `with`
    assert dask.to_json() == serial.to_json()


def _dask_cli() -> list[str]:
    exe = Path(sys.executable).parent / "dask"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("dask")
    if found:
        return [found]
    return [sys.executable, "-m", "dask"]


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


@pytest.mark.timeout(150)
def test_scheduler_and_worker_on_loopback_give_the_serial_results(tmp_path):
    inst = load(tmp_path, deal_case())
    serial = compare(inst, options=OPTS, workers=1)
    grid = parse_grid("demand_factor=0.5,1,1.5", inst)
    local = sweep(inst, grid, ["optimise", "partner"], options=OPTS, executor=SerialExecutor())

    sched_file = tmp_path / "scheduler.json"
    log_s = open(tmp_path / "scheduler.log", "w")
    log_w = open(tmp_path / "worker.log", "w")
    scheduler = worker = None
    try:
        scheduler = subprocess.Popen(
            [*_dask_cli(), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(sched_file)],
            stdout=log_s, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        t0 = time.monotonic()
        while not sched_file.exists():
            assert scheduler.poll() is None, (tmp_path / "scheduler.log").read_text()
            assert time.monotonic() - t0 < DEADLINE, "the scheduler did not start"
            time.sleep(0.2)
        time.sleep(0.2)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        worker = subprocess.Popen(
            [*_dask_cli(), "worker", address, "--nthreads", "1", "--nworkers", "1", "--host", "127.0.0.1",
             "--no-dashboard", "--death-timeout", "60"],
            stdout=log_w, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        ex = make_dask_executor(address)
        with ex:
            ex.client.wait_for_workers(1, timeout=DEADLINE)
            remote = compare(inst, options=OPTS, executor=ex)
            on_dask = sweep(inst, grid, ["optimise", "partner"], options=OPTS, executor=ex)
        assert remote.to_json() == serial.to_json()
        assert _drop_timing(on_dask).equals(_drop_timing(local))
    finally:
        _stop(worker)
        _stop(scheduler)
        log_s.close()
        log_w.close()


@pytest.mark.timeout(60)
def test_no_scheduler_at_the_address_is_an_input_error():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ex = DaskExecutor(f"tcp://127.0.0.1:{port}", connect_timeout=3)
    with pytest.raises(InputError, match="no Dask scheduler answered"):
        with ex:
            pass


def test_address_without_scheme_gets_tcp():
    assert make_dask_executor("127.0.0.1:8786").address == "tcp://127.0.0.1:8786"
    with pytest.raises(InputError):
        make_dask_executor("  ")
