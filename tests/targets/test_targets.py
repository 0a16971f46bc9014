"""Boxes, masks and keypoints move with the image through every geometric built-in, exactly where the
ground truth is known: a drawn rectangle whose box and mask are exact."""
from __future__ import annotations

import numpy as np
import pytest

from gluon_augplug import Transform, build_pipeline
from gluon_augplug.errors import InputError, InputTypeError, ParameterError, SpecError
from gluon_augplug.targets import TargetOptions
from tests.optional import mx

H, W = 120, 160
RECT = (40, 30, 100, 70)  # x0, y0, x1, y1 in pixel edges


def to_np(array):
    return array.asnumpy() if hasattr(array, "asnumpy") else np.asarray(array)


def scene():
    """A white rectangle on black, its box (class 3, difficult 0), its mask (id 7) and its corners."""
    img = np.zeros((H, W, 3), np.uint8)
    x0, y0, x1, y1 = RECT
    img[y0:y1, x0:x1] = 255
    mask = np.zeros((H, W), np.uint8)
    mask[y0:y1, x0:x1] = 7
    boxes = np.array([[x0, y0, x1, y1, 3, 0]], np.float64)
    corners = np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]], np.float64)
    return img, boxes, mask, corners


def region_box(binary):
    ys, xs = np.nonzero(binary)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], float)


GEOMETRIC = [
    "RandomFlipLeftRight(p=1)", "RandomFlipTopBottom(p=1)", "Resize(80)", "Resize((200, 100))", "CenterCrop(90)",
    "RandomCrop(100, pad=20)", "RandomResizedCrop(96, scale=(0.5, 1))", "RandomRotation(30)",
    "RandomAffine(degrees=20, translate=(0.1, 0.1), scale=(0.8, 1.2), shear=10)",
    "RandomFlipLeftRight, RandomResizedCrop(64), RandomFlipTopBottom",
]


@pytest.mark.parametrize("spec", GEOMETRIC)
def test_boxes_and_masks_follow_the_drawn_rectangle(spec):
    img, boxes, mask, _ = scene()
    pipe = build_pipeline(spec, targets=["boxes", "masks"])
    for seed in range(6):
        out, out_boxes, out_mask = pipe(img, np.random.default_rng(seed), boxes=boxes, masks=mask)
        assert out_mask.dtype == np.uint8 and set(np.unique(out_mask)) <= {0, 7}  # ids never blended
        bright = out.max(axis=2) > 127
        if not bright.any():
            assert len(out_boxes) == 0 or (out_mask == 7).sum() <= 4
            continue
        assert out_boxes.shape[1] == 6 and (out_boxes[:, 4:] == [3, 0]).all()  # extra columns travel
        # the mask agrees with the image pixel for pixel, up to the interpolation at the border
        agree = ((out_mask == 7) == bright).mean()
        assert agree > 0.98, (spec, seed, agree)
        seen = region_box(bright)
        box = out_boxes[0, :4]
        if spec.startswith(("RandomRotation", "RandomAffine")):
            # a rotated box is the enclosing box of its moved corners: it contains the region
            assert (box[:2] <= seen[:2] + 1.5).all() and (box[2:] >= seen[2:] - 1.5).all(), (spec, seed, box, seen)
        else:
            np.testing.assert_allclose(box, seen, atol=1.5, err_msg=f"{spec} seed {seed}")


@pytest.mark.parametrize("op, value", [("ShearX", 0.3), ("ShearY", -0.25), ("TranslateX", 20.0),
                                       ("TranslateY", -15.0), ("Rotate", 25.0), ("Posterize", 4)])
