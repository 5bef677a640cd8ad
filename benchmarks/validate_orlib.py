#!/usr/bin/env python3
"""Validate the optimiser against published OR-Library optima (GAP, CFLP, SSCFLP).

Each benchmark problem is converted into an instance folder through the model
spec's mappings (see ``benchmarks/orlib.py``), solved with the project's CLI

    optimiser solve DIR --json --mip-gap 0 --time-limit T --threads 1

and ``-NPV`` is compared with the published optimum. Prints a table
``instance | published | ours | status | seconds | match``.

``match`` values:
  yes      solver proved optimality and -NPV equals the published optimum
  yes*     -NPV equals the published optimum, but optimality was not proven in the limit
  open     time limit hit; incumbent and bound are consistent with the published optimum
  NO       contradiction: a different "optimal" value, an incumbent better than a proven
           optimum, or a bound that excludes it (a conversion or model error)
  ERROR    the CLI failed (invalid input, infeasible, no solution, crash, timeout kill)
  ref      published value is not a proven optimum (informational only)

Exit status: 0 when every proven optimum is reproduced (yes / yes*); 1 when any
instance is NO or ERROR; 2 when the only failures are time-limit cases (open),
unless ``--allow-timeouts`` is given.

The raw data is read from the shared OR-Library folder (``--orlib``; default
``<repo>/../shared/benchmarks/orlib``) and never copied into the repository;
instance folders go to a temporary directory unless ``--keep DIR`` is given.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import orlib  # noqa: E402
from orlib import (  # noqa: E402,F401  (re-exported for tests)
    BenchInstance,
    cflp_instance_tables,
    discover_instances,
    gap_instance_tables,
    sscflp_instance_tables,
    write_instance,
)

SETS = ("gap", "cflp", "sscflp", "all")
FAMILY_OF_SET = {"gap": {"gap"}, "cflp": {"cflp"}, "sscflp": {"sscflp"}, "all": {"gap", "cflp", "sscflp"}}


# --------------------------------------------------------------------------- CLI discovery


def find_cli(explicit: str | None = None) -> list[str]:
    """Command prefix that runs the optimiser CLI."""
    if explicit:
        return shlex.split(explicit)
    exe_dir = Path(sys.executable).parent
    for candidate in (exe_dir / "optimiser", REPO / ".venv" / "bin" / "optimiser"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return [str(candidate)]
    return [sys.executable, "-m", "optimiser.cli"]


# --------------------------------------------------------------------------- running


def _parse_json(stdout: str) -> dict | None:
    text = stdout.strip()
    if not text:
        return None
    try:
        obj = json.loads(text)
        return obj if isinstance(obj, dict) else None
    except json.JSONDecodeError:
        pass
    # Tolerate log lines around the JSON object.
    start, end = text.find("{"), text.rfind("}")
    if start >= 0 and end > start:
        try:
            obj = json.loads(text[start : end + 1])
            return obj if isinstance(obj, dict) else None
        except json.JSONDecodeError:
            return None
    return None


def _num(value) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def run_cli(cli: list[str], folder: Path, time_limit: float, threads: int, wall_limit: float) -> dict:
    cmd = [
        *cli,
        "solve",
        str(folder),
        "--json",
        "--mip-gap",
        "0",
        "--time-limit",
        repr(float(time_limit)),
        "--threads",
        str(threads),
        "--no-report",
    ]
    t0 = time.perf_counter()
    try:
        # cwd = the instance's parent so that nothing can land in the caller's working tree.
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=wall_limit, cwd=folder.parent)
    except subprocess.TimeoutExpired as exc:
        return {
            "cmd": cmd,
            "returncode": None,
            "wall_seconds": time.perf_counter() - t0,
            "json": None,
            "stderr": (exc.stderr or b"").decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or ""),
            "error": f"killed after {wall_limit:.0f} s wall time",
        }
    wall = time.perf_counter() - t0
    return {
        "cmd": cmd,
        "returncode": proc.returncode,
        "wall_seconds": wall,
        "json": _parse_json(proc.stdout),
        "stdout_tail": proc.stdout[-2000:],
        "stderr": proc.stderr[-4000:],
        "error": None,
    }


def judge(ins: BenchInstance, run: dict) -> dict:
    """Turn one CLI run into a result row."""
    res = run.get("json") or {}
    status = str(res.get("status", "")) or None
    npv = _num(res.get("npv"))
    bound = _num(res.get("best_bound"))
    ours = -npv if npv is not None else None
    bound_cost = -bound if bound is not None else None  # NPV is maximised: its bound is a cost lower bound
    rc = run.get("returncode")
    seconds = _num(res.get("solve_seconds"))
    row = {
        "instance": ins.name,
        "family": ins.family,
        "group": ins.group,
        "source": ins.source,
        "published": ins.published,
        "proven": ins.proven,
        "tolerance": ins.tolerance,
        "ours": ours,
        "cost_bound": bound_cost,
        "status": status,
        "gap": _num(res.get("gap")),
        "solve_seconds": seconds,
        "build_seconds": _num(res.get("build_seconds")),
        "wall_seconds": run.get("wall_seconds"),
        "returncode": rc,
        "start_plan": res.get("start_plan"),
        "linking_rows": res.get("linking_rows"),
        "match": None,
        "detail": "",
    }
    pub, tol = ins.published, ins.tolerance
    if run.get("error") or rc != 0:
        row["status"] = status or (f"exit {rc}" if rc is not None else "killed")
        stderr_lines = (run.get("stderr") or "").strip().splitlines()
        row["detail"] = run.get("error") or (stderr_lines[-1] if stderr_lines else f"exit code {rc}")
        if rc == 3 and ins.proven:
            row["match"] = "open"  # no solution within the limits: not a wrong answer
        elif rc == 2 and pub is not None:
            row["match"] = "NO"  # a published solution exists, so "infeasible" is wrong
            row["detail"] = "CLI reports infeasible; " + row["detail"]
        else:
            row["match"] = "ERROR"
        return row
    if ours is None:
        row["match"] = "ERROR"
        row["detail"] = "no npv in CLI output" + (f" (status {status})" if status else "")
        return row
    if pub is None:
        row["match"] = "ref"
        row["detail"] = "no published value"
        return row
    equal = abs(ours - pub) <= tol
    optimal = status == "optimal"
    if not ins.proven:
        row["match"] = "ref"
        if ours < pub - tol:
            row["detail"] = f"better than best known {pub:g}"
        else:
            row["detail"] = ins.note
        return row
    problems = []
    if optimal and not equal:
        problems.append(f"optimal value {ours!r} != published {pub!r} (diff {ours - pub:+.6g})")
    if ours < pub - tol:
        problems.append(f"solution cost {ours!r} below proven optimum {pub!r}: model too loose or conversion wrong")
    if bound_cost is not None and bound_cost > pub + tol:
        problems.append(f"bound {bound_cost!r} above proven optimum {pub!r}: model too tight or conversion wrong")
    if problems:
        row["match"] = "NO"
        row["detail"] = "; ".join(dict.fromkeys(problems))
    elif equal:
        row["match"] = "yes" if optimal else "yes*"
    else:
        row["match"] = "open"
        row["detail"] = f"status {status}"
    return row


# --------------------------------------------------------------------------- output


def _fmt_num(x: float | None, family: str) -> str:
    if x is None:
        return "-"
    if family == "cflp":
        return f"{x:.3f}"
    if abs(x - round(x)) < 1e-6:
        return f"{round(x):d}"
    return f"{x:.6f}"


def _fmt_row(row: dict) -> list[str]:
    secs = row.get("solve_seconds")
    if secs is None:
        secs = row.get("wall_seconds")
    return [
        row["instance"],
        _fmt_num(row["published"], row["family"]) + ("" if row["proven"] else " (bk)"),
        _fmt_num(row["ours"], row["family"]),
        str(row["status"] or "-"),
        f"{secs:.1f}" if secs is not None else "-",
        str(row["match"]),
    ]


HEADER = ["instance", "published", "ours", "status", "seconds", "match"]
WIDTHS = [12, 18, 18, 12, 8, 6]


def _line(cells: list[str]) -> str:
    return " | ".join(c.ljust(w) if k in (0, 3, 5) else c.rjust(w) for k, (c, w) in enumerate(zip(cells, WIDTHS)))


def print_table(rows: list[dict], out=sys.stdout) -> None:
    print(_line(HEADER), file=out)
    print("-+-".join("-" * w for w in WIDTHS), file=out)
    for row in rows:
        print(_line(_fmt_row(row)), file=out)


# --------------------------------------------------------------------------- main


def select(instances: list[BenchInstance], args) -> list[BenchInstance]:
    families = FAMILY_OF_SET[args.set]
    chosen = [i for i in instances if i.family in families]
    if args.quick:
        chosen = [i for i in chosen if i.name in orlib.QUICK_INSTANCES]
    if args.only:
        patterns = [p for spec in args.only for p in spec.split(",") if p]
        chosen = [i for i in chosen if any(fnmatch.fnmatchcase(i.name, p) for p in patterns)]
    return chosen


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        description="Solve OR-Library GAP / CFLP / SSCFLP problems with the optimiser CLI and "
        "compare -NPV with the published optima.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("``match`` values:", 1)[1] if "``match`` values:" in __doc__ else None,
    )
    ap.add_argument("--orlib", type=Path, default=orlib.DEFAULT_ORLIB, help="shared OR-Library folder (default: %(default)s)")
    ap.add_argument("--set", choices=SETS, default="all", help="benchmark family to run (default: all)")
    ap.add_argument("--only", action="append", metavar="PATTERN", help="fnmatch pattern(s) on instance names, e.g. 'gap1-*', a05100, cap4?, 'capa-*', p1; repeat or comma-separate")
    ap.add_argument("--quick", action="store_true", help="small subset (%s) that runs in < 60 s" % ", ".join(orlib.QUICK_INSTANCES))
    ap.add_argument("--include-d", action="store_true", help="also run GAP type D (hard; d20200 has no proven optimum)")
    ap.add_argument("--time-limit", type=float, default=60.0, help="solver time limit per instance in seconds (default: %(default)s)")
    ap.add_argument("--threads", type=int, default=1, help="solver threads (default: %(default)s)")
    ap.add_argument("--keep", type=Path, metavar="DIR", help="write instance folders to DIR/<instance> and keep them")
    ap.add_argument("--json", type=Path, metavar="FILE", help="write all results (and run metadata) as JSON")
    ap.add_argument("--cli", metavar="CMD", help="command that runs the optimiser (default: the optimiser script next to this Python, else python -m optimiser.cli)")
    ap.add_argument("--allow-timeouts", action="store_true", help="exit 0 even when some proven optima were not reached within the time limit")
    ap.add_argument("--convert-only", action="store_true", help="only write the instance folders (requires --keep)")
    ap.add_argument("--list", action="store_true", help="list the selected instances and their published values, then exit")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.orlib.is_dir():
        print(f"OR-Library folder not found: {args.orlib} (use --orlib)", file=sys.stderr)
        return 1
    instances = select(discover_instances(args.orlib, include_gap_d=args.include_d), args)
    if not instances:
        print("no instance matches the selection", file=sys.stderr)
        return 1
    if args.list:
        for ins in instances:
            pub = "-" if ins.published is None else repr(ins.published)
            print(f"{ins.name:12s} {ins.family:7s} {pub:>18s} {'proven' if ins.proven else 'best-known':10s} {ins.source}")
        return 0
    if args.convert_only and not args.keep:
        print("--convert-only needs --keep DIR", file=sys.stderr)
        return 1

    cli = find_cli(args.cli)
    tmp = None
    if args.keep:
        root = args.keep.resolve()
        root.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.mkdtemp(prefix="orlib-")
        root = Path(tmp)

    wall_limit = 3 * args.time_limit + 300  # build time is not covered by the solver limit
    rows: list[dict] = []
    started = time.time()
    try:
        if not args.convert_only:
            print(f"# optimiser: {' '.join(cli)}  time limit {args.time_limit:g}s  threads {args.threads}  instances {len(instances)}", flush=True)
            print(_line(HEADER), flush=True)
            print("-+-".join("-" * w for w in WIDTHS), flush=True)
        for ins in instances:
            folder = root / ins.name
            if folder.exists():
                shutil.rmtree(folder)
            write_instance(ins.tables(), folder)
            if args.convert_only:
                print(folder)
                continue
            run = run_cli(cli, folder, args.time_limit, args.threads, wall_limit)
            row = judge(ins, run)
            row["folder"] = str(folder) if args.keep else None
            if row["match"] in ("ERROR", "NO"):
                row["stderr_tail"] = (run.get("stderr") or "")[-2000:]
                row["cmd"] = run.get("cmd")
            rows.append(row)
            line = _line(_fmt_row(row))
            if row["detail"] and row["match"] not in ("yes", "ref"):
                line += f"   # {row['detail']}"
            print(line, flush=True)
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.convert_only:
        return 0

    counts: dict[str, int] = {}
    for row in rows:
        counts[row["match"]] = counts.get(row["match"], 0) + 1
    proven = [r for r in rows if r["proven"]]
    reproduced = [r for r in proven if r["match"] in ("yes", "yes*")]
    bad = [r for r in rows if r["match"] in ("NO", "ERROR")]
    open_ = [r for r in proven if r["match"] == "open"]
    print()
    print(
        f"# {len(reproduced)}/{len(proven)} proven optima reproduced"
        f" ({counts.get('yes', 0)} proven optimal, {counts.get('yes*', 0)} found but not proven in the limit);"
        f" {len(open_)} open at the time limit; {len(bad)} NO/ERROR; wall {time.time() - started:.0f}s"
    )
    for r in bad:
        where = f" folder {r['folder']}" if r.get("folder") else ""
        print(f"#   {r['match']}: {r['instance']} expected {r['published']!r} got {r['ours']!r} ({r['status']}){where}: {r['detail']}")
    for r in open_:
        print(f"#   open: {r['instance']} expected {r['published']!r} incumbent {r['ours']!r} bound {r['cost_bound']!r}")

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "cli": cli,
            "time_limit": args.time_limit,
            "threads": args.threads,
            "orlib": str(args.orlib),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
            "wall_seconds": time.time() - started,
            "summary": counts,
        }
        args.json.write_text(json.dumps({"meta": meta, "results": rows}, indent=2, default=str))

    if bad:
        return 1
    if open_ and not args.allow_timeouts:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
