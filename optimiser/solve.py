"""Hand a built model to HiGHS and bring back a typed outcome.

The only module that touches HiGHS. Route: Pyomo's standard-form compiler turns
the model into matrices (``mixed_form``: rows keep their sense), which go to
``highspy`` in one ``passModel`` call. Measured faster than the persistent
interfaces (see docs/solver-route.md). Capacity shadow prices come from the LP
with every integer column fixed at the incumbent (integrality relaxed, bounds
pinned) — ``fix()`` alone would leave a MIP without duals.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .errors import InputError

INF = math.inf

#: Known solver options the CLI exposes; anything else goes through ``highs_options``.
_STATUS_WORDS = {
    "kOptimal": "optimal",
    "kInfeasible": "infeasible",
    "kUnboundedOrInfeasible": "infeasible_or_unbounded",
    "kUnbounded": "unbounded",
    "kTimeLimit": "time_limit",
    "kIterationLimit": "iteration_limit",
    "kSolutionLimit": "solution_limit",
    "kInterrupt": "interrupted",
    "kObjectiveBound": "objective_bound",
    "kObjectiveTarget": "objective_target",
    "kModelEmpty": "optimal",
    "kMemoryLimit": "memory_limit",
}


@dataclass(frozen=True)
class SolveOptions:
    """What the planner may set; every HiGHS option name is checked before the run."""

    time_limit: float | None = None
    mip_gap: float | None = None
    threads: int | None = None
    seed: int | None = None
    highs_options: dict[str, Any] = field(default_factory=dict)
    write_model: Path | None = None
    duals: bool = True
    log: bool = False
    #: Run a MIP in a child process that can be stopped at the deadline (optimiser.isolation).
    isolate: bool = True
    #: Look for a start plan before HiGHS's MIP (optimiser.local_search): auto | on | off.
    #: ``auto``: on MIPs of LOCAL_SEARCH_MIN_ROWS rows or more. Only where the MIP runs isolated.
    local_search: str = "auto"
    #: Which linking rows HiGHS's MIP gets (optimiser.row_generation): auto | all | needed.
    #: ``needed``: only those its LP relaxation needs (same optimum, a much smaller LP);
    #: ``auto``: so on the facility-location shape (see mip_process). Only where isolated.
    linking_rows: str = "auto"

    def __post_init__(self) -> None:
        """Refuse what HiGHS would misread or spend minutes on (InputError, one line each):
        time limit a finite number of seconds > 0; gap in [0, 1); 1 ≤ threads ≤ :func:`max_threads`;
        0 ≤ seed ≤ 2^31 − 1; HiGHS options that read or write files (:data:`FILE_OPTIONS`; the
        project's ``--write-model`` and ``--log`` do that through its own output rules); then
        every HiGHS option's name and value (:func:`check_highs_options`)."""
        if self.time_limit is not None and not (_is_number(self.time_limit) and 0 < self.time_limit < INF):
            raise InputError(f"--time-limit {self.time_limit!r}: give a number of seconds > 0 (e.g. 60)")
        if self.mip_gap is not None and not (_is_number(self.mip_gap) and 0 <= self.mip_gap < 1):
            raise InputError(f"--mip-gap {self.mip_gap!r}: give a fraction in [0, 1), e.g. 0.001 for 0.1 %")
        if self.threads is not None:
            _check_threads(self.threads, "--threads")
        if self.seed is not None and not (isinstance(self.seed, int) and 0 <= self.seed <= 2**31 - 1):
            raise InputError(f"--seed {self.seed!r}: give a whole number from 0 to 2147483647")
        if self.local_search not in ("auto", "on", "off"):
            raise InputError(f"--local-search {self.local_search!r}: use auto, on or off")
        if self.linking_rows not in ("auto", "all", "needed"):
            raise InputError(f"--linking-rows {self.linking_rows!r}: use auto, all or needed")
        if self.write_model is not None and Path(self.write_model).suffix.lower() not in (".mps", ".lp"):
            raise InputError(f"--write-model {_short(self.write_model)}: use a .mps or .lp suffix")
        for name, value in self.highs_options.items():
            refuse_file_option(name)
            if isinstance(value, float) and math.isnan(value):
                raise InputError(f"--highs-option {name}=nan: give a number")
            if name == "threads":
                _check_threads(value, "--highs-option threads")
        if self.highs_options:
            check_highs_options(dict(self.highs_options))


#: HiGHS options that read or write a file, or switch such writing on (HiGHS 1.16's list; any
#: other option whose name says "file", starts with write_ or read_ is refused the same way).
FILE_OPTIONS = frozenset({
    "log_file", "solution_file", "write_solution_to_file", "write_solution_style", "read_solution_file",
    "read_basis_file", "write_basis_file", "write_model_file", "write_model_to_file",
    "write_presolved_model_file", "write_presolved_model_to_file", "write_iis_model_file",
    "mip_improving_solution_file", "glpsol_cost_row_location",
})
#: HiGHS options that put its log on stdout (where --json goes).
CONSOLE_OPTIONS = frozenset({"output_flag", "log_to_console"})


def refuse_file_option(name: str) -> None:
    """A HiGHS option that would read or write files, or print to stdout, is refused with the
    project's own flag to use instead: files written by HiGHS would not pass the project's output
    rules (never an input, atomic, regular files only)."""
    low = str(name).strip().lower()
    if low in CONSOLE_OPTIONS:
        raise InputError(f"--highs-option {name}: not allowed (it prints to stdout); use --log for the "
                         "HiGHS log on stderr")
    if low in FILE_OPTIONS or "file" in low or low.startswith(("write_", "read_")):
        raise InputError(f"--highs-option {name}: HiGHS options that read or write files are not allowed; "
                         "use --write-model PATH (.mps/.lp) for the model, --log for the HiGHS log (stderr), "
                         "--out for the report")


def max_threads() -> int:
    """Most HiGHS threads allowed: 4 per CPU, at least 16 (more only queue on the same cores)."""
    import os  # noqa: PLC0415

    return max(16, 4 * (os.cpu_count() or 1))


def _check_threads(value: Any, flag: str) -> None:
    if not (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= max_threads()):
        import os  # noqa: PLC0415

        raise InputError(f"{flag} {value!r}: give a whole number from 1 to {max_threads()} "
                         f"(this machine has {os.cpu_count() or 1} CPU(s))")


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and not math.isnan(x)


def _short(path: Any) -> str:
    from .writers import shown  # noqa: PLC0415

    return shown(path)


class ColumnKey(NamedTuple):
    """Which variable a column is: component name and index tuple."""

    var: str
    index: tuple


@dataclass(frozen=True)
class SolverOutcome:
    """What HiGHS said, in the model's own sense (objective = NPV, maximised)."""

    termination: str
    status: str  # optimal | feasible | infeasible | unbounded | no_solution
    objective: float | None
    best_bound: float | None
    gap: float | None
    root_bound: float | None
    x: np.ndarray | None
    row_duals: np.ndarray | None
    columns: tuple[ColumnKey, ...]
    rows: tuple[tuple[str, tuple, int], ...]
    handoff_seconds: float
    solve_seconds: float
    duals_seconds: float
    n_variables: int
    n_binaries: int
    n_constraints: int
    n_nonzeros: int
    highs_version: str
    interrupted: bool = False
    mip_nodes: int = 0
    #: HiGHS overran its time limit and its process was stopped (the plan is its last incumbent).
    stopped_by_watchdog: bool = False
    #: The start plan handed to HiGHS (optimiser.local_search): npv, seconds, lp_solves, moves, kicks.
    start_plan: dict[str, Any] | None = None
    #: The linking rows HiGHS's MIP got (optimiser.row_generation): optional, used, rounds,
    #: converged, lp_bound, seconds; None when it got them all.
    linking_rows: dict[str, Any] | None = None
    #: Right-hand-side ranging of the duals LP (HiGHS ``getRanging``), one row per model row:
    #: the row's upper bound may move within [col 0, col 1] with every row dual unchanged
    #: (NaN for rows not ranged: see :data:`RANGED_ROWS`); None when there are no duals.
    row_ranges: np.ndarray | None = None

    @property
    def has_solution(self) -> bool:
        return self.x is not None


def highs_version() -> str:
    h = _new_highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


_BANNER_SHOWN = False


def _new_highs() -> Any:
    """A silent Highs object (HiGHS prints a banner on stdout at its first creation: keep it off)."""
    global _BANNER_SHOWN
    import highspy  # noqa: PLC0415

    if _BANNER_SHOWN:
        h = highspy.Highs()
    else:
        import os  # noqa: PLC0415
        import sys  # noqa: PLC0415

        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
        _BANNER_SHOWN = True
    h.setOptionValue("output_flag", False)
    return h


def check_highs_options(options: dict[str, Any]) -> None:
    """Refuse misspelt or ill-typed HiGHS options (HiGHS itself would ignore them)."""
    h = _new_highs()
    bad = []
    for name, value in options.items():
        status = h.setOptionValue(name, value)
        if status.name != "kOk":
            bad.append(f"{name}={value!r}")
    if bad:
        raise InputError(f"HiGHS does not accept the option(s) {', '.join(bad)} "
                         "(unknown name or a value of the wrong type/range)")


def _options_dict(opts: SolveOptions) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if opts.time_limit is not None:
        d["time_limit"] = float(opts.time_limit)
    if opts.mip_gap is not None:
        d["mip_rel_gap"] = float(opts.mip_gap)
    if opts.threads is not None:
        d["threads"] = int(opts.threads)
    if opts.seed is not None:
        d["random_seed"] = int(opts.seed)
    d.update(opts.highs_options)
    return d


@dataclass
class Compiled:
    """The model as matrices, with the map back to variables and constraints."""

    sense_min_cost: np.ndarray
    offset: float
    a_csc: Any
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    columns: tuple[ColumnKey, ...]
    rows: tuple[tuple[str, tuple, int], ...]
    compile_seconds: float


def compile_model(model: Any) -> Compiled:
    """Pyomo model → matrices (min −NPV), read straight from the model.

    :class:`~optimiser.model.matrix.LinearRows` families are taken as the sparse arrays they
    are stored in; every other active constraint and the objective are read as Pyomo linear
    expressions. The result is the one Pyomo's ``LinearStandardFormCompiler`` gives in mixed
    form (same columns, rows, order and coefficients; columns in no row and without cost are
    dropped, fixed variables move to the right-hand side), in a fraction of the time. Models
    with anything else (sub-blocks, several objectives, non-linear terms, other component
    types) go through Pyomo's compiler (:func:`compile_model_pyomo`).
    """
    t0 = time.perf_counter()
    from .model.compile import Unsupported, compile_arrays  # noqa: PLC0415

    try:
        arrays = compile_arrays(model)
    except Unsupported:
        return compile_model_pyomo(model)
    return Compiled(*arrays, compile_seconds=time.perf_counter() - t0)


def compile_model_pyomo(model: Any) -> Compiled:
    """Pyomo model → matrices (min −NPV) through Pyomo's standard-form compiler (the reference route)."""
    t0 = time.perf_counter()
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler  # noqa: PLC0415

    repn = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=1)  # 1 = minimize
    cols = repn.columns
    n = len(cols)
    col_lower = np.empty(n)
    col_upper = np.empty(n)
    integrality = np.zeros(n, dtype=np.int32)
    keys = []
    for j, v in enumerate(cols):
        lb, ub = v.bounds
        col_lower[j] = -INF if lb is None else lb
        col_upper[j] = INF if ub is None else ub
        if v.is_integer():
            integrality[j] = 1
        idx = v.index()
        keys.append(ColumnKey(v.parent_component().local_name, idx if isinstance(idx, tuple) else (idx,)))
    rhs = np.asarray(repn.rhs, dtype=float)
    m_rows = len(repn.rows)
    row_lower = np.full(m_rows, -INF)
    row_upper = np.full(m_rows, INF)
    row_keys = []
    for i, (con, mult) in enumerate(repn.rows):
        if mult == 0:
            row_lower[i] = row_upper[i] = rhs[i]
        elif mult > 0:
            row_upper[i] = rhs[i]
        else:
            row_lower[i] = rhs[i]
        idx = con.index()
        row_keys.append((con.parent_component().local_name, idx if isinstance(idx, tuple) else (idx,), int(mult)))
    c = repn.c.toarray().ravel() if repn.c.shape[0] else np.zeros(n)
    offset = float(repn.c_offset[0]) if len(repn.c_offset) else 0.0
    return Compiled(c, offset, repn.A.tocsc(), row_lower, row_upper, col_lower, col_upper, integrality,
                    tuple(keys), tuple(row_keys), time.perf_counter() - t0)


