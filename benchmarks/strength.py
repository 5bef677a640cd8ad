"""Formulation strength: LP and root bounds of the model as built, and of candidate tightenings.

For each instance and variant: the LP-relaxation bound, HiGHS's root bound after its own cuts
(MIP callback, node count 0), the final bound and gap, the MIP time, and the LP time — all
bounds as NPV (maximised), gaps relative to the best NPV found. Variants (added on top of the
model as ``build_model`` makes it; none changes the optimum):

* ``plain``  — the model without the linking inequalities of ``optimiser/model/linking.py``
  (what the model was before them);
* ``base``   — the model as built;
* ``vub``    — disaggregated active link ``make[p,l,t,s] ≤ U[p,l,t,s]·active[l,t,s]`` (the same
  U as the tooling link; with active = 0 capacity already forces make = 0);
* ``runtool``— ``active[l,t,s] ≤ Σ_p tool[p,l]`` (a line runs only if something is tooled on it);
* ``sym``    — symmetry breaking among identical candidate lines (same factory, type, capacity,
  costs, lead time, ramp, availability, option, routings and capacity profile):
  ``Σ_τ≤k build[l₂,τ] ≤ Σ_τ≤k build[l₁,τ]`` for every k (l₁ before l₂). Reported as not
  applicable when an instance has no identical candidates.

Usage::

    .venv/bin/python benchmarks/strength.py instances/foxconn-vinfast-2021 --variants base,vub --time-limit 120
    .venv/bin/python benchmarks/strength.py /tmp/ev-bench/medium --variants base,vub --lp-only
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from typing import Any

import numpy as np


def identical_candidates(inst: Any) -> list[list[str]]:
    sig: dict[tuple, list[str]] = defaultdict(list)
    for ln in inst.lines:
        if not ln.is_candidate:
            continue
        routes = tuple(sorted((p, r.capacity_use, r.unit_cost, r.tooling_cost)
                              for (p, l), r in inst.routings.items() if l == ln.id))
        profile = tuple(sorted((t, c) for (l, t), c in inst.capacity_profile.items() if l == ln.id))
        sig[(ln.factory, ln.line_type, ln.capacity, ln.build_cost, ln.lead_time, ln.ramp_up, ln.available_from,
             ln.retire_after, ln.requires_option, ln.fixed_cost, ln.unit_fee, routes, profile)].append(ln.id)
    return [sorted(v) for v in sig.values() if len(v) > 1]


def add_variant(m: Any, md: Any, inst: Any, variant: str) -> str | None:
    from optimiser.model.matrix import RowsBuilder, TermsBuilder, index_positions, positions  # noqa: PLC0415

    index = md.make_index
    if variant == "vub":
        rows = np.arange(len(index))
        run = positions(m.running)
        b = TermsBuilder(index, None, 0.0, m.make, m.running)
        b.add(0, rows, index_positions(m.make, index), 1.0)
        b.add(1, rows, [run[k[1], k[2], k[3]] for k in index], -np.array([md.make_ub[k] for k in index]))
        m.vub_link = b.build()
    elif variant == "runtool":
        tools: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for p, l in md.tool_index:
            tools[l].append((p, l))
        b = RowsBuilder(m.running, m.tool)
        run, tool = b.columns
        for k in md.active_index:
            b.add(k, [run[k]] + [tool[pl] for pl in tools[k[0]]], [1.0] + [-1.0] * len(tools[k[0]]), ub=0.0)
        m.run_tool = b.build()
    elif variant in ("shiplink", "shiplink-all"):
        # ship[p,f,m,t,s] ≤ d[p,m,t,s]·Σ_{l∈f making p} active[l,t,s]  (the facility-location link x_ij ≤ d_j·y_i)
        run = positions(m.running)
        ship = positions(m.ship)
        b = RowsBuilder(m.ship, m.running)
        sh, rn = b.columns
        for k in md.ship_index:
            p, f, mk, t, s = k
            d = md.demand[p, mk, t, s]
            lines = md.flow_lines[p, f, t, s]
            if variant == "shiplink" and all(d >= md.make_ub[p, l, t, s] for l in lines):
                continue
            b.add(k, [sh[k]] + [rn[l, t, s] for l in lines], [1.0] + [-d] * len(lines), ub=0.0)
        m.ship_link = b.build()
    elif variant == "sym":
        groups = [[l for l in g if l in md.build_years] for g in identical_candidates(inst)]
        groups = [g for g in groups if len(g) > 1]
        if not groups:
            return "no identical candidate lines"
        b = RowsBuilder(m.build)
        (build,) = b.columns
        for g in groups:
            years = md.build_years[g[0]]
            for first, second in zip(g, g[1:]):
                for k, _ in enumerate(years):
                    cols = [build[second, tau] for tau in years[:k + 1]] + [build[first, tau] for tau in years[:k + 1]]
                    b.add((first, second, k), cols, [1.0] * (k + 1) + [-1.0] * (k + 1), ub=0.0)
        m.symmetry = b.build()
    return None


def run(path: str, variant: str, time_limit: float, lp_only: bool) -> dict:
    from optimiser.model import build_model, prepare  # noqa: PLC0415
    from optimiser.model.compile import compile_model  # noqa: PLC0415
    from optimiser.solver.highs import new_highs, pass_compiled  # noqa: PLC0415
    from optimiser.validate import load_instance  # noqa: PLC0415

    inst, _ = load_instance(path)
    md = prepare(inst, tighten=variant != "plain")  # plain: without optimiser/model/linking.py's rows
    m = build_model(md)
    skip = None
    if variant not in ("base", "plain"):
        for part in variant.split("+"):  # e.g. "vub+shiplink": several tightenings together
            skip = skip or add_variant(m, md, inst, part)
    out: dict[str, Any] = {"instance": path, "variant": variant}
    if skip:
        out["skipped"] = skip
        return out
    cm = compile_model(m)
    out.update(rows=len(cm.row_lower), columns=len(cm.col_lower), nonzeros=int(cm.a_csc.nnz))
    h = new_highs()
    pass_compiled(h, cm)
    h.setOptionValue("solve_relaxation", True)
    h.setOptionValue("time_limit", time_limit)
    t = time.perf_counter()
    h.run()
    out["lp_seconds"] = time.perf_counter() - t
    out["lp_bound"] = -h.getInfo().objective_function_value if h.getModelStatus().name == "kOptimal" else None
    if lp_only:
        return out
    h = new_highs()
    pass_compiled(h, cm)
    h.setOptionValue("time_limit", time_limit)
    root: dict[str, float] = {}

    def on_interrupt(e: Any) -> None:
        if e.data_out.mip_node_count == 0:
            root["bound"] = -e.data_out.mip_dual_bound

    h.cbMipInterrupt.subscribe(on_interrupt)
    t, c = time.perf_counter(), time.process_time()
    h.run()
    info = h.getInfo()
    has_x = info.primal_solution_status == 2
    out.update(mip_seconds=time.perf_counter() - t, mip_cpu=time.process_time() - c, status=h.getModelStatus().name,
               npv=-info.objective_function_value if has_x else None, bound=-info.mip_dual_bound,
               gap=info.mip_gap if has_x else None, nodes=int(info.mip_node_count), root_bound=root.get("bound"))
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("instances", nargs="+")
    p.add_argument("--variants", default="base,vub,runtool,sym")
    p.add_argument("--time-limit", type=float, default=120.0)
    p.add_argument("--lp-only", action="store_true")
    p.add_argument("--json", default=None)
    a = p.parse_args()
    rows = []
    for path in a.instances:
        for v in a.variants.split(","):
            r = run(path, v, a.time_limit, a.lp_only)
            rows.append(r)
            best = r.get("npv")
            gap = (lambda b: f"{100 * (b - best) / abs(best):.2f} %" if (b is not None and best) else "–")
            if "skipped" in r:
                print(f"{path} {v}: not applicable ({r['skipped']})", flush=True)
                continue
            print(f"{path} {v}: rows {r['rows']:,} | LP bound {r['lp_bound'] or float('nan'):,.0f} ({gap(r['lp_bound'])}) "
                  f"in {r['lp_seconds']:.1f} s" + ("" if a.lp_only else
                  f" | root {r['root_bound'] or float('nan'):,.0f} ({gap(r['root_bound'])}) | NPV {best or float('nan'):,.0f} "
                  f"| final gap {100 * (r['gap'] or 0):.4f} % {r['status']} | MIP {r['mip_seconds']:.1f} s "
                  f"({r['mip_cpu']:.1f} cpu), {r['nodes']} nodes"), flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
