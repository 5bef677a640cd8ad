"""Benchmark harness: how long a planner waits, phase by phase, against HiGHS alone.

Not a test. For the default instance and generated instances of the documented sizes
(``optimiser.generate.SIZES``: small → xl), every run happens in a fresh subprocess
(so import costs count and peak RSS is that run's own) and measures:

* read+validate, prepare (sparse sets), build (Pyomo model), compile (matrices),
  hand-off (``highspy.passModel``), HiGHS run, duals LP, extraction, report write,
  end-to-end wall — wall and CPU seconds of each;
* model size (variables, binaries, constraints, non-zeros) and peak RSS;
* the **limit**: highspy alone reading the ``--write-model`` MPS file of the same model
  and running it with the same options (read and run timed separately);
* the ratios end-to-end / HiGHS-alone (read + run) and generation overhead
  (prepare + build + compile + hand-off + extraction) / HiGHS-alone read;
* formulation strength: LP-relaxation bound, HiGHS's root bound (after its cuts),
  final bound and gap, as NPV (maximised), and the root gaps relative to the best NPV.

Medians of ``--runs`` runs (≥ 3 by default). Machines are noisy: compare ratios, and
CPU seconds when the machine is shared. ``--json FILE`` keeps every run.

Usage::

    .venv/bin/python benchmarks/run.py                       # default, small, medium, large, xl; 3 runs
    .venv/bin/python benchmarks/run.py --sizes default,small,medium --runs 5 --time-limit 120
    .venv/bin/python benchmarks/run.py --sizes large --runs 3 --json benchmarks/large.json
    .venv/bin/python benchmarks/run.py --sizes large --routes   # + appsi / contrib highs / standard form hand-off
    .venv/bin/python benchmarks/run.py --sizes large --linopy /path/to/venv-with-linopy/bin/python

``--src DIR`` benchmarks another copy of the ``optimiser`` package (DIR contains it), e.g. a
checkout of an older commit, for before/after tables.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_INSTANCE = ROOT / "instances" / "foxconn-vinfast-2021"
ALL_SIZES = ("default", "small", "medium", "large", "xl")

PHASES = (  # (key, label) in pipeline order
    ("imports", "imports (pyomo, pandas, …)"),
    ("read", "read+validate"),
    ("prepare", "prepare (sparse sets)"),
    ("build", "build (Pyomo model)"),
    ("compile", "compile (matrices)"),
    ("handoff", "hand-off to HiGHS"),
    ("solve", "HiGHS run"),
    ("duals", "duals LP"),
    ("extract", "result extraction"),
    ("report", "report write"),
    ("total", "end-to-end wall"),
)


# ===================================================================== child processes

def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _solve_options(a: dict) -> Any:
    from optimiser.solver.options import SolveOptions  # noqa: PLC0415

    return SolveOptions(time_limit=a.get("time_limit"), mip_gap=a.get("mip_gap"), threads=a.get("threads"),
                        seed=a.get("seed"), write_model=Path(a["write_model"]) if a.get("write_model") else None)


def child_pipeline(a: dict) -> dict:
    """One run of the real pipeline (optimiser.engine.solve_instance), each phase timed."""
    t_start = _clock()
    from optimiser import engine  # noqa: PLC0415
    from optimiser.validate import load_instance  # noqa: PLC0415

    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    captured: dict[str, Any] = {}

    def timed(key: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kw: Any) -> Any:
            w0, c0 = _clock()
            out = fn(*args, **kw)
            w1, c1 = _clock()
            wall[key] = wall.get(key, 0.0) + (w1 - w0)
            cpu[key] = cpu.get(key, 0.0) + (c1 - c0)
            return out
        return wrapper

    def capture_solve(fn: Any) -> Any:
        def wrapper(compiled: Any, opts: Any, **kw: Any) -> Any:
            captured["rss_before_solve"] = _peak_rss_mb()  # model generation's peak (HiGHS not yet involved)
            w0, c0 = _clock()
            out = fn(compiled, opts, **kw)
            w1, c1 = _clock()
            captured["outcome"] = out
            captured["solve_cpu_total"] = c1 - c0  # hand-off + run + duals (HiGHS threads included)
            captured["solve_wall_total"] = w1 - w0
            return out
        return wrapper

    engine.prepare = timed("prepare", engine.prepare)
    engine.build_model = timed("build", engine.build_model)
    engine.compile_model = timed("compile", engine.compile_model)
    engine.extract = timed("extract", engine.extract)
    engine.solve_compiled = capture_solve(engine.solve_compiled)
    t_imp = _clock()
    wall["imports"], cpu["imports"] = t_imp[0] - t_start[0], t_imp[1] - t_start[1]

    def keep_md(fn: Any) -> Any:
        def wrapper(*args: Any, **kw: Any) -> Any:
            captured["md"] = fn(*args, **kw)
            return captured["md"]
        return wrapper

    engine.prepare = keep_md(engine.prepare)
    w0, c0 = _clock()
    instance, _ = load_instance(a["path"])
    w1, c1 = _clock()
    wall["read"], cpu["read"] = w1 - w0, c1 - c0
    synthetic = False
    try:
        results = engine.solve_instance(instance, options=_solve_options(a))
    except engine.NoSolutionError:
        # no incumbent within the time limit: time extraction (and the report) on an all-zero plan
        # so the phases still get measured; flagged as synthetic
        results = _extract_zero_plan(engine, instance, captured)
        synthetic = True
    out = captured["outcome"]
    wall["handoff"], wall["solve"], wall["duals"] = out.handoff_seconds, out.solve_seconds, out.duals_seconds
    report_path = a.get("report")
    if report_path:
        from optimiser.report import write_report  # noqa: PLC0415

        w0, c0 = _clock()
        write_report(instance, results, Path(report_path))
        w1, c1 = _clock()
        wall["report"], cpu["report"] = w1 - w0, c1 - c0
    t_end = _clock()
    wall["total"] = t_end[0] - t_start[0]
    cpu["total"] = t_end[1] - t_start[1]
    run = results.run
    return {
        "synthetic_plan": synthetic, "wall": wall, "cpu": cpu, "instance_sha256": run.instance_sha256,
        "solve_cpu_total": captured["solve_cpu_total"],
        "size": {"variables": run.n_variables, "binaries": run.n_binaries, "constraints": run.n_constraints,
                 "nonzeros": run.n_nonzeros},
        "status": run.status, "termination": run.termination, "npv": run.npv, "best_bound": run.best_bound,
        "gap": run.gap, "nodes": out.mip_nodes, "peak_rss_mb": _peak_rss_mb(), "highs": run.highs_version,
        "peak_rss_before_solve_mb": captured.get("rss_before_solve"),
        "start_plan": out.start_plan,  # our construction / fix-and-optimise (inside "HiGHS run"), if any
    }


def _extract_zero_plan(engine: Any, instance: Any, captured: dict) -> Any:
    import dataclasses  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415

    out = captured["outcome"]
    zero = dataclasses.replace(out, x=np.zeros(out.n_variables), objective=0.0, status="feasible", row_duals=None)
    md = captured["md"]
    names = {f.name for f in dataclasses.fields(engine.RunInfo)}
    values = dict(instance=instance.name, instance_sha256=instance.fingerprint, strategy="optimise", scenario=None,
                  scenarios=md.scenarios, termination=out.termination, status="no_solution", npv=None,
                  best_bound=out.best_bound, gap=None, build_seconds=0.0, handoff_seconds=out.handoff_seconds,
                  solve_seconds=out.solve_seconds, extract_seconds=0.0, n_variables=out.n_variables,
                  n_binaries=out.n_binaries, n_constraints=out.n_constraints, n_nonzeros=out.n_nonzeros,
                  highs_version=out.highs_version, currency=instance.currency, options={})
    run = engine.RunInfo(**{k: v for k, v in values.items() if k in names})
    return engine.extract(instance, md, zero, run)  # (engine.extract is the timed wrapper)


def child_write_mps(a: dict) -> dict:
    """The model exactly as the pipeline hands it to HiGHS, written as MPS (not timed)."""
    from optimiser.model import build_model, prepare  # noqa: PLC0415
    from optimiser.model.compile import compile_model  # noqa: PLC0415
    from optimiser.solver.highs import new_highs, pass_compiled, write_model  # noqa: PLC0415
    from optimiser.validate import load_instance  # noqa: PLC0415

    instance, _ = load_instance(a["path"])
    cm = compile_model(build_model(prepare(instance)))
    h = new_highs()
    pass_compiled(h, cm)
    write_model(h, Path(a["mps"]))
    return {"mps": a["mps"], "bytes": Path(a["mps"]).stat().st_size}


def _highs_options(a: dict) -> dict:
    d: dict[str, Any] = {}
    if a.get("time_limit") is not None:
        d["time_limit"] = float(a["time_limit"])
    if a.get("mip_gap") is not None:
        d["mip_rel_gap"] = float(a["mip_gap"])
    if a.get("threads") is not None:
        d["threads"] = int(a["threads"])
    if a.get("seed") is not None:
        d["random_seed"] = int(a["seed"])
    return d


def _quiet_highs() -> Any:
    import highspy  # noqa: PLC0415

    fd = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    try:  # the first Highs() prints a banner on stdout: keep our JSON channel clean
        sys.stdout.flush()
        os.dup2(null, 1)
        h = highspy.Highs()
    finally:
        os.dup2(fd, 1)
        os.close(fd)
        os.close(null)
    h.setOptionValue("output_flag", False)
    return h


def child_highs(a: dict) -> dict:
    """HiGHS alone: read the MPS file, run with the same options. Root bound from the MIP callback."""
    t0 = _clock()
    h = _quiet_highs()
    import_wall = time.perf_counter() - t0[0]
    w0, c0 = _clock()
    status = h.readModel(a["mps"])
    w1, c1 = _clock()
    if status.name == "kError":
        raise RuntimeError(f"HiGHS could not read {a['mps']}")
    for k, v in _highs_options(a).items():
        h.setOptionValue(k, v)
    root: dict[str, float] = {}

    def on_interrupt(e: Any) -> None:
        d = e.data_out
        if d.mip_node_count == 0:
            root["bound"] = d.mip_dual_bound

    h.cbMipInterrupt.subscribe(on_interrupt)
    w2, c2 = _clock()
    h.run()
    w3, c3 = _clock()
    info = h.getInfo()
    lp = h.getLp()
    sense = -1.0  # the pipeline minimises −NPV: report bounds as NPV
    has_x = info.primal_solution_status == 2
    return {
        "read_wall": w1 - w0, "read_cpu": c1 - c0, "run_wall": w3 - w2, "run_cpu": c3 - c2,
        "import_wall": import_wall, "status": h.getModelStatus().name,
        "npv": sense * info.objective_function_value if has_x else None,
        "best_bound": sense * info.mip_dual_bound, "gap": info.mip_gap if has_x else None,
        "root_bound": sense * root["bound"] if "bound" in root else None,
        "nodes": int(info.mip_node_count), "peak_rss_mb": _peak_rss_mb(),
        "variables": lp.num_col_, "constraints": lp.num_row_, "nonzeros": len(lp.a_matrix_.value_),
    }


def child_lp_bound(a: dict) -> dict:
    """LP relaxation of the MPS model (integrality dropped): the formulation's own bound."""
    h = _quiet_highs()
    h.readModel(a["mps"])
    h.setOptionValue("solve_relaxation", True)
    if a.get("time_limit") is not None:
        h.setOptionValue("time_limit", float(a["time_limit"]))
    if a.get("threads") is not None:
        h.setOptionValue("threads", int(a["threads"]))
    w0, c0 = _clock()
    h.run()
    w1, c1 = _clock()
    ok = h.getModelStatus().name == "kOptimal"
    return {"lp_bound": -h.getInfo().objective_function_value if ok else None, "status": h.getModelStatus().name,
            "wall": w1 - w0, "cpu": c1 - c0}


