"""Work on the machine's second core: a function run in a daemon thread, its result read later.

Part of the solver layer. HiGHS releases Python's lock while it solves, so a heuristic made of
HiGHS solves (:mod:`.local_search`) runs side by side with another (:mod:`.row_generation`) in
the MIP's child process. A daemon thread, not a pool: a Ctrl-C or the watchdog ends the child
without waiting for it (the plans it found are in the shared incumbent already).
"""

from __future__ import annotations

import threading
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class Beside(Generic[T]):
    """``fn()`` started in a daemon thread at once; :meth:`result` waits for it and returns its
    value (or raises what it raised)."""

    def __init__(self, fn: Callable[[], T], name: str = "beside") -> None:
        self._fn = fn
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._fn()
        except BaseException as exc:  # noqa: BLE001 — handed to the caller of result()
            self._error = exc

    def done(self) -> bool:
        """Whether ``fn`` has returned (or raised)."""
        return not self._thread.is_alive()

    def result(self) -> T:
        """``fn``'s value once it has returned (waits for it)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]
