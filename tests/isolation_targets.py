"""Stand-ins for HiGHS run in a child process by tests/test_isolation.py.

Kept apart and light (no optimiser or Pyomo imports) so a child starts in milliseconds.
"""

from __future__ import annotations

import signal
import time


def deaf_child(conn, incumbent, x, objective, bound) -> None:
    """Reports one incumbent, then hangs ignoring SIGINT (as HiGHS inside presolve did)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    incumbent.offer(x, objective, bound)
    while True:
        time.sleep(0.05)


def polite_child(conn, incumbent, value) -> None:
    """Answers at once."""
    conn.send(("ok", value))
    conn.close()


def crashing_child(conn, incumbent) -> None:
    """Dies without a word."""
    import os

    os._exit(7)


class HangingChild:
    """Picklable stand-in for ``optimiser.solver.child.mip_child``."""

    def __init__(self, x, min_objective) -> None:
        self.x, self.min_objective = x, min_objective

    def __call__(self, conn, incumbent, arrays, settings, log, start=None, search=None) -> None:  # noqa: ARG002
        deaf_child(conn, incumbent, self.x, self.min_objective, self.min_objective - 5.0)


def listening_child(conn, incumbent) -> None:
    """Waits until SIGINT, then answers how it was stopped (as HiGHS's cancel does)."""
    try:
        while True:
            time.sleep(0.05)
    except KeyboardInterrupt:
        conn.send(("stopped", signal.getsignal(signal.SIGINT) is signal.default_int_handler))
        conn.close()
