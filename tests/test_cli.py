"""The CLI's contract, in process (typer's CliRunner): every command's exit codes as the README's
"Exit codes" table gives them, and the shape of every ``--json`` document (keys and their types).

Numbers are the teaching case's hand-derived optimum (instances/tiny/EXPECTED.md): optimise and
partner 36000, buy 24500, neither 30000. Signals in a real process (143, Ctrl-C mid-solve) are in
test_interrupts.py and test_robustness.py; here only the codes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from builders import hard_gap_tables
from conftest import Tables, minimal_tables, write_instance
from optimiser.cli import app

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "instances" / "tiny"

OK, INVALID, INFEASIBLE, NO_SOLUTION, INTERNAL, INTERRUPTED = 0, 1, 2, 3, 4, 130


def run(*args: Any) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def run_json(*args: Any, code: int = OK) -> Any:
    r = run(*args, "--json")
    assert r.exit_code == code, (r.exit_code, r.stderr)
    return json.loads(r.stdout)


def one_error_line(r: Result) -> str:
    """Failures are one ``error: …`` line first on stderr, never a traceback."""
    assert "Traceback" not in r.stderr and r.stderr.startswith("error: "), r.stderr
    return r.stderr.splitlines()[0]


def has_types(doc: dict, types: dict[str, type | tuple[type, ...]]) -> None:
    missing = set(types) - set(doc)
    assert not missing, f"keys missing: {sorted(missing)}"
    wrong = {k: type(doc[k]).__name__ for k, t in types.items() if not isinstance(doc[k], t)}
    assert not wrong, f"keys of the wrong type: {wrong}"


NUMBER = (int, float)
MAYBE_NUMBER = (int, float, type(None))
MAYBE_STR = (str, type(None))
ERROR_DOC = {"status": str, "exit_code": int, "message": str, "details": list}
PROBLEM = {"table": str, "row": (int, type(None)), "column": MAYBE_STR, "severity": str, "message": str}


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An invalid instance: a negative capacity in lines row 2."""
    t = minimal_tables()
    t["lines"][0]["capacity"] = -5
    return write_instance(tmp_path_factory.mktemp("cli"), t, name="broken")


