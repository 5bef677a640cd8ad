"""Demand of a generated instance: lifecycle curves per market, scenarios and their overrides,
and the dedicated lines sized for the worst year and scenario (capacity ≥ 1.25 × what is forced).
"""

from __future__ import annotations

import math

from typing import Any

from .state import Generator
from .vocabulary import BASE_USE, SCENARIOS, round_to, width


def draw_demand(g: Generator) -> None:
    # capacity of each family in units (what its lines could make of an average programme)
    fam_units = {f: 0.0 for f in BASE_USE}
    for lid, role in g.line_role.items():
        if role != "dedicated":
            fam = g.line_family[lid]
            fam_units[fam] += g.line_cap[lid] / (BASE_USE[fam] * g.type_use_mult[g.line_type[lid]])
    sellers = [p for p in g.prog if g.has_demand[p]]
    n_sell = {k: max(1, sum(1 for p in sellers if g.prog[p]["kind"] == k)) for k in BASE_USE}
    load = {"vehicle": (0.4, 1.2), "battery": (0.15, 0.5), "component": (0.15, 0.4)}
    # markets: every market gets at least one programme
    market_lists: dict[str, list[str]] = {}
    max_k = min(4, g.n_markets)
    for p in sellers:
        k = g.rng.randint(1, max_k)
        market_lists[p] = g.rng.sample(g.market_ids, k)
    for j, m in enumerate(g.market_ids):
        if not any(m in ms for ms in market_lists.values()):
            p = sellers[j % len(sellers)]
            market_lists[p].append(m)
    g.demand = []
    g.demand_of = {}
    for p in sellers:
        row = g.prog[p]
        kind = row["kind"]
        peak = fam_units[kind] / n_sell[kind] * g.u(*load[kind])
        ms = sorted(market_lists[p])
        shares = [g.u(0.3, 1.0) for _ in ms]
        tot = sum(shares)
        growth = g.u(0.0, 0.08)
        fy, ly = row["_fy"], row["_ly"]
        committed_markets = ms if p in g.anchored and p not in g.must_serve else \
            ([ms[0]] if p in g.must_serve and g.chance(0.5) else [])
        rows = []
        for t in range(fy, ly + 1):
            k = t - fy
            curve = 0.5 if k == 0 else (0.85 if k == 1 else (1.0 + growth) ** (k - 2))
            if ly < g.last and t == ly and k > 0:
                curve *= 0.7
            for m, sh in zip(ms, shares):
                vol = max(10.0, round_to(peak * curve * sh / tot, 10))
                mv = None
                if m in committed_markets and g.chance(0.8):
                    mv = round_to(vol * g.u(0.3, 0.7), 10)
                r = dict(programme_id=p, market_id=m, year=t, volume=int(vol),
                         min_volume=int(mv) if mv is not None else None)
                rows.append(r)
        if p in g.anchored and p not in g.must_serve and not any(r["min_volume"] for r in rows):
            rows[0]["min_volume"] = int(round_to(rows[0]["volume"] * 0.5, 10))
        g.demand.extend(rows)
        g.demand_of[p] = rows
    g.market_lists = market_lists


def draw_scenarios(g: Generator) -> None:
    n = g.n_scen
    if n == 1:
        weights = [1000]
    else:
        base = 400 if n <= 4 else max(1000 // n, 200)
        rest = 1000 - base
        weights = [base] + [rest // (n - 1)] * (n - 1)
        for j in range(rest - sum(weights[1:])):
            weights[1 + j] += 1
    g.scenarios = []
    g.scen_factor = {}
    w = width(n, 2)
    for i in range(n):
        if i < len(SCENARIOS):
            sid, df, pf, desc = SCENARIOS[i]
        else:
            sid = f"S{i + 1:0{w}d}"
            df = round(round_to(g.u(0.7, 1.3), 0.05), 2)
            pf = round(round_to(g.u(0.9, 1.1), 0.01), 2)
            desc = f"sampled demand ×{df:g}, prices ×{pf:g}"
        g.scenarios.append(dict(scenario_id=sid, probability=weights[i] / 1000, demand_factor=df,
                                   price_factor=pf, description=desc))
        g.scen_factor[sid] = df
    # a few demand overrides (of existing demand rows: they keep their routes)
    g.scenario_demand = []
    g.overrides = {}
    per = max(1, min(50, round(len(g.demand) * 0.01)))
    for s in g.scenarios:
        sid = s["scenario_id"]
        if n > 1 and sid == "base":
            continue
        picks = sorted(g.rng.sample(range(len(g.demand)), min(per, len(g.demand))))
        for j in picks:
            d = g.demand[j]
            vol = int(round_to(d["volume"] * s["demand_factor"] * g.u(0.4, 1.7), 10))
            g.scenario_demand.append(dict(scenario_id=sid, programme_id=d["programme_id"],
                                             market_id=d["market_id"], year=d["year"], volume=vol))
            g.overrides[(sid, d["programme_id"], d["market_id"], d["year"])] = vol


def scenario_volume(g: Generator, sid: str, d: dict[str, Any]) -> float:
    o = g.overrides.get((sid, d["programme_id"], d["market_id"], d["year"]))
    return float(o) if o is not None else d["volume"] * g.scen_factor[sid]


def size_dedicated_lines(g: Generator) -> None:
    """Size each dedicated line for what its programmes must make in the worst year and scenario."""
    need: dict[tuple[str, int], float] = {}
    for p in g.anchored:
        lid = g.anchor_line[p]
        must = g.prog[p]["must_serve"]
        for t in g.years:
            rows = [d for d in g.demand_of[p] if d["year"] == t]
            worst = 0.0
            for s in g.scenarios:
                tot = 0.0
                for d in rows:
                    v = scenario_volume(g, s["scenario_id"], d)
                    tot += v if must else min(d["min_volume"] or 0, v)
                worst = max(worst, tot)
            need[(lid, t)] = need.get((lid, t), 0.0) + worst * g.use[(p, lid)]
    by_id = {r["line_id"]: r for r in g.lines}
    for lid in g.dedicated_lines:
        peak = max(need.get((lid, t), 0.0) for t in g.years)
        cap = max(by_id[lid]["capacity"], math.ceil(1.25 * peak / 100) * 100)
        by_id[lid]["capacity"] = cap
        by_id[lid]["fixed_cost"] = round_to(cap * g.u(1500, 3000), 1e4)
        g.line_cap[lid] = cap
