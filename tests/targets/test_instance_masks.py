"""Instance masks tied to box rows (``instance_masks=True``): a box a step drops takes its mask with it, per sample
and in batches, so the masks that come back are the kept boxes' masks, in their order. Each drawn instance's mask
fills its box exactly, so a mask paired with the wrong box shows."""
from __future__ import annotations

import numpy as np
import pytest

from gluon_augplug import augment, build_pipeline
from gluon_augplug.batch import build_batch_pipeline
from gluon_augplug.errors import InputError, ParameterError
from gluon_augplug.targets import TargetOptions
from gluon_augplug.testing.samples import cat_image
from tests.optional import mx

INSTANCE = {"kinds": ["boxes", "masks"], "options": {"instance_masks": True}}


def instances():
    """The cat photo, four boxes of different sizes (class in column 4) and one ellipse mask per box, inscribed."""
    img = cat_image()
    h, w = img.shape[:2]
    boxes = np.array([[20, 30, 120, 110, 0], [300, 40, 480, 200, 1], [150, 220, 260, 360, 2],
                      [420, 300, 495, 370, 3]], np.float64)
    ys, xs = np.mgrid[0:h, 0:w] + 0.5
    masks = np.zeros((len(boxes), h, w), np.uint8)
    for i, (x0, y0, x1, y1, _) in enumerate(boxes):
        cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
        masks[i] = ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2 <= 1
    return img, boxes, masks


def mask_box(mask):
    ys, xs = np.nonzero(mask)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float64)


def assert_paired(boxes, masks, tolerance=1.5):
    assert len(boxes) == len(masks)
    for box, mask in zip(boxes, masks):
        assert mask.any(), f"the mask of box {box.tolist()} is empty"
        # the inscribed ellipse touches its box's sides (less where a crop cut the box)
        inside = mask_box(mask)
        assert np.all(inside[:2] >= box[:2] - tolerance) and np.all(inside[2:] <= box[2:4] + tolerance), \
            (box.tolist(), inside.tolist())


@pytest.mark.parametrize("spec", [
    "RandomFlipLeftRight(p=1), CenterCrop(200)",  # drops the boxes outside the centre
    "CenterCrop(300), PadIfNeeded(360, mask_fill=255)",  # the pad's own fill: masks warped apart from the boxes
    "RandomResizedCrop(224, scale=(0.1, 0.4))",
    "RandomIoUCrop, Resize(300)",
])
def test_a_dropped_box_takes_its_mask_and_the_rest_stay_paired(spec):
    img, boxes, masks = instances()
    pipe = build_pipeline(spec, seed=0, targets=INSTANCE)
    dropped = 0
    for _ in range(6):
        result = pipe.apply(img, boxes=boxes, masks=masks)
        assert isinstance(result.masks, np.ndarray) and result.masks.dtype == np.uint8
        assert result.masks.shape == (len(result.boxes),) + result.image.shape[:2]
        masks_out = np.where(result.masks == 255, 0, result.masks)  # the pad's ignore label is not the instance
        assert_paired(result.boxes, masks_out)
        # which box each mask belongs to: the class column travels with the box, the mask's area with the mask
        dropped += len(boxes) - len(result.boxes)
    if spec.startswith(("RandomFlip", "CenterCrop")):
        assert dropped > 0


@pytest.mark.pinned
def test_the_final_filters_drop_masks_too_and_every_given_form_comes_back_in_kind():
    img, boxes, masks = instances()
    options = {"kinds": ["boxes", "masks"], "options": {"instance_masks": True, "min_visibility": 0.5}}
    pipe = build_pipeline("CenterCrop(300)", targets=options)
    result = pipe.apply(img, boxes=boxes, masks=masks)
    kept = result.boxes[:, 4].astype(int).tolist()
    assert kept == [1, 2]  # 20% of box 0 is left, 55% of box 1, 84% of box 2, none of box 3
    assert_paired(result.boxes, result.masks)
    as_list = pipe.apply(img, boxes=boxes, masks=list(masks))
    assert isinstance(as_list.masks, list) and len(as_list.masks) == 2
    np.testing.assert_array_equal(np.stack(as_list.masks), result.masks)
    as_nd = pipe.apply(img, boxes=boxes, masks=mx.nd.array(masks, dtype=np.uint8))
    assert isinstance(as_nd.masks, mx.nd.NDArray)
    np.testing.assert_array_equal(as_nd.masks.asnumpy(), result.masks)
    none_kept = pipe.apply(img, boxes=boxes[3:], masks=masks[3:])
    assert none_kept.boxes.shape[0] == 0 and none_kept.masks.shape == (0, 300, 300)


def test_label_masks_are_unchanged_by_default():
    img, boxes, masks = instances()
    label = masks.max(axis=0)
    result = build_pipeline("CenterCrop(200)", targets=["boxes", "masks"]).apply(img, boxes=boxes, masks=label)
    assert result.masks.shape == (200, 200)  # one label map, whatever the boxes do


