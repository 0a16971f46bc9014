"""AlphaPose's training transform side by side with GluonCV's AlphaPoseDefaultTrainTransform, in the same run:
for the same draws, its pixels and where its heatmaps put the joints; over many draws, the draws themselves."""
from __future__ import annotations

import random

import mxnet as mx
import numpy as np
import pytest
from gluoncv.data.transforms.presets.alpha_pose import AlphaPoseDefaultTrainTransform

from gluon_augplug import build_pipeline
from gluon_augplug.errors import InputError
from gluon_augplug.presets import alpha_pose_spec
from gluon_augplug.targets import joints_3d_to_keypoints, keypoints_to_joints_3d
from gluon_augplug.targets.joints import pose_box_to_xyxy

PAIRS = [[0, 1]]
TARGETS = {"kinds": ["boxes", "keypoints"], "options": {"flip_pairs": PAIRS}}
BBOX = (35.0, 88.0, 470.0, 318.0)  # the VOC cat's box as the person, in GluonCV's pixel indices


def label():
    """Four joints inside the cat's box: 0 left of 1 (a pair), 2 and 3 unpaired."""
    joints = np.zeros((4, 3, 2), np.float32)
    joints[:, 0, 0] = [100, 400, 250, 200]
    joints[:, 1, 0] = [150, 160, 300, 200]
    joints[:, :2, 1] = 1
    return {"bbox": BBOX, "joints_3d": joints}


def gluoncv_draws(seed, rotation_factor):
    """AlphaPoseDefaultTrainTransform's draws for ``seed``, in its order: three gains, the box's scale, the flip,
    the rotation (its normal drawn only when it rotates)."""
    random.seed(seed)
    np.random.seed(seed)
    gains = [random.uniform(0.7, 1.3) for _ in range(3)]
    fraction = random.uniform(0.2, 0.3)
    flip = random.random() > 0.5
    rf = rotation_factor
    angle = float(np.clip(np.random.randn() * rf, -rf * 2, rf * 2)) if random.random() <= 0.6 else 0.0
    return gains, fraction, flip, angle


def replayed(pipeline, img, boxes, draws):
    """Our record with GluonCV's draws in it, from the same run of the same steps."""
    gains, fraction, flip, angle = draws
    _, record = pipeline.apply_with_params(img)
    steps = {child["name"]: child for child in record["children"]}
    crop = pipeline.transforms[1]
    ul, br = crop.corners(img.shape, boxes, fraction)
    steps["RandomChannelGain"]["params"] = {"gains": gains}
    steps["RandomBoxCrop"]["params"] = {"ul": ul, "br": br}
    steps["RandomFlipLeftRight"]["params"] = {"flip": flip}
    steps["RandomNormalRotation"]["params"] = {"angle": angle}
    return record


def test_the_preset_is_train_alpha_poses_settings():
    spec = build_pipeline("alpha-pose-train").to_string()
    assert spec == build_pipeline(alpha_pose_spec((256, 192), (0.2, 0.3), 40)).to_string()
    assert "RandomBoxCrop(size=[192, 256], enlarge=[0.2, 0.3])" in spec and "limit=80, p=0.6" in spec


@pytest.mark.parametrize("size, rotation_factor", [((256, 192), 40), ((256, 256), 30)])
def test_pixels_and_joints_are_gluoncvs_for_its_draws(cat, size, rotation_factor):
    """For GluonCV's own draws (a flip and a rotation among them), the image is its tensor (to float rounding), and
    each joint lies on the peak of its heatmap, drawn at full size (the peaks round to whole pixels, and GluonCV's
    heatmap mapping is a pixel off its image's)."""
    their_transform = AlphaPoseDefaultTrainTransform(4, PAIRS, image_size=size, heatmap_size=size,
                                                     scale_factor=(0.2, 0.3), rotation_factor=rotation_factor)
    pipeline = build_pipeline(alpha_pose_spec(size, (0.2, 0.3), rotation_factor), targets=TARGETS)
    boxes = pose_box_to_xyxy(BBOX)
    seen = set()
    for seed in range(12):
        draws = gluoncv_draws(seed, rotation_factor)
        random.seed(seed)
        np.random.seed(seed)
        theirs, target, _, _ = their_transform(mx.nd.array(cat, dtype="uint8"), label(), "cat1")
        record = replayed(pipeline, cat, boxes, draws)
        ours, _, points = pipeline.replay(cat, record, boxes=boxes, keypoints=joints_3d_to_keypoints(label()["joints_3d"]))
        difference = np.abs(ours - theirs.asnumpy()) * 255
        assert difference.max() < 1e-3, (seed, difference.max())
        joints = keypoints_to_joints_3d(points)[:, :2, 0]
        peaks = np.array([np.unravel_index(t.argmax(), t.shape)[::-1] for t in np.asarray(target)], np.float64)
        inside = (joints >= 0).all(1) & (joints[:, 0] < size[1]) & (joints[:, 1] < size[0])
        np.testing.assert_allclose(joints[inside], peaks[inside], atol=1.5, err_msg=f"seed {seed}")
        seen.add((draws[2], draws[3] != 0))
    assert seen == {(False, False), (False, True), (True, False), (True, True)}  # every branch was compared