class ModelArrays(NamedTuple):
    """The model as HiGHS's ``passModel`` takes it (min −NPV; CSC matrix), without the row and
    column keys: what a child process needs to rebuild it."""

    cost: np.ndarray
    offset: float
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray


def _model_arrays(cm: Compiled, col_lower: np.ndarray | None = None,
                  col_upper: np.ndarray | None = None) -> ModelArrays:
    """``cm`` as :class:`ModelArrays`, with other column bounds if given."""
    a = cm.a_csc
    return ModelArrays(cm.sense_min_cost, cm.offset, a.indptr.astype(np.int32), a.indices.astype(np.int32),
                       a.data.astype(float), cm.row_lower, cm.row_upper,
                       cm.col_lower if col_lower is None else col_lower,
                       cm.col_upper if col_upper is None else col_upper, cm.integrality)


def _pass_arrays(h: Any, m: ModelArrays) -> None:
    status = h.passModel(len(m.col_lower), len(m.row_lower), int(m.indptr[-1]), 1, 1, m.offset, m.cost, m.col_lower,
                         m.col_upper, m.row_lower, m.row_upper, m.indptr, m.indices, m.data, m.integrality)
    if status.name == "kError":
        raise RuntimeError("HiGHS refused the model")


def _pass(h: Any, cm: Compiled) -> None:
    _pass_arrays(h, _model_arrays(cm))


#: Coefficients, bounds and right-hand sides handed to HiGHS must stay below this. Its doubles carry
#: 15–16 digits, its infinite bound is 1e20, and it refuses a matrix entry of 1e15 or more outright
#: (``large_matrix_value``): beyond this every tolerance (1e-7 relative) is lost and HiGHS stops with
#: an error that looks like a time-out.
MAX_MAGNITUDE = 1e15


