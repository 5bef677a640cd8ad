"""The solver layer (optimiser.solver) through its public functions, on models solved by hand.

A 0/1 knapsack, maximised: values 10, 13, 7, 8; weights 3, 4, 2, 3; capacity 7.
  MIP optimum: items 1 and 2 (weight 7), value 23 — every other subset of weight ≤ 7 is worth less
  ({2,3} 20, {2,4} 21, {1,3} 17, {3,4} 15, {1,4} 18).
  LP relaxation (items in [0, 1]): by value per weight 7/2 > 10/3 > 13/4 > 8/3, take 3 and 1 whole
  (weight 5) and half of 2: 7 + 10 + 6.5 = 23.5; the capacity row's shadow price is 13/4 = 3.25.
  With "at least 5 items" added, there is no plan (4 items), and the IIS names those two rows.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyomo.environ as pyo
import pytest

from builders import hard_gap_tables, load
from optimiser.errors import InputError
from optimiser.model import build_model, prepare
from optimiser.model.compile import compile_model
from optimiser.solver.arrays import Compiled
from optimiser.solver.highs import highs_version
from optimiser.solver.iis import compute_iis
from optimiser.solver.options import SolveOptions
from optimiser.solver.outcome import SolverOutcome
from optimiser.solver.solve import solve_compiled, start_from_fixed

VALUES = {1: 10, 2: 13, 3: 7, 4: 8}
WEIGHTS = {1: 3, 2: 4, 3: 2, 4: 3}
IN_PROCESS = SolveOptions(mip_gap=0, isolate=False)


def knapsack(integer: bool = True, at_least: int | None = None) -> Compiled:
    m = pyo.ConcreteModel()
    m.I = pyo.Set(initialize=sorted(VALUES))
    m.pick = pyo.Var(m.I, domain=pyo.Binary if integer else pyo.UnitInterval)
    m.npv = pyo.Objective(expr=sum(VALUES[i] * m.pick[i] for i in m.I), sense=pyo.maximize)
    m.cap = pyo.Constraint(expr=sum(WEIGHTS[i] * m.pick[i] for i in m.I) <= 7)
    if at_least is not None:
        m.many = pyo.Constraint(expr=sum(m.pick[i] for i in m.I) >= at_least)
    return compile_model(m)


def dense(cm: Compiled) -> np.ndarray:
    """The constraint matrix as a dense array, read from its CSC arrays (independent of the solver)."""
    a = cm.a_csc
    out = np.zeros(a.shape)
    for j in range(a.shape[1]):
        lo, hi = a.indptr[j], a.indptr[j + 1]
        out[a.indices[lo:hi], j] = a.data[lo:hi]
    return out


def picked(cm: Compiled, out: SolverOutcome) -> dict[int, float]:
    assert out.x is not None
    return {k.index[0]: round(float(v), 9) for k, v in zip(cm.columns, out.x) if k.var == "pick"}


def test_compiled_model_maps_columns_and_rows() -> None:
    cm = knapsack()
    assert [(k.var, k.index) for k in cm.columns] == [("pick", (i,)) for i in (1, 2, 3, 4)]
    assert [name for name, _, _ in cm.rows] == ["cap"]
    assert cm.integrality.tolist() == [1, 1, 1, 1]
    assert cm.row_upper.tolist() == [7.0] and cm.row_lower.tolist() == [-math.inf]
    assert (-cm.sense_min_cost).tolist() == [10.0, 13.0, 7.0, 8.0]  # HiGHS minimises −NPV
    assert dense(cm).tolist() == [[3.0, 4.0, 2.0, 3.0]]


def test_optimal_mip() -> None:
    cm = knapsack()
    out = solve_compiled(cm, IN_PROCESS)
    assert (out.status, out.termination) == ("optimal", "optimal")
    assert out.has_solution and out.objective == pytest.approx(23.0)
    assert out.best_bound == pytest.approx(23.0) and out.gap == pytest.approx(0.0, abs=1e-9)
    assert picked(cm, out) == {1: 1.0, 2: 1.0, 3: 0.0, 4: 0.0}
    assert (out.n_variables, out.n_binaries, out.n_constraints, out.n_nonzeros) == (4, 4, 1, 4)
    assert out.highs_version == highs_version() and out.highs_version.count(".") == 2
    assert not out.interrupted and not out.stopped_by_watchdog


def test_optimal_mip_in_a_child_process_is_the_same() -> None:
    cm = knapsack()
    out = solve_compiled(cm, SolveOptions(mip_gap=0))  # isolate=True: the MIP runs in a child (if allowed)
    assert out.status == "optimal" and out.objective == pytest.approx(23.0)
    assert picked(cm, out) == {1: 1.0, 2: 1.0, 3: 0.0, 4: 0.0}


def test_optimal_lp_with_its_shadow_price() -> None:
    cm = knapsack(integer=False)
    out = solve_compiled(cm, IN_PROCESS)
    assert (out.status, out.termination) == ("optimal", "optimal")
    assert out.objective == pytest.approx(23.5)
    assert out.best_bound == pytest.approx(23.5) and out.gap == 0.0  # an LP's bound is its optimum
    assert picked(cm, out) == {1: 1.0, 2: 0.5, 3: 1.0, 4: 0.0}
    assert out.row_duals is not None and out.row_duals.tolist() == pytest.approx([3.25])  # NPV per unit of capacity


def test_no_duals_when_not_asked() -> None:
    out = solve_compiled(knapsack(integer=False), SolveOptions(isolate=False, duals=False))
    assert out.objective == pytest.approx(23.5) and out.row_duals is None and out.row_ranges is None


@pytest.mark.parametrize("integer", [True, False])
def test_infeasible(integer: bool) -> None:
    out = solve_compiled(knapsack(integer=integer, at_least=5), IN_PROCESS)
    assert out.status == "infeasible" and out.termination == "infeasible"
    assert not out.has_solution and out.objective is None and out.best_bound is None and out.gap is None


def test_iis_names_the_conflicting_rows() -> None:
    iis = compute_iis(knapsack(at_least=5))
    assert iis.status == "found" and iis.relaxation  # integer columns: the LP relaxation's IIS
    assert {m.key[0] for m in iis.rows} == {"many"}  # Σ pick ≥ 5 against the bounds pick ≤ 1
    assert {m.key.index for m in iis.columns} == {(1,), (2,), (3,), (4,)}
    assert compute_iis(knapsack()).status == "feasible"


def test_start_from_a_fixed_plan() -> None:
    cm = knapsack()
    x, npv = start_from_fixed(cm, IN_PROCESS, {("pick", (1,)): 1.0, ("pick", (3,)): 1.0}, ("pick",))
    assert npv == pytest.approx(17.0) and x is not None and x.tolist() == [1.0, 0.0, 1.0, 0.0]
    out = solve_compiled(cm, IN_PROCESS, start=x)  # a start never changes the optimum
    assert out.objective == pytest.approx(23.0)
    too_heavy = {("pick", (i,)): 1.0 for i in (1, 2, 3)}  # weight 9 > 7
    assert start_from_fixed(cm, IN_PROCESS, too_heavy, ("pick",)) == (None, None)


def test_time_limit_keeps_the_plan_found(tmp_path: Path) -> None:
    """A generalized assignment problem HiGHS cannot close in 2 s: the outcome is the incumbent,
    marked feasible (not optimal), with a bound above it (NPV is maximised) and a positive gap."""
    inst = load(tmp_path, hard_gap_tables())
    cm = compile_model(build_model(prepare(inst, "optimise", None)))
    out = solve_compiled(cm, SolveOptions(time_limit=2, mip_gap=0, local_search="on", duals=False))
    assert (out.status, out.termination) == ("feasible", "time_limit")
    assert out.has_solution and out.objective is not None and out.best_bound is not None
    assert out.best_bound > out.objective and out.gap is not None and out.gap > 0
    # the plan is a plan: every row holds at the returned x
    activity = dense(cm) @ out.x
    assert np.all(activity <= cm.row_upper + 1e-6) and np.all(activity >= cm.row_lower - 1e-6)
    assert -(cm.sense_min_cost @ out.x + cm.offset) == pytest.approx(out.objective)


# ------------------------------------------------------------------ options

def test_valid_options_are_accepted() -> None:
    opts = SolveOptions(time_limit=60, mip_gap=0.001, threads=1, seed=0, highs_options={"presolve": "off"},
                        write_model=Path("m.mps"), local_search="off", linking_rows="needed")
    assert opts.time_limit == 60 and opts.highs_options == {"presolve": "off"}
    out = solve_compiled(knapsack(), SolveOptions(isolate=False, highs_options={"presolve": "off"}))
    assert out.objective == pytest.approx(23.0)


@pytest.mark.parametrize("kwargs, words", [
    ({"time_limit": 0}, "--time-limit 0"),
    ({"time_limit": -5}, "--time-limit -5"),
    ({"time_limit": math.inf}, "--time-limit inf"),
    ({"time_limit": math.nan}, "--time-limit nan"),
    ({"time_limit": "60"}, "--time-limit '60'"),
    ({"mip_gap": 1}, "--mip-gap 1"),
    ({"mip_gap": -0.01}, "--mip-gap -0.01"),
    ({"threads": 0}, "--threads 0"),
    ({"threads": True}, "--threads True"),
    ({"seed": -1}, "--seed -1"),
    ({"seed": 2**31}, "--seed 2147483648"),
    ({"local_search": "maybe"}, "--local-search 'maybe': use auto, on or off"),
    ({"linking_rows": "some"}, "--linking-rows 'some': use auto, all or needed"),
    ({"write_model": Path("model.txt")}, "use a .mps or .lp suffix"),
    ({"highs_options": {"log_file": "h.log"}}, "read or write files are not allowed"),
    ({"highs_options": {"output_flag": True}}, "it prints to stdout"),
    ({"highs_options": {"mip_rel_gap": math.nan}}, "--highs-option mip_rel_gap=nan"),
    ({"highs_options": {"no_such_option": 1}}, "does not accept the option(s) no_such_option=1"),
    ({"highs_options": {"presolve": 3}}, "does not accept the option(s) presolve=3"),
])
def test_bad_options_are_refused_in_one_line(kwargs: dict, words: str) -> None:
    with pytest.raises(InputError) as caught:
        SolveOptions(**kwargs)
    message = str(caught.value)
    assert words in message and "\n" not in message
