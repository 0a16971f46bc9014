"""gluon-augplug-imgaug as installed: every imgaug augmenter by name, seeded, checked, with imgaug's own
pixels and its own augmentation of boxes, segmentation maps and keypoints."""
from __future__ import annotations

import inspect
import os
import subprocess
import sys
import warnings
from pathlib import Path

import imgaug.augmenters as iaa
import imgaug.random as iarandom
import numpy as np
import pytest
from imgaug.augmentables.bbs import BoundingBoxesOnImage
from imgaug.augmentables.kps import KeypointsOnImage
from imgaug.augmentables.segmaps import SegmentationMapsOnImage

from gluon_augplug import build_pipeline
from gluon_augplug.errors import InputError, ParameterError, SpecError
from gluon_augplug.plugins.manager import get_registry
from gluon_augplug.testing import augmented_epoch, check_plugin
from gluon_augplug.testing.samples import cat_image

import gluon_augplug_imgaug
from gluon_augplug_imgaug import catalog

SHARED = Path(os.environ.get("GLUON_AUGPLUG_SHARED_DATA", Path(__file__).resolve().parents[4] / "shared" / "data"))
VOC_BOXES = np.array([[35, 88, 470, 318, 0], [35, 158, 110, 250, 1]], np.float64)  # the VOC cat and its head


def _seed(record):
    """The seed the first step drew (a pipeline's record is a Compose of its steps)."""
    return record["children"][0]["params"]["seed"]


def _imgaug_seeded(augmenter, seed):
    """The augmenter as imgaug's own documentation seeds it: its generator and imgaug's global one."""
    iarandom.seed(seed % 2**32)
    augmenter.seed_(seed % 2**32)
    return augmenter


def test_every_imgaug_augmenter_is_offered_or_excluded_with_a_reason():
    exported = {n for n, c in inspect.getmembers(iaa, inspect.isclass) if issubclass(c, iaa.Augmenter)}
    offered = set(catalog.library_classes())
    excluded = catalog.excluded()
    assert offered | set(excluded) == exported and not offered & set(excluded)
    assert len(offered) >= 100 and all(excluded.values())
    assert "Sequential" in excluded and "wraps other imgaug augmenters" in excluded["Sequential"]
    registry = get_registry()
    for name in offered:
        info = registry.get_transform(catalog.PREFIX + name)
        assert (info.plugin, info.distribution, info.version) == ("imgaug", "gluon-augplug-imgaug",
                                                                  gluon_augplug_imgaug.__version__)


@pytest.mark.slow
def test_the_harness_passes_every_augmenter_and_preset():
    report = check_plugin("imgaug", raise_on_failure=False)
    assert report.ok, "\n".join(str(f) for f in report.failures)
    assert len({f.subject for f in report.findings if f.check == "global_state" and f.status == "pass"}) >= 100


def test_no_offered_augmenter_is_deprecated_by_the_library():
    for name, wrapped in catalog.library_classes().items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            wrapped(**catalog.EXAMPLES.get(name, {}))
        assert not [w for w in caught if "deprecat" in str(w.message).lower()], name


@pytest.mark.parametrize("spec, direct", [
    ("IaaAffine(rotate=(-25, 25), scale=(0.8, 1.2))", lambda: iaa.Affine(rotate=(-25, 25), scale=(0.8, 1.2))),
    ("IaaMultiplyAndAddToBrightness()", lambda: iaa.MultiplyAndAddToBrightness()),
    ("IaaCoarseDropout(p=0.1, size_percent=0.05, per_channel=0.5)",
     lambda: iaa.CoarseDropout(0.1, size_percent=0.05, per_channel=0.5)),
    ("IaaSnowflakes()", lambda: iaa.Snowflakes()),
])
def test_the_pixels_are_imgaugs_own_under_the_recorded_seed(spec, direct):
    cat = cat_image()
    pipe = build_pipeline(spec, seed=5)
    for _ in range(3):
        result = pipe.apply(cat)
        expected = _imgaug_seeded(direct(), _seed(result.record))(image=np.ascontiguousarray(cat))
        np.testing.assert_array_equal(result.image, expected)


def test_a_pair_is_a_range_and_a_longer_list_a_set_of_choices():
    cat = cat_image()
    ranged = build_pipeline("IaaRotate(rotate=[0, 90])", seed=1).transforms[0]
    assert ranged.wrapped.rotate.__class__.__name__ == "Uniform"  # imgaug's tuple: uniform in [0, 90]
    chosen = build_pipeline("IaaRotate(rotate=[0, 90, 180], fit_output=True)", seed=1)
    turned = {chosen(cat).shape[0] > 450 for _ in range(16)}
    assert turned == {True, False}  # 0 or 180 keep the 500x400 frame, 90 turns it (a choice, not a range)


