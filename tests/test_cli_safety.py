"""Nothing lost: outputs only to regular files or new paths, never over an input; HiGHS never writes
files of its own; existing targets need --force; usage errors and bad environments are one line,
exit 1; options check themselves (issue 17, items 1–4, 13–15, 19)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from optimiser.cli import app
from optimiser.errors import InputError, OutputError
from optimiser.solver.options import SolveOptions

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "instances" / "tiny"
CLI = [sys.executable, "-m", "optimiser"]


def _inv(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def _hashes(path: Path) -> dict[str, str]:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def _one_error_line(res) -> str:
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.output
    return lines[0]


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    dst = tmp_path / "tiny"
    shutil.copytree(TINY, dst)
    return dst


# ---------------------------------------------------------------- 1: HiGHS options that write files

@pytest.mark.parametrize("option", [
    "solution_file={input}", "write_solution_to_file=true", "log_file={input}",
    "mip_improving_solution_file={input}", "write_model_to_file=true", "write_model_file={input}",
    "write_presolved_model_file={input}", "write_iis_model_file={input}", "write_basis_file={input}",
    "read_basis_file={input}", "output_flag=true", "log_to_console=true",
])
def test_highs_options_that_write_files_are_refused_and_nothing_is_written(tiny, tmp_path, option):
    victim = tiny / "lines.csv"
    before = _hashes(tiny)
    out = tmp_path / "r.xlsx"
    res = _inv("solve", tiny, "--highs-option", option.format(input=victim), "--out", out)
    assert res.exit_code == 1
    line = _one_error_line(res)
    assert "--log" in line and option.split("=")[0] in line
    assert _hashes(tiny) == before and not out.exists()


def test_every_highs_option_naming_a_file_is_refused():
    """Every option HiGHS lists whose name or description speaks of a file (read from HiGHS itself,
    not from our list) is refused by SolveOptions."""
    import highspy

    from optimiser.solver.options import FILE_OPTIONS

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    text_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"highs-options-{os.getpid()}.txt"
    h.writeOptions(str(text_file))
    text = text_file.read_text()
    text_file.unlink()
    found = []
    for block in text.split("\n\n"):
        m = re.search(r"^([a-z_0-9]+) = (.*)$", block, re.M)
        if m and ("file" in block.lower()):
            found.append((m.group(1), m.group(2).strip()))
    assert {"solution_file", "log_file", "mip_improving_solution_file", "write_model_to_file"} <= {n for n, _ in found}
    for name, default in found:
        value = {"true": True, "false": False}.get(default, "x.txt")
        with pytest.raises(InputError, match="not allowed"):
            SolveOptions(highs_options={name: value})
    assert {n for n, _ in found} <= FILE_OPTIONS | {n for n, _ in found if "file" in n or n.startswith("write_")}


# ---------------------------------------------------------------- 2: outputs never onto special files

def _specials(where: Path) -> dict[str, Path]:
    where.mkdir(parents=True, exist_ok=True)
    out = {}
    fifo = where / "fifo.xlsx"
    os.mkfifo(fifo)
    out["fifo"] = fifo
    folder = where / "folder.xlsx"
    folder.mkdir()
    out["folder"] = folder
    sock_path = where / "sock.xlsx"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(sock_path))
    s.close()
    out["socket"] = sock_path
    if os.geteuid() == 0:  # a null device node of our own (never /dev/null itself)
        dev = where / "dev.xlsx"
        os.mknod(dev, stat.S_IFCHR | 0o600, os.makedev(1, 3))
        out["device"] = dev
    return out


def _kind(path: Path) -> int:
    return stat.S_IFMT(os.lstat(path).st_mode)


@pytest.mark.parametrize("command", ["solve", "compare", "template", "convert", "write-model", "generate"])
def test_outputs_refuse_devices_fifos_sockets_and_folders(tiny, tmp_path, command):
    specials = _specials(tmp_path / "specials")
    before = _hashes(tiny)
    for what, target in specials.items():
        kind = _kind(target)
        if command == "solve":
            args = ["solve", tiny, "--out", target]
        elif command == "compare":
            args = ["compare", tiny, "--out", target, "--workers", "1"]
        elif command == "template":
            args = ["template", target, "--force"]
        elif command == "convert":
            args = ["convert", tiny, target, "--force"]
        elif command == "generate":
            args = ["generate", target, "--xlsx", "--lines", "4", "--programmes", "4", "--years", "3", "--force"]
        else:
            mps = target.with_suffix(".mps")
            target.rename(mps)
            target = mps
            args = ["solve", tiny, "--write-model", mps, "--no-report"]
        res = _inv(*args)
        if command == "convert" and what == "folder":  # a CSV-folder target: refused as holding a non-CSV
            assert res.exit_code == 1
            continue
        assert res.exit_code == 1, (what, res.output)
        line = _one_error_line(res)
        assert "regular file" in line or "not a folder" in line, line
        assert _kind(target) == kind, what  # still the FIFO / device / socket / folder
    assert _hashes(tiny) == before
    assert not list((tmp_path / "specials").glob(".*optimiser-tmp*"))


def test_a_csv_folder_output_refuses_a_fifo(tiny, tmp_path):
    fifo = tmp_path / "out"
    os.mkfifo(fifo)
    res = _inv("convert", tiny, fifo, "--force")
    assert res.exit_code == 1 and "not a folder" in _one_error_line(res)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_solve_report_may_replace_a_regular_file(tiny, tmp_path):
    """The documented rule for reports: written over an earlier report, atomically."""
    out = tmp_path / "r.xlsx"
    out.write_bytes(b"an older report")
    res = _inv("solve", tiny, "--out", out)
    assert res.exit_code == 0, res.output
    assert out.read_bytes()[:2] == b"PK"


# ---------------------------------------------------------------- 3: --force

def test_template_generate_convert_refuse_an_existing_target_unless_forced(tiny, tmp_path):
    book = tmp_path / "book.xlsx"
    book.write_bytes(b"my instance")
    res = _inv("template", book)
    assert res.exit_code == 1 and "already exists; add --force" in _one_error_line(res)
    assert book.read_bytes() == b"my instance"
    res = _inv("convert", tiny, book)
    assert res.exit_code == 1 and "already exists; add --force" in _one_error_line(res)
    assert book.read_bytes() == b"my instance"
    res = _inv("generate", book, "--xlsx", "--lines", "4", "--programmes", "4", "--years", "3")
    assert res.exit_code == 1 and "already exists; add --force" in _one_error_line(res)
    assert book.read_bytes() == b"my instance"
    folder = tmp_path / "gen"
    assert _inv("generate", folder, "--lines", "4", "--programmes", "4", "--years", "3").exit_code == 0
    before = _hashes(folder)
    res = _inv("generate", folder, "--lines", "5", "--programmes", "4", "--years", "3")
    assert res.exit_code == 1 and _hashes(folder) == before
    assert _inv("template", book, "--force").exit_code == 0 and book.read_bytes()[:2] == b"PK"
    res = _inv("generate", folder, "--lines", "5", "--programmes", "4", "--years", "3", "--force")
    assert res.exit_code == 0 and _hashes(folder) != before
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _inv("convert", tiny, empty).exit_code == 0  # an empty folder holds nothing to lose


# ---------------------------------------------------------------- 4: temporary files of killed writes

def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_later_write_removes_temporaries_of_dead_writers_only(tmp_path):
    from optimiser.writers import dict_tables, write_workbook

    dead = tmp_path / f".r.xlsx.optimiser-tmp-{_dead_pid()}-abc123.tmp"
    dead.write_bytes(b"half a workbook")
    dead_dir = tmp_path / f".inst.optimiser-tmp-{_dead_pid()}-xyz"
    dead_dir.mkdir()
    (dead_dir / "lines.csv").write_text("x")
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = tmp_path / f".other.xlsx.optimiser-tmp-{alive.pid}-def456.tmp"
        live.write_bytes(b"being written")
        old = tmp_path / f".old.xlsx.optimiser-tmp-{alive.pid}-ghi789.tmp"
        old.write_bytes(b"a day old")
        os.utime(old, (time.time() - 2 * 86400, time.time() - 2 * 86400))
        mine = tmp_path / ".notes.tmp"  # not ours: never touched
        mine.write_bytes(b"the planner's own")
        write_workbook(dict_tables({"settings": [{"key": "name", "value": "x"}]}), tmp_path / "r.xlsx")
        assert not dead.exists() and not dead_dir.exists() and not old.exists()
        assert live.exists() and mine.exists()
        assert sorted(p.name for p in tmp_path.iterdir() if "optimiser-tmp" in p.name) == [live.name]
    finally:
        alive.kill()
        alive.wait()


_KILLED_WRITER = """
import sys, time
from optimiser.writers import atomic_path
with atomic_path({target!r}) as tmp:
    tmp.write_bytes(b"half a report")
    print("writing", flush=True)
    time.sleep(120)
