"""Agreement with MXNet's (and GluonCV's) transforms of the same name: exact where deterministic,
in distribution where random (the factor each one applied is recovered from the pixels)."""
from __future__ import annotations

import colorsys

import mxnet as mx
import numpy as np
import pytest
from mxnet.gluon.data.vision import transforms as T

from gluon_augplug import build_pipeline

N = 2000


def assert_same_distribution(ours, theirs, lo, hi, tol=0.03):
    ours, theirs = np.asarray(ours, float), np.asarray(theirs, float)
    for sample in (ours, theirs):
        assert sample.min() >= lo - tol and sample.max() <= hi + tol
    assert abs(ours.mean() - theirs.mean()) < tol, (ours.mean(), theirs.mean())
    assert abs(ours.std() - theirs.std()) < tol, (ours.std(), theirs.std())


def draws(transform, image, n=N):
    return [transform(image) for _ in range(n)]


def ours(spec, image, n=N):
    pipe = build_pipeline(spec, seed=0)
    return draws(pipe, image, n)


def theirs(block, image, n=N):
    mx.random.seed(0)
    nd = mx.nd.array(image, dtype="uint8")
    return [o.asnumpy() for o in draws(block, nd, n)]


def test_brightness_factor_is_uniform_in_1_plus_minus_brightness():
    image = np.full((4, 4, 3), 100, np.uint8)
    factor = lambda outs: [o[0, 0, 0] / 100.0 for o in outs]  # noqa: E731
    a, b = factor(ours("RandomBrightness(0.5)", image)), factor(theirs(T.RandomBrightness(0.5), image))
    assert_same_distribution(a, b, 0.5, 1.5)
    assert abs(np.std(a) - 1 / np.sqrt(12)) < 0.02  # uniform over a width of 1


def test_contrast_factor():
    image = np.full((4, 4, 3), 50, np.uint8)
    image[:2] = 150  # gray mean 100: a pixel of 150 becomes 100 + 50 * factor
    factor = lambda outs: [(o[0, 0, 0] - 100.0) / 50.0 for o in outs]  # noqa: E731
    assert_same_distribution(factor(ours("RandomContrast(0.5)", image)),
                             factor(theirs(T.RandomContrast(0.5), image)), 0.5, 1.5)


def test_saturation_factor():
    # MXNet 1.9.1's kernel takes only the blue channel as "gray" (`gray = ...` instead of `+=`);
    # with blue = 0 its output is R * factor, ours R * f + luma * (1 - f): recover each factor
    image = np.zeros((4, 4, 3), np.uint8)
    image[..., 0], image[..., 1] = 150, 100
    luma = 0.299 * 150 + 0.587 * 100
    a = [(o[0, 0, 0] - luma) / (150 - luma) for o in ours("RandomSaturation(0.5)", image)]
    b = [o[0, 0, 0] / 150.0 for o in theirs(T.RandomSaturation(0.5), image)]
    assert_same_distribution(a, b, 0.5, 1.5, tol=0.04)


def test_lighting_coefficients_are_normal_with_std_alpha():
    from gluon_augplug.transforms.functional import LIGHTING_EIG

    image = np.full((2, 2, 3), 128, np.uint8)
    inverse = np.linalg.inv(LIGHTING_EIG.astype(float))
    alphas = lambda outs: [inverse @ (o[0, 0].astype(float) - 128.0) for o in outs]  # noqa: E731
    a = np.array(alphas(ours("RandomLighting(0.1)", image)))
    b = np.array(alphas(theirs(T.RandomLighting(0.1), image)))
    for c in range(3):
        assert abs(a[:, c].std() - b[:, c].std()) < 0.02 + 0.2 * b[:, c].std()
    assert abs(a[:, 0].std() - 0.1) < 0.01  # the first component is the least quantized


def test_flip_rate_matches_mxnet(cat):
    small = np.ascontiguousarray(cat[::20, ::20])
    rate = lambda outs: np.mean([not np.array_equal(o, small) for o in outs])  # noqa: E731
    a, b = rate(ours("RandomFlipLeftRight", small)), rate(theirs(T.RandomFlipLeftRight(), small))
    assert abs(a - 0.5) < 0.04 and abs(b - 0.5) < 0.04
    assert abs(rate(ours("RandomFlipTopBottom", small)) - 0.5) < 0.04


