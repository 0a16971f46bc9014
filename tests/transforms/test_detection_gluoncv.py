"""The detection transforms and presets side by side with GluonCV's own functions, in the same run:
equal where deterministic, equal in distribution where random (the VOC cat and its two boxes)."""
from __future__ import annotations

import random

import mxnet as mx
import numpy as np
import pytest
from gluoncv.data.transforms import bbox as gbbox
from gluoncv.data.transforms import experimental, image as gimage, presets

from gluon_augplug import build_pipeline
from gluon_augplug.transforms import (RandomColorDistort, RandomExpand, RandomInterpolationResize, RandomIoUCrop,
                                      ResizeShortWithin)

BOXES = np.array([[35, 88, 470, 318, 0, 0], [35, 158, 110, 250, 1, 0]], np.float64)  # voc-cat's cat and head


def seed_gluoncv(seed=0):
    random.seed(seed)
    np.random.seed(seed)
    mx.random.seed(seed)


def close(a, b, tol, what):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert abs(a.mean() - b.mean()) < tol, (what, "mean", a.mean(), b.mean())
    assert abs(a.std() - b.std()) < tol, (what, "std", a.std(), b.std())


def test_expand_draws_ratio_and_offset_as_gluoncv(cat):
    n = 1500
    seed_gluoncv()
    src = mx.nd.array(cat[:40, :50], dtype="uint8")
    theirs = [gimage.random_expand(src, max_ratio=4)[1] for _ in range(n)]
    expand = RandomExpand(max_ratio=4, p=1.0)
    rng = np.random.default_rng(0)
    ours = [expand.sample(rng, (40, 50, 3)) for _ in range(n)]
    close([t[2] / 50 for t in theirs], [o["w"] / 50 for o in ours], 0.06, "ratio")
    close([t[0] / max(t[2] - 50, 1) for t in theirs], [o["x0"] / max(o["w"] - 50, 1) for o in ours], 0.03, "offset")
    # the pixels: the same canvas for the same draw
    fill = (123.675, 116.28, 103.53)
    canvas, (x0, y0, w, h) = gimage.random_expand(src.astype("float32"), max_ratio=4, fill=list(fill))
    mine = RandomExpand(fill=fill, p=1.0).apply(cat[:40, :50].astype(np.float32), "HWC", x0=x0, y0=y0, w=w, h=h)
    np.testing.assert_allclose(mine, canvas.asnumpy(), atol=1e-4)


def test_iou_crop_draws_windows_and_keeps_boxes_as_gluoncv():
    n = 1500
    seed_gluoncv()
    size = (500, 400)
    theirs = [experimental.bbox.random_crop_with_constraints(BOXES, size) for _ in range(n)]
    crop = RandomIoUCrop()
    rng = np.random.default_rng(0)
    ours = []
    for _ in range(n):
        params = crop.sample(rng, (400, 500, 3), targets=BOXES)
        kept = crop.apply_boxes(BOXES, params, (400, 500), (params["h"], params["w"]))
        ours.append(((params["x0"], params["y0"], params["w"], params["h"]), kept[crop.keep_boxes(BOXES, params, (400, 500))]))
    close([c[2] * c[3] / 2e5 for _, c in theirs], [c[2] * c[3] / 2e5 for c, _ in ours], 0.03, "window area")
    close([c[2] / c[3] for _, c in theirs], [c[2] / c[3] for c, _ in ours], 0.06, "window aspect")
    close([len(b) for b, _ in theirs], [len(b) for _, b in ours], 0.05, "boxes kept")
    whole = lambda crops: np.mean([c == (0, 0, 500, 400) for c in crops])  # noqa: E731
    assert abs(whole([c for _, c in theirs]) - whole([c for c, _ in ours])) < 0.04
    # the boxes of one window: GluonCV's bbox.crop with allow_outside_center=False
    window = (200, 100, 200, 200)
    params = {"x0": 200, "y0": 100, "w": 200, "h": 200}
    mine = crop.apply_boxes(BOXES, params, (400, 500), (200, 200))[crop.keep_boxes(BOXES, params, (400, 500))]
    mine[:, :4] = np.clip(mine[:, :4], 0, 200)
    np.testing.assert_allclose(mine, gbbox.crop(BOXES, window, allow_outside_center=False))