def test_bad_instance_masks_are_named():
    img, boxes, masks = instances()
    pipe = build_pipeline("RandomFlipLeftRight", targets=INSTANCE)
    with pytest.raises(InputError, match=r"instance_masks: 3 masks for 4 boxes; give one \(H, W\) mask per box"):
        pipe.apply(img, boxes=boxes, masks=masks[:3])
    with pytest.raises(InputError, match="the masks belong to boxes, one mask per box: pass the boxes too"):
        pipe.apply(img, masks=masks)
    with pytest.raises(InputError, match=r"mask 0 has shape \(400, 500, 1\); each instance mask is one \(H, W\)"):
        pipe.apply(img, boxes=boxes, masks=list(masks[:, :, :, None]))
    with pytest.raises(ParameterError, match="instance_masks"):
        TargetOptions(instance_masks="yes")


def test_batches_zero_the_mask_of_a_box_that_left_and_equal_the_per_sample_path():
    img, boxes, masks = instances()
    n, m = 3, 6
    batch_boxes = np.full((n, m, 5), -1.0)
    batch_masks = np.zeros((n, m) + img.shape[:2], np.uint8)
    for i in range(n):  # sample i has its boxes in rows i.., padding around them
        batch_boxes[i, i:i + 4] = boxes
        batch_masks[i, i:i + 4] = masks
    spec = "RandomFlipLeftRight, RandomResizedCrop(224, scale=(0.2, 0.6))"
    pipe = build_batch_pipeline(spec, seed=3, targets=INSTANCE)
    data, moved_boxes, moved_masks = pipe(np.stack([img] * n), boxes=batch_boxes, masks=batch_masks)
    assert moved_masks.shape == (n, m, 224, 224) and moved_masks.dtype == np.uint8
    assert (moved_boxes[:, :, 0] == -1).any()  # some box left
    for i in range(n):
        rows = moved_boxes[i, :, 0] != -1
        assert not moved_masks[i, ~rows].any()  # padding and boxes that left: zero masks
        assert_paired(moved_boxes[i, rows], moved_masks[i, rows], tolerance=2.5)
    with pytest.raises(InputError, match=r"batch instance masks: expected \(3, 6, 400, 500\), one mask per box row"):
        pipe(np.stack([img] * n), boxes=batch_boxes, masks=batch_masks[:, :4])


def test_batches_swap_declared_flip_pairs_as_samples_do():
    img = cat_image()
    points = np.array([[[100.0, 80.0], [300.0, 90.0], [200.0, 250.0]]] * 4)
    targets = {"kinds": ["keypoints"], "options": {"flip_pairs": [[0, 1]]}}
    pipe = build_batch_pipeline("RandomFlipLeftRight(p=1)", targets=targets)
    _, moved = pipe(np.stack([img] * 4), keypoints=points)
    per_sample = build_pipeline("RandomFlipLeftRight(p=1)", targets=targets).apply(img, keypoints=points[0])
    for sample in moved:
        np.testing.assert_allclose(sample, per_sample.keypoints)
    np.testing.assert_allclose(moved[0, 0], [500 - 300.0, 90.0])  # row 0 (left) holds the mirrored right joint
    with pytest.raises(InputError, match="keypoints_outside='mark': in a batch every point keeps its row"):
        build_batch_pipeline("RandomFlipLeftRight", targets={"options": {"keypoints_outside": "mark"}})(
            np.stack([img] * 4), keypoints=points)


@pytest.mark.pinned
def test_the_coco_readers_channels_last_masks_through_augment():
    """COCODetection(masks=True) gives (H, W, N) masks; augment() takes the options with the kinds."""
    img, boxes, masks = instances()
    dataset = mx.gluon.data.SimpleDataset([(img, boxes.astype(np.float32), masks.transpose(1, 2, 0))])
    targets = {"kinds": ["boxes", "masks"], "options": {"instance_masks": True}}
    train = augment(dataset, "RandomFlipLeftRight, CenterCrop(300)", seed=0, targets=targets)
    out, moved_boxes, moved_masks = train[0]
    assert moved_masks.shape == (300, 300, len(moved_boxes)) and 0 < len(moved_boxes) < 4
    assert_paired(moved_boxes, moved_masks.transpose(2, 0, 1))
    mask_rcnn = augment(dataset, "mask-rcnn-train", seed=0, targets=targets)
    out, moved_boxes, moved_masks = mask_rcnn[0]
    assert out.shape == (3, 600, 750) and moved_masks.shape == (600, 750, 4)
    assert_paired(moved_boxes, moved_masks.transpose(2, 0, 1), tolerance=2.0)
    with pytest.raises(InputError, match="target options given to augment\\(\\) differ from the built pipeline's"):
        augment(dataset, build_pipeline("RandomFlipLeftRight"), targets=targets)