def test_resized_crop_box_statistics_match_mxnet_random_size_crop(cat):
    pipe = build_pipeline("RandomResizedCrop(224, scale=(0.08, 1.0), ratio=(0.75, 1.3333))", seed=0)
    rng = np.random.default_rng(0)
    ours_boxes = [pipe[0].sample(rng, cat.shape) for _ in range(N)]
    import random

    random.seed(0)
    nd = mx.nd.array(cat, dtype="uint8")
    theirs_boxes = [mx.image.random_size_crop(nd, (224, 224), (0.08, 1.0), (0.75, 1.3333))[1] for _ in range(N)]
    area = 400 * 500
    a_area = [b["w"] * b["h"] / area for b in ours_boxes]
    b_area = [w * h / area for _, _, w, h in theirs_boxes]
    assert_same_distribution(a_area, b_area, 0.0, 1.0)
    a_ratio = [np.log(b["w"] / b["h"]) for b in ours_boxes]
    b_ratio = [np.log(w / h) for _, _, w, h in theirs_boxes]
    assert_same_distribution(a_ratio, b_ratio, np.log(0.75), np.log(1.3333))
    for b in ours_boxes:
        assert 0 <= b["x0"] and b["x0"] + b["w"] <= 500 and 0 <= b["y0"] and b["y0"] + b["h"] <= 400


def test_pad_crop_offsets_match_gluoncv_random_crop():
    from gluoncv.data.transforms.block import RandomCrop as GluonCVRandomCrop

    # pixel (y, x) holds (x + 1, y + 1, 7): the output's centre tells where the window started
    yy, xx = np.mgrid[0:32, 0:32]
    image = np.stack([xx + 1, yy + 1, np.full_like(xx, 7)], axis=2).astype(np.uint8)
    offsets = lambda outs: [(int(o[16, 16, 0]) - 1 - 16, int(o[16, 16, 1]) - 1 - 16) for o in outs]  # noqa: E731
    a = np.array(offsets(ours("RandomCrop(32, pad=4)", image)))
    b = np.array(offsets(theirs(GluonCVRandomCrop(32, pad=4), image)))
    for k in range(2):
        assert set(a[:, k]) == set(b[:, k]) == set(range(-4, 5))
        assert_same_distribution(a[:, k] / 4, b[:, k] / 4, -1, 1, tol=0.05)


@pytest.mark.parametrize("spec, block", [
    ("Resize((30, 20))", T.Resize((30, 20))), ("Resize(32, keep_ratio=True)", T.Resize(32, keep_ratio=True)),
    ("CenterCrop(24)", T.CenterCrop(24)), ("CenterCrop(600)", T.CenterCrop(600)), ("ToTensor", T.ToTensor()),
])
def test_deterministic_transforms_equal_mxnet(spec, block, cat):
    a = build_pipeline(spec)(cat)
    b = block(mx.nd.array(cat, dtype="uint8")).asnumpy()
    assert a.shape == b.shape
    np.testing.assert_allclose(a.astype(np.float32), b.astype(np.float32), atol=1e-6)


def test_normalize_equals_mxnet(cat):
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    a = build_pipeline(f"ToTensor, Normalize({mean}, {std})")(cat)
    b = T.Normalize(mean, std)(T.ToTensor()(mx.nd.array(cat, dtype="uint8"))).asnumpy()
    np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 0.01), (np.uint8, 0.5 + 1e-9)])
def test_hue_rotation_equals_colorsys_hls_rotation(dtype, tolerance):
    """Float and uint8 images rotate exactly (OpenCV's float HSV); uint8 rounds once, at the end."""
    from gluon_augplug.transforms.functional import adjust_hue

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (1, 500, 3), dtype=np.uint8)
    for shift in (-0.5, -0.3, 0.1, 0.25, 0.49):
        out = adjust_hue(pixels.astype(dtype), shift)
        errors = []
        for (r, g, b), got in zip(pixels[0] / 255.0, out[0]):
            h, l, s = colorsys.rgb_to_hls(r, g, b)
            want = np.array(colorsys.hls_to_rgb((h + shift) % 1.0, l, s)) * 255
            errors.append(np.abs(got.astype(float) - want).max())
        # uint8: only the final rounding (at most 0.5 per channel, 0.25 on average) separates it from exact
        assert max(errors) <= tolerance and np.mean(errors) <= (0.3 if dtype == np.uint8 else 0.01)


