#!/usr/bin/env python3
"""OR-Library capa, capb, capc: ``optimiser solve`` (as validate_orlib runs it) against HiGHS alone
on the same model file, side by side in one run.

Not a test. Per instance (converted by ``orlib.py`` into a temporary folder; the raw data stays
in the shared OR-Library folder):

* **ours** — ``optimiser solve DIR --json --mip-gap 0 --time-limit T --threads 1 --no-report
  --write-model DIR.mps`` (validate_orlib's command plus ``--write-model``), judged by
  ``validate_orlib.judge`` against the published optimum;
* **HiGHS alone** — started as soon as ours has written the model file: ``highspy`` reads that
  ``.mps`` (the whole model, every linking row) and solves it with ``threads=1``,
  ``mip_rel_gap=0`` and the same time limit, no start; its improving plans are time-stamped.

The two run at the same time, so they share the machine alike: compare the ratios of one run,
not the seconds of different runs (the CPU load is printed). Seconds are wall: ours from the
command's start (build, start plan, rows, MIP, results), HiGHS's from its ``run()``.

Usage::

    .venv/bin/python benchmarks/capa_vs_highs.py --orlib /work/shared/benchmarks/orlib --time-limit 120
    .venv/bin/python benchmarks/capa_vs_highs.py --only capa-8000 --json out.json
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import validate_orlib  # noqa: E402
from orlib import DEFAULT_ORLIB, discover_instances, write_instance  # noqa: E402

DEFAULT_ONLY = "capa-*,capb-*,capc-*"

HIGHS_ALONE = r"""
import json, sys, time
import highspy
path, limit = sys.argv[1], float(sys.argv[2])
h = highspy.Highs()
h.setOptionValue("output_flag", False)
h.readModel(path)
for name, value in (("threads", 1), ("mip_rel_gap", 0.0), ("time_limit", limit)):
    h.setOptionValue(name, value)
t0 = time.perf_counter()
plans = []
def improving(e):
    plans.append((time.perf_counter() - t0, e.data_out.objective_function_value))
h.cbMipImprovingSolution.subscribe(improving)
h.run()
info = h.getInfo()
print(json.dumps({"status": h.getModelStatus().name, "seconds": time.perf_counter() - t0,
                  "objective": info.objective_function_value if plans else None,
                  "bound": info.mip_dual_bound, "nodes": info.mip_node_count, "plans": plans}))
"""


def _ours_cmd(cli: list[str], folder: Path, mps: Path, limit: float) -> list[str]:
    return [*cli, "solve", str(folder), "--json", "--mip-gap", "0", "--time-limit", repr(float(limit)),
            "--threads", "1", "--no-report", "--write-model", str(mps)]


def _wait_for(path: Path, proc: subprocess.Popen, most: float) -> bool:
    t0 = time.perf_counter()
    while not path.exists():
        if proc.poll() is not None or time.perf_counter() - t0 > most:
            return False
        time.sleep(0.2)
    return True


def _time_to(plans: list, value: float, tol: float) -> float | None:
    """Seconds to the first plan within ``tol`` of ``value`` (None: never)."""
    return next((t for t, v in plans if v is not None and v <= value + tol), None)


def run_one(ins, cli: list[str], root: Path, limit: float, ours_only: bool = False) -> dict:
    folder = root / ins.name
    write_instance(ins.tables(), folder)
    mps = root / f"{ins.name}.mps"
    t0 = time.perf_counter()
    ours = subprocess.Popen(_ours_cmd(cli, folder, mps, limit), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=root)
    alone = None
    if not ours_only and _wait_for(mps, ours, 600):
        alone = subprocess.Popen([sys.executable, "-c", HIGHS_ALONE, str(mps), repr(float(limit))],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = ours.communicate()
    wall = time.perf_counter() - t0
    run = {"returncode": ours.returncode, "wall_seconds": wall, "json": validate_orlib._parse_json(out),
           "stderr": err}
    row = validate_orlib.judge(ins, run)
    row["load"] = os.getloadavg()[0]
    hi = None
    if alone is not None:
        a_out, _ = alone.communicate()
        hi = validate_orlib._parse_json(a_out)
    row["highs"] = hi
    if hi is not None and row["published"] is not None:
        hi["time_to_optimum"] = _time_to(hi["plans"], row["published"], row["tolerance"])
    return row


def _f(x: float | None, digits: int = 0) -> str:
    return "—" if x is None else f"{x:,.{digits}f}"


def _gap(value: float | None, bound: float | None) -> float | None:
    if value is None or bound is None or value == 0:
        return None
    return abs(value - bound) / abs(value)


def print_table(rows: list[dict], limit: float) -> None:
    print("| instance | published | ours | ours bound | ours | ours s | HiGHS alone | its bound | its gap | "
          "its s (plan = optimum at) | ours s / HiGHS s | load |")
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        hi = r["highs"] or {}
        h_proven = hi.get("status") == "kOptimal"
        h_s = hi.get("seconds")
        ratio = None if h_s is None or r["wall_seconds"] is None else r["wall_seconds"] / h_s
        ratio_text = "—" if ratio is None else (f"{ratio:.2f}" if h_proven else f"< {ratio:.2f}")
        tto = hi.get("time_to_optimum")
        print(f"| {r['instance']} | {_f(r['published'])} | {_f(r['ours'])} | {_f(r['cost_bound'])} | {r['match']} | "
              f"{_f(r['wall_seconds'], 1)} | {_f(hi.get('objective'))} | {_f(hi.get('bound'))} | "
              f"{_f(None if _gap(hi.get('objective'), hi.get('bound')) is None else 100 * _gap(hi.get('objective'), hi.get('bound')), 2)} % | "
              f"{_f(h_s, 1)} ({'never' if tto is None else _f(tto, 1)}) | {ratio_text} | {r['load']:.1f} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orlib", type=Path, default=DEFAULT_ORLIB, help="shared OR-Library folder (default: %(default)s)")
    ap.add_argument("--only", default=DEFAULT_ONLY, help="fnmatch pattern(s), comma-separated (default: %(default)s)")
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--json", type=Path, help="write every row as JSON")
    ap.add_argument("--ours-only", action="store_true",
                    help="ours alone on the machine (it may use the second core: optimiser.solver.beside)")
    args = ap.parse_args(argv)
    patterns = [p for p in args.only.split(",") if p]
    instances = [i for i in discover_instances(args.orlib) if any(fnmatch.fnmatch(i.name, p) for p in patterns)]
    if not instances:
        print("no instance matches", file=sys.stderr)
        return 1
    cli = validate_orlib.find_cli(None)
    rows = []
    with tempfile.TemporaryDirectory(prefix="capa-") as tmp:
        for ins in instances:
            row = run_one(ins, cli, Path(tmp), args.time_limit, args.ours_only)
            rows.append(row)
            print(json.dumps({k: row[k] for k in ("instance", "ours", "cost_bound", "match", "wall_seconds",
                                                   "solve_seconds", "start_plan", "linking_rows", "load", "highs")}),
                  file=sys.stderr, flush=True)
    print_table(rows, args.time_limit)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
