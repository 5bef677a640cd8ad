"""Solver noise is printed as 0, never "-0" (issue 17, item 8); one money formatter.

Before: regrets of −5.6e-07 printed as "-0" and "never more than -0 USD behind", and the default
case's `compare --scenarios low,high` said "VSS -0 USD".
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from builders import deal_case, load
from optimiser.compare import assemble
from optimiser.numbers import money, snap, tolerance, whole


ROOT = Path(__file__).resolve().parents[1]


def test_snap_and_formatters() -> None:
    tol = tolerance(3.7e8)
    assert tol == pytest.approx(370.0)
    assert snap(-5.6e-07, tol) == 0.0 and str(snap(-5.6e-07, tol)) == "0.0"
    assert snap(5.96e-08, tolerance(2.8e8)) == 0.0 and snap(-0.0) == 0.0 and str(snap(-0.0)) == "0.0"
    assert snap(-400.0, tol) == -400.0 and snap(None) is None
    assert tolerance(1e8, gap=1e-4) == pytest.approx(1e4)  # the MIP gap proves no more than this
    assert whole(-0.4) == "0" and whole(-0.6) == "-1" and whole(1234.5) == "1,234"
    assert money(-5.6e-07, "USD") == "0 USD"
    assert money(374_100_000, "USD") == "374.10 m USD" and money(-1.5e9, "USD") == "-1.50 bn USD"
    assert money(None, "USD") == "—" and money(None, "USD", missing="n/a") == "n/a"


def _row(key: str, kind: str, k: str, s: str | None, npv: float, per: dict[str, float] | None = None) -> dict:
    return {"key": key, "kind": kind, "strategy": k, "scenario": s, "status": "optimal", "npv": npv, "objective": npv, "gap": 0.0,
            "scenario_npv": per or {}, "probability": {"low": 0.5, "high": 0.5}, "options_taken": [],
            "lines_built": []}


def test_noise_regret_is_zero_everywhere(tmp_path: Path) -> None:
    """partner's stochastic plan is the best in both scenarios, up to 5.6e-07 of solver noise."""
    inst = load(tmp_path, deal_case())
    noise = 5.6e-07
    by_key = {}
    for k, low, high in (("optimise", 250.0, 1000.0), ("partner", 250.0, 950.0)):
        by_key[f"det:{k}:low"] = _row(f"det:{k}:low", "deterministic", k, "low", low)
        by_key[f"det:{k}:high"] = _row(f"det:{k}:high", "deterministic", k, "high", high)
    by_key["sto:optimise"] = _row("sto:optimise", "stochastic", "optimise", None, 600.0,
                                  {"low": 250.0 + noise, "high": 950.0})
    by_key["sto:partner"] = _row("sto:partner", "stochastic", "partner", None, 600.0,
                                 {"low": 250.0 + noise, "high": 950.0})
    comp = assemble(inst, ["optimise", "partner"], ["low", "high"], by_key, None)
    low = comp.regret[comp.regret["scenario"] == "low"]["regret"]
    assert (low == 0.0).all() and not any(str(x).startswith("-") for x in low)
    text = " ".join(comp.sentences) + json.dumps(comp.to_json(), default=str)
    assert "-0" not in text.replace("e-0", "")  # no "-0" anywhere (exponents aside)
    assert "never more than 50 USD behind" in " ".join(comp.sentences)


def test_default_case_two_scenarios_no_minus_zero(tmp_path: Path) -> None:
    env = os.environ | {"COLUMNS": "300"}
    args = [sys.executable, "-m", "optimiser", "compare", str(ROOT / "instances" / "foxconn-vinfast-2021"),
            "--scenarios", "low,high", "--workers", "1"]
    text = subprocess.run([*args, "--no-report"], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=300, check=True).stdout
    assert not re.search(r"(?<![\w.])-0(?![\d.,])", text), text
    assert "VSS 0 USD" in text or "VSS = RP − EEV: 0 USD" in text
    data = json.loads(subprocess.run([*args, "--no-report", "--json"], capture_output=True, text=True, env=env,
                                     cwd=tmp_path, timeout=300, check=True).stdout)
    assert data["vss"] == 0.0 and str(data["vss"]) == "0.0"
    assert all(r["regret"] is None or r["regret"] >= 0 for r in data["regret"])