"""


def test_kill_9_during_a_write_leaves_a_temporary_the_next_write_removes(tmp_path):
    from optimiser.writers import dict_tables, write_workbook

    target = tmp_path / "out.xlsx"
    target.write_bytes(b"previous report")
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER.format(target=str(target))],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    proc.kill()
    proc.wait(timeout=30)
    proc.stdout.close()
    left = [p.name for p in tmp_path.iterdir() if p.name != "out.xlsx"]
    assert len(left) == 1 and left[0].startswith(f".out.xlsx.optimiser-tmp-{proc.pid}-")
    assert target.read_bytes() == b"previous report"
    write_workbook(dict_tables({"settings": [{"key": "name", "value": "x"}]}), tmp_path / "other.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.xlsx", "out.xlsx"]


# ---------------------------------------------------------------- 13: usage errors

@pytest.mark.parametrize("args", [
    ["solve", str(TINY), "--bogus"],
    ["solve"],
    ["solve", str(TINY), "--time-limit", "abc"],
    ["solve", str(TINY), "--threads", "two"],
    ["solve", str(TINY), "--time-limit"],
    ["frobnicate"],
    ["compare", str(TINY), "--workers", "x"],
])
def test_usage_errors_are_one_line_exit_1(args):
    res = _inv(*args)
    assert res.exit_code == 1, res.output
    line = _one_error_line(res)
    assert "--help" in line
    assert res.stdout == ""


def test_usage_error_in_a_fresh_process_is_one_line_exit_1():
    proc = subprocess.run([*CLI, "solve", str(TINY), "--time-limit", "abc"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ") and "╭" not in proc.stderr


def test_debug_works_after_the_subcommand(tmp_path):
    res = _inv("validate", str(TINY), "--debug")
    assert res.exit_code == 0, res.output
    res = _inv("--debug", "validate", str(TINY))
    assert res.exit_code == 0, res.output


# ---------------------------------------------------------------- 14: bad input or environment

def test_a_very_long_instance_name_gets_a_short_default_report_name(tiny, tmp_path, monkeypatch):
    name = "n" * 30_000  # far past a file name's 255 bytes, within a spreadsheet cell's 32,767 characters
    text = (tiny / "settings.csv").read_text().replace("name,tiny,", f"name,{name},")
    (tiny / "settings.csv").write_text(text)
    monkeypatch.chdir(tmp_path)
    res = _inv("solve", tiny, "--json")
    assert res.exit_code == 0, res.output[-500:]
    report = Path(json.loads(res.stdout)["report"])
    assert report.exists() and len(report.name) < 140
    assert len(res.stderr) < 2000


def test_a_too_long_out_name_is_one_short_line(tiny, tmp_path):
    out = tmp_path / ("x" * 100_000 + ".xlsx")
    res = _inv("solve", tiny, "--out", out)
    assert res.exit_code == 1
    line = _one_error_line(res)
    assert "too long" in line and len(line) < 400


def test_an_unreadable_table_is_one_located_line(tiny, monkeypatch):
    original = Path.read_bytes

    def refuse(self: Path) -> bytes:
        if self.name == "lines.csv":
            raise PermissionError(13, "Permission denied", str(self))
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    res = _inv("validate", tiny)
    assert res.exit_code == 1
    line = _one_error_line(res)
    assert "lines.csv" in line and "Permission denied" in line


@pytest.mark.parametrize("flag,value,limits", [("--years", "2", "3 to 60"), ("--lines", "3", "4 to 9999"),
                                               ("--programmes", "100000", "4 to 9999")])
def test_generate_counts_out_of_range_are_one_line(tmp_path, flag, value, limits):
    res = _inv("generate", tmp_path / "g", flag, value)
    assert res.exit_code == 1
    line = _one_error_line(res)
    assert f"{flag} {value}" in line and limits in line
    assert not (tmp_path / "g").exists()


@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
def test_output_to_a_non_utf8_stdout_works(tiny, encoding):
    """Windows consoles and redirects (cp1252), C locales (ascii): a name with Vietnamese letters
    and the summary's dashes and rules are written as escapes, not an UnicodeEncodeError (exit 4)."""
    text = (tiny / "settings.csv").read_text(encoding="utf-8").replace("name,tiny,", "name,Việt ⚡ tiny,")
    (tiny / "settings.csv").write_text(text, encoding="utf-8")
    env = dict(os.environ, PYTHONIOENCODING=encoding)
    for args in (["validate", str(tiny)], ["solve", str(tiny), "--no-report"]):
        proc = subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=120,
                              encoding="utf-8", errors="replace")
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert "Vi\\u1ec7t" in proc.stdout  # the letter cp1252 and ascii lack, as an escape


