"""Batches from a thread pool in this process (ImageRecordIter's ``preprocess_threads``), each assembled
once into one NDArray.

libjpeg-turbo, OpenCV and numpy release the GIL, so decode-and-augment threads use every core
without worker processes, their start-up or their pickling. With ``num_workers > 0`` each of
MXNet's DataLoader worker processes makes whole batches with its own thread pool. With
:func:`gluon_augplug.augment` (every sample seeded by its index and the epoch) an epoch is the
same whatever the number of threads and workers.
"""
from __future__ import annotations

import collections
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator, Sequence

import numpy as np

from .._optional import require_mxnet
from ..errors import InputError


class BatchLoader:
    """Iterate over ``dataset`` in batches made by ``threads`` threads (and ``num_workers`` processes).

    Parameters
    ----------
    dataset : Dataset or sequence
        Items are arrays or tuples ``(image, label, ...)``.
    batch_size : int, optional
        With ``shuffle``, ``sampler`` or neither; or give ``batch_sampler`` instead.
    shuffle : bool
    sampler : iterable of int, optional
    last_batch : {"keep", "discard", "rollover"}
        As Gluon's DataLoader.
    batch_sampler : iterable of lists of int, optional
    threads : int
        Threads that read, decode and augment items (0: in the calling thread). They pay for images that
        are decoded or large (ImageNet's: 1.5x with 2 threads here); for in-memory 32x32 images, whose
        augmentation is mostly Python, the GIL makes threads slower than 0: use worker processes.
    num_workers : int
        Worker processes (MXNet's DataLoader), each running ``threads`` threads over a whole batch.
    prefetch : int, optional
        Batches prepared ahead of the one being consumed (default 2, or 2 per worker process).
    as_ndarray : bool
        Yield ``mx.nd.NDArray`` (default) or numpy arrays.

    Notes
    -----
    A batch's first element is the images stacked (all must have one shape: a clear error names the
    shapes otherwise); any other element is stacked when its shapes agree, else padded with -1 along
    its first axis to the batch's largest (detection labels, as GluonCV's ``Pad(pad_val=-1)``).
    """

    def __init__(self, dataset: Any, batch_size: int | None = None, shuffle: bool = False, sampler: Any = None,
                 last_batch: str = "keep", batch_sampler: Any = None, threads: int = 1, num_workers: int = 0,
                 prefetch: int | None = None, as_ndarray: bool = True):
        if batch_sampler is None:
            from ._samplers import BatchSampler, RandomSampler, SequentialSampler

            if not isinstance(batch_size, int) or batch_size < 1:
                raise InputError(f"BatchLoader: batch_size must be a positive integer, got {batch_size!r}")
            if sampler is None:
                sampler = RandomSampler(len(dataset)) if shuffle else SequentialSampler(len(dataset))
            batch_sampler = BatchSampler(sampler, batch_size, last_batch)
        for name, value in (("threads", threads), ("num_workers", num_workers)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InputError(f"BatchLoader: {name} must be an integer >= 0, got {value!r}")
        self.dataset = dataset
        self.batch_sampler = batch_sampler
        self.threads = threads
        self.num_workers = num_workers
        # batches in flight: MXNet's DataLoader keeps no more than that many workers busy
        self.prefetch = max(1, prefetch if prefetch is not None else 2 * max(1, num_workers))
        self.as_ndarray = as_ndarray
        self._maker = _BatchMaker(dataset, threads)
        self._loader = None
        if as_ndarray:
            require_mxnet("BatchLoader(as_ndarray=True) (pass as_ndarray=False for numpy batches)")
        if num_workers:
            require_mxnet("BatchLoader(num_workers>0) (process workers; threads=N needs no MXNet)")
            from mxnet.gluon.data import DataLoader

            self._loader = DataLoader(_WholeBatches(self._maker), batch_sampler=_Singletons(batch_sampler),
                                      num_workers=num_workers, batchify_fn=_only, prefetch=self.prefetch)

    def __len__(self) -> int:
        return len(self.batch_sampler)

    def __iter__(self) -> Iterator[Any]:
        batches = self._loader if self._loader is not None else self._maker.batches(iter(self.batch_sampler),
                                                                                    self.prefetch)
        for batch in batches:
            yield _as_nd(batch) if self.as_ndarray else batch


class _BatchMaker:
    """Makes whole batches with a thread pool of its own in each process (created on first use).

    Each batch's image array is made before its items, the size of the last batch's images: a thread writes
    each image into its slot as soon as the item is made, while it is in cache, and the batch is that array
    (no stacking of cold images afterwards on the consuming thread, which the threads would wait for)."""

    def __init__(self, dataset: Any, threads: int):
        self.dataset, self.threads = dataset, threads
        self._pool: ThreadPoolExecutor | None = None
        self._pid = -1
        self._lock = threading.Lock()
        self._images: tuple | None = None  # (shape, dtype) of the last batch's images

    def pool(self) -> ThreadPoolExecutor | None:
        if not self.threads:
            return None
        with self._lock:
            if self._pid != os.getpid():
                self._pool, self._pid = ThreadPoolExecutor(self.threads, thread_name_prefix="augplug-batch"), os.getpid()
        return self._pool

    def slots(self, size: int) -> np.ndarray | None:
        """The array the next batch's images go into, or None before a batch has shown their size."""
        return None if self._images is None else np.empty((size, *self._images[0]), self._images[1])

    def items(self, indices: Sequence[int], slots: np.ndarray | None = None, first: int = 0) -> list:
        """The items; each image that fits ``slots`` is written into ``slots[first + j]`` and stands as
        :data:`_IN_SLOT` in its item."""
        out = []
        for j, i in enumerate(indices):
            item = self.dataset[i]
            if slots is not None:
                image = item[0] if isinstance(item, tuple) else item
                if isinstance(image, np.ndarray) and image.shape == slots.shape[1:] and image.dtype == slots.dtype:
                    slots[first + j] = image
                    item = (_IN_SLOT, *item[1:]) if isinstance(item, tuple) else _IN_SLOT
            out.append(item)
        return out

    def submit(self, pool: ThreadPoolExecutor, indices: Sequence[int]) -> tuple:
        """Four tasks per thread, each a contiguous run of the batch: a task per item costs more than a
        CIFAR image's augmentation, and one per thread leaves a thread idle at each batch's end."""
        size = max(1, -(-len(indices) // (4 * self.threads)))
        slots = self.slots(len(indices))
        return slots, [pool.submit(self.items, indices[k:k + size], slots, k) for k in range(0, len(indices), size)]

    def assemble(self, items: list, slots: np.ndarray | None) -> tuple:
        batch = assemble(items, slots)
        self._images = (batch[0].shape[1:], batch[0].dtype)
        return batch

    def make(self, indices: Sequence[int]) -> tuple:
        pool = self.pool()
        if pool is None:
            slots = self.slots(len(indices))
            return self.assemble(self.items(indices, slots), slots)
        slots, futures = self.submit(pool, list(indices))
        return self.assemble([item for f in futures for item in f.result()], slots)

    def batches(self, batch_lists: Iterator[Sequence[int]], prefetch: int) -> Iterator[tuple]:
        """Batches in order, the items of ``prefetch`` batches ahead submitted to the pool while one is read."""
        pool = self.pool()
        if pool is None:
            for indices in batch_lists:
                yield self.make(indices)
            return
        pending: collections.deque = collections.deque()
        try:
            for indices in batch_lists:
                pending.append(self.submit(pool, list(indices)))
                if len(pending) > prefetch:
                    slots, futures = pending.popleft()
                    yield self.assemble([item for f in futures for item in f.result()], slots)
            while pending:
                slots, futures = pending.popleft()
                yield self.assemble([item for f in futures for item in f.result()], slots)
        finally:
            for _, futures in pending:  # an early stop or an error: nothing keeps running for nobody
                for f in futures:
                    f.cancel()

    def __getstate__(self) -> dict:
        return {"dataset": self.dataset, "threads": self.threads}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["dataset"], state["threads"])  # type: ignore[misc]  # rebuilt in place


class _WholeBatches:
    """A data set whose item ``indices`` is the whole batch of those indices (for DataLoader workers)."""

    def __init__(self, maker: _BatchMaker):
        self.maker = maker

    def __getitem__(self, indices: Sequence[int]) -> tuple:
        return self.maker.make(indices)

    def __len__(self) -> int:
        return len(self.maker.dataset)


class _Singletons:
    """A batch sampler of one-item batches, each item a whole batch's indices."""

    def __init__(self, batch_sampler: Any):
        self.batch_sampler = batch_sampler

    def __iter__(self) -> Iterator[list]:
        return ([tuple(indices)] for indices in self.batch_sampler)

    def __len__(self) -> int:
        return len(self.batch_sampler)


def _only(items: list) -> Any:
    return items[0]


_IN_SLOT = object()  # an item's image that is already in its slot of the batch's array


def assemble(items: list, slots: np.ndarray | None = None) -> tuple:
    """Items ``(image, label, ...)`` (or bare images) as one array per element (see :class:`BatchLoader`);
    images that stand as :data:`_IN_SLOT` are ``slots[k]`` already."""
    if not items:
        raise InputError("BatchLoader: an empty batch")
    bare = not isinstance(items[0], (tuple, list))
    images = [x if bare else x[0] for x in items]
    placed = [x is _IN_SLOT for x in images]
    if all(placed):
        first = slots
    else:
        first = _stack([slots[k] if p else np.asarray(x) for k, (x, p) in enumerate(zip(images, placed))], 0)  # type: ignore[index]
    if bare:
        return (first,)
    width = len(items[0])
    return (first, *(_stack([np.asarray(item[k]) for item in items], k) for k in range(1, width)))


def _stack(arrays: list[np.ndarray], position: int) -> np.ndarray:
    shapes = {a.shape for a in arrays}
    if len(shapes) == 1:
        return np.stack(arrays)
    trailing = {a.shape[1:] for a in arrays}
    if position == 0 or len(trailing) != 1 or any(a.ndim == 0 for a in arrays):
        distinct = sorted(shapes)
        what = "images" if position == 0 else f"element {position} of the items"
        raise InputError(f"the {what} of one batch have different shapes ({', '.join(map(str, distinct[:4]))}"
                         f"{', ...' if len(distinct) > 4 else ''}): a batch needs one size; add a Resize or a crop "
                         f"to the augmentation, e.g. 'RandomResizedCrop(224), ToTensor'")
    longest = max(a.shape[0] for a in arrays)
    out = np.full((len(arrays), longest, *arrays[0].shape[1:]), -1, dtype=np.result_type(*arrays))
    for i, a in enumerate(arrays):
        out[i, : a.shape[0]] = a
    return out


def _as_nd(batch: tuple) -> tuple:
    from .._mxnet import nd_from_numpy

    # each array is this batch's own: handed to MXNet without a copy
    return tuple(nd_from_numpy(np.ascontiguousarray(a)) if a.dtype != np.float64 else nd_from_numpy(
        a.astype(np.float32)) for a in batch)