def check_magnitudes(cm: Compiled) -> None:
    """Refuse a model with a finite cost, matrix entry, column bound or row bound of
    :data:`MAX_MAGNITUDE` or more in absolute value (InputError naming the variable or constraint and its
    index), before HiGHS spends its time on it. Such numbers come from the instance: a money
    column, a volume or the discounting ((1 + r)^-(t − base_year) for r near −1)."""
    def worst(values: np.ndarray) -> tuple[int, float] | None:
        v = np.abs(np.asarray(values, dtype=float))
        v = np.where(np.isfinite(v), v, 0.0)
        if not len(v) or v.max() < MAX_MAGNITUDE:
            return None
        j = int(v.argmax())
        return j, float(v[j])

    def col(j: int) -> str:
        key = cm.columns[j]
        return f"{key.var}[{', '.join(map(str, key.index))}]"

    def row(i: int) -> str:
        name, idx = cm.rows[i][0], cm.rows[i][1]
        return f"{name}[{', '.join(map(str, idx))}]"

    found = None
    if (w := worst(cm.sense_min_cost)) is not None:
        found = (w[1], f"the objective (NPV) coefficient of {col(w[0])}")
    elif (w := worst(cm.a_csc.data)) is not None:
        a = cm.a_csc
        k = w[0]  # CSC: entry k is in column j with indptr[j] ≤ k < indptr[j+1], row indices[k]
        j = int(np.searchsorted(np.asarray(a.indptr), k, side="right") - 1)
        found = (w[1], f"a coefficient of {col(j)} in {row(int(a.indices[k]))}")
    elif (w := worst(np.concatenate([cm.col_lower, cm.col_upper]))) is not None:
        found = (w[1], f"a bound of {col(w[0] % len(cm.col_lower))}")
    elif (w := worst(np.concatenate([cm.row_lower, cm.row_upper]))) is not None:
        found = (w[1], f"the right-hand side of {row(w[0] % len(cm.row_lower))}")
    if found is not None:
        raise InputError(f"the model holds {found[0]:.3g} as {found[1]}: numbers from {MAX_MAGNITUDE:.0e} up "
                         "are beyond what HiGHS can compute with; check the instance's money and volume "
                         "columns and settings discount_rate / base_year")


#: HiGHS does not check its time limit everywhere (seen: presolve's strengthenInequalities inside
#: a RENS sub-MIP ran for 15 minutes past a 300 s limit). Past the limit by this factor plus
#: TIME_LIMIT_GRACE_SECONDS, the solve is cancelled as Ctrl-C would, and the incumbent kept.
TIME_LIMIT_GRACE_FACTOR = 1.1
TIME_LIMIT_GRACE_SECONDS = 10.0


def _run(h: Any, time_limit: float | None = None) -> bool:
    """Run HiGHS in its own thread; Ctrl-C cancels the solve and keeps the incumbent, and so does
    a watchdog when HiGHS overruns ``time_limit`` (see TIME_LIMIT_GRACE_FACTOR)."""
    interrupted = False
    if threading.current_thread() is not threading.main_thread():
        h.run()
        return False
    h.HandleUserInterrupt = True
    deadline = None
    if time_limit is not None and math.isfinite(time_limit):
        deadline = time.monotonic() + time_limit * TIME_LIMIT_GRACE_FACTOR + TIME_LIMIT_GRACE_SECONDS
    thread = h.startSolve()
    while True:
        try:
            done, _ = h.wait(0.1)
            if done:
                break
            if deadline is not None and time.monotonic() > deadline:
                deadline = None  # once
                h.cancelSolve()
        except KeyboardInterrupt:
            from .isolation import note_interrupt  # noqa: PLC0415

            note_interrupt()
            interrupted = True
            h.cancelSolve()
    thread.join()
    return interrupted


def _configured_highs(opts: SolveOptions, settings: dict[str, Any]) -> Any:
    """A quiet HiGHS object with the checked ``settings``; its log on stderr with ``--log``
    (stdout stays clean for --json)."""
    h = _new_highs()
    if opts.log:
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", False)
        h.setOptionValue("log_file", "/dev/stderr")
    for k, v in settings.items():
        h.setOptionValue(k, v)
    return h


def _read_outcome(h: Any, n_columns: int, interrupted: bool, is_mip: bool) -> tuple:
    """After a run: (termination, status, x, objective, best_bound, gap, nodes), NPV maximised."""
    model_status = h.getModelStatus()
    termination = _STATUS_WORDS.get(model_status.name, model_status.name.removeprefix("k").lower())
    if interrupted:
        termination = "interrupted"
    info = h.getInfo()
    has_x = info.primal_solution_status == 2 or (termination == "optimal" and n_columns == 0)
    x = np.array(h.getSolution().col_value) if has_x else None
    objective = best_bound = gap = None
    if x is not None:
        objective = -float(info.objective_function_value)
        if is_mip:
            best_bound = -float(info.mip_dual_bound)
            gap = float(info.mip_gap) if math.isfinite(info.mip_gap) else None
        else:
            best_bound, gap = objective, 0.0
    if termination == "optimal":
        status = "optimal"
    elif x is not None:
        status = "feasible"
    elif termination == "infeasible":
        status = "infeasible"
    elif termination in ("unbounded", "infeasible_or_unbounded"):
        status = termination
    else:
        status = "no_solution"
    nodes = int(getattr(info, "mip_node_count", 0) or 0) if is_mip else 0
    return termination, status, x, objective, best_bound, gap, nodes


def solve_compiled(cm: Compiled, opts: SolveOptions, start: np.ndarray | None = None) -> SolverOutcome:
    """Run HiGHS on the compiled model; a time limit or Ctrl-C with an incumbent is a result.

    A MIP runs in a child process (:mod:`optimiser.isolation`) unless ``opts.isolate`` is off or
    this process may not have children: HiGHS then always stops within its time limit × 1.1 +
    10 s, even where it does not check the limit itself, keeping its best plan so far.
    ``start`` (one value per column, feasible: see :func:`start_from_fixed`) is handed to HiGHS
    as its first incumbent (``setSolution``), in place of the start-plan search.
    """
    settings = _options_dict(opts)
    check_highs_options(settings)
    check_magnitudes(cm)
    is_mip = bool(cm.integrality.any())
    from . import isolation  # noqa: PLC0415

    if is_mip and opts.isolate and isolation.available():
        return _solve_isolated(cm, opts, settings, start)
    h = _configured_highs(opts, settings)
    t0 = time.perf_counter()
    _pass(h, cm)
    handoff = time.perf_counter() - t0
    if opts.write_model is not None:
        _write_model(h, Path(opts.write_model))
    t1 = time.perf_counter()
    read, interrupted, discarded = run_mip(h, _model_arrays(cm), start if is_mip else None, opts.time_limit, is_mip)
    solve_seconds = time.perf_counter() - t1
    termination, status, x, objective, best_bound, gap, nodes = read
    duals = ranges = None
    duals_seconds = 0.0
    if x is not None and opts.duals and len(cm.row_lower):
        t2 = time.perf_counter()
        duals = _fixed_lp_duals(h, cm, x, is_mip)
        ranges = _rhs_ranges(h, cm) if duals is not None else None
        duals_seconds = time.perf_counter() - t2
    return _outcome(cm, (termination, status, x, objective, best_bound, gap, nodes), duals, handoff,
                    solve_seconds, duals_seconds, interrupted, ranges=ranges,
                    search={"start_plan": discarded} if discarded else None)


def _outcome(cm: Compiled, read: tuple, duals: np.ndarray | None, handoff: float, solve_seconds: float,
             duals_seconds: float, interrupted: bool, watchdog: bool = False,
             search: dict[str, Any] | None = None, ranges: np.ndarray | None = None) -> SolverOutcome:
    termination, status, x, objective, best_bound, gap, nodes = read
    return SolverOutcome(
        termination=termination, status=status, objective=objective, best_bound=best_bound, gap=gap,
        root_bound=None, x=x, row_duals=duals, columns=cm.columns, rows=cm.rows,
        handoff_seconds=handoff, solve_seconds=solve_seconds, duals_seconds=duals_seconds,
        n_variables=len(cm.col_lower), n_binaries=int(cm.integrality.sum()), n_constraints=len(cm.row_lower),
        n_nonzeros=int(cm.a_csc.nnz), highs_version=highs_version(), interrupted=interrupted, mip_nodes=nodes,
        stopped_by_watchdog=watchdog, start_plan=(search or {}).get("start_plan"),
        linking_rows=(search or {}).get("linking_rows"), row_ranges=ranges,
    )