# ---------------------------------------------------------------- 15: options and numbers HiGHS cannot use

@pytest.mark.parametrize("kwargs,phrase", [
    (dict(time_limit=float("nan")), "--time-limit"), (dict(time_limit=float("inf")), "--time-limit"),
    (dict(time_limit=-1.0), "--time-limit"), (dict(time_limit=0.0), "--time-limit"),
    (dict(mip_gap=float("nan")), "--mip-gap"), (dict(mip_gap=1.0), "--mip-gap"),
    (dict(threads=100_000), "--threads"), (dict(threads=0), "--threads"),
    (dict(seed=-1), "--seed"), (dict(local_search="maybe"), "--local-search"),
    (dict(highs_options={"threads": 100_000}), "threads"), (dict(highs_options={"mip_rel_gap": float("nan")}), "nan"),
    (dict(write_model=Path("m.txt")), "--write-model"),
])
def test_solve_options_check_themselves(kwargs, phrase):
    with pytest.raises(InputError, match=re.escape(phrase)):
        SolveOptions(**kwargs)


@pytest.mark.parametrize("args", [["--threads", "100000"], ["--time-limit", "nan"], ["--time-limit", "inf"],
                                  ["--time-limit", "-5"], ["--highs-option", "write_model_to_file=true"]])
