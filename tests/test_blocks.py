"""The fixed-integer LP solved block by block (optimiser.solver.blocks): the blocks partition the
model exactly, and their optima together are the whole LP's optimum — cold, warm or cached — and
open-then-close's closing rounds (one column per broken row, halving for a row broken long)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from builders import load
from strategies import instances

from optimiser.generate import generate_tables
from optimiser.model.build import build_model
from optimiser.model.compile import compile_model
from optimiser.model.sets import prepare
from optimiser.solver import blocks as blocks_module, construct, open_close
from optimiser.solver.arrays import BUILD, TAKE, csr, model_arrays, satisfies
from optimiser.solver.blocks import Blocks, FixedIntegerLP
from optimiser.solver.highs import new_highs, pass_arrays


@pytest.fixture(autouse=True)
def _every_component_a_block(monkeypatch) -> None:
    """No merging of small components (the generated small case is one block of ≥ 2,000 columns
    otherwise): every test sees as many blocks as the model has parts."""
    monkeypatch.setattr(blocks_module, "MIN_BLOCK_COLUMNS", 1)


def _generated(seed: int):
    from optimiser.validate import load_instance  # noqa: PLC0415
    from optimiser.writers import dict_tables, write_tables  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as d:
        write_tables(dict_tables(generate_tables(12, 16, 5, 4, 3, seed=seed)), Path(d) / "g")
        inst, _ = load_instance(Path(d) / "g")
    cm = compile_model(build_model(prepare(inst, "optimise", None)))
    return cm, model_arrays(cm)


def _whole(arrays, ints: np.ndarray, y: np.ndarray) -> float | None:
    """The fixed-integer LP's optimum solved by HiGHS as one LP (None if it has none)."""
    lo, hi = arrays.col_lower.copy(), arrays.col_upper.copy()
    lo[ints] = hi[ints] = y
    h = new_highs()
    pass_arrays(h, arrays._replace(col_lower=lo, col_upper=hi, integrality=np.zeros_like(arrays.integrality)))
    h.run()
    return float(h.getInfo().objective_function_value) if h.getModelStatus().name == "kOptimal" else None


def _plans(cm, arrays, ints: np.ndarray) -> list[np.ndarray]:
    """Integer values to try: everything at its lower bound, every existing line open (options
    and builds held), and the constructed plan."""
    kinds = np.asarray(cm.roles.column_kind)[ints]
    lower = np.clip(0.0, arrays.col_lower[ints], arrays.col_upper[ints])
    upper = np.floor(arrays.col_upper[ints] + 1e-6)
    plan = construct.construct(arrays, cm.roles.column_kind, np.zeros(len(arrays.row_lower), dtype=bool), new_highs)
    assert plan is not None
    return [lower, np.where((kinds == TAKE) | (kinds == BUILD), lower, upper), np.round(plan.x[ints])]


@pytest.mark.parametrize("seed", [1, 2])
def test_the_blocks_partition_the_model_and_share_no_row(seed: int) -> None:
    cm, arrays = _generated(seed)
    ints = np.flatnonzero(arrays.integrality)
    blocks = Blocks(arrays, ints)
    assert len(blocks) > 1  # years and scenarios fall apart once the binaries are fixed
    cont = np.flatnonzero(arrays.integrality == 0)
    cols = np.concatenate([c for _, c, *_ in blocks.parts])
    rows = np.concatenate([r for r, *_ in blocks.parts])
    assert np.array_equal(np.sort(cols), cont)  # every continuous column in exactly one block
    a = csr(arrays)
    with_cont = np.flatnonzero(np.diff(a[:, cont].tocsr().indptr) > 0)
    assert np.array_equal(np.sort(rows), with_cont)  # every row holding one, in exactly one block
    assert np.array_equal(blocks.integer_rows, np.setdiff1d(np.arange(a.shape[0]), with_cont))
    row_block = np.full(a.shape[0], -1)
    col_block = np.full(a.shape[1], -1)
    for k, (r, c, *_) in enumerate(blocks.parts):
        row_block[r], col_block[c] = k, k
    coo = sp.coo_matrix(a)
    cont_entry = (col_block[coo.col] >= 0) & (coo.data != 0)
    assert np.array_equal(row_block[coo.row[cont_entry]], col_block[coo.col[cont_entry]])  # no entry joins two


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_blocks_optima_together_are_the_whole_lps_optimum(seed: int) -> None:
    """Cold, warm and cached, for plans infeasible and feasible: the same optimum as HiGHS on the
    whole LP (to 1e-9 relative), every row met, integer columns at the plan."""
    cm, arrays = _generated(seed)
    ints = np.flatnonzero(arrays.integrality)
    blocks = Blocks(arrays, ints)
    cold = FixedIntegerLP(arrays, blocks, new_highs)
    warm = FixedIntegerLP(arrays, blocks, new_highs, warm=True)
    plans = _plans(cm, arrays, ints)
    feasible = 0
    for y in plans + plans[::-1]:
        want = _whole(arrays, ints, y)
        for lp in (cold, warm):
            got = lp.solve(y)
            assert (got is None) == (want is None)
            if got is not None:
                x = got[0]
                assert float(arrays.cost @ x) + arrays.offset == pytest.approx(want, rel=1e-9, abs=1e-6)
                assert np.array_equal(x[ints], y) and satisfies(arrays, x, 1e-6)
                feasible += 1
    assert feasible >= 4  # the constructed plan at least (all open breaks Σ tool ≤ max_lines), cold and warm, twice


