"""The programmes of a generated instance: vehicles, batteries and components, their bill of
materials and routings.

Anchored programmes (committed volumes or must_serve) are routed by ``line_id`` to a dedicated
line, so every commitment can be met whatever the strategy (see :mod:`optimiser.generate`).
"""

from __future__ import annotations

from .state import Generator
from .vocabulary import BASE_USE, BODIES, CUSTOMERS, round_to, width


def draw_programmes(g: Generator) -> None:
    n = g.n_progs
    n_v = max(2, round(n * 0.55))
    n_b = max(1, round(n * 0.25))
    n_c = max(1, n - n_v - n_b)
    n_v = n - n_b - n_c
    kinds = ["vehicle"] * n_v + ["battery"] * n_b + ["component"] * n_c
    g.rng.shuffle(kinds)
    w = width(n, 4)
    g.programmes = []
    g.prog = {}
    g.by_kind = {"vehicle": [], "battery": [], "component": []}
    for i, kind in enumerate(kinds):
        pid = f"P{i + 1:0{w}d}"
        if kind == "vehicle":
            customer = g.rng.choice(CUSTOMERS)
            name = f"{customer} {g.rng.choice(BODIES)} {i + 1}"
            price = round_to(g.u(22000, 65000), 100)
            max_lines = g.rng.choice((1, 1, 1, 2, 2, 3))
        elif kind == "battery":
            customer = g.rng.choice(("own", "VinFast", "Geely", "merchant"))
            name = f"Battery pack {g.rng.choice((60, 75, 82, 90, 100, 120))} kWh ({i + 1})"
            price = round_to(g.u(6000, 14000), 10)
            max_lines = g.rng.choice((1, 1, 2, 2, 3))
        else:
            customer = "own"
            name = f"{g.rng.choice(('E-drive', 'Inverter', 'Battery module', 'Thermal unit'))} {i + 1}"
            price = round_to(g.u(600, 2500), 10)
            max_lines = g.rng.choice((1, 2, 2, 3))
        fy = g.first
        ly = g.last
        if g.n_years >= 3 and g.chance(0.3):
            fy = g.first + g.rng.randint(1, max(1, g.n_years // 2))
        if g.n_years >= 4 and g.chance(0.2):
            ly = max(fy + 1, g.last - g.rng.randint(1, max(1, g.n_years // 3)))
        ly = min(ly, g.last)
        row = dict(
            programme_id=pid, name=name, kind=kind, customer=customer, unit_price=price, max_lines=max_lines,
            must_serve=False, unmet_penalty=(round_to(price * g.u(0.03, 0.08), 10) if g.chance(0.25) else None),
            first_year=fy if fy != g.first else None, last_year=ly if ly != g.last else None,
            counts_for_share=(kind == "vehicle" and g.chance(0.7)), external_price=None)
        g.programmes.append(row)
        g.prog[pid] = row
        g.by_kind[kind].append(pid)
        row["_fy"], row["_ly"] = fy, ly  # private: resolved years, dropped before writing
    if not any(g.prog[p]["counts_for_share"] for p in g.by_kind["vehicle"]):
        g.prog[g.by_kind["vehicle"][0]]["counts_for_share"] = True
    # some batteries can be bought outside even when no vehicle needs them
    for pid in g.by_kind["battery"]:
        if g.chance(0.3):
            g.prog[pid]["external_price"] = round_to(g.prog[pid]["unit_price"] * g.u(1.1, 1.3), 10)


def draw_bom(g: Generator) -> None:
    g.bom = []
    used: dict[str, None] = {}
    packs, comps = g.by_kind["battery"], g.by_kind["component"]
    for pid in g.by_kind["vehicle"]:
        pack = g.rng.choice(packs)
        g.bom.append(dict(parent_id=pid, component_id=pack, quantity=1))
        used[pack] = None
        k = 1 if len(comps) == 1 or g.chance(0.6) else 2
        for c in g.rng.sample(comps, k):
            g.bom.append(dict(parent_id=pid, component_id=c, quantity=g.rng.choice((1, 1, 2))))
            used[c] = None
    for pid in packs:
        if g.chance(0.3):
            c = g.rng.choice(comps)
            g.bom.append(dict(parent_id=pid, component_id=c, quantity=g.rng.choice((2, 4, 8))))
            used[c] = None
    g.components = [p for p in g.prog if p in used]
    for c in g.components:  # every component can be bought outside: parents never wait
        row = g.prog[c]
        if row["external_price"] is None:
            row["external_price"] = round_to(row["unit_price"] * g.u(1.1, 1.4), 10)
    # who sells to markets: every vehicle; packs and components if merchant or needed by nobody
    g.has_demand = {}
    for pid, row in g.prog.items():
        if row["kind"] == "vehicle":
            g.has_demand[pid] = True
        elif pid not in used:
            g.has_demand[pid] = True
        else:
            g.has_demand[pid] = g.chance(0.5 if row["kind"] == "battery" else 0.25)


def draw_routings(g: Generator) -> None:
    g.routings = []
    g.use = {}  # (programme, line) → capacity_use, after overrides
    g.prog_types = {}
    g.base_use = {}
    for pid, row in g.prog.items():
        kind = row["kind"]
        types = g.types[kind]
        k = 1 + g.chance(0.6) + g.chance(0.25)
        g.prog_types[pid] = sorted(g.rng.sample(types, min(k, len(types))))
        g.base_use[pid] = BASE_USE[kind] * g.u(0.75, 1.25)
    # every line type is routed by someone (else its lines are useless)
    for kind in ("vehicle", "battery", "component"):
        for t in g.types[kind]:
            if not any(t in g.prog_types[p] for p in g.by_kind[kind]):
                p = min(g.by_kind[kind], key=lambda q: (len(g.prog_types[q]), q))
                g.prog_types[p] = sorted(g.prog_types[p] + [t])
    # anchored programmes: committed volumes or must_serve, served from a dedicated line
    cands = [p for p in g.by_kind["vehicle"] + g.by_kind["battery"] if g.has_demand[p]]
    cands.sort()
    n_anch = max(2, round(g.n_progs * 0.1))
    g.anchored = sorted(g.rng.sample(cands, min(n_anch, len(cands))))
    n_must = max(1, round(len(g.anchored) * 0.6))
    g.must_serve = g.anchored[:n_must]
    for p in g.must_serve:
        g.prog[p]["must_serve"] = True
    g.anchor_line = {}
    ded = g.dedicated_lines
    for j, p in enumerate(g.anchored):
        g.anchor_line[p] = ded[j % len(ded)]

    def cost_row(pid: str) -> tuple[float, float]:
        row = g.prog[pid]
        price = row["unit_price"]
        kind = row["kind"]
        # vehicles: assembly and bought-in parts, the BOM (pack, e-drive) is paid separately
        lo, hi = {"vehicle": (0.35, 0.5), "battery": (0.55, 0.75), "component": (0.5, 0.7)}[kind]
        unit_cost = round_to(price * g.u(lo, hi), 1)
        tooling = {"vehicle": (8e6, 40e6), "battery": (3e6, 15e6), "component": (0.5e6, 3e6)}[kind]
        return unit_cost, round_to(g.u(*tooling), 1e4)

    for pid in g.prog:
        for t in g.prog_types[pid]:
            use = round(g.base_use[pid] * g.type_use_mult[t] * g.u(0.95, 1.05), 6)
            unit_cost, tooling = cost_row(pid)
            g.routings.append(dict(programme_id=pid, line_type=t, line_id=None, capacity_use=use,
                                      unit_cost=unit_cost, tooling_cost=tooling))
            for lid in g.lines_of_type[t]:
                g.use[(pid, lid)] = use
    # a few line overrides: newer equipment on one line of a routed type, or one extra line
    chosen = [pid for pid in g.prog if g.chance(0.06)] or [next(iter(g.prog))]
    for pid in chosen:
        kind = g.prog[pid]["kind"]
        fam_lines = [lid for t in g.types[kind] for lid in g.lines_of_type[t]]
        lid = g.rng.choice(fam_lines)
        use = round(g.base_use[pid] * g.type_use_mult[g.line_type[lid]] * g.u(0.85, 0.95), 6)
        unit_cost, tooling = cost_row(pid)
        g.routings.append(dict(programme_id=pid, line_type=None, line_id=lid, capacity_use=use,
                                  unit_cost=unit_cost, tooling_cost=tooling))
        g.use[(pid, lid)] = use
    g.anchor_tooling = {}
    for pid in g.anchored:
        lid = g.anchor_line[pid]
        use = round(g.base_use[pid] * g.type_use_mult["dedicated"], 6)
        unit_cost, tooling = cost_row(pid)
        g.routings.append(dict(programme_id=pid, line_type=None, line_id=lid, capacity_use=use,
                                  unit_cost=unit_cost, tooling_cost=tooling))
        g.use[(pid, lid)] = use
        g.anchor_tooling[pid] = tooling