def _set_start(h: Any, start: np.ndarray) -> None:
    import highspy  # noqa: PLC0415

    sol = highspy.HighsSolution()
    sol.col_value = np.asarray(start, dtype=float).tolist()
    sol.value_valid = True
    h.setSolution(sol)


#: The check of a MIP answer given a start (:func:`answer_problem`): rows and bounds may be off
#: by this × max(1, |value|) (10× HiGHS's own 1e-6 MIP feasibility tolerance, so its scaling
#: never triggers a needless re-run), integer columns by this from an integer …
ANSWER_FEASIBILITY_TOL = 1e-5
#: … and the objective HiGHS reports must be c·x + offset of its plan within this (relative).
ANSWER_OBJECTIVE_RTOL = 1e-6
#: What the outcome records (``start_plan["discarded"]``) when the check fails.
START_DISCARDED = "HiGHS returned an inconsistent optimum with the start; re-solved without it"
#: … and when Ctrl-C had already stopped it (no second run): the plan is kept at its own c·x.
START_NOT_RESOLVED = ("HiGHS returned an inconsistent answer with the start; interrupted, so not re-solved "
                      "(the plan is kept at its own objective, not proven optimal)")
_START_WARNED = False


def plan_objective(arrays: ModelArrays, x: np.ndarray) -> float:
    """c·x + offset: the objective of plan ``x`` (HiGHS's sense, minimise −NPV)."""
    return float(np.dot(arrays.cost, x) + arrays.offset)


def answer_problem(arrays: ModelArrays, termination: str, x: np.ndarray | None, objective: float | None,
                   bound: float | None, rel_gap: float, abs_gap: float,
                   start: np.ndarray | None = None) -> str | None:
    """Why a MIP answer of HiGHS (its own sense: minimise ``objective`` = c·x + offset, ``bound``
    ≤ every plan's objective) cannot be right, or None. Checked, with the tolerances above:

    * ``x`` meets every bound ``l_j ≤ x_j ≤ u_j`` (j over the columns), every row
      ``L_i ≤ (Ax)_i ≤ U_i`` (i over the rows) and integrality of the integer columns;
    * ``objective`` = c·x + offset (relative :data:`ANSWER_OBJECTIVE_RTOL`);
    * ``termination == "optimal"``: bound ≤ c·x and c·x − bound ≤ max(abs_gap, rel_gap·|c·x|);
    * no plan while ``start`` (a plan meeting every row and bound) was given: ``infeasible``
      cannot be right.
    """
    if x is None:
        if termination == "infeasible" and start is not None and _plan_violation(arrays, start) is None:
            return "claims infeasible although the start plan meets every row and bound"
        return None
    bad = _plan_violation(arrays, x)
    if bad is not None:
        return bad
    cx = plan_objective(arrays, x)
    scale = max(1.0, abs(cx), abs(objective) if objective is not None else 0.0)
    if objective is None or not math.isfinite(objective) or abs(objective - cx) > ANSWER_OBJECTIVE_RTOL * scale:
        return f"reports objective {objective!r} for a plan whose c·x is {cx!r}"
    if termination == "optimal" and bound is not None and math.isfinite(bound):
        tol = ANSWER_OBJECTIVE_RTOL * max(1.0, abs(cx), abs(bound))
        if bound > cx + tol or cx - bound > max(abs_gap, rel_gap * abs(cx)) + tol:
            return f"claims optimal with bound {bound!r} for a plan whose c·x is {cx!r}"
    return None


def _plan_violation(arrays: ModelArrays, x: np.ndarray) -> str | None:
    """What of the bounds, integrality and rows of ``arrays`` ``x`` breaks (the first), or None."""
    import scipy.sparse as sp  # noqa: PLC0415

    tol = ANSWER_FEASIBILITY_TOL
    x = np.asarray(x, dtype=float)
    if x.shape != np.shape(arrays.col_lower) or not np.isfinite(x).all():
        return "returns a plan with missing or non-finite values"
    lo, up = np.asarray(arrays.col_lower, dtype=float), np.asarray(arrays.col_upper, dtype=float)
    with np.errstate(invalid="ignore"):
        off = (x < lo - tol * np.maximum(1.0, np.abs(lo))) | (x > up + tol * np.maximum(1.0, np.abs(up)))
    if off.any():
        return f"returns a plan outside the bounds of column {int(np.argmax(off))}"
    ints = np.asarray(arrays.integrality) != 0
    if ints.any() and np.abs(x[ints] - np.round(x[ints])).max() > tol:
        return "returns a plan with a fractional integer column"
    m = len(arrays.row_lower)
    if m:
        a = sp.csc_matrix((arrays.data, arrays.indices, arrays.indptr), shape=(m, len(x)))
        act = a @ x
        slack = tol * np.maximum(1.0, np.abs(act))
        with np.errstate(invalid="ignore"):
            broken = (act > arrays.row_upper + slack) | (act < arrays.row_lower - slack)
        if broken.any():
            return f"returns a plan that breaks row {int(np.argmax(broken))}"
    return None


def run_mip(h: Any, arrays: ModelArrays, start: np.ndarray | None, time_limit: float | None, is_mip: bool,
            warn: bool = True) -> tuple[tuple, bool, dict[str, str] | None]:
    """Run HiGHS on the model ``arrays`` it holds, from ``start`` (``setSolution``) when given:
    ``(outcome as _read_outcome gives it, interrupted, discarded)``. Every start handed to HiGHS
    goes through here.

    HiGHS 1.16 with presolve may map a feasible start into its presolved space wrongly and then
    return the start itself as "optimal" with a wrong objective (case: it reported −302 for a
    plan whose c·x is 3.5; the optimum is −173.5). So a MIP answer given a start is checked
    (:func:`answer_problem`); if it fails, HiGHS runs again without the start (solver state
    cleared, within what is left of its time limit), ``discarded`` is ``{"discarded":
    START_DISCARDED, "why": what failed}`` (for the run record's ``start_plan``) and, with
    ``warn``, stderr says so once per process. An answer that
    still fails keeps its plan but reports c·x + offset as its objective and is no longer
    ``optimal``."""
    if start is not None:
        _set_start(h, start)
    t0 = time.perf_counter()
    interrupted = _run(h, time_limit)
    read = _read_outcome(h, len(arrays.col_lower), interrupted, is_mip)
    if not is_mip or start is None:
        return read, interrupted, None
    rel_gap, abs_gap = _option(h, "mip_rel_gap"), _option(h, "mip_abs_gap")
    problem = _answer_problem_max(arrays, read, rel_gap, abs_gap, start)
    if problem is None:
        return read, interrupted, None
    note = START_NOT_RESOLVED if interrupted else START_DISCARDED
    if warn:
        warn_start_discarded(problem, note)
    if not interrupted:
        limit = _option(h, "time_limit")
        h.clearSolver()
        if math.isfinite(limit):  # HiGHS's run clock adds up over runs: give it what is left
            h.setOptionValue("time_limit", h.getRunTime() + max(limit - (time.perf_counter() - t0), 1e-3))
        interrupted = _run(h, None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 1e-3))
        h.setOptionValue("time_limit", limit)
        again = _read_outcome(h, len(arrays.col_lower), interrupted, is_mip)
        if again[2] is not None or read[2] is None:
            read = again
        else:  # stopped before a plan of its own: the start's plan stands (checked below)
            read = (again[0], "feasible", *read[2:])
    if _answer_problem_max(arrays, read, rel_gap, abs_gap, None) is not None and read[2] is not None:
        read = _as_plain_plan(arrays, read)
    return read, interrupted, {"discarded": note, "why": problem}


def _option(h: Any, name: str) -> float:
    """A numeric HiGHS option (highspy 1.16 gives ``(status, value)``)."""
    got = h.getOptionValue(name)
    return float(got[1] if isinstance(got, tuple) else got)


