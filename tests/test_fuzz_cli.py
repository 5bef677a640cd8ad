"""benchmarks/fuzz_cli.py stays runnable: 24 seeded cases (every mutation class twice, one in a fresh
process) — no traceback, exit codes 0–3 only, inputs byte-identical."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_fuzz_cli_small_run_is_clean():
    spec = importlib.util.spec_from_file_location("fuzz_cli", ROOT / "benchmarks" / "fuzz_cli.py")
    assert spec is not None and spec.loader is not None
    fuzz = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_cli"] = fuzz  # its dataclasses look their module up
    spec.loader.exec_module(fuzz)
    summary = fuzz.main(["--cases", "24", "--seed", "5", "--subprocess-every", "12", "--time-limit", "2"])
    assert summary["runs"] >= 24
    assert summary["failures"] == [], summary["failures"][:3]
    assert set(summary["by_kind"]) >= {"cell", "hostile_file", "hostile_option", "table_remove"}
    assert summary["in_fresh_processes"] == 2
