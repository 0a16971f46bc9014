"""Every source of random numbers in gluon_augplug, in one place.

* :class:`RandomSource`: one seedable stream, safe across ``fork`` (a pipeline's own source).
* :func:`sample_generator`: the counter-based (Philox) generator of one sample in one epoch,
  which makes an augmented epoch the same whatever the number of DataLoader workers.
* :func:`derived_seed`: the seed of a named stream (``"shuffle"``, ``"weights"``...) derived
  from the run's seed and counters. Streams are named, not numbered, and the name and the
  number of counters enter the derivation, so no two streams can collide (numpy's
  ``SeedSequence`` pads its entropy with zeros: ``[seed, 3]`` and ``[seed, 3, 0]`` give the
  same numbers, so positional integers alone are not enough).
* :func:`global_random_state`: Python's and numpy's global generators seeded from a generator for
  one block, then restored (for plugins wrapping libraries that draw from them).
"""
from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import threading

from typing import Iterator

import numpy as np

# the named streams of a training run; a stream name not listed here is an error (a typo would
# otherwise silently create a new, unrelated stream)
STREAMS = frozenset({
    "shuffle",          # (rank, epoch): the order of the training samples
    "train-augment",    # (rank,): per-sample augmentation of the training set
    "test-augment",     # (): per-sample augmentation of the test set
    "weights",          # (): initial weights, the same for every configuration of a comparison
    "mxnet",            # (rank, epoch): MXNet's own generator (dropout...), reproducible on resume
    "batch-augment",    # (rank, epoch, batch, device): batch augmentation on each device
    "dataset",          # (): sub-sampling of a data set (--train-limit)
    "tta-view",         # (view,): the draw of each of test-time augmentation's random views
})


def derived_seed(seed: int, stream: str, *counters: int) -> int:
    """The 32-bit seed of ``stream`` for ``counters`` (rank, epoch, batch...), derived from ``seed``.

    Parameters
    ----------
    seed : int
        The run's seed.
    stream : str
        One of :data:`STREAMS`.
    *counters : int
        Non-negative integers that select one instance of the stream.
    """
    if stream not in STREAMS:
        raise ValueError(f"unknown random stream {stream!r}; known: {', '.join(sorted(STREAMS))}")
    name = int.from_bytes(hashlib.sha256(stream.encode()).digest()[:4], "little")
    entropy = [int(seed), name, len(counters), *(int(c) for c in counters)]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def seed_key(seed: int) -> tuple[int, int]:
    """The 128-bit Philox key of a seed."""
    state = np.random.SeedSequence(seed).generate_state(2, dtype=np.uint64)
    return int(state[0]), int(state[1])


def sample_generator(key: tuple[int, int], index: int, epoch: int) -> np.random.Generator:
    """The generator of sample ``index`` in ``epoch`` for the 128-bit ``key`` (Philox, counter-based)."""
    return np.random.Generator(np.random.Philox(key=np.array(key, dtype=np.uint64),
                                                counter=np.array([index, epoch, 0, 0], dtype=np.uint64)))


class RandomSource:
    """One seedable stream of random numbers, safe across ``fork``.

    MXNet's DataLoader forks its workers, which would otherwise inherit the same
    generator state and draw identical numbers. The source notices that it runs in a
    new process and derives a distinct stream from ``(seed, worker identity)``
    (fresh OS entropy when ``seed`` is None).

    Parameters
    ----------
    seed : int, optional
        ``None`` draws from the operating system's entropy.
    """

    def __init__(self, seed: int | None = None):
        self.seed = seed
        self._generator: np.random.Generator | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def generator(self) -> np.random.Generator:
        pid = os.getpid()
        if self._generator is None or self._pid != pid:
            with self._lock:
                if self._generator is None or self._pid != pid:
                    self._generator = np.random.Generator(np.random.PCG64(self._seed_sequence(pid)))
                    self._pid = pid
        return self._generator

    def _seed_sequence(self, pid: int) -> np.random.SeedSequence:
        if self._pid is None and multiprocessing.parent_process() is None:
            return np.random.SeedSequence(self.seed)  # the main process: exactly the seed's stream
        identity = multiprocessing.current_process()._identity or (pid,)
        return np.random.SeedSequence(self.seed, spawn_key=tuple(identity))

    def reseed(self, seed: int | None) -> None:
        with self._lock:
            self.seed, self._generator, self._pid = seed, None, None

    def __getstate__(self) -> dict:  # a copy starts the seed's stream again, per process
        return {"seed": self.seed}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["seed"])  # type: ignore[misc]  # rebuilt in place, as unpickling needs


_default_source = RandomSource()


def default_source() -> RandomSource:
    """The source used by a transform called on its own, outside a pipeline."""
    return _default_source


_GLOBAL_STATE_LOCK = threading.RLock()


@contextlib.contextmanager
def global_random_state(rng: np.random.Generator | int, numpy: bool = True) -> Iterator[None]:
    """Run a block with Python's ``random`` and numpy's global generator seeded from ``rng`` (a generator,
    or a seed: an integer in [0, 2**63)), then put both back as they were.

    For plugins that wrap libraries drawing from the global generators (albumentations 1.x, imgaug,
    PIL-based code): inside ``apply()``, ``with global_random_state(rng): out = library_call(img)``
    makes the call seeded and replayable by our generator. Threads: callers are serialized by a
    process-wide lock, so two augmenting threads never see each other's seeds; code that draws from
    the global generators outside this block, at the same time, is not protected. DataLoader
    workers are processes, each with its own global state.

    ``numpy=False`` leaves numpy's global generator alone, for a library known to draw from Python's
    ``random`` only (albumentations 1.3): saving and restoring numpy's state costs about 90 us, the
    rest about 35 us. The harness's ``global_state`` check tells when that knowledge is wrong.
    """
    import random

    seed = int(rng) if isinstance(rng, (int, np.integer)) else int(rng.integers(0, 2**63 - 1))
    with _GLOBAL_STATE_LOCK:
        saved_python = random.getstate()
        saved_numpy = np.random.get_state() if numpy else None
        random.seed(seed)
        if numpy:
            np.random.seed(seed % 2**32)
        try:
            yield
        finally:
            random.setstate(saved_python)
            if numpy:
                np.random.set_state(saved_numpy)  # type: ignore[arg-type]  # what get_state() gave


__all__ = ["STREAMS", "derived_seed", "seed_key", "sample_generator", "RandomSource", "default_source",
           "global_random_state"]