def _answer_problem_max(arrays: ModelArrays, read: tuple, rel_gap: float, abs_gap: float,
                        start: np.ndarray | None) -> str | None:
    """:func:`answer_problem` of an outcome tuple (NPV maximised, as :func:`_read_outcome` gives it)."""
    termination, _, x, npv, bound, _, _ = read
    return answer_problem(arrays, termination, x, None if npv is None else -npv, None if bound is None else -bound,
                          rel_gap, abs_gap, start)


def _as_plain_plan(arrays: ModelArrays, read: tuple) -> tuple:
    """``read`` with objective c·x + offset of its plan, not optimal unless its bound agrees."""
    termination, status, x, _, bound, gap, nodes = read
    npv = -plan_objective(arrays, x)
    if bound is not None and math.isfinite(bound) and bound >= npv:
        gap = abs(bound - npv) / abs(npv) if npv != 0 else None
    else:
        bound, gap = None, None
    if status == "optimal":  # HiGHS's claim did not hold: a plan, not a proven optimum
        status, termination = "feasible", "inconsistent_optimum"
    return termination, status, x, npv, bound, gap, nodes


def warn_start_discarded(problem: str, note: str = START_DISCARDED) -> None:
    """One line on stderr (once per process) that HiGHS's answer with the start was discarded."""
    global _START_WARNED
    if _START_WARNED:
        return
    _START_WARNED = True
    import sys  # noqa: PLC0415

    then = ("its answer was discarded and the MIP solved again without the start" if note == START_DISCARDED
            else "interrupted before it could be solved again: the plan is kept at its own objective")
    print(f"Warning: given a start plan, HiGHS {problem} (its objective: −NPV); {then}", file=sys.stderr,
          flush=True)


def _solve_isolated(cm: Compiled, opts: SolveOptions, settings: dict[str, Any],
                    start: np.ndarray | None = None) -> SolverOutcome:
    """The MIP in a child process (:mod:`optimiser.mip_process`); duals (an LP) and
    ``--write-model`` here."""
    from .mip_process import _mip_in_child, _search_settings  # noqa: PLC0415

    h = None
    if opts.write_model is not None:
        h = _configured_highs(opts, settings)
        _pass(h, cm)
        _write_model(h, Path(opts.write_model))
    read, interrupted, solve_seconds, handoff, stopped, search = _mip_in_child(
        _model_arrays(cm), settings, opts.log, opts.time_limit, start=start, search=_search_settings(cm, opts))
    x = read[2]
    duals = ranges = None
    duals_seconds = 0.0
    if x is not None and opts.duals and len(cm.row_lower):
        t2 = time.perf_counter()
        if h is None:
            h = _configured_highs(opts, settings)
            _pass(h, cm)
        duals = _fixed_lp_duals(h, cm, x, True)
        ranges = _rhs_ranges(h, cm) if duals is not None else None
        duals_seconds = time.perf_counter() - t2
    return _outcome(cm, read, duals, handoff, solve_seconds, duals_seconds, interrupted, watchdog=stopped,
                    search=search, ranges=ranges)


#: Seconds the LP behind the capacity values may take (after the MIP; integers fixed, so it is easy).
DUALS_TIME_LIMIT = 300.0


def _fixed_lp_duals(h: Any, cm: Compiled, x: np.ndarray, is_mip: bool) -> np.ndarray | None:
    """Row duals of the LP with every integer column fixed at its (rounded) incumbent value."""
    if is_mip:
        idx = np.flatnonzero(cm.integrality).astype(np.int32)
        vals = np.round(x[idx])
        h.changeColsIntegrality(len(idx), idx, np.zeros(len(idx), dtype=np.int32))
        h.changeColsBounds(len(idx), idx, vals, vals)
    _relax_implied_bounds(h, cm, x)
    # HiGHS checks a (warm-started) LP's time limit against the object's run clock, which adds up
    # over runs and is not reset by clearSolver: a session re-using one object for many duals LPs
    # would lose them once the total passed the limit. So the limit is that clock + the allowance.
    h.setOptionValue("time_limit", h.getRunTime() + DUALS_TIME_LIMIT)
    if _run(h, DUALS_TIME_LIMIT):  # Ctrl-C here: the plan stands, without capacity values
        return None
    if h.getModelStatus().name != "kOptimal":
        return None
    sol = h.getSolution()
    if not sol.dual_valid:
        return None
    # HiGHS minimises −NPV: a row dual y means d(−NPV)/d(rhs) = y, so NPV gains −y per unit.
    return -np.array(sol.row_dual)


#: Columns whose upper bound only repeats what capacity and demand rows already say;
#: in the duals LP they are lifted so the capacity rows carry the shadow price.
IMPLIED_UPPER_BOUNDS = ("make",)
#: Rows ``make ≤ U·tool``: with tool fixed at 1 they only repeat the capacity/demand bound.
TOOL_LINK_ROWS = "tool_link"
#: Valid inequalities (model/linking.py): with the integers fixed they repeat what capacity,
#: flow and demand rows say, so they are lifted too.
LINKING_ROWS = ("running_link", "ship_link", "running_needs_tooling")
#: Those of them every integer plan meets (running_needs_tooling only keeps every optimum): the
#: MIP may leave them out where its LP does not need them (optimiser.row_generation).
IMPLIED_LINKING_ROWS = ("running_link", "ship_link")


def _relax_implied_bounds(h: Any, cm: Compiled, x: np.ndarray) -> None:
    """Lift bounds that duplicate the capacity rows, so duals land on capacity (same LP optimum)."""
    cols = np.array([j for j, k in enumerate(cm.columns) if k.var in IMPLIED_UPPER_BOUNDS], dtype=np.int32)
    if len(cols):
        h.changeColsBounds(len(cols), cols, cm.col_lower[cols], np.full(len(cols), INF))
    col_of = {(k.var, k.index): j for j, k in enumerate(cm.columns) if k.var == "tool"}
    rows = [i for i, (name, idx, _) in enumerate(cm.rows)
            if name in LINKING_ROWS or (name == TOOL_LINK_ROWS and x[col_of[("tool", idx[:2])]] > 0.5)]
    rows += _repeated_capacity_rows(cm, x)
    if rows:
        r = np.array(rows, dtype=np.int32)
        h.changeRowsBounds(len(r), r, np.full(len(r), -INF), np.full(len(r), INF))


#: Rows whose right-hand side is ranged after the duals LP (the line-year capacity rows).
RANGED_ROWS = ("capacity", "ramp")


def _repeated_capacity_rows(cm: Compiled, x: np.ndarray) -> list[int]:
    """Of a line-year's two capacity rows (``capacity``: ≤ cap·running; ``ramp``: ≤ cap·ready),
    the one that does not bind with the integers at ``x``: the ramp row when the capacity it
    allows is at least the capacity row's (then the two are the same row or it is looser),
    else the capacity row. Lifting it leaves the LP and its optimum unchanged and puts the whole
    shadow price (and a meaningful ranging) on one row."""
    pos = {name: [] for name in RANGED_ROWS}
    for i, (name, idx, _) in enumerate(cm.rows):
        if name in pos:
            pos[name].append((idx, i))
    if not pos["ramp"]:
        return []
    ints = np.flatnonzero(cm.integrality)
    xi = np.zeros(len(x))
    xi[ints] = np.round(x[ints])
    sel = np.array([i for name in RANGED_ROWS for _, i in pos[name]], dtype=np.int64)
    a = cm.a_csc
    entry_col = np.repeat(np.arange(len(x)), np.diff(np.asarray(a.indptr)))
    activity = np.bincount(np.asarray(a.indices), weights=np.asarray(a.data) * xi[entry_col],
                           minlength=len(cm.row_upper))
    allows = {int(i): float(cm.row_upper[i] - activity[i]) for i in sel.tolist()}
    cap_row = dict(pos["capacity"])
    out = []
    for idx, i in pos["ramp"]:
        j = cap_row.get(idx)
        if j is None:
            continue
        out.append(i if allows[i] >= allows[j] - 1e-9 else j)
    return out


