"""Item numbers that carry the time they are drawn at, so that schedules need no state in workers.

A :class:`SampleIndex` is an ``int`` (any data set takes it) with the epoch and iteration of the
batch it belongs to. :class:`TimedBatches` wraps a batch sampler so that every index it yields is
one; the index travels to the DataLoader's worker processes and threads with the batch, and
:class:`~gluon_augplug.data.augment.AugmentedDataset` resolves its scheduled pipeline at that time.
A persistent worker therefore never holds an epoch counter that could be stale (the trap of
pytorch/pytorch#97326), and a resumed run draws exactly what the uninterrupted one drew.
"""
from __future__ import annotations

from typing import Any, Iterator

from ..pipeline.schedule import Clock


class SampleIndex(int):
    """Item ``value`` of the batch ``step`` (of ``steps``) of epoch ``epoch`` (epochs done before it)."""

    epoch: int
    step: int
    steps: int

    def __new__(cls, value: int, epoch: int, step: int = 0, steps: int = 0) -> "SampleIndex":
        self = super().__new__(cls, value)
        self.epoch, self.step, self.steps = int(epoch), int(step), int(steps)
        return self

    @property
    def clock(self) -> Clock:
        return Clock(self.epoch, self.step, self.steps)

    def __reduce__(self) -> tuple:
        return (SampleIndex, (int(self), self.epoch, self.step, self.steps))

    def __repr__(self) -> str:
        return f"SampleIndex({int(self)}, epoch={self.epoch}, step={self.step}/{self.steps})"


class TimedBatches:
    """The batches of ``batch_sampler`` for one epoch at a time, each index a :class:`SampleIndex`.

    :meth:`start` sets the epoch and the first batch (a run resumed inside an epoch skips the batches it
    already trained on: they are never loaded).
    """

    def __init__(self, batch_sampler: Any):
        self.batch_sampler = batch_sampler
        self.epoch, self.first = 0, 0

    def start(self, epoch: int, first: int = 0) -> None:
        self.epoch, self.first = int(epoch), int(first)

    def __iter__(self) -> Iterator[list]:
        steps = len(self.batch_sampler)
        for step, batch in enumerate(self.batch_sampler):
            if step >= self.first:
                yield [SampleIndex(i, self.epoch, step, steps) for i in batch]

    def __len__(self) -> int:
        return max(len(self.batch_sampler) - self.first, 0)
