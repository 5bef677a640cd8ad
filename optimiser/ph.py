"""Two-stage plans by progressive hedging on mpi-sppy (hub + xhat spoke + Lagrangian spoke).

The extensive form solved in one process (:func:`optimiser.engine.solve_instance` with
``scenario=None``) stays the default engine. This module solves the *same* two-stage
problem by scenario decomposition, for programmes with too many scenarios for one
machine. It runs under MPI::

    mpiexec -n 3 python -m mpi4py -m optimiser.ph INSTANCE [--strategy S] [--iterations N] [--out plan.json]

or, from Python/the CLI, :func:`run_ph` launches that command itself (or runs in-process
when it is already under ``mpiexec``).

The scenario models and the settings are :mod:`optimiser.ph_setup`.

Signs
-----
NPV is *maximised*, and mpi-sppy is told so (it supports both senses). For a maximisation:

* the **inner bound** is the expected NPV of a feasible plan (the best first stage the xhat
  spoke found, re-optimised per scenario): inner ≤ optimum;
* the **outer bound** (Lagrangian spoke; the hub's wait-and-see bound at iteration 0) is an
  *upper* bound: optimum ≤ outer;
* gap = (outer − inner) / |inner|, as the hub reports it.

Subproblems are MIPs (``running`` is binary), so the quadratic proximal term is linearised
(``linearize_proximal_terms``; exact for the binary first-stage variables — x² = x — and a
cutting-plane approximation, which needs scipy, should a continuous first-stage variable ever
be added). HiGHS cannot solve a MIP with a quadratic objective.

Rank layout: one cylinder per hub/spoke, ranks = k × cylinders (hub + xhatshuffle +
lagrangian → 3, 6, 9, …); each cylinder splits the scenarios over its k ranks.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

from .errors import InputError
from .ph_setup import (
    FIRST_STAGE_VARS,
    SOLVER_NAME,
    SPOKES,
    PHError,
    PHSettings,
    make_rho_setter,
    refuse_later_options,
    scenario_creator,
    scenario_denouement,
    solver_options_string,
)
from .schema import OPTIMISE


def settings_from_options(strategy: str, options: Any, iterations: int, rel_gap: float | None = None,
                          rho_factor: float | None = None, spokes: Sequence[str] | None = None) -> PHSettings:
    """Map the CLI's SolveOptions onto PH: time_limit → the whole run; mip_gap, threads, seed and
    --highs-option → every subproblem solve (threads default 1: one core per rank)."""
    from .solver.highs import check_highs_options  # noqa: PLC0415
    from .solver.options import SolveOptions  # noqa: PLC0415

    opts = options or SolveOptions()
    sub = dataclasses.replace(opts, time_limit=None).highs_settings()
    sub.setdefault("threads", 1)
    check_highs_options(sub)
    solver_options_string(sub)  # refuse what cannot travel to mpi-sppy
    if iterations < 0:
        raise InputError("--iterations must be ≥ 0")
    chosen = tuple(spokes) if spokes is not None else SPOKES
    for s in chosen:
        if s not in SPOKES:
            raise InputError(f"unknown PH spoke {s!r}; known: {', '.join(SPOKES)}")
    return PHSettings(strategy=strategy, iterations=iterations, time_limit=opts.time_limit,
                      rel_gap=1e-4 if rel_gap is None else rel_gap,
                      rho_factor=0.1 if rho_factor is None else rho_factor,
                      spokes=chosen, subproblem_options=sub)


# ------------------------------------------------------------------ the run (every rank)

def _config(settings: PHSettings, n_scenarios: int) -> Any:
    from mpisppy.utils import config  # noqa: PLC0415

    cfg = config.Config()
    cfg.num_scens_required()
    cfg.popular_args()
    cfg.two_sided_args()
    cfg.ph_args()
    cfg.lagrangian_args()
    cfg.xhatshuffle_args()
    cfg.num_scens = n_scenarios
    cfg.solver_name = SOLVER_NAME
    cfg.default_rho = 1.0  # overridden per variable by the rho setter
    cfg.max_iterations = settings.iterations
    cfg.time_limit = None if settings.time_limit is None else max(1, int(math.ceil(settings.time_limit)))
    cfg.rel_gap = settings.rel_gap
    if settings.abs_gap is not None:
        cfg.abs_gap = settings.abs_gap
    cfg.linearize_proximal_terms = True
    cfg.linearize_binary_proximal_terms = True
    cfg.verbose = False
    cfg.display_progress = settings.verbose
    cfg.tee_rank0_solves = False
    cfg.solver_options = None
    cfg.lagrangian = "lagrangian" in settings.spokes
    cfg.xhatshuffle = "xhatshuffle" in settings.spokes
    return cfg


def spin(instance_path: str | Path, settings: PHSettings, comm: Any = None) -> dict[str, Any] | None:
    """Run hub and spokes on this rank; global rank 0 returns the result, the others None."""
    from .validate import load_instance  # noqa: PLC0415

    t0 = time.perf_counter()
    with _stdout_to_stderr():  # mpi-sppy talks on stdout; keep stdout for --json
        from mpi4py import MPI  # noqa: PLC0415
        import mpisppy.utils.cfg_vanilla as vanilla  # noqa: PLC0415
        from mpisppy.spin_the_wheel import WheelSpinner  # noqa: PLC0415

        from .model import prepare  # noqa: PLC0415

        world = comm or MPI.COMM_WORLD
        instance, _ = load_instance(instance_path)
        ef_md = prepare(instance, settings.strategy, None)
        names = list(ef_md.scenarios)
        n_cyl = 1 + len(settings.spokes)
        if world.size % n_cyl:
            raise InputError(f"PH with hub + {len(settings.spokes)} spoke(s) needs a multiple of {n_cyl} MPI ranks, "
                             f"not {world.size}")
        if world.size // n_cyl > len(names):
            raise InputError(f"{world.size} ranks give {world.size // n_cyl} ranks per cylinder but the instance has "
                             f"only {len(names)} scenario(s); use at most {n_cyl * len(names)} ranks")
        cfg = _config(settings, len(names))
        cfg.solver_options = solver_options_string(settings.subproblem_options)
        kwargs = {"ef_md": ef_md, "probability": dict(ef_md.probability)}
        beans = (cfg, scenario_creator, scenario_denouement, names)
        rho = make_rho_setter(ef_md, settings.rho_factor)
        hub = vanilla.ph_hub(*beans, scenario_creator_kwargs=kwargs, rho_setter=rho)
        spokes = []
        for name in settings.spokes:  # cylinder order = the order asked for
            if name == "lagrangian":
                spokes.append(vanilla.lagrangian_spoke(*beans, scenario_creator_kwargs=kwargs, rho_setter=rho))
            elif name == "xhatshuffle":
                spokes.append(vanilla.xhatshuffle_spoke(*beans, scenario_creator_kwargs=kwargs))
        wheel = WheelSpinner(hub, spokes)
        t_build = time.perf_counter() - t0
        wheel.spin(comm_world=world)
        plan = _best_first_stage(wheel, world)
        iterations = getattr(wheel.spcomm.opt, "_PHIter", None) if wheel.on_hub() else None
    if world.rank != 0:
        return None
    inner, outer = wheel.BestInnerBound, wheel.BestOuterBound
    return _result(instance, settings, names, world.size, inner, outer, plan, iterations,
                   seconds=time.perf_counter() - t0, setup_seconds=t_build)


@contextlib.contextmanager
def _stdout_to_stderr():
    """Send file descriptor 1 to 2 for the duration (Pyomo's own fd capture nests inside this)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _best_first_stage(wheel: Any, world: Any) -> dict[str, list] | None:
    """The first stage of the best plan found (by whichever cylinder found it), on rank 0."""
    winner = world.bcast(wheel.spcomm.last_ib_idx if world.rank == 0 else None, root=0)
    payload = None
    if winner is not None and wheel.strata_rank == winner and wheel.cylinder_rank == 0:
        opt = wheel.spcomm.opt
        if getattr(opt, "load_best_solution", None) is None or opt.load_best_solution():
            scen = opt.local_scenarios[opt.local_scenario_names[0]]
            payload = {v: [] for v in FIRST_STAGE_VARS}
            for var in scen._mpisppy_node_list[0].nonant_vardata_list:
                name = var.parent_component().local_name
                idx = var.index()
                payload[name].append([list(idx) if isinstance(idx, tuple) else idx, float(var.value or 0.0)])
    gathered = world.gather(payload, root=0)
    if world.rank != 0:
        return None
    return next((p for p in gathered if p is not None), None)


def _result(instance: Any, settings: PHSettings, names: list[str], ranks: int, inner: float | None,
            outer: float | None, plan: dict[str, list] | None, iterations: int | None, seconds: float,
            setup_seconds: float) -> dict[str, Any]:
    finite = lambda x: x is not None and math.isfinite(x)  # noqa: E731
    inner = inner if finite(inner) else None
    outer = outer if finite(outer) else None
    gap = abs_gap = None
    if inner is not None and outer is not None:
        abs_gap = outer - inner  # maximisation: outer (upper) bound − inner (plan's NPV)
        gap = abs_gap / max(abs(inner), 1e-10)
    if inner is None or plan is None:
        status = "no_solution"
    elif gap is not None and (gap <= settings.rel_gap + 1e-12 or
                              (settings.abs_gap is not None and abs_gap <= settings.abs_gap)):
        status = "optimal"
    else:
        status = "feasible"
    fs = first_stage_json(plan) if plan is not None else None
    return {
        "engine": "ph", "status": status, "instance": instance.name, "instance_sha256": instance.fingerprint,
        "strategy": settings.strategy, "scenarios": names, "ranks": ranks,
        "cylinders": ["ph_hub", *settings.spokes],
        "npv": inner, "inner_bound": inner, "outer_bound": outer, "gap": gap, "abs_gap": abs_gap,
        "iterations": iterations, "seconds": round(seconds, 3), "setup_seconds": round(setup_seconds, 3),
        "options_taken": sorted(o for o, v in (fs or {}).get("take", {}).items() if v > 0.5),
        "lines_built": sorted({b[0] for b, v in (fs or {}).get("build", []) if v > 0.5}),
        "first_stage": fs, "settings": settings.to_json(),
    }


def first_stage_json(plan: dict[str, list]) -> dict[str, Any]:
    """Rounded first stage: ``take`` as {option: 0/1}; ``build``/``tool`` as [[index…], 0/1] lists."""
    out: dict[str, Any] = {"take": {}, "build": [], "tool": []}
    for idx, v in plan.get("take", []):
        out["take"][idx] = 1.0 if v > 0.5 else 0.0
    for name in ("build", "tool"):
        out[name] = [[list(idx), 1.0 if v > 0.5 else 0.0] for idx, v in plan.get(name, [])]
    return out


def first_stage_from_json(fs: dict[str, Any]) -> Any:
    """The :class:`~optimiser.model.sets.FirstStage` of a PH result (to evaluate or report it)."""
    from .model.sets import FirstStage  # noqa: PLC0415

    return FirstStage(take={k: float(v) for k, v in fs["take"].items()},
                      build={(str(i[0]), int(i[1])): float(v) for i, v in fs["build"]},
                      tool={(str(i[0]), str(i[1])): float(v) for i, v in fs["tool"]})


# ------------------------------------------------------------------ launching

def under_mpi() -> bool:
    """True when this process was started by mpiexec with more than one rank (MPICH/Hydra, Open MPI,
    Intel MPI, Slurm's PMI) — checked from the environment, without initialising MPI."""
    for var in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS", "PMIX_SIZE"):
        v = os.environ.get(var)
        if v and v.isdigit() and int(v) > 1:
            return True
    return False


def find_mpiexec() -> str:
    """``$OPTIMISER_MPIEXEC``, else the ``mpiexec`` beside this Python (the ``mpich`` wheel puts it in the
    venv's bin), else the one on PATH."""
    env = os.environ.get("OPTIMISER_MPIEXEC")
    if env:
        return env
    here = Path(sys.executable).parent / "mpiexec"
    if here.exists():
        return str(here)
    found = shutil.which("mpiexec")
    if found:
        return found
    raise InputError("mpiexec not found: install the MPI extra (pip install 'ev-line-optimiser[mpi]', which "
                     "brings the mpich wheel and its mpiexec) or set OPTIMISER_MPIEXEC")


def check_installed() -> None:
    """Refuse early, in plain words, when the MPI extra is missing."""
    missing = [m for m in ("mpi4py", "mpisppy") if _missing(m)]
    if missing:
        raise InputError(f"the PH engine needs {', '.join(missing)}: pip install 'ev-line-optimiser[mpi]'")


def _missing(module: str) -> bool:
    import importlib.util  # noqa: PLC0415

    return importlib.util.find_spec(module) is None


def run_ph(instance_path: str | Path, strategy: str = OPTIMISE, options: Any = None, iterations: int = 50,
           ranks: int | None = None, rel_gap: float | None = None, rho_factor: float | None = None,
           spokes: Sequence[str] | None = None, evaluate: bool = True, timeout: float | None = None,
           keep_results: bool = False, log: Path | None = None) -> dict[str, Any]:
    """Solve the two-stage problem of ``instance_path`` by progressive hedging; a plain dict.

    Under ``mpiexec`` (every rank calls this) the hub/spokes run in this process; rank 0 gets the
    result and the other ranks get ``{"engine": "ph", "rank": r}``. Otherwise this spawns
    ``mpiexec -n RANKS python -m mpi4py -m optimiser.ph …`` (RANKS defaults to one per cylinder)
    and waits at most ``timeout`` seconds (default: 2 × the time limit + 300 s, else none) — the
    time limit itself is checked by mpi-sppy between iterations, so a run ends after the
    iteration that crosses it.

    ``evaluate`` re-solves the extensive form with PH's first stage fixed (on rank 0 / in this
    process): ``evaluated_npv`` is then the exact expected NPV of the plan, and with
    ``keep_results`` the full :class:`~optimiser.results.Results` is under ``"results"``.
    Keys: status (optimal = gap ≤ rel_gap | feasible | no_solution), npv (= inner bound),
    inner_bound ≤ optimum ≤ outer_bound (NPV is maximised), gap, iterations, seconds, first_stage…
    """
    check_installed()
    settings = settings_from_options(strategy, options, iterations, rel_gap, rho_factor, spokes)
    from .validate import load_instance  # noqa: PLC0415

    instance, _ = load_instance(instance_path)  # fail fast on an invalid instance / strategy
    if strategy != OPTIMISE and strategy not in instance.strategies:
        raise InputError(f"unknown strategy {strategy!r}; this instance has: {', '.join(instance.strategy_names)}")
    refuse_later_options(instance)
    if under_mpi():
        res = spin(instance_path, settings)
        if res is None:
            from mpi4py import MPI  # noqa: PLC0415

            return {"engine": "ph", "rank": MPI.COMM_WORLD.rank}
    else:
        n_cyl = 1 + len(settings.spokes)
        n = ranks if ranks is not None else n_cyl
        if n < n_cyl or n % n_cyl:
            raise InputError(f"--ranks must be a multiple of {n_cyl} (the hub and {len(settings.spokes)} spoke(s))")
        if timeout is None and settings.time_limit is not None:
            # mpi-sppy checks its time limit between PH iterations, and one iteration of a large case can
            # take minutes: the deadline (a guard against a hung rank) leaves room for the last one
            timeout = 2.0 * settings.time_limit + 300.0
        res = _launch(instance_path, settings, n, timeout, log)
    if evaluate and res.get("first_stage") is not None:
        res |= _evaluate(instance, strategy, res, options, keep_results)
    return res


def _evaluate(instance: Any, strategy: str, res: dict[str, Any], options: Any, keep: bool) -> dict[str, Any]:
    from .errors import InfeasibleError, NoSolutionError  # noqa: PLC0415
    from .engine import solve_instance  # noqa: PLC0415

    t0 = time.perf_counter()
    fs = first_stage_from_json(res["first_stage"])
    try:
        r = solve_instance(instance, strategy, None, options, fixed=fs)
    except (InfeasibleError, NoSolutionError) as exc:
        return {"evaluated_npv": None, "evaluated_objective": None, "evaluation": str(exc)}
    # evaluated_npv: the plan's cash NPV; evaluated_objective: what PH's bounds bound (NPV − penalty weights)
    out: dict[str, Any] = {"evaluated_npv": r.npv, "evaluated_objective": r.objective,
                           "evaluation_seconds": round(time.perf_counter() - t0, 3),
                           "scenario_npv": {row.scenario: row.npv for row in r.npv_by_scenario.itertuples()}}
    if keep:
        out["results"] = r
    return out


def _launch(instance_path: str | Path, settings: PHSettings, ranks: int, timeout: float | None,
            log: Path | None) -> dict[str, Any]:
    """Run ``mpiexec -n ranks python -m mpi4py -m optimiser.ph`` and read its JSON answer."""
    mpiexec = find_mpiexec()
    with tempfile.TemporaryDirectory(prefix="optimiser-ph-") as tmp:
        out = Path(tmp) / "result.json"
        cfg = Path(tmp) / "settings.json"
        cfg.write_text(json.dumps(settings.to_json()), encoding="utf-8")
        cmd = [mpiexec, "-n", str(ranks), sys.executable, "-m", "mpi4py", "-m", "optimiser.ph",
               str(Path(instance_path).resolve()), "--settings", str(cfg), "--out", str(out)]
        logf = open(log, "w", encoding="utf-8") if log else tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        env = dict(os.environ)
        env.setdefault("OMP_NUM_THREADS", "1")
        try:
            proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=env, start_new_session=True)
            try:
                rc = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                raise PHError(f"PH did not finish within {timeout:.0f} s; mpiexec and its ranks were stopped") from None
            except KeyboardInterrupt:
                _kill_group(proc)
                raise
            if rc != 0 or not out.exists():
                raise PHError(f"PH failed (mpiexec exit code {rc}):\n{_tail(logf, log)}")
            return json.loads(out.read_text(encoding="utf-8"))
        finally:
            logf.close()


