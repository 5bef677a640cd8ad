"""The solver package's own types: options that check themselves and map onto HiGHS options,
string enums that read as the words they replace, and the row/column roles the model hands over."""

from __future__ import annotations

import json
from pathlib import Path

import highspy
import numpy as np
import pytest

from optimiser.errors import InputError
from optimiser.model import build_model, prepare
from optimiser.model.compile import column_programmes, column_sites, compile_model, compile_model_pyomo
from optimiser.solver.arrays import BUILD, CONTINUOUS, RUNNING, TAKE, TOOL, ColumnKey, Compiled, Roles
from optimiser.solver.options import SolveOptions
from optimiser.solver.outcome import STATUS_WORDS, Status, Termination, termination_of
from optimiser.validate import load_instance

INSTANCE = Path(__file__).resolve().parents[1] / "instances" / "foxconn-vinfast-2021"


@pytest.mark.parametrize("kwargs, phrase", [
    ({"local_search": "maybe"}, "--local-search 'maybe': use auto, on or off"),
    ({"linking_rows": "some"}, "--linking-rows 'some': use auto, all or needed"),
])
def test_solve_options_refuse_words_outside_their_literal(kwargs, phrase) -> None:
    with pytest.raises(InputError, match=phrase):
        SolveOptions(**kwargs)


def test_highs_settings_name_every_option_set_and_highs_options_win() -> None:
    """time_limit → time_limit, mip_gap → mip_rel_gap, threads → threads, seed → random_seed (as
    float / int), then --highs-option entries, which override (threads 1 over 2)."""
    opts = SolveOptions(time_limit=60, mip_gap=0.001, threads=2, seed=7,
                        highs_options={"presolve": "off", "threads": 1})
    got = opts.highs_settings()
    assert got == {"time_limit": 60.0, "mip_rel_gap": 0.001, "threads": 1, "random_seed": 7, "presolve": "off"}
    assert isinstance(got["time_limit"], float) and isinstance(got["random_seed"], int)
    assert SolveOptions().highs_settings() == {}


def test_from_flags_parses_highs_options_as_the_cli_gives_them() -> None:
    opts = SolveOptions.from_flags(30, 0.01, None, None, ["presolve=off", "mip_detect_symmetry=False",
                                                          "mip_feasibility_tolerance = 1e-7", "random_seed=3"],
                                   None, local_search="off", linking_rows="all")
    assert opts.highs_options == {"presolve": "off", "mip_detect_symmetry": False,
                                  "mip_feasibility_tolerance": 1e-7, "random_seed": 3}
    assert (opts.time_limit, opts.mip_gap, opts.local_search, opts.linking_rows) == (30, 0.01, "off", "all")
    with pytest.raises(InputError, match="--highs-option 'presolve': write it as NAME=VALUE"):
        SolveOptions.from_flags(highs_option=["presolve"])
    with pytest.raises(InputError, match="--local-search 'sometimes'"):
        SolveOptions.from_flags(local_search="sometimes")


def test_enums_read_print_and_serialise_as_their_words() -> None:
    assert Termination.TIME_LIMIT == "time_limit" and f"{Termination.TIME_LIMIT}" == "time_limit"
    assert str(Status.NO_SOLUTION) == "no_solution"
    assert json.dumps({"t": Termination.INFEASIBLE_OR_UNBOUNDED, "s": Status.FEASIBLE}) == \
        '{"t": "infeasible_or_unbounded", "s": "feasible"}'
    assert {Termination.OPTIMAL: 1}["optimal"] == 1  # hashes as the word
    assert Termination.INTERRUPTED.replace("_", " ") == "interrupted"


def test_every_highs_model_status_has_its_old_word() -> None:
    """The words the solver gave before the enums: the fixed map, else the name without its ``k``
    in lower case (kLoadError → loaderror); HiGHS's every model status gets one."""
    old = {"kOptimal": "optimal", "kInfeasible": "infeasible", "kUnboundedOrInfeasible": "infeasible_or_unbounded",
           "kUnbounded": "unbounded", "kTimeLimit": "time_limit", "kIterationLimit": "iteration_limit",
           "kSolutionLimit": "solution_limit", "kInterrupt": "interrupted", "kObjectiveBound": "objective_bound",
           "kObjectiveTarget": "objective_target", "kModelEmpty": "optimal", "kMemoryLimit": "memory_limit"}
    assert {k: str(v) for k, v in STATUS_WORDS.items()} == old
    for name in (m for m in dir(highspy.HighsModelStatus) if m.startswith("k")):
        assert termination_of(name) == old.get(name, name.removeprefix("k").lower())


@pytest.fixture(scope="module")
def compiled() -> Compiled:
    inst, _ = load_instance(INSTANCE)
    return compile_model(build_model(prepare(inst, "optimise", None)))