def test_policy_operations_move_targets_as_they_move_pixels(op, value):
    """The geometric operations inside AutoAugment/RandAugment/TrivialAugmentWide move the targets; their
    colour operations (which can turn the rectangle dark) leave them."""
    img, boxes, mask, _ = scene()
    policy = build_pipeline("RandAugment").transforms[0]
    params = {"ops": [[op, value], ["AutoContrast", None]]}
    out = policy.apply(img, "HWC", **params)
    out_mask = policy.apply_mask(mask, params, (H, W), (H, W))
    box = policy.apply_boxes(boxes, params, (H, W), (H, W))[0, :4]
    region = out.max(axis=2) > 127
    assert ((out_mask == 7) == region).mean() > 0.98
    seen = region_box(out_mask == 7)
    assert (box[:2] <= seen[:2] + 1.5).all() and (box[2:] >= seen[2:] - 1.5).all()
    if op.startswith("Translate") or op == "Posterize":
        np.testing.assert_allclose(box, seen, atol=1.0)


def test_whole_policies_keep_mask_ids_and_boxes_around_the_mask():
    img, boxes, mask, _ = scene()
    for spec in ("RandAugment(3, 9)", "TrivialAugmentWide", "AutoAugment(policy='cifar10')"):
        pipe = build_pipeline(spec, targets=["boxes", "masks"])
        for seed in range(10):
            _, out_boxes, out_mask = pipe(img, np.random.default_rng(seed), boxes=boxes, masks=mask)
            assert set(np.unique(out_mask)) <= {0, 7}
            if (out_mask == 7).sum() > 20:
                seen, box = region_box(out_mask == 7), out_boxes[0, :4]
                assert (box[:2] <= seen[:2] + 1.5).all() and (box[2:] >= seen[2:] - 1.5).all(), (spec, seed)


@pytest.mark.parametrize("spec", ["RandomColorJitter(0.5, 0.5, 0.5, 0.5)", "RandomGrayscale(p=1)", "Cutout(40)",
                                  "RandomErasing(p=1)", "GaussianBlur", "Equalize(p=1)", "ToTensor",
                                  "ToTensor, Normalize(0.5, 0.2)"])
def test_pixel_transforms_leave_targets_exactly_as_they_were(spec):
    img, boxes, mask, corners = scene()
    out, out_boxes, out_mask, points = build_pipeline(spec, seed=0)(img, boxes=boxes, masks=mask, keypoints=corners[:2])
    np.testing.assert_array_equal(out_boxes, boxes)
    np.testing.assert_array_equal(out_mask, mask)
    np.testing.assert_array_equal(points, corners[:2])


def test_a_flip_moves_boxes_keypoints_and_masks_as_gluoncv_flips_boxes():
    img, boxes, mask, corners = scene()
    _, out_boxes, out_mask, points = build_pipeline("RandomFlipLeftRight(p=1)")(
        img, boxes=boxes, masks=[mask, mask[:, :, None].repeat(3, axis=2)], keypoints=corners)
    x0, y0, x1, y1 = RECT
    np.testing.assert_array_equal(out_boxes[0, :4], [W - x1, y0, W - x0, y1])  # GluonCV's bbox.flip
    np.testing.assert_array_equal(out_mask[0], mask[:, ::-1])
    np.testing.assert_array_equal(out_mask[1][:, :, 2], mask[:, ::-1])  # (H, W, K) masks too
    np.testing.assert_array_equal(points[:, 0], W - corners[:, 0])


@pytest.mark.parametrize("fmt", ["coco", "yolo", "xyxy_norm", "pascal_voc"])
def test_box_formats_give_the_same_boxes(fmt):
    from gluon_augplug.targets import from_xyxy, to_xyxy

    img, boxes, _, _ = scene()
    spec = "RandomResizedCrop(96), RandomFlipLeftRight"
    reference = build_pipeline(spec, seed=3)(img, boxes=boxes)[1]
    given = from_xyxy(boxes, "xyxy" if fmt == "pascal_voc" else fmt, (H, W))
    pipe = build_pipeline(spec, seed=3, targets={"kinds": ["boxes"], "options": {"box_format": fmt}})
    got = pipe(img, boxes=given)[1]
    back = to_xyxy(got, pipe.target_options.box_format, (96, 96))
    np.testing.assert_allclose(back, reference, atol=1e-9)


