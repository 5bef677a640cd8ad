"""The state of one generation run: the one rng, the counts, and every table and index drawn so far.

Every attribute exists from :meth:`Generator.__init__` on (empty until the step that draws it:
:mod:`~optimiser.generate.plant`, :mod:`~optimiser.generate.products`,
:mod:`~optimiser.generate.volumes`, :mod:`~optimiser.generate.economy`, run in the order of
:func:`optimiser.generate.instance.draw_tables`). Everything is drawn from ``rng`` in list order
(no set iteration), so the same counts and seed give the same tables.
"""

from __future__ import annotations

import random
from typing import Any

from .vocabulary import FIRST_YEAR

Rows = list[dict[str, Any]]


class Generator:
    """One generation run: the rng and everything drawn so far."""

    def __init__(self, lines: int, programmes: int, years: int, markets: int, scenarios: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.n_lines, self.n_progs, self.n_years = lines, programmes, years
        self.n_markets, self.n_scen, self.seed = markets, scenarios, seed
        self.first = FIRST_YEAR
        self.last = FIRST_YEAR + years - 1
        self.years = list(range(self.first, self.last + 1))
        # the plant (plant.py)
        self.n_cp = 0  #: counterparties with lines
        self.line_plan: list[tuple[str, int | None, str]] = []  #: (role, counterparty index, family) per line
        self.factories: Rows = []
        self.factory_region: dict[str, str] = {}
        self.factory_country: dict[str, str] = {}
        self.own_factories: list[str] = []
        self.cp_factory: dict[int, str] = {}
        self.markets: Rows = []
        self.market_region: dict[str, str] = {}
        self.market_ids: list[str] = []
        self.options: Rows = []
        self.opt_buy: dict[int, str] = {}
        self.opt_partner: dict[int, str] = {}
        self.opt_jv = ""
        self.opt_lic = ""
        self.option_upfront: dict[str, float] = {}
        self.types: dict[str, list[str]] = {}  #: line types by family
        self.type_base_cap: dict[str, float] = {}
        self.type_use_mult: dict[str, float] = {}
        self.dedicated_factories: list[str] = []
        self.lines: Rows = []
        self.line_type: dict[str, str] = {}
        self.line_family: dict[str, str] = {}
        self.line_role: dict[str, str] = {}
        self.line_factory: dict[str, str] = {}
        self.line_cap: dict[str, float] = {}
        self.dedicated_lines: list[str] = []
        self.lines_of_type: dict[str, list[str]] = {}
        # the programmes (products.py)
        self.programmes: Rows = []
        self.prog: dict[str, dict[str, Any]] = {}
        self.by_kind: dict[str, list[str]] = {}
        self.bom: Rows = []
        self.components: list[str] = []
        self.has_demand: dict[str, bool] = {}
        self.routings: Rows = []
        self.use: dict[tuple[str, str], float] = {}  #: (programme, line) → capacity_use, after overrides
        self.prog_types: dict[str, list[str]] = {}
        self.base_use: dict[str, float] = {}
        self.anchored: list[str] = []  #: programmes with committed volume or must_serve, on a dedicated line
        self.must_serve: list[str] = []
        self.anchor_line: dict[str, str] = {}
        self.anchor_tooling: dict[str, float] = {}
        # demand and scenarios (volumes.py)
        self.demand: Rows = []
        self.demand_of: dict[str, list[dict[str, Any]]] = {}
        self.market_lists: dict[str, list[str]] = {}
        self.scenarios: Rows = []
        self.scen_factor: dict[str, float] = {}
        self.scenario_demand: Rows = []
        self.overrides: dict[tuple[str, str, str, int], float] = {}
        # money and rules (economy.py)
        self.logistics: Rows = []
        self.strategies: Rows = []
        self.max_forced_upfront = 0.0
        self.prices: Rows = []
        self.capacity_profile: Rows = []
        self.market_size: Rows = []
        self.settings: Rows = []
        self.budget: Rows = []

    # small helpers on the one rng
    def u(self, lo: float, hi: float) -> float:
        """A uniform draw from [lo, hi]."""
        return self.rng.uniform(lo, hi)

    def chance(self, p: float) -> bool:
        """True with probability ``p``."""
        return self.rng.random() < p