#: Most basis solves :func:`_rhs_ranges` makes (one per binding capacity row); rows past it get
#: no range. HiGHS's own ``getRanging`` ranges every row and column (medium generated case:
#: 48 s on a loaded machine); the capacity rows alone need one solve each.
RANGING_MAX_SOLVES = 20_000
#: A rate below this in the ratio test is taken as 0 (HiGHS's own ranging uses similar).
_RANGING_ZERO = 1e-9


def _rhs_ranges(h: Any, cm: Compiled) -> np.ndarray | None:
    """After the duals LP: the interval of each capacity row's upper bound over which the LP's
    basis, and so every row dual, stays the same — right-hand-side ranging, as HiGHS's
    ``getRanging`` computes it (``row_bound_dn/up``), for the :data:`RANGED_ROWS` only.

    For a binding row i (its logical nonbasic), moving its bound by Δ moves the basic variables
    by Δ·d with B·d = e_i (``getBasisSolve``; a basic logical of row j stands for −activity_j):
    Δ ∈ [max over k of the lower ratios, min over k of the upper ratios] keeps each basic
    variable within its bounds. A row not binding (its logical basic) keeps its dual (0) from
    its activity up to +∞.

    One row per model row, columns (lowest, highest) upper bound; NaN for rows not in
    :data:`RANGED_ROWS`, rows lifted from the LP, and rows past :data:`RANGING_MAX_SOLVES`.
    None if the LP has no optimal basis."""
    import highspy  # noqa: PLC0415

    if h.getModelStatus().name != "kOptimal":
        return None
    ranged = [i for i, (name, _, _) in enumerate(cm.rows) if name in RANGED_ROWS]
    out = np.full((len(cm.row_lower), 2), np.nan)
    if not ranged:
        return out
    try:
        basis = h.getBasis()
        status, basic = h.getBasicVariables()
        lp = h.getLp()
        sol = h.getSolution()
    except Exception:  # noqa: BLE001 — ranging is extra: the plan and its duals stand without it
        return None
    if not basis.valid or status.name != "kOk":
        return None
    row_status = basis.row_status
    basic_kind = highspy.HighsBasisStatus.kBasic
    basic = np.asarray(basic)
    is_col = basic >= 0
    idx = np.where(is_col, basic, -basic - 1)
    lower = np.where(is_col, np.asarray(lp.col_lower_)[np.where(is_col, idx, 0)],
                     np.asarray(lp.row_lower_)[np.where(is_col, 0, idx)])
    upper = np.where(is_col, np.asarray(lp.col_upper_)[np.where(is_col, idx, 0)],
                     np.asarray(lp.row_upper_)[np.where(is_col, 0, idx)])
    value = np.where(is_col, np.asarray(sol.col_value)[np.where(is_col, idx, 0)],
                     np.asarray(sol.row_value)[np.where(is_col, 0, idx)])
    sign = np.where(is_col, 1.0, -1.0)  # a basic logical moves against its row's activity
    row_upper = np.asarray(lp.row_upper_)
    activity = np.asarray(sol.row_value)
    solves = 0
    e = np.zeros(len(cm.row_lower))
    for i in ranged:
        if not np.isfinite(row_upper[i]):
            continue  # lifted from this LP
        if row_status[i] == basic_kind:
            out[i] = (activity[i], INF)
            continue
        if solves >= RANGING_MAX_SOLVES:
            continue
        solves += 1
        e[i] = 1.0
        st, d = h.getBasisSolve(e)
        e[i] = 0.0
        if st.name != "kOk":
            continue
        rate = sign * np.asarray(d)
        up = rate > _RANGING_ZERO
        dn = rate < -_RANGING_ZERO
        with np.errstate(divide="ignore", invalid="ignore"):
            hi = min(np.min((upper[up] - value[up]) / rate[up], initial=INF),
                     np.min((lower[dn] - value[dn]) / rate[dn], initial=INF))
            lo = max(np.max((lower[up] - value[up]) / rate[up], initial=-INF),
                     np.max((upper[dn] - value[dn]) / rate[dn], initial=-INF))
        out[i] = (row_upper[i] + min(lo, 0.0), row_upper[i] + max(hi, 0.0))
    return out


def start_from_fixed(cm: Compiled, opts: SolveOptions, values: dict[tuple[str, tuple], float],
                     variables: tuple[str, ...], time_limit: float | None = None) -> tuple[np.ndarray | None, float | None]:
    """A start for the MIP from a plan: every column of ``variables`` pinned to ``values``
    (``(var, index) → value``; absent = 0), the rest re-optimised by HiGHS (the fixed-plan model).

    Returns (one value per column, its objective as NPV) when that model has a plan, else
    (None, None): the plan is infeasible here (or no plan was found in ``time_limit``), and the
    MIP must start without it. A value outside a column's own bounds (a strategy forbids what
    the plan takes) makes the plan infeasible without a solve.
    """
    lo = np.array(cm.col_lower, dtype=float)
    hi = np.array(cm.col_upper, dtype=float)
    for j, k in enumerate(cm.columns):
        if k.var in variables:
            v = 1.0 if values.get((k.var, k.index), 0.0) > 0.5 else 0.0
            if v < lo[j] - BOUND_TOL or v > hi[j] + BOUND_TOL:
                return None, None
            lo[j] = hi[j] = v
    pinned = Compiled(cm.sense_min_cost, cm.offset, cm.a_csc, cm.row_lower, cm.row_upper, lo, hi, cm.integrality,
                      cm.columns, cm.rows, 0.0)
    sub = SolveOptions(time_limit=time_limit, mip_gap=opts.mip_gap, threads=opts.threads, seed=opts.seed,
                       highs_options=dict(opts.highs_options), duals=False, isolate=opts.isolate,
                       local_search="off", linking_rows="all")
    out = solve_compiled(pinned, sub)
    return out.x, out.objective


def _write_model(h: Any, path: Path) -> None:
    """Write the exact model handed to HiGHS (MPS or LP by suffix), atomically."""
    from .writers import atomic_path, shown  # noqa: PLC0415

    if path.suffix.lower() not in (".mps", ".lp"):
        raise InputError(f"{shown(path)}: HiGHS could not write the model (use a .mps or .lp suffix)")
    with atomic_path(path, keep_suffix=True) as tmp:
        tmp.unlink()  # HiGHS writes the file itself
        status = h.writeModel(str(tmp))
        if status.name == "kError" or not tmp.exists():
            raise InputError(f"{shown(path)}: HiGHS could not write the model (use a .mps or .lp suffix)")


# --- irreducible infeasible subset (IIS) ------------------------------------------------------

#: ``iis_strategy`` bits: 2 = find an infeasible set from the whole LP (elasticity filter),
#: 4 = reduce it to an irreducible one. (0, the "light" test, always runs first.)
IIS_STRATEGY = 2 | 4
#: ``HighsIis.col_bound_`` / ``row_bound_``: which bounds of a member take part.
_IIS_BOUND = {-1: "dropped", 0: "none", 1: "free", 2: "lower", 3: "upper", 4: "both"}
#: ``HighsIis.status_``: -1 feasible, 0 unknown, 1 time limit, 2 reducible, 3 irreducible.
_IIS_FEASIBLE, _IIS_TIME_LIMIT, _IIS_REDUCIBLE, _IIS_IRREDUCIBLE = -1, 1, 2, 3


