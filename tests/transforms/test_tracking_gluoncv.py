"""SiamRPN's steps (GluonCV's SiamRPNaugmentation, pysot's) and AlphaPose's channel gains against GluonCV's own code
for the same draws: the crop's pixels and box, the streak blur, the colour offset, the gains."""
from __future__ import annotations

import random

import numpy as np
import pytest
from gluoncv.data.transforms.track import SiamRPNaugmentation
from gluoncv.model_zoo.siamrpn.siamrpn_tracker import Center, Corner, center2corner

from gluon_augplug import build_pipeline
from gluon_augplug.transforms import MotionBlur, RandomChannelGain, RandomShiftScaleCrop


class GlobalStream:
    """Our transforms' draws taken from NumPy's global stream, which GluonCV's code draws from."""

    @staticmethod
    def random():
        return np.random.random()


@pytest.fixture(scope="module")
def square(cat):
    return np.ascontiguousarray(cat[:400, 50:450])  # SiamRPN's crops are square


@pytest.mark.parametrize("size, shift, scale", [(127, 4, 0.05), (255, 64, 0.18)])
def test_shift_scale_crop_is_gluoncvs_for_the_same_draws(square, size, shift, scale):
    aug = SiamRPNaugmentation(shift, scale, 0, 0, 0)
    ours = RandomShiftScaleCrop(size, shift=shift, scale=scale)
    box = Corner(120.0, 90.0, 300.0, 310.0)  # pixel indices, as GluonCV's tracking labels
    for seed in range(20):
        crop_box = center2corner(Center(square.shape[0] // 2, square.shape[1] // 2, size - 1, size - 1))
        np.random.seed(seed)
        their_img, their_box = aug._shift_scale_aug(square, box, crop_box, size)
        np.random.seed(seed)
        params = ours.sample(GlobalStream, square.shape)
        np.testing.assert_array_equal(ours.apply(square, "HWC", **params), their_img)
        moved = ours.apply_boxes(np.array([[*box]]) + 0.5, params, square.shape[:2], (size, size)) - 0.5
        np.testing.assert_allclose(moved[0], list(their_box), atol=1e-6)


def test_siamrpn_search_preset_draws_its_window_as_gluoncv(square):
    """Over 500 draws: the window's width and left edge spread as GluonCV's (read back from the box it moves)."""
    aug = SiamRPNaugmentation(64, 0.18, 0, 0, 0)
    box = Corner(150.0, 150.0, 250.0, 250.0)
    np.random.seed(0)
    theirs = np.array([list(aug._shift_scale_aug(square, box, center2corner(Center(200, 200, 254, 254)), 255)[1])
                       for _ in range(500)])
    pipe = build_pipeline("siamrpn-search", seed=0, targets="boxes")
    ours = np.array([pipe(square, boxes=np.array([[*box]]) + 0.5)[1][0] - 0.5 for _ in range(500)])
    for k in range(4):
        assert abs(ours[:, k].mean() - theirs[:, k].mean()) < 3 and abs(ours[:, k].std() - theirs[:, k].std()) < 3


def test_siamrpn_train_is_the_search_crops_augmentation(square):
    box = np.array([[150.5, 150.5, 250.5, 250.5]])
    search, train = (build_pipeline(name, seed=3, targets="boxes") for name in ("siamrpn-search", "siamrpn-train"))
    for _ in range(3):
        (img_s, box_s), (img_t, box_t) = search(square, boxes=box), train(square, boxes=box)
        np.testing.assert_array_equal(img_s, img_t)
        np.testing.assert_array_equal(box_s, box_t)
    assert img_t.shape == (255, 255, 3)


def test_motion_blur_is_pysots_streak_kernel(square):
    aug = SiamRPNaugmentation(0, 0, 1, 0, 0)
    for seed in range(5):
        np.random.seed(seed)
        theirs = aug._blur_aug(square)
        np.random.seed(seed)
        size, weight = int(np.random.choice(np.arange(5, 46, 2))), float(np.random.random())
        np.testing.assert_array_equal(MotionBlur().apply(square, "HWC", size=size, weight=weight), theirs)
    sizes = [MotionBlur(sizes=(5, 9)).sample(np.random.default_rng(s), square.shape)["size"] for s in range(300)]
    assert set(sizes) == {5, 7, 9}


def test_siamrpn_colour_offset_is_gluoncvs(square):
    aug = SiamRPNaugmentation(0, 0, 0, 0, 1)
    img = square.astype(np.float32)
    np.random.seed(1)
    theirs = aug._color_aug(img)
    np.random.seed(1)
    alpha = np.random.randn(3)
    ours = build_pipeline("RandomLighting(1.0, eigen='siamrpn')")[0].apply(img, "HWC", alpha=list(alpha))
    np.testing.assert_allclose(ours, np.clip(theirs, 0, 255), atol=1e-3)


def test_channel_gains_are_alpha_poses(square):
    gains = [0.75, 1.2, 1.29]
    src = square.copy()
    for c, g in enumerate(gains):  # AlphaPoseDefaultTrainTransform's colour jitter, with these draws
        src[:, :, c] = (src[:, :, c] * g).clip(0, 255)
    np.testing.assert_array_equal(RandomChannelGain().apply(square, "HWC", gains=gains), src)
    random.seed(0)
    drawn = np.array([RandomChannelGain().sample(np.random.default_rng(s), (4, 4, 3))["gains"] for s in range(500)])
    assert drawn.min() >= 0.7 and drawn.max() <= 1.3 and abs(drawn.mean() - 1.0) < 0.02