def test_roles_match_the_model_names_they_stand_for(compiled) -> None:
    """The masks the solver gets equal the name-based selections it made itself before (written
    out here from the model's names, independently of optimiser.model.compile)."""
    cm = compiled
    names = [r[0] for r in cm.rows]
    roles = cm.roles
    assert {"capacity", "ramp", "tool_link", "running_link", "ship_link"} <= set(names)  # the case exercises each
    assert (roles.linking == np.isin(names, ["running_link", "ship_link", "running_needs_tooling"])).all()
    assert (roles.implied_linking == np.isin(names, ["running_link", "ship_link"])).all()
    assert (roles.ranged == np.isin(names, ["capacity", "ramp"])).all()
    assert (roles.implied_upper == np.array([k.var == "make" for k in cm.columns])).all()
    kinds = {"take": TAKE, "build": BUILD, "tool": TOOL, "running": RUNNING}
    assert (roles.column_kind == np.array([kinds.get(k.var, CONTINUOUS) for k in cm.columns])).all()
    col_of = {(k.var, k.index): j for j, k in enumerate(cm.columns) if k.var == "tool"}
    for i, (name, idx, _) in enumerate(cm.rows):
        assert roles.tool_link_column[i] == (col_of[("tool", idx[:2])] if name == "tool_link" else -1)
    cap = {idx: i for i, (name, idx, _) in enumerate(cm.rows) if name == "capacity"}
    for i, (name, idx, _) in enumerate(cm.rows):
        want = cap.get(idx, -1) if name == "ramp" else -1
        assert roles.ramp_partner[i] == want
    assert (roles.ramp_partner >= 0).any() and (roles.tool_link_column >= 0).any()
    # column_site: the factory of a running/build/tool column's line, from the instance's lines
    # table (a line gated by a later option is copied per scenario as "line@scenario"); the case's
    # lines all make something
    inst, _ = load_instance(INSTANCE)
    factory = {ln.id: ln.factory for ln in inst.lines}
    number = {f: i for i, f in enumerate(sorted(set(factory.values())))}
    at = {"running": 0, "build": 0, "tool": 1}
    making = {k.index[1] for k in cm.columns if k.var == "make"}
    assert {k.index[at[k.var]] for k in cm.columns if k.var in at} <= making
    want = [number[factory[k.index[at[k.var]].split("@")[0]]] if k.var in at else -1 for k in cm.columns]
    assert roles.column_site.tolist() == want
    assert len(set(want) - {-1}) >= 2


def test_a_line_that_makes_nothing_has_no_site() -> None:
    """Sites number the factories of the lines with a make column (ids as text); a line without
    one (L2, at F1) and every other column get −1, so F1 has no number and F2 is 0."""
    columns = (ColumnKey("running", ("L1", 2030, "s")), ColumnKey("build", ("L2", 2030)),
               ColumnKey("make", ("p", "L1", 2030, "s")), ColumnKey("tool", ("p", "L1")), ColumnKey("take", ("o",)),
               ColumnKey("running", ("L3", 2030, "s")), ColumnKey("make", ("p", "L3", 2030, "s")))
    sites = column_sites(columns, {"L1": "F2", "L2": "F1", "L3": "F10"})
    assert sites.tolist() == [1, -1, -1, 1, -1, 0, -1]  # "F10" < "F2" as text
    assert column_sites(columns, None).tolist() == [-1] * 7


def test_programmes_competing_for_the_same_lines_are_numbered_next_to_each_other() -> None:
    """Programme numbers of tool columns follow (the sorted lines each can be tooled on, id): p2 and
    p3 share {L1} and come first, p1 ({L1, L2}) next, p0 ({L2}) last; other columns −1."""
    columns = (ColumnKey("tool", ("p1", "L2")), ColumnKey("tool", ("p2", "L1")), ColumnKey("make", ("p1", "L2", 1, "s")),
               ColumnKey("tool", ("p0", "L2")), ColumnKey("tool", ("p3", "L1")), ColumnKey("tool", ("p1", "L1")),
               ColumnKey("running", ("L1", 1, "s")))
    assert column_programmes(columns).tolist() == [2, 0, -1, 3, 1, 2, -1]
    assert column_programmes(()).tolist() == []


def test_both_compile_routes_give_the_same_roles(compiled) -> None:
    inst, _ = load_instance(INSTANCE)
    ref = compile_model_pyomo(build_model(prepare(inst, "optimise", None)))
    assert ref.rows == compiled.rows and ref.columns == compiled.columns
    for field in ("implied_upper", "column_kind", "linking", "implied_linking", "tool_link_column", "ranged",
                  "ramp_partner", "column_site", "column_programme"):
        assert (getattr(ref.roles, field) == getattr(compiled.roles, field)).all(), field


def test_a_compiled_model_without_roles_has_none() -> None:
    """Arrays built by hand (no model names): every mask empty, nothing lifted or left out."""
    import scipy.sparse as sp

    cm = Compiled(np.zeros(2), 0.0, sp.csc_matrix(np.ones((1, 2))), np.zeros(1), np.ones(1), np.zeros(2),
                  np.ones(2), np.zeros(2, dtype=np.int32), (), (), 0.0)
    assert isinstance(cm.roles, Roles)
    assert not cm.roles.linking.any() and not cm.roles.implied_upper.any() and (cm.roles.ramp_partner == -1).all()
    assert len(cm.roles.linking) == 1 and len(cm.roles.column_kind) == 2
    assert cm.roles.column_site.tolist() == [-1, -1]
    assert cm.roles.column_programme.tolist() == [-1, -1]
