"""Views by name and from specs, mapped back and merged: the numpy backend (the core without MXNet), with a
label map, a detector whose answer is known, and a plugin's geometric transform as a view."""
from __future__ import annotations

import numpy as np
import pytest

import gluon_augplug
from gluon_augplug import Transform
from gluon_augplug import params as P
from gluon_augplug.targets.geometry import invert_affine, warp_boxes, warp_image
from gluon_augplug.tta.merge import iou_matrix
from gluon_augplug.tta import TTA, ViewError, get_views, leaf_count, merged_views, spec_view, view_names

BOX = (23, 17, 61, 49)  # x0, y0, x1, y1 of the painted rectangle (pixel edges)


class ShearX(Transform):
    """The write-a-plugin tutorial's geometric op: x -> x + k (y - H / 2)."""

    target_mode = "geometric"
    shear = P.Range(0.3, -1.0, 1.0, symmetric_from=0, doc="shear factor")

    def sample(self, rng, shape):
        return {"k": float(rng.uniform(*self.shear))}

    def geometry(self, params, in_hw, out_hw):
        k = params["k"]
        return np.array([[1.0, k, -k * in_hw[0] / 2], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])

    def apply(self, img, layout, k=0.0):
        hw = img.shape[:2]
        return warp_image(img, self.geometry({"k": k}, hw, hw), hw)


class Squiggle(Transform):
    """Moves pixels and boxes, but has no geometry(): its outputs cannot be mapped back."""

    target_mode = "geometric"

    def sample(self, rng, shape):
        return {}

    def apply(self, img, layout):
        return np.roll(img, 3, axis=1)

    def apply_boxes(self, boxes, params, in_hw, out_hw):
        return boxes


class Collapse(Transform):
    """Every row becomes the middle row: a map with no inverse."""

    target_mode = "geometric"

    def sample(self, rng, shape):
        return {}

    def geometry(self, params, in_hw, out_hw):
        return np.array([[1.0, 0.0, 0.0], [0.0, 0.0, in_hw[0] / 2], [0.0, 0.0, 1.0]])

    def apply(self, img, layout):
        return np.repeat(img[img.shape[0] // 2][None], img.shape[0], axis=0)


class Tilt(Collapse):
    """A perspective map: not affine."""

    def geometry(self, params, in_hw, out_hw):
        return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.001, 0.0, 1.0]])


@pytest.fixture
def shear_plugin(plugin_system):
    class Plugin:
        @gluon_augplug.hookimpl
        def augplug_register_transforms(self, register):
            register("ShearX", ShearX)
            register("Squiggle", Squiggle)
            register("Collapse", Collapse)
            register("Tilt", Tilt)

    plugin_system.add_plugin(Plugin(), "shears")
    return plugin_system


def scene(h=72, w=96, n=2):
    """A batch of n (3, h, w) images: black, with one red rectangle at BOX."""
    x = np.zeros((n, 3, h, w), np.float32)
    x0, y0, x1, y1 = BOX
    x[:, 0, y0:y1, x0:x1] = 1.0
    return x


def label_scores(h=72, w=96, n=2):
    """One-hot scores (n, 3, h, w) of a label map: background, the rectangle, a stripe."""
    labels = np.zeros((h, w), np.int64)
    x0, y0, x1, y1 = BOX
    labels[y0:y1, x0:x1] = 1
    labels[:, -12:] = 2
    return np.repeat(np.eye(3, dtype=np.float32)[labels].transpose(2, 0, 1)[None], n, axis=0), labels


def red_detector(batch):
    """GluonCV's detection outputs (ids, scores, boxes) of the red rectangle: the box of pixels whose red channel
    is above 0.5, class 0, score 1; none (-1) where there is no red."""
    n = batch.shape[0]
    ids, scores, boxes = -np.ones((n, 1, 1)), -np.ones((n, 1, 1)), -np.ones((n, 1, 4))
    for i in range(n):
        ys, xs = np.nonzero(batch[i, 0] > 0.5)
        if len(xs):
            ids[i, 0, 0], scores[i, 0, 0] = 0, 1.0
            boxes[i, 0] = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    return ids, scores, boxes


