"""Money and rules of a generated instance: logistics routes, strategies, yearly prices, capacity
profiles, the market size and settings, a mildly binding budget and the sensitivity ranges.
"""

from __future__ import annotations

import math

from typing import Any

from .state import Generator
from .vocabulary import COUNTERPARTIES, round_to, slug


def draw_logistics(g: Generator) -> None:
    g.logistics = []
    routed: dict[str, int] = {}
    for f in g.factories:
        fid = f["factory_id"]
        for m in g.market_ids:
            same_region = g.factory_region[fid] == g.market_region[m]
            forced = fid in g.dedicated_factories
            if not (forced or same_region or g.chance(0.6)):
                continue
            if same_region:
                cost, tariff = round_to(g.u(60, 400), 5), 0.0
            else:
                cost = round_to(g.u(500, 1800), 5)
                tariff = g.rng.choice((0.0, 0.025, 0.05, 0.1, 0.15, 0.25))
            g.logistics.append(dict(factory_id=fid, market_id=m, cost_per_unit=cost, tariff=tariff))
            routed[fid] = routed.get(fid, 0) + 1
    for f in g.factories:  # every factory reaches at least one market
        fid = f["factory_id"]
        if not routed.get(fid):
            m = g.rng.choice(g.market_ids)
            g.logistics.append(dict(factory_id=fid, market_id=m, cost_per_unit=round_to(g.u(500, 1800), 5),
                                       tariff=0.05))
    g.logistics.sort(key=lambda r: (r["factory_id"], r["market_id"]))


def draw_strategies(g: Generator) -> None:
    g.strategies = []
    all_opts = [o["option_id"] for o in g.options]
    for o in all_opts:
        g.strategies.append(dict(strategy_id="status-quo", option_id=o, decision="forbid"))
    for c in range(g.n_cp):
        cp = slug(COUNTERPARTIES[c])
        g.strategies += [
            dict(strategy_id=f"buy-{cp}", option_id=g.opt_buy[c], decision="take"),
            dict(strategy_id=f"buy-{cp}", option_id=g.opt_partner[c], decision="forbid"),
            dict(strategy_id=f"partner-{cp}", option_id=g.opt_partner[c], decision="take"),
            dict(strategy_id=f"partner-{cp}", option_id=g.opt_buy[c], decision="forbid"),
        ]
    g.strategies += [
        dict(strategy_id="batteries-jv", option_id=g.opt_jv, decision="take"),
        dict(strategy_id="batteries-jv", option_id=g.opt_lic, decision="forbid"),
    ]
    for c in range(g.n_cp):
        g.strategies.append(dict(strategy_id="all-in", option_id=g.opt_buy[c], decision="take"))
    g.strategies += [
        dict(strategy_id="all-in", option_id=g.opt_jv, decision="take"),
        dict(strategy_id="all-in", option_id=g.opt_lic, decision="take"),
    ]
    upfront: dict[str, float] = {}
    for r in g.strategies:
        if r["decision"] == "take":
            upfront[r["strategy_id"]] = upfront.get(r["strategy_id"], 0.0) + g.option_upfront[r["option_id"]]
    g.max_forced_upfront = max(upfront.values(), default=0.0)


def draw_prices(g: Generator) -> None:
    g.prices = []
    for pid, row in g.prog.items():
        kind = row["kind"]
        if kind == "battery":
            step = -g.u(0.02, 0.06)  # falling pack prices
        elif kind == "vehicle" and g.chance(0.2):
            step = g.u(0.01, 0.03)  # model-year pricing
        else:
            continue
        for t in range(row["_fy"], row["_ly"] + 1):
            price = round_to(row["unit_price"] * (1 + step) ** (t - g.first), 10)
            g.prices.append(dict(programme_id=pid, year=t, unit_price=price))
    if not g.prices:
        pid = next(iter(g.prog))
        g.prices.append(dict(programme_id=pid, year=g.last, unit_price=g.prog[pid]["unit_price"]))