def test_clip_min_area_and_min_visibility_drop_whole_rows():
    img = np.zeros((100, 100, 3), np.uint8)
    boxes = np.array([[10, 10, 20, 20, 1], [80, 10, 100, 30, 2], [40, 40, 60, 60, 3]], float)
    crop = build_pipeline("CenterCrop(50)")  # window 25..75: boxes 1 and 2 fall outside, box 3 stays
    np.testing.assert_array_equal(crop(img, boxes=boxes)[1], [[15, 15, 35, 35, 3]])
    half = np.array([[0, 40, 40, 60, 9]], float)  # 15 of its 40 pixels of width stay inside the window
    assert len(crop(img, boxes=half)[1]) == 1
    strict = build_pipeline("CenterCrop(50)", targets={"kinds": "boxes", "options": {"min_visibility": 0.5}})
    assert len(strict(img, boxes=half)[1]) == 0
    big = build_pipeline("CenterCrop(50)", targets={"options": {"min_area": 400}})
    assert len(big(img, boxes=half)[1]) == 0 and len(big(img, boxes=boxes)[1]) == 1


def test_keypoints_leaving_the_image_are_dropped_marked_or_kept():
    img = np.zeros((100, 100, 3), np.uint8)
    points = np.array([[50, 50], [5, 5]], float)
    spec = "CenterCrop(50)"
    np.testing.assert_array_equal(build_pipeline(spec)(img, keypoints=points)[1], [[25, 25]])
    marked = build_pipeline(spec, targets={"options": {"keypoints_outside": "mark"}})(img, keypoints=points)[1]
    np.testing.assert_array_equal(marked, [[25, 25, 1], [-20, -20, 0]])
    kept = build_pipeline(spec, targets={"options": {"keypoints_outside": "keep"}})(img, keypoints=points)[1]
    np.testing.assert_array_equal(kept, [[25, 25], [-20, -20]])


def test_a_record_replays_onto_boxes_masks_and_keypoints_alone():
    img, boxes, mask, corners = scene()
    pipe = build_pipeline("RandomResizedCrop(64), RandomRotation(20), RandomColorJitter(0.5, 0.5)", seed=0)
    result = pipe.apply(img, boxes=boxes, masks=mask, keypoints=corners)
    steps = result.record["children"]
    assert result.record["in_hw"] == [H, W] and steps[0]["in_hw"] == [H, W] and steps[0]["out_hw"] == [64, 64]
    again_boxes, again_mask, again_points = pipe.replay_targets(result.record, boxes=boxes, masks=mask,
                                                                keypoints=corners)
    np.testing.assert_array_equal(again_boxes, result.boxes)
    np.testing.assert_array_equal(again_mask, result.masks)  # no colour step touched it
    np.testing.assert_array_equal(again_points, result.keypoints)
    np.testing.assert_array_equal(pipe.replay_targets(result.record, masks=mask), result.masks)


@pytest.mark.pinned
def test_targets_keep_the_callers_types():
    import mxnet as mx

    img, boxes, mask, _ = scene()
    out, out_boxes, out_mask = build_pipeline("RandomFlipLeftRight(p=1)")(
        mx.nd.array(img, dtype="uint8"), boxes=mx.nd.array(boxes), masks=mx.nd.array(mask, dtype="uint8"))
    assert isinstance(out_boxes, mx.nd.NDArray) and out_boxes.dtype == np.float32
    assert isinstance(out_mask, mx.nd.NDArray) and out_mask.dtype == np.uint8
    assert build_pipeline("Resize(10)")(img, boxes=boxes.astype(np.float32))[1].dtype == np.float32


class Twirl(Transform):
    """A plugin's warp that says nothing about targets."""

    def apply(self, img, layout):
        return img[::-1].copy()


class Swirl(Transform):
    """A plugin's warp that says it is geometric, but moves only boxes."""

    targets = "geometric"

    def apply(self, img, layout):
        return img[::-1].copy()

    def apply_boxes(self, boxes, params, in_hw, out_hw):
        out = boxes.copy()
        out[:, [1, 3]] = in_hw[0] - boxes[:, [3, 1]]
        return out


