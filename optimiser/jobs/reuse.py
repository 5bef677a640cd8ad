"""One compiled model for every job that shares its structure (a comparison's or a sweep's jobs re-use work).

The jobs of a comparison or a sweep differ less than their models suggest. On one instance and
one scenario selection (one scenario, or the extensive form, with or without a CVaR term):

* strategies only change the bounds of ``take[o]`` (``model/variables.py``: never ``fix()``);
* evaluating a first-stage plan only pins ``take``/``build``/``tool`` through their bounds — but
  ``prepare(…, fixed=plan)`` also adds the tool columns the plan tooled where the scenario makes
  nothing, so a plan fits the scenario's model only when every pair it tooled is already a column.

A :class:`SharedModel` prepares, builds and compiles the model once (strategy ``optimise``, no plan)
and hands it to one :class:`~optimiser.solver.session.Session`; each job then sets every column's bounds as
its own fresh build would have them (:meth:`SharedModel.bounds`) and solves. The matrix, costs and
row bounds are those of a fresh build, and so are the column bounds (``tests/test_reuse.py`` checks
both), so the answers are the same; :func:`optimiser.engine.finish_solve` turns the outcome into
:class:`~optimiser.results.Results` with the job's own :class:`~optimiser.model.sets.ModelData`
(its strategy's fixings and plan), exactly as :func:`~optimiser.engine.solve_instance` does.
A plan that does not fit is solved by a fresh build instead (the caller's choice, see
:meth:`SharedModel.fits`).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np

from ..data import Instance
from ..engine import finish_solve
from ..errors import InputError
from ..model import build_model, prepare
from ..model.sets import FirstStage, ModelData, Risk
from ..results import Results
from ..schema import OPTIMISE
from ..model.compile import compile_model
from ..solver.options import SolveOptions
from ..solver.session import Session


class SharedModel:
    """The model of ``instance`` for one scenario selection (and risk term), compiled once and kept
    in one HiGHS session; :meth:`solve` solves it for a strategy (and optionally a fixed plan)."""

    def __init__(self, instance: Instance, scenario: str | None, risk: Risk | None, options: SolveOptions,
                 warm_start: bool = False, reuse_answers: bool = True) -> None:
        t0 = time.perf_counter()
        self.instance = instance
        self.scenario = scenario
        self.options = options
        self.md = prepare(instance, OPTIMISE, scenario, risk=risk)
        self.compiled = compile_model(build_model(self.md))
        self.session = Session(self.compiled, options, reuse_answers=reuse_answers, warm_start=warm_start)
        self._pending_build = time.perf_counter() - t0
        self.build_seconds = self._pending_build
        cols: dict[str, dict[tuple, int]] = {"take": {}, "build": {}, "tool": {}, "takeyear": {}}
        for j, key in enumerate(self.compiled.columns):
            if key.var in cols:
                cols[key.var][key.index] = j
        self._cols = cols
        self._tools = frozenset(self.md.tool_index)

    # -------------------------------------------------------------- what a job is
    def fits(self, fixed: FirstStage | None) -> bool:
        """Can this model evaluate ``fixed``? Only if every routable pair it tooled is a column here
        (a fresh ``prepare(…, fixed=…)`` would add the others)."""
        if fixed is None:
            return True
        routings = self.instance.routings
        return all(pl in self._tools for pl, v in fixed.tool.items() if v > 0.5 and pl in routings)

    def job_data(self, strategy: str, fixed: FirstStage | None = None) -> ModelData:
        """The ModelData a fresh ``prepare(instance, strategy, scenario, fixed=fixed, risk=risk)`` gives
        (same sets; only the strategy's fixings and the plan differ from the shared one)."""
        inst = self.instance
        if strategy != OPTIMISE and strategy not in inst.strategies:
            raise InputError(f"unknown strategy {strategy!r}; this instance has: {', '.join(inst.strategy_names)}")
        if not self.fits(fixed):
            raise ValueError("the plan tooled pairs this model has no column for: build it afresh")
        option_fix = dict(inst.strategies.get(strategy, {})) if strategy != OPTIMISE else {}
        return replace(self.md, strategy=strategy, option_fix=option_fix, fixed=fixed)

    def bounds(self, md: ModelData) -> tuple[np.ndarray, np.ndarray]:
        """Column bounds of ``md``'s fresh build (``model/variables.py``): a strategy fixes ``take[o]``
        to 1 (take) or 0 (forbid); a plan pins every ``take``, ``build`` and ``tool`` column to its
        value (1 if > 0.5, else 0; absent keys 0)."""
        lo = np.array(self.compiled.col_lower, dtype=float)
        hi = np.array(self.compiled.col_upper, dtype=float)
        take = self._cols["take"]
        for o, fix in md.option_fix.items():
            j = take.get((o,))
            if j is not None:
                lo[j] = hi[j] = 1.0 if fix else 0.0
        for (o, _, _), j in self._cols["takeyear"].items():  # a later option forbidden: never taken
            if md.option_fix.get(o) is False:
                hi[j] = 0.0
        plan = md.fixed
        if plan is not None:
            copy, later = md.line_copy, md.later
            for var, values in (("take", {(k,): v for k, v in plan.take.items()}), ("build", plan.build),
                                ("tool", plan.tool)):
                for key, j in self._cols[var].items():
                    if (var == "take" and key[0] in later) or (var == "build" and key[0] in copy) \
                            or (var == "tool" and key[1] in copy):
                        continue  # decided per scenario (model/variables.py)
                    lo[j] = hi[j] = 1.0 if values.get(key, 0.0) > 0.5 else 0.0
        return lo, hi

    # -------------------------------------------------------------- solving
    def solve(self, strategy: str, fixed: FirstStage | None = None) -> Results:
        """Solve for ``strategy`` (and plan ``fixed``): Results as :func:`~optimiser.engine.solve_instance`
        gives them; raises InfeasibleError / NoSolutionError alike. The first job carries the build time."""
        return self.solve_outcome(strategy, fixed)[0]

    def solve_outcome(self, strategy: str, fixed: FirstStage | None = None) -> tuple[Results, Any]:
        """:meth:`solve` and the solver outcome behind it (its column values ``x``, for callers that
        compare plans column by column, e.g. :mod:`optimiser.sensitivity`)."""
        md = self.job_data(strategy, fixed)
        lo, hi = self.bounds(md)
        self.session.set_bounds(lo, hi)
        out = self.session.solve()
        build, self._pending_build = self._pending_build, 0.0
        return finish_solve(self.instance, md, out, self.options, strategy, self.scenario, build), out

    @property
    def last(self) -> str:
        """How the last solve was answered: ``solved``, ``warm`` or ``dominated`` (see Session)."""
        return self.session.last

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "SharedModel":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