def child_routes(a: dict) -> dict:
    """Hand-off time of Pyomo's three HiGHS routes on the same built model (issue 3's note)."""
    from optimiser.model import build_model, prepare  # noqa: PLC0415
    from optimiser.model.compile import compile_model  # noqa: PLC0415
    from optimiser.solver.highs import new_highs, pass_compiled  # noqa: PLC0415
    from optimiser.validate import load_instance  # noqa: PLC0415

    instance, _ = load_instance(a["path"])
    md = prepare(instance)
    out: dict[str, Any] = {}
    w0, c0 = _clock()
    m = build_model(md)
    w1, c1 = _clock()
    out["build"] = {"wall": w1 - w0, "cpu": c1 - c0}
    w0, c0 = _clock()
    cm = compile_model(m)
    h = new_highs()
    pass_compiled(h, cm)
    w1, c1 = _clock()
    out["standard_form_highspy"] = {"wall": w1 - w0, "cpu": c1 - c0}
    del h, cm
    for name in a.get("routes", ("appsi", "contrib")):
        try:
            if name == "appsi":
                from pyomo.contrib.appsi.solvers.highs import Highs as AppsiHighs  # noqa: PLC0415

                opt = AppsiHighs()
            else:
                from pyomo.contrib.solver.solvers.highs import Highs as ContribHighs  # noqa: PLC0415

                opt = ContribHighs()
            w0, c0 = _clock()
            opt.set_instance(m)
            w1, c1 = _clock()
            out[name] = {"wall": w1 - w0, "cpu": c1 - c0}
            del opt
        except Exception as exc:  # noqa: BLE001  (a route that fails is reported, not fatal)
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


