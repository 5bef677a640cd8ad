"""IRR, payback year and peak funding need of a plan, from its cash flow by scenario and year.

Reads only the ``cash_flow`` table of :class:`optimiser.results.Results` (undiscounted money by
scenario and year). Definitions (on the probability-weighted expected cash flow):

* IRR: the rate ``x`` with ``Σ_t FCF_t / (1+x)^(t − first_year) = 0`` (free cash flow, terminal value
  included in the last year); ``None`` when the flows never change sign or no root lies in (−99 %, 10 000 %).
* payback year: the first year from which the cumulative free cash flow (terminal value left out:
  money actually received) stays ≥ 0; ``None`` when it ends below 0.
* peak funding need: ``max(0, −min_t cumulative free cash flow)`` (terminal value left out) — the most
  the plan has to borrow at any point.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Finance:
    irr: float | None
    payback_year: int | None
    peak_funding: float


def expected_cash_flow(cash_flow: pd.DataFrame, probability: dict[str, float]) -> pd.DataFrame:
    """Σ_s π_s · cash_flow[s] by year (columns as in the table, ``scenario`` dropped)."""
    if cash_flow.empty:
        return cash_flow.drop(columns=["scenario"], errors="ignore")
    w = cash_flow["scenario"].map(probability).fillna(0.0)
    money = [c for c in cash_flow.columns if c not in ("scenario", "year", "discount_factor")]
    out = cash_flow[money].mul(w, axis=0)
    out["year"] = cash_flow["year"]
    out = out.groupby("year", as_index=False)[money].sum()
    df = cash_flow.drop_duplicates("year").set_index("year")["discount_factor"]
    out["discount_factor"] = out["year"].map(df)
    return out


def irr(flows: list[float]) -> float | None:
    """Internal rate of return of yearly ``flows`` (year 0 first), by bisection; None without a sign change."""
    if not flows or not (any(f < 0 for f in flows) and any(f > 0 for f in flows)):
        return None

    def npv(x: float) -> float:
        return sum(f / (1.0 + x) ** i for i, f in enumerate(flows))

    lo, hi = -0.99, 100.0
    f_lo, f_hi = npv(lo), npv(hi)
    if f_lo * f_hi > 0:
        return None
    for _ in range(200):
        mid = (lo + hi) / 2.0
        f_mid = npv(mid)
        if f_lo * f_mid <= 0:
            hi = mid
        else:
            lo, f_lo = mid, f_mid
        if hi - lo < 1e-12:
            break
    return (lo + hi) / 2.0


def finance(cash_flow: pd.DataFrame, probability: dict[str, float]) -> Finance:
    """IRR, payback year and peak funding need of the expected cash flow."""
    exp = expected_cash_flow(cash_flow, probability)
    if exp.empty:
        return Finance(None, None, 0.0)
    fcf = [float(x) for x in exp["free_cash_flow"]]
    received = [f - float(tv) for f, tv in zip(fcf, exp["terminal_value"])]
    cum, running = [], 0.0
    for f in received:
        running += f
        cum.append(running)
    payback = None
    for i in range(len(cum)):
        if all(c >= -1e-6 for c in cum[i:]):
            payback = int(exp["year"].iloc[i])
            break
    return Finance(irr(fcf), payback, max(0.0, -min(cum)))