def draw_capacity_profile(g: Generator) -> None:
    g.capacity_profile = []
    eligible = [r for r in g.lines if g.line_role[r["line_id"]] != "dedicated"]
    picks = [r for r in eligible if g.chance(0.12)] or eligible[:1]
    for r in picks:
        lo = g.first + (g.rng.randint(1, g.n_years - 1) if g.n_years > 1 else 0)
        factor = g.rng.choice((1.15, 1.25, 1.5))  # a shift added, a phased expansion
        for t in range(lo, g.last + 1):
            g.capacity_profile.append(dict(line_id=r["line_id"], year=t,
                                              capacity=round_to(r["capacity"] * factor, 100)))


def draw_market_size_and_settings(g: Generator) -> None:
    counted = {p for p, r in g.prog.items() if r["counts_for_share"]}
    last_units = sum(d["volume"] for d in g.demand if d["programme_id"] in counted and d["year"] == g.last)
    growth = 1.12
    share_last = g.u(0.04, 0.08)
    world_last = max(1000.0, last_units / share_last)
    g.market_size = [dict(year=t, volume=int(round_to(world_last / growth ** (g.last - t), 1000)))
                        for t in g.years]
    ms_last = g.market_size[-1]["volume"]
    target = round(min(1.0, max(0.001, 0.6 * last_units / ms_last)), 4)
    name = (f"synthetic-l{g.n_lines}-p{g.n_progs}-y{g.n_years}-m{g.n_markets}"
            f"-s{g.n_scen}-seed{g.seed}")
    g.settings = [
        dict(key="name", value=name),
        dict(key="first_year", value=g.first),
        dict(key="last_year", value=g.last),
        dict(key="currency", value="USD"),
        dict(key="discount_rate", value=g.rng.choice((0.06, 0.07, 0.08, 0.09, 0.1))),
        dict(key="base_year", value=g.first),
        dict(key="share_target", value=target),
        dict(key="share_target_year", value=g.last),
        dict(key="share_penalty", value=round_to(g.u(800, 3000), 50)),
        dict(key="default_unmet_penalty", value=round_to(g.u(0, 200), 10)),
    ]


def draw_budget(g: Generator) -> None:
    """Mildly binding: the forced capex of every year fits, plus part of what could be spent."""
    forced: dict[int, float] = {t: 0.0 for t in g.years}
    for p in g.anchored:
        forced[g.prog[p]["_fy"]] += g.anchor_tooling[p]
    forced[g.first] += g.max_forced_upfront
    optional: dict[int, float] = {t: 0.0 for t in g.years}
    for r in g.lines:
        if r["status"] == "candidate":
            for t in g.years:
                optional[t] += r["build_cost"] / max(1, g.n_years)
    tool_by_prog: dict[str, float] = {}
    for r in g.routings:
        tool_by_prog[r["programme_id"]] = max(tool_by_prog.get(r["programme_id"], 0.0), r["tooling_cost"])
    for pid, row in g.prog.items():
        optional[row["_fy"]] += tool_by_prog.get(pid, 0.0) * row["max_lines"]
    g.budget = []
    for t in g.years:
        limit = forced[t] + g.u(0.3, 0.6) * optional[t]
        g.budget.append(dict(year=t, capex_limit=math.ceil(limit / 1e6) * 1e6))


def sensitivity_rows(g: Generator) -> list[dict[str, Any]]:
    """Ranges for `tornado`: prices and demand ±10/20 %, the first deal's upfront cost ±50 %,
    the discount rate 6–12 % (no random draws: the other tables are unchanged by it)."""
    rows = [dict(parameter="programmes.unit_price[*]", low=0.9, high=1.1, kind="multiplier",
                 note="price ±10 %"),
            dict(parameter="demand.volume[*]", low=0.8, high=1.2, kind="multiplier", note="demand ±20 %"),
            dict(parameter="settings.discount_rate", low=0.06, high=0.12, kind="absolute", note="hurdle rate")]
    if g.options:
        o = g.options[0]
        rows.append(dict(parameter=f"options.upfront_cost[{o['option_id']}]", low=0.5, high=1.5,
                         kind="multiplier", note="deal price ±50 %"))
    return rows