CHILDREN = {"pipeline": child_pipeline, "mps": child_write_mps, "highs": child_highs, "lp": child_lp_bound,
            "routes": child_routes}


# ===================================================================== parent

def _spawn(kind: str, args: dict, src: str | None, python: str = sys.executable, script: Path | None = None,
           timeout: float | None = None) -> dict:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [python, str(script or Path(__file__).resolve()), "--child", kind, json.dumps(args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, cwd=str(ROOT))
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} child failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1]
    return json.loads(line)


def _instance_path(size: str, workdir: Path, src: str | None) -> Path:
    if size == "default":
        return DEFAULT_INSTANCE
    path = workdir / size
    if not path.exists():
        code = ("import sys; from pathlib import Path; from optimiser.generate import SIZES, generate_instance; "
                f"generate_instance(Path({str(path)!r}), **SIZES[{size!r}])")
        subprocess.run([sys.executable, "-c", code], check=True, cwd=str(ROOT))
    return path


def _median(xs: list[float]) -> float | None:
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def bench_size(size: str, args: argparse.Namespace, workdir: Path, log: Any) -> dict:
    path = _instance_path(size, workdir, args.src)
    opts = {"time_limit": args.time_limit, "mip_gap": args.mip_gap, "threads": args.threads, "seed": args.seed}
    mps = workdir / f"{size}{'-' + args.tag if args.tag else ''}.mps"
    log(f"[{size}] writing MPS …")
    _spawn("mps", {"path": str(path), "mps": str(mps)}, args.src)
    result: dict[str, Any] = {"size": size, "path": str(path), "pipeline": [], "highs": []}
    for i in range(args.runs):
        log(f"[{size}] pipeline run {i + 1}/{args.runs} …")
        with tempfile.TemporaryDirectory() as tmp:
            rep = str(Path(tmp) / "report.xlsx") if args.report else None
            try:
                result["pipeline"].append(_spawn("pipeline", {"path": str(path), "report": rep, **opts}, args.src))
            except RuntimeError as exc:
                log(f"[{size}] pipeline run failed: {str(exc)[-300:]}")
                result.setdefault("errors", []).append(str(exc)[-2000:])
        if args.limit:
            log(f"[{size}] HiGHS alone run {i + 1}/{args.runs} …")
            result["highs"].append(_spawn("highs", {"mps": str(mps), **opts}, args.src))
    if args.strength:
        log(f"[{size}] LP relaxation …")
        result["lp"] = _spawn("lp", {"mps": str(mps), **opts}, args.src)
    if args.routes:
        log(f"[{size}] solver routes …")
        result["routes"] = _spawn("routes", {"path": str(path)}, args.src)
    if args.linopy:
        log(f"[{size}] linopy …")
        try:
            result["linopy"] = _spawn("linopy", {"path": str(path)}, args.src, python=args.linopy,
                                      script=HERE / "linopy_model.py")
        except Exception as exc:  # noqa: BLE001
            result["linopy"] = {"error": str(exc)[-500:]}
    if not args.keep_mps:
        mps.unlink(missing_ok=True)
    result["summary"] = summarise(result)
    return result


