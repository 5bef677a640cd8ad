"""Column definitions of every instance table: the one place the reader, the
validator, the template and the docs take them from.

A table is a list of :class:`Column`; ``settings`` is a key/value table whose
keys are described by :data:`SETTINGS_KEYS` in the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ColumnType = Literal["id", "text", "int", "float", "bool", "enum"]

#: Free-text column every table may carry: where the row's numbers came from.
SOURCE_COLUMN = "source"


@dataclass(frozen=True)
class Column:
    """One column of an instance table."""

    name: str
    type: ColumnType
    required: bool = False
    default: Any = None
    unit: str = ""
    description: str = ""
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    #: True when the value must be strictly greater than ``minimum``.
    strict_minimum: bool = False
    maximum: float | None = None
    #: ``table.column`` this id must exist in (a foreign key).
    references: str | None = None

    @property
    def bound_text(self) -> str:
        """The allowed range in words, e.g. ``must be ≥ 0``."""
        parts = []
        if self.minimum is not None:
            parts.append(f"{'>' if self.strict_minimum else '≥'} {_fmt(self.minimum)}")
        if self.maximum is not None:
            parts.append(f"≤ {_fmt(self.maximum)}")
        return " and ".join(parts)


@dataclass(frozen=True)
class Table:
    """One instance table: its columns, its key, whether the instance needs it."""

    name: str
    description: str
    columns: tuple[Column, ...]
    required: bool = False
    #: Columns whose combination must be unique (the table's key).
    key: tuple[str, ...] = ()
    #: Groups of columns of which exactly one must be filled in.
    one_of: tuple[tuple[str, ...], ...] = field(default_factory=tuple)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


MONEY = "currency"
UNITS = "units/year"

SETTINGS_KEYS: tuple[Column, ...] = (
    Column("name", "text", required=True, description="Name of the instance, used in report titles and file names."),
    Column("first_year", "int", required=True, unit="year", description="First planning year."),
    Column("last_year", "int", required=True, unit="year", description="Last planning year (inclusive)."),
    Column("currency", "text", default="USD", description="Currency every money column is in."),
    Column("discount_rate", "float", default=0.08, minimum=-0.5, strict_minimum=True, unit="fraction/year",
           description="Annual discount rate r; δ_t = (1+r)^-(t - base_year). Above −0.5 (a lower rate doubles money every year back) and at most 1."),
    Column("base_year", "int", default=None, unit="year", description="Year money is discounted to [first_year]."),
    Column("share_target", "float", default=None, minimum=0.0, maximum=1.0, unit="fraction",
           description="Share of the world market (market_size) that programmes counting for share must reach."),
    Column("share_target_year", "int", default=None, unit="year", description="Year the share target is measured in [last_year]."),
    Column("share_penalty", "float", default=None, minimum=0.0, unit=f"{MONEY}/unit",
           description="Penalty per unit short of the share target; blank = the target is hard."),
    Column("default_unmet_penalty", "float", default=0.0, minimum=0.0, unit=f"{MONEY}/unit",
           description="Penalty per unit of unmet demand for programmes without their own unmet_penalty."),
    Column("tax_rate", "float", default=0.0, minimum=0.0, maximum=1.0, unit="fraction",
           description="Tax on each year's profit after straight-line depreciation (< 1; a loss year gives a tax credit)."),
    Column("asset_life", "int", default=10, minimum=1.0, unit="years",
           description="Default life of builds, tooling and option upfront costs (depreciation, book value)."),
    Column("terminal_value", "enum", default="none", choices=("none", "perpetuity", "book"),
           description="Value after last_year: none; perpetuity of the last year's after-tax operating cash flow; "
                       "book value of the capex left."),
    Column("terminal_growth", "float", default=0.0, unit="fraction/year",
           description="Growth of the perpetuity (terminal_value = perpetuity); must be below discount_rate."),
)

SETTINGS = Table(
    "settings",
    "Key/value settings of the instance: horizon, currency, discounting, share target.",
    (
        Column("key", "text", required=True, description="Setting name (see the list of keys)."),
        Column("value", "text", description="Setting value (blank = the key's default)."),
    ),
    required=True,
    key=("key",),
)

FACTORIES = Table(
    "factories",
    "Sites that hold lines.",
    (
        Column("factory_id", "id", required=True, description="Unique id of the factory."),
        Column("name", "text", description="Readable name."),
        Column("owner", "text", description="Who owns the site."),
        Column("country", "text", required=True, description="Country (ISO code or name)."),
        Column("region", "text", description="Region, for grouping in reports."),
        Column("equity_share", "float", default=1.0, minimum=0.0, strict_minimum=True, maximum=1.0, unit="fraction",
               description="Our share of the site's cash (joint venture / partnership, losses included); volumes stay whole."),
    ),
    required=True,
    key=("factory_id",),
)

MARKETS = Table(
    "markets",
    "Where finished programmes are sold.",
    (
        Column("market_id", "id", required=True, description="Unique id of the market."),
        Column("name", "text", description="Readable name."),
        Column("region", "text", description="Region, for grouping in reports."),
    ),
    required=True,
    key=("market_id",),
)

LINES = Table(
    "lines",
    "Production lines, existing or candidates that may be built.",
    (
        Column("line_id", "id", required=True, description="Unique id of the line."),
        Column("factory_id", "id", required=True, references="factories.factory_id", description="Factory the line sits in."),
        Column("line_type", "text", required=True, description="Type of line; routings by line_type apply to every line of the type."),
        Column("capacity", "float", required=True, minimum=0.0, unit="capacity units/year",
               description="Capacity per year in the line's own units (see routings.capacity_use)."),
        Column("status", "enum", required=True, choices=("existing", "candidate"),
               description="existing = there already; candidate = may be built."),
        Column("fixed_cost", "float", default=0.0, minimum=0.0, unit=f"{MONEY}/year", description="Paid in every year the line is active."),
        Column("build_cost", "float", default=0.0, minimum=0.0, unit=MONEY, description="Paid in the build year (candidates only)."),
        Column("lead_time", "int", default=1, minimum=0.0, unit="years", description="Years from build decision to first production (candidates)."),
        Column("available_from", "int", default=None, unit="year", description="First year the line can run [first_year]."),
        Column("retire_after", "int", default=None, unit="year", description="Last year the line can run [none = to the end]."),
        Column("ramp_up", "float", default=1.0, minimum=0.0, strict_minimum=True, maximum=1.0, unit="fraction",
               description="Share of capacity in a built line's first year."),
        Column("requires_option", "id", default=None, references="options.option_id",
               description="Deal option that must be taken for the line to run."),
        Column("unit_fee", "float", default=0.0, minimum=0.0, unit=f"{MONEY}/unit", description="Toll per unit made on the line (partner lines)."),
        Column("idle_cost", "float", default=0.0, minimum=0.0, unit=f"{MONEY}/year",
               description="Paid in every year the line is available but does not run (maintenance, minimum staff, lease)."),
        Column("life", "int", default=None, minimum=1.0, unit="years",
               description="Depreciation life of its build and tooling [settings.asset_life]."),
    ),
    required=True,
    key=("line_id",),
)

PROGRAMMES = Table(
    "programmes",
    "Vehicle, battery and component programmes that can be built.",
    (
        Column("programme_id", "id", required=True, description="Unique id of the programme."),
        Column("name", "text", description="Readable name."),
        Column("kind", "enum", required=True, choices=("vehicle", "battery", "component"), description="What it is."),
        Column("customer", "text", description="Who the programme is built for."),
        Column("unit_price", "float", default=0.0, minimum=0.0, unit=f"{MONEY}/unit", description="Revenue per unit shipped."),
        Column("max_lines", "int", default=1, minimum=1.0, unit="lines", description="Most lines the programme may be tooled on (1 = single-sourced)."),
        Column("must_serve", "bool", default=False, description="All demand must be served."),
        Column("unmet_penalty", "float", default=None, minimum=0.0, unit=f"{MONEY}/unit",
               description="Penalty per unit of unmet demand [settings default_unmet_penalty]."),
        Column("first_year", "int", default=None, unit="year", description="First year of production [first_year]."),
        Column("last_year", "int", default=None, unit="year", description="Last year of production [last_year]."),
        Column("counts_for_share", "bool", default=False, description="Units made count towards the market-share target."),
        Column("external_price", "float", default=None, minimum=0.0, unit=f"{MONEY}/unit",
               description="Price to buy the component outside; blank = cannot be bought."),
    ),
    required=True,
    key=("programme_id",),
)

ROUTINGS = Table(
    "routings",
    "Which programme can be built on which line type or line, at what capacity use and cost.",
    (
        Column("programme_id", "id", required=True, references="programmes.programme_id", description="Programme."),
        Column("line_type", "text", description="Line type (every line of this type) — or give line_id."),
        Column("line_id", "id", references="lines.line_id", description="One line; overrides the line_type row for it."),
        Column("capacity_use", "float", required=True, minimum=0.0, strict_minimum=True, unit="capacity units/unit",
               description="Line capacity used per unit made."),
        Column("unit_cost", "float", default=0.0, minimum=0.0, unit=f"{MONEY}/unit", description="Variable cost per unit made."),
        Column("tooling_cost", "float", default=0.0, minimum=0.0, unit=MONEY, description="One-time cost of tooling the programme on a line."),
    ),
    required=True,
    key=("programme_id", "line_type", "line_id"),
    one_of=(("line_type", "line_id"),),
)

DEMAND = Table(
    "demand",
    "Demand per programme, market and year (base scenario).",
    (
        Column("programme_id", "id", required=True, references="programmes.programme_id", description="Programme."),
        Column("market_id", "id", required=True, references="markets.market_id", description="Market."),
        Column("year", "int", required=True, unit="year", description="Year."),
        Column("volume", "float", required=True, minimum=0.0, unit=UNITS, description="Units demanded."),
        Column("min_volume", "float", default=0.0, minimum=0.0, unit=UNITS, description="Committed units that must be served."),
    ),
    required=True,
    key=("programme_id", "market_id", "year"),
)

LOGISTICS = Table(
    "logistics",
    "Factory → market routes with freight and duty. Present = only these routes exist.",
    (
        Column("factory_id", "id", required=True, references="factories.factory_id", description="Shipping factory."),
        Column("market_id", "id", required=True, references="markets.market_id", description="Receiving market."),
        Column("cost_per_unit", "float", default=0.0, minimum=0.0, unit=f"{MONEY}/unit", description="Freight per unit."),
        Column("tariff", "float", default=0.0, minimum=0.0, unit="fraction of price", description="Import duty as a share of the unit price."),
    ),
    key=("factory_id", "market_id"),
)

BOM = Table(
    "bom",
    "Bill of materials: components each parent unit needs.",
    (
        Column("parent_id", "id", required=True, references="programmes.programme_id", description="Parent programme."),
        Column("component_id", "id", required=True, references="programmes.programme_id", description="Component programme."),
        Column("quantity", "float", required=True, minimum=0.0, strict_minimum=True, unit="units/parent unit", description="Components per parent unit."),
    ),
    key=("parent_id", "component_id"),
)

OPTIONS = Table(
    "options",
    "Strategic deal options (buy, partner, JV, contract, …).",
    (
        Column("option_id", "id", required=True, description="Unique id of the option."),
        Column("name", "text", description="Readable name."),
        Column("counterparty", "text", description="Who the deal is with."),
        Column("kind", "text", description="buy, partner, jv, contract, …"),
        Column("upfront_cost", "float", default=0.0, minimum=0.0, unit=MONEY, description="Paid in the first year if taken."),
        Column("annual_cost", "float", default=0.0, minimum=0.0, unit=f"{MONEY}/year", description="Paid every year of the horizon if taken."),
        Column("exclusive_group", "text", default=None, description="At most one option of a group may be taken."),
        Column("life", "int", default=None, minimum=1.0, unit="years",
               description="Depreciation life of its upfront cost [settings.asset_life]."),
        Column("decide", "enum", default="now", choices=("now", "later"),
               description="now = one decision for every scenario; later = decided per scenario once demand is "
                           "known, in a year from decide_from (a real option)."),
        Column("decide_from", "int", default=None, unit="year",
               description="First year a later option can be taken [first_year + 1]."),
    ),
    key=("option_id",),
)

STRATEGIES = Table(
    "strategies",
    "Named strategies: which options each takes or forbids. `optimise` (no restriction) always exists.",
    (
        Column("strategy_id", "id", required=True, description="Strategy name."),
        Column("option_id", "id", required=True, references="options.option_id", description="Option."),
        Column("decision", "enum", required=True, choices=("take", "forbid"), description="take or forbid the option."),
    ),
    key=("strategy_id", "option_id"),
)

SCENARIOS = Table(
    "scenarios",
    "Demand/price scenarios. Several scenarios and none chosen = two-stage stochastic plan.",
    (
        Column("scenario_id", "id", required=True, description="Scenario name."),
        Column("probability", "float", default=None, minimum=0.0, maximum=1.0, unit="fraction", description="Probability [equal]."),
        Column("demand_factor", "float", default=1.0, minimum=0.0, unit="factor", description="Multiplies every demand volume."),
        Column("price_factor", "float", default=1.0, minimum=0.0, unit="factor", description="Multiplies every price."),
        Column("description", "text", description="What the scenario means."),
    ),
    key=("scenario_id",),
)

SCENARIO_DEMAND = Table(
    "scenario_demand",
    "Demand overrides per scenario (replace the scaled volume).",
    (
        Column("scenario_id", "id", required=True, references="scenarios.scenario_id", description="Scenario."),
        Column("programme_id", "id", required=True, references="programmes.programme_id", description="Programme."),
        Column("market_id", "id", required=True, references="markets.market_id", description="Market."),
        Column("year", "int", required=True, unit="year", description="Year."),
        Column("volume", "float", required=True, minimum=0.0, unit=UNITS, description="Units demanded in this scenario."),
    ),
    key=("scenario_id", "programme_id", "market_id", "year"),
)

MARKET_SIZE = Table(
    "market_size",
    "World market the share target is measured against.",
    (
        Column("year", "int", required=True, unit="year", description="Year."),
        Column("volume", "float", required=True, minimum=0.0, unit=UNITS, description="World market volume."),
    ),
    key=("year",),
)

BUDGET = Table(
    "budget",
    "Capex limit per year (build costs + tooling of programmes starting + upfront option costs in the first year).",
    (
        Column("year", "int", required=True, unit="year", description="Year."),
        Column("capex_limit", "float", required=True, minimum=0.0, unit=MONEY, description="Most capex that may be committed in the year."),
    ),
    key=("year",),
)

PRICES = Table(
    "prices",
    "Unit price and outside price by year, overriding programmes.unit_price and programmes.external_price.",
    (
        Column("programme_id", "id", required=True, references="programmes.programme_id", description="Programme."),
        Column("year", "int", required=True, unit="year", description="Year."),
        Column("unit_price", "float", default=None, minimum=0.0, unit=f"{MONEY}/unit",
               description="Price in that year [programmes.unit_price]."),
        Column("external_price", "float", default=None, minimum=0.0, unit=f"{MONEY}/unit",
               description="Outside price of a component in that year [programmes.external_price]."),
    ),
    key=("programme_id", "year"),
)

CAPACITY_PROFILE = Table(
    "capacity_profile",
    "Line capacity by year, overriding lines.capacity.",
    (
        Column("line_id", "id", required=True, references="lines.line_id", description="Line."),
        Column("year", "int", required=True, unit="year", description="Year."),
        Column("capacity", "float", required=True, minimum=0.0, unit="capacity units/year", description="Capacity in that year."),
    ),
    key=("line_id", "year"),
)

SENSITIVITY = Table(
    "sensitivity",
    "Ranges of inputs for `optimiser tornado` (and break-even searches): one parameter per row.",
    (
        Column("parameter", "text", required=True,
               description="Parameter path: table.column[row], e.g. options.upfront_cost[buy_vinfast], "
                           "programmes.unit_price[*], demand.volume[vf8@VN@2025], settings.discount_rate."),
        Column("low", "float", required=True, description="Low value (≤ high)."),
        Column("high", "float", required=True, description="High value."),
        Column("kind", "enum", default="absolute", choices=("absolute", "multiplier"),
               description="absolute = low/high are the values; multiplier = they multiply the current values."),
        Column("note", "text", description="Why this range (source, judgement)."),
    ),
    key=("parameter",),
)

TABLES: tuple[Table, ...] = (
    SETTINGS, FACTORIES, MARKETS, LINES, PROGRAMMES, ROUTINGS, DEMAND, LOGISTICS, BOM,
    OPTIONS, STRATEGIES, SCENARIOS, SCENARIO_DEMAND, MARKET_SIZE, BUDGET, PRICES, CAPACITY_PROFILE,
    SENSITIVITY,
)
TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}

#: The strategy that restricts nothing; always available.
OPTIMISE = "optimise"

#: Limits that keep a hostile file from exhausting the machine.
MAX_ROWS_PER_TABLE = 500_000
MAX_COLUMNS_PER_TABLE = 200
#: Longest cell text read (Excel's own limit for a cell) and longest row (all its cells together).
MAX_CELL_CHARS = 32_767
MAX_ROW_CHARS = 1_048_576
MAX_WORKBOOK_UNCOMPRESSED_BYTES = 512 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200.0
MAX_FILE_BYTES = 256 * 1024 * 1024