def test_hopeless_options_exit_1_at_once(tiny, args):
    t0 = time.monotonic()
    res = _inv("solve", tiny, "--no-report", *args)
    assert res.exit_code == 1, res.output
    _one_error_line(res)
    assert time.monotonic() - t0 < 10


def test_a_discount_rate_near_minus_one_is_a_located_error(tiny):
    text = (tiny / "settings.csv").read_text().replace("discount_rate,0,", "discount_rate,-0.999,")
    (tiny / "settings.csv").write_text(text)
    res = _inv("solve", tiny, "--no-report")
    assert res.exit_code == 1
    assert "settings row 6, column value" in res.stderr and "discount_rate" in res.stderr


def test_coefficients_beyond_1e15_are_refused_before_highs(tiny):
    from optimiser.model import build_model, prepare
    from optimiser.model.compile import compile_model
    from optimiser.solver.solve import solve_compiled
    from optimiser.validate import load_instance

    inst, _ = load_instance(tiny)
    cm = compile_model(build_model(prepare(inst, "optimise", None)))
    j = int(abs(cm.sense_min_cost).argmax())
    cm.sense_min_cost[j] = 6e19
    with pytest.raises(InputError, match=r"6e\+19 as the objective \(NPV\) coefficient of "):
        solve_compiled(cm, SolveOptions())
    cm.sense_min_cost[j] = 9.9e14  # large but workable
    solve_compiled(cm, SolveOptions())


# ---------------------------------------------------------------- 19: metadata and unwrapped pipes

def test_project_license_is_an_spdx_string():
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert isinstance(meta["project"]["license"], str)
    setuptools_req = next(r for r in meta["build-system"]["requires"] if r.startswith("setuptools"))
    assert int(re.search(r">=\s*(\d+)", setuptools_req).group(1)) >= 77


def test_piped_output_is_not_wrapped_at_80_columns(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    proc = subprocess.run([*CLI, "solve", str(TINY), "--no-report"], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    model_line = next(line for line in proc.stdout.splitlines() if line.startswith("Model:"))
    assert "extract" in model_line and len(model_line) > 80


def test_output_error_messages_never_echo_a_huge_path():
    from optimiser.writers import check_output

    with pytest.raises(OutputError) as info:
        check_output(Path("/nonexistent-dir-for-test") / ("y" * 5000) / "r.xlsx")
    assert len(str(info.value)) < 400


def test_a_matrix_entry_of_1e15_is_one_located_line_not_an_internal_error(tiny):
    """Found by benchmarks/fuzz_cli.py: a BOM quantity of 1e15 passes validation (≤ 1e15) and HiGHS
    refused the model (its large_matrix_value): exit 4 with a traceback from the solver's process."""
    header, *rows = (tiny / "bom.csv").read_text().splitlines()
    cells = rows[1].split(",")
    cells[header.split(",").index("quantity")] = "1e15"
    rows[1] = ",".join(cells)
    (tiny / "bom.csv").write_text("\n".join([header, *rows]) + "\n")
    res = _inv("solve", tiny, "--no-report")
    assert res.exit_code == 1, res.output
    line = _one_error_line(res)
    assert "1e+15 as a coefficient of" in line