def test_the_draws_follow_gluoncvs_distribution_and_keep_the_visibility_flags(cat):
    pipeline = build_pipeline("alpha-pose-train", seed=3, targets=TARGETS)
    flips, angles, widths = [], [], []
    for _ in range(600):
        _, moved, _ = pipeline(cat, label(), "cat1")
        _, record = pipeline.apply_with_params(cat)
        flips.append(record["children"][2]["params"]["flip"])
        angles.append(record["children"][3]["params"]["angle"])
        widths.append(moved["bbox"][2] - moved["bbox"][0])
        assert moved["joints_3d"][:, :, 1].tolist() == label()["joints_3d"][:, :, 1].tolist()
    angles = np.array(angles)
    assert abs(np.mean(flips) - 0.5) < 0.06
    turned = angles[angles != 0]
    assert abs(len(turned) / len(angles) - 0.6) < 0.06 and np.abs(turned).max() <= 80
    assert abs(turned.std() - 40 * 0.871) < 4  # N(0, 40) clipped at 2 sd keeps 0.871 of its spread
    assert np.ptp(widths) > 1  # the enlargement is drawn


def test_the_left_joint_stays_left_through_a_flip(cat):
    flipped = build_pipeline("RandomBoxCrop((192, 256)), RandomFlipLeftRight(p=1)", targets=TARGETS, seed=0)
    plain = build_pipeline("RandomBoxCrop((192, 256))", targets=TARGETS, seed=0)
    (_, a, _), (_, b, _) = flipped(cat, label(), "c"), plain(cat, label(), "c")
    assert a["joints_3d"][0, 0, 0] < a["joints_3d"][1, 0, 0]  # swapped: joint 0 is still the left one
    np.testing.assert_allclose(a["joints_3d"][0, 0, 0], 191 - b["joints_3d"][1, 0, 0], atol=1e-4)


def test_everything_outside_the_enlarged_box_is_filled(cat):
    crop = build_pipeline("RandomBoxCrop((96, 128), enlarge=(0, 0), fill=255)", seed=0).transforms[0]
    boxes = np.array([[200.5, 100.5, 300.5, 150.5]])
    ul, br = crop.corners(cat.shape, boxes, 0.0)
    assert (ul, br) == ([200, 100], [300, 150])
    out = crop.apply(cat, "HWC", ul=ul, br=br)
    assert out.shape == (128, 96, 3)
    matrix = np.vstack([crop._matrix({"ul": ul, "br": br}), [0, 0, 1]])
    inverse = np.linalg.inv(matrix)
    for y in range(0, 128, 7):
        for x in range(0, 96, 7):
            sx, sy = (inverse @ [x, y, 1])[:2]
            if not (ul[0] - 1 < sx < br[0] and ul[1] - 1 < sy < br[1]):
                assert (out[y, x] == 255).all(), (x, y, sx, sy)


def test_a_box_without_pixels_is_named(cat):
    pipeline = build_pipeline("RandomBoxCrop((192, 256))", targets=["boxes"])
    with pytest.raises(InputError, match=r"box 0 \(100.5, 10.5, 101, 90\) keeps no more than one pixel of the "
                                         r"500x400 image"):
        pipeline(cat, boxes=np.array([[100.5, 10.5, 101, 90]]))
