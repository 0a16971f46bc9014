"""Randomness across DataLoader workers: per-sample seeding and per-worker streams."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from gluon_augplug import augment, build_pipeline
from tests.optional import gluon, mx

SPEC = "RandomFlipLeftRight, RandomColorJitter(0.4, 0.4, 0.4, 0.1), RandomCrop(32, pad=4), ToTensor"


@pytest.fixture(scope="module")
def cifar_dataset(cifar_test_images):
    images, labels = cifar_test_images
    return gluon.data.ArrayDataset(mx.nd.array(images[:96], dtype="uint8"), labels[:96])


def epoch_of(dataset, num_workers):
    loader = gluon.data.DataLoader(dataset, batch_size=16, shuffle=False, num_workers=num_workers)
    return np.concatenate([data.asnumpy() for data, _ in loader])


@pytest.mark.pinned
def test_augmented_epoch_is_identical_whatever_num_workers(cifar_dataset):
    train = augment(cifar_dataset, SPEC, seed=11)
    single = epoch_of(train, 0)
    np.testing.assert_array_equal(single, epoch_of(train, 2))
    assert single.shape == (96, 3, 32, 32)


@pytest.mark.pinned
def test_epochs_differ_and_set_epoch_reaches_forked_workers(cifar_dataset):
    train = augment(cifar_dataset, SPEC, seed=11)
    loader = gluon.data.DataLoader(train, batch_size=16, shuffle=False, num_workers=2)  # forks now
    train.set_epoch(0)
    first = np.concatenate([d.asnumpy() for d, _ in loader])
    train.set_epoch(1)
    second = np.concatenate([d.asnumpy() for d, _ in loader])
    assert not np.array_equal(first, second)
    train.set_epoch(0)
    again = np.concatenate([d.asnumpy() for d, _ in loader])
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(second, epoch_of(augment(cifar_dataset, SPEC, seed=11, epoch=1), 0))


@pytest.mark.pinned
def test_any_sample_of_any_epoch_can_be_recomputed_alone(cifar_dataset):
    train = augment(cifar_dataset, SPEC, seed=3)
    train.set_epoch(5)
    full = [train[i][0] for i in range(len(train))]
    resumed = augment(cifar_dataset, SPEC, seed=3, epoch=5)
    for i in (95, 40, 0):
        np.testing.assert_array_equal(resumed[i][0].asnumpy(), full[i].asnumpy())
    assert resumed[-1][1] == cifar_dataset[95][1]


@pytest.mark.pinned
def test_augmented_dataset_pickles_with_its_epoch(cifar_dataset):
    train = augment(cifar_dataset, SPEC, seed=3, epoch=2)
    clone = pickle.loads(pickle.dumps(train))
    assert clone.epoch == 2
    np.testing.assert_array_equal(clone[7][0].asnumpy(), train[7][0].asnumpy())


@pytest.mark.pinned
def test_different_seeds_give_different_epochs(cifar_dataset):
    a = epoch_of(augment(cifar_dataset, SPEC, seed=1), 0)
    b = epoch_of(augment(cifar_dataset, SPEC, seed=2), 0)
    assert not np.array_equal(a, b)


@pytest.mark.pinned
def test_plain_transform_first_workers_draw_distinct_streams(cifar_dataset):
    # every item is the same image: workers with copied generator states would produce
    # identical first batches (what MXNet's own transforms do after fork)
    image = cifar_dataset[0][0]
    same = gluon.data.ArrayDataset(mx.nd.stack(*[image] * 64), np.zeros(64, np.int32))
    pipe = build_pipeline(SPEC, seed=0)
    pipe(image.asnumpy())  # the parent has drawn from its stream before forking
    loader = gluon.data.DataLoader(same.transform_first(pipe), batch_size=8, num_workers=2)
    batches = [d.asnumpy() for d, _ in loader]
    assert not np.array_equal(batches[0], batches[1])
    flat = [b.reshape(8, -1) for b in batches]
    rows = {r.tobytes() for b in flat for r in b}
    assert len(rows) == 64  # no two samples got the same augmentation


def test_bad_arguments():
    with pytest.raises(ValueError, match="seed"):
        augment([], "ToTensor", seed=-1)
    with pytest.raises(ValueError, match="epoch"):
        augment([], "ToTensor").set_epoch(-2)
