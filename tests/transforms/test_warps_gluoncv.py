"""CenterNet's and SimplePose's warps side by side with GluonCV's own transforms, in the same run: equal where
deterministic (the letterbox, the pose validation crop), equal in distribution where they draw (where the cat's
box lands and how large, where the joints land, which side the left joint is on after a flip)."""
from __future__ import annotations

import random

import mxnet as mx
import numpy as np
import pytest
from gluoncv.data.transforms import bbox as gbbox
from gluoncv.data.transforms import pose as gpose
from gluoncv.data.transforms.presets.center_net import CenterNetDefaultTrainTransform, CenterNetDefaultValTransform
from gluoncv.data.transforms.presets.simple_pose import SimplePoseDefaultTrainTransform, \
    SimplePoseDefaultValTransform

from gluon_augplug import build_pipeline
from gluon_augplug.errors import InputError, ParameterError
from gluon_augplug.transforms.warps import window_matrix

BOXES = np.array([[35, 88, 470, 318, 0, 0], [35, 158, 110, 250, 1, 0]], np.float64)  # voc-cat's cat and head
PAIRS = [[0, 1]]
POSE_TARGETS = {"kinds": ["boxes", "keypoints"], "options": {"flip_pairs": PAIRS}}


def pose_label():
    """The cat's box as the person, five joints: 0 on the left, 1 on the right (a pair), 2 and 3 unpaired, 4
    invisible (COCO writes those at 0, 0)."""
    joints = np.zeros((5, 3, 2), np.float32)
    joints[:, 0, 0] = [100, 400, 250, 200, 0]
    joints[:, 1, 0] = [150, 160, 300, 200, 0]
    joints[:4, :2, 1] = 1
    return {"bbox": (35.0, 88.0, 470.0, 318.0), "joints_3d": joints}


def seed_gluoncv(seed=0):
    random.seed(seed)
    np.random.seed(seed)


def close(a, b, tol, what):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert abs(a.mean() - b.mean()) < tol, (what, "mean", a.mean(), b.mean())
    assert abs(a.std() - b.std()) < tol, (what, "std", a.std(), b.std())


def test_window_matrix_is_gluoncvs_affine_transform():
    rng = np.random.default_rng(0)
    for _ in range(20):
        center, width, angle = rng.uniform(0, 400, 2), rng.uniform(20, 600), rng.uniform(-60, 60)
        pose = gpose.get_affine_transform(center, np.array([width, width * 256 / 192]), angle, [192, 256])
        np.testing.assert_allclose(window_matrix(tuple(center), width, angle, (192, 256)), pose, atol=2e-3)
        box = gbbox.get_affine_transform(center, width, 0, [512, 512])
        np.testing.assert_allclose(window_matrix(tuple(center), width, 0, (512, 512)), box, atol=2e-3)


def test_center_net_val_is_gluoncvs_letterbox(cat):
    theirs, their_boxes = CenterNetDefaultValTransform(512, 512)(mx.nd.array(cat, dtype="uint8"), BOXES.copy())
    ours, our_boxes = build_pipeline("center-net-val")(cat, boxes=BOXES)
    np.testing.assert_allclose(ours, theirs.asnumpy(), atol=1e-5)
    # GluonCV moves box corners with the pixel-index matrix; edge coordinates differ by (1 - a) / 2 pixels
    a = 512 / max(cat.shape[:2])
    np.testing.assert_allclose(our_boxes[:, :4] - their_boxes[:, :4], 0.5 * (1 - a), atol=1e-3)
    np.testing.assert_array_equal(our_boxes[:, 4:], BOXES[:, 4:])


def _their_cat_box(out):
    """The cat's box (class 0) in heatmap cells, read back from GluonCV's CenterNet targets."""
    _, heatmap, wh, _, reg, _ = (x.asnumpy() for x in out)
    cy, cx = np.unravel_index(np.argmax(heatmap[0]), heatmap[0].shape)
    return cx + reg[0, cy, cx], cy + reg[1, cy, cx], wh[0, cy, cx], wh[1, cy, cx]


