"""Polygons as a target kind: moved exactly (every vertex through the step's map), dropped with their box, and
rasterised as GluonCV's Mask R-CNN transform rasterises them (the same pycocotools calls)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from gluoncv.data.transforms import mask as gmask

from gluon_augplug import Transform, augment, build_pipeline
from gluon_augplug.errors import InputError, SpecError
from gluon_augplug.targets import rasterize_polygons
from gluon_augplug.testing.samples import cat_image

BOXES = np.array([[35, 88, 470, 318, 0], [35, 158, 110, 250, 1]], np.float64)  # the VOC cat's cat and head
SEGM = [[np.array([[60, 100], [300, 95], [460, 200], [400, 310], [120, 300], [40, 220]], np.float64)],
        [np.array([[40, 165], [105, 160], [70, 245]], np.float64), [80, 200, 100, 200, 100, 220]]]  # flat too


def test_a_flip_and_resize_move_every_vertex_exactly():
    img = cat_image()
    pipe = build_pipeline("RandomFlipLeftRight(p=1), Resize([250, 200])", targets=["boxes", "polygons"])
    out, boxes, polygons = pipe(img, boxes=BOXES, polygons=SEGM)
    assert out.shape == (200, 250, 3) and len(polygons) == 2 and [len(p) for p in polygons] == [1, 2]
    expected = np.array(SEGM[0][0]) * [-0.5, 0.5] + [250, 0]  # x -> (500 - x) / 2, y -> y / 2
    np.testing.assert_allclose(polygons[0][0], expected, atol=1e-9)
    np.testing.assert_allclose(polygons[1][1], np.array([[80, 200], [100, 200], [100, 220]]) * [-0.5, 0.5] + [250, 0])


def test_a_dropped_box_drops_its_polygons_and_a_rotation_moves_them_with_the_pixels():
    img = cat_image()
    crop = build_pipeline("CenterCrop(200)", targets=["boxes", "polygons"])
    _, boxes, polygons = crop(img, boxes=BOXES, polygons=SEGM)
    assert boxes[:, 4].tolist() == [0.0] and len(polygons) == 1 and len(polygons[0][0]) == 6  # the head left
    rotate = build_pipeline("RandomRotation(40)", seed=1, targets=["polygons", "masks"])
    given = rasterize_polygons(SEGM, img.shape[:2])
    for _ in range(4):
        _, masks, moved = rotate(img, masks=list(given), polygons=SEGM)
        drawn = rasterize_polygons(moved, masks[0].shape)
        for a, b in zip(masks, drawn):  # the mask moved by nearest neighbour against the moved outline redrawn
            assert np.logical_and(a, b).sum() / np.logical_or(a, b).sum() > 0.95


def test_rasterising_is_gluoncvs_to_mask_and_opencv_is_within_a_rim():
    ours = rasterize_polygons(SEGM, (400, 500))
    theirs = np.stack([gmask.to_mask([np.asarray(p, np.float64).reshape(-1, 2) for p in polys], (500, 400))
                       for polys in SEGM])
    np.testing.assert_array_equal(ours, theirs)
    fallback = rasterize_polygons(SEGM, (400, 500), backend="opencv")
    for a, b in zip(fallback, ours):  # OpenCV fills every pixel the outline touches: they differ on the rim alone
        differ = a != b
        inside, outside = cv2.distanceTransform(b, cv2.DIST_L2, 3), cv2.distanceTransform(1 - b, cv2.DIST_L2, 3)
        assert differ.any() and inside[differ].max() <= 1 and outside[differ].max() <= 2.5  # 2.3 at a sharp vertex


def test_the_mask_rcnn_preset_with_polygons_is_gluoncvs_transform(cat):
    import mxnet as mx
    import random
    from gluoncv.data.transforms import presets

    random.seed(0)
    np.random.seed(0)
    segm = [[np.asarray(p, np.float64).reshape(-1, 2) for p in polys] for polys in SEGM]
    transform = presets.rcnn.MaskRCNNDefaultTrainTransform(600, 1000)
    src = mx.nd.array(cat, dtype="uint8")
    theirs = {}
    for _ in range(20):
        img, b, m = transform(src, BOXES.copy(), [[p.copy() for p in polys] for polys in segm])
        theirs[round(float(b[1, 0]), 3)] = (img.asnumpy(), m.asnumpy())
    pipe = build_pipeline("mask-rcnn-train", seed=0, targets=["boxes", "polygons"])
    seen = set()
    for _ in range(10):
        img, boxes, polygons = pipe(cat, boxes=BOXES, polygons=SEGM)
        their_img, their_masks = theirs[round(float(boxes[1, 0]), 3)]
        seen.add(round(float(boxes[1, 0]), 3))
        assert np.abs(img - their_img).max() < 0.03
        np.testing.assert_array_equal(rasterize_polygons(polygons, img.shape[1:]), their_masks)  # exact
    assert len(seen) == 2


def test_polygons_through_augment_for_gluoncvs_instance_items():
    import mxnet as mx

    dataset = mx.gluon.data.SimpleDataset([(cat_image(), BOXES.astype(np.float32), SEGM)])
    train = augment(dataset, "RandomFlipLeftRight, CenterCrop(300)", seed=0, targets=("boxes", "polygons"))
    img, boxes, polygons = train[0]
    assert len(polygons) == len(boxes) and img.shape == (300, 300, 3)


def test_bad_polygons_and_steps_that_cannot_move_them_are_named():
    img = cat_image()
    pipe = build_pipeline("RandomFlipLeftRight", targets=["boxes", "polygons"])
    with pytest.raises(InputError, match=r"polygons: 1 instances for 2 boxes; give one list of polygons per box"):
        pipe(img, boxes=BOXES, polygons=SEGM[:1])
    with pytest.raises(InputError, match=r"polygons\[1\]\[0\]: expected a \(K, 2\) array of x, y with K >= 3"):
        pipe(img, polygons=[SEGM[0], [np.zeros((2, 2))]])
    with pytest.raises(InputError, match=r"polygons\[0\]\[0\]: holds a value that is not a finite number"):
        pipe(img, polygons=[[np.array([[0, 0], [1, np.nan], [2, 2]])]])
    with pytest.raises(InputError, match="polygons move per sample"):
        from gluon_augplug.batch import build_batch_pipeline
        build_batch_pipeline("RandomFlipLeftRight", targets=["polygons"])
    with pytest.raises(InputError, match="backend='x' is invalid"):
        rasterize_polygons(SEGM, (10, 10), backend="x")

    class DropsPoints(Transform):
        """A geometric step whose own apply_keypoints drops the points it deems hidden."""

        targets = "geometric"

        def apply(self, img, layout):
            return img

        def apply_keypoints(self, points, params, in_hw, out_hw):
            return points[1:]

    drops = build_pipeline([DropsPoints()])
    with pytest.raises(SpecError, match="DropsPoints cannot move polygons: its apply_keypoints dropped or lost"):
        drops(img, polygons=SEGM)


def test_a_plugins_target_problem_from_before_polygons_lets_them_move_as_its_keypoints():
    """0.1-era overrides index a table of the kinds they knew; asked about polygons they raise KeyError."""

    class OldFlip(Transform):
        """A mirror whose target_problem predates the polygons kind."""

        targets = "geometric"
        known = {"boxes": None, "masks": None, "keypoints": None}

        def apply(self, img, layout):
            return img[:, ::-1]

        def geometry(self, params, in_hw, out_hw):
            h, w = in_hw
            return np.array([[-1.0, 0, w], [0, 1, 0], [0, 0, 1]])

        def target_problem(self, kinds):
            return next((self.known[k] for k in kinds), None)

    img = cat_image()
    _, polygons = build_pipeline([OldFlip()], targets=["polygons"])(img, polygons=SEGM)
    np.testing.assert_allclose(polygons[0][0], np.array(SEGM[0][0]) * [-1, 1] + [500, 0])

    class RefusesThem(OldFlip):
        """A tile shuffle would refuse polygons though it moves single points."""

        def target_problem(self, kinds):
            return "tiles tear outlines apart" if "polygons" in kinds else None

    with pytest.raises(SpecError, match="tiles tear outlines apart"):
        build_pipeline([RefusesThem()], targets=["polygons"])
    build_pipeline([RefusesThem()], targets=["keypoints"])
