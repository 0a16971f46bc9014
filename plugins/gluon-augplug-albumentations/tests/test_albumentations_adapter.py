"""gluon-augplug-albumentations as installed: every albumentations transform by name, seeded, checked,
with albumentations' own pixels and target support."""
from __future__ import annotations

import inspect
import os
import random
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import albumentations as A
import numpy as np
import pytest
from albumentations.core.transforms_interface import BasicTransform

from gluon_augplug import build_pipeline
from gluon_augplug.errors import InputError, ParameterError, SpecError
from gluon_augplug.plugins.manager import get_registry
from gluon_augplug.randomness import global_random_state
from gluon_augplug.testing import augmented_epoch, check_plugin
from gluon_augplug.testing.samples import cat_image

import gluon_augplug_albumentations
from gluon_augplug_albumentations import catalog

SHARED = Path(os.environ.get("GLUON_AUGPLUG_SHARED_DATA", Path(__file__).resolve().parents[4] / "shared" / "data"))
VOC_BOXES = np.array([[35, 88, 470, 318, 0], [35, 158, 110, 250, 1]], np.float64)  # the VOC cat and its head


def _seed(record):
    """The seed the first step drew (a pipeline's record is a Compose of its steps)."""
    return record["children"][0]["params"]["seed"]


def test_every_albumentations_transform_is_offered_or_excluded_with_a_reason():
    exported = {n for n, c in inspect.getmembers(A, inspect.isclass) if issubclass(c, BasicTransform)}
    offered = set(catalog.library_classes())
    excluded = catalog.excluded()
    assert offered | set(excluded) == exported and not offered & set(excluded)
    assert len(offered) >= 70 and all(excluded.values())
    registry = get_registry()
    for name in offered:
        info = registry.get_transform(catalog.PREFIX + name)
        assert (info.plugin, info.distribution, info.version) == (
            "albumentations", "gluon-augplug-albumentations", gluon_augplug_albumentations.__version__)
    # albumentations' names never shadow a built-in: HorizontalFlip, Resize, Normalize stay ours or absent
    assert registry.get_transform("Resize").plugin == "builtin"


def test_the_harness_passes_every_transform_and_preset():
    report = check_plugin("albumentations", raise_on_failure=False)
    assert report.ok, "\n".join(str(f) for f in report.failures)
    checked = {f.subject for f in report.findings if f.check == "global_state" and f.status == "pass"}
    assert len(checked) >= 70


def test_no_offered_transform_is_deprecated_by_the_library():
    for name, wrapped in catalog.library_classes().items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            wrapped(**catalog.EXAMPLES.get(name, {}))
        assert not [w for w in caught if "deprecat" in str(w.message).lower()], name


@pytest.mark.parametrize("spec, direct", [
    ("AlbuShiftScaleRotate(p=1.0, border_mode=0)", lambda: A.ShiftScaleRotate(p=1.0, border_mode=0)),
    ("AlbuColorJitter(0.4, 0.4, 0.4, 0.1)", lambda: A.ColorJitter(0.4, 0.4, 0.4, 0.1)),
    ("AlbuCoarseDropout(max_holes=8, max_height=40, max_width=40, p=1.0)",
     lambda: A.CoarseDropout(max_holes=8, max_height=40, max_width=40, p=1.0)),
    ("AlbuRandomResizedCrop(height=224, width=224)", lambda: A.RandomResizedCrop(224, 224)),
    ("AlbuGaussNoise(var_limit=(10, 80), p=1.0)", lambda: A.GaussNoise(var_limit=(10, 80), p=1.0)),
])
def test_the_pixels_are_albumentations_own_under_the_recorded_seed(spec, direct):
    cat = cat_image()
    pipe = build_pipeline(spec, seed=5)
    for _ in range(4):
        result = pipe.apply(cat)
        seed = _seed(result.record)
        with global_random_state(seed):
            expected = direct()(image=np.ascontiguousarray(cat))["image"]
        np.testing.assert_array_equal(result.image, expected)