@pytest.fixture(scope="module")
def infeasible(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """P1 must be served (100 units in 2025) but L1 holds 10 and L2 is not ready: no plan."""
    t: Tables = minimal_tables()
    t["programmes"][0]["must_serve"] = True
    t["lines"][0]["capacity"] = 10
    return write_instance(tmp_path_factory.mktemp("cli"), t, name="infeasible")


# ------------------------------------------------------------------ validate

def test_validate_json_shapes_and_codes(broken: Path) -> None:
    assert run_json("validate", TINY) == []  # valid, no warnings
    problems = run_json("validate", broken, code=INVALID)
    assert isinstance(problems, list) and len(problems) == 1
    has_types(problems[0], PROBLEM)
    assert (problems[0]["table"], problems[0]["row"], problems[0]["column"], problems[0]["severity"]) == (
        "lines", 2, "capacity", "error")
    r = run("validate", broken)
    assert r.exit_code == INVALID and r.stdout == ""
    assert "lines row 2, column capacity" in r.stderr and "error: the instance is invalid: 1 error(s)" in r.stderr


def test_unreadable_input_is_one_error_object(tmp_path: Path) -> None:
    for command in ("validate", "solve", "compare", "explain", "alternatives"):
        doc = run_json(command, tmp_path / "nowhere", code=INVALID)
        has_types(doc, ERROR_DOC)
        assert doc["status"] == "error" and doc["exit_code"] == INVALID and "no such file or folder" in doc["message"]


@pytest.mark.parametrize("command", ["solve", "compare", "explain", "alternatives"])
def test_invalid_instance_gives_the_problems_array(command: str, broken: Path) -> None:
    problems = run_json(command, broken, code=INVALID)
    assert [(p["table"], p["row"], p["column"]) for p in problems] == [("lines", 2, "capacity")]


# ------------------------------------------------------------------ solve

def test_solve_json_shape_and_the_hand_solved_optimum() -> None:
    doc = run_json("solve", TINY, "--no-report", "--mip-gap", "0")
    has_types(doc, {
        "status": str, "termination": str, "status_words": str, "npv": NUMBER, "objective": NUMBER,
        "solver_objective": NUMBER, "unmet_penalty_cost": NUMBER, "target_penalty": NUMBER,
        "best_bound": MAYBE_NUMBER, "gap": MAYBE_NUMBER, "stopped_by_watchdog": bool, "instance": str,
        "strategy": str, "scenario": MAYBE_STR, "scenarios": list, "n_variables": int, "n_binaries": int,
        "n_constraints": int, "n_nonzeros": int, "highs_version": str, "instance_sha256": str,
        "options_taken": list, "lines_built": list, "npv_breakdown": dict, "basis": str,
        "expected_units": dict, "expected_unmet_units": dict, "scenario_npv": dict, "per_scenario": dict,
        "capacity_value": list, "cash_flow": list, "option_years": list, "report": MAYBE_STR,
    })
    assert (doc["status"], doc["termination"]) == ("optimal", "optimal")
    assert doc["npv"] == pytest.approx(36000.0) and doc["options_taken"] == ["partner_vf"]
    assert sum(doc["npv_breakdown"].values()) == pytest.approx(doc["npv"])
    assert doc["npv_breakdown"]["deal_costs"] == pytest.approx(-7000.0)  # 5000 upfront + 2 × 1000
    assert doc["report"] is None  # --no-report
    # units per kind, never one total across kinds
    assert set(doc["expected_units"]) == {"vehicle", "battery"}
    for kind in doc["expected_units"].values():
        has_types(kind, {"unit": str, "demand": NUMBER, "served": NUMBER, "unmet": NUMBER, "made": NUMBER})
    assert doc["expected_units"]["vehicle"]["unmet"] == pytest.approx(150.0)  # car 2026 100 + van 50
    assert set(doc["per_scenario"]) == {"base"}
    has_types(doc["per_scenario"]["base"], {"probability": NUMBER, "npv": NUMBER, "units": dict})


@pytest.mark.parametrize("strategy, npv", [("buy", 24500.0), ("neither", 30000.0)])
def test_solve_a_strategy(strategy: str, npv: float) -> None:
    doc = run_json("solve", TINY, "--no-report", "--mip-gap", "0", "--strategy", strategy)
    assert doc["strategy"] == strategy and doc["npv"] == pytest.approx(npv)


def test_solve_writes_its_report(tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    doc = run_json("solve", TINY, "--out", out)
    assert doc["report"] == str(out) and out.stat().st_size > 0
    out.write_bytes(b"an earlier report")
    assert run("solve", TINY, "--out", out).exit_code == OK  # solve replaces an earlier report (README)
    assert out.read_bytes()[:2] == b"PK"
    r = run("solve", TINY, "--out", tmp_path)  # a folder is not an output file
    assert r.exit_code == INVALID and "is a folder" in one_error_line(r)


def test_solve_infeasible_exits_2_with_reasons(infeasible: Path) -> None:
    doc = run_json("solve", infeasible, "--no-report", code=INFEASIBLE)
    has_types(doc, ERROR_DOC)
    assert doc["exit_code"] == INFEASIBLE and "infeasible" in doc["message"]
    assert any("must serve all 100 units" in line for line in doc["details"])
    r = run("solve", infeasible, "--no-report")
    assert r.exit_code == INFEASIBLE and r.stdout == ""
    assert one_error_line(r).startswith("error: the model is infeasible")


def test_solve_without_any_plan_exits_3(tmp_path: Path) -> None:
    """HiGHS may explore no node and run no heuristic: the root LP of this assignment problem is
    fractional, so it stops with no plan — the README's exit 3."""
    hard = write_instance(tmp_path, hard_gap_tables(), name="hard")
    doc = run_json("solve", hard, "--no-report", "--local-search", "off", "--highs-option", "mip_max_nodes=0",
                   "--highs-option", "mip_heuristic_effort=0", "--highs-option", "presolve=off", code=NO_SOLUTION)
    has_types(doc, ERROR_DOC)
    assert doc["exit_code"] == NO_SOLUTION and "before finding any plan" in doc["message"]


@pytest.mark.parametrize("args, words", [
    (["--mip-gap", "2"], "--mip-gap 2.0"),
    (["--time-limit", "0"], "--time-limit 0.0"),
    (["--highs-option", "no_such_option=1"], "no_such_option"),
    (["--local-search", "maybe"], "--local-search 'maybe'"),
])
def test_bad_option_exits_1_in_one_line(args: list[str], words: str) -> None:
    doc = run_json("solve", TINY, "--no-report", *args, code=INVALID)
    has_types(doc, ERROR_DOC)
    assert words in doc["message"]
    r = run("solve", TINY, "--no-report", *args)
    assert r.exit_code == INVALID and words in one_error_line(r)


@pytest.mark.parametrize("args", [["solve", TINY, "--bogus"], ["solve"], ["no-such-command"],
                                  ["solve", TINY, "--time-limit", "soon"]])
def test_usage_errors_exit_1(args: list[Any]) -> None:
    r = run(*args)
    assert r.exit_code == INVALID and r.stdout == ""
    one_error_line(r)


def test_internal_error_exits_4_and_interrupt_130(monkeypatch: pytest.MonkeyPatch) -> None:
    import optimiser.validate

    def bug(*_: Any, **__: Any) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(optimiser.validate, "load_instance", bug)
    r = run("validate", TINY)
    assert r.exit_code == INTERNAL
    assert one_error_line(r).startswith("error: internal error: ZeroDivisionError: a bug")

    def ctrl_c(*_: Any, **__: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(optimiser.validate, "load_instance", ctrl_c)
    r = run("validate", TINY)
    assert r.exit_code == INTERRUPTED and one_error_line(r) == "error: interrupted; nothing written"


# ------------------------------------------------------------------ compare, explain, alternatives, diff

def test_compare_json_shape() -> None:
    doc = run_json("compare", TINY, "--no-report", "--workers", "1", "--mip-gap", "0")
    has_types(doc, {"instance": str, "scenarios": list, "probability": dict, "scenario_note": MAYBE_STR,
                    "matrix": list, "stochastic": list, "regret": list, "wait_and_see": MAYBE_NUMBER,
                    "stochastic_optimum": MAYBE_NUMBER, "eev": MAYBE_NUMBER, "evpi": MAYBE_NUMBER,
                    "vss": MAYBE_NUMBER, "recommendation": dict, "sentences": list, "risk": (dict, type(None)),
                    "flexibility": list, "report": MAYBE_STR})
    for row in doc["matrix"]:
        has_types(row, {"strategy": str, "scenario": str, "npv": NUMBER, "objective": NUMBER, "status": str,
                        "gap": MAYBE_NUMBER})
    npv = {r["strategy"]: r["npv"] for r in doc["matrix"]}
    assert npv == pytest.approx({"optimise": 36000.0, "partner": 36000.0, "buy": 24500.0, "neither": 30000.0})
    assert doc["recommendation"]["expected"] == "partner"
    for row in doc["regret"]:
        has_types(row, {"strategy": str, "scenario": str, "npv": NUMBER, "best_npv": NUMBER, "regret": NUMBER})
    assert all(isinstance(s, str) for s in doc["sentences"])


def test_explain_json_shape_and_codes(infeasible: Path) -> None:
    doc = run_json("explain", TINY)
    has_types(doc, {"feasible": bool, "total_violation": NUMBER, "findings": list})
    assert doc["feasible"] is True and doc["findings"] == []
    doc = run_json("explain", infeasible, code=INFEASIBLE)
    assert doc["feasible"] is False and doc["total_violation"] == pytest.approx(100.0)  # 100 units short
    has_types(doc["findings"][0], {"kind": str, "violation": NUMBER, "message": str, "fixes": list, "table": str,
                                   "ids": list})
    assert doc["findings"][0]["kind"] == "must_serve"


def test_alternatives_json_shape() -> None:
    doc = run_json("alternatives", TINY, "--within", "20%", "--count", "2", "--mip-gap", "0")
    has_types(doc, {"instance": str, "strategy": str, "scenario": MAYBE_STR, "within": NUMBER, "count": int,
                    "objective_floor": NUMBER, "optimum": dict, "alternatives": list, "stopped": str,
                    "workbook": MAYBE_STR})
    assert doc["optimum"]["npv"] == pytest.approx(36000.0)
    assert doc["objective_floor"] == pytest.approx(0.8 * 36000.0, rel=1e-6)
    assert 1 <= len(doc["alternatives"]) <= 2
    for alt in doc["alternatives"]:
        has_types(alt, {"rank": int, "npv": NUMBER, "objective": NUMBER, "npv_delta": NUMBER,
                        "distance_to_optimum": int, "differences": list, "plan": dict})
        assert 0.8 * 36000.0 - 1e-6 <= alt["npv"] < 36000.0
    assert doc["alternatives"][0]["npv"] == pytest.approx(30000.0)  # neither: the next best plan


def test_diff_json_shape_and_codes(tmp_path: Path) -> None:
    changed = tmp_path / "b"
    shutil.copytree(TINY, changed)
    lines = changed / "lines.csv"
    lines.write_text(lines.read_text().replace("home_asm,home,assembly,100,", "home_asm,home,assembly,120,"))
    doc = run_json("diff", TINY, changed)
    has_types(doc, {"kind": str, "a": str, "b": str, "summary": dict, "tables": dict, "workbook": MAYBE_STR})
    assert doc["kind"] == "instances"
    assert doc["summary"] == {"added": 0, "removed": 0, "changed": 1, "cells": 1}
    (row,) = doc["tables"]["lines"]["rows"]
    assert row["key"] == ["home_asm"] and row["changes"] == [{"column": "capacity", "old": 100.0, "new": 120.0}]
    same = run_json("diff", TINY, TINY)
    assert same["summary"] == {"added": 0, "removed": 0, "changed": 0, "cells": 0}
    r = run("diff", TINY, tmp_path / "nowhere")
    assert r.exit_code == INVALID
    one_error_line(r)


# ------------------------------------------------------------------ convert, template, generate (no --json)

def test_convert_codes(tmp_path: Path) -> None:
    target = tmp_path / "tiny.xlsx"
    r = run("convert", TINY, target)
    assert r.exit_code == OK and target.is_file()
    before = target.read_bytes()
    r = run("convert", TINY, target)  # an existing target is refused without --force
    assert r.exit_code == INVALID and "--force" in one_error_line(r) and target.read_bytes() == before
    assert run("convert", TINY, target, "--force").exit_code == OK
    assert run_json("validate", target) == []  # what it wrote reads back valid
    r = run("convert", tmp_path / "nowhere", tmp_path / "out.xlsx")
    assert r.exit_code == INVALID and not (tmp_path / "out.xlsx").exists()
    one_error_line(r)


def test_template_codes(tmp_path: Path) -> None:
    target = tmp_path / "template.xlsx"
    assert run("template", target).exit_code == OK and target.is_file()
    r = run("template", target)
    assert r.exit_code == INVALID and "--force" in one_error_line(r)
    assert run("template", target, "--force").exit_code == OK


def test_generate_codes(tmp_path: Path) -> None:
    target = tmp_path / "gen"
    r = run("generate", target, "--size", "small", "--seed", "3")
    assert r.exit_code == OK and (target / "lines.csv").is_file()
    assert "small: solves to optimality" in r.output  # what to expect, per documented size
    assert run("validate", target).exit_code == OK
    r = run("generate", target, "--seed", "3")
    assert r.exit_code == INVALID and "--force" in one_error_line(r)
    for bad in (["--size", "enormous"], ["--lines", "3"]):
        r = run("generate", tmp_path / "other", *bad)
        assert r.exit_code == INVALID and not (tmp_path / "other").exists()
        one_error_line(r)
