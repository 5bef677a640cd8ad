"""Every HiGHS primitive: create a quiet Highs object, check options, pass a model, run, read back.

The only module that imports ``highspy``. The other solver modules get Highs objects from here
(:func:`new_highs`, :func:`configured_highs`) and hand models to them through
:func:`pass_arrays`; a run goes through :func:`run` (its own thread: Ctrl-C and the time-limit
watchdog cancel it and keep the incumbent) and is read by :func:`read_outcome`.
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from .arrays import Compiled, ModelArrays, model_arrays
from .outcome import Read, Status, Termination, termination_of

_BANNER_SHOWN = False


def new_highs() -> Any:
    """A silent Highs object (HiGHS prints a banner on stdout at its first creation: keep it off)."""
    global _BANNER_SHOWN
    import highspy  # noqa: PLC0415 — highspy only when a model is solved (CLI start-up)

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


def version_of(h: Any) -> str:
    """HiGHS's version as ``major.minor.patch``, from a Highs object."""
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


def highs_version() -> str:
    return version_of(new_highs())


def check_highs_options(options: dict[str, Any]) -> None:
    """Refuse misspelt or ill-typed HiGHS options (HiGHS itself would ignore them)."""
    h = new_highs()
    bad = []
    for name, value in options.items():
        status = h.setOptionValue(name, value)
        if status.name != "kOk":
            bad.append(f"{name}={value!r}")
    if bad:
        raise InputError(f"HiGHS does not accept the option(s) {', '.join(bad)} "
                         "(unknown name or a value of the wrong type/range)")


def configured_highs(log: bool, settings: dict[str, Any]) -> Any:
    """A quiet HiGHS object with the checked ``settings``; its log on stderr with ``log``
    (stdout stays clean for --json)."""
    h = new_highs()
    if log:
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", False)
        h.setOptionValue("log_file", "/dev/stderr")
    for k, v in settings.items():
        h.setOptionValue(k, v)
    return h


def option_value(h: Any, name: str) -> float:
    """A numeric HiGHS option (highspy 1.16 gives ``(status, value)``)."""
    got = h.getOptionValue(name)
    return float(got[1] if isinstance(got, tuple) else got)


def pass_arrays(h: Any, m: ModelArrays) -> None:
    """Hand the model ``m`` to HiGHS (``passModel``: min, CSC); RuntimeError if it refuses it."""
    status = h.passModel(len(m.col_lower), len(m.row_lower), int(m.indptr[-1]), 1, 1, m.offset, m.cost, m.col_lower,
                         m.col_upper, m.row_lower, m.row_upper, m.indptr, m.indices, m.data, m.integrality)
    if status.name == "kError":
        raise RuntimeError("HiGHS refused the model")


def pass_compiled(h: Any, cm: Compiled) -> None:
    """Hand the compiled model to HiGHS."""
    pass_arrays(h, model_arrays(cm))


def set_start(h: Any, start: np.ndarray) -> None:
    """Give HiGHS ``start`` (one value per column) as its first incumbent (``setSolution``)."""
    import highspy  # noqa: PLC0415

    sol = highspy.HighsSolution()
    sol.col_value = np.asarray(start, dtype=float).tolist()
    sol.value_valid = True
    h.setSolution(sol)


def is_basic(status: Any) -> bool:
    """Whether a basis status (``HighsBasis.row_status`` entry) is ``kBasic``."""
    import highspy  # noqa: PLC0415

    return status == highspy.HighsBasisStatus.kBasic


#: HiGHS does not check its time limit everywhere (seen: presolve's strengthenInequalities inside
#: a RENS sub-MIP ran for 15 minutes past a 300 s limit). Past the limit by this factor plus
#: TIME_LIMIT_GRACE_SECONDS, the solve is cancelled as Ctrl-C would, and the incumbent kept.
TIME_LIMIT_GRACE_FACTOR = 1.1
TIME_LIMIT_GRACE_SECONDS = 10.0


def run(h: Any, time_limit: float | None = None) -> bool:
    """Run HiGHS in its own thread; Ctrl-C cancels the solve and keeps the incumbent, and so does
    a watchdog when HiGHS overruns ``time_limit`` (see TIME_LIMIT_GRACE_FACTOR). True if Ctrl-C
    stopped it."""
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
            from ..isolation import note_interrupt  # noqa: PLC0415 — only on Ctrl-C

            note_interrupt()
            interrupted = True
            h.cancelSolve()
    thread.join()
    return interrupted


def read_outcome(h: Any, n_columns: int, interrupted: bool, is_mip: bool) -> Read:
    """After a run: what HiGHS holds, NPV maximised (HiGHS minimises −NPV)."""
    termination = termination_of(h.getModelStatus().name)
    if interrupted:
        termination = Termination.INTERRUPTED
    info = h.getInfo()
    has_x = info.primal_solution_status == 2 or (termination == Termination.OPTIMAL and n_columns == 0)
    x = np.array(h.getSolution().col_value) if has_x else None
    objective = best_bound = gap = None
    if x is not None:
        objective = -float(info.objective_function_value)
        if is_mip:
            best_bound = -float(info.mip_dual_bound)
            gap = float(info.mip_gap) if math.isfinite(info.mip_gap) else None
        else:
            best_bound, gap = objective, 0.0
    if termination == Termination.OPTIMAL:
        status = Status.OPTIMAL
    elif x is not None:
        status = Status.FEASIBLE
    elif termination == Termination.INFEASIBLE:
        status = Status.INFEASIBLE
    elif termination in (Termination.UNBOUNDED, Termination.INFEASIBLE_OR_UNBOUNDED):
        status = Status(termination.value)
    else:
        status = Status.NO_SOLUTION
    nodes = int(getattr(info, "mip_node_count", 0) or 0) if is_mip else 0
    return Read(termination, status, x, objective, best_bound, gap, nodes)


def write_model(h: Any, path: Path) -> None:
    """Write the exact model handed to HiGHS (MPS or LP by suffix), atomically."""
    from ..writers import atomic_path, shown  # noqa: PLC0415 — the file layer only for --write-model

    if path.suffix.lower() not in (".mps", ".lp"):
        raise InputError(f"{shown(path)}: HiGHS could not write the model (use a .mps or .lp suffix)")
    with atomic_path(path, keep_suffix=True) as tmp:
        tmp.unlink()  # HiGHS writes the file itself
        status = h.writeModel(str(tmp))
        if status.name == "kError" or not tmp.exists():
            raise InputError(f"{shown(path)}: HiGHS could not write the model (use a .mps or .lp suffix)")
