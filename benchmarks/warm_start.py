"""`solve --start PLAN` against a cold solve, after a 5 % demand change (issue 21).

For each case: solve the instance and save its plan; raise every demand volume (demand.volume and
min_volume, scenario_demand.volume) by 5 %; solve the changed instance cold and with
``--start plan.json``, each with ``--log``. From HiGHS's log (the MIP runs in a child process,
whose clock starts when HiGHS does): seconds to the first plan and to a 1 % gap; from ``--json``:
HiGHS's solve seconds (to its default gap, 1e-4) and, for the warm run, the seconds the start
check (the fixed-plan model) took before HiGHS started.

    .venv/bin/python benchmarks/warm_start.py [--cases default,small] [--runs 1]

A quick measurement on a shared machine: the numbers in benchmarks/README.md carry the load.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [str(ROOT / ".venv" / "bin" / "optimiser")]


def _scale(folder: Path, factor: float) -> None:
    for table, cols in (("demand.csv", ("volume", "min_volume")), ("scenario_demand.csv", ("volume",))):
        path = folder / table
        if not path.exists():
            continue
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        header = list(rows[0]) if rows else []
        for r in rows:
            for c in cols:
                if r.get(c) not in (None, ""):
                    r[c] = repr(float(r[c]) * factor)
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=header)
            w.writeheader()
            w.writerows(rows)


def _log_times(log: str) -> dict[str, float | None]:
    """First plan and first gap ≤ 1 % from HiGHS's branch-and-bound lines."""
    first = one = None
    for line in log.splitlines():
        tok = line.split()
        if len(tok) < 9 or not tok[-1].endswith("s") or "%" not in line:
            continue
        try:
            t = float(tok[-1][:-1])
            best = tok[-7]
            gap = tok[-6]
        except (ValueError, IndexError):
            continue
        if best in ("inf", "-inf"):
            continue
        if first is None:
            first = t
        if one is None and gap.endswith("%") and float(gap[:-1]) <= 1.0:
            one = t
    return {"first_plan_s": first, "gap_1pct_s": one}


def _solve(folder: Path, *extra: str) -> dict:
    cmd = CLI + ["solve", str(folder), "--no-report", "--json", "--log", *extra]
    p = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr[-2000:]}")
    out = json.loads(p.stdout)
    return {"npv": out["npv"], "status": out["status"], "solve_s": out["solve_seconds"],
            "start": out.get("start_plan"), **_log_times(p.stderr)}


def _case(name: str, work: Path) -> Path:
    if name == "default":
        src = work / "default"
        shutil.copytree(ROOT / "instances" / "foxconn-vinfast-2021", src)
        return src
    src = work / name
    subprocess.run(CLI + ["generate", str(src), "--size", name, "--seed", "1"], check=True, capture_output=True)
    return src


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default="default,small")
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in args.cases.split(","):
            src = _case(name, work)
            plan = work / f"{name}-plan.json"
            base = _solve(src, "--save-plan", str(plan))
            changed = work / f"{name}-plus5"
            shutil.copytree(src, changed)
            _scale(changed, 1.05)
            for run in range(args.runs):
                cold = _solve(changed)
                warm = _solve(changed, "--start", str(plan))
                rows.append({"case": name, "run": run + 1, "base_npv": base["npv"], "cold": cold, "warm": warm})
                print(json.dumps(rows[-1]), flush=True)
    json.dump(rows, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
