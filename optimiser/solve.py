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


def _pass(h: Any, cm: Compiled) -> None:
    a = cm.a_csc
    n, m = len(cm.col_lower), len(cm.row_lower)
    status = h.passModel(n, m, int(a.nnz), 1, 1, cm.offset, cm.sense_min_cost, cm.col_lower, cm.col_upper,
                         cm.row_lower, cm.row_upper, a.indptr.astype(np.int32), a.indices.astype(np.int32),
                         a.data.astype(float), cm.integrality)
    if status.name == "kError":
        raise RuntimeError("HiGHS refused the model")


def _run(h: Any) -> bool:
    """Run HiGHS in its own thread; Ctrl-C cancels the solve and keeps the incumbent."""
    interrupted = False
    if threading.current_thread() is not threading.main_thread():
        h.run()
        return False
    h.HandleUserInterrupt = True
    thread = h.startSolve()
    while True:
        try:
            done, _ = h.wait(0.1)
            if done:
                break
        except KeyboardInterrupt:
            interrupted = True
            h.cancelSolve()
    thread.join()
    return interrupted


def solve_compiled(cm: Compiled, opts: SolveOptions) -> SolverOutcome:
    """Run HiGHS on the compiled model; a time limit or Ctrl-C with an incumbent is a result."""
    settings = _options_dict(opts)
    check_highs_options(settings)
    h = _new_highs()
    if opts.log:  # the log goes to stderr, so stdout stays clean for --json
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", False)
        h.setOptionValue("log_file", "/dev/stderr")
    for k, v in settings.items():
        h.setOptionValue(k, v)
    t0 = time.perf_counter()
    _pass(h, cm)
    handoff = time.perf_counter() - t0
    if opts.write_model is not None:
        _write_model(h, Path(opts.write_model))
    t1 = time.perf_counter()
    interrupted = _run(h)
    solve_seconds = time.perf_counter() - t1
    model_status = h.getModelStatus()
    termination = _STATUS_WORDS.get(model_status.name, model_status.name.removeprefix("k").lower())
    if interrupted:
        termination = "interrupted"
    info = h.getInfo()
    has_x = info.primal_solution_status == 2 or (termination == "optimal" and len(cm.col_lower) == 0)
    x = np.array(h.getSolution().col_value) if has_x else None
    is_mip = bool(cm.integrality.any())
    objective = best_bound = gap = root = None
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
    elif termination in ("infeasible",):
        status = "infeasible"
    elif termination in ("unbounded", "infeasible_or_unbounded"):
        status = termination
    else:
        status = "no_solution"
    duals = None
    duals_seconds = 0.0
    if x is not None and opts.duals and len(cm.row_lower):
        t2 = time.perf_counter()
        duals = _fixed_lp_duals(h, cm, x, is_mip)
        duals_seconds = time.perf_counter() - t2
    nodes = int(getattr(info, "mip_node_count", 0) or 0) if is_mip else 0
    return SolverOutcome(
        termination=termination, status=status, objective=objective, best_bound=best_bound, gap=gap,
        root_bound=root, x=x, row_duals=duals, columns=cm.columns, rows=cm.rows,
        handoff_seconds=handoff, solve_seconds=solve_seconds, duals_seconds=duals_seconds,
        n_variables=len(cm.col_lower), n_binaries=int(cm.integrality.sum()), n_constraints=len(cm.row_lower),
        n_nonzeros=int(cm.a_csc.nnz), highs_version=highs_version(), interrupted=interrupted, mip_nodes=nodes,
    )


def _fixed_lp_duals(h: Any, cm: Compiled, x: np.ndarray, is_mip: bool) -> np.ndarray | None:
    """Row duals of the LP with every integer column fixed at its (rounded) incumbent value."""
    if is_mip:
        idx = np.flatnonzero(cm.integrality).astype(np.int32)
        vals = np.round(x[idx])
        h.changeColsIntegrality(len(idx), idx, np.zeros(len(idx), dtype=np.int32))
        h.changeColsBounds(len(idx), idx, vals, vals)
    _relax_implied_bounds(h, cm, x)
    h.setOptionValue("time_limit", 300.0)
    h.run()
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


def _relax_implied_bounds(h: Any, cm: Compiled, x: np.ndarray) -> None:
    """Lift bounds that duplicate the capacity rows, so duals land on capacity (same LP optimum)."""
    cols = np.array([j for j, k in enumerate(cm.columns) if k.var in IMPLIED_UPPER_BOUNDS], dtype=np.int32)
    if len(cols):
        h.changeColsBounds(len(cols), cols, cm.col_lower[cols], np.full(len(cols), INF))
    col_of = {(k.var, k.index): j for j, k in enumerate(cm.columns) if k.var == "tool"}
    rows = [i for i, (name, idx, _) in enumerate(cm.rows)
            if name == TOOL_LINK_ROWS and x[col_of[("tool", idx[:2])]] > 0.5]
    if rows:
        r = np.array(rows, dtype=np.int32)
        h.changeRowsBounds(len(r), r, np.full(len(r), -INF), np.full(len(r), INF))


def _write_model(h: Any, path: Path) -> None:
    """Write the exact model handed to HiGHS (MPS or LP by suffix), atomically."""
    import os  # noqa: PLC0415

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}{path.suffix}")
    status = h.writeModel(str(tmp))
    if status.name == "kError" or not tmp.exists():
        tmp.unlink(missing_ok=True)
        raise InputError(f"{path}: HiGHS could not write the model (use a .mps or .lp suffix)")
    os.replace(tmp, path)


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
    if _run(h):
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
