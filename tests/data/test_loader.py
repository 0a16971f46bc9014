"""BatchLoader: the same epoch with 0, 1 or 2 threads and with worker processes; one array per element."""
from __future__ import annotations

import numpy as np
import pytest

from gluon_augplug import augment
from gluon_augplug.data.loader import BatchLoader, assemble
from gluon_augplug.data.streaming import RecordDataset
from gluon_augplug.errors import InputError
from tests.optional import mx


def _epoch(loader) -> tuple[np.ndarray, np.ndarray]:
    batches = list(loader)
    assert all(isinstance(x, mx.nd.NDArray) for b in batches for x in b)
    return np.concatenate([b[0].asnumpy() for b in batches]), np.concatenate([b[1].asnumpy() for b in batches])


@pytest.mark.pinned
def test_the_same_epoch_whatever_the_threads_and_workers(photo_rec):
    data = augment(RecordDataset(str(photo_rec), encoded=True), "imagenet-standard", seed=5)
    sampler = mx.gluon.data.BatchSampler(mx.gluon.data.SequentialSampler(len(data)), 4, "keep")
    reference = _epoch(BatchLoader(data, batch_sampler=sampler, threads=0))
    assert reference[0].shape == (13, 3, 224, 224) and reference[0].dtype == np.float32
    for threads, workers in ((1, 0), (2, 0), (2, 2)):
        got = _epoch(BatchLoader(data, batch_sampler=sampler, threads=threads, num_workers=workers))
        np.testing.assert_array_equal(got[0], reference[0])
        np.testing.assert_array_equal(got[1], reference[1])
    assert len(BatchLoader(data, 4, last_batch="discard")) == 3


class _Counting:
    def __init__(self, data):
        self.data, self.calls = data, 0

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        self.calls += 1
        return self.data[i]


@pytest.mark.pinned
def test_an_early_stop_leaves_nothing_running(photo_rec):
    import time

    data = _Counting(augment(RecordDataset(str(photo_rec), encoded=True), "RandomResizedCrop(32), ToTensor", seed=0))
    loader = BatchLoader(data, 1, threads=2, prefetch=2)
    for i, batch in enumerate(loader):  # noqa: B007 (the last batch is read after the loop)
        if i == 1:
            break
    time.sleep(0.5)
    assert batch[0].shape == (1, 3, 32, 32)
    assert data.calls <= 6  # 2 consumed, 2 prefetched, at most 2 running: the rest of the 13 was cancelled
    data.calls = 0
    assert len(list(loader)) == 13 and data.calls == 13  # a new epoch starts cleanly


class _Failing:
    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 7:
            raise InputError("item 7 is broken")
        return np.zeros((2, 2, 3), np.uint8), i


@pytest.mark.pinned
@pytest.mark.parametrize("threads, workers", [(0, 0), (2, 0), (2, 2)])
def test_an_item_that_fails_raises_its_own_error(threads, workers):
    loader = BatchLoader(_Failing(), 3, threads=threads, num_workers=workers)
    with pytest.raises(InputError, match="item 7 is broken"):
        list(loader)


def test_detection_labels_are_padded_with_minus_one():
    items = [(np.zeros((4, 4, 3), np.uint8), np.ones((n, 6), np.float32)) for n in (1, 3)]
    images, labels = assemble(items)
    assert images.shape == (2, 4, 4, 3) and labels.shape == (2, 3, 6)
    assert (labels[0, 1:] == -1).all() and (labels[1] == 1).all()


def test_images_of_different_sizes_are_a_clear_error():
    items = [(np.zeros((4, 4, 3), np.uint8), 0), (np.zeros((5, 4, 3), np.uint8), 1)]
    with pytest.raises(InputError, match=r"the images of one batch have different shapes \(\(4, 4, 3\), \(5, 4, 3\)\)"):
        assemble(items)
    with pytest.raises(InputError, match="threads must be an integer >= 0"):
        BatchLoader(list(range(3)), 2, threads=-1)


@pytest.mark.parametrize("threads", [0, 2])
def test_images_go_into_their_batch_as_they_are_made_and_a_new_size_is_stacked(threads):
    """From the second batch on, each image is written into the batch's array as its item is made (the array
    is the batch: nothing stacks it afterwards); a batch of another size is stacked as the first was, and a
    batch that mixes sizes is the clear error, whichever path it takes."""
    sizes = [8] * 8 + [6] * 4 + [8, 8, 5, 8]  # batches of 4: 8, 8, 6, mixed
    items = [(np.full((s, s, 3), i, np.uint8), i) for i, s in enumerate(sizes)]
    loader = BatchLoader(items, 4, threads=threads, as_ndarray=False)
    seen = []
    with pytest.raises(InputError, match=r"different shapes \(\(5, 5, 3\), \(8, 8, 3\)\)"):
        for images, labels in loader:
            seen.append((images, labels))
    assert [b[0].shape for b in seen] == [(4, 8, 8, 3), (4, 8, 8, 3), (4, 6, 6, 3)]
    for k, (images, labels) in enumerate(seen):
        assert labels.tolist() == list(range(4 * k, 4 * k + 4))
        assert all((images[j] == 4 * k + j).all() for j in range(4))
    maker = loader._maker
    maker.make([4, 5])  # a batch of 8x8 images: the next one's array is made for them
    slots = maker.slots(2)
    placed = maker.items([0, 1], slots)
    assert [item[1] for item in placed] == [0, 1] and slots.shape == (2, 8, 8, 3)
    batch = maker.assemble(placed, slots)
    assert batch[0] is slots and (slots[1] == 1).all()


@pytest.mark.pinned
@pytest.mark.parametrize("last_batch", ["keep", "discard", "rollover"])
def test_our_samplers_give_mxnets_batches_from_the_same_global_seed(last_batch):
    from mxnet.gluon import data as gdata

    from gluon_augplug.data import _samplers

    for length, batch_size in ((10, 3), (7, 7), (5, 8), (0, 2)):
        np.random.seed(3)
        theirs = gdata.BatchSampler(gdata.RandomSampler(length), batch_size, last_batch)
        expected = [[int(i) for i in b] for _ in range(3) for b in theirs] + [len(theirs)]
        np.random.seed(3)
        ours = _samplers.BatchSampler(_samplers.RandomSampler(length), batch_size, last_batch)
        assert [[int(i) for i in b] for _ in range(3) for b in ours] + [len(ours)] == expected
    with pytest.raises(ValueError, match="last_batch must be one of keep, discard, rollover, got 'drop'"):
        _samplers.BatchSampler(_samplers.SequentialSampler(3), 2, "drop")