def summarise(r: dict) -> dict:
    runs, hs = r["pipeline"], r["highs"]
    s: dict[str, Any] = {"wall": {}, "cpu": {}}
    for key, _ in PHASES:
        s["wall"][key] = _median([x["wall"].get(key) for x in runs])
        s["cpu"][key] = _median([x["cpu"].get(key) for x in runs]) if key not in ("handoff", "solve", "duals") else None
    s["size"] = runs[0]["size"]
    s["peak_rss_mb"] = max(x["peak_rss_mb"] for x in runs)
    s["peak_rss_gen_mb"] = max((x.get("peak_rss_before_solve_mb") or 0.0) for x in runs) or None
    s["highs_read"] = _median([h["read_wall"] for h in hs])
    s["highs_read_cpu"] = _median([h["read_cpu"] for h in hs])
    s["highs_run"] = _median([h["run_wall"] for h in hs])
    s["highs_rss_mb"] = max((h["peak_rss_mb"] for h in hs), default=None)
    w = s["wall"]
    overhead = sum(w[k] or 0.0 for k in ("prepare", "build", "compile", "handoff", "extract"))
    s["overhead"] = overhead
    c = s["cpu"]
    overhead_cpu = sum(c[k] or 0.0 for k in ("prepare", "build", "compile", "extract")) + (w["handoff"] or 0.0)
    s["overhead_cpu"] = overhead_cpu
    s["ratio_total_vs_highs"] = w["total"] / (s["highs_read"] + s["highs_run"]) if hs else None
    s["ratio_overhead_vs_read"] = overhead / s["highs_read"] if hs else None
    s["ratio_overhead_vs_read_cpu"] = overhead_cpu / s["highs_read_cpu"] if s["highs_read_cpu"] else None
    s["overhead_share"] = overhead / w["total"]
    s["start_seconds"] = _median([_start_seconds(x) for x in runs])
    ours = overhead + (w.get("report") or 0.0) + (w.get("read") or 0.0) + (s["start_seconds"] or 0.0)
    s["ours_share"] = ours / w["total"]
    s["status"] = runs[0]["status"]
    s["npv"] = _median([x["npv"] for x in runs])
    s["gap"] = _median([x["gap"] for x in runs])
    s["best_bound"] = _median([x["best_bound"] for x in runs])
    s["root_bound"] = _median([h["root_bound"] for h in hs])
    s["lp_bound"] = r.get("lp", {}).get("lp_bound")
    best = max([x for x in [s["npv"]] + [h["npv"] for h in hs] if x is not None], default=None)
    s["best_npv"] = best
    if best:
        s["lp_gap"] = (s["lp_bound"] - best) / abs(best) if s["lp_bound"] is not None else None
        s["root_gap"] = (s["root_bound"] - best) / abs(best) if s["root_bound"] is not None else None
    return s