def test_boxes_masks_and_keypoints_go_through_albumentations_target_functions():
    cat = cat_image()
    mask = np.zeros(cat.shape[:2], np.uint8)
    mask[88:318, 35:470] = 1
    mask[158:250, 35:110] = 2
    points = np.array([[72.0, 204.0], [250.0, 200.0]])
    pipe = build_pipeline("AlbuShiftScaleRotate(p=1.0, border_mode=0, rotate_limit=20)", seed=2,
                          targets=["boxes", "masks", "keypoints"])
    h, w = cat.shape[:2]
    for _ in range(5):
        result = pipe.apply(cat, boxes=VOC_BOXES, masks=mask, keypoints=points)
        seed = _seed(result.record)
        with global_random_state(seed):
            theirs = A.ShiftScaleRotate(p=1.0, border_mode=0, rotate_limit=20)(
                image=np.ascontiguousarray(cat), mask=mask, bboxes=[tuple(b) for b in (VOC_BOXES[:, :4] / (w, h, w, h))],
                keypoints=[(x - 0.5, y - 0.5, 0.0, 1.0) for x, y in points])  # albumentations: pixel centres
        np.testing.assert_array_equal(result.image, theirs["image"])
        np.testing.assert_array_equal(result.masks, theirs["mask"])
        boxes = np.clip(np.array(theirs["bboxes"]) * (w, h, w, h), 0, (w, h, w, h))
        kept = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        np.testing.assert_allclose(result.boxes[:, :4], boxes[kept], atol=1e-6)
        np.testing.assert_array_equal(result.boxes[:, 4], VOC_BOXES[kept, 4])
        np.testing.assert_allclose(result.keypoints, np.array(theirs["keypoints"])[:, :2] + 0.5, atol=1e-6)


def test_a_transform_that_cannot_move_a_target_kind_is_refused_by_name():
    with pytest.raises(SpecError, match="albumentations' GridDistortion cannot move keypoints"):
        build_pipeline("AlbuGridDistortion", targets=["keypoints"])
    build_pipeline("AlbuGridDistortion", targets=["boxes", "masks"])  # those it moves
    with pytest.raises(SpecError, match="AlbuCoarseDropout cannot move polygons: it removes the points under"):
        build_pipeline("AlbuCoarseDropout", targets=["polygons"])
    build_pipeline("AlbuCoarseDropout", targets=["keypoints"])  # a keypoint may be dropped, a vertex may not


def test_bad_parameters_name_the_transform_the_parameter_and_what_is_allowed():
    with pytest.raises(ParameterError, match=r"AlbuMotionBlur: parameter blur_limit=-3 is invalid; allowed: an "
                                             r"integer >= 0"):
        build_pipeline("AlbuMotionBlur(blur_limit=-3)")
    with pytest.raises(SpecError, match="did you mean 'blur_limit'"):
        build_pipeline("AlbuMotionBlur(blur_limt=5)")
    with pytest.raises(ParameterError, match=r"AlbuCLAHE: parameter p=1.5 is invalid; allowed: a number in \[0.0, 1.0\]"):
        build_pipeline("AlbuCLAHE(p=1.5)")
    with pytest.raises(SpecError, match="albumentations refused these parameters"):  # a rule across parameters
        build_pipeline("AlbuCoarseDropout(max_holes=2, min_holes=5)")


def test_float_images_are_the_same_picture_on_the_0_255_scale():
    cat = cat_image()
    spec = "AlbuCLAHE(p=1.0), AlbuShiftScaleRotate(p=1.0, border_mode=0), AlbuRandomBrightnessContrast(p=1.0)"
    as_uint8 = build_pipeline(spec, seed=9)(cat)
    as_float = build_pipeline(spec, seed=9)(cat.astype(np.float32))
    assert as_float.dtype == np.float32 and as_float.max() <= 255
    np.testing.assert_array_equal(as_float, as_uint8.astype(np.float32))


