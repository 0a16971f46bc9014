"""Index samplers that behave as ``mxnet.gluon.data``'s (the same order from the same global numpy RNG, the
same ``last_batch`` rules), so :class:`~gluon_augplug.data.loader.BatchLoader` needs no MXNet."""
from __future__ import annotations

from typing import Iterable, Iterator, List

import numpy as np

from ..errors import InputError

LAST_BATCH = ("keep", "discard", "rollover")


class SequentialSampler:
    """``start, start + 1, ..., start + length - 1``."""

    def __init__(self, length: int, start: int = 0):
        self._length = length
        self._start = start

    def __iter__(self) -> Iterator[int]:
        return iter(range(self._start, self._start + self._length))

    def __len__(self) -> int:
        return self._length


class RandomSampler:
    """``0 .. length - 1`` shuffled by ``np.random.shuffle`` (the global RNG, as MXNet's)."""

    def __init__(self, length: int):
        self._length = length

    def __iter__(self) -> Iterator[int]:
        indices = np.arange(self._length)
        np.random.shuffle(indices)
        return iter(indices)

    def __len__(self) -> int:
        return self._length


class BatchSampler:
    """Batches of ``batch_size`` indices of ``sampler``; a short last batch is kept, discarded or rolled over
    into the next pass (``last_batch``)."""

    def __init__(self, sampler: Iterable[int], batch_size: int, last_batch: str = "keep"):
        if last_batch not in LAST_BATCH:
            raise InputError(f"last_batch must be one of {', '.join(LAST_BATCH)}, got {last_batch!r}")
        self._sampler = sampler
        self._batch_size = batch_size
        self._last_batch = last_batch
        self._prev: List[int] = []

    def __iter__(self) -> Iterator[List[int]]:
        batch, self._prev = self._prev, []
        for i in self._sampler:
            batch.append(i)
            if len(batch) == self._batch_size:
                yield batch
                batch = []
        if batch and self._last_batch == "keep":
            yield batch
        elif batch and self._last_batch == "rollover":
            self._prev = batch

    def __len__(self) -> int:
        n = len(self._sampler)  # type: ignore[arg-type]
        if self._last_batch == "keep":
            return (n + self._batch_size - 1) // self._batch_size
        if self._last_batch == "discard":
            return n // self._batch_size
        return (len(self._prev) + n) // self._batch_size
