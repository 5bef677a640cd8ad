"""Work on the second core (optimiser.solver.beside): the value comes back, an error is raised
where the result is read, and two HiGHS solves proceed side by side."""

from __future__ import annotations

import time

import numpy as np
import pytest

from optimiser.solver.arrays import ModelArrays
from optimiser.solver.beside import Beside
from optimiser.solver.highs import new_highs, pass_arrays


def test_the_value_comes_back() -> None:
    job = Beside(lambda: 6 * 7)
    assert job.result() == 42 and job.done()


def test_an_error_is_raised_where_the_result_is_read() -> None:
    job = Beside(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        job.result()


def _dense_lp(n: int) -> ModelArrays:
    rng = np.random.default_rng(1)
    dense = rng.uniform(1, 10, size=(n, n))
    return ModelArrays(-rng.uniform(1, 10, n), 0.0, np.arange(0, n * n + 1, n, dtype=np.int32),
                       np.tile(np.arange(n, dtype=np.int32), n), dense.T.ravel(), np.full(n, -np.inf),
                       np.full(n, 100.0), np.zeros(n), np.full(n, np.inf), np.zeros(n, dtype=np.int8))


def _solve(arrays: ModelArrays) -> float:
    h = new_highs()
    h.setOptionValue("threads", 1)
    pass_arrays(h, arrays)
    h.run()
    return float(h.getInfo().objective_function_value)


def test_python_keeps_running_while_highs_solves_beside() -> None:
    """HiGHS releases Python's lock: while an LP is solved beside, the main thread's Python loop
    never stalls for long (with the lock held it would stall for the whole solve)."""
    arrays = _dense_lp(600)
    t = time.perf_counter()
    alone = _solve(arrays)
    seconds = time.perf_counter() - t
    assert seconds > 0.1  # long enough to see a stall
    job = Beside(lambda: _solve(arrays))
    last = time.perf_counter()
    stall = 0.0
    while not job.done():
        now = time.perf_counter()
        stall, last = max(stall, now - last), now
    assert job.result() == pytest.approx(alone)
    assert stall < 0.25 * seconds
