"""What every cross-table check of the validator shares: the parsed tables, the horizon, the collector.

:func:`context` resolves the planning horizon from the settings (``last_year`` before
``first_year``, a horizon over MAX_HORIZON_YEARS and a ``share_target_year`` outside it are
errors) and returns a :class:`Context`: the good rows of each table, every row (bad cells
included), the tables that are missing or lack a required column, and the entities by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .raw import RawTables
from .schema import TABLES
from .tables import Collector, Row, Settings

PROBABILITY_TOLERANCE = 1e-6
MAX_HORIZON_YEARS = 100


@dataclass
class Context:
    """The tables cross-checked: ``good`` rows (no bad cell) and ``everything`` (bad rows too).

    Ids of rows with a bad cell still count as existing and as used, so one bad cell gives one
    problem, not a trail of "unknown …" and "… is unused" after it. ``absent`` tables (missing,
    or lacking a required column) are already an error: what follows from them is not said again.
    """

    raw: RawTables
    settings: Settings
    good: dict[str, list[Row]]
    everything: dict[str, list[Row]]
    incomplete: set[str]
    out: Collector
    first: int
    last: int
    horizon_ok: bool
    base_year: int
    target_year: int
    absent: set[str] = field(default_factory=set)

    @property
    def values(self) -> dict[str, Any]:
        """The typed settings by key."""
        return self.settings.values

    def rows(self, name: str) -> list[Row]:
        """The good rows of a table (none when it is missing)."""
        return self.good.get(name, [])

    def all_rows(self, name: str) -> list[Row]:
        """Every row of a table, those with a bad cell included."""
        return self.everything.get(name, [])

    def clean(self, *names: str) -> bool:
        """True when every row of these tables is good and none is missing (whole-table rules are meaningful)."""
        return all(len(self.good.get(n, [])) == len(self.everything.get(n, [])) and n not in self.absent
                   for n in names)

    def ids(self, name: str, column: str) -> set[Any]:
        """The values of ``column`` in every row of ``name`` (bad rows count as references)."""
        return {r[column] for r in self.all_rows(name) if r[column] is not None}

    def in_horizon(self, name: str, r: Row, col: str = "year") -> bool:
        """False (and an error) when the row's year lies outside first_year–last_year."""
        y = r[col]
        if y is not None and self.horizon_ok and not self.first <= y <= self.last:
            self.out.error(name, r.number, col, f"year {y} is outside the horizon {self.first}–{self.last}")
            return False
        return True

    def keyed(self, table: str, column: str) -> dict[Any, Row]:
        """The good rows of ``table`` by their id ``column``."""
        return {r[column]: r for r in self.rows(table)}

    @cached_property
    def factories(self) -> dict[str, Row]:
        return self.keyed("factories", "factory_id")

    @cached_property
    def markets(self) -> dict[str, Row]:
        return self.keyed("markets", "market_id")

    @cached_property
    def options(self) -> dict[str, Row]:
        return self.keyed("options", "option_id")

    @cached_property
    def programmes(self) -> dict[str, Row]:
        return self.keyed("programmes", "programme_id")

    @cached_property
    def lines(self) -> dict[str, Row]:
        return self.keyed("lines", "line_id")

    def programme_years(self, p: Row) -> tuple[int, int]:
        """A programme's first and last build year (the horizon's where blank)."""
        fy = p["first_year"] if p["first_year"] is not None else self.first
        ly = p["last_year"] if p["last_year"] is not None else self.last
        return fy, ly


def context(raw: RawTables, settings: Settings, good: dict[str, list[Row]], everything: dict[str, list[Row]],
            incomplete: set[str], out: Collector) -> Context:
    """The horizon checked (``last_year ≥ first_year``, at most MAX_HORIZON_YEARS years,
    ``share_target_year`` inside it) and the tables to cross-check."""
    srow, values = settings.rows, settings.values
    absent = {tb.name for tb in TABLES if tb.required and tb.name not in raw.tables} | set(incomplete)
    first, last = values.get("first_year"), values.get("last_year")
    horizon_ok = isinstance(first, int) and isinstance(last, int)
    if horizon_ok and last < first:
        out.error("settings", srow.get("last_year"), "value", f"last_year {last} is before first_year {first}")
        horizon_ok = False
    if horizon_ok and last - first + 1 > MAX_HORIZON_YEARS:
        out.error("settings", srow.get("last_year"), "value", f"the horizon of {last - first + 1} years is longer than {MAX_HORIZON_YEARS}")
        horizon_ok = False
    if not horizon_ok:
        first, last = 0, 10**6
    base_year = values.get("base_year")
    if base_year is None:
        base_year = first
    target_year = values.get("share_target_year")
    if target_year is None:
        target_year = last
    elif horizon_ok and not first <= target_year <= last:
        out.error("settings", srow.get("share_target_year"), "value",
                  f"share_target_year {target_year} is outside the horizon {first}–{last}")
    return Context(raw, settings, good, everything, incomplete, out, first, last, horizon_ok, base_year,
                   target_year, absent)
