"""The plant of a generated instance: the line plan, factories, markets, deal options and lines.

Drawn first, in this order, from the generator's one rng (:class:`~optimiser.generate.state.Generator`):
each line's role and family, then the factories that hold them, the markets, the options that
gate counterparty, joint-venture and licence lines, and the lines with their types and capacities.
"""

from __future__ import annotations

from typing import Any

from .state import Generator
from .vocabulary import (
    COUNTERPARTIES,
    COUNTRIES,
    FAMILY_TYPE,
    MARKET_NAMES,
    OWNER,
    REGIONS,
    round_to,
    slug,
    type_letter,
    width,
)


def plan_lines(g: Generator) -> None:
    """Decide each line's role and family before anything is named."""
    n = g.n_lines
    n_ded = max(1, min(round(n * 0.08), max(1, round(g.n_progs * 0.1))))
    general = n - n_ded
    g.n_cp = min(len(COUNTERPARTIES), 1 + n // 60)
    roles: list[tuple[str, int | None]] = []  # (role, counterparty index)
    if general >= 5:
        each = max(2, round(general * 0.05))
        for c in range(g.n_cp):
            for k in range(each):
                roles.append(("buy" if k % 2 == 0 else "partner", c))
    jv = max(1, round(general * 0.04)) if general >= 4 else 0
    lic = max(1, round(general * 0.03)) if general >= 6 else 0
    roles += [("jv", None)] * jv + [("licence", None)] * lic
    rest = general - len(roles)
    n_cand = max(1, round(rest * 0.4))
    roles += [("existing", None)] * (rest - n_cand) + [("candidate", None)] * n_cand
    # families: JV and licence lines make packs; the rest by weight, every family at least once
    free = [i for i, (r, _) in enumerate(roles) if r not in ("licence", "jv")]
    weights = (("vehicle", 0.5), ("battery", 0.3), ("component", 0.2))
    fam_of: dict[int, str] = {i: "battery" for i, (r, _) in enumerate(roles) if r in ("licence", "jv")}
    order = list(free)
    g.rng.shuffle(order)
    must = ["vehicle", "component"] if fam_of else ["vehicle", "battery", "component"]
    for i, f in zip(order, must):
        fam_of[i] = f
    for i in order[len(must):]:
        x, acc = g.rng.random(), 0.0
        for f, w in weights:
            acc += w
            if x < acc:
                fam_of[i] = f
                break
        else:
            fam_of[i] = "vehicle"
    fams = [fam_of[i] for i in range(len(roles))]
    g.line_plan = [("dedicated", None, "dedicated")] * n_ded + [(r, c, f) for (r, c), f in zip(roles, fams)]


def draw_factories(g: Generator) -> None:
    has_cp_lines = [any(r in ("buy", "partner") and c == k for r, c, _ in g.line_plan) for k in range(g.n_cp)]
    n_cp_sites = sum(has_cp_lines)
    n_own = max(2, min(g.n_lines // 6, 999) - n_cp_sites)
    # own lines must fill every own factory
    n_own_lines = sum(1 for r, _, _ in g.line_plan if r not in ("buy", "partner"))
    n_own = max(1, min(n_own, n_own_lines))
    total = n_own + n_cp_sites
    w = width(total, 2)
    countries = list(COUNTRIES)
    g.rng.shuffle(countries)
    g.factories = []
    g.factory_region = {}
    g.factory_country = {}
    g.own_factories = []
    g.cp_factory = {}
    for i in range(total):
        fid = f"F{i + 1:0{w}d}"
        country, region = countries[i % len(countries)] if i < len(countries) else g.rng.choice(COUNTRIES)
        if i < n_own:
            owner = OWNER
            name = f"{country} plant {i + 1}"
            g.own_factories.append(fid)
        else:
            k = [c for c in range(g.n_cp) if has_cp_lines[c]][i - n_own]
            owner = COUNTERPARTIES[k]
            name = f"{owner} {country} plant"
            g.cp_factory[k] = fid
        g.factories.append(dict(factory_id=fid, name=name, owner=owner, country=country, region=region))
        g.factory_region[fid] = region
        g.factory_country[fid] = country


def draw_markets(g: Generator) -> None:
    w = width(g.n_markets, 2)
    g.markets = []
    g.market_region = {}
    for i in range(g.n_markets):
        mid = f"M{i + 1:0{w}d}"
        if i < len(MARKET_NAMES):
            name, region = MARKET_NAMES[i]
        else:
            name, region = f"Market {i + 1}", g.rng.choice(REGIONS)
        g.markets.append(dict(market_id=mid, name=name, region=region))
        g.market_region[mid] = region
    g.market_ids = [m["market_id"] for m in g.markets]


def draw_options(g: Generator) -> None:
    g.options = []
    g.opt_buy = {}
    g.opt_partner = {}
    n = 2 * g.n_cp + 2
    w = width(n, 2)
    k = 0

    def add(name: str, cp: str, kind: str, upfront: float, annual: float, group: str | None) -> str:
        nonlocal k
        k += 1
        oid = f"O{k:0{w}d}"
        g.options.append(dict(option_id=oid, name=name, counterparty=cp, kind=kind,
                                 upfront_cost=upfront, annual_cost=annual, exclusive_group=group))
        return oid

    for c in range(g.n_cp):
        cp = COUNTERPARTIES[c]
        group = f"{slug(cp)}-deal"
        g.opt_buy[c] = add(f"Buy {cp}'s lines", cp, "buy",
                              round_to(g.u(150e6, 450e6), 1e6), round_to(g.u(2e6, 6e6), 1e5), group)
        g.opt_partner[c] = add(f"Partner with {cp} (toll manufacturing)", cp, "partner",
                                  round_to(g.u(5e6, 20e6), 1e6), round_to(g.u(8e6, 25e6), 1e5), group)
    g.opt_jv = add("Battery joint venture", "CATL", "jv",
                      round_to(g.u(40e6, 90e6), 1e6), round_to(g.u(3e6, 8e6), 1e5), None)
    g.opt_lic = add("Solid-state cell licence", "QuantumScape", "contract",
                       round_to(g.u(10e6, 30e6), 1e6), round_to(g.u(1e6, 4e6), 1e5), None)
    g.option_upfront = {o["option_id"]: o["upfront_cost"] for o in g.options}


def draw_lines(g: Generator) -> None:
    plan = g.line_plan
    w = width(len(plan), 4)
    # line types per family: about five lines a type, two or more types once a family has four lines
    fam_lines: dict[str, list[int]] = {"vehicle": [], "battery": [], "component": []}
    for i, (role, _, fam) in enumerate(plan):
        if role != "dedicated":
            fam_lines[fam].append(i)
    g.types = {}
    g.type_base_cap = {}
    g.type_use_mult = {}
    type_of: dict[int, str] = {}
    for fam in ("vehicle", "battery", "component"):
        idx = fam_lines[fam]
        nt = 1 if len(idx) < 4 else max(2, round(len(idx) / 5))
        names = [f"{FAMILY_TYPE[fam]}-{type_letter(j)}" for j in range(nt)]
        g.types[fam] = names
        for t in names:
            g.type_base_cap[t] = round_to(g.u(4000, 6000), 100)
            g.type_use_mult[t] = round(g.u(0.85, 1.2), 3)
        order = list(idx)
        g.rng.shuffle(order)
        for j, i in enumerate(order):
            type_of[i] = names[j % nt] if j < nt else g.rng.choice(names)
    g.type_base_cap["dedicated"] = 5000.0
    g.type_use_mult["dedicated"] = 1.1
    # factories: every own factory gets at least one line
    own_idx = [i for i, (r, _, _) in enumerate(plan) if r not in ("buy", "partner")]
    ded_idx = [i for i, (r, _, _) in enumerate(plan) if r == "dedicated"]
    fac_of: dict[int, str] = {}
    # dedicated lines first, spread over the first own factories (their factories reach every market)
    for j, i in enumerate(ded_idx):
        fac_of[i] = g.own_factories[j % len(g.own_factories)]
    others = [i for i in own_idx if i not in fac_of]
    g.rng.shuffle(others)
    unfilled = [f for f in g.own_factories if f not in fac_of.values()]
    for f, i in zip(unfilled, others):
        fac_of[i] = f
    for i in others:
        if i not in fac_of:
            fac_of[i] = g.rng.choice(g.own_factories)
    for i, (role, c, _) in enumerate(plan):
        if role in ("buy", "partner"):
            fac_of[i] = g.cp_factory[c]
    g.dedicated_factories = sorted({fac_of[i] for i in ded_idx})

    g.lines = []
    g.line_type = {}
    g.line_family = {}
    g.line_role = {}
    g.line_factory = {}
    g.line_cap = {}
    g.dedicated_lines = []
    horizon = g.n_years
    # some existing lines come online late, some retire early (at least one of each when there are two)
    existing = [i for i, (r, _, _) in enumerate(plan) if r == "existing"]
    late: list[int] = []
    early: list[int] = []
    if len(existing) >= 2:
        k = max(1, round(len(existing) * 0.12))
        picked = g.rng.sample(existing, min(len(existing), 2 * k))
        late, early = picked[:len(picked) // 2], picked[len(picked) // 2:]
    for i, (role, c, fam) in enumerate(plan):
        lid = f"L{i + 1:0{w}d}"
        ltype = "dedicated" if role == "dedicated" else type_of[i]
        cap = round_to(g.type_base_cap[ltype] * g.u(0.8, 1.25), 100)
        row: dict[str, Any] = dict(
            line_id=lid, factory_id=fac_of[i], line_type=ltype, capacity=cap, status="existing",
            fixed_cost=round_to(cap * g.u(1500, 3000), 1e4), build_cost=None, lead_time=None,
            available_from=None, retire_after=None, ramp_up=None, requires_option=None, unit_fee=None)
        if role == "existing":
            if i in late:
                row["available_from"] = g.first + g.rng.randint(1, max(1, horizon // 3))
            elif i in early:
                row["retire_after"] = g.last - g.rng.randint(1, max(1, horizon // 3))
        elif role in ("candidate", "jv", "licence"):
            row["status"] = "candidate"
            row["build_cost"] = round_to(cap * g.u(30000, 60000) * (0.6 if role == "jv" else 1.0), 1e6)
            row["lead_time"] = 1 if horizon <= 3 else g.rng.choice((1, 1, 2))
            row["ramp_up"] = g.rng.choice((0.5, 0.6, 0.7, 0.8))
            if horizon >= 5 and g.chance(0.15):
                row["available_from"] = g.first + 2
            if role == "jv":
                row["requires_option"] = g.opt_jv
            elif role == "licence":
                row["requires_option"] = g.opt_lic
        elif role == "buy":
            row["requires_option"] = g.opt_buy[c]
        elif role == "partner":
            row["requires_option"] = g.opt_partner[c]
            row["fixed_cost"] = 0
            row["unit_fee"] = round_to(g.u(150, 900), 10)
        if role == "dedicated":
            g.dedicated_lines.append(lid)
        g.lines.append(row)
        g.line_type[lid] = ltype
        g.line_family[lid] = fam
        g.line_role[lid] = role
        g.line_factory[lid] = fac_of[i]
        g.line_cap[lid] = cap
    g.lines_of_type = {}
    for r in g.lines:
        g.lines_of_type.setdefault(r["line_type"], []).append(r["line_id"])
