"""Sparse index sets and parameters of the model, prepared once in plain Python.

:func:`prepare` turns a validated instance, a strategy and a scenario selection
into a :class:`ModelData`: every index set holds only the tuples that exist
(routable pairs, live years, demand that is there), and every parameter is a
dict keyed by those tuples. The constraint families read nothing else, so no
rule ever looks data up in a table or skips an index.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

from pyomo.common.gc_manager import PauseGC

from ..data import Instance
from ..errors import InputError
from ..schema import OPTIMISE

LTS = tuple[str, int, str]
PLTS = tuple[str, str, int, str]


@dataclass(frozen=True)
class FirstStage:
    """First-stage decisions to impose (an evaluated plan): ``take[o]``, ``build[l,τ]``, ``tool[p,l]``.

    Keys absent from a dict are fixed to 0 when the dict is given at all.
    """

    take: dict[str, float] = field(default_factory=dict)
    build: dict[tuple[str, int], float] = field(default_factory=dict)
    tool: dict[tuple[str, str], float] = field(default_factory=dict)


@dataclass(frozen=True)
class Risk:
    """CVaR term: maximise E[NPV] + weight·CVaR_alpha(NPV) (lower tail of NPV)."""

    alpha: float = 0.9
    weight: float = 0.0


@dataclass
class ModelData:
    """Index sets (tuples) and parameters (dicts) of one model."""

    instance_name: str
    strategy: str
    years: tuple[int, ...]
    first_year: int
    scenarios: tuple[str, ...]
    probability: dict[str, float]
    price_factor: dict[str, float]
    delta: dict[int, float]

    # first stage
    options: tuple[str, ...] = ()
    option_fix: dict[str, bool] = field(default_factory=dict)
    upfront_cost: dict[str, float] = field(default_factory=dict)
    annual_cost: dict[str, float] = field(default_factory=dict)
    exclusive_groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    build_index: tuple[tuple[str, int], ...] = ()
    build_cost: dict[str, float] = field(default_factory=dict)
    lead_time: dict[str, int] = field(default_factory=dict)
    build_years: dict[str, tuple[int, ...]] = field(default_factory=dict)
    tool_index: tuple[tuple[str, str], ...] = ()
    tooling_cost: dict[tuple[str, str], float] = field(default_factory=dict)
    tooling_year: dict[str, int] = field(default_factory=dict)
    max_lines: dict[str, int] = field(default_factory=dict)
    must_tool: tuple[str, ...] = ()

    # lines
    candidates: frozenset[str] = frozenset()
    requires_option: dict[str, str] = field(default_factory=dict)
    ramp_up: dict[str, float] = field(default_factory=dict)
    fixed_cost: dict[str, float] = field(default_factory=dict)
    capacity: dict[tuple[str, int], float] = field(default_factory=dict)
    line_factory: dict[str, str] = field(default_factory=dict)

    # second stage
    active_index: tuple[LTS, ...] = ()
    make_index: tuple[PLTS, ...] = ()
    make_ub: dict[PLTS, float] = field(default_factory=dict)
    capacity_use: dict[tuple[str, str], float] = field(default_factory=dict)
    make_cost: dict[tuple[str, str], float] = field(default_factory=dict)
    make_on_line: dict[LTS, tuple[str, ...]] = field(default_factory=dict)
    flow_index: tuple[tuple[str, str, int, str], ...] = ()
    flow_lines: dict[tuple[str, str, int, str], tuple[str, ...]] = field(default_factory=dict)
    ship_index: tuple[tuple[str, str, str, int, str], ...] = ()
    ship_value: dict[tuple[str, str, str, int, str], float] = field(default_factory=dict)
    demand_index: tuple[tuple[str, str, int, str], ...] = ()
    demand: dict[tuple[str, str, int, str], float] = field(default_factory=dict)
    unmet_ub: dict[tuple[str, str, int, str], float] = field(default_factory=dict)
    unmet_penalty: dict[str, float] = field(default_factory=dict)
    demand_sources: dict[tuple[str, str, int, str], tuple[str, ...]] = field(default_factory=dict)
    flow_markets: dict[tuple[str, str, int, str], tuple[str, ...]] = field(default_factory=dict)
    internal_index: tuple[tuple[str, str, int, str], ...] = ()
    bom_index: tuple[tuple[str, int, str], ...] = ()
    bom_parents: dict[str, tuple[tuple[str, float], ...]] = field(default_factory=dict)
    bom_internal: dict[tuple[str, int, str], tuple[str, ...]] = field(default_factory=dict)
    make_lines: dict[tuple[str, int, str], tuple[str, ...]] = field(default_factory=dict)
    extbuy_index: tuple[tuple[str, int, str], ...] = ()
    external_price: dict[str, float] = field(default_factory=dict)

    # optional families
    budget: dict[int, float] = field(default_factory=dict)
    share_rhs: float | None = None
    share_year: int | None = None
    share_penalty: float | None = None
    share_programmes: tuple[str, ...] = ()

    # economics (economics.md; read by .coefficients)
    tax_rate: float = 0.0
    terminal_value: str = "none"
    #: (1+g)/(r−g) for a perpetuity terminal value, else 0
    perpetuity: float = 0.0
    line_life: dict[str, int] = field(default_factory=dict)
    option_life: dict[str, int] = field(default_factory=dict)
    equity_share: dict[str, float] = field(default_factory=dict)
    idle_cost: dict[str, float] = field(default_factory=dict)
    live_years: dict[str, tuple[int, ...]] = field(default_factory=dict)
    price: dict[tuple[str, int], float] = field(default_factory=dict)
    route: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    external_price_year: dict[tuple[str, int], float] = field(default_factory=dict)
    unit_cost: dict[tuple[str, str], float] = field(default_factory=dict)
    unit_fee: dict[str, float] = field(default_factory=dict)

    # options decided later, per scenario (economics.md §5)
    #: later option → the years it can be taken in (decide_from … last_year)
    later: dict[str, tuple[int, ...]] = field(default_factory=dict)
    #: (o, τ, s): later option o taken in year τ in scenario s
    takeyear_index: tuple[tuple[str, int, str], ...] = ()
    #: a line gated by a later option becomes one copy per scenario ("line@scenario"): copy → (line, scenario)
    line_copy: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: tooling year of a pair when not its programme's first year (copies: max(first_year, decide_from))
    tool_year: dict[tuple[str, str], int] = field(default_factory=dict)

    # evaluation of a fixed plan, risk aversion
    fixed: FirstStage | None = None
    risk: Risk | None = None

    #: add the linking inequalities of model/linking.py (same optimum, tighter LP); False only
    #: to measure what they bring (benchmarks/strength.py) and to test that they cut no plan
    tighten: bool = True


def _live(lo: int, hi: int, years: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(t for t in years if lo <= t <= hi)


def prepare(instance: Instance, strategy: str = OPTIMISE, scenario: str | None = None,
            fixed: FirstStage | None = None, risk: Risk | None = None, tighten: bool = True) -> ModelData:
    """Sparse sets and parameters for ``instance`` under ``strategy`` and ``scenario``.

    ``scenario=None`` with several scenarios gives the two-stage extensive form;
    ``fixed`` pins the first stage (to evaluate a plan); ``risk`` adds a CVaR term.
    (Python's cyclic garbage collector is paused meanwhile: millions of new tuples, no cycles,
    and the collector's passes over them cost about a third of the time.)
    """
    with PauseGC():
        md = _prepare(instance, strategy, scenario, fixed, risk)
    md.tighten = tighten
    return md


def _prepare(instance: Instance, strategy: str, scenario: str | None, fixed: FirstStage | None,
             risk: Risk | None) -> ModelData:
    inst = instance
    if strategy != OPTIMISE and strategy not in inst.strategies:
        raise InputError(f"unknown strategy {strategy!r}; this instance has: {', '.join(inst.strategy_names)}")
    if scenario is not None:
        if scenario not in {s.id for s in inst.scenarios}:
            raise InputError(f"unknown scenario {scenario!r}; this instance has: {', '.join(s.id for s in inst.scenarios)}")
        scen = (inst.scenario(scenario),)
        prob = {scenario: 1.0}
    else:
        scen = inst.scenarios
        prob = {s.id: s.probability for s in scen}
    years = inst.years
    first = inst.first_year
    md = ModelData(
        instance_name=inst.name, strategy=strategy, years=years, first_year=first,
        scenarios=tuple(s.id for s in scen), probability=prob,
        price_factor={s.id: s.price_factor for s in scen},
        delta={t: inst.discount(t) for t in years},
    )

    # ---- options
    md.options = tuple(o.id for o in inst.options)
    md.option_fix = dict(inst.strategies.get(strategy, {})) if strategy != OPTIMISE else {}
    md.upfront_cost = {o.id: o.upfront_cost for o in inst.options}
    md.annual_cost = {o.id: o.annual_cost for o in inst.options}
    groups: dict[str, list[str]] = defaultdict(list)
    for o in inst.options:
        if o.exclusive_group:
            groups[o.exclusive_group].append(o.id)
    md.exclusive_groups = {g: tuple(m) for g, m in groups.items() if len(m) > 1}
    md.later = {o.id: tuple(range(o.decide_from or first + 1, inst.last_year + 1)) for o in inst.options
                if o.decide == "later"}
    md.takeyear_index = tuple((o, tau, s) for o, taus in md.later.items() for tau in taus for s in md.scenarios)

    # ---- lines (a line gated by a later option: one copy per scenario, live only there)
    vlines: list[tuple] = []
    for ln in inst.lines:
        if ln.requires_option in md.later:
            for s in md.scenarios:
                copy = f"{ln.id}@{s}"
                vlines.append(replace(ln, id=copy))
                md.line_copy[copy] = (ln.id, s)
        else:
            vlines.append(ln)
    origin = {ln.id: md.line_copy[ln.id][0] if ln.id in md.line_copy else ln.id for ln in vlines}
    vline = {ln.id: ln for ln in vlines}
    virtuals: dict[str, list[str]] = defaultdict(list)
    for ln in vlines:
        virtuals[origin[ln.id]].append(ln.id)

    # ---- lines: live years and build years
    live: dict[str, tuple[int, ...]] = {}
    for ln in vlines:
        hi = ln.retire_after if ln.retire_after is not None else inst.last_year
        md.line_factory[ln.id] = ln.factory
        if ln.requires_option:
            md.requires_option[ln.id] = ln.requires_option
        md.fixed_cost[ln.id] = ln.fixed_cost
        if ln.is_candidate:
            byears = tuple(tau for tau in years
                           if ln.available_from <= tau + ln.lead_time <= min(hi, inst.last_year)
                           and (ln.id not in md.line_copy or tau >= md.later[ln.requires_option][0]))
            if not byears:
                live[ln.id] = ()
                continue
            md.build_years[ln.id] = byears
            md.build_cost[ln.id] = ln.build_cost
            md.lead_time[ln.id] = ln.lead_time
            live[ln.id] = _live(byears[0] + ln.lead_time, hi, years)
            if ln.ramp_up < 1.0:
                md.ramp_up[ln.id] = ln.ramp_up
        else:
            live[ln.id] = _live(ln.available_from, hi, years)
        for t in live[ln.id]:
            md.capacity[(ln.id, t)] = inst.capacity(origin[ln.id], t)
    md.candidates = frozenset(md.build_years)
    md.live_years = live
    md.idle_cost = {ln.id: ln.idle_cost for ln in vlines if ln.idle_cost}
    md.line_life = {ln.id: ln.life or inst.asset_life for ln in vlines}
    md.option_life = {o.id: o.life or inst.asset_life for o in inst.options}
    md.equity_share = {f.id: f.equity_share for f in inst.factories}
    md.tax_rate = inst.tax_rate
    md.terminal_value = inst.terminal_value
    if inst.terminal_value == "perpetuity":
        g = inst.terminal_growth
        md.perpetuity = (1.0 + g) / (inst.discount_rate - g)
    md.build_index = tuple((lid, tau) for lid, bys in md.build_years.items() for tau in bys)

    # ---- demand per scenario, and what can reach a market
    routes = inst.logistics
    factories_of_p: dict[str, set[str]] = defaultdict(set)
    for (p, l) in inst.routings:
        factories_of_p[p].add(inst.line(l).factory)
    demand_keys = set(inst.demand) | {(p, m, t) for (_, p, m, t) in inst.scenario_demand}
    demand_keys = sorted(demand_keys)
    # factories of p that can ship to m, per (p, m) (every factory of p when the logistics table is absent)
    reach_from: dict[tuple[str, str], tuple[str, ...]] = {}
    for (p, m, _) in demand_keys:
        if (p, m) not in reach_from:
            reach_from[(p, m)] = tuple(f for f in factories_of_p.get(p, ()) if routes is None or (f, m) in routes)
    d: dict[tuple[str, str, int, str], float] = {}
    reach: dict[tuple[str, str, int, str], float] = defaultdict(float)  # (p,f,t,s) -> demand reachable from f
    total: dict[tuple[str, int, str], float] = defaultdict(float)
    demand_volume = inst.demand_volume
    for s in scen:
        sid_ = s.id
        for (p, m, t) in demand_keys:
            v = demand_volume(p, m, t, s)
            if v <= 0:
                continue
            d[(p, m, t, sid_)] = v
            total[(p, t, sid_)] += v
            for f in reach_from[(p, m)]:
                reach[(p, f, t, sid_)] += v

    # ---- production bound per programme (with what BOM parents can draw)
    parents: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for (par, c), q in sorted(inst.bom.items()):
        parents[c].append((par, q))
    components = inst.components
    lines_of: dict[str, list[str]] = defaultdict(list)
    for (p, l) in inst.routings:
        lines_of[p].extend(virtuals[l])
    copy_of = md.line_copy
    prog = {p.id: p for p in inst.programmes}
    memo: dict[tuple[str, int, str], float] = {}
    draw_memo: dict[tuple[str, int, str], float] = {}

    def draw(c: str, t: int, s: str) -> float:
        key = (c, t, s)
        v = draw_memo.get(key)
        if v is None:
            v = draw_memo[key] = sum(q * max_make(par, t, s) for par, q in parents.get(c, ()))
        return v

    def max_make(p: str, t: int, s: str) -> float:
        key = (p, t, s)
        if key not in memo:
            pr = prog[p]
            if not pr.first_year <= t <= pr.last_year:
                memo[key] = 0.0
            else:
                cap = sum(md.capacity.get((l, t), 0.0) / inst.routings[(p, origin[l])].capacity_use
                          for l in lines_of.get(p, ()) if l not in copy_of or copy_of[l][1] == s)
                memo[key] = min(cap, total.get(key, 0.0) + draw(p, t, s))
        return memo[key]

    # ---- make, tool, active
    make_index: list[PLTS] = []
    make_ub = md.make_ub
    on_line: dict[LTS, list[str]] = defaultdict(list)
    flow_lines: dict[tuple[str, str, int, str], list[str]] = defaultdict(list)
    make_lines: dict[tuple[str, int, str], list[str]] = defaultdict(list)
    tools: dict[tuple[str, str], None] = {}
    scenarios = md.scenarios
    capacity = md.capacity
    reach_get = reach.get
    vroutings = sorted(((p, v), r) for (p, l), r in inst.routings.items() for v in virtuals[l])
    for (p, l), r in vroutings:
        pr = prog[p]
        f = md.line_factory[l]
        only = copy_of[l][1] if l in copy_of else None
        md.capacity_use[(p, l)] = r.capacity_use
        md.make_cost[(p, l)] = r.unit_cost + vline[l].unit_fee
        md.unit_cost[(p, l)] = r.unit_cost
        md.unit_fee[l] = vline[l].unit_fee
        is_component = p in components
        first_p, last_p, use = pr.first_year, pr.last_year, r.capacity_use
        made = False
        for t in live[l]:
            if not first_p <= t <= last_p:
                continue
            cap_bound = capacity[(l, t)] / use
            for s in scenarios:
                if only is not None and s != only:
                    continue
                fkey = (p, f, t, s)
                need = reach_get(fkey, 0.0)
                if is_component:
                    need += draw(p, t, s)
                u = need if need < cap_bound else cap_bound  # min(cap_bound, need)
                if u <= 0:
                    continue
                key = (p, l, t, s)
                make_index.append(key)
                make_ub[key] = u
                on_line[(l, t, s)].append(p)
                flow_lines[fkey].append(l)
                make_lines[(p, t, s)].append(l)
                made = True
        if made:
            tools[(p, l)] = None
    md.make_index = tuple(make_index)
    md.make_on_line = {k: tuple(v) for k, v in on_line.items()}
    md.active_index = tuple(on_line)
    md.flow_lines = {k: tuple(v) for k, v in flow_lines.items()}
    md.flow_index = tuple(flow_lines)
    md.make_lines = {k: tuple(v) for k, v in make_lines.items()}
    if fixed is not None:  # a fixed plan pays for its tooling even where this scenario makes nothing
        for (p, l), val in sorted(fixed.tool.items()):
            if val > 0.5 and (p, l) in inst.routings and l in vline:
                tools.setdefault((p, l), None)
    md.tool_index = tuple(tools)
    md.tooling_cost = {(p, l): inst.routings[(p, origin[l])].tooling_cost for (p, l) in md.tool_index}
    md.tooling_year = {p.id: p.first_year for p in inst.programmes}
    for (p, l) in md.tool_index:
        if l in copy_of:
            own = min(max(md.tooling_year[p], first), years[-1])
            md.tool_year[(p, l)] = max(own, md.later[md.requires_option[l]][0])
    md.max_lines = {p.id: p.max_lines for p in inst.programmes}
    tooled = {p for (p, _) in md.tool_index}
    demanded = {k[0] for k in d}
    md.must_tool = tuple(p.id for p in inst.programmes
                         if p.must_serve and p.id in tooled and p.id in demanded)

    # ---- ship and demand
    ship_index = []
    ship_value = md.ship_value
    sources: dict[tuple[str, str, int, str], list[str]] = defaultdict(list)
    markets_of_flow: dict[tuple[str, str, int, str], list[str]] = defaultdict(list)
    sorted_factories = {p: sorted(fs) for p, fs in factories_of_p.items()}
    price_of: dict[tuple[str, int], float] = {}
    flows = md.flow_lines
    price_factor = md.price_factor
    for (p, m, t, s) in d:
        base = price_of.get((p, t))
        if base is None:
            base = price_of[(p, t)] = inst.price(p, t)
        price = base * price_factor[s]
        dkey = (p, m, t, s)
        for f in sorted_factories.get(p, ()):
            fkey = (p, f, t, s)
            if fkey not in flows:
                continue
            if routes is None:
                cost, tariff = 0.0, 0.0
            else:
                route = routes.get((f, m))
                if route is None:
                    continue
                cost, tariff = route
            key = (p, f, m, t, s)
            ship_index.append(key)
            ship_value[key] = price * (1.0 - tariff) - cost
            sources[dkey].append(f)
            markets_of_flow[fkey].append(m)
    md.ship_index = tuple(ship_index)
    md.price = price_of
    if routes is not None:
        md.route = {(f, m): routes[(f, m)] for (_, f, m, _, _) in ship_index}
    md.demand = d
    md.demand_index = tuple(d)
    md.demand_sources = {k: tuple(v) for k, v in sources.items()}
    md.flow_markets = {k: tuple(v) for k, v in markets_of_flow.items()}
    sid = {s.id: s for s in scen}
    committed_volume = inst.committed_volume
    unmet_ub = md.unmet_ub
    for (p, m, t, s), v in d.items():
        committed = committed_volume(p, m, t, sid[s])
        unmet_ub[(p, m, t, s)] = 0.0 if prog[p].must_serve else max(0.0, v - committed)
    md.unmet_penalty = {p.id: p.unmet_penalty for p in inst.programmes}

    # ---- bill of materials
    md.internal_index = tuple(k for k in md.flow_index if k[0] in components)
    internal_by: dict[tuple[str, int, str], list[str]] = defaultdict(list)
    for (c, f, t, s) in md.internal_index:
        internal_by[(c, t, s)].append(f)
    md.bom_parents = {c: tuple(v) for c, v in parents.items()}
    bom_rows = []
    for c in sorted(components):
        for t in years:
            for s in md.scenarios:
                if any((par, t, s) in md.make_lines for par, _ in parents[c]):
                    bom_rows.append((c, t, s))
    md.bom_index = tuple(bom_rows)
    md.bom_internal = {k: tuple(internal_by.get(k, ())) for k in bom_rows}
    md.external_price = {p.id: p.external_price for p in inst.programmes if p.external_price is not None}
    md.extbuy_index = tuple(k for k in bom_rows if k[0] in md.external_price)
    md.external_price_year = {(c, t): v for (c, t), v in inst.external_prices.items() if c in md.external_price}

    # ---- budget and share target
    md.budget = dict(inst.budget)
    if inst.share_target is not None:
        md.share_year = inst.share_target_year
        md.share_rhs = inst.share_target * inst.market_size.get(inst.share_target_year, 0.0)
        md.share_penalty = inst.share_penalty
        md.share_programmes = tuple(p.id for p in inst.programmes if p.counts_for_share)
    md.fixed = fixed
    md.risk = risk if (risk is not None and risk.weight > 0) else None
    return md
