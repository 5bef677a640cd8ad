"""An answer or a reason, always: incumbents kept, nothing lost, deterministic answers."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from builders import deal_case, hard_gap_tables, load
from optimiser.engine import solve_instance
from optimiser.solver.options import SolveOptions
from optimiser.writers import dict_tables, write_tables

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "instances" / "tiny"
CLI = [sys.executable, "-m", "optimiser"]


def _cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the CLI in a fresh process (signals, exit codes as a script sees them)."""
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd)


class _Run:
    def __init__(self, result) -> None:
        self.returncode = result.exit_code
        self.stdout = result.stdout
        self.stderr = result.stderr


def _inproc(*args: str) -> _Run:
    """Run the CLI in this process (same code path, no interpreter start-up)."""
    from typer.testing import CliRunner

    from optimiser.cli import app

    return _Run(CliRunner().invoke(app, list(args)))


@pytest.fixture(scope="module")
def hard(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hard") / "gap"
    write_tables(dict_tables(hard_gap_tables()), folder)
    return folder


def test_time_limit_keeps_incumbent_and_marks_report(hard, tmp_path):
    out = tmp_path / "r.xlsx"
    res = _inproc("solve", str(hard), "--time-limit", "2", "--mip-gap", "0", "--json", "--out", str(out))
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["termination"] == "time_limit" and data["status"] == "feasible"
    assert data["gap"] > 0 and data["npv"] < 0
    assert "not proven optimal" in data["status_words"]
    from openpyxl import load_workbook

    wb = load_workbook(out, read_only=True)
    text = " ".join(str(c) for row in wb[wb.sheetnames[0]].iter_rows(values_only=True) for c in row if c)
    assert "not proven optimal" in text


def test_ctrl_c_keeps_incumbent(hard, tmp_path):
    """SIGINT during the HiGHS run: the best plan so far is returned, exit 0, termination 'interrupted'."""
    # Ctrl-C as a terminal sends it: to a CLI that listens (a suite run as a background job or under
    # nohup has SIGINT ignored, and the CLI would rightly inherit that)
    proc = subprocess.Popen([*CLI, "solve", str(hard), "--time-limit", "120", "--mip-gap", "0", "--json",
                             "--log", "--no-report"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 60
    assert proc.stderr is not None
    for line in proc.stderr:  # wait until HiGHS is branching (it has an incumbent by then)
        if "Solving report" in line or time.time() > deadline:
            break
        if line.strip().startswith(("B ", "H ", "L ", "T ", "S ", "R ", "C ", "F ", "J ", "U ", "Z ", "l ", "z ")):
            time.sleep(1.0)
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-2000:]
    data = json.loads(out)
    assert data["termination"] == "interrupted"
    assert data["status"] == "feasible" and data["npv"] is not None


def test_no_incumbent_exits_3(hard, tmp_path):
    """A time limit too short for any plan: exit 3 and one clear line."""
    res = _inproc("solve", str(hard), "--time-limit", "0.001", "--no-report")
    if res.returncode == 0:
        pytest.skip("HiGHS found a plan within 1 ms on this machine")
    assert res.returncode == 3
    assert "before finding any plan" in res.stderr


def test_refuses_to_write_over_input(tmp_path):
    wb = tmp_path / "inst.xlsx"
    assert _inproc("convert", str(TINY), str(wb)).returncode == 0
    before = wb.read_bytes()
    res = _inproc("solve", str(wb), "--out", str(wb))
    assert res.returncode == 1 and "refusing to write over the input" in res.stderr
    res = _inproc("convert", str(wb), str(wb))
    assert res.returncode == 1
    res = _inproc("convert", str(TINY), str(TINY / "sub"))
    assert res.returncode == 1
    assert wb.read_bytes() == before


def test_unwritable_target_is_a_clear_error(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    res = _inproc("solve", str(TINY), "--out", str(blocker / "r.xlsx"))
    assert res.returncode == 1
    assert "error:" in res.stderr and "Traceback" not in res.stderr


_KILLED_WRITER = """
import sys
sys.path.insert(0, {tests!r})
from builders import hard_gap_tables
from optimiser.writers import dict_tables, write_workbook
tables = dict_tables(hard_gap_tables(40, 400))
print("ready", flush=True)
while True:
    write_workbook(tables, {target!r})
"""


def test_killed_write_leaves_previous_file_intact(tmp_path):
    """SIGKILL in the middle of writing: the target is the old file or a complete new one, never torn."""
    from openpyxl import load_workbook

    target = tmp_path / "out.xlsx"
    write_tables(dict_tables({"settings": [{"key": "name", "value": "old"}]}), target)
    old = target.read_bytes()
    script = _KILLED_WRITER.format(tests=str(ROOT / "tests"), target=str(target))
    for delay in (0.3, 0.9, 1.7):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        wb = load_workbook(target, read_only=True)  # opens: not torn
        assert wb.sheetnames[0] == "settings"
        wb.close()
    assert target.read_bytes() == old or len(target.read_bytes()) > len(old)  # old, or a complete new one


def test_deterministic_plan(tmp_path):
    """Same instance and options → the same plan, table for table."""
    # deal_case: a case with options, scenarios and ties broken by data

    inst = load(tmp_path, deal_case())
    a = solve_instance(inst, options=SolveOptions(mip_gap=0))
    b = solve_instance(inst, options=SolveOptions(mip_gap=0))
    for name in ("options", "lines_built", "tooling", "production", "shipments", "demand", "utilisation",
                 "npv_breakdown", "capacity_value", "scenarios"):
        assert getattr(a, name).equals(getattr(b, name)), name


def test_deterministic_cli_json(tmp_path):
    keys = ("status", "npv", "best_bound", "gap", "options_taken", "lines_built", "npv_breakdown", "scenario_npv",
            "instance_sha256", "n_variables", "n_constraints")
    runs = [json.loads(_inproc("solve", str(TINY), "--json", "--no-report").stdout) for _ in range(2)]
    assert {k: runs[0][k] for k in keys} == {k: runs[1][k] for k in keys}
