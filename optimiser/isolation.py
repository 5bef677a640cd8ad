"""Run a solver job in a child process that can always be stopped.

HiGHS checks its time limit and its interrupt flag in most loops, but not all: HiGHS 1.16 was
seen running 20+ minutes past ``--time-limit 300`` inside presolve of a RENS sub-MIP, deaf to
``cancelSolve`` too (OR-Library Holmberg p33). An in-process watchdog cannot stop a C++ loop;
killing a process can. So the MIP runs in a child process; the child copies every improving
solution into a shared buffer (:class:`Incumbent`), and when the child overruns its deadline it
is asked to stop (SIGINT, which the child turns into HiGHS's own cancel) and, if it does not
stop within :data:`CANCEL_GRACE_SECONDS`, killed — the last incumbent survives in the buffer.

No HiGHS here: the job itself is any module-level function ``target(conn, incumbent, *args)``
that sends exactly one picklable result on ``conn``.

A child dies with the process that started it (a "lifeline" pipe whose only writer is that
process: EOF when it ends, SIGKILL included); pool workers die with the CLI
(:func:`die_with_parent`): a CLI killed by SIGKILL or SIGTERM leaves no HiGHS running.
A Ctrl-C passed on to a child is remembered (:func:`interrupt_requested`), so a caller running
several solves in a row (a comparison) stops after the one that was interrupted.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

#: After the deadline, how long a child asked to stop (SIGINT) has before it is killed.
CANCEL_GRACE_SECONDS = 5.0
#: After Ctrl-C in the parent, how long the child has to stop and send its result (then it is killed
#: and its last incumbent, in the shared buffer, is the answer): Ctrl-C stops a command within seconds.
INTERRUPT_GRACE_SECONDS = 5.0
#: Modules the fork server imports once, so each child starts without importing them again.
PRELOAD = ("numpy", "highspy", "optimiser.solver.solve", "optimiser.solver.child")

_CONTEXT: Any = None
_CONTEXT_LOCK = threading.Lock()
#: Set when Ctrl-C (or SIGTERM, which the CLI turns into it) reached a solve in this process.
_USER_INTERRUPT = threading.Event()
#: How often the watch thread of :func:`die_with_parent` looks at its parent.
PARENT_POLL_SECONDS = 0.5


def note_interrupt() -> None:
    """Remember that the user interrupted a solve (its plan was kept, but nothing more should run)."""
    _USER_INTERRUPT.set()


def interrupt_requested() -> bool:
    """Whether a solve in this process was interrupted by the user since :func:`clear_interrupt`."""
    return _USER_INTERRUPT.is_set()


def clear_interrupt() -> None:
    _USER_INTERRUPT.clear()


def die_with_parent() -> None:
    """Make this process end when its parent does, however the parent ends (SIGKILL included).

    Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``. Everywhere else, and as a second line on Linux:
    a daemon thread that ends the process (``os._exit``) once its parent has changed (a dead
    parent's children are handed to init or a subreaper; a zombie parent is already gone here).
    A fork-server child's parent is the fork server, which itself exits when the process that
    started it dies — once no child it forked is left (so the children use a lifeline instead).
    """
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes  # noqa: PLC0415

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while True:
            time.sleep(PARENT_POLL_SECONDS)
            if os.getppid() != parent:
                os._exit(1)

    if sys.platform != "win32":
        threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def pool_worker_init() -> None:
    """Initializer of a solver pool's worker processes: die with the CLI, and leave Ctrl-C to it
    (the CLI stops the pool; a worker that also raised KeyboardInterrupt would print tracebacks
    from multiprocessing's finalizers). SIGTERM, how the CLI stops a worker, ends it at once with
    its solver child — but never halfway through handing a child its job (the fork server's child
    would print a truncated-pickle traceback): then right after."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_sigterm)
    die_with_parent()


_WORKER = {"starting": False, "exit_pending": False}


def _worker_sigterm(signum: int, frame: Any) -> None:
    if _WORKER["starting"]:
        _WORKER["exit_pending"] = True
        return
    _exit_with_children()


def _exit_with_children() -> None:
    for child in mp.active_children():
        try:
            child.kill()
        except (OSError, AttributeError):
            pass
    os._exit(128 + signal.SIGTERM)


def _context() -> Any:
    """The start method: a fork server where there is one (cheap children, no fork of a threaded
    parent), else spawn."""
    global _CONTEXT
    with _CONTEXT_LOCK:
        if _CONTEXT is None:
            if "forkserver" in mp.get_all_start_methods():
                ctx = mp.get_context("forkserver")
                ctx.set_forkserver_preload(list(PRELOAD))
                _start_helpers_deaf_to_ctrl_c()
            else:  # Windows
                ctx = mp.get_context("spawn")
            _CONTEXT = ctx
        return _CONTEXT


def _start_helpers_deaf_to_ctrl_c() -> None:
    """Start the fork server and the resource tracker with SIGINT ignored (an ignored signal stays
    ignored across exec, and both ignore it anyway once running): a Ctrl-C while they import
    their modules would otherwise print a KeyboardInterrupt traceback from them. A Ctrl-C in that
    second is lost; the next one is heard. Children still hear SIGINT (:func:`_child_main`)."""
    from multiprocessing import forkserver, resource_tracker  # noqa: PLC0415

    with deaf_to_ctrl_c():
        resource_tracker.ensure_running()
        forkserver.ensure_running()


@contextmanager
def deaf_to_ctrl_c() -> Iterator[None]:
    """SIGINT ignored for the block (main thread only): processes started inside it start with
    SIGINT ignored, so a Ctrl-C while they import cannot print a traceback from them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def available() -> bool:
    """Whether this process may start a child (daemonic pool workers may not)."""
    return not mp.current_process().daemon


class Incumbent:
    """Shared buffer holding the best solution a child has reported so far.

    ``offer`` runs in the child (from the solver's callback); ``read`` in the parent, also after
    the child was killed. A sequence counter (odd while a write is in progress) lets the reader
    skip a half-written buffer without a lock the child might die holding.
    """

    def __init__(self, n: int) -> None:
        ctx = _context()
        self.n = n
        self._x = ctx.RawArray("d", max(n, 1))
        self._meta = ctx.RawArray("d", 3)  # objective, bound, sequence
        self._meta[2] = 0.0

    def offer(self, x: Any, objective: float, bound: float) -> None:
        """Store a new incumbent (child side)."""
        seq = self._meta[2]
        self._meta[2] = seq + 1  # odd: writing
        np.frombuffer(self._x, dtype=float, count=self.n)[:] = np.asarray(x, dtype=float)[: self.n]
        self._meta[0] = float(objective)
        self._meta[1] = float(bound)
        self._meta[2] = seq + 2

    def read(self) -> tuple[np.ndarray, float, float] | None:
        """(x, objective, bound) of the last complete incumbent, or None (parent side)."""
        seq = self._meta[2]
        if seq == 0 or int(seq) % 2 == 1:
            return None
        x = np.frombuffer(self._x, dtype=float, count=self.n).copy()
        objective, bound = self._meta[0], self._meta[1]
        if self._meta[2] != seq:  # written meanwhile (only possible while the child still runs)
            return None
        return x, objective, bound


@dataclass(frozen=True)
class ChildRun:
    """How a child job ended: its own result, or why there is none."""

    result: Any  # what the child sent, or None
    interrupted: bool  # Ctrl-C reached the parent
    stopped: bool  # the deadline passed and the child was asked to stop
    killed: bool  # … and did not, so it was killed
    exitcode: int | None
    seconds: float


def run_in_child(target: Callable[..., None], args: tuple, incumbent: Incumbent,
                 deadline_seconds: float | None) -> ChildRun:
    """Run ``target(conn, incumbent, *args)`` in a child and wait for its one result.

    Past ``deadline_seconds`` (from the start) the child gets SIGINT, and SIGKILL
    :data:`CANCEL_GRACE_SECONDS` later. Ctrl-C in the parent is passed on the same way (with
    :data:`INTERRUPT_GRACE_SECONDS`). Exceptions the child sends back are the caller's business.
    """
    ctx = _context()
    t0 = time.monotonic()
    reader, writer = ctx.Pipe(duplex=False)
    # the child's lifeline: only this process holds the write end, so the child sees EOF the moment
    # this process ends, however it ends (its parent is the fork server, which outlives us)
    lifeline_r, lifeline_w = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_main, args=(target, lifeline_r, writer, incumbent, *args), daemon=True)
    _start_without_main(proc)
    writer.close()
    lifeline_r.close()
    deadline = t0 + deadline_seconds if deadline_seconds is not None and math.isfinite(deadline_seconds) else None
    kill_at: float | None = None
    interrupted = stopped = killed = False
    result = None
    try:
        while True:
            try:
                if reader.poll(0.1):
                    try:
                        result = reader.recv()
                    except (EOFError, OSError):  # the child died without a word
                        pass
                    break
                if not proc.is_alive() and not reader.poll(0):
                    break
                now = time.monotonic()
                if deadline is not None and now > deadline and kill_at is None:
                    stopped = True
                    _signal(proc, signal.SIGINT)
                    kill_at = now + CANCEL_GRACE_SECONDS
                if kill_at is not None and now > kill_at:
                    killed = True
                    proc.kill()
                    break
            except KeyboardInterrupt:
                note_interrupt()
                if not interrupted:
                    interrupted = True
                    _signal(proc, signal.SIGINT)
                    kill_at = time.monotonic() + INTERRUPT_GRACE_SECONDS
                else:  # a second Ctrl-C: stop now
                    killed = True
                    proc.kill()
                    break
    finally:
        proc.join(timeout=CANCEL_GRACE_SECONDS)
        if proc.is_alive():
            proc.kill()
            proc.join()
        reader.close()
        lifeline_w.close()
    return ChildRun(result, interrupted, stopped, killed, proc.exitcode, time.monotonic() - t0)


def _die_when_closed(lifeline: Any) -> None:
    """End this process (``os._exit``) once ``lifeline`` reaches EOF: the parent holding its
    other end has ended."""
    def watch() -> None:
        try:
            while True:
                lifeline.recv()
        except (EOFError, OSError):
            pass
        os._exit(1)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


def _child_main(target: Callable[..., None], lifeline: Any, *args: Any) -> None:
    """The child's entry: SIGINT is how the parent stops it (deadline, Ctrl-C), so it raises
    KeyboardInterrupt here even where the parent was started with SIGINT ignored (a background
    job, ``nohup``: the child would inherit that and only the kill 5 s later would stop it).
    It dies with the process that started it: ``lifeline`` reaches EOF when that process ends.
    (:func:`die_with_parent` would not do here: a fork-server child's parent is the fork server,
    which stays up as long as any child it forked does.)"""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_when_closed(lifeline)
    target(*args)


_START_LOCK = threading.Lock()


def _start_without_main(proc: Any) -> None:
    """Start ``proc`` without re-running the caller's ``__main__`` in the child.

    Spawn and fork-server children normally import the parent's main script first: a script
    read from stdin then fails (no file), and a planner's script without an ``if __name__ ==
    "__main__"`` guard would run again in every solve. The job needs none of it (the target
    lives in this package), so the main-module entries are left out of the preparation data for
    this one start.
    """
    from multiprocessing import spawn  # noqa: PLC0415

    original = spawn.get_preparation_data

    def without_main(name: str) -> dict:
        data = original(name)
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
        return data

    with _START_LOCK:
        spawn.get_preparation_data = without_main
        _WORKER["starting"] = True
        try:
            proc.start()
        finally:
            spawn.get_preparation_data = original
            _WORKER["starting"] = False
    if _WORKER["exit_pending"]:  # a pool worker told to stop while it was starting this child
        _exit_with_children()


def _signal(proc: Any, sig: int) -> None:
    """Send ``sig`` to the child (SIGINT becomes KeyboardInterrupt there); kill where there is no
    such signal."""
    if proc.pid is None or not proc.is_alive():
        return
    if sys.platform == "win32":  # no SIGINT to another process: stop it outright
        proc.kill()
        return
    try:
        os.kill(proc.pid, sig)
    except ProcessLookupError:
        pass