def test_boxes_masks_and_keypoints_go_through_imgaugs_own_augmentation():
    cat = cat_image()
    mask = np.zeros(cat.shape[:2], np.int32)
    mask[88:318, 35:470] = 1
    mask[158:250, 35:110] = 2
    points = np.array([[72.0, 204.0], [250.0, 200.0]])
    spec = "IaaAffine(rotate=(-20, 20), translate_percent=(-0.1, 0.1))"
    pipe = build_pipeline(spec, seed=2, targets=["boxes", "masks", "keypoints"])
    for _ in range(4):
        result = pipe.apply(cat, boxes=VOC_BOXES, masks=mask, keypoints=points)
        aug = _imgaug_seeded(iaa.Affine(rotate=(-20, 20), translate_percent=(-0.1, 0.1)), _seed(result.record))
        # imgaug's one call with every kind of data (the adapter makes one call per kind, reseeded each time)
        image, segmaps, boxes, keypoints = aug(
            image=np.ascontiguousarray(cat), segmentation_maps=SegmentationMapsOnImage(mask, shape=cat.shape),
            bounding_boxes=BoundingBoxesOnImage.from_xyxy_array(VOC_BOXES[:, :4], shape=cat.shape),
            keypoints=KeypointsOnImage.from_xy_array(points, shape=cat.shape))
        np.testing.assert_array_equal(result.image, image)
        np.testing.assert_array_equal(result.masks, segmaps.get_arr())
        expected = boxes.clip_out_of_image().to_xyxy_array()
        np.testing.assert_allclose(result.boxes[:, :4], expected, atol=1e-3)
        np.testing.assert_allclose(result.keypoints, keypoints.to_xy_array(), atol=1e-3)


def test_targets_imgaug_cannot_move_are_refused_by_name():
    with pytest.raises(SpecError, match="imgaug's Jigsaw cannot move boxes"):
        build_pipeline("IaaJigsaw", targets=["boxes"])
    build_pipeline("IaaJigsaw", targets=["masks", "keypoints"])
    with pytest.raises(SpecError, match="imgaug's Jigsaw cannot move polygons"):
        build_pipeline("IaaJigsaw", targets=["polygons"])


def test_bad_parameters_name_the_transform_the_parameter_and_what_is_allowed():
    with pytest.raises(ParameterError, match=r"IaaGaussianBlur: parameter sigma=-1 is invalid; allowed: a number >= 0"):
        build_pipeline("IaaGaussianBlur(sigma=-1)")
    with pytest.raises(SpecError, match="did you mean 'rotate'"):
        build_pipeline("IaaAffine(rotat=10)")
    with pytest.raises(ParameterError, match=r"IaaFliplr: parameter p=2 is invalid"):
        build_pipeline("IaaFliplr(p=2)")
    with pytest.raises(SpecError, match="imgaug refused these parameters"):
        build_pipeline("IaaCrop(px={'x': 3})")


def test_float_images_are_the_same_picture_on_the_0_255_scale():
    cat = cat_image()
    spec = "IaaAffine(rotate=(-20, 20)), IaaMultiplyAndAddToBrightness(), IaaGaussianBlur(sigma=(0.5, 2.0))"
    as_uint8 = build_pipeline(spec, seed=9)(cat)
    as_float = build_pipeline(spec, seed=9)(cat.astype(np.float32))
    assert as_float.dtype == np.float32
    np.testing.assert_array_equal(as_float, as_uint8.astype(np.float32))


def test_augment_gives_the_same_epoch_with_0_and_2_workers():
    single = augmented_epoch("iaa-cifar10-train", 0, seed=4)
    assert single.shape == (20, 3, 32, 32)
    np.testing.assert_array_equal(single, augmented_epoch("iaa-cifar10-train", 2, seed=4))
    assert not np.array_equal(single, augmented_epoch("iaa-cifar10-train", 0, seed=4, epoch=1))


def test_show_finds_the_augmenters_by_name(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLUON_AUGPLUG_")}
    grid = tmp_path / "grid.png"
    proc = subprocess.run([str(Path(sys.executable).parent / "augplug"), "show",
                           str(SHARED / "voc-cat" / "JPEGImages" / "cat1.jpg"), "--pipeline",
                           "IaaAffine(rotate=(-25, 25)), IaaFliplr(p=0.5)", "--boxes",
                           str(SHARED / "voc-cat" / "Annotations" / "cat1.xml"), "-o", str(grid)],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr
    assert grid.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_one_channel_images_stay_one_channel():
    gray = np.ascontiguousarray(cat_image()[:, :, :1])
    out = build_pipeline("IaaAffine(rotate=(-20, 20)), IaaGaussianBlur(sigma=1.0), IaaMultiply(mul=(0.8, 1.2))",
                         seed=1)(gray)
    assert out.shape == (400, 500, 1) and out.dtype == np.uint8 and out.std() > 10


@pytest.mark.parametrize("spec, shape", [
    ("IaaRot90(k=0)", (400, 500, 3)), ("IaaRot90(k=[1, 3, 5], keep_size=False)", (500, 400, 3)),
    ("IaaPadToFixedSize(width=520, height=420, position=(0.5, 0.5))", (420, 520, 3)),
    ("IaaCutout(fill_per_channel=0.5, squared=0.5)", (400, 500, 3)), ("IaaResize(size=30, interpolation=1)", (30, 30, 3)),
    ("IaaCropAndPad(px=(1, 2, 3, 4), keep_size=False)", (404, 506, 3)), ("IaaAffine(mode=['constant', 'edge'])", (400, 500, 3)),
])
def test_values_imgaug_takes_are_taken(spec, shape):
    assert build_pipeline(spec, seed=0)(cat_image()).shape == shape


def test_a_failure_inside_imgaug_names_the_step():
    with pytest.raises(InputError, match=r"IaaAffine\(mode='bogus'\): imgaug failed on a 400x500x3 uint8 image"):
        build_pipeline("IaaAffine(mode='bogus')")(cat_image())
