"""The conformance harness passes a good plugin and catches every planted defect."""
from __future__ import annotations

import importlib

import pytest

from gluon_augplug.testing import check_plugin, conformance_cases
from gluon_augplug.testing.checks.registry import NDARRAY_HALF_SKIPPED


def sample_plugin(name):
    return importlib.import_module(f"tests.testing.sample_plugins.{name}")


@pytest.mark.pinned
def test_a_good_plugin_passes_every_check():
    report = check_plugin(sample_plugin("good"))
    assert report.ok, str(report)
    passed = {(f.subject, f.check) for f in report.findings if f.status == "pass"}
    assert ("SwapRB", "hybridize") in passed and ("RandomShift", "dataloader") in passed
    assert ("RandomShift", "random") in passed and ("good-shift", "preset") in passed
    assert ("Dim", "batch") in passed and ("Dim", "validates") in passed  # declared parameters, batch path
    assert "RandomShift" in str(report) and "checks:" in str(report)


def test_a_crop_around_the_boxes_is_shown_a_box():
    # without a box its window is the whole image for every seed: random, dataloader and batch would fail
    report = check_plugin(sample_plugin("crops_around_boxes"))
    assert report.ok, str(report)
    passed = {f.check for f in report.findings if f.subject == "BoxJitterCrop" and (
        f.status == "pass" or f.message == NDARRAY_HALF_SKIPPED)}  # without MXNet: the batch check's numpy half
    assert {"random", "dataloader", "batch", "targets", "clips"} <= passed, str(report)


@pytest.mark.parametrize("plugin, check, message", [
    ("mutates", "no_mutation", "wrote into its numpy input"),
    ("unpicklable", "pickle", "does not pickle"),
    ("ignores_seed", "seeded", "the same seed gave different outputs"),
    ("misspelled_hook", "loads", "did you mean 'augplug_register_transforms'"),
    ("wrong_output", "output_contract", "numpy in must give numpy out"),
    ("no_validation", "validates", "factor='not-a-number'"),
    ("own_generator", "dataloader", "produced the same sequence of augmentations"),
    ("own_generator", "random", "declared random but seeds 0-7 give identical outputs"),
    ("constant_random", "random", "declared random but seeds 0-7 give identical outputs"),
    pytest.param("bad_hybrid", "hybridize", "other outputs once hybridized", marks=pytest.mark.pinned),
    ("needs_params", "builds", "register it with example={'amount': ...}"),
    ("float_overflow", "output_contract", "keep float images in 0-255"),
    ("batch_unseeded", "batch", "the same seed gave a different batch"),
    ("flips_not_boxes", "targets", "the mask does not follow the pixels"),
    ("blends_mask_ids", "targets", "mask ids were blended"),
    ("keypoints_not_moved", "targets", "the pixels painted at it to"),
    ("keypoints_not_moved", "polygons", "the polygon does not follow the pixels"),
    ("swaps_pairs_itself", "flip_pairs", "rows 0 and 1 (declared flip_pairs) should trade places"),
    ("sorts_boxes", "instance_masks", "lies outside it (0% inside, seed 0): the rows came back in another order"),
    ("floats_as_unit", "output_contract", "read float images on gluon_augplug's 0-255 scale"),
    ("reseeds_global", "global_state", "changed Python's or numpy's global random state"),
    ("smears_rows", "views", "is singular (it collapses the image onto a line"),
    ("flips_not_boxes", "views", "geometry() and apply() disagree"),
    ("stale_params", "schedules", "amount=steps(10, (1, 50)) resolved to 10 at epoch 0 and 10 at 1"),
])
def test_each_planted_defect_is_caught(plugin, check, message):
    report = check_plugin(sample_plugin(plugin), raise_on_failure=False)
    assert not report.ok
    failed = {f.check: f.message for f in report.failures}
    assert check in failed, str(report)
    assert message in failed[check]


def test_check_plugin_raises_a_readable_assertion():
    with pytest.raises(AssertionError) as info:
        check_plugin(sample_plugin("mutates"))
    text = str(info.value)
    assert text.startswith("gluon_augplug conformance report for plugin")
    assert "FAIL  Blackout  no_mutation" in text


def test_the_builtin_plugin_passes_the_harness():
    report = check_plugin("builtin")
    assert report.ok and len([f for f in report.findings if f.check == "builds"]) >= 33


@pytest.mark.pinned
def test_conformance_cases_for_an_installed_plugin(tmp_path, monkeypatch):
    from tests.conftest import make_distribution

    source = (importlib.util.find_spec("tests.testing.sample_plugins.good").origin)
    root = make_distribution(tmp_path, "augplug-good", "1.0", {"good": "augplug_good_copy"},
                             {"augplug_good_copy": open(source).read()})
    monkeypatch.syspath_prepend(str(root))
    cases = conformance_cases("good", checks=["builds", "seeded", "round_trip"])
    assert [str(c) for c in cases][:3] == ["Darken-builds", "Darken-seeded", "Darken-round_trip"]
    for case in cases:
        case.run()
    with pytest.raises(Exception, match="not installed"):
        conformance_cases("no-such-plugin")
