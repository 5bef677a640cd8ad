"""Strategy × scenario comparison: regret, the value of planning for uncertainty, CVaR.

Every solve is an independent :class:`~optimiser.jobs.tasks.Job` of plain data; an executor
(:mod:`optimiser.jobs.executors`: serial, a local process pool, or Dask) runs them and hands back
plain rows. This module plans the jobs and assembles the :class:`Comparison` from the rows; the
planning arithmetic never knows which executor ran the jobs.

Definitions (π_s scenario probabilities). "NPV" is the plan's cash NPV; the solver maximises the
objective = cash NPV − unmet-demand penalty − share-target penalty (weights, not cash). The matrix,
regret, worst case, CVaR and the recommendation read cash NPV (a board ranks by cash; a hard target
is a constraint, not a weight); WS, RP, EEV, EVPI and VSS are optima, so they read the objective.

* matrix: NPV of strategy k when scenario s is known in advance (deterministic solve);
* stochastic plan of k: the two-stage extensive form with k's fixings (first stage chosen
  before demand is known); its expected NPV and its NPV in every scenario;
* regret of k in s = best deterministic NPV in s (over all strategies) − NPV of k's
  stochastic plan in s (≥ 0 when the instance has no weights: with them a plan optimised with its
  weights can have less cash than another plan); max regret over s;
* WS (wait-and-see) = Σ π_s · best objective in s knowing s; RP = stochastic optimum (objective);
  EEV = expected objective of the expected-value plan (first stage of the mean-scenario
  solve, fixed, re-optimised in every scenario); EVPI = WS − RP; VSS = RP − EEV.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Sequence

import pandas as pd

from .data import Instance
from .errors import InputError
from .jobs.executors import Progress, make_executor
from .jobs.tasks import Job, group_tasks
from .model.sets import Risk
from .numbers import money, snap, tolerance
from .results import Results, cvar
from .schema import OPTIMISE
from .solver.options import SolveOptions


def restrict_scenarios(inst: Instance, chosen: Sequence[str]) -> tuple[Instance, str | None]:
    """The instance over the ``chosen`` scenarios alone, their probabilities renormalised, and a note saying so.

    π'_s = π_s / Σ_{c ∈ chosen} π_c for s ∈ chosen (so Σ π' = 1); every figure of a comparison —
    stochastic plans, expected NPV, regret, WS, EEV, EVPI, VSS, the recommendation — is then over the
    chosen scenarios only. All scenarios chosen: the instance unchanged and no note.
    """
    ids = [s.id for s in inst.scenarios]
    if list(chosen) == ids or set(chosen) == set(ids):
        return inst, None
    total = sum(inst.scenario(s).probability for s in chosen)
    if total <= 0:
        raise InputError(f"--scenarios {','.join(chosen)}: their probabilities sum to 0; nothing to weight them by")
    scen = tuple(replace(inst.scenario(s), probability=inst.scenario(s).probability / total) for s in chosen)
    keep = set(chosen)
    restricted = replace(inst, scenarios=scen,
                         scenario_demand={k: v for k, v in inst.scenario_demand.items() if k[0] in keep})
    shares = ", ".join(f"{s.id} {inst.scenario(s.id).probability:g} → {s.probability:.4g}" for s in scen)
    note = (f"{len(chosen)} of {len(ids)} scenarios ({', '.join(chosen)}): probabilities renormalised to sum to 1 "
            f"({shares}); every expected figure, regret and the recommendation are over these scenarios only")
    return restricted, note



@dataclass
class Comparison:
    """Every table of a comparison, plus the headline numbers."""

    instance: str
    currency: str
    strategies: list[str]
    scenarios: list[str]
    probability: dict[str, float]
    matrix: pd.DataFrame
    stochastic: pd.DataFrame
    regret: pd.DataFrame
    value: pd.DataFrame
    evpi: float | None
    vss: float | None
    wait_and_see: float | None
    stochastic_optimum: float | None
    eev: float | None
    recommendation: dict[str, str | None]
    sentences: list[str]
    plans: dict[str, Results] = field(default_factory=dict)
    risk: dict[str, Any] | None = None
    #: Set when only some scenarios were compared: which, and that their probabilities were renormalised.
    scenario_note: str | None = None
    #: Value of flexibility of each later option: stochastic optimum (objective) as specified − with the
    #: option forced to decide = now; and the year each scenario takes it in the optimum (None: never).
    flexibility: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        def rows(df: pd.DataFrame, cols: list[str]) -> list[dict]:
            return [{c: _plain(r[c]) for c in cols} for _, r in df.iterrows()]

        return {
            "instance": self.instance,
            "scenarios": list(self.scenarios), "probability": dict(self.probability),
            "scenario_note": self.scenario_note,
            "matrix": rows(self.matrix, ["strategy", "scenario", "npv", "objective", "status", "gap"]),
            "stochastic": rows(self.stochastic, ["strategy", "expected_npv", "objective", "status", "gap", "worst_case",
                                                 "max_regret", "options_taken", "irr", "payback_year",
                                                 "peak_funding"]),
            "regret": rows(self.regret, ["strategy", "scenario", "npv", "best_npv", "regret"]),
            "wait_and_see": self.wait_and_see, "stochastic_optimum": self.stochastic_optimum, "eev": self.eev,
            "evpi": self.evpi, "vss": self.vss,
            "recommendation": self.recommendation, "sentences": self.sentences, "risk": self.risk,
            "flexibility": [{k: _plain(v) if not isinstance(v, dict) else {a: _plain(b) for a, b in v.items()}
                             for k, v in row.items()} for row in self.flexibility],
        }


def _plain(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def plan_jobs(instance: Instance, strategies: Sequence[str], scenarios: Sequence[str],
              risk: Risk | None) -> list[Job]:
    jobs = [Job(f"det:{k}:{s}", "deterministic", k, s) for k in strategies for s in scenarios]
    jobs += [Job(f"sto:{k}", "stochastic", k, None, keep_results=True) for k in strategies]
    if len(instance.scenarios) > 1:
        jobs.append(Job("ev", "expected", OPTIMISE))
    if risk is not None:
        jobs += [Job(f"cvar:{k}", "cvar", k, None, risk=risk) for k in strategies]
    return jobs


def compare(instance: Instance, strategies: Sequence[str] | None = None, scenarios: Sequence[str] | None = None,
            options: SolveOptions | None = None, workers: int | None = None, risk: Risk | None = None,
            progress: Progress | None = None, executor: Any = None, reuse: bool = True,
            warm_start: bool = False) -> Comparison:
    """Solve the strategy × scenario matrix, the stochastic plans and the value measures.

    ``reuse`` (default): jobs sharing a model structure run as one :class:`~optimiser.jobs.tasks.Group` on one compiled
    model — every strategy (and the expected-value plan's evaluation) of a scenario, every
    stochastic plan, every CVaR plan; the expected-value job runs first so its evaluations can join
    their scenario's group. ``reuse=False`` builds a model for every job (the reference).
    ``warm_start`` (with ``reuse``): start each MIP from an earlier plan of its group that fits.
    """
    opts = options or SolveOptions()
    all_strats = list(instance.strategy_names)
    strats = list(strategies) if strategies else all_strats
    for k in strats:
        if k not in all_strats:
            raise InputError(f"unknown strategy {k!r}; this instance has: {', '.join(all_strats)}")
    if OPTIMISE not in strats:
        strats = [OPTIMISE, *strats]
    scen_ids = [s.id for s in instance.scenarios]
    chosen = list(scenarios) if scenarios else scen_ids
    for s in chosen:
        if s not in scen_ids:
            raise InputError(f"unknown scenario {s!r}; this instance has: {', '.join(scen_ids)}")
    if risk is not None and not 0 < risk.alpha < 1:
        raise InputError("--alpha must be strictly between 0 and 1")
    instance, scenario_note = restrict_scenarios(instance, chosen)
    scen_ids = [s.id for s in instance.scenarios]
    ex = executor or make_executor(workers)
    tick = progress or (lambda _row: None)
    jobs = plan_jobs(instance, strats, chosen, risk)
    with ex:
        if not reuse:
            rows = ex.run(instance, jobs, opts, tick)
            by_key = {r["key"]: r for r in rows}
            ev = by_key.get("ev")
            if ev is not None and ev.get("first_stage") is not None:
                eval_jobs = [Job(f"eval:{s}", "evaluate", OPTIMISE, s, fixed=ev["first_stage"]) for s in scen_ids]
                for r in ex.run(instance, eval_jobs, opts, tick):
                    by_key[r["key"]] = r
        else:
            by_key = {r["key"]: r for r in ex.run(instance, [j for j in jobs if j.kind == "expected"], opts, tick)}
            ev = by_key.get("ev")
            rest = [j for j in jobs if j.kind in ("stochastic", "cvar")] + \
                   [j for j in jobs if j.kind not in ("stochastic", "cvar", "expected")]
            if ev is not None and ev.get("first_stage") is not None:
                rest += [Job(f"eval:{s}", "evaluate", OPTIMISE, s, fixed=ev["first_stage"]) for s in scen_ids]
            tasks, _ = group_tasks([(instance, j) for j in rest], warm_start=warm_start)
            for r in ex.run(instance, [t for _, t in tasks], opts, tick):
                by_key[r["key"]] = r
        later = instance.later_options()
        if later:  # value of flexibility: the stochastic optimum with each later option decided now instead
            pairs = [(decided_now(instance, o), Job(f"flex:{o}", "stochastic", OPTIMISE, None)) for o in later]
            for r in ex.run_many(pairs, opts, tick):
                by_key[r["key"]] = r
    comp = assemble(instance, strats, chosen, by_key, risk, scenario_note)
    comp.flexibility = _flexibility(instance, by_key, comp)
    for row in comp.flexibility:
        if row["value"] is not None:
            taken = ", ".join(f"{s} in {y}" for s, y in row["year_taken"].items() if y is not None) or "no scenario"
            comp.sentences.append(f"Waiting to decide {row['option_id']} is worth {_m(row['value'], comp.currency)} "
                                  f"(optimum {_m(row['optimum'], comp.currency)} vs {_m(row['optimum_now'], comp.currency)} "
                                  f"deciding now); the optimum takes it: {taken}.")
    return comp


def decided_now(instance: Instance, option: str) -> Instance:
    """The instance with ``option`` decided now, for every scenario alike (all else equal)."""
    return replace(instance, options=tuple(replace(o, decide="now", decide_from=None) if o.id == option else o
                                           for o in instance.options))


def _flexibility(instance: Instance, by_key: dict[str, dict], comp: "Comparison") -> list[dict[str, Any]]:
    """Per later option: optimum as specified (RP, objective), optimum with it decided now, their difference,
    and the year each scenario takes it in the stochastic optimum."""
    out = []
    plan = comp.plans.get(OPTIMISE)
    for o in instance.later_options():
        rp = by_key.get(f"sto:{OPTIMISE}", {}).get("objective")
        now = by_key.get(f"flex:{o}", {}).get("objective")
        years: dict[str, int | None] = {s.id: None for s in instance.scenarios}
        if plan is not None and not plan.option_years.empty:
            for r in plan.option_years[plan.option_years["option_id"] == o].itertuples():
                y = r.year_taken
                years[r.scenario] = None if y is None or y != y else int(y)
        out.append({"option_id": o, "optimum": rp, "optimum_now": now,
                    "value": None if rp is None or now is None else rp - now, "year_taken": years})
    return out


def assemble(instance: Instance, strats: list[str], chosen: list[str], by_key: dict[str, dict],
              risk: Risk | None, scenario_note: str | None = None) -> Comparison:
    """The :class:`Comparison` from the result rows of a comparison's jobs (``by_key``: row by job key)."""
    prob = {s.id: s.probability for s in instance.scenarios}
    matrix = pd.DataFrame([{"strategy": k, "scenario": s, "npv": by_key[f"det:{k}:{s}"]["npv"],
                            "objective": by_key[f"det:{k}:{s}"]["objective"],
                            "status": by_key[f"det:{k}:{s}"]["status"], "gap": by_key[f"det:{k}:{s}"]["gap"]}
                           for k in strats for s in chosen])
    best = {s: _max(matrix.loc[matrix["scenario"] == s, "npv"]) for s in chosen}
    # differences of NPVs (regret, EVPI, VSS) within the solves' tolerance are 0, not −5.6e-07
    npvs = [abs(r["npv"]) for r in by_key.values() if r.get("npv") is not None]
    gaps = [r["gap"] for r in by_key.values() if r.get("gap") is not None and math.isfinite(r["gap"])]
    tol = tolerance(max(npvs, default=0.0), max(gaps, default=None))
    sto_rows, reg_rows, plans = [], [], {}
    for k in strats:
        r = by_key[f"sto:{k}"]
        per = r.get("scenario_npv") or {}
        regrets = []
        for s in chosen:
            v = per.get(s)
            rg = None if (v is None or best[s] is None) else snap(best[s] - v, tol)
            regrets.append(rg)
            reg_rows.append({"strategy": k, "scenario": s, "npv": v, "best_npv": best[s], "regret": rg})
        worst = min(per[s] for s in chosen) if per and all(s in per for s in chosen) else None
        sto_rows.append({"strategy": k, "expected_npv": r["npv"], "objective": r["objective"], "status": r["status"],
                         "gap": r["gap"],
                         "worst_case": worst,
                         "max_regret": max(regrets) if regrets and all(x is not None for x in regrets) else None,
                         "options_taken": ", ".join(r.get("options_taken") or []),
                         "lines_built": ", ".join(r.get("lines_built") or []),
                         "irr": r.get("irr"), "payback_year": r.get("payback_year"),
                         "peak_funding": r.get("peak_funding"),
                         **{f"npv[{s}]": per.get(s) for s in chosen}})
        if r.get("results") is not None:
            plans[k] = r["results"]
    stochastic = pd.DataFrame(sto_rows)
    regret = pd.DataFrame(reg_rows)

    # value of the stochastic solution: over every scenario of the instance
    full = [s.id for s in instance.scenarios]
    # (on the objective: WS, RP and EEV are optima of what the solver maximises, weights included)
    ws = _expect([by_key.get(f"det:{OPTIMISE}:{s}", {}).get("objective") for s in full], [prob[s] for s in full]) \
        if set(full) <= set(chosen) else None
    rp = by_key[f"sto:{OPTIMISE}"]["objective"]
    eev = None
    if "ev" in by_key:
        eev = _expect([by_key.get(f"eval:{s}", {}).get("objective") for s in full], [prob[s] for s in full])
    evpi = None if ws is None or rp is None else snap(ws - rp, tol)
    vss = None if eev is None or rp is None else snap(rp - eev, tol)
    value = pd.DataFrame([
        {"measure": "Wait-and-see (WS)", "value": ws,
         "meaning": "expected objective if the future were known before any decision"},
        {"measure": "Stochastic optimum (RP)", "value": rp,
         "meaning": "expected objective of the best plan made before demand is known"},
        {"measure": "Expected-value plan (EEV)", "value": eev,
         "meaning": "expected objective of the plan built for average demand, then run in every scenario"},
        {"measure": "EVPI = WS − RP", "value": evpi, "meaning": "most it is worth paying for perfect demand foresight"},
        {"measure": "VSS = RP − EEV", "value": vss, "meaning": "what planning for uncertainty earns over planning for the average"},
    ])
    rec = _recommend(stochastic)
    cur = instance.currency
    sentences = _sentences(stochastic, rec, evpi, vss, eev, cur, by_key)
    caveat = not_proven(by_key.values(), tol, cur)
    if caveat:
        sentences.insert(0, caveat)
    risk_info = None
    if risk is not None:
        rrows = []
        for k in strats:
            r = by_key[f"cvar:{k}"]
            neutral = by_key[f"sto:{k}"]
            pr = r.get("probability") or {}
            c_neutral = _cvar(neutral, risk.alpha)
            c_risk = _cvar(r, risk.alpha)
            rrows.append({"strategy": k, "expected_npv_neutral": neutral["npv"], "expected_npv_cvar": r["npv"],
                          "premium": None if r["npv"] is None or neutral["npv"] is None
                          else snap(neutral["npv"] - r["npv"], tol),
                          "cvar_neutral": c_neutral, "cvar_protected": c_risk, "status": r["status"],
                          "options_taken": ", ".join(r.get("options_taken") or []), "scenarios": len(pr)})
        risk_info = {"alpha": risk.alpha, "weight": risk.weight, "rows": rrows}
        opt = next(x for x in rrows if x["strategy"] == OPTIMISE)
        if opt["premium"] is not None:
            sentences.append(
                f"Protecting the worst {1 - risk.alpha:.0%} of outcomes (CVaR weight {risk.weight:g}) costs "
                f"{_m(opt['premium'], cur)} of expected NPV and lifts the tail average from "
                f"{_m(opt['cvar_neutral'], cur)} to {_m(opt['cvar_protected'], cur)}.")
    return Comparison(instance=instance.name, currency=cur, strategies=strats, scenarios=chosen, probability=prob,
                      matrix=matrix, stochastic=stochastic, regret=regret, value=value, evpi=evpi, vss=vss,
                      wait_and_see=ws, stochastic_optimum=rp, eev=eev, recommendation=rec, sentences=sentences,
                      plans=plans, risk=risk_info, scenario_note=scenario_note)


def _cvar(row: dict, alpha: float) -> float | None:
    per, pr = row.get("scenario_npv"), row.get("probability")
    if not per:
        return None
    df = pd.DataFrame({"npv": list(per.values()), "probability": [pr[s] for s in per]})
    return cvar(df, alpha)


def _max(values: Iterable[Any]) -> float | None:
    vals = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return max(vals) if vals else None


def _expect(values: list[Any], probs: list[float]) -> float | None:
    if any(v is None for v in values):
        return None
    return float(sum(v * p for v, p in zip(values, probs)))


def _pick(df: pd.DataFrame, col: str, best: Callable) -> str | None:
    ok = df[df[col].notna()]
    if ok.empty:
        return None
    target = best(ok[col])
    # ties: the first strategy in the table's order (optimise first, then alphabetical)
    return str(ok.loc[ok[col] >= target - 1e-6 * max(1.0, abs(target)), "strategy"].iloc[0]) if best is max else \
        str(ok.loc[ok[col] <= target + 1e-6 * max(1.0, abs(target)), "strategy"].iloc[0])


def _recommend(sto: pd.DataFrame) -> dict[str, str | None]:
    named = sto[sto["strategy"] != OPTIMISE]
    pool = named if not named.empty else sto
    return {"expected": _pick(pool, "expected_npv", max), "worst_case": _pick(pool, "worst_case", max),
            "minimax_regret": _pick(pool, "max_regret", min)}


def _m(x: float | None, cur: str) -> str:
    return money(x, cur, missing="n/a")


#: A solve whose gap is above this was stopped before it proved its plan (HiGHS's default is 1e-4).
PROVEN_GAP = 1e-3


def not_proven(rows: Iterable[dict], tol: float, cur: str) -> str | None:
    """The sentence a board must read first when solves stopped short of optimality (status
    ``feasible`` or a gap above :data:`PROVEN_GAP`): how many, the largest gap, and the size below
    which regret, EVPI and VSS read as 0 (``tol``: the largest gap × the largest NPV); else None."""
    rows = [r for r in rows if r.get("npv") is not None]
    short = [r for r in rows if r.get("status") == "feasible"
             or (r.get("gap") is not None and math.isfinite(r["gap"]) and r["gap"] > PROVEN_GAP)]
    if not short:
        return None
    gaps = [r["gap"] for r in short if r.get("gap") is not None and math.isfinite(r["gap"])]
    worst = f"largest gap {max(gaps):.1%}" if gaps else "no bound"
    return (f"Not proven optimal: {len(short)} of {len(rows)} solves stopped at their limit ({worst}), so "
            f"differences below {_m(tol, cur)} read as 0 here (regret, EVPI, VSS) and the ranking of close "
            f"strategies may change: allow more time (--time-limit) to tell them apart.")


def _sentences(sto: pd.DataFrame, rec: dict, evpi: float | None, vss: float | None, eev: float | None,
               cur: str, by_key: dict) -> list[str]:
    out = []
    idx = sto.set_index("strategy")
    if rec["expected"]:
        k = rec["expected"]
        out.append(f"Highest expected NPV: {k} ({_m(idx.loc[k, 'expected_npv'], cur)}), deciding deals and builds "
                   f"before demand is known.")
    if rec["worst_case"]:
        k = rec["worst_case"]
        out.append(f"Best worst case: {k} (NPV at least {_m(idx.loc[k, 'worst_case'], cur)} in every scenario).")
    if rec["minimax_regret"]:
        k = rec["minimax_regret"]
        out.append(f"Smallest maximum regret: {k} (never more than {_m(idx.loc[k, 'max_regret'], cur)} behind "
                   f"the best strategy with hindsight).")
    if evpi is not None:
        out.append(f"EVPI {_m(evpi, cur)}: the most that perfect knowledge of demand would be worth.")
    if vss is not None:
        out.append(f"VSS {_m(vss, cur)}: what planning for the range of scenarios earns over planning for "
                   f"average demand.")
    elif "ev" in by_key and eev is None:
        out.append("VSS cannot be computed: the plan made for average demand is infeasible in at least one "
                   "scenario (planning for the average would break a commitment).")
    return out
