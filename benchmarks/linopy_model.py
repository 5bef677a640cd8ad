"""The planning model built with linopy instead of Pyomo — a measurement only, not a dependency.

Run by ``benchmarks/run.py --linopy PYTHON`` with the python of a separate virtual
environment that has linopy (and this repository on its path). The model is the
same as :mod:`optimiser.model` (same index sets from ``prepare``, same families; the
LP-relaxation value is printed to check), built the way a linopy user would: one
vectorised linopy expression per family, then ``Model.to_highspy()`` hands it to HiGHS.

    python benchmarks/linopy_model.py --child linopy '{"path": "instances/foxconn-vinfast-2021", "check": true}'
"""

from __future__ import annotations

import json
import resource
import sys
import time
import warnings
from collections import defaultdict
from typing import Any

import numpy as np


def build(md: Any) -> Any:
    import linopy  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415
    import xarray as xr  # noqa: PLC0415

    warnings.filterwarnings("ignore", category=getattr(linopy, "LinopySemanticsWarning", Warning))
    try:
        from linopy.common import LinopySemanticsWarning  # noqa: PLC0415

        warnings.filterwarnings("ignore", category=LinopySemanticsWarning)
    except ImportError:
        pass
    m = linopy.Model()

    def var(name: str, n: int, binary: bool = False, lower: Any = 0.0, upper: Any = np.inf) -> Any:
        coords = [pd.RangeIndex(n, name=f"{name}_i")]
        if binary:
            return m.add_variables(binary=True, coords=coords, name=name) if n else None
        return m.add_variables(lower=lower, upper=upper, coords=coords, name=name) if n else None

    pos = {}

    def index(name: str, keys: tuple) -> dict:
        pos[name] = {k: i for i, k in enumerate(keys)}
        return pos[name]

    take_fix = md.option_fix
    take = m.add_variables(lower=np.array([1.0 if take_fix.get(o) is True else 0.0 for o in md.options]),
                           upper=np.array([0.0 if take_fix.get(o) is False else 1.0 for o in md.options]),
                           coords=[pd.RangeIndex(len(md.options), name="take_i")], name="take", integer=True) \
        if md.options else None
    V = {
        "take": take,
        "build": var("build", len(md.build_index), binary=True),
        "tool": var("tool", len(md.tool_index), binary=True),
        "running": var("running", len(md.active_index), binary=True),
        "make": var("make", len(md.make_index), upper=np.array([md.make_ub[k] for k in md.make_index])),
        "ship": var("ship", len(md.ship_index)),
        "unmet": var("unmet", len(md.demand_index), upper=np.array([md.unmet_ub[k] for k in md.demand_index])),
        "internal": var("internal", len(md.internal_index)),
        "extbuy": var("extbuy", len(md.extbuy_index)),
    }
    soft = md.share_rhs is not None and md.share_penalty is not None
    V["short"] = var("short", len(md.scenarios)) if soft else None
    P = {name: index(name, keys) for name, keys in (
        ("take", md.options), ("build", md.build_index), ("tool", md.tool_index), ("running", md.active_index),
        ("make", md.make_index), ("ship", md.ship_index), ("unmet", md.demand_index),
        ("internal", md.internal_index), ("extbuy", md.extbuy_index), ("short", md.scenarios))}

    def group(name: str, positions: Any, rows: Any, coefs: Any) -> Any:
        v = V[name]
        positions = np.asarray(positions, dtype=np.int64)
        if v is None or not len(positions):
            return None
        sel = v.isel({f"{name}_i": xr.DataArray(positions, dims="_k")})
        coef = np.broadcast_to(np.asarray(coefs, dtype=float), positions.shape)
        e = xr.DataArray(coef, dims="_k") * sel
        return e.groupby(xr.DataArray(np.asarray(rows, dtype=np.int64), dims="_k", name="row")).sum()

    def family(name: str, groups: list, sign: str, rhs: Any) -> None:
        parts = [g for g in groups if g is not None]
        if not parts:
            return
        lhs = parts[0]
        for p in parts[1:]:
            lhs = lhs + p
        n = lhs.sizes["row"]
        rhs_da = xr.DataArray(np.broadcast_to(np.asarray(rhs, dtype=float), (n,)) if np.ndim(rhs) == 0
                              else np.asarray(rhs, dtype=float)[lhs.coords["row"].values], coords=[lhs.coords["row"]])
        con = lhs <= rhs_da if sign == "<=" else (lhs >= rhs_da if sign == ">=" else lhs == rhs_da)
        m.add_constraints(con, name=name)

    mk_rows = np.arange(len(md.make_index))
    # 1 capacity, ramp
    arow = P["running"]
    family("capacity", [group("make", mk_rows, [arow[(l, t, s)] for (_, l, t, s) in md.make_index],
                              [md.capacity_use[p, l] for (p, l, _, _) in md.make_index]),
                        group("running", np.arange(len(md.active_index)), np.arange(len(md.active_index)),
                              [-md.capacity[l, t] for (l, t, _) in md.active_index])], "<=", 0.0)
    ramp_rows = [k for k in md.active_index if k[0] in md.ramp_up]
    if ramp_rows:
        rr = {k: i for i, k in enumerate(ramp_rows)}
        mk = [(j, rr[(l, t, s)], md.capacity_use[p, l]) for j, (p, l, t, s) in enumerate(md.make_index) if (l, t, s) in rr]
        bt = []
        for k, i in rr.items():
            l, t, _ = k
            lead, cap = md.lead_time[l], md.capacity[l, t]
            for tau in md.build_years[l]:
                if tau + lead < t:
                    bt.append((P["build"][(l, tau)], i, -cap))
            if t - lead in md.build_years[l]:
                bt.append((P["build"][(l, t - lead)], i, -(cap * md.ramp_up[l])))
        family("ramp", [group("make", *zip(*mk)) if mk else None, group("build", *zip(*bt)) if bt else None], "<=", 0.0)
    # 2 tooling link
    tl = P["tool"]
    family("tool_link", [group("make", mk_rows, mk_rows, 1.0),
                         group("tool", [tl[(p, l)] for (p, l, _, _) in md.make_index], mk_rows,
                               [-md.make_ub[k] for k in md.make_index])], "<=", 0.0)
    # 3 sourcing
    lines_of: dict[str, list[str]] = defaultdict(list)
    for p, l in md.tool_index:
        lines_of[p].append(l)
    capped = [p for p, ls in lines_of.items() if len(ls) > md.max_lines[p]]
    if capped:
        t = [(tl[(p, l)], i) for i, p in enumerate(capped) for l in lines_of[p]]
        family("sourcing", [group("tool", [a for a, _ in t], [b for _, b in t], 1.0)], "<=",
               np.array([md.max_lines[p] for p in capped], dtype=float))
    if md.must_tool:
        t = [(tl[(p, l)], i) for i, p in enumerate(md.must_tool) for l in lines_of[p]]
        family("must_tool", [group("tool", [a for a, _ in t], [b for _, b in t], 1.0)], ">=", 1.0)
    # 4 availability
    if md.build_years:
        cands = sorted(md.build_years)
        t = [(P["build"][(l, tau)], i) for i, l in enumerate(cands) for tau in md.build_years[l]]
        family("build_once", [group("build", [a for a, _ in t], [b for _, b in t], 1.0)], "<=", 1.0)
        av = [k for k in md.active_index if k[0] in md.build_years]
        bt = [(P["build"][(k[0], tau)], i) for i, k in enumerate(av) for tau in md.build_years[k[0]]
              if tau + md.lead_time[k[0]] <= k[1]]
        family("availability", [group("running", [arow[k] for k in av], np.arange(len(av)), 1.0),
                                group("build", [a for a, _ in bt], [b for _, b in bt], -1.0) if bt else None], "<=", 0.0)
        tb = [k for k in md.tool_index if k[1] in md.build_years]
        bt = [(P["build"][(k[1], tau)], i) for i, k in enumerate(tb) for tau in md.build_years[k[1]]]
        family("tool_built", [group("tool", [tl[k] for k in tb], np.arange(len(tb)), 1.0),
                              group("build", [a for a, _ in bt], [b for _, b in bt], -1.0) if bt else None], "<=", 0.0)
    # 5 option gating
    req = md.requires_option
    if req and md.options:
        ga = [k for k in md.active_index if k[0] in req]
        family("gate_active", [group("running", [arow[k] for k in ga], np.arange(len(ga)), 1.0),
                               group("take", [P["take"][req[k[0]]] for k in ga], np.arange(len(ga)), -1.0)], "<=", 0.0)
        gb = [l for l in sorted(md.build_years) if l in req]
        bt = [(P["build"][(l, tau)], i) for i, l in enumerate(gb) for tau in md.build_years[l]]
        family("gate_build", [group("build", [a for a, _ in bt], [b for _, b in bt], 1.0) if bt else None,
                              group("take", [P["take"][req[l]] for l in gb], np.arange(len(gb)), -1.0)], "<=", 0.0)
        gt = [k for k in md.tool_index if k[1] in req]
        family("gate_tool", [group("tool", [tl[k] for k in gt], np.arange(len(gt)), 1.0),
                             group("take", [P["take"][req[k[1]]] for k in gt], np.arange(len(gt)), -1.0)], "<=", 0.0)
    groups = sorted(md.exclusive_groups)
    if groups:
        t = [(P["take"][o], i) for i, g in enumerate(groups) for o in md.exclusive_groups[g]]
        family("exclusive", [group("take", [a for a, _ in t], [b for _, b in t], 1.0)], "<=", 1.0)
    # 6 flow, 7 demand
    frow = {k: i for i, k in enumerate(md.flow_index)}
    fac = md.line_factory
    family("flow", [group("make", mk_rows, [frow[(p, fac[l], t, s)] for (p, l, t, s) in md.make_index], 1.0),
                    group("ship", np.arange(len(md.ship_index)), [frow[(p, f, t, s)] for (p, f, _, t, s) in md.ship_index], -1.0),
                    group("internal", np.arange(len(md.internal_index)), [frow[k] for k in md.internal_index], -1.0)],
           "==", 0.0)
    drow = P["unmet"]
    family("demand", [group("ship", np.arange(len(md.ship_index)), [drow[(p, mk, t, s)] for (p, _, mk, t, s) in md.ship_index], 1.0),
                      group("unmet", np.arange(len(md.demand_index)), np.arange(len(md.demand_index)), 1.0)],
           "==", np.array([md.demand[k] for k in md.demand_index]))
    # 8 bom: need − supply ≤ 0
    if md.bom_index:
        brow = {k: i for i, k in enumerate(md.bom_index)}
        need = [(P["make"][(par, l, t, s)], brow[(c, t, s)], q) for (c, t, s) in md.bom_index
                for par, q in md.bom_parents[c] for l in md.make_lines.get((par, t, s), ())]
        sup = [(P["internal"][(c, f, t, s)], brow[(c, t, s)]) for (c, t, s) in md.bom_index for f in md.bom_internal[(c, t, s)]]
        ext = [(P["extbuy"][k], brow[k]) for k in md.extbuy_index]
        family("bom", [group("make", *zip(*need)), group("internal", [a for a, _ in sup], [b for _, b in sup], -1.0) if sup else None,
                       group("extbuy", [a for a, _ in ext], [b for _, b in ext], -1.0) if ext else None], "<=", 0.0)
    # 9 budget
    if md.budget:
        for t in sorted(md.budget):
            bl = [(P["build"][(l, tau)], md.build_cost[l]) for (l, tau) in md.build_index if tau == t]
            tt = [(tl[k], md.tooling_cost[k]) for k in md.tool_index if md.tooling_year[k[0]] == t]
            oo = [(P["take"][o], md.upfront_cost[o]) for o in md.options] if t == md.first_year else []
            parts = [group(n, [a for a, _ in x], np.zeros(len(x), dtype=np.int64), [b for _, b in x])
                     for n, x in (("build", bl), ("tool", tt), ("take", oo)) if x]
            if parts:
                family(f"budget_{t}", parts, "<=", md.budget[t])
    # 10 share
    if md.share_rhs is not None and md.share_rhs > 0:
        for i, s in enumerate(md.scenarios):
            mk = [P["make"][(p, l, md.share_year, s)] for p in md.share_programmes
                  for l in md.make_lines.get((p, md.share_year, s), ())]
            parts = [group("make", mk, np.zeros(len(mk), dtype=np.int64), 1.0)]
            if soft:
                parts.append(group("short", [i], [0], 1.0))
            family(f"share_{s}", parts, ">=", md.share_rhs)
    # linking inequalities (optimiser/model/linking.py), same index sets
    if getattr(md, "tighten", False):
        from optimiser.model.linking import running_costs, running_link_index, ship_link_index  # noqa: PLC0415

        rl = running_link_index(md)
        if rl:
            r = np.arange(len(rl))
            family("running_link", [group("make", [P["make"][k] for k in rl], r, 1.0),
                                    group("running", [arow[(l, t, s)] for (_, l, t, s) in rl], r,
                                          [-md.make_ub[k] for k in rl])], "<=", 0.0)
        sl = ship_link_index(md)
        if sl:
            r = np.arange(len(sl))
            rn = [(arow[(l, t, s)], i, -md.demand[p, mk, t, s]) for i, (p, f, mk, t, s) in enumerate(sl)
                  for l in md.flow_lines[(p, f, t, s)]]
            family("ship_link", [group("ship", [P["ship"][k] for k in sl], r, 1.0), group("running", *zip(*rn))],
                   "<=", 0.0)
        costly = [k for k in md.active_index if running_costs(md, k[0])]
        if costly:
            r = np.arange(len(costly))
            tt = [(tl[(p, k[0])], i) for i, k in enumerate(costly) for p in md.make_on_line[k]]
            family("running_needs_tooling", [group("running", [arow[k] for k in costly], r, 1.0),
                                             group("tool", [a for a, _ in tt], [b for _, b in tt], -1.0) if tt else None],
                   "<=", 0.0)
    # objective (expected NPV)
    from optimiser.model.objective import _tool_delta  # noqa: PLC0415

    delta, pi = md.delta, md.probability
    obj = []
    ship = np.arange(len(md.ship_index))
    obj.append(group("ship", ship, np.zeros(len(ship), dtype=np.int64),
                     [pi[k[4]] * (delta[k[3]] * md.ship_value[k]) for k in md.ship_index]))
    obj.append(group("make", mk_rows, np.zeros(len(mk_rows), dtype=np.int64),
                     [pi[k[3]] * (-delta[k[2]] * md.make_cost[k[0], k[1]]) for k in md.make_index]))
    obj.append(group("extbuy", np.arange(len(md.extbuy_index)), np.zeros(len(md.extbuy_index), dtype=np.int64),
                     [pi[k[2]] * (-delta[k[1]] * md.external_price[k[0]]) for k in md.extbuy_index]))
    obj.append(group("unmet", np.arange(len(md.demand_index)), np.zeros(len(md.demand_index), dtype=np.int64),
                     [pi[k[3]] * (-delta[k[2]] * md.unmet_penalty[k[0]]) for k in md.demand_index]))
    obj.append(group("running", np.arange(len(md.active_index)), np.zeros(len(md.active_index), dtype=np.int64),
                     [pi[k[2]] * (-delta[k[1]] * md.fixed_cost[k[0]]) for k in md.active_index]))
    if soft and md.share_penalty:
        obj.append(group("short", np.arange(len(md.scenarios)), np.zeros(len(md.scenarios), dtype=np.int64),
                         [pi[s] * -md.share_penalty for s in md.scenarios]))
    annuity = sum(delta.values())
    obj.append(group("take", np.arange(len(md.options)), np.zeros(len(md.options), dtype=np.int64),
                     [-(annuity * md.annual_cost[o] + delta[md.first_year] * md.upfront_cost[o]) for o in md.options]))
    obj.append(group("build", np.arange(len(md.build_index)), np.zeros(len(md.build_index), dtype=np.int64),
                     [-delta[tau] * md.build_cost[l] for (l, tau) in md.build_index]))
    obj.append(group("tool", np.arange(len(md.tool_index)), np.zeros(len(md.tool_index), dtype=np.int64),
                     [-_tool_delta(md, p) * md.tooling_cost[p, l] for (p, l) in md.tool_index]))
    parts = [o for o in obj if o is not None]
    expr = parts[0].sum()
    for p in parts[1:]:
        expr = expr + p.sum()
    m.add_objective(expr, sense="max")
    return m