def test_hue_shift_is_uniform_in_plus_minus_hue():
    pipe = build_pipeline("RandomHue(0.5)", seed=0)
    rng = np.random.default_rng(0)
    shifts = [pipe[0].sample(rng, (8, 8, 3))["shift"] for _ in range(N)]
    assert min(shifts) >= -0.5 and max(shifts) <= 0.5
    assert abs(np.mean(shifts)) < 0.03 and abs(np.std(shifts) - 1 / np.sqrt(12)) < 0.02


def test_color_jitter_uses_a_random_order_and_mxnet_ranges():
    pipe = build_pipeline("RandomColorJitter(0.5, 0.5, 0.5, 0.5)", seed=0)
    rng = np.random.default_rng(0)
    records = [pipe[0].sample(rng, (8, 8, 3))["steps"] for _ in range(N)]
    orders = {tuple(op for op, _ in steps) for steps in records}
    assert len(orders) == 24  # every permutation of the four steps occurs
    for steps in records:
        for op, value in steps:
            assert (-0.5 <= value <= 0.5) if op == "hue" else (0.5 <= value <= 1.5)


def test_resized_crop_reads_a_single_scale_as_mxnet_does(cat):
    """MXNet reads RandomResizedCrop(size, scale=x) as the area range (x, 1.0), not (x, x)."""
    ours = build_pipeline("RandomResizedCrop(32, scale=0.5)")[0]
    assert ours.scale == (0.5, 1.0) and ours.to_spec()["params"]["scale"] == 0.5
    rng = np.random.default_rng(0)
    area = cat.shape[0] * cat.shape[1]
    ours_fractions = [(lambda p: p["w"] * p["h"] / area)(ours.sample(rng, cat.shape)) for _ in range(N)]
    mx.random.seed(0)
    import random

    random.seed(0)
    src = mx.nd.array(cat, dtype="uint8")
    theirs = []
    for _ in range(N):
        _, (x, y, w, h) = mx.image.random_size_crop(src, (32, 32), 0.5, (3 / 4, 4 / 3))
        theirs.append(w * h / area)
    assert min(ours_fractions) >= 0.49 and min(theirs) >= 0.49
    assert abs(np.mean(ours_fractions) - np.mean(theirs)) < 0.02


def test_hue_above_one_is_accepted_and_drawn_as_mxnet_draws_it(cat):
    T.RandomHue(1.5)(mx.nd.array(cat[:8, :8], dtype="uint8")).wait_to_read()  # MXNet takes it
    pipe = build_pipeline("RandomHue(1.5)")
    rng = np.random.default_rng(0)
    shifts = [pipe[0].sample(rng, (8, 8, 3))["shift"] for _ in range(N)]
    # MXNet: factor uniform in [max(0, 1 - 1.5), 2.5] whole turns, i.e. a shift in [-1, 1.5]
    assert -1.0 <= min(shifts) < -0.9 and 1.4 < max(shifts) <= 1.5 and abs(np.mean(shifts) - 0.25) < 0.05
    assert pipe(cat).shape == cat.shape
    build_pipeline("RandomColorJitter(hue=1.5)")(cat)


def test_jitter_factors_above_one_follow_mxnets_operator():
    """MXNet's color jitter draws 1 + U(-x, x): with x > 1 a factor can be negative (no clamp at 0)."""
    pipe = build_pipeline("RandomColorJitter(brightness=1.5, contrast=1.5)")
    rng = np.random.default_rng(0)
    factors = [v for _ in range(N) for op, v in pipe[0].sample(rng, (8, 8, 3))["steps"]]
    assert -0.5 <= min(factors) < -0.4 and 2.4 < max(factors) <= 2.5
    img = np.full((4, 4, 3), 100, np.uint8)
    assert (pipe[0].apply(img, "HWC", steps=[["brightness", -0.3]]) == 0).all()  # as MXNet saturates it
