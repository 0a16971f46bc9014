"""Batch transforms: both backends, agreement with the per-sample transforms, labels, seeding, the hook."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import gluon_augplug
from gluon_augplug import build_pipeline
from gluon_augplug.batch import BatchTransform, build_batch_pipeline
from gluon_augplug.errors import InputError, ParameterError, UnknownTransformError
from gluon_augplug.plugins.manager import PluginSystem
from tests.optional import BACKENDS, NDARRAYS, mx

REGISTRY = PluginSystem(load_entry_points=False).registry
BATCH = REGISTRY.transforms("builtin", kind="batch")
MIXING = {"Mixup", "CutMix"}


def run(spec, data, seed=0, labels=None):
    pipe = build_batch_pipeline(spec, seed=seed, registry=REGISTRY)
    if labels is not None:
        return pipe(data, labels, classes=10)
    return pipe(data)


PER_SAMPLE_SIZES = ("RandomExpand", "RandomIoUCrop", "ResizeShortWithin", "RandomShortSideScale", "RandomResizeSide")


def test_every_builtin_batch_transform_is_registered_with_its_kind():
    names = {i.name for i in BATCH}
    assert {"RandomFlipLeftRight", "RandomFlipTopBottom", "RandomCrop", "RandomResizedCrop", "RandomRotation",
            "RandomAffine", "RandomBrightness", "RandomContrast", "RandomSaturation", "RandomHue", "RandomColorJitter",
            "RandomGrayscale", "RandomLighting", "Normalize", "Cutout", "RandomErasing", "Mixup", "CutMix",
            # the geometric built-ins run on batches through their geometry() alone
            "Resize", "CenterCrop", "RandomExpand", "RandomIoUCrop", "RandomInterpolationResize",
            "ResizeShortWithin", "MultiScaleCrop", "RandomShortSideScale", "RandomResizeSide", "PadIfNeeded"} <= names
    # one class per transform: per-sample and batch, except the mixing ones (batches only)
    assert all(i.kind == ("batch" if i.name in MIXING else "sample+batch") for i in BATCH)
    assert all(i.factory is REGISTRY.get_transform(i.name).factory for i in BATCH if i.name not in MIXING)
    crop = REGISTRY.get_transform("RandomCrop", "batch")
    assert [p.name for p in crop.params] == ["size", "pad", "pad_value", "interpolation", "upscale"]


@pytest.mark.parametrize("info", BATCH, ids=lambda i: i.name)
def test_every_batch_transform_on_numpy_and_on_ndarray(info, cifar_test_images):
    data = cifar_test_images[0][:16]
    labels = cifar_test_images[1][:16]
    params = dict(info.example)
    if info.name == "RandomExpand":
        params["fill"] = 0  # batch canvases are filled with zeros (the example's ImageNet mean is refused)
    spec = [{"name": info.name, "params": params}]
    if info.name in PER_SAMPLE_SIZES:  # a size of each sample's own: a batch ends such steps with a Resize
        spec.append({"name": "Resize", "params": {"size": 32}})
    mixing = info.name in MIXING
    out_np = run(spec, data, labels=labels if mixing else None)
    if mixing:
        out_np, t_np = out_np
        assert t_np.shape == (16, 10) and np.allclose(t_np.sum(axis=1), 1)
    assert isinstance(out_np, np.ndarray)
    size = spec[-1]["params"].get("size", 32)
    assert out_np.shape == (16, 3, size, size) and out_np.dtype == np.float32
    if NDARRAYS:
        out_nd = run(spec, mx.nd.array(data, dtype="uint8"), labels=mx.nd.array(labels) if mixing else None)
        if mixing:
            out_nd, t_nd = out_nd
            np.testing.assert_allclose(t_nd.asnumpy(), t_np, atol=1e-6)
        assert isinstance(out_nd, mx.nd.NDArray) and out_nd.shape == out_np.shape
        # the same parameters on both backends (OpenCV and MXNet resample alike up to interpolation details)
        assert np.abs(out_np - out_nd.asnumpy()).mean() < 0.03
    again = run(spec, data, labels=labels if mixing else None)
    np.testing.assert_array_equal(again[0] if mixing else again, out_np)
    # batches resample bilinearly (RandomInterpolationResize's draw is the interpolation), and a random short
    # side resized back to 32 is the same picture; PadIfNeeded's example pads at the top left
    if info.factory.random and info.name not in ("RandomInterpolationResize", "ResizeShortWithin",
                                                 "RandomShortSideScale", "RandomResizeSide", "PadIfNeeded"):
        other = run(spec, data, seed=1, labels=labels if mixing else None)
        assert not np.array_equal(other[0] if mixing else other, out_np)


def test_pad_crop_flip_is_pixel_exact(cifar_test_images):
    data = cifar_test_images[0][:64]
    out = run("RandomCrop(32, pad=4), RandomFlipLeftRight", data)
    padded = np.pad(data, ((0, 0), (4, 4), (4, 4), (0, 0)))
    seen_offsets, flips = set(), 0
    for i in range(64):
        image = np.rint(np.moveaxis(out[i], 0, 2) * 255).astype(np.uint8)  # exact: x * (1/255) * 255 rounds back
        matches = [(dy, dx, f) for dy in range(9) for dx in range(9) for f in (0, 1)
                   if np.array_equal(image, (padded[i, dy:dy + 32, dx:dx + 32][:, ::-1] if f
                                             else padded[i, dy:dy + 32, dx:dx + 32]))]
        assert matches, f"sample {i} is not an exact padded crop"
        seen_offsets.add(matches[0][:2])
        flips += matches[0][2]
    assert len(seen_offsets) > 30 and 16 < flips < 48


@pytest.mark.parametrize("size, pad, vertical", [(24, 20, False), (16, 30, True), (40, 6, False)])
def test_windows_far_into_the_padding_and_both_flips_are_pixel_exact(cifar_test_images, size, pad, vertical):
    """Windows that leave the image by more than they keep (or wholly, at pad 30), crops larger than the image,
    and vertical flips (another code path) are exact padded, mirrored crops."""
    data = cifar_test_images[0][:48]
    out = run(f"RandomCrop({size}, pad={pad}), RandomFlipLeftRight" + (", RandomFlipTopBottom" if vertical else ""), data)
    padded = np.pad(data, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    span = 32 + 2 * pad - size + 1
    flips = set()
    for i in range(48):
        image = np.rint(np.moveaxis(out[i], 0, 2) * 255).astype(np.uint8)
        found = [(fx, fy) for dy in range(span) for dx in range(span) for fx in (0, 1) for fy in ((0, 1) if vertical else (0,))
                 if np.array_equal(image, padded[i, dy:dy + size, dx:dx + size][::-1 if fy else 1, ::-1 if fx else 1])]
        assert found, f"sample {i} is not an exact padded crop"
        flips.update(found)
    assert {(0, 0), (1, 0)} <= flips


def test_agrees_in_distribution_with_the_per_sample_transforms():
    gray = np.full((2000, 4, 4, 3), 100, np.uint8)
    factors = run("RandomBrightness(0.5)", gray)[:, 0, 0, 0] * 255 / 100
    per_sample = build_pipeline("RandomBrightness(0.5)", seed=0)
    reference = [per_sample(gray[0])[0, 0, 0] / 100 for _ in range(2000)]
    assert abs(factors.mean() - np.mean(reference)) < 0.03 and abs(factors.std() - np.std(reference)) < 0.03
    assert factors.min() >= 0.5 - 1e-3 and factors.max() <= 1.5 + 1e-3
    # flip rate, with a left-right asymmetric image
    ramp = np.tile(np.arange(8, dtype=np.uint8)[None, None, :, None] * 30, (2000, 8, 1, 3))
    flipped = run("RandomFlipLeftRight(p=0.3)", ramp)[:, 0, 0, 0] > 0.5
    assert abs(flipped.mean() - 0.3) < 0.04
    # contrast blends towards each sample's own gray mean
    halves = np.full((500, 4, 4, 3), 50, np.uint8)
    halves[:, :2] = 150
    out = run("RandomContrast(0.5)", halves) * 255
    factor = (out[:, 0, 0, 0] - 100) / 50
    assert abs(factor.mean() - 1.0) < 0.05 and 0.45 < factor.min() and factor.max() < 1.55


def test_color_jitter_fused_matches_the_sequential_definition():
    """One fused colour map per sample equals applying the steps one by one (without intermediate clipping)."""
    from gluon_augplug.transforms import RandomColorJitter

    rng = np.random.default_rng(0)
    pixels = rng.random((5, 3))
    jitter = RandomColorJitter(0.4, 0.4, 0.4, 0.1)
    params = jitter.sample(np.random.default_rng(3), (1, 5, 3))
    mean = pixels.mean(axis=0)
    fused = (jitter.color_map(params, mean)[:, :3] @ pixels.T).T + jitter.color_map(params, mean)[:, 3]
    x = pixels.copy()
    from gluon_augplug.transforms.functional import color_step

    for op, value in params["steps"]:
        m = color_step(op, value, x.mean(axis=0))
        x = (m[:, :3] @ x.T).T + m[:, 3]
    np.testing.assert_allclose(fused, x, atol=1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_color_jitter_batches_saturate_after_every_step_as_per_sample(backend, cat):
    """A brightness above 1 saturates the highlights before a contrast below 1 sees them, on batches as
    per sample (MXNet's order of clipping); ``fused=True`` clips once, at the end."""
    from gluon_augplug.batch.state import DeviceState, NumpyState
    from gluon_augplug.transforms import RandomColorJitter

    import cv2

    small = cv2.resize(np.ascontiguousarray(cat), (64, 48), interpolation=cv2.INTER_AREA).astype(np.float64)
    bright = np.clip(small * 2.2, 0, 255).astype(np.uint8)  # mean ~130: a brightness step saturates parts of it
    images = np.stack([bright, bright[:, ::-1]])
    params = [{"steps": [["brightness", 1.8], ["contrast", 0.3]]}, {"steps": [["saturation", 1.7], ["contrast", 0.5]]}]
    expected = np.stack([RandomColorJitter(1.0, 1.0, 1.0).apply(img, "HWC", **p) for img, p in zip(images, params)])
    results = {}
    for fused in (False, True):
        state = NumpyState(images, None) if backend == "numpy" else DeviceState(mx.nd.array(images, dtype="uint8"), None)
        RandomColorJitter(1.0, 1.0, 1.0, fused=fused).apply_batch(state, params)
        out = state.result()
        results[fused] = (out.asnumpy() if backend == "ndarray" else out).transpose(0, 2, 3, 1) * 255
    assert np.abs(results[False] - expected).max() <= 2  # the per-sample path rounds after each step
    assert np.abs(results[True] - expected).max() > 40


def test_mixing_labels_in_the_same_proportion_as_pixels():
    data = np.stack([np.full((8, 8, 3), v, np.uint8) for v in (0, 255)] * 8)
    labels = np.array([0, 1] * 8)
    for spec in ("Mixup(1.0)", "CutMix(1.0)"):
        out, targets = run(spec, data, labels=labels)
        np.testing.assert_allclose(targets[:, 1], out.mean(axis=(1, 2, 3)), atol=1e-5)


def test_errors():
    data = np.zeros((4, 8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="put Normalize last"):
        run("Normalize(0.5, 0.2), RandomBrightness(0.3)", data)
    with pytest.raises(ValueError, match="call the pipeline with labels"):
        run("Mixup(0.2)", data)
    with pytest.raises(ValueError, match="4-D batch"):
        run("RandomFlipLeftRight", data[0])
    with pytest.raises(ParameterError, match="pad_value"):
        build_batch_pipeline("RandomCrop(8, pad=2, pad_value=3)", registry=REGISTRY)
    with pytest.raises(UnknownTransformError, match="RandAugment has no batch path: it runs per sample only"):
        build_batch_pipeline("RandAugment", registry=REGISTRY)


class Darken(BatchTransform):
    """Halve every pixel (a third-party batch transform)."""

    random = False

    def __init__(self, factor: float = 0.5):
        self.factor = factor

    def apply(self, state):
        state.add_color(np.tile(np.hstack([np.eye(3) * self.factor, np.zeros((3, 1))]), (state.n, 1, 1)))


class BatchPlugin:
    @gluon_augplug.hookimpl
    def augplug_register_batch_transforms(self, register):
        register("Darken", Darken)


def test_plugins_register_batch_transforms_through_the_hook(augplug_register):
    record = augplug_register(BatchPlugin(), "darkener")
    assert record.batch_transforms == 1 and record.hooks == ["augplug_register_batch_transforms"]
    out = build_batch_pipeline("RandomFlipLeftRight, Darken(0.25)")(np.full((2, 4, 4, 3), 200, np.uint8))
    np.testing.assert_allclose(out, 200 / 255 * 0.25, atol=1e-6)
    with pytest.raises(UnknownTransformError):
        build_pipeline("Darken")  # a batch transform is not a per-sample transform


def test_cli_lists_kinds():
    out = subprocess.run([sys.executable, "-m", "gluon_augplug", "transforms", "--kind", "batch", "--json"],
                         capture_output=True, text=True, check=True).stdout
    listed = json.loads(out)
    assert listed and all(t["batch"] for t in listed)
    assert {t["name"]: t["kind"] for t in listed}["Mixup"] == "batch"
    assert "RandAugment" not in {t["name"] for t in listed} and "Equalize" in {t["name"] for t in listed}
    table = subprocess.run([sys.executable, "-m", "gluon_augplug", "transforms"], capture_output=True, text=True,
                           check=True).stdout
    rows = [line.split()[:3] for line in table.splitlines()]
    assert ["RandomCrop", "sample+batch", "builtin"] in rows and ["RandAugment", "sample", "builtin"] in rows
    assert sum(row[:1] == ["RandomCrop"] for row in rows) == 1  # one class, one row


def test_integer_shifts_and_flips_copy_exactly_what_the_maps_say():
    """The numpy batch path's window copies against the definition out[y, x] = in[sy*y + ty, sx*x + tx] (0 outside),
    for every sign and shift, windows partly and wholly off the image, and output sizes other than the input's."""
    from gluon_augplug.batch.state import NumpyState

    rng = np.random.default_rng(0)
    for src_h, src_w, h, w in [(5, 8, 4, 12), (8, 5, 8, 8), (1, 3, 2, 1), (32, 32, 32, 32), (70, 66, 65, 66)]:
        maps = []
        for sy, sx in [(1, 1), (-1, 1), (1, -1), (-1, -1)]:
            for ty in (-14, -3, 0, 2, src_h - 1, src_h + 6):
                for tx in (-9, 0, 1, src_w + 3):
                    maps.append([[sx, 0, tx], [0, sy, ty], [0, 0, 1]])
        maps = np.array(maps, float)
        pixels = rng.integers(1, 256, (len(maps), src_h, src_w, 3), dtype=np.uint8)
        state = NumpyState(pixels, rng)
        got = state._slice(maps, (h, w))
        expected = np.zeros((len(maps), h, w, 3), np.uint8)
        for i, m in enumerate(maps):
            for y in range(h):
                for x in range(w):
                    sy_, sx_ = int(m[1, 1] * y + m[1, 2]), int(m[0, 0] * x + m[0, 2])
                    if 0 <= sy_ < src_h and 0 <= sx_ < src_w:
                        expected[i, y, x] = pixels[i, sy_, sx_]
        np.testing.assert_array_equal(got, expected, err_msg=f"{src_h}x{src_w} -> {h}x{w}")


@pytest.mark.parametrize("spec", ["RandomColorJitter(0.5, 0.5, 0.5, 0.5)", "RandomColorJitter(0.4, 0, 0.3, 0)",
                                  "RandomColorJitter(0, 0.5, 0, 0.2)"])
def test_vectorized_jitter_maps_equal_the_steps_one_after_the_other(spec):
    """The batch path composes every sample's random-order steps at once; each must equal that sample's steps
    applied one after the other."""
    transform = build_batch_pipeline(spec, registry=REGISTRY)[0]
    rng = np.random.default_rng(0)
    params = [transform.sample(rng, (32, 32, 3)) for _ in range(64)]
    means = rng.random((64, 3))
    expected = np.stack([transform.color_map(p, m) for p, m in zip(params, means)])
    np.testing.assert_allclose(transform.color_maps(params, means), expected, atol=1e-12)


class PerSampleDarken(gluon_augplug.Transform):
    """The per-sample half of a 0.1 plugin that registered one name through both hooks."""

    def __init__(self, factor: float = 0.5):
        self.factor = factor

    def apply(self, img, layout):
        return (img * self.factor).astype(img.dtype)


class TwinPlugin:
    """A 0.1 plugin: the same name through the per-sample hook and the batch hook."""

    @gluon_augplug.hookimpl
    def augplug_register_transforms(self, register):
        register("Darken", PerSampleDarken)

    @gluon_augplug.hookimpl
    def augplug_register_batch_transforms(self, register):
        register("Darken", Darken)


def test_a_0_1_plugins_twins_become_one_registration(augplug_register, cat):
    record = augplug_register(TwinPlugin(), "twins")
    assert (record.transforms, record.batch_transforms) == (1, 1)
    registry = gluon_augplug.get_registry()
    [info] = [i for i in registry.transforms("twins", kind=None)]
    assert info.kind == "sample+batch" and info.factory is PerSampleDarken and info.batch_factory is Darken
    assert registry.get_transform("Darken", "batch") is info is registry.get_transform("Darken")
    np.testing.assert_array_equal(build_pipeline("Darken(0.5)")(cat), (cat * 0.5).astype(np.uint8))
    batch = build_batch_pipeline("Darken(0.5)")
    assert isinstance(batch[0], Darken)  # the batch spec builds the batch twin
    np.testing.assert_allclose(batch(np.full((2, 4, 4, 3), 200, np.uint8)), 200 / 255 * 0.5, atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_padded_boxes_move_with_the_batch_geometry(backend):
    """GluonCV's padded (B, M, 5+) boxes through flip, pad + crop and a resized crop: each box stays the
    box of its drawn rectangle; boxes that leave become -1 rows; padding rows stay -1."""
    n, h, w = 6, 48, 64
    images = np.zeros((n, h, w, 3), np.uint8)
    boxes = np.full((n, 3, 6), -1.0)
    for i in range(n):
        x0, y0 = 4 + 5 * i, 6 + 3 * i
        images[i, y0:y0 + 16, x0:x0 + 20] = 255
        boxes[i, 0] = [x0, y0, x0 + 20, y0 + 16, i, 0]
    boxes[0, 1] = [60, 0, 64, 2, 9, 0]  # a corner sliver, lost to most crops
    pipe = build_batch_pipeline("RandomFlipLeftRight, RandomCrop((56, 40), pad=4), RandomResizedCrop((64, 48), "
                                "scale=(0.6, 1))", seed=3, registry=REGISTRY)
    data = images if backend == "numpy" else mx.nd.array(images, dtype="uint8")
    out, moved = pipe(data, boxes=boxes if backend == "numpy" else mx.nd.array(boxes))
    if backend == "ndarray":
        assert isinstance(moved, mx.nd.NDArray)
        out, moved = out.asnumpy(), moved.asnumpy()
    assert moved.shape == boxes.shape and (moved[:, 2] == -1).all()
    for i in range(n):
        bright = out[i].max(axis=0) > 0.5
        if not bright.any():
            assert (moved[i, 0] == -1).all()
            continue
        ys, xs = np.nonzero(bright)
        np.testing.assert_allclose(moved[i, 0, :4], [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], atol=1.6)
        assert moved[i, 0, 4] == i  # the class column travels
    # masks and keypoints ride along: the same rectangles as label masks (id 5) and their centres
    masks = (images.max(axis=3) > 0).astype(np.uint8) * 5
    points = np.full((n, 2, 3), -1.0)
    points[:, 0, :2] = (boxes[:, 0, :2] + boxes[:, 0, 2:4]) / 2
    points[:, 0, 2] = 1
    pipe = build_batch_pipeline("RandomFlipLeftRight, RandomCrop((56, 40), pad=4), RandomResizedCrop((64, 48), "
                                "scale=(0.6, 1))", seed=3, registry=REGISTRY)
    result = pipe(data, boxes=boxes, masks=masks if backend == "numpy" else mx.nd.array(masks, dtype="uint8"),
                  keypoints=points)
    out2, moved2, moved_masks, moved_points = (r.asnumpy() if backend == "ndarray" else r for r in result)
    np.testing.assert_array_equal(moved2, moved)  # the same draws as above
    assert moved_masks.dtype == np.uint8 and set(np.unique(moved_masks)) <= {0, 5}
    for i in range(n):
        bright = out2[i].max(axis=0) > 0.5
        if bright.sum() < 20:
            continue
        agree = ((moved_masks[i] == 5) == bright).mean()
        assert agree > 0.97, (i, agree)
        ys, xs = np.nonzero(bright)
        whole = xs.min() > 0 and ys.min() > 0 and xs.max() < 63 and ys.max() < 47
        if whole:
            np.testing.assert_allclose(moved_points[i, 0, :2], [(xs.min() + xs.max() + 1) / 2,
                                                               (ys.min() + ys.max() + 1) / 2], atol=1.6)
        assert (moved_points[i, 1] == -1).all()  # padding stays padding
    with pytest.raises(InputError, match="mixing detection samples"):
        build_batch_pipeline("Mixup(0.2)", registry=REGISTRY)(images, np.arange(n), classes=10, boxes=boxes)