def child_linopy(a: dict) -> dict:
    w, c = time.perf_counter(), time.process_time()
    import linopy  # noqa: F401, PLC0415  (imports are not build time)
    import pandas  # noqa: F401, PLC0415
    import scipy.sparse  # noqa: F401, PLC0415
    import xarray  # noqa: F401, PLC0415

    from optimiser.model import prepare  # noqa: PLC0415
    from optimiser.validate import load_instance  # noqa: PLC0415
    imports = (time.perf_counter() - w, time.process_time() - c)

    instance, _ = load_instance(a["path"])
    w0, c0 = time.perf_counter(), time.process_time()
    md = prepare(instance)
    w1, c1 = time.perf_counter(), time.process_time()
    m = build(md)
    w2, c2 = time.perf_counter(), time.process_time()
    h = m.to_highspy()
    w3, c3 = time.perf_counter(), time.process_time()
    out = {"imports": imports[0], "imports_cpu": imports[1], "prepare": w1 - w0, "prepare_cpu": c1 - c0, "build": w2 - w1, "build_cpu": c2 - c1,
           "handoff": w3 - w2, "handoff_cpu": c3 - c2, "variables": h.getNumCol(), "constraints": h.getNumRow(),
           "nonzeros": h.getNumNz(), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if a.get("check"):
        h.setOptionValue("output_flag", False)
        h.setOptionValue("solve_relaxation", True)
        h.run()
        out["lp_value"] = h.getInfo().objective_function_value
    return out


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child" and sys.argv[2] == "linopy":
        print(json.dumps(child_linopy(json.loads(sys.argv[3])), default=float), flush=True)
    else:
        print(__doc__)
