"""The validated, immutable instance: sets as tuples, parameters as dicts keyed by tuples.

Built only by :func:`optimiser.validate.validate`; everything downstream (model,
results, report) reads this object and never the files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Key2 = tuple[str, str]


@dataclass(frozen=True)
class Factory:
    id: str
    name: str
    owner: str
    country: str
    region: str
    #: Share of the site's cash terms that is ours (proportional consolidation); 1 = wholly owned.
    equity_share: float = 1.0


@dataclass(frozen=True)
class Market:
    id: str
    name: str
    region: str


@dataclass(frozen=True)
class Line:
    id: str
    factory: str
    line_type: str
    capacity: float
    status: str  # "existing" | "candidate"
    fixed_cost: float
    build_cost: float
    lead_time: int
    available_from: int
    retire_after: int | None
    ramp_up: float
    requires_option: str | None
    unit_fee: float
    #: Paid in a year the line is available but does not run (economics.md §7).
    idle_cost: float = 0.0
    #: Years over which its build and tooling are depreciated (None = settings.asset_life).
    life: int | None = None

    @property
    def is_candidate(self) -> bool:
        return self.status == "candidate"


@dataclass(frozen=True)
class Programme:
    id: str
    name: str
    kind: str
    customer: str
    unit_price: float
    max_lines: int
    must_serve: bool
    unmet_penalty: float
    first_year: int
    last_year: int
    counts_for_share: bool
    external_price: float | None


@dataclass(frozen=True)
class Routing:
    """A routable (programme, line) pair, resolved from line-type and line rows."""

    programme: str
    line: str
    capacity_use: float
    unit_cost: float
    tooling_cost: float


@dataclass(frozen=True)
class Option:
    id: str
    name: str
    counterparty: str
    kind: str
    upfront_cost: float
    annual_cost: float
    exclusive_group: str | None
    #: Years over which its upfront cost is depreciated (None = settings.asset_life).
    life: int | None = None
    #: ``now`` (one decision for every scenario) or ``later`` (per scenario, from ``decide_from``; economics.md §5).
    decide: str = "now"
    decide_from: int | None = None


@dataclass(frozen=True)
class Scenario:
    id: str
    probability: float
    demand_factor: float
    price_factor: float
    description: str


@dataclass(frozen=True)
class Demand:
    volume: float
    min_volume: float


@dataclass(frozen=True)
class InputTable:
    """A table exactly as read (for the report's Inputs sheet and for convert)."""

    name: str
    header: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class Instance:
    """A validated planning instance."""

    name: str
    first_year: int
    last_year: int
    currency: str
    discount_rate: float
    base_year: int
    share_target: float | None
    share_target_year: int
    share_penalty: float | None
    default_unmet_penalty: float

    factories: tuple[Factory, ...]
    markets: tuple[Market, ...]
    lines: tuple[Line, ...]
    programmes: tuple[Programme, ...]
    options: tuple[Option, ...]
    #: Always at least one; an instance without a scenarios table has ``base``.
    scenarios: tuple[Scenario, ...]
    #: True when the instance had a scenarios table.
    has_scenarios_table: bool

    routings: dict[Key2, Routing]
    demand: dict[tuple[str, str, int], Demand]
    scenario_demand: dict[tuple[str, str, str, int], float]
    #: ``None`` when the logistics table is absent (every route open at no cost).
    logistics: dict[Key2, tuple[float, float]] | None
    bom: dict[Key2, float]
    strategies: dict[str, dict[str, bool]]
    market_size: dict[int, float]
    budget: dict[int, float]
    prices: dict[tuple[str, int], float]
    capacity_profile: dict[tuple[str, int], float]
    #: Outside price of a component by year (``prices.external_price``), overriding programmes.external_price.
    external_prices: dict[tuple[str, int], float] = field(default_factory=dict)
    #: Economics (economics.md §2–§3): tax on profit, terminal value after last_year, asset life.
    tax_rate: float = 0.0
    terminal_value: str = "none"
    terminal_growth: float = 0.0
    asset_life: int = 10

    inputs: tuple[InputTable, ...] = field(default=(), compare=False)
    fingerprint: str = ""
    _by_id: dict[str, dict[str, Any]] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {
            "programmes": {p.id: p for p in self.programmes},
            "lines": {x.id: x for x in self.lines},
            "scenarios": {x.id: x for x in self.scenarios},
            "factories": {x.id: x for x in self.factories},
        })

    # ---------------------------------------------------------------- lookups
    @property
    def years(self) -> tuple[int, ...]:
        return tuple(range(self.first_year, self.last_year + 1))

    def discount(self, year: int) -> float:
        """δ_t = (1+r)^-(t - base_year)."""
        return (1.0 + self.discount_rate) ** -(year - self.base_year)

    def price(self, programme: str, year: int) -> float:
        p = self.prices.get((programme, year))
        return self.programme(programme).unit_price if p is None else p

    def external_price(self, programme: str, year: int) -> float | None:
        """Outside price of a component in ``year`` (``prices.external_price``, else the programme's)."""
        p = self.external_prices.get((programme, year))
        return self.programme(programme).external_price if p is None else p

    def later_options(self) -> tuple[str, ...]:
        """Options decided per scenario (``decide = later``)."""
        return tuple(o.id for o in self.options if o.decide == "later")

    def equity_share(self, factory: str) -> float:
        return self._by_id["factories"][factory].equity_share

    def capacity(self, line: str, year: int) -> float:
        c = self.capacity_profile.get((line, year))
        return self.line(line).capacity if c is None else c

    def programme(self, pid: str) -> Programme:
        return self._by_id["programmes"][pid]

    def line(self, lid: str) -> Line:
        return self._by_id["lines"][lid]

    def scenario(self, sid: str) -> Scenario:
        return self._by_id["scenarios"][sid]

    def demand_volume(self, programme: str, market: str, year: int, scenario: Scenario) -> float:
        """d[p,m,t,s]: the scenario override if present, else volume × demand_factor."""
        override = self.scenario_demand.get((scenario.id, programme, market, year))
        if override is not None:
            return override
        d = self.demand.get((programme, market, year))
        return 0.0 if d is None else d.volume * scenario.demand_factor

    def committed_volume(self, programme: str, market: str, year: int, scenario: Scenario) -> float:
        """min(min_volume, d[p,m,t,s])."""
        d = self.demand.get((programme, market, year))
        if d is None:
            return 0.0
        return min(d.min_volume, self.demand_volume(programme, market, year, scenario))

    @property
    def strategy_names(self) -> tuple[str, ...]:
        return ("optimise", *sorted(self.strategies))

    @property
    def components(self) -> frozenset[str]:
        return frozenset(c for (_, c) in self.bom)