def test_threads_share_a_pipeline_without_seeing_each_others_seeds():
    cat = cat_image()
    pipe = build_pipeline("AlbuShiftScaleRotate(p=1.0), AlbuGaussNoise(p=1.0), AlbuCoarseDropout(p=1.0)")
    expected = [pipe(cat, np.random.default_rng(s)) for s in range(16)]
    random.seed(77)
    before = random.random()
    random.seed(77)
    results: dict[int, np.ndarray] = {}

    def work(seeds):
        for s in seeds:
            results[s] = pipe(cat, np.random.default_rng(s))

    threads = [threading.Thread(target=work, args=(range(i, 16, 4),)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in range(16):
        np.testing.assert_array_equal(results[s], expected[s])
    assert random.random() == before  # the caller's global generator was put back


def test_augment_gives_the_same_epoch_with_0_and_2_workers():
    single = augmented_epoch("albu-cifar10-train", 0, seed=4)
    assert single.shape == (20, 3, 32, 32)
    np.testing.assert_array_equal(single, augmented_epoch("albu-cifar10-train", 2, seed=4))
    assert not np.array_equal(single, augmented_epoch("albu-cifar10-train", 0, seed=4, epoch=1))


def _augplug(*args, cwd=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLUON_AUGPLUG_")}
    return subprocess.run([str(Path(sys.executable).parent / "augplug"), *args], capture_output=True, text=True,
                          timeout=900, env=env, cwd=cwd)


def test_the_commands_find_the_transforms_by_name(tmp_path):
    grid = tmp_path / "grid.png"
    proc = _augplug("show", str(SHARED / "voc-cat" / "JPEGImages" / "cat1.jpg"), "--pipeline",
                    "AlbuShiftScaleRotate(p=1.0, border_mode=0), AlbuHorizontalFlip", "--boxes",
                    str(SHARED / "voc-cat" / "Annotations" / "cat1.xml"), "--seed", "1", "-o", str(grid))
    assert proc.returncode == 0, proc.stderr
    assert grid.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    proc = _augplug("check", "AlbuCLAHE")
    assert proc.returncode == 0 and "FAIL" not in proc.stdout and "PASS  AlbuCLAHE  global_state" in proc.stdout
    proc = _augplug("train", "--data", str(SHARED / "cifar10-jpg.tar.gz"), "--model", "cifar_resnet20_v1",
                    "--train-limit", "40", "--test-limit", "20", "--batch-size", "20", "--epochs", "1",
                    "--train-aug", "albu-cifar10-train", "--out", str(tmp_path / "run"))
    assert proc.returncode == 0, proc.stderr
    assert "epoch 1, loss" in proc.stdout


def test_one_channel_images_stay_one_channel():
    gray = np.ascontiguousarray(cat_image()[:, :, :1])
    out = build_pipeline("AlbuShiftScaleRotate(p=1.0), AlbuGaussianBlur(p=1.0), AlbuRandomBrightnessContrast(p=1.0)",
                         seed=1)(gray)
    assert out.shape == (400, 500, 1) and out.dtype == np.uint8 and out.std() > 10


def test_keypoints_count_from_pixel_edges_and_holes_drop_them():
    flipped = build_pipeline("AlbuHorizontalFlip(p=1)").apply(np.zeros((10, 20, 3), np.uint8),
                                                              keypoints=np.array([[0.5, 0.5], [3.0, 4.0]]))
    np.testing.assert_allclose(flipped.keypoints, [[19.5, 0.5], [17.0, 4.0]])  # as the built-in flip: x -> W - x
    rng = np.random.default_rng(0)
    image, points = rng.integers(0, 255, (100, 120, 3)).astype(np.uint8), rng.uniform(0, 100, (120, 2))
    points[1] = points[0]  # albumentations 1.3 keeps them in a set(), which would merge these and shuffle the rest
    result = build_pipeline("AlbuCoarseDropout(max_holes=8, max_height=16, max_width=16, p=1)").apply(
        image, keypoints=points)
    assert 0 < len(result.keypoints) < 120  # those in a hole are dropped, the others kept where they were, in order
    kept = {tuple(p) for p in result.keypoints}
    np.testing.assert_array_equal(result.keypoints, [p for p in points if tuple(p) in kept])
    joints = np.array([[90.0, 10.0], [10.0, 10.0], [50.0, 80.0], [10.0, 60.0], [70.0, 40.0]])
    untouched = build_pipeline("AlbuCoarseDropout(max_holes=1, max_height=1, max_width=1, p=1)", seed=3).apply(
        image, keypoints=joints)  # no hole reaches a joint: all come back, in their rows
    np.testing.assert_array_equal(untouched.keypoints, joints)


def test_boxes_of_the_mask_based_warps_stay_whole_when_they_reach_outside():
    pipe = build_pipeline("AlbuElasticTransform(alpha=1, sigma=50, alpha_affine=0, p=1)",
                          targets={"kinds": ["boxes"], "options": {"min_visibility": 0.3}})
    boxes = pipe.apply(np.zeros((60, 80, 3), np.uint8), boxes=np.array([[-10.0, 10, 30, 40]])).boxes
    assert len(boxes) == 1 and boxes[0, 2] > 25  # 75% of it is inside: kept


def test_a_failure_inside_albumentations_names_the_step():
    with pytest.raises(ParameterError, match="interpolation=\\(1, 2\\) is invalid; allowed: one of 0, 1, 2, 3, 4"):
        build_pipeline("AlbuRotate(interpolation=(1, 2), p=1)")
    with pytest.raises(InputError, match=r"AlbuCLAHE\(tile_grid_size=\(8,\), p=1\): albumentations failed on a "
                                         r"400x500x3 uint8 image"):
        build_pipeline("AlbuCLAHE(tile_grid_size=(8,), p=1)")(cat_image())