def test_color_distort_equals_gluoncv_in_distribution(cat):
    n = 1500
    small = mx.nd.array(cat[::10, ::10], dtype="uint8")
    seed_gluoncv()
    theirs = np.stack([np.clip(np.rint(experimental.image.random_color_distort(small).asnumpy()), 0, 255)
                       for _ in range(n)])
    distort = RandomColorDistort()
    rng = np.random.default_rng(0)
    image = small.asnumpy()
    ours = np.stack([distort.apply(image, "HWC", **distort.sample(rng, image.shape)) for _ in range(n)]).astype(float)
    for name, stat in (("mean", lambda d: d.mean(axis=(1, 2, 3))), ("spread", lambda d: d.std(axis=(1, 2, 3))),
                       ("red - blue", lambda d: (d[..., 0] - d[..., 2]).mean(axis=(1, 2)))):
        gap = np.abs(np.percentile(stat(ours), [10, 25, 50, 75, 90]) - np.percentile(stat(theirs), [10, 25, 50, 75, 90]))
        assert gap.max() < 4.0, (name, gap)


def test_color_distort_matrix_is_gluoncvs_steps_in_order():
    rng = np.random.default_rng(1)
    pixels = rng.uniform(0, 255, (50, 3))
    steps = [["brightness", 20.0], ["saturation", 1.3], ["hue", 0.37], ["contrast", 0.8]]
    x = pixels.copy()  # GluonCV's float steps, written out
    x += 20.0
    x = 1.3 * x + (1 - 1.3) * (x @ [0.299, 0.587, 0.114])[:, None]
    u, w = np.cos(0.37 * np.pi), np.sin(0.37 * np.pi)
    tyiq = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.321], [0.211, -0.523, 0.311]])
    ityiq = np.array([[1.0, 0.956, 0.621], [1.0, -0.272, -0.647], [1.0, -1.107, 1.705]])
    x = x @ (ityiq @ np.array([[1, 0, 0], [0, u, -w], [0, w, u]]) @ tyiq).T
    x *= 0.8
    matrix = RandomColorDistort.matrix(steps)
    np.testing.assert_allclose(pixels @ matrix[:, :3].T + matrix[:, 3], x, atol=1e-9)


def test_random_interpolation_resize_picks_each_of_gluoncvs_five_uniformly(cat):
    resize = RandomInterpolationResize(300)
    rng = np.random.default_rng(0)
    picks = [resize.sample(rng, cat.shape)["interpolation"] for _ in range(5000)]
    counts = np.bincount(picks, minlength=5)
    assert len(counts) == 5 and (abs(counts / 5000 - 0.2) < 0.02).all()
    src = mx.nd.array(cat, dtype="uint8")
    for interp in range(5):
        theirs = gimage.imresize(src, 300, 300, interp=interp).asnumpy().astype(int)
        mine = resize.apply(cat, "HWC", interpolation=interp).astype(int)
        assert np.abs(mine - theirs).max() <= 1, interp


@pytest.mark.parametrize("short, max_size, hw", [(600, 1000, (400, 500)), (600, 700, (400, 500)), (300, 1000, (500, 200)),
                                                  (800, 1333, (375, 500))])
def test_resize_short_within_equals_gluoncvs(cat, short, max_size, hw):
    import cv2

    img = cv2.resize(np.ascontiguousarray(cat), (hw[1], hw[0]))
    theirs = gimage.resize_short_within(mx.nd.array(img, dtype="uint8"), short, max_size, interp=1).asnumpy()
    mine = ResizeShortWithin(short, max_size=max_size).apply(img, "HWC", short=short)
    assert mine.shape == theirs.shape
    assert np.abs(mine.astype(int) - theirs.astype(int)).max() <= 1


def gluoncv_outputs(transform, cat, n):
    seed_gluoncv()
    src = mx.nd.array(cat, dtype="uint8")
    return [(img.asnumpy(), np.asarray(b)) for img, b in (transform(src, BOXES) for _ in range(n))]


def our_outputs(preset, cat, n):
    pipe = build_pipeline(preset, seed=0, targets="boxes")
    return [pipe(cat, boxes=BOXES) for _ in range(n)]


