"""Plan quality over time: ours (construction heuristic / start plan, then HiGHS) against HiGHS
alone, on the same model at the same limits, side by side in one run.

Not a test. For each instance (the default one, generated sizes and seeds) and each mode, a fresh
subprocess compiles the model and runs:

* ``highs`` — HiGHS alone on the compiled model (``passModel``, the given options, no start);
* ``ours`` — what ``optimiser solve`` does in its MIP process (:mod:`optimiser.solver.child`):
  the start plan its ``auto`` rules choose (:mod:`optimiser.solver.construct` then
  :mod:`optimiser.solver.fix_optimise` on the generated medium and larger cases,
  :mod:`optimiser.solver.local_search` on the facility-location shape), then HiGHS with that start
  and the time left;
* ``ours+OPT=V`` — the same with a HiGHS option (to measure before adopting).

Every improving plan and every bound HiGHS reports (its MIP callbacks) is stamped with wall
seconds since the model was handed over; the table gives time to first plan and, at each
checkpoint, the NPV of the best plan so far, the best bound and the gap (as HiGHS defines it:
|bound − plan| / |plan|). The bound is HiGHS's own, and in ``ours`` also the LP relaxation's
solved beside the search where the child does so (:mod:`optimiser.solver.lp_bound`), from the
second it ends. Ratios: ours / HiGHS alone.

The machine may be shared (the CPU load is printed): compare the ratios of one run, not the
seconds of different runs.

Usage::

    .venv/bin/python benchmarks/plan_quality.py --instances default,small,medium:1,medium:2 --time-limit 120
    .venv/bin/python benchmarks/plan_quality.py --instances medium:1 --modes highs,ours,ours+mip_lp_solver=ipm
    .venv/bin/python benchmarks/plan_quality.py --instances large:1 --time-limit 600 --json large.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_INSTANCE = ROOT / "instances" / "foxconn-vinfast-2021"


# ============================================================== child: one instance, one mode

def _child(instance: str, mode: str, time_limit: float, threads: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    import numpy as np  # noqa: PLC0415

    from optimiser.model import build_model, prepare  # noqa: PLC0415
    from optimiser.model.compile import compile_model  # noqa: PLC0415
    from optimiser.solver import child, fix_optimise, lp_bound  # noqa: PLC0415
    from optimiser.solver.arrays import model_arrays  # noqa: PLC0415
    from optimiser.solver.highs import configured_highs, pass_arrays, set_start  # noqa: PLC0415
    from optimiser.solver.options import SolveOptions  # noqa: PLC0415
    from optimiser.validate import load_instance  # noqa: PLC0415

    inst, _ = load_instance(instance)
    cm = compile_model(build_model(prepare(inst, "optimise", None)))
    arrays = model_arrays(cm)
    base, _, extra = mode.partition("+")
    highs_options: dict[str, Any] = {}
    if extra:
        name, _, value = extra.partition("=")
        highs_options[name] = _typed(value)
    opts = SolveOptions(time_limit=time_limit, threads=threads, highs_options=highs_options,
                        local_search="auto" if base == "ours" else "off")
    events: list[tuple[float, float, float]] = []  # (seconds, −NPV of the best plan, −bound)
    t0 = time.perf_counter()

    class _Recorder:  # the incumbent the start-plan functions offer their plan to
        def offer(self, x: Any, cost: float, bound: float) -> None:
            events.append((time.perf_counter() - t0, float(cost), float(bound)))

    start = plan_info = search = bound_job = None
    if base == "ours":
        search = child.search_settings(cm, opts)
        if search is not None and search.lp_bound:  # the LP bound on the second core, as the child
            bound_job = lp_bound.start(arrays, lambda: child.search_highs(search), time_limit)
        found = None
        if search is not None and search.weak is not None:
            found = child.local_search_plan(arrays, search, _Recorder(), False)
        if search is not None and found is None and search.construct is not None:
            found = child.constructed_plan(arrays, search, _Recorder(), False)
            if found is not None and search.neighbourhoods:
                found = child.FoundStart(*fix_optimise.improved_plan(
                    arrays, found.x, found.facts, search.neighbourhoods, lambda: child.search_highs(search),
                    lambda x, cost: _Recorder().offer(x, cost, -math.inf),
                    child.improve_seconds(search, time_limit, time.perf_counter() - t0),
                    search.improve_submips, lambda show, text: print(text, file=sys.stderr) if show else None,
                    False))
        if found is not None:
            start, plan_info = found.x, found.facts
    settings = opts.highs_settings()
    if base == "ours" and search is not None:
        for name, value in (search.highs_defaults or {}).items():
            settings.setdefault(name, value)
    settings["time_limit"] = max(time_limit - (time.perf_counter() - t0), 1e-3)
    h = configured_highs(False, settings)
    pass_arrays(h, arrays)

    def seen(e: Any) -> None:
        out = e.data_out
        obj = float(out.objective_function_value)
        bound = float(out.mip_dual_bound)
        if events and not math.isfinite(obj):
            obj = events[-1][1]
        events.append((time.perf_counter() - t0, obj, bound))

    h.cbMipImprovingSolution.subscribe(seen)
    h.cbMipInterrupt.subscribe(seen)
    if start is not None:
        set_start(h, start)
    h.run()
    info = h.getInfo()
    end = time.perf_counter() - t0
    final_obj = float(info.objective_function_value) if info.primal_solution_status == 2 else math.inf
    events.append((end, final_obj, float(info.mip_dual_bound)))
    lp = bound_job.stop() if bound_job is not None else None
    if lp is not None and lp.min_cost is not None:  # known from the LP's end on (started at t0)
        events.append((lp.seconds, math.inf, lp.min_cost))
        events.sort(key=lambda e: e[0])
    return {"instance": instance, "mode": mode, "time_limit": time_limit, "events": events,
            "seconds": end, "status": h.getModelStatus().name, "start_plan": plan_info,
            "variables": int(len(arrays.col_lower)), "binaries": int(np.count_nonzero(arrays.integrality)),
            "rows": int(len(arrays.row_lower))}


def _typed(value: str) -> Any:
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(value.lower(), value)


# ============================================================== parent: instances, table

def _instance_path(spec: str, workdir: Path) -> tuple[str, str]:
    """``default`` or ``SIZE:SEED`` → (label, folder), generating the instance when needed."""
    if spec == "default":
        return "default", str(DEFAULT_INSTANCE)
    size, _, seed = spec.partition(":")
    seed = seed or "1"
    out = workdir / f"{size}-seed{seed}"
    if not out.exists():
        subprocess.run([sys.executable, "-m", "optimiser", "generate", str(out), "--size", size, "--seed", seed],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return f"{size} seed {seed}", str(out)


def _state_at(events: list, t: float, limit: float = math.inf) -> tuple[float | None, float | None]:
    """(NPV of the best plan, best bound as NPV) known at ``t`` seconds (at the time limit: at the end)."""
    best = bound = None
    for s, obj, b in events:
        if s > t + 1e-9 and t < limit:
            break
        if math.isfinite(obj):
            best = -obj if best is None else max(best, -obj)
        if math.isfinite(b) and abs(b) < 1e30:
            bound = -b if bound is None else min(bound, -b)
    return best, bound


def _first_plan(events: list) -> float | None:
    return next((s for s, obj, _ in events if math.isfinite(obj)), None)


def _gap(npv: float | None, bound: float | None) -> float | None:
    if npv is None or bound is None or npv == 0:
        return None
    return abs(bound - npv) / abs(npv)


def _fmt(v: float | None, kind: str) -> str:
    if v is None:
        return "—"
    if kind == "gap":
        return f"{100 * v:.2f} %"
    if kind == "s":
        return f"{v:.1f}"
    if kind == "npv":
        return f"{v / 1e9:.3f} bn" if abs(v) >= 1e8 else f"{v:,.0f}"
    return f"{v:.3f}"


def _table(rows: list[dict], checkpoints: list[float]) -> str:
    head = ["instance", "mode", "first plan (s)"]
    for c in checkpoints:
        head += [f"NPV @{c:g}s", f"gap @{c:g}s"]
    head += ["first-plan ratio", "NPV ratio at the limit"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    by_inst: dict[str, dict[str, dict]] = {}
    for r in rows:
        by_inst.setdefault(r["label"], {})[r["mode"]] = r
    for label, modes in by_inst.items():
        ref = modes.get("highs")
        for mode, r in modes.items():
            ev = r["events"]
            cells = [label, mode, _fmt(_first_plan(ev), "s")]
            for c in checkpoints:
                if c > r["time_limit"] + 1e-9:  # past this run's limit
                    cells += ["", ""]
                    continue
                npv, bound = _state_at(ev, c, r["time_limit"])
                cells += [_fmt(npv, "npv"), _fmt(_gap(npv, bound), "gap")]
            if ref is not None and mode != "highs":
                f_ours, f_ref = _first_plan(ev), _first_plan(ref["events"])
                cells.append("—" if f_ours is None or f_ref is None else f"{f_ours / f_ref:.2f}"
                             if f_ref > 0 else "—")
                n_ours = _state_at(ev, r["time_limit"], r["time_limit"])[0]
                n_ref = _state_at(ref["events"], r["time_limit"], r["time_limit"])[0]
                cells.append("HiGHS none" if n_ref is None and n_ours is not None else
                             "—" if n_ours is None or n_ref is None or n_ref == 0 else f"{n_ours / n_ref:.4f}")
            else:
                cells += ["1", "1"] if mode == "highs" else ["—", "—"]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", default="default,small:1,medium:1,medium:2",
                    help="default or SIZE:SEED, each optionally @SECONDS (its own time limit)")
    ap.add_argument("--modes", default="highs,ours")
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--checkpoints", default="30,60,120")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--concurrent", action="store_true",
                    help="run an instance's modes side by side (one process each), not one after the other")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--workdir", type=Path, default=None, help="where generated instances go (default: a temp dir)")
    ap.add_argument("--one", nargs=2, metavar=("INSTANCE", "MODE"), help=argparse.SUPPRESS)
    ap.add_argument("--from-json", type=Path, nargs="+", default=None, help="print the table of saved runs")
    a = ap.parse_args()
    if a.from_json:
        saved = [r for f in a.from_json for r in json.loads(f.read_text())]
        print(_table(saved, [float(c) for c in a.checkpoints.split(",")]))
        return
    if a.one:
        print(json.dumps(_child(a.one[0], a.one[1], a.time_limit, a.threads)))
        return
    checkpoints = [float(c) for c in a.checkpoints.split(",")]
    workdir = a.workdir or Path(tempfile.mkdtemp(prefix="plan-quality-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"load average at start: {os.getloadavg()}; cores: {os.cpu_count()}; threads per run: {a.threads}",
          file=sys.stderr)
    rows = []
    for item in a.instances.split(","):
        spec, _, limit_text = item.partition("@")
        limit = float(limit_text) if limit_text else a.time_limit
        label, path = _instance_path(spec, workdir)
        if limit_text:
            label = f"{label} @{limit:g}s"
        modes = a.modes.split(",")
        procs = [subprocess.Popen([sys.executable, __file__, "--one", path, mode, "--time-limit", str(limit),
                                   "--threads", str(a.threads)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, cwd=ROOT) for mode in (modes if a.concurrent else [])]
        for k, mode in enumerate(modes):
            if a.concurrent:
                out, err = procs[k].communicate()
                code = procs[k].returncode
            else:
                proc = subprocess.run([sys.executable, __file__, "--one", path, mode, "--time-limit", str(limit),
                                       "--threads", str(a.threads)], capture_output=True, text=True, cwd=ROOT)
                out, err, code = proc.stdout, proc.stderr, proc.returncode
            if code != 0:
                print(err, file=sys.stderr)
                continue
            r = json.loads(out.strip().splitlines()[-1])
            r["label"] = label
            r["load"] = os.getloadavg()[0]
            rows.append(r)
            first = _first_plan(r["events"])
            print(f"{label:16} {mode:28} first plan {first if first is None else round(first, 1)} s, "
                  f"status {r['status']}, {r['seconds']:.0f} s, load {r['load']:.1f}, "
                  f"start plan {r['start_plan']}", file=sys.stderr, flush=True)
        if a.json:  # after every instance, so a stopped run keeps what it measured
            a.json.write_text(json.dumps(rows, indent=1))
    print(_table(rows, checkpoints))
    print(f"\nload average at end: {os.getloadavg()}", file=sys.stderr)
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