def _start_seconds(run: dict) -> float | None:
    """Seconds of our start plan (construction + fix-and-optimise) inside the "HiGHS run" phase."""
    sp = run.get("start_plan")
    if not sp:
        return None
    return float(sp.get("seconds") or 0.0) + float((sp.get("improvement") or {}).get("seconds") or 0.0)


def _fmt(x: Any, digits: int = 2) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def render(results: list[dict]) -> str:
    names = [r["size"] for r in results]
    S = [r["summary"] for r in results]
    head = "| phase / measure | " + " | ".join(names) + " |\n|---|" + "---:|" * len(names) + "\n"
    rows = []

    def row(label: str, vals: list[Any]) -> None:
        rows.append(f"| {label} | " + " | ".join(vals) + " |")

    for key in ("variables", "binaries", "constraints", "nonzeros"):
        row(key, [_fmt(s["size"][key]) for s in S])
    for key, label in PHASES:
        row(f"{label} (s)", [_fmt(s["wall"][key]) + (f" ({_fmt(s['cpu'][key])})" if s["cpu"].get(key) is not None
                                                    and key not in ("total",) else "") for s in S])
    row("peak RSS, whole run (MiB)", [_fmt(s["peak_rss_mb"], 0) for s in S])
    row("peak RSS up to the hand-off (MiB)", [_fmt(s.get("peak_rss_gen_mb"), 0) for s in S])
    row("**limit**: HiGHS alone read MPS (s)", [_fmt(s["highs_read"]) + f" ({_fmt(s['highs_read_cpu'])})" for s in S])
    row("**limit**: HiGHS alone run (s)", [_fmt(s["highs_run"]) for s in S])
    row("HiGHS alone peak RSS (MiB)", [_fmt(s["highs_rss_mb"], 0) for s in S])
    row("generation overhead: prepare+build+compile+hand-off+extract (s)",
        [_fmt(s["overhead"]) + f" ({_fmt(s['overhead_cpu'])})" for s in S])
    row("**ratio** end-to-end / HiGHS alone (read+run)", [_fmt(s["ratio_total_vs_highs"]) for s in S])
    row("**ratio** overhead / HiGHS-alone read (wall; cpu)",
        [f"{_fmt(s['ratio_overhead_vs_read'])}; {_fmt(s['ratio_overhead_vs_read_cpu'])}" for s in S])
    row("overhead share of end-to-end", [f"{100 * s['overhead_share']:.1f} %" for s in S])
    row("our start plan inside the HiGHS run: construction + fix-and-optimise (s)", [_fmt(s.get("start_seconds")) for s in S])
    row("**share of our own phases** (read+validate, overhead, start plan, report) of end-to-end",
        [f"{100 * s['ours_share']:.1f} %" for s in S])
    row("status (pipeline)", [s["status"] for s in S])
    row("NPV (best found)", [_fmt(s["best_npv"], 0) for s in S])
    row("LP-relaxation bound", [_fmt(s["lp_bound"], 0) for s in S])
    row("root bound (after HiGHS cuts)", [_fmt(s["root_bound"], 0) for s in S])
    row("final bound", [_fmt(s["best_bound"], 0) for s in S])
    row("LP gap to best NPV", [f"{100 * s['lp_gap']:.2f} %" if s.get("lp_gap") is not None else "–" for s in S])
    row("root gap to best NPV", [f"{100 * s['root_gap']:.2f} %" if s.get("root_gap") is not None else "–" for s in S])
    row("final MIP gap", [f"{100 * s['gap']:.3f} %" if s.get("gap") is not None else "–" for s in S])
    text = head + "\n".join(rows) + "\n"
    extra = []
    for r in results:
        if "routes" in r:
            rt = r["routes"]
            parts = [f"{k}: {v['wall']:.2f} s wall ({v['cpu']:.2f} cpu)" if "wall" in v else f"{k}: {v.get('error')}"
                     for k, v in rt.items() if isinstance(v, dict)]
            extra.append(f"routes [{r['size']}]: " + "; ".join(parts))
        if "linopy" in r:
            lp = r["linopy"]
            extra.append(f"linopy [{r['size']}]: " + json.dumps(lp))
    return text + ("\n" + "\n".join(extra) + "\n" if extra else "")