def test_a_plan_met_before_costs_no_solve_and_a_change_solves_only_its_blocks() -> None:
    cm, arrays = _generated(1)
    ints = np.flatnonzero(arrays.integrality)
    blocks = Blocks(arrays, ints)
    lp = FixedIntegerLP(arrays, blocks, new_highs, warm=True, check_integer_rows=False)  # as the guiding LP
    _, all_open, plan = _plans(cm, arrays, ints)
    assert lp.solve(all_open) is not None
    assert lp.block_solves == len(blocks)
    assert lp.solve(plan) is not None
    changed = np.flatnonzero(plan != all_open)
    touched = sum(bool(np.intersect1d(int_pos, changed).size) for _, _, _, int_pos, _ in blocks.parts)
    assert 0 < touched and lp.block_solves == len(blocks) + touched
    lp.solve(all_open)
    assert lp.block_solves == len(blocks) + touched  # both plans cached


def test_elastic_rows_take_exactly_the_shortfall() -> None:
    """Nothing open: the must rows (positive lower bounds) cannot be met by production, so the
    slack makes the block LPs feasible; each must row's activity plus its slack meets its lower
    bound, and no slack is bought where the row is met without it."""
    cm, arrays = _generated(1)
    ints = np.flatnonzero(arrays.integrality)
    blocks = Blocks(arrays, ints)
    lower = np.clip(0.0, arrays.col_lower[ints], arrays.col_upper[ints])
    only_int = np.zeros(len(arrays.row_lower), dtype=bool)
    only_int[blocks.integer_rows] = True
    must = np.flatnonzero(np.isfinite(arrays.row_lower) & (arrays.row_lower > 0) & ~only_int)
    assert len(must)
    lp = FixedIntegerLP(arrays, blocks, new_highs, elastic=must, penalty=1e6 * float(np.abs(arrays.cost).max()),
                        check_integer_rows=False)
    got = lp.solve(lower)
    assert got is not None
    x, slack = got
    act = csr(arrays)[must] @ x
    assert np.all(slack >= -1e-9) and slack.sum() > 0
    assert np.all(act + slack >= arrays.row_lower[must] - 1e-6)
    short = np.maximum(arrays.row_lower[must] - act, 0.0)
    assert slack == pytest.approx(short, abs=1e-6)


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.integers(0, 2**32 - 1))
def test_on_random_instances_and_plans_the_blocks_give_the_whole_lps_answer(tables, seed) -> None:
    """Random instances (test_properties' strategy), random integer values within their bounds
    (mostly infeasible, some not): block by block — cold and warm, with and without the rows over
    integer columns only — says infeasible exactly when HiGHS on the whole LP does, and otherwise
    has its optimum."""
    with tempfile.TemporaryDirectory() as d:
        inst = load(Path(d), tables)
    cm = compile_model(build_model(prepare(inst, "optimise", None)))
    arrays = model_arrays(cm)
    ints = np.flatnonzero(arrays.integrality)
    if not len(ints):
        return
    blocks = Blocks(arrays, ints)
    rng = np.random.default_rng(seed)
    lo = np.ceil(arrays.col_lower[ints] - 1e-9)
    hi = np.floor(np.minimum(arrays.col_upper[ints], lo + 1) + 1e-9)
    loose = arrays._replace(row_lower=arrays.row_lower.copy(), row_upper=arrays.row_upper.copy())
    loose.row_lower[blocks.integer_rows] = -np.inf
    loose.row_upper[blocks.integer_rows] = np.inf
    lps = {(check, warm): FixedIntegerLP(arrays, blocks, new_highs, check_integer_rows=check, warm=warm)
           for check in (True, False) for warm in (False, True)}
    for _ in range(4):
        y = lo + (rng.random(len(ints)) < 0.6) * (hi - lo)
        for (check, _), lp in lps.items():
            want = _whole(arrays if check else loose, ints, y)
            got = lp.solve(y)
            assert (got is None) == (want is None)
            if got is not None:
                assert float(arrays.cost @ got[0]) + arrays.offset == pytest.approx(want, rel=1e-9, abs=1e-6)


def test_a_row_broken_long_is_halved_and_others_close_one_column() -> None:
    """Σ y ≤ 40 over 140 open columns: one round closes the least used (column 0); once the row
    is marked for halving, the 50 least used (excess 100 → 50)."""
    a_int = sp.csr_matrix(np.ones((1, 140)))
    y, use = np.ones(140), np.arange(140, dtype=float)
    args = (a_int, np.array([0]), y, use, np.zeros(140), np.zeros(140, dtype=bool), np.array([-np.inf]),
            np.array([40.0]))
    assert open_close._batch(*args, np.array([False])).tolist() == [0]
    assert open_close._batch(*args, np.array([True])).tolist() == list(range(50))


def test_a_failed_batch_is_split_in_halves_when_no_culprit_is_told_apart() -> None:
    todo = np.arange(7)
    parts = open_close._split(todo, None, None, np.zeros(7, dtype=bool))
    assert [p.tolist() for p in parts] == [[0, 1, 2], [3, 4, 5, 6]]
