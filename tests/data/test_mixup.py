"""MixupDetection: GluonCV's blend and weight column exactly for the same draw, its distributions, and draws
seeded by (seed, index, epoch), the same with worker processes."""
from __future__ import annotations

import mxnet as mx
import numpy as np
import pytest
from gluoncv.data.mixup.detection import MixupDetection as GluonCVMixup

from gluon_augplug import augment
from gluon_augplug.data import MixupDetection
from gluon_augplug.errors import InputError, ParameterError

BOXES = np.array([[35, 88, 470, 318, 0, 0], [35, 158, 110, 250, 1, 0]], np.float64)  # voc-cat's cat and head


@pytest.fixture(scope="module")
def items(cat):
    """The cat with its boxes, and a smaller crop of it with one box (a larger canvas is needed)."""
    return [(mx.nd.array(cat, dtype="uint8"), BOXES.copy()),
            (mx.nd.array(cat[50:350, 100:450], dtype="uint8"), np.array([[10.0, 20, 200, 250, 1, 0]]))]


def test_the_blend_and_the_weights_are_gluoncvs_for_the_same_draw(items):
    ours = MixupDetection(items, seed=3)
    for index in (0, 1):
        weight, partner = ours.draw(index)
        assert partner == 1 - index and 0 < weight < 1  # two items: the partner is the other one
        theirs = GluonCVMixup(items, lambda: weight)[index]
        mine = ours[index]
        assert isinstance(mine[0], mx.nd.NDArray) and mine[0].dtype == np.uint8
        np.testing.assert_array_equal(mine[0].asnumpy(), theirs[0].asnumpy())
        np.testing.assert_allclose(mine[1], theirs[1], atol=1e-12)
        assert mine[1].shape == (3, 7)


def test_weights_follow_the_beta_and_partners_are_the_other_items_uniformly():
    data = [(np.zeros((4, 4, 3), np.uint8), np.zeros((1, 5))) for _ in range(5)]
    mixup = MixupDetection(data, alpha=1.5, beta=1.5, seed=0)
    weights, partners = [], np.zeros((5, 5))
    for epoch in range(400):
        mixup.set_epoch(epoch)
        for i in range(5):
            w, p = mixup.draw(i)
            weights.append(w)
            partners[i, p] += 1
    weights = np.array(weights)
    assert abs(weights.mean() - 0.5) < 0.02 and abs(weights.std() - 0.25) < 0.02  # Beta(1.5, 1.5)
    assert np.all(np.diag(partners) == 0)
    off = partners[~np.eye(5, dtype=bool)]
    assert off.min() > 0.7 * off.mean() and off.max() < 1.3 * off.mean()
    gluoncv_weights = np.clip(np.random.default_rng(0).beta(1.5, 1.5, 4000), 0, 1)
    assert abs(np.quantile(weights, 0.9) - np.quantile(gluoncv_weights, 0.9)) < 0.03


def test_draws_are_seeded_by_seed_index_and_epoch(items):
    a, b = MixupDetection(items, seed=7), MixupDetection(items, seed=7)
    assert [a.draw(i) for i in (0, 1)] == [b.draw(i) for i in (0, 1)]
    first = [a.draw(i) for i in (0, 1)]
    a.set_epoch(1)
    assert [a.draw(i) for i in (0, 1)] != first
    assert [MixupDetection(items, seed=8).draw(i) for i in (0, 1)] != first


def test_mixup_off_gives_the_item_with_weights_of_one(items):
    mixup = MixupDetection(items, seed=0)
    mixup.set_mixup(False)
    img, boxes = mixup[0]
    assert img is items[0][0] and boxes.shape == (2, 7) and np.all(boxes[:, 6] == 1)


def as_list(batch):
    return batch


def weights_and_classes(img, boxes):
    return img, boxes[:, -2:].astype(np.float32)


def test_workers_see_set_epoch_and_draw_as_the_main_process():
    data = [(np.full((8, 8, 3), 10 * k, np.uint8), np.array([[0.0, 0, 4, 4, k]])) for k in range(6)]
    mixup = MixupDetection(data, seed=1)
    loader = mx.gluon.data.DataLoader(mixup.transform(weights_and_classes), batch_size=6, num_workers=2,
                                      batchify_fn=as_list)
    for epoch in (0, 3):
        mixup.set_epoch(epoch)
        seen = next(iter(loader))
        expected = [mixup[i] for i in range(6)]
        for (img, y), (want_img, want_boxes) in zip(seen, expected):
            np.testing.assert_array_equal(np.asarray(img), want_img)
            np.testing.assert_allclose(y, want_boxes[:, -2:], atol=1e-6)


def test_the_weight_column_travels_through_a_detection_pipeline(items):
    train = augment(MixupDetection(items, seed=0), "yolo3-train", seed=0, targets="boxes")
    img, boxes = train[0]
    assert img.shape == (3, 416, 416) and boxes.shape[1] == 7
    weight, _ = MixupDetection(items, seed=0).draw(0)
    assert set(np.round(boxes[:, 6], 9)) <= {round(weight, 9), round(1 - weight, 9)}


@pytest.mark.parametrize("bad", [{"alpha": 0}, {"beta": -1}, {"alpha": "1.5"}, {"alpha": float("nan")}])
def test_bad_parameters_name_themselves(items, bad):
    with pytest.raises(ParameterError, match=next(iter(bad))):
        MixupDetection(items, **bad)


def test_bad_items_are_errors_that_say_so():
    with pytest.raises(InputError, match="not an \\(img, boxes\\) pair"):
        MixupDetection([np.zeros((4, 4, 3), np.uint8)] * 2, seed=0)[0]
    with pytest.raises(InputError, match="item 5"):
        MixupDetection([(np.zeros((4, 4, 3), np.uint8), np.zeros((0, 5)))] * 2)[5]
