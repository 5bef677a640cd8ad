"""Benchmark: `breakeven` and `tornado` re-using one compiled model per parameter value vs rebuilding.

Not a test. On the default case (or ``--instance``), in this process, one run each (the machine is
shared; the load is printed):

* break-even of ``--parameter`` between ``--between`` over ``--range`` in three modes:
  ``auto + reuse`` (the default: exact linear step / secant checked by a solve, every strategy of a
  value solved on one compiled model), ``auto + rebuild`` (same search, a model built per solve) and
  ``bisection + rebuild`` (plain bisection, a model per solve: the naive baseline);
* tornado over ``--tornado`` ranges, reuse vs rebuild.

Each mode reports wall seconds, the number of solves, and the value found (they must agree to the
tolerance). Usage::

    .venv/bin/python benchmarks/sensitivity.py
    .venv/bin/python benchmarks/sensitivity.py --parameter "options.upfront_cost[buy_vinfast]" \\
        --between buy,partner --range 0,1e9
"""

from __future__ import annotations

import argparse
import os
import time

from optimiser.parameters import Base, parse_parameter, parse_range
from optimiser.sensitivity import breakeven
from optimiser.solver.options import SolveOptions
from optimiser.tornado import tornado


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instance", default="instances/foxconn-vinfast-2021")
    ap.add_argument("--parameter", default="options.upfront_cost[buy_vinfast]")
    ap.add_argument("--between", default="buy,partner")
    ap.add_argument("--range", default="0,1e9")
    ap.add_argument("--tornado", default="options.upfront_cost[buy_vinfast]=4e8,1.2e9;"
                                         "programmes.unit_price[*]*0.9,1.1;settings.discount_rate=0.06,0.12")
    ap.add_argument("--skip", default="", help="modes to skip, e.g. bisection")
    args = ap.parse_args()
    base = Base.load(args.instance)
    opts = SolveOptions()
    a, b = args.between.split(",")
    lo, hi = (float(x) for x in args.range.split(","))
    p = parse_parameter(args.parameter)
    print(f"load average before: {os.getloadavg()}")
    modes = [("auto + reuse", True, "auto"), ("auto + rebuild", False, "auto"),
             ("bisection + rebuild", False, "bisection")]
    for name, reuse, search in modes:
        if any(s and s in name for s in args.skip.split(",")):
            continue
        t0 = time.perf_counter()
        r = breakeven(base, p, a, b, lo, hi, options=opts, reuse=reuse, search=search)
        print(f"breakeven {name:22} {time.perf_counter() - t0:7.1f} s  {r.solves:3d} solves  "
              f"value {r.breakeven.value!r} ({r.breakeven.method}); recommendation change "
              f"{r.recommendation.value!r} ({r.recommendation.method})")
    ranges = [parse_range(x) for x in args.tornado.split(";") if x.strip()]
    for name, reuse in (("reuse", True), ("rebuild", False)):
        t0 = time.perf_counter()
        t = tornado(base, ranges, opts, reuse=reuse)
        print(f"tornado   {name:22} {time.perf_counter() - t0:7.1f} s  {t.solves:3d} solves  "
              f"swings {[round(r.swing / 1e6, 2) for r in t.rows]} M")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