def test_named_sets_are_listed_with_their_passes():
    assert {"flip", "five-crop", "ten-crop", "three-crop", "multi-scale", "multi-eval", "sliding-window",
            "random", "identity"} <= set(view_names())
    assert merged_views("ten-crop(32)", (40, 48)) == [
        "crop center 32x32", "crop top-left 32x32", "crop bottom-left 32x32", "crop top-right 32x32",
        "crop bottom-right 32x32", "crop center 32x32 flipped", "crop top-left 32x32 flipped",
        "crop bottom-left 32x32 flipped", "crop top-right 32x32 flipped", "crop bottom-right 32x32 flipped"]
    assert leaf_count("flip", (32, 32)) == 2 and leaf_count("five-crop(24)", (32, 32)) == 5
    # MultiEvalModel's defaults on a 500 x 375 image: 6 scales, tiles above the crop, each with its mirror
    assert leaf_count("multi-scale", (375, 500)) == 2 * (1 + 1 + 2 + 4 + 4 + 6)


def test_ten_crop_views_are_gluoncv_ten_crop_order():
    x = np.random.default_rng(0).random((1, 3, 11, 13)).astype(np.float32)
    seen = []
    TTA(lambda v: seen.append(v) or np.zeros((v.shape[0], 2)), "ten-crop((5, 4))")(x)  # (width, height)
    img = x[0]
    h, w, oh, ow = 11, 13, 4, 5
    expected = [img[:, (h - oh) // 2:(h + oh) // 2, (w - ow) // 2:(w + ow) // 2], img[:, 0:oh, 0:ow],
                img[:, h - oh:h, 0:ow], img[:, 0:oh, w - ow:w], img[:, h - oh:h, w - ow:w]]
    expected += [e[:, :, ::-1] for e in expected]
    assert len(seen) == 10
    for got, want in zip(seen, expected):
        assert np.array_equal(got[0], want)


def test_crops_of_the_padded_input_are_randomcrops_corners():
    """ten-crop(32, pad=4): the views RandomCrop(32, pad=4) draws at its extremes; the padding is the pad value."""
    x = np.random.default_rng(1).random((1, 3, 32, 32)).astype(np.float32)
    seen = []
    TTA(lambda v: seen.append(v) or np.zeros((1, 2)), "five-crop(32, pad=4)", pad_value=-1.0)(x)
    padded = np.pad(x[0], ((0, 0), (4, 4), (4, 4)), constant_values=-1.0)
    expected = [padded[:, 4:36, 4:36], padded[:, :32, :32], padded[:, 8:, :32], padded[:, :32, 8:], padded[:, 8:, 8:]]
    for got, want in zip(seen, expected):
        assert np.array_equal(got[0], want)


def test_dense_maps_come_back_exactly_through_flips_and_crops():
    scores, labels = label_scores()
    for views in ("flip", "vflip", "ten-crop(40)", "five-crop((64, 48))", "sliding-window(crop_size=40)"):
        merged = TTA(lambda v: v, views, task="segmentation", activation=None)(scores)
        covered = merged.sum(axis=1) > 0.5
        assert covered.any(), views
        assert np.allclose(merged[:, :, covered[0]], scores[:, :, covered[0]], atol=1e-6), views
        if views in ("flip", "vflip", "sliding-window(crop_size=40)"):
            assert covered.all(), views


def test_dense_maps_come_back_through_resizes_within_interpolation():
    scores, labels = label_scores()
    for views in ("multi-scale(base_size=96, crop_size=64, scales=[0.5, 1.0, 1.5])", "Resize((120, 90))",
                  ["identity", "Resize((48, 36)), RandomFlipLeftRight(p=1.0)"]):
        merged = TTA(lambda v: v, views, task="segmentation", activation=None)(scores)
        agree = (merged.argmax(axis=1) == labels).mean()
        assert agree > 0.97, (views, agree)


def test_outputs_at_another_resolution_come_back_at_theirs():
    """A pose network's heatmaps are a quarter of its input: they come back at a quarter of the image."""
    scores, labels = label_scores(h=64, w=96)

    def quarter(v):
        return v[:, :, 2::4, 2::4]

    merged = TTA(quarter, "flip", task="dense")(scores)
    assert merged.shape == (2, 3, 16, 24)
    assert np.allclose(merged, quarter(scores)[:, :, :, :] * 0 + quarter(scores), atol=0.5)
    assert (merged.argmax(axis=1) == labels[2::4, 2::4]).mean() > 0.95


def test_class_scores_merge_by_mean_gmean_max():
    logits = {0: np.array([[2.0, 0.0]]), 1: np.array([[0.0, 1.0]])}
    calls = iter([0, 1])

    def model(v):
        return logits[next(calls)]

    probs = [np.exp(v) / np.exp(v).sum() for v in logits.values()]
    x = np.zeros((1, 3, 8, 8), np.float32)
    assert np.allclose(TTA(model, "flip")(x), (probs[0] + probs[1]) / 2)
    calls = iter([0, 1])
    assert np.allclose(TTA(model, "flip", merge="gmean")(x), np.sqrt(probs[0] * probs[1]))
    calls = iter([0, 1])
    assert np.allclose(TTA(model, "flip", merge="max")(x), np.maximum(probs[0], probs[1]))


def test_boxes_come_back_exactly_through_flips_and_crops():
    x = scene()
    for views in ("flip", "vflip", "ten-crop((80, 64))", "five-crop((80, 60))", "Resize((192, 144))"):  # crops hold it
        for merge in ("nms", "wbf"):
            ids, scores, boxes = TTA(red_detector, views, task="detection", boxes=merge)(x)
            assert ids[:, 0, 0].tolist() == [0, 0] and np.all(scores[:, 0, 0] == 1.0), (views, merge)
            assert np.allclose(boxes[:, 0], BOX, atol=1e-4), (views, merge, boxes[:, 0])
            assert np.all(ids[:, 1:] == -1), (views, merge)  # merged into one box


def test_boxes_come_back_through_scales_within_half_a_pixel():
    ids, scores, boxes = TTA(red_detector, ["identity", "Resize((36, 48))", "Resize((108, 144))"],
                             task="detection")(scene())
    assert np.abs(boxes[:, 0] - BOX).max() <= 0.5


def test_a_plugin_geometric_transform_is_a_view_with_no_extra_code(shear_plugin):
    """ShearX declares geometry() only: with a seed its draw is a view. The rectangle the detector finds in the
    sheared view comes back holding the original, with IoU >= 0.9 against the best any box can do: the original
    box moved there and back (a shear makes a box a parallelogram, whose enclosing box is larger)."""
    view = spec_view("ShearX(shear=0.2)", seed=3)
    matrix, out_hw = view.geometry((72, 96))
    assert out_hw == (72, 96) and matrix[0, 1] != 0
    ids, scores, boxes = TTA(red_detector, view, task="detection")(scene())
    got = boxes[0, 0].astype(np.float64)
    x0, y0, x1, y1 = BOX
    assert got[0] <= x0 + 0.5 and got[1] <= y0 + 0.5 and got[2] >= x1 - 0.5 and got[3] >= y1 - 0.5  # holds it
    best = warp_boxes(warp_boxes(np.array([BOX], np.float64), matrix), invert_affine(matrix))[0]
    assert iou_matrix(got[None], best[None])[0, 0] >= 0.9
    scores_map, labels = label_scores()
    merged = TTA(lambda v: v, ["identity", view], task="segmentation", activation=None)(scores_map)
    assert (merged.argmax(axis=1) == labels).mean() > 0.97
    # a constant draw is no random view: a plugin's Range of one value needs no seed
    assert get_views("ShearX(shear=(0.1, 0.1))").geometry((10, 10))[0][0, 1] == pytest.approx(0.1)


def test_random_views_are_seeded_draws_with_a_spread():
    scores, labels = label_scores()
    views = "random(spec='RandomResizedCrop((96, 72), scale=(0.5, 1.0)), RandomFlipLeftRight', n=6, seed=1)"
    assert leaf_count(views, (72, 96)) == 6
    first = TTA(lambda v: v, views, task="segmentation", activation=None).predict(scores)
    again = TTA(lambda v: v, views, task="segmentation", activation=None).predict(scores)
    assert np.array_equal(first.output, again.output) and first.views == 6
    other = TTA(lambda v: v, views.replace("seed=1", "seed=2"), task="segmentation", activation=None)(scores)
    assert not np.array_equal(first.output, other)
    assert first.spread.shape == scores.shape and first.spread.max() > 0.05
    assert TTA(lambda v: v, "flip", task="segmentation", activation=None).predict(scores).spread.max() < 1e-6


@pytest.mark.parametrize("views, message", [
    ("ten-crp(32)", "closest view sets: ten-crop"),
    ("ten-crop(0)", "size must be a whole number of pixels 1-65536"),
    ("ten-crop(32, 4, 1)", "ten-crop: too many positional arguments"),
    ("five-crop(32, pad=-4)", "pad must be a whole number of pixels 0-4096"),
    ("multi-scale(scales=[0, 1])", r"scales: a list of numbers in \(0, 16\]"),
    ("sliding-window(stride_rate=2)", r"stride_rate must be in \(0, 1\]"),
    ("RandomFlipLeftRight", "RandomFlipLeftRight draws its parameters at random.*give it a seed"),
    ("Resize(40), RandomCrop(32)", "RandomCrop draws its parameters at random"),
    ("RandomBrightness(0.3)", "RandomBrightness changes pixel values, not positions"),
    ("RandAugment", "RandAugment changes more than its geometry"),
    ("random(spec='RandomFlipLeftRight', n=0)", "n must be a whole number 1-1024"),
    ("random(spec=RandomFlipLeftRight)", "parameter spec is 'RandomFlipLeftRight', a bare name; quote a spec"),
    ("multi-scale(flip=1)", "flip must be True or False"),
])
def test_views_that_cannot_be_built_or_undone_are_refused_by_name(views, message):
    with pytest.raises(ViewError, match=message):
        get_views(views)


def test_a_step_without_a_map_is_refused_naming_it(shear_plugin):
    with pytest.raises(ViewError, match="Squiggle moves pixels without a geometry"):
        get_views("Squiggle")
    with pytest.raises(ViewError, match="Collapse's geometry\\(\\) is singular"):
        get_views("Collapse")
    with pytest.raises(ViewError, match="Tilt's geometry\\(\\) is projective"):
        get_views("Tilt")


def test_a_random_step_is_refused_wherever_its_draws_vary():
    """A crop of 480 draws nothing on a 256x256 image; on a 520x700 one it does."""
    with pytest.raises(ViewError, match="RandomCrop draws its parameters at random"):
        get_views("RandomCrop(480)")
    view = get_views("RandomCrop(1100, upscale=False)")  # no probed size fits it: decided when used
    with pytest.raises(ViewError, match="its draws differ at 1600x1700"):
        view.geometry((1600, 1700))
    assert get_views("RandomFlipLeftRight(p=1.0)").geometry((4, 6))[0][0, 0] == -1  # certain: a view


def test_a_spec_file_with_a_hyphen_in_its_path(tmp_path):
    spec = tmp_path / "geo-views.yaml"
    spec.write_text("- {name: RandomFlipLeftRight}\n")
    assert leaf_count(f"random(spec='{spec}', n=2, seed=0)", (8, 8)) == 2
    with pytest.raises(ViewError, match="cannot read pipeline file"):
        get_views(f"random(spec='{tmp_path / 'no-such.yaml'}', n=2)")


def test_multi_eval_merges_raw_logits_alone():
    from gluon_augplug.tta import TTA as Wrapper

    assert Wrapper(lambda v: v, ["multi-eval(base_size=32, crop_size=32)"], task="segmentation").activation is None
    with pytest.raises(ViewError, match="cannot be merged with other views; use multi-scale"):
        Wrapper(lambda v: v, ["multi-eval(base_size=32, crop_size=32)", "flip"], task="segmentation")


def test_the_spread_is_over_every_pass():
    scores, labels = label_scores()
    lopsided = lambda v: v * (1.0 + v[:, :, :, :1])  # noqa: E731  (a network that is not mirror-symmetric)
    flat = TTA(lopsided, "flip", task="segmentation", activation=None).predict(scores).spread
    nested = TTA(lopsided, "multi-scale(base_size=96, crop_size=96, scales=[1.0])", task="segmentation",
                 activation=None).predict(scores).spread
    assert flat.max() > 0.1 and np.allclose(nested, flat, atol=1e-6)
    assert TTA(lopsided, "multi-eval(base_size=96, crop_size=96, scales=[1.0])", task="segmentation") \
        .predict(scores).spread is None  # summed logits: no spread around a mean


def test_output_size_can_be_given():
    """A network with stride 8 that rounds up: 50x70 -> 7x9, while a crop's ratio rounds the input to 6x9."""
    def ceil_pool(v):
        h, w = v.shape[-2:]
        padded = np.pad(v, ((0, 0), (0, 0), (0, -h % 8), (0, -w % 8)))
        return padded.reshape(v.shape[0], v.shape[1], padded.shape[2] // 8, 8, padded.shape[3] // 8, 8).mean((3, 5))

    x = np.random.default_rng(0).random((1, 2, 50, 70)).astype(np.float32)
    assert TTA(ceil_pool, "five-crop(40)", task="dense").predict(x).output.shape[-2:] == (6, 9)
    merged = TTA(ceil_pool, "five-crop(40)", task="dense", output_hw=lambda hw: (-(-hw[0] // 8), -(-hw[1] // 8)))(x)
    assert merged.shape[-2:] == (7, 9)
    with pytest.raises(ViewError, match="output_hw must be"):
        TTA(ceil_pool, "flip", task="dense", output_hw=(7,))


def test_a_vertical_mirror_is_not_shifted_as_gluoncvs_left_right_one():
    maps = np.random.default_rng(2).random((1, 4, 8, 6)).astype(np.float32)
    shifted = TTA(lambda v: v, "vflip", task="pose", joint_pairs=[[0, 1]], shift=True)(maps)
    plain = TTA(lambda v: v, "vflip", task="pose", joint_pairs=[[0, 1]], shift=False)(maps)
    assert np.array_equal(shifted, plain)


def test_an_input_smaller_than_the_crop_is_refused_with_the_sizes():
    with pytest.raises(ViewError, match=r"crop center 64x64 \(width x height\) of an input of 48x40"):
        TTA(lambda v: v, "ten-crop(64)")(np.zeros((1, 3, 40, 48), np.float32))


def test_bad_wrapper_settings_name_the_setting():
    with pytest.raises(ViewError, match="task must be one of"):
        TTA(lambda v: v, "flip", task="boxes")
    with pytest.raises(ViewError, match="merge must be one of"):
        TTA(lambda v: v, "flip", merge="median")
    with pytest.raises(ViewError, match="need joint_pairs"):
        TTA(lambda v: v, "flip", task="pose")
    with pytest.raises(ViewError, match="takes a batch"):
        TTA(lambda v: v, "flip")(np.zeros((3, 8, 8), np.float32))