def _kill_group(proc: subprocess.Popen) -> None:
    """Stop the mpiexec we started and its ranks (its own process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _tail(fh: Any, path: Path | None, lines: int = 30) -> str:
    try:
        if path is not None:
            text = Path(path).read_text(encoding="utf-8", errors="replace")
        else:
            fh.flush()
            fh.seek(0)
            text = fh.read()
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


# ------------------------------------------------------------------ `python -m mpi4py -m optimiser.ph`

def main(argv: Sequence[str] | None = None) -> int:
    """Entry point on every rank: ``mpiexec -n 3 python -m mpi4py -m optimiser.ph INSTANCE …``.

    Rank 0 writes the result as JSON to ``--out`` (or prints it). Launch through ``python -m mpi4py``
    so an exception on any rank aborts every rank instead of leaving the others waiting.
    """
    p = argparse.ArgumentParser(prog="python -m mpi4py -m optimiser.ph",
                                description="Progressive hedging (mpi-sppy) on an instance; run under mpiexec.")
    p.add_argument("instance")
    p.add_argument("--strategy", default=OPTIMISE)
    p.add_argument("--iterations", type=int, default=50)
    p.add_argument("--time-limit", type=float, default=None, help="seconds for the whole run")
    p.add_argument("--rel-gap", type=float, default=1e-4)
    p.add_argument("--rho-factor", type=float, default=0.1)
    p.add_argument("--mip-gap", type=float, default=None, help="HiGHS mip_rel_gap of every subproblem")
    p.add_argument("--highs-option", action="append", default=[], help="NAME=VALUE for every subproblem (checked)")
    p.add_argument("--spokes", default=",".join(SPOKES), help=f"comma-separated, from {', '.join(SPOKES)}")
    p.add_argument("--settings", default=None, help="JSON settings (as run_ph writes them); overrides the above")
    p.add_argument("--out", default=None, help="write rank 0's JSON result here (atomically)")
    p.add_argument("--verbose", action="store_true")
    a = p.parse_args(argv)
    if a.settings:
        settings = PHSettings.from_json(json.loads(Path(a.settings).read_text(encoding="utf-8")))
    else:
        from .solver.options import SolveOptions  # noqa: PLC0415

        opts = SolveOptions.from_flags(a.time_limit, a.mip_gap, highs_option=a.highs_option)
        settings = settings_from_options(a.strategy, opts, a.iterations, a.rel_gap, a.rho_factor,
                                         [s.strip() for s in a.spokes.split(",") if s.strip()])
        settings = dataclasses.replace(settings, verbose=a.verbose)
    res = spin(a.instance, settings)
    if res is not None:
        text = json.dumps(res, indent=2, ensure_ascii=False)
        if a.out:
            from .writers import atomic_path  # noqa: PLC0415

            with atomic_path(Path(a.out)) as tmp:
                tmp.write_text(text, encoding="utf-8")
        else:
            print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