def box_statistics(outputs, size):
    w, h = size
    rows = [b for _, b in outputs]
    return {
        "boxes kept": [len(b) for b in rows],
        "cat width": [(b[0, 2] - b[0, 0]) / w for b in rows if len(b) and b[0, 4] == 0],
        "cat left": [b[0, 0] / w for b in rows if len(b) and b[0, 4] == 0],
        "head kept": [float((b[:, 4] == 1).any()) for b in rows],
        "head centre x": [((b[b[:, 4] == 1][0, 0] + b[b[:, 4] == 1][0, 2]) / 2 / w) for b in rows if (b[:, 4] == 1).any()],
        "pixel mean": [img.mean() for img, _ in outputs],
    }


@pytest.mark.parametrize("preset, make, size", [
    ("ssd-train", lambda: presets.ssd.SSDDefaultTrainTransform(300, 300), (300, 300)),
    ("yolo3-train", lambda: presets.yolo.YOLO3DefaultTrainTransform(416, 416), (416, 416)),
])
def test_detection_presets_equal_gluoncvs_train_transforms_in_distribution(cat, preset, make, size):
    n = 500
    theirs = gluoncv_outputs(make(), cat, n)
    ours = our_outputs(preset, cat, n)
    assert ours[0][0].shape == theirs[0][0].shape == (3, size[1], size[0])
    a, b = box_statistics(ours, size), box_statistics(theirs, size)
    for name in a:
        tol = 0.12 if name == "pixel mean" else 0.06
        close(a[name], b[name], tol, f"{preset}: {name}")


def test_faster_rcnn_preset_equals_gluoncvs_transform(cat):
    theirs = gluoncv_outputs(presets.rcnn.FasterRCNNDefaultTrainTransform(600, 1000), cat, 40)
    ours = our_outputs("faster-rcnn-train", cat, 40)
    shapes = {img.shape for img, _ in ours} | {img.shape for img, _ in theirs}
    assert shapes == {(3, 600, 750)}
    # deterministic apart from the flip: each of our outputs is one of GluonCV's two (told apart by where the
    # head box starts), pixels and boxes
    by_head = {round(float(b[1, 0]), 3): (img, b) for img, b in theirs}
    assert len(by_head) == 2
    for img, b in ours:
        their_img, their_boxes = by_head[round(float(b[1, 0]), 3)]
        np.testing.assert_allclose(b, their_boxes, atol=1e-4)
        assert np.abs(img - their_img).max() < 0.03  # within rounding of the resize, after normalization
    heads = [round(float(b[1, 0]), 3) for _, b in ours]
    assert 0.25 < np.mean([h == max(by_head) for h in heads]) < 0.75


@pytest.mark.parametrize("hw", [(400, 500), (200, 250), (280, 350)])
def test_interp_9_is_mxnets_automatic_choice(cat, hw):
    """MXNet's interp=9 (``mx.image._get_interp_method``, which GluonCV's ``imresize`` applies; MXNet's own
    ``imresize`` refuses 9): bicubic when both sides grow, area when both shrink, bilinear otherwise."""
    img = np.ascontiguousarray(cat[: hw[0], : hw[1]])
    for size in ((300, 300), (416, 416), (300, 500)):
        ours = build_pipeline(f"Resize({list(size)}, interpolation=9)")(img)
        theirs = gimage.imresize(mx.nd.array(img, dtype="uint8"), *size, interp=9).asnumpy()
        assert ours.shape == theirs.shape
        assert np.abs(ours.astype(int) - theirs).max() <= 1, (hw, size)