@dataclass(frozen=True)
class IisMember:
    """One row or column of an IIS: which one, which of its bounds take part, and their values.

    ``key`` is the row's entry of :attr:`Compiled.rows` (name, index, sense) or the column's
    :class:`ColumnKey`. ``bound`` is ``lower``, ``upper``, ``both`` or ``free`` (a column in the
    subset only through its rows: none of its bounds is needed).
    """

    key: tuple
    bound: str
    lower: float
    upper: float


@dataclass(frozen=True)
class IisResult:
    """What HiGHS found, in plain data.

    ``status``: ``found`` (rows and columns hold the subset; ``irreducible`` says whether HiGHS
    could reduce it fully), ``feasible`` (the model — its LP relaxation when ``relaxation`` — is
    feasible, so there is no IIS), or ``unavailable`` (``message`` says why).
    """

    status: str
    relaxation: bool
    irreducible: bool = False
    rows: tuple[IisMember, ...] = ()
    columns: tuple[IisMember, ...] = ()
    message: str = ""
    seconds: float = 0.0


def compute_iis(cm: Compiled, time_limit: float | None = None) -> IisResult:
    """An IIS of the compiled model, or of its LP relaxation when it has integer columns.

    HiGHS computes IISs of LPs only, so integrality is dropped (and the objective, which plays no
    part in feasibility). If the relaxation is feasible there is no LP IIS: a MIP that is still
    infeasible owes it to integrality. Never raises for a model HiGHS cannot analyse: the result
    says ``unavailable`` with the reason.
    """
    t0 = time.perf_counter()
    relaxation = bool(cm.integrality.any())

    def result(status: str, message: str = "", **kw: Any) -> IisResult:
        return IisResult(status, relaxation, message=message, seconds=time.perf_counter() - t0, **kw)

    lp = Compiled(np.zeros(len(cm.col_lower)), 0.0, cm.a_csc, cm.row_lower, cm.row_upper, cm.col_lower,
                  cm.col_upper, np.zeros(len(cm.col_lower), dtype=np.int32), cm.columns, cm.rows, 0.0)
    h = _new_highs()
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
        h.setOptionValue("iis_time_limit", float(time_limit))
    try:
        _pass(h, lp)
    except RuntimeError as exc:
        return result("unavailable", str(exc))
    if _run(h, time_limit):
        raise KeyboardInterrupt
    status = h.getModelStatus().name
    if status in ("kOptimal", "kModelEmpty", "kUnbounded"):
        return result("feasible")
    if status not in ("kInfeasible", "kUnboundedOrInfeasible"):
        word = _STATUS_WORDS.get(status, status.removeprefix("k").lower()).replace("_", " ")
        return result("unavailable", f"HiGHS stopped ({word}) before deciding whether the LP is feasible")
    h.setOptionValue("iis_strategy", IIS_STRATEGY)
    code, iis = h.getIis()
    if code.name == "kError" or not iis.valid_:
        return result("unavailable", "HiGHS could not compute an IIS")
    if iis.status_ == _IIS_FEASIBLE:
        return result("feasible")
    if iis.status_ == _IIS_TIME_LIMIT:
        return result("unavailable", "HiGHS reached the time limit while computing the IIS")
    if iis.status_ not in (_IIS_REDUCIBLE, _IIS_IRREDUCIBLE) or not (len(iis.row_index_) or len(iis.col_index_)):
        return result("unavailable", "HiGHS found no infeasible subset")
    rows = tuple(IisMember(cm.rows[i], _IIS_BOUND.get(int(b), str(b)), float(cm.row_lower[i]), float(cm.row_upper[i]))
                 for i, b in zip(iis.row_index_, iis.row_bound_))
    cols = tuple(IisMember(cm.columns[j], _IIS_BOUND.get(int(b), str(b)), float(cm.col_lower[j]),
                           float(cm.col_upper[j])) for j, b in zip(iis.col_index_, iis.col_bound_))
    return result("found", irreducible=iis.status_ == _IIS_IRREDUCIBLE, rows=rows, columns=cols)


# ------------------------------------------------------------------ persistent sessions (issue 7)

#: A column value within this of a bound counts as inside it (HiGHS' MIP feasibility tolerance).
BOUND_TOL = 1e-6


@dataclass
class SessionStats:
    """How a session's solves were answered."""

    runs: int = 0
    solved: int = 0     # HiGHS ran (cold or warm)
    warm: int = 0       # … starting from an earlier plan that fits the new bounds
    dominated: int = 0  # answered by an earlier optimum under looser bounds (HiGHS not run)
    handoff_seconds: float = 0.0
    solve_seconds: float = 0.0
    duals_seconds: float = 0.0


@dataclass
class _Past:
    """An earlier solve: the bounds of the columns changed so far, and its outcome."""

    cols: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    outcome: SolverOutcome


