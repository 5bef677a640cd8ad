"""Terminal summary and JSON of a solve (and the terminal summary of a comparison), from the result tables alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..data import Instance
from ..numbers import money, whole
from ..results import Results, units_by_kind


def solve_json(res: Results, report: Path | None) -> dict[str, Any]:
    """The `solve --json` object."""
    r = res.run
    per = units_by_kind(res, by_scenario=True)
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
        "basis": EXPECTED_BASIS,
        "expected_units": _units_json(units_by_kind(res)),
        "expected_unmet_units": {str(x.kind): float(x.unmet) for x in units_by_kind(res).itertuples()},
        "scenario_npv": {row.scenario: row.npv for row in res.scenarios.itertuples()},
        "per_scenario": {
            str(row.scenario): {"probability": float(row.probability), "npv": float(row.npv),
                                "units": _units_json(per[per["scenario"] == str(row.scenario)])}
            for row in res.scenarios.itertuples()},
        "capacity_value": _capacity_value_json(res),
        "cash_flow": res.cash_flow.to_dict("records"),
        "option_years": [{"option_id": r.option_id, "scenario": r.scenario,
                          "year_taken": None if r.year_taken is None or r.year_taken != r.year_taken else int(r.year_taken)}
                         for r in res.option_years.itertuples()],
        "report": str(report) if report else None,
    }


#: What ``npv``, ``best_bound``, ``npv_breakdown`` and the ``expected_*`` keys of ``solve --json`` are.
EXPECTED_BASIS = ("expected (probability-weighted over the scenarios solved): npv, best_bound, npv_breakdown, "
                  "expected_units, expected_unmet_units; per_scenario has each scenario's own figures; "
                  "units are per programme kind and never added across kinds")


def _units_json(df: Any) -> dict[str, dict[str, Any]]:
    """``{kind: {unit, demand, served, unmet, made}}`` from :func:`~optimiser.results.units_by_kind`."""
    return {str(x.kind): {"unit": str(x.unit), "demand": float(x.demand), "served": float(x.served),
                          "unmet": float(x.unmet), "made": float(x.made)} for x in df.itertuples()}


def _capacity_value_json(res: Results) -> list[dict[str, Any]]:
    """Every line-year capacity value with the capacity range over which it holds (None: not
    available, or no upper end)."""
    cols = ("scenario", "line_id", "year", "shadow_price", "shadow_price_npv", "capacity", "range_low", "range_high")
    out = []
    for rec in res.capacity_value.to_dict("records"):
        row = {}
        for c in cols:
            v = rec.get(c)
            if hasattr(v, "item"):
                v = v.item()
            row[c] = None if isinstance(v, float) and v != v else v
        out.append(row)
    return out


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
    con.print(f"Status: [bold]{r.status_words}[/bold]   NPV (cash): [bold]{money(res.npv, cur)}[/bold]")
    con.print(f"Objective (what was optimised): {money(res.objective, cur)} = NPV"
              + "".join(f" − {money(v, cur)} {w}" for v, w in weight_words(res))
              + f"; best bound {money(r.best_bound, cur)}")
    con.print(f"Model: {r.n_variables:,} variables ({r.n_binaries:,} binary), {r.n_constraints:,} constraints; "
              f"build {r.build_seconds:.2f} s, HiGHS {r.solve_seconds:.2f} s, extract {r.extract_seconds:.2f} s")
    t = Table(title="NPV breakdown", show_edge=False)
    t.add_column("category")
    t.add_column(cur, justify="right")
    for row in res.npv_breakdown.itertuples():
        if abs(row.value) > 0.5:
            t.add_row(row.label, whole(row.value))
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
    if not d.empty:  # expected units over the scenarios (probability-weighted), per programme kind
        prob = dict(zip(res.scenarios["scenario"], res.scenarios["probability"]))
        w = d["scenario"].map(prob).fillna(0.0)
        d = d.assign(demand=d["demand"] * w, unmet=d["unmet"] * w)
        by_p = d.groupby(["kind", "programme_id"])[["unmet"]].sum().reset_index()
        for k in units_by_kind(res).itertuples():
            if k.demand <= 0:
                continue
            mine = by_p[(by_p["kind"] == k.kind) & (by_p["unmet"] > 0.5)].sort_values("unmet", ascending=False)
            con.print(f"Unmet demand, {k.unit}: {whole(k.unmet)} of {whole(k.demand)}"
                      + (" (expected over the scenarios)" if len(prob) > 1 else "")
                      + ("" if mine.empty else " — most in " + ", ".join(
                          f"{x.programme_id} {whole(x.unmet)}" for x in mine.head(5).itertuples())))
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
    if comp.scenario_note:
        con.print(f"Scenarios: {comp.scenario_note}.", markup=False)
    con.print("NPV = cash NPV; objective = what was optimised: NPV less the penalty weights (unmet demand, "
              "share target), which are not cash.")
    t = Table(title=f"NPV by strategy and scenario (scenario known in advance), {cur}", show_edge=False)
    t.add_column("strategy")
    for s in comp.scenarios:
        t.add_column(f"{s} (p={comp.probability[s]:.3g})", justify="right")
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
    return whole(v)