def machine() -> dict:
    import highspy  # noqa: F401, PLC0415

    info = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "loadavg_start": os.getloadavg()}
    try:
        info["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                        cwd=str(ROOT)).stdout.strip()
    except OSError:
        pass
    return info


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default=",".join(ALL_SIZES), help="comma list of: " + ", ".join(ALL_SIZES))
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--time-limit", type=float, default=60.0, help="HiGHS time limit per run (s), both routes")
    p.add_argument("--mip-gap", type=float, default=None)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--json", type=Path, default=None, help="write every run and the medians here")
    p.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "ev-bench",
                   help="generated instances and MPS files (instances are kept and re-used)")
    p.add_argument("--src", default=None, help="directory holding the optimiser package to benchmark")
    p.add_argument("--tag", default="", help="suffix for MPS files (when several harnesses share a workdir)")
    p.add_argument("--no-report", dest="report", action="store_false", help="skip the report-write phase")
    p.add_argument("--no-strength", dest="strength", action="store_false", help="skip the LP-relaxation bound")
    p.add_argument("--no-limit", dest="limit", action="store_false",
                   help="skip HiGHS alone on the MPS file (the limit columns stay empty)")
    p.add_argument("--routes", action="store_true", help="also time appsi / contrib 'highs' hand-off")
    p.add_argument("--linopy", default=None, help="python of a venv with linopy: build+hand-off the same model")
    p.add_argument("--keep-mps", action="store_true")
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        kind, payload = a.child
        out = CHILDREN[kind](json.loads(payload))
        print(json.dumps(out, default=float), flush=True)
        return 0
    sizes = [s.strip() for s in a.sizes.split(",") if s.strip()]
    bad = [s for s in sizes if s not in ALL_SIZES]
    if bad:
        p.error(f"unknown size(s) {bad}")
    a.workdir.mkdir(parents=True, exist_ok=True)

    def log(msg: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {msg}", file=sys.stderr, flush=True)

    meta = {"machine": machine(), "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(a).items()}}
    results = []
    for size in sizes:
        results.append(bench_size(size, a, a.workdir, log))
        if a.json:  # keep what we have so far
            a.json.write_text(json.dumps({**meta, "results": results}, indent=1, default=float))
    meta["machine"]["loadavg_end"] = os.getloadavg()
    if a.json:
        a.json.write_text(json.dumps({**meta, "results": results}, indent=1, default=float))
    print(render(results))
    print("Seconds are medians of wall time; (CPU seconds of our process) in brackets. "
          f"HiGHS time limit {a.time_limit:g} s. Load average {meta['machine']['loadavg_start']} → "
          f"{meta['machine']['loadavg_end']} on {meta['machine']['cpus']} CPUs.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