@pytest.mark.parametrize("preset, make, size", [
    ("ssd-val", lambda: presets.ssd.SSDDefaultValTransform(300, 300), 300),
    ("yolo3-val", lambda: presets.yolo.YOLO3DefaultValTransform(416, 416), 416),
    ("yolo3-608-val", lambda: presets.yolo.YOLO3DefaultValTransform(608, 608), 608),
])
def test_detection_val_presets_equal_gluoncvs_val_transforms(cat, preset, make, size):
    for img in (cat, np.ascontiguousarray(cat[:250, :300])):  # shrunk (area) and enlarged (bicubic)
        boxes = BOXES.copy()
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, img.shape[1])
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, img.shape[0])
        their_img, their_boxes = make()(mx.nd.array(img, dtype="uint8"), boxes)[:2]
        our_img, our_boxes = build_pipeline(preset, targets="boxes")(img, boxes=boxes)
        assert our_img.shape == their_img.shape == (3, size, size)
        assert np.abs(our_img - their_img.asnumpy()).max() < 0.03  # one level of 255 after normalization
        np.testing.assert_allclose(our_boxes, their_boxes.asnumpy() if hasattr(their_boxes, "asnumpy") else their_boxes,
                                   atol=1e-3)


def test_faster_rcnn_val_with_im_scale_is_gluoncvs_val_transform(cat):
    from gluon_augplug.data import WithImScale

    src = mx.nd.array(cat, dtype="uint8")
    their_img, their_boxes, their_scale = presets.rcnn.FasterRCNNDefaultValTransform(600, 1000)(src, BOXES.copy())
    img, boxes, im_scale = WithImScale()(src, BOXES)
    assert img.shape == their_img.shape == (3, 600, 750) and isinstance(img, mx.nd.NDArray)
    assert np.abs(img.asnumpy() - their_img.asnumpy()).max() < 0.03  # within rounding of the resize
    np.testing.assert_allclose(boxes, their_boxes, atol=1e-4)
    assert boxes.dtype == np.float32
    np.testing.assert_allclose(im_scale.asnumpy(), their_scale.asnumpy())
    # through a Gluon dataset's transform, as GluonCV's eval loop reads it
    dataset = mx.gluon.data.SimpleDataset([(src, BOXES.copy())]).transform(WithImScale())
    assert float(dataset[0][2].asscalar()) == pytest.approx(400 / 600)


def test_mask_rcnn_preset_moves_instance_masks_as_gluoncvs_transform_moves_polygons(cat):
    """GluonCV's MaskRCNNDefaultTrainTransform resizes and flips each instance's polygons, then rasterises them
    (pycocotools); ours moves the instance masks rasterised before (nearest neighbour): boxes and pixels equal to
    one of GluonCV's two outputs, each mask within a pixel's rim of GluonCV's (IoU >= 0.95), paired with its box."""
    from gluoncv.data.transforms import mask as gmask

    segm = [[np.array([[60, 100], [300, 95], [460, 200], [400, 310], [120, 300], [40, 220]], np.float64)],
            [np.array([[40, 165], [105, 160], [70, 245]], np.float64),
             np.array([[80, 200], [100, 200], [100, 220]], np.float64)]]  # the head: two polygons
    given = np.stack([gmask.to_mask(polys, (500, 400)) for polys in segm])  # (N, H, W), as GluonCV's
    transform = presets.rcnn.MaskRCNNDefaultTrainTransform(600, 1000)
    seed_gluoncv()
    src = mx.nd.array(cat, dtype="uint8")
    theirs = [transform(src, BOXES.copy(), [[p.copy() for p in polys] for polys in segm]) for _ in range(20)]
    by_head = {round(float(b[1, 0]), 3): (img.asnumpy(), b, m.asnumpy()) for img, b, m in theirs}
    assert len(by_head) == 2
    pipe = build_pipeline("mask-rcnn-train", seed=0,
                          targets={"kinds": ["boxes", "masks"], "options": {"instance_masks": True}})
    flips = set()
    for _ in range(12):
        img, boxes, masks = pipe(cat, boxes=BOXES, masks=given)
        their_img, their_boxes, their_masks = by_head[round(float(boxes[1, 0]), 3)]
        flips.add(round(float(boxes[1, 0]), 3))
        np.testing.assert_allclose(boxes, their_boxes, atol=1e-4)
        assert np.abs(img - their_img).max() < 0.03
        assert masks.shape == their_masks.shape == (2, 600, 750) and masks.dtype == np.uint8
        for ours_one, theirs_one in zip(masks, their_masks):
            inter = np.logical_and(ours_one, theirs_one).sum()
            assert inter / np.logical_or(ours_one, theirs_one).sum() >= 0.95
    assert len(flips) == 2