def test_center_net_train_moves_the_cat_as_gluoncv(cat):
    """Where the cat's box lands (its centre) and how large it is after the flip and the random warp, over 300
    draws of each; and the pixel statistics after the colour steps (GluonCV's run on floats it never clips, so
    its channels go below black on this dark photo where uint8 saturates: the means differ by up to 0.1 of a
    normalized unit, the colour steps alone agree once clipped, below)."""
    n = 300
    seed_gluoncv()
    transform = CenterNetDefaultTrainTransform(512, 512, num_class=2)
    src = mx.nd.array(cat, dtype="uint8")
    theirs, their_means = [], []
    for _ in range(n):
        out = transform(src, BOXES.copy())
        theirs.append(_their_cat_box(out))
        their_means.append(out[0].asnumpy().mean())
    pipeline = build_pipeline("center-net-train", seed=0)
    ours, our_means = [], []
    for _ in range(n):
        img, boxes = pipeline(cat, boxes=BOXES)
        x0, y0, x1, y1 = boxes[boxes[:, 4] == 0][0, :4] / 4  # GluonCV's heatmap is 4x smaller
        ours.append(((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0))
        our_means.append(img.mean())
    theirs, ours = np.array(theirs), np.array(ours)
    for k, what in enumerate(("centre x", "centre y", "width", "height")):
        close(ours[:, k], theirs[:, k], 4.0, what)  # in heatmap cells of 128
    close(our_means, their_means, 0.12, "image mean")


def test_center_net_colour_steps_draw_as_gluoncvs_once_clipped(cat):
    """GluonCV's np_random_color_distort (brightness, contrast, saturation 0.4 in random order, COCO's PCA lighting)
    on the cat as floats, clipped to 0-255 as a uint8 image is, against our RandomColorJitter + RandomLighting(eigen=
    'coco'): the per-image channel means and spreads agree over 400 draws each."""
    from gluoncv.data.transforms import experimental

    img = np.ascontiguousarray(cat[::4, ::4])
    seed_gluoncv()
    data_rng = np.random.RandomState(0)
    theirs = []
    for _ in range(400):
        out = experimental.image.np_random_color_distort(img.astype(np.float32) / 255, data_rng=data_rng)
        theirs.append(np.clip(np.rint(out * 255), 0, 255).reshape(-1, 3).mean(axis=0))
    pipeline = build_pipeline("RandomColorJitter(brightness=0.4, contrast=0.4, saturation=0.4), "
                              "RandomLighting(0.1, eigen='coco')", seed=0)
    ours = np.array([pipeline(img).reshape(-1, 3).mean(axis=0) for _ in range(400)])
    theirs = np.array(theirs)
    for c in range(3):
        close(ours[:, c], theirs[:, c], 2.5, f"channel {c} mean")


def test_simple_pose_val_is_gluoncvs_and_moves_the_joints_as_its_matrix(cat):
    label = pose_label()
    theirs, scale, center, _, _ = SimplePoseDefaultValTransform(5, PAIRS, image_size=(256, 192))(
        mx.nd.array(cat, dtype="uint8"), dict(label), "cat1")
    pipeline = build_pipeline("simple-pose-val", targets=POSE_TARGETS)
    ours, moved, img_id = pipeline(cat, label, "cat1")
    assert img_id == "cat1" and ours.shape == (3, 256, 192)
    np.testing.assert_allclose(ours, theirs.asnumpy(), atol=1e-5)
    trans = gpose.get_affine_transform(center, scale, 0, [192, 256])
    expected = np.array([gpose.affine_transform(j[:2, 0], trans) for j in label["joints_3d"][:4]])
    np.testing.assert_allclose(moved["joints_3d"][:4, :2, 0], expected, atol=1e-3)
    np.testing.assert_array_equal(moved["joints_3d"][:, :, 1], label["joints_3d"][:, :, 1])
    np.testing.assert_array_equal(moved["joints_3d"][4], 0)
    assert moved["joints_3d"].dtype == np.float32 and label["joints_3d"][0, 0, 0] == 100  # the input untouched
    # the box is the window's: it spans the output's width (the cat is wider than 192:256)
    np.testing.assert_allclose(moved["bbox"][2] - moved["bbox"][0], 192 / 1.25, atol=1e-3)


def _their_joints(target, weight):
    """Joint positions in input pixels read back from GluonCV's heatmaps (stride 4), NaN where weighted 0."""
    k = target.shape[0]
    flat = target.reshape(k, -1).argmax(axis=1)
    ys, xs = np.unravel_index(flat, target.shape[1:])
    points = np.stack([xs * 4.0, ys * 4.0], axis=1)
    points[weight.reshape(k) == 0] = np.nan
    return points


def test_simple_pose_train_draws_and_swaps_as_gluoncv(cat):
    """Over 400 draws each: the joints land where GluonCV's do (mean and spread, to its 4-pixel heatmap cells),
    and the left joint stays left of the right one as often (a flip swaps the pair: without the swap it would
    be on the right half the time)."""
    n = 400
    seed_gluoncv()
    transform = SimplePoseDefaultTrainTransform(5, PAIRS, image_size=(256, 192), heatmap_size=(64, 48))
    src = mx.nd.array(cat, dtype="uint8")
    theirs = []
    for _ in range(n):
        _, target, weight, _ = transform(src, pose_label(), "cat1")
        theirs.append(_their_joints(np.asarray(target), np.asarray(weight)))
    pipeline = build_pipeline("simple-pose-train", seed=0, targets=POSE_TARGETS)
    ours = []
    for _ in range(n):
        _, moved, _ = pipeline(cat, pose_label(), "cat1")
        points = moved["joints_3d"][:, :2, 0].astype(np.float64)
        outside = (points[:, 0] < -2) | (points[:, 0] >= 194) | (points[:, 1] < -2) | (points[:, 1] >= 258)
        points[outside | (moved["joints_3d"][:, 0, 1] == 0)] = np.nan
        ours.append(points)
    theirs, ours = np.array(theirs), np.array(ours)
    for j in range(4):
        for axis, what in ((0, "x"), (1, "y")):
            a, b = ours[:, j, axis], theirs[:, j, axis]
            close(a[~np.isnan(a)], b[~np.isnan(b)], 6.0, f"joint {j} {what}")

    def left_of(p):
        return np.nanmean(np.where(np.isnan(p[:, 0, 0] + p[:, 1, 0]), np.nan, p[:, 0, 0] < p[:, 1, 0]))
    assert left_of(ours) > 0.8 and abs(left_of(ours) - left_of(theirs)) < 0.06, (left_of(ours), left_of(theirs))


def test_a_mirror_without_flip_pairs_is_an_error_on_pose_items(cat):
    pipeline = build_pipeline("RandomFlipLeftRight(p=1), BoxWarp((48, 64))")
    with pytest.raises(InputError, match="flip_pairs"):
        pipeline(cat, pose_label(), "cat1")
    kept = build_pipeline("BoxWarp((48, 64))")(cat, pose_label(), "cat1")[1]  # no mirror: no pairs needed
    assert kept["joints_3d"].shape == (5, 3, 2)


@pytest.mark.parametrize("pairs", [[[0, 0]], [[0, 1], [1, 2]], [[0, -1]], "01", [[0, 1.5]]])
def test_bad_flip_pairs_name_the_option(pairs):
    with pytest.raises(ParameterError, match="flip_pairs"):
        build_pipeline("RandomFlipLeftRight", targets={"kinds": ["keypoints"], "options": {"flip_pairs": pairs}})


def test_flip_pairs_beyond_the_keypoints_is_an_error(cat):
    pipeline = build_pipeline("RandomFlipLeftRight", targets={"kinds": ["keypoints"], "options": {"flip_pairs": [[0, 9]]}})
    with pytest.raises(InputError, match="row 9"):
        pipeline(cat, keypoints=np.zeros((3, 2)))


def test_flip_pairs_follow_mirrors_through_dropped_points_and_double_flips():
    img = np.zeros((40, 60, 3), np.uint8)
    points = np.array([[10, 5, 0], [50, 5, 1], [30, 20, 2], [5, 30, 3]], np.float64)
    options = {"kinds": ["keypoints"], "options": {"flip_pairs": [[0, 1], [2, 3]]}}
    once = build_pipeline("RandomFlipLeftRight(p=1)", targets=options)(img, keypoints=points)[1]
    np.testing.assert_array_equal(once[:, 2], [1, 0, 3, 2])  # each row now holds its partner's point
    np.testing.assert_array_equal(once[:2, 0], [10, 50])  # the left joint is still the one on the left
    twice = build_pipeline("RandomFlipLeftRight(p=1), RandomFlipTopBottom(p=1), RandomFlipTopBottom(p=1), "
                           "RandomFlipLeftRight(p=1)", targets=options)(img, keypoints=points)[1]
    np.testing.assert_array_equal(twice, points)
    # point 3 flips to x=55, past the 44-pixel window, as joint 2: the rows left stay in joint order (0, 1, 3)
    cropped = build_pipeline("RandomFlipLeftRight(p=1), CenterCrop((44, 40))", targets=options)(img, keypoints=points)[1]
    np.testing.assert_array_equal(cropped[:, 2], [1, 0, 2])
    rotated = build_pipeline("RandomRotation((180, 180))", targets=options)(img, keypoints=points)[1]
    np.testing.assert_array_equal(rotated[:, 2], [0, 1, 2, 3])  # a half turn is no mirror


def test_random_center_warp_keeps_its_centre_off_the_border_as_gluoncv():
    warp = build_pipeline("RandomCenterWarp(64, border=128, scale_factor=0.4)")[0]
    rng = np.random.default_rng(0)
    draws = [warp.sample(rng, (300, 200, 3)) for _ in range(2000)]
    xs, ys = np.array([d["center"][0] for d in draws]), np.array([d["center"][1] for d in draws])
    assert xs.min() >= 64 and xs.max() < 136  # 200 wide: GluonCV halves the border to 64
    assert ys.min() >= 128 and ys.max() < 172
    widths = np.array([d["width"] for d in draws]) / 300
    assert widths.min() >= 0.6 - 1e-9 and widths.max() <= 1.4 + 1e-9
    assert abs(widths.std() - 0.287) < 0.015  # N(1, 0.4) clipped at one std: 0.718 of 0.4


def test_coco_lighting_adds_gluoncvs_center_net_offset(cat):
    """GluonCV's lighting_: image += eig_vec @ (eig_val * alpha) on a 0-1 image; ours on 0-255 with the same alpha."""
    transform = CenterNetDefaultTrainTransform(512, 512, num_class=1)
    alpha = np.array([0.1, -0.2, 0.05])
    img = cat[:32, :32].astype(np.float32)
    expected = img + 255 * (transform._eig_vec @ (transform._eig_val * alpha))
    ours = build_pipeline("RandomLighting(0.1, eigen='coco')")[0].apply(img, "HWC", alpha=list(alpha))
    np.testing.assert_allclose(ours, np.clip(expected, 0, 255), atol=1e-3)
    imagenet = build_pipeline("RandomLighting(0.1)")[0].apply(img, "HWC", alpha=list(alpha))
    assert np.abs(imagenet - ours).max() > 0.5


def test_a_mirror_through_apply_keypoints_swaps_the_pairs_too():
    """A plugin flip that moves keypoints with its own apply_keypoints: the engine's probe points tell the mirror."""
    from gluon_augplug import Transform
    from gluon_augplug.pipeline.pipeline import Pipeline
    from gluon_augplug.targets import TargetOptions

    class OwnFlip(Transform):
        targets = "geometric"

        def apply(self, img, layout):
            return np.ascontiguousarray(img[:, ::-1])

        def apply_keypoints(self, points, params, in_hw, out_hw):
            out = points.copy()
            out[:, 0] = in_hw[1] - out[:, 0]
            return out

    pipe = Pipeline([OwnFlip()], targets=TargetOptions(flip_pairs=((0, 1),)))
    moved = pipe(np.zeros((20, 30, 3), np.uint8), keypoints=np.array([[5.0, 5, 0], [25, 5, 1], [10, 10, 2]]))[1]
    np.testing.assert_array_equal(moved, [[5, 5, 1], [25, 5, 0], [20, 10, 2]])
