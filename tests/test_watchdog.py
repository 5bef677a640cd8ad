"""The time limit holds even where HiGHS does not check it (a watchdog cancels the solve)."""

from __future__ import annotations

import threading
import time

import optimiser.solver.highs as solve


class StuckHighs:
    """Stands in for a Highs object whose solve never ends until it is cancelled."""

    def __init__(self) -> None:
        self.cancelled_at: float | None = None
        self._done = threading.Event()
        self.HandleUserInterrupt = False

    def startSolve(self) -> threading.Thread:
        t = threading.Thread(target=self._done.wait)
        t.start()
        return t

    def wait(self, timeout: float) -> tuple[bool, None]:
        return self._done.wait(timeout), None

    def cancelSolve(self) -> None:
        self.cancelled_at = time.monotonic()
        self._done.set()


def test_watchdog_cancels_a_solve_that_overruns_its_time_limit(monkeypatch) -> None:
    monkeypatch.setattr(solve, "TIME_LIMIT_GRACE_SECONDS", 0.3)
    h = StuckHighs()
    t0 = time.monotonic()
    interrupted = solve.run(h, time_limit=0.2)
    assert not interrupted  # a time limit, not a Ctrl-C
    assert h.cancelled_at is not None
    assert 0.2 * solve.TIME_LIMIT_GRACE_FACTOR + 0.3 <= h.cancelled_at - t0 < 5.0


def test_no_watchdog_without_a_time_limit(monkeypatch) -> None:
    monkeypatch.setattr(solve, "TIME_LIMIT_GRACE_SECONDS", 0.0)
    h = StuckHighs()
    threading.Timer(0.5, h._done.set).start()  # the solve ends by itself
    assert not solve.run(h, time_limit=None)
    assert h.cancelled_at is None
