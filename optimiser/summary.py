"""Terminal summary and JSON of a solve, from the result tables alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .data import Instance
from .results import Results


def _money(x: float | None, currency: str) -> str:
    if x is None:
        return "—"
    a = abs(x)
    for div, unit in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if a >= div:
            return f"{x / div:,.2f} {unit} {currency}"
    return f"{x:,.2f} {currency}"


def solve_json(res: Results, report: Path | None) -> dict[str, Any]:
    """The `solve --json` object."""
    r = res.run
    return {
        "status": r.status, "termination": r.termination, "npv": res.npv, "objective": res.objective,
        "unmet_penalty_cost": res.unmet_penalty_cost, "target_penalty": res.target_penalty,
        "solver_objective": r.objective, "best_bound": r.best_bound, "gap": r.gap,
        "status_words": r.status_words, "stopped_by_watchdog": r.stopped_by_watchdog, "start_plan": r.start_plan,
        "linking_rows": r.linking_rows,
        "instance": r.instance, "strategy": r.strategy, "scenario": r.scenario, "scenarios": list(r.scenarios),
        "build_seconds": round(r.build_seconds, 4), "handoff_seconds": round(r.handoff_seconds, 4),
        "solve_seconds": round(r.solve_seconds, 4), "extract_seconds": round(r.extract_seconds, 4),
        "n_variables": r.n_variables, "n_binaries": r.n_binaries, "n_constraints": r.n_constraints,
        "n_nonzeros": r.n_nonzeros, "highs_version": r.highs_version, "instance_sha256": r.instance_sha256,
        "options_taken": res.options_taken, "lines_built": res.lines_built.to_dict("records"),
        "npv_breakdown": {row.category: row.value for row in res.npv_breakdown.itertuples()},
        "unmet_units": float(res.demand["unmet"].sum()) if not res.demand.empty else 0.0,
        "scenario_npv": {row.scenario: row.npv for row in res.scenarios.itertuples()},
        "cash_flow": res.cash_flow.to_dict("records"),
        "option_years": [{"option_id": r.option_id, "scenario": r.scenario,
                          "year_taken": None if r.year_taken is None or r.year_taken != r.year_taken else int(r.year_taken)}
                         for r in res.option_years.itertuples()],
        "report": str(report) if report else None,
    }


def weight_words(res: Results) -> list[tuple[float, str]]:
    """The weights subtracted from the cash NPV in the objective, as (amount, words), zero ones left out."""
    return [(v, w) for v, w in ((res.unmet_penalty_cost, "unmet-demand penalty (not cash)"),
                                (res.target_penalty, "share-target penalty (not cash)")) if v]


def print_summary(instance: Instance, res: Results, report: Path | None) -> None:
    """A rich, one-screen summary of the plan."""
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    con = Console()
    r = res.run
    cur = r.currency
    con.print(f"[bold]{instance.name}[/bold] — strategy [bold]{r.strategy}[/bold]"
              + (f", scenario [bold]{r.scenario}[/bold]" if r.scenario else
                 (f", {len(r.scenarios)} scenarios (stochastic)" if len(r.scenarios) > 1 else "")))
    con.print(f"Status: [bold]{r.status_words}[/bold]   NPV (cash): [bold]{_money(res.npv, cur)}[/bold]")
    con.print(f"Objective (what was optimised): {_money(res.objective, cur)} = NPV"
              + "".join(f" − {_money(v, cur)} {w}" for v, w in weight_words(res))
              + f"; best bound {_money(r.best_bound, cur)}")
    con.print(f"Model: {r.n_variables:,} variables ({r.n_binaries:,} binary), {r.n_constraints:,} constraints; "
              f"build {r.build_seconds:.2f} s, HiGHS {r.solve_seconds:.2f} s, extract {r.extract_seconds:.2f} s")
    t = Table(title="NPV breakdown", show_edge=False)
    t.add_column("category")
    t.add_column(cur, justify="right")
    for row in res.npv_breakdown.itertuples():
        if abs(row.value) > 0.5:
            t.add_row(row.label, f"{row.value:,.0f}")
    con.print(t)
    taken = res.options[res.options["taken"]] if not res.options.empty else res.options
    con.print("Deals taken: " + (", ".join(f"{x.option_id} ({x.name})" for x in taken.itertuples()) or "none"))
    if not res.option_years.empty:
        for o, rows in res.option_years.groupby("option_id", sort=True):
            when = ", ".join(f"{r.scenario} {'never' if r.year_taken is None or r.year_taken != r.year_taken else int(r.year_taken)}"
                             for r in rows.itertuples())
            con.print(f"Decided later, {o}: {when}")
    if not res.lines_built.empty:
        con.print("Lines built: " + ", ".join(f"{x.line_id} in {x.build_year} (ready {x.ready_year})"
                                               for x in res.lines_built.itertuples()))
    else:
        con.print("Lines built: none")
    u = res.utilisation[res.utilisation["active"]]
    if not u.empty:
        agg = u.groupby("line_id").agg(used=("used", "sum"), capacity=("capacity", "sum"))
        agg["util"] = agg["used"] / agg["capacity"].where(agg["capacity"] > 0)
        top = agg.sort_values("util", ascending=False)
        con.print("Utilisation (active years): " + ", ".join(f"{lid} {row.util:.0%}" for lid, row in top.head(8).iterrows()))
    d = res.demand
    if not d.empty:  # expected units over the scenarios (probability-weighted)
        prob = dict(zip(res.scenarios["scenario"], res.scenarios["probability"]))
        w = d["scenario"].map(prob).fillna(0.0)
        d = d.assign(demand=d["demand"] * w, unmet=d["unmet"] * w)
        unmet = d.groupby("programme_id")[["demand", "unmet"]].sum()
        unmet = unmet[unmet["unmet"] > 0.5].sort_values("unmet", ascending=False)
        total = d["demand"].sum()
        con.print(f"Unmet demand: {d['unmet'].sum():,.0f} of {total:,.0f} units"
                  + (" (expected over the scenarios)" if len(prob) > 1 else "")
                  + ("" if unmet.empty else " — most in " + ", ".join(
                      f"{pid} {row.unmet:,.0f}" for pid, row in unmet.head(5).iterrows())))
    if instance.share_target is not None and not res.market_share.empty:
        ms = res.market_share[res.market_share["year"] == instance.share_target_year]
        for row in ms.itertuples():
            share = f"{row.share:.2%}" if row.share is not None else "—"
            con.print(f"Share of world market {row.year} ({row.scenario}): {share} vs target {instance.share_target:.0%}")
    if report:
        con.print(f"Report: {report}")


def print_comparison(comp: Any, report: Path | None) -> None:
    """Strategy × scenario matrix, stochastic plans, value measures and recommendation."""
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    con = Console()
    cur = comp.currency
    con.print(f"[bold]{comp.instance}[/bold] — {len(comp.strategies)} strategies × {len(comp.scenarios)} scenarios")
    con.print("NPV = cash NPV; objective = what was optimised: NPV less the penalty weights (unmet demand, "
              "share target), which are not cash.")
    t = Table(title=f"NPV by strategy and scenario (scenario known in advance), {cur}", show_edge=False)
    t.add_column("strategy")
    for s in comp.scenarios:
        t.add_column(f"{s} (p={comp.probability[s]:.2f})", justify="right")
    for k in comp.strategies:
        rows = comp.matrix[comp.matrix["strategy"] == k].set_index("scenario")
        t.add_row(k, *[_cell(rows.loc[s, "npv"], rows.loc[s, "status"]) for s in comp.scenarios])
    con.print(t)
    t = Table(title=f"Stochastic plans (decide deals and builds before demand is known), {cur}", show_edge=False)
    for c in ("strategy", "expected NPV", "objective", "worst case", "max regret", "IRR", "payback", "peak funding",
              "deals taken", "status"):
        t.add_column(c, justify="left" if c in ("strategy", "deals taken", "status") else "right")
    for r in comp.stochastic.itertuples():
        irr = getattr(r, "irr", None)
        pay = getattr(r, "payback_year", None)
        t.add_row(r.strategy, _cell(r.expected_npv, r.status), _cell(getattr(r, "objective", None)), _cell(r.worst_case),
                  _cell(r.max_regret), "—" if irr is None or irr != irr else f"{irr:.1%}",
                  "—" if pay is None or pay != pay else str(int(pay)), _cell(getattr(r, "peak_funding", None)),
                  r.options_taken or "none", r.status)
    con.print(t)
    for row in comp.value.itertuples():
        con.print(f"{row.measure}: {_cell(row.value)} {cur} — {row.meaning}")
    con.print("")
    for sentence in comp.sentences:
        con.print(f"• {sentence}")
    if report:
        con.print(f"Report: {report}")


def _cell(v: Any, status: str | None = None) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return status or "—"
    return f"{v:,.0f}"