class Session:
    """One compiled model kept in one HiGHS object for runs that differ only in column bounds.

    The model is handed to HiGHS once; :meth:`set_bounds` changes the columns that differ
    (``changeColsBounds``) and :meth:`solve` runs HiGHS again on the same object, with its solver
    state cleared (``clearSolver``) so a run depends only on the model, the bounds and the start.

    Two kinds of re-use, both exact:

    * **answers** (``reuse_answers``): if an earlier run had bounds at least as loose on every
      column and ended ``optimal`` (within the MIP gap), and its plan lies inside the new bounds,
      that plan is optimal (within the same gap) for the new bounds too — the rows and objective
      are unchanged and the feasible set only shrank — so it is returned without running HiGHS
      (``solve_seconds`` 0). An earlier ``infeasible`` under looser bounds answers ``infeasible``.
    * **warm starts** (``warm_start``): otherwise HiGHS gets, through ``setSolution``, the plan set
      by :meth:`set_start` or, failing that, the best earlier plan that lies inside the new bounds
      (rows unchanged, so it is feasible). Plans outside the bounds are never passed: HiGHS 1.16
      warns, tries a sub-MIP over the in-bound integer values and, if that fails, starts cold.

    A MIP runs, as in :func:`solve_compiled`, in a child process (fresh HiGHS, the same arrays with
    the current bounds, the start if any) so the time limit always holds; the session's own HiGHS
    object then only serves the duals LP. Capacity duals come from the fixed-integer LP as in
    :func:`solve_compiled`; the session then puts integrality, column and row bounds and the time
    limit back. No HiGHS object leaves here.
    """

    def __init__(self, compiled: Compiled, opts: SolveOptions, reuse_answers: bool = True,
                 warm_start: bool = True) -> None:
        settings = _options_dict(opts)
        check_highs_options(settings)
        check_magnitudes(compiled)
        self._cm = compiled
        self._opts = opts
        self._settings = settings
        self.reuse_answers = reuse_answers
        self.warm_start = warm_start
        h = _configured_highs(opts, settings)
        t0 = time.perf_counter()
        _pass(h, compiled)
        self._pending_handoff = time.perf_counter() - t0
        self._h: Any = h
        self._version = f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"
        self._lo = np.array(compiled.col_lower, dtype=float)
        self._hi = np.array(compiled.col_upper, dtype=float)
        self._touched = np.empty(0, dtype=np.int64)  # columns whose bounds ever left the compiled ones
        self._start: np.ndarray | None = None
        self._past: list[_Past] = []
        self._is_mip = bool(compiled.integrality.any())
        from . import isolation  # noqa: PLC0415
        from .mip_process import _search_settings  # noqa: PLC0415

        #: MIPs run in a child process given the current bounds (as :func:`solve_compiled`);
        #: this object keeps the model for the duals LP and the bookkeeping.
        self._isolated = self._is_mip and opts.isolate and isolation.available()
        self._search = _search_settings(compiled, opts) if self._isolated else None
        self.stats = SessionStats(handoff_seconds=self._pending_handoff)
        #: how the last :meth:`solve` was answered: ``solved``, ``warm`` or ``dominated``
        self.last = ""

    # -------------------------------------------------------------- inputs
    @property
    def n_columns(self) -> int:
        return len(self._lo)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Current column bounds (copies)."""
        return self._lo.copy(), self._hi.copy()

    def set_bounds(self, lower: np.ndarray, upper: np.ndarray) -> int:
        """Set every column's bounds (arrays over :attr:`Compiled.columns`); HiGHS gets only the
        columns that changed. Returns how many changed."""
        lower = np.asarray(lower, dtype=float)
        upper = np.asarray(upper, dtype=float)
        if lower.shape != self._lo.shape or upper.shape != self._hi.shape:
            raise ValueError("set_bounds: one lower and one upper bound per column")
        changed = np.flatnonzero((lower != self._lo) | (upper != self._hi))
        if len(changed):
            idx = changed.astype(np.int32)
            self._h.changeColsBounds(len(idx), idx, lower[changed], upper[changed])
            self._lo[changed] = lower[changed]
            self._hi[changed] = upper[changed]
            self._touched = np.union1d(self._touched, changed)
        return len(changed)

    def set_start(self, x: np.ndarray | None) -> None:
        """A plan (one value per column) to start the next MIP from, or ``None``."""
        self._start = None if x is None else np.array(x, dtype=float)

    # -------------------------------------------------------------- solving
    def solve(self) -> SolverOutcome:
        """Run HiGHS under the current bounds (or answer from an earlier run, see the class)."""
        self.stats.runs += 1
        if self.reuse_answers:
            hit = self._dominating()
            if hit is not None:
                self.stats.dominated += 1
                self.last = "dominated"
                return SolverOutcome(**{**hit.__dict__, "handoff_seconds": 0.0, "solve_seconds": 0.0,
                                        "duals_seconds": 0.0, "mip_nodes": 0, "interrupted": False})
        h, cm = self._h, self._cm
        start = self._pick_start() if self.warm_start else None
        stopped, search = False, {}
        h.clearSolver()  # a run (MIP here, or only the duals LP below) depends on nothing before it
        if self._isolated:
            from .mip_process import _mip_in_child  # noqa: PLC0415

            read, interrupted, solve_seconds, handoff_child, stopped, search = _mip_in_child(
                _model_arrays(cm, self._lo, self._hi), self._settings, self._opts.log,
                self._settings.get("time_limit"), start, self._search)
            if search.get("keep") is not None and self._search is not None and "keep" not in self._search:
                # the linking rows found hold for every job of this model (any subset is valid)
                self._search = {**self._search, "keep": search["keep"], "keep_info": search["linking_rows"]}
            self._pending_handoff += handoff_child
            self.stats.handoff_seconds += handoff_child
        else:
            t1 = time.perf_counter()
            read, interrupted, discarded = run_mip(h, _model_arrays(cm, self._lo, self._hi), start,
                                                   self._settings.get("time_limit"), self._is_mip)
            solve_seconds = time.perf_counter() - t1
            search = {"start_plan": discarded} if discarded else {}
        termination, status, x, objective, best_bound, gap, nodes = read
        duals = ranges = None
        duals_seconds = 0.0
        if x is not None and self._opts.duals and len(cm.row_lower) and not interrupted:  # a batch stops at Ctrl-C
            t2 = time.perf_counter()
            duals = _fixed_lp_duals(h, cm, x, self._is_mip)
            ranges = _rhs_ranges(h, cm) if duals is not None else None
            self._restore()
            duals_seconds = time.perf_counter() - t2
        handoff, self._pending_handoff = self._pending_handoff, 0.0
        out = SolverOutcome(
            termination=termination, status=status, objective=objective, best_bound=best_bound, gap=gap,
            root_bound=None, x=x, row_duals=duals, columns=cm.columns, rows=cm.rows,
            handoff_seconds=handoff, solve_seconds=solve_seconds, duals_seconds=duals_seconds,
            n_variables=len(cm.col_lower), n_binaries=int(cm.integrality.sum()), n_constraints=len(cm.row_lower),
            n_nonzeros=int(cm.a_csc.nnz), highs_version=self._version, interrupted=interrupted, mip_nodes=nodes,
            stopped_by_watchdog=stopped, start_plan=search.get("start_plan"),
            linking_rows=search.get("linking_rows"), row_ranges=ranges,
        )
        self.stats.solved += 1
        self.stats.warm += start is not None
        self.stats.solve_seconds += solve_seconds
        self.stats.duals_seconds += duals_seconds
        self.last = "warm" if start is not None else "solved"
        if (x is not None or termination == "infeasible") and not interrupted:
            cols = self._touched.copy()
            self._past.append(_Past(cols, self._lo[cols].copy(), self._hi[cols].copy(), out))
        return out

    def close(self) -> None:
        """Free the HiGHS object (the session cannot solve afterwards)."""
        self._h = None
        self._past.clear()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -------------------------------------------------------------- helpers
    def _past_bounds(self, past: _Past) -> tuple[np.ndarray, np.ndarray]:
        """An earlier run's bounds on the columns changed so far (the others had the compiled ones)."""
        cols = self._touched
        lo = np.asarray(self._cm.col_lower, dtype=float)[cols]
        hi = np.asarray(self._cm.col_upper, dtype=float)[cols]
        if len(past.cols):
            pos = np.searchsorted(cols, past.cols)
            lo[pos] = past.lower
            hi[pos] = past.upper
        return lo, hi

    def _inside(self, x: np.ndarray) -> bool:
        """Is ``x`` inside the current bounds? (It met the compiled bounds of untouched columns.)"""
        cols = self._touched
        v = x[cols]
        return bool(np.all(v >= self._lo[cols] - BOUND_TOL) and np.all(v <= self._hi[cols] + BOUND_TOL))

    def _dominating(self) -> SolverOutcome | None:
        """An earlier outcome that answers the current bounds exactly (see the class docstring)."""
        cols = self._touched
        lo, hi = self._lo[cols], self._hi[cols]
        for past in self._past:
            out = past.outcome
            if out.termination not in ("optimal", "infeasible"):
                continue
            plo, phi = self._past_bounds(past)
            if not (np.all(plo <= lo) and np.all(hi <= phi)):
                continue  # that run's feasible set does not contain this one's
            if out.termination == "infeasible" or (out.x is not None and self._inside(out.x)):
                return out
        return None

    def _pick_start(self) -> np.ndarray | None:
        if self._start is not None and self._inside(self._start):
            return self._start
        best: SolverOutcome | None = None
        for past in self._past:
            out = past.outcome
            if out.x is not None and out.objective is not None and self._inside(out.x):
                if best is None or out.objective > best.objective:  # type: ignore[operator]
                    best = out
        return None if best is None else best.x

    def _restore(self) -> None:
        """Undo what the duals LP changed: integrality, column and row bounds, the time limit."""
        h, cm = self._h, self._cm
        n, m = len(cm.col_lower), len(cm.row_lower)
        if self._is_mip:
            idx = np.flatnonzero(cm.integrality).astype(np.int32)
            h.changeColsIntegrality(len(idx), idx, np.asarray(cm.integrality, dtype=np.int32)[idx])
        if n:
            h.changeColsBounds(n, np.arange(n, dtype=np.int32), self._lo, self._hi)
        if m:
            h.changeRowsBounds(m, np.arange(m, dtype=np.int32), np.asarray(cm.row_lower, dtype=float),
                               np.asarray(cm.row_upper, dtype=float))
        h.setOptionValue("time_limit", float(self._settings.get("time_limit", INF)))
