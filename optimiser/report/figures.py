"""The report's figures, computed from the result tables alone (no openpyxl): the headline numbers of a
solve (:class:`Headline`, :func:`headline`), scenario probabilities and probability-weighted sums,
the amounts that decide the money unit, and which kind of programme each line makes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pandas as pd

from ..data import Instance
from ..results import Results, units_by_kind
from .format import pct_words


@dataclass(frozen=True)
class Headline:
    """The Summary's numbers for one solve (probability-weighted over scenarios)."""

    instance: str
    strategy: str
    scenarios: tuple[str, ...]
    scenario: str | None
    status: str
    status_words: str
    npv: float | None
    best_bound: float | None
    gap: float | None
    deals_taken: tuple[str, ...]
    lines_built: tuple[str, ...]
    utilisation: float | None
    active_line_years: int
    #: Expected units per programme kind (never added across kinds), in :data:`KINDS` order.
    units: tuple["KindUnits", ...]
    share_year: int
    share: float | None
    share_target: float | None
    share_gap_points: float | None
    share_units_short: float | None
    currency: str

    @property
    def share_words(self) -> str:
        """E.g. ``2.1 % vs 10 % target — 7.9 pts short, 1,580 units``."""
        if self.share is None:
            return f"no world-market size given for {self.share_year}"
        if self.share_target is None:
            return f"{pct_words(self.share)} of the world market in {self.share_year} (no target set)"
        head = f"{pct_words(self.share)} vs {pct_words(self.share_target)} target"
        assert self.share_gap_points is not None
        if self.share_gap_points > 1e-9:
            return (f"{head} — {self.share_gap_points * 100:.1f} pts short, "
                    f"{(self.share_units_short or 0.0):,.0f} units")
        return f"{head} — target met ({-self.share_gap_points * 100:+.1f} pts)".replace("+-", "+")


@dataclass(frozen=True)
class KindUnits:
    """Expected units of one programme kind: demanded, served, unmet, made (``unit`` names them)."""

    kind: str
    unit: str
    demand: float
    served: float
    unmet: float
    made: float

    @property
    def unmet_share(self) -> float | None:
        return self.unmet / self.demand if self.demand > 0 else None


def probabilities(res: Results) -> dict[str, float]:
    """Scenario → probability (equal weights if the scenarios table is missing)."""
    if not res.scenarios.empty:
        return {str(s): float(p) for s, p in zip(res.scenarios["scenario"], res.scenarios["probability"])}
    names = list(res.run.scenarios) or ["base"]
    return {s: 1.0 / len(names) for s in names}


def weighted(df: pd.DataFrame, by: Sequence[str], values: Sequence[str], prob: dict[str, float]) -> pd.DataFrame:
    """Probability-weighted sums of ``values`` grouped by ``by`` (expected values over scenarios)."""
    if df.empty:
        return pd.DataFrame(columns=[*by, *values])
    d = df[[*by, *values, "scenario"]].copy()
    w = d["scenario"].map(prob).fillna(0.0).astype(float)
    for c in values:
        d[c] = d[c].astype(float) * w
    return d.groupby(list(by), sort=True)[list(values)].sum().reset_index()


def headline(instance: Instance, results: Results) -> Headline:
    """The headline numbers of a solve (what the Summary sheet and a comparison row show)."""
    r, res = results.run, results
    prob = probabilities(res)
    u = res.utilisation[res.utilisation["active"].astype(bool)] if not res.utilisation.empty else res.utilisation
    util = None
    if not u.empty:
        w = u["scenario"].map(prob).fillna(0.0)
        cap = float((u["capacity"] * w).sum())
        util = float((u["used"] * w).sum()) / cap if cap > 0 else 0.0
    n_active = int(len(u[["line_id", "year"]].drop_duplicates())) if not u.empty else 0
    kind_units = tuple(KindUnits(str(x.kind), str(x.unit), float(x.demand), float(x.served), float(x.unmet), float(x.made))
                  for x in units_by_kind(res).itertuples())
    share_year = instance.share_target_year if instance.share_target is not None else instance.last_year
    share = gap_pts = short = None
    ms = res.market_share
    size = instance.market_size.get(share_year)
    if size and not ms.empty:
        m = ms[ms["year"] == share_year]
        units = float((m["units_counting"] * m["scenario"].map(prob).fillna(0.0)).sum())
        share = units / size
        if instance.share_target is not None:
            gap_pts = instance.share_target - share
            short = max(0.0, instance.share_target * size - units)
    taken = res.options[res.options["taken"].astype(bool)] if not res.options.empty else res.options
    deals = tuple(f"{x.option_id} — {x.name}" + (f" ({x.counterparty})" if x.counterparty else "")
                  for x in taken.itertuples())
    lines = tuple(f"{x.line_id} at {x.factory} (build {x.build_year}, ready {x.ready_year})"
                  for x in res.lines_built.itertuples())
    return Headline(
        instance=instance.name, strategy=r.strategy, scenarios=tuple(r.scenarios), scenario=r.scenario,
        status=r.status, status_words=r.status_words, npv=r.npv, best_bound=r.best_bound, gap=r.gap,
        deals_taken=deals, lines_built=lines, utilisation=util, active_line_years=n_active, units=kind_units,
        share_year=share_year, share=share,
        share_target=instance.share_target, share_gap_points=gap_pts, share_units_short=short, currency=r.currency)


def money_amounts(results: Results) -> list[float]:
    """The plan's headline amounts (NPV, objective, each NPV category): their size decides whether
    a workbook shows money in millions (:func:`optimiser.report.style.set_style`)."""
    vals = [results.run.npv, results.objective]
    if not results.npv_breakdown.empty:
        vals += [float(v) for v in results.npv_breakdown["value"]]
    return [float(v) for v in vals if v is not None]

def line_kinds(inst: Instance) -> dict[str, str]:
    """Line → the kind of programme it makes (from the routings): a kind, ``mixed``, or absent."""
    kinds: dict[str, set[str]] = {}
    progs = {p.id: p.kind for p in inst.programmes}
    for (p, line) in inst.routings:
        kinds.setdefault(line, set()).add(progs.get(p, ""))
    return {line: next(iter(k)) if len(k) == 1 else "mixed" for line, k in kinds.items()}
