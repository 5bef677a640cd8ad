"""Progressive hedging (mpi-sppy) against the extensive form.

NPV is maximised, so for the optimum z* of the extensive form (EF):
inner bound (NPV of PH's plan) ≤ z* ≤ outer bound (Lagrangian / wait-and-see bound).

The decomposition test needs no MPI; the PH runs are skipped when mpi4py, mpi-sppy or
mpiexec are missing (pip install '.[mpi]'). Each PH run has a deadline (run_ph's timeout
kills mpiexec's process group) and a pytest timeout.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from builders import deal_case, load
from conftest import minimal_tables

from optimiser.model import build_model, prepare
from optimiser.model.compile import compile_model
from optimiser.ph import find_mpiexec
from optimiser.ph_setup import SCENARIO_INDEXED, restrict
from optimiser.engine import solve_instance
from optimiser.solver.options import SolveOptions
from optimiser.solver.solve import solve_compiled

OPTS = SolveOptions(mip_gap=0)
TOL = 1e-6


def mini_case():
    """Three scenarios; a candidate line L2 only the high scenario would build (so the scenario
    solutions disagree on build/tool and PH has to reconcile them)."""
    t = minimal_tables()
    t["lines"][0]["capacity"] = 150
    t["lines"][1]["build_cost"] = 2e6
    t["scenarios"] = [{"scenario_id": "low", "probability": 0.5, "demand_factor": 0.3},
                      {"scenario_id": "mid", "probability": 0.3, "demand_factor": 1.0},
                      {"scenario_id": "high", "probability": 0.2, "demand_factor": 2.5}]
    return t


def _plan(fs) -> dict:
    """A first stage as the set of decisions at 1."""
    return {"take": {k for k, v in fs.take.items() if v > 0.5}, "build": {k for k, v in fs.build.items() if v > 0.5},
            "tool": {k for k, v in fs.tool.items() if v > 0.5}}


# ------------------------------------------------------------------ decomposition (no MPI)

@pytest.mark.parametrize("case", [deal_case, mini_case])
def test_scenario_models_partition_the_extensive_form(tmp_path, case):
    """Restricted scenario models share the EF's first-stage sets, split its second stage exactly,
    and Σ π_s NPV_s(x) = EF NPV(x) for the EF's first stage x."""
    inst = load(tmp_path, case())
    md = prepare(inst, "optimise", None)
    parts = {s: restrict(md, s) for s in md.scenarios}
    for name in SCENARIO_INDEXED:
        whole = getattr(md, name)
        assert sum(len(getattr(p, name)) for p in parts.values()) == len(whole), name
    for p in parts.values():
        assert (p.tool_index, p.build_index, p.options, p.must_tool) == (md.tool_index, md.build_index, md.options,
                                                                          md.must_tool)
    ef = solve_instance(inst, "optimise", None, OPTS)
    x = ef.first_stage()
    total = 0.0
    for s, p in parts.items():
        out = solve_compiled(compile_model(build_model(dataclasses.replace(p, fixed=x))), OPTS)
        total += md.probability[s] * out.objective
    assert total == pytest.approx(ef.run.objective, rel=1e-9, abs=1e-6)


# ------------------------------------------------------------------ PH runs

def _mpi_ready() -> str | None:
    for m in ("mpi4py", "mpisppy"):
        if importlib.util.find_spec(m) is None:
            return f"{m} not installed (pip install '.[mpi]')"
    try:
        find_mpiexec()
    except Exception as exc:  # noqa: BLE001
        return str(exc)
    return None


needs_mpi = pytest.mark.skipif(_mpi_ready() is not None, reason=_mpi_ready() or "")


def _check_against_ef(inst, res, exact: bool):
    ef = solve_instance(inst, "optimise", None, OPTS)
    from optimiser.ph import first_stage_from_json

    assert _plan(first_stage_from_json(res["first_stage"])) == _plan(ef.first_stage())
    z = ef.run.objective
    assert res["inner_bound"] <= z + TOL * max(1, abs(z))
    assert res["outer_bound"] >= z - TOL * max(1, abs(z))
    assert res["evaluated_objective"] == pytest.approx(z, rel=1e-9)
    if exact:
        assert res["status"] == "optimal" and res["gap"] <= 1e-4


@needs_mpi
@pytest.mark.timeout(90)
def test_ph_two_ranks_hub_and_xhat_find_the_ef_plan(tmp_path):
    """2 ranks = PH hub + xhatshuffle spoke. The scenario plans disagree (low → partner, high → buy);
    PH finds the EF's (partner). The outer bound is the hub's wait-and-see bound: WS = 625 ≥ 600."""
    from optimiser.ph import run_ph

    folder = tmp_path / "deal"
    inst = load(tmp_path, deal_case(), name="deal")
    res = run_ph(folder, options=OPTS, spokes=["xhatshuffle"], ranks=2, timeout=75)
    assert res["ranks"] == 2 and res["cylinders"] == ["ph_hub", "xhatshuffle"]
    _check_against_ef(inst, res, exact=False)
    assert res["options_taken"] == ["partner"]
    assert res["outer_bound"] == pytest.approx(625)


@needs_mpi
@pytest.mark.timeout(90)
def test_ph_cli_three_ranks_with_lagrangian_closes_the_gap(tmp_path):
    """`optimiser solve-ph` (hub + xhatshuffle + lagrangian on 3 ranks) on a case with builds and tooling."""
    from typer.testing import CliRunner

    from optimiser.cli import app

    folder = tmp_path / "mini"
    inst = load(tmp_path, mini_case(), name="mini")
    r = CliRunner().invoke(app, ["solve-ph", str(folder), "--mip-gap", "0", "--json", "--no-report"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["ranks"] == 3 and sorted(res["cylinders"]) == ["lagrangian", "ph_hub", "xhatshuffle"]
    _check_against_ef(inst, res, exact=True)


@needs_mpi
@pytest.mark.timeout(90)
def test_ph_under_mpiexec_runs_in_place(tmp_path):
    """`mpiexec -n 3 python -m mpi4py -m optimiser solve-ph …`: every rank runs the CLI, rank 0 answers."""
    folder = tmp_path / "deal"
    inst = load(tmp_path, deal_case(), name="deal")
    cmd = [find_mpiexec(), "-n", "3", sys.executable, "-m", "mpi4py", "-m", "optimiser", "solve-ph", str(folder),
           "--mip-gap", "0", "--json", "--no-report"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=75, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr[-3000:]
    res = json.loads(p.stdout)  # only rank 0 prints, and mpi-sppy's chatter went to stderr
    _check_against_ef(inst, res, exact=True)


def test_ph_refuses_a_rank_count_that_does_not_fit(tmp_path):
    if _mpi_ready() is not None:
        pytest.skip(_mpi_ready())
    from optimiser.errors import InputError
    from optimiser.ph import run_ph

    load(tmp_path, deal_case(), name="deal")
    with pytest.raises(InputError, match="multiple of 3"):
        run_ph(Path(tmp_path / "deal"), ranks=4)