def test_a_transform_that_cannot_move_targets_is_named_at_build_time():
    img, boxes, mask, _ = scene()
    with pytest.raises(SpecError, match="Twirl does not say how it treats boxes"):
        build_pipeline(["RandomFlipLeftRight", Twirl()], targets="boxes")
    with pytest.raises(SpecError, match="Twirl does not say how it treats boxes"):
        build_pipeline(["RandomFlipLeftRight", Twirl()])(img, boxes=boxes)  # before any image is touched
    build_pipeline([Twirl()])(img)  # without targets it works as before
    assert build_pipeline([Swirl()], targets="boxes")(img, boxes=boxes)[1][0, 1] == H - RECT[3]
    with pytest.raises(SpecError, match="Swirl is geometric but cannot move masks: it implements neither geometry"):
        build_pipeline([Swirl()], targets=["boxes", "masks"])


def test_bad_target_input_is_a_clear_error():
    img, boxes, mask, _ = scene()
    pipe = build_pipeline("RandomFlipLeftRight")
    with pytest.raises(InputTypeError, match="the second argument is a random generator or a label, got builtins.str"):
        pipe(img, "boxes")
    with pytest.raises(InputTypeError, match=r"a label of shape \(1, 3\) is neither a mask .* 120x160"):
        pipe(img, boxes[:, :3])
    with pytest.raises(InputError, match=r"expected an \(N, 4\+\) array of boxes"):
        pipe(img, boxes=boxes[:, :3])
    with pytest.raises(InputError, match="mask 0: expected an .* of the image's size 120x160"):
        pipe(img, masks=mask[:60])
    with pytest.raises(ParameterError, match="box_format"):
        TargetOptions(box_format="xywh")
    with pytest.raises(ParameterError, match="min_visibility"):
        TargetOptions(min_visibility=2)
    with pytest.raises(InputError, match="did you mean 'min_area'"):
        build_pipeline("RandomFlipLeftRight", targets={"options": {"min_aera": 3}})


@pytest.mark.pinned
def test_a_pipeline_is_the_fn_of_gluon_dataset_transform():
    """``dataset.transform(pipeline)`` calls ``pipeline(img, label)`` on (img, label) items, as GluonCV's transforms."""
    from mxnet.gluon.data import SimpleDataset
    img, boxes, mask, _ = scene()
    flip = build_pipeline("RandomFlipLeftRight(p=1)")
    seg = SimpleDataset([(img, mask), (mx.nd.array(img, dtype="uint8"), mx.nd.array(mask, dtype="uint8"))])
    for out_img, out_mask in seg.transform(flip):
        assert np.array_equal(to_np(out_mask), mask[:, ::-1]) and np.array_equal(to_np(out_img), img[:, ::-1])
    det = SimpleDataset([(img, boxes), (img, boxes.tolist())]).transform(flip)
    for out_img, out_boxes in det:
        assert to_np(out_img).shape == img.shape
        assert np.array_equal(np.asarray(out_boxes)[0], [W - RECT[2], RECT[1], W - RECT[0], RECT[3], 3, 0])
    cls = SimpleDataset([(img, 4), (img, np.float32(2.0)), (img, np.array([5.0]))]).transform(flip)
    assert [float(np.asarray(label).ravel()[0]) for _, label in cls] == [4.0, 2.0, 5.0]
    seeded = build_pipeline("RandomFlipLeftRight", seed=3)
    again = build_pipeline("RandomFlipLeftRight", seed=3)
    assert all(np.array_equal(seeded(img, mask)[1], again.apply(img, masks=[mask]).masks[0]) for _ in range(6))


def test_an_unknown_target_kind_is_named_with_the_kinds_everywhere_targets_are_declared():
    from gluon_augplug import augment
    from gluon_augplug.batch import build_batch_pipeline

    for build in (lambda: build_pipeline("RandomFlipLeftRight", targets=["boxes", "segm"]),
                  lambda: build_batch_pipeline("RandomFlipLeftRight", targets=["boxes", "segm"]),
                  lambda: augment([(np.zeros((8, 8, 3), np.uint8), 0)], "RandomFlipLeftRight", targets="segm")):
        with pytest.raises(InputError, match="unknown target kind 'segm'; the kinds are boxes, masks, keypoints, "
                                             "polygons"):
            build()
