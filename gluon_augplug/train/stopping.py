"""A clean stop on SIGTERM or SIGINT: finish the iteration, checkpoint, exit saying how to resume.

A scheduler's SIGTERM (a spot instance's notice, Slurm's time limit, Kubernetes' eviction) or a
Ctrl-C asks the run to stop: :class:`StopSignals` records it, and the training loop, between two
iterations, writes a checkpoint (atomically) and raises :class:`TrainingStopped`. A second signal
stops at once: the handler gives the signal its default action, as if the process were killed; the
checkpoint files are only ever renamed into place complete, so the last good one stays intact.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from types import FrameType
from typing import Any, Callable, Iterator

STOP_SIGNALS = ("SIGTERM", "SIGINT")


class TrainingStopped(Exception):
    """The run stopped on a signal after writing its checkpoint. ``signum`` is the signal, ``checkpoint``
    the run folder to resume (None without ``--out``); the command line exits with 128 + ``signum``."""

    def __init__(self, message: str, signum: int, checkpoint: str | None):
        super().__init__(message)
        self.signum, self.checkpoint = signum, checkpoint


WORKER_WAIT = 3.0  # seconds a worker given SIGTERM waits to learn whether its run is stopping by itself


class WorkerSignals:
    """What DataLoader worker processes do with a SIGTERM: a run's own stop, or an end.

    A scheduler that signals every process of a job (Slurm does) reaches the workers too. Killed there, a
    worker would take the batch it was making with it, and the main process would wait for that batch
    instead of stopping at a checkpoint. So a worker forked inside :meth:`forking` waits up to
    :data:`WORKER_WAIT` seconds after a SIGTERM: if its run got the signal too (:attr:`state` 1), it keeps
    working until the run, having written its checkpoint, ends it; otherwise (its pool being terminated,
    someone signalling it alone) it ends as SIGTERM ends a process. MXNet's DataLoader already makes its
    workers ignore SIGINT.
    """

    STOPPING, FINISHED = 1, 2  # flags: the run got a stop signal; the run is over (its workers may end)

    def __init__(self) -> None:
        self.state = multiprocessing.RawValue("i", 0)  # shared with the workers forked later

    @contextlib.contextmanager
    def forking(self) -> Iterator[None]:
        """Worker processes forked inside get the handler above (the main process keeps its own)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        main = os.getpid()

        def handle(signum: int, frame: FrameType | None) -> None:
            if os.getpid() != main:
                self.in_worker(signum)
            elif callable(previous):  # the main process while it forks: what it did before
                previous(signum, frame)
            elif previous != signal.SIG_IGN:
                _end(signum)

        previous = signal.signal(signal.SIGTERM, handle)
        try:
            yield
        finally:
            signal.signal(signal.SIGTERM, previous)

    def set(self, flag: int) -> None:
        self.state.value |= flag

    def in_worker(self, signum: int) -> None:
        """A worker's SIGTERM. After the run is over: the pool ends its workers, end. Else wait to learn whether
        the run got the signal too (a whole job signalled): then keep working, the run ends the workers after
        its checkpoint. If it did not (its pool ended on an error, someone signalled this worker): end."""
        if self.state.value & self.FINISHED:
            _end(signum)
        deadline = time.monotonic() + WORKER_WAIT
        while not self.state.value & (self.STOPPING | self.FINISHED) and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self.state.value & self.STOPPING:
            _end(signum)


def _end(signum: int) -> None:
    """End this process as ``signum``'s default action does."""
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


class StopSignals:
    """While entered (in the main thread), SIGTERM and SIGINT set :attr:`received` instead of ending the process;
    a second one ends it at once. Outside the main thread (where Python cannot handle signals) it does nothing."""

    def __init__(self, log: Callable[[str], None] = print, workers: WorkerSignals | None = None):
        self.log = log
        self._pid = os.getpid()
        self.workers = workers  # told when a signal arrives, so that they keep making batches meanwhile
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "StopSignals":
        self._pid, self.received = os.getpid(), None
        if self.workers is not None:  # a run fitted again: its workers work for it again
            self.workers.state.value = 0
        if threading.current_thread() is threading.main_thread():
            for name in STOP_SIGNALS:
                number = getattr(signal, name)
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if os.getpid() != self._pid:  # a worker the pool started while this handler was the main's
            if self.workers is not None and signum == signal.SIGTERM:
                self.workers.in_worker(signum)
            elif signum == signal.SIGTERM:
                _end(signum)
            return  # SIGINT: workers leave Ctrl-C to the main process, as MXNet's DataLoader makes them
        if self.received is not None:  # the second signal: stop now, as the default action does
            _end(signum)
            return
        self.received = signum
        if self.workers is not None:
            self.workers.set(WorkerSignals.STOPPING)
        with contextlib.suppress(RuntimeError):  # a print interrupted mid-write ("reentrant call"): the stop goes on
            self.log(f"{signal.Signals(signum).name}: stopping after this iteration, with a checkpoint (send it "
                     f"again to stop at once; the last checkpoint stays intact)")

    @property
    def name(self) -> str:
        return signal.Signals(self.received).name if self.received is not None else ""
