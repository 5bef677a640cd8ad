"""Tornado tables: every named strategy's expected NPV with each input at its low and its high value.

For each range (a ``sensitivity`` row or ``--parameter P=LO,HI``, :mod:`optimiser.parameters`)
every named strategy is solved at low and at high — its stochastic plan over all scenarios, as a
:class:`~optimiser.jobs.tasks.Job` of kind ``stochastic`` (one compiled model per value shared by the
strategies, on compare's executors: serial or a process pool). A row
gives the recommended and the runner-up strategy — chosen at the base values, as ``compare`` does,
by expected NPV — at both ends, the swing |NPV_rec(high) − NPV_rec(low)| the rows are sorted by
(largest first; rows where the recommended strategy has no plan at an end first, swing None), and
whether the recommendation flips at either end (another strategy best there).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .errors import InputError
from .parameters import Base, Range
from .sensitivity import Point, format_value, for_npv, named_strategies
from .solver.options import SolveOptions


@dataclass
class TornadoRow:
    range: Range
    low: Point
    high: Point
    recommended: str
    runner_up: str | None

    @property
    def swing(self) -> float | None:
        """|NPV_rec(high) − NPV_rec(low)|; None when the recommended strategy has no plan at an end
        (such rows sort first: the recommendation is lost there)."""
        a, b = self.low.npv.get(self.recommended), self.high.npv.get(self.recommended)
        return abs(b - a) if a is not None and b is not None else None

    def best(self, pool: Sequence[str]) -> tuple[str | None, str | None]:
        return self.low.best(pool), self.high.best(pool)

    def as_dict(self, pool: Sequence[str]) -> dict[str, Any]:
        bl, bh = self.best(pool)
        r, u = self.recommended, self.runner_up
        return {**self.range.as_dict(),
                "recommended_low": self.low.npv.get(r), "recommended_high": self.high.npv.get(r),
                "runner_up_low": self.low.npv.get(u) if u else None, "runner_up_high": self.high.npv.get(u) if u else None,
                "swing": self.swing, "best_at_low": bl, "best_at_high": bh,
                "flips": bl != r or bh != r, "npv_low": dict(self.low.npv), "npv_high": dict(self.high.npv),
                "status_low": dict(self.low.status), "status_high": dict(self.high.status)}


@dataclass
class Tornado:
    instance: str
    currency: str
    strategies: list[str]
    base: Point
    recommended: str
    runner_up: str | None
    rows: list[TornadoRow]
    solves: int
    seconds: float
    reuse: bool

    def as_dict(self) -> dict[str, Any]:
        return {"instance": self.instance, "currency": self.currency, "strategies": self.strategies,
                "recommended": self.recommended, "runner_up": self.runner_up, "base": self.base.as_dict(),
                "rows": [r.as_dict(self.strategies) for r in self.rows], "solves": self.solves,
                "seconds": round(self.seconds, 3), "reuse": self.reuse}

    def lines(self) -> list[str]:
        from .numbers import money  # noqa: PLC0415

        cur = self.currency
        out = [f"recommended: {self.recommended} (expected NPV {money(self.base.npv.get(self.recommended), cur)}); "
               f"runner-up: {self.runner_up or '—'}"
               + (f" ({money(self.base.npv.get(self.runner_up), cur)})" if self.runner_up else "")]
        out.append(f"{'parameter':44} {'low':>10} {'high':>10} {'rec@low':>14} {'rec@high':>14} "
                   f"{'runner@low':>14} {'runner@high':>14} {'swing':>12}  flips")
        for r in self.rows:
            d = r.as_dict(self.strategies)
            flip = "no"
            if d["flips"]:
                flip = "yes: " + ", ".join(f"{w} at {k}" for k, w in (("low", d["best_at_low"]), ("high", d["best_at_high"]))
                                           if w != self.recommended)
            m = (lambda x: money(x, cur, missing="n/a"))  # noqa: E731
            out.append(f"{str(r.range.parameter)[:44]:44} {format_value(r.range.low):>10} {format_value(r.range.high):>10} "
                       f"{m(d['recommended_low']):>14} {m(d['recommended_high']):>14} {m(d['runner_up_low']):>14} "
                       f"{m(d['runner_up_high']):>14} {m(d['swing']):>12}  {flip}")
        return out


def tornado(base: Base, ranges: Sequence[Range], options: SolveOptions | None = None, reuse: bool = True,
            workers: int | None = 1, executor: Any = None,
            progress: Callable[[dict[str, Any]], None] | None = None) -> Tornado:
    """Every range at its low and high value (see the module); rows sorted by swing, largest first.

    Every value is one instance (validated first: a bad range fails before any solve) and every
    strategy there one stochastic :class:`~optimiser.jobs.tasks.Job`; with ``reuse`` the strategies of
    a value run as one group on one compiled model (:func:`optimiser.jobs.tasks.group_tasks`), on any
    executor (``workers``: 1 serial, more a local process pool, None the CPU count)."""
    from .jobs.executors import make_executor  # noqa: PLC0415
    from .jobs.tasks import Job, group_tasks  # noqa: PLC0415
    from .sweep import run_tasks  # noqa: PLC0415

    t0 = time.perf_counter()
    if not ranges:
        raise InputError("no parameters: add rows to the instance's sensitivity table or give --parameter P=LO,HI")
    opts = for_npv(options or SolveOptions())
    pool = named_strategies(base)
    for r in ranges:
        base.check(r.change(r.low))
    values: list[tuple[Range | None, float | None]] = [(None, None)]
    values += [(r, v) for r in ranges for v in (r.low, r.high)]
    instances = [base.instance if r is None else base.with_changes([r.change(v)]) for r, v in values]
    pairs = [(inst, Job(f"{i}:{k}", "stochastic", k)) for i, inst in enumerate(instances) for k in pool]
    tick = progress or (lambda _row: None)
    ex = executor or make_executor(workers)
    with ex:
        if reuse:
            tasks, index = group_tasks(pairs)
            got = dict(zip(index, run_tasks(ex, tasks, opts, tick)))
            rows = [got[i] for i in range(len(pairs))]
        else:
            rows = run_tasks(ex, pairs, opts, tick)
    points = []
    for i, (_, v) in enumerate(values):
        mine = rows[i * len(pool):(i + 1) * len(pool)]
        points.append(Point(v, {r["strategy"]: r["npv"] for r in mine}, {r["strategy"]: r["status"] for r in mine},
                            {r["strategy"]: list(r.get("options_taken") or []) for r in mine},
                            sum(r.get("job_seconds") or 0.0 for r in mine),
                            gap={r["strategy"]: r.get("gap") for r in mine}))
    mid = points[0]
    rec = mid.best(pool)
    if rec is None:
        raise InputError("no strategy has a plan on the instance as it is")
    others = [k for k in pool if k != rec and mid.npv.get(k) is not None]
    runner = max(others, key=lambda k: mid.npv[k]) if others else None  # type: ignore[arg-type, return-value]
    table = [TornadoRow(r, points[1 + 2 * j], points[2 + 2 * j], rec, runner) for j, r in enumerate(ranges)]
    table.sort(key=lambda row: (row.swing is not None, -(row.swing or 0.0)))
    return Tornado(base.instance.name, base.instance.currency, pool, mid, rec, runner, table, len(pairs),
                   time.perf_counter() - t0, reuse)
