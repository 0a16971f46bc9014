"""Tests of the GridMask plugin, written with gluon_augplug's test harness (its pytest fixtures
are there because gluon-augplug is installed)."""
from __future__ import annotations

import numpy as np
import pytest

from gluon_augplug import build_pipeline
from gluon_augplug.errors import ParameterError
from gluon_augplug.testing import check_plugin


def test_plugin_conforms():
    check_plugin("gridmask")  # strict load + every conformance check; raises with a report


def test_found_by_name_once_installed(augplug_load_plugins, augplug_cat):
    augplug_load_plugins("gridmask")
    out = build_pipeline("GridMask(d_range=(40, 60), ratio=0.5, p=1.0)", seed=0)(augplug_cat)
    assert out.shape == augplug_cat.shape and out.dtype == np.uint8
    preset = build_pipeline("cifar10-gridmask", seed=0)
    assert [t.spec_name for t in preset][-2:] == ["ToTensor", "Normalize"]


@pytest.mark.parametrize("ratio", [0.3, 0.5, 0.7])
def test_dropped_fraction_is_about_ratio_squared(augplug_load_plugins, ratio):
    augplug_load_plugins("gridmask")
    white = np.full((96, 96, 3), 255, np.uint8)
    pipe = build_pipeline(f"GridMask(d_range=(8, 16), ratio={ratio}, p=1.0)", seed=1)
    dropped = np.mean([(pipe(white)[:, :, 0] == 0).mean() for _ in range(300)])
    # squares of round(d * ratio) pixels every d pixels, d uniform in 8..16
    expected = np.mean([(round(d * ratio) / d) ** 2 for d in range(8, 17)])
    assert abs(expected - ratio ** 2) < 0.03
    assert abs(dropped - expected) < 0.03


def test_mode_1_keeps_only_the_squares_and_p_0_does_nothing(augplug_load_plugins, augplug_cat):
    augplug_load_plugins("gridmask")
    _, record = build_pipeline("GridMask(p=1.0)", seed=2).apply_with_params(augplug_cat)
    drop = build_pipeline("GridMask(p=1.0)").replay(augplug_cat, record)
    keep = build_pipeline("GridMask(p=1.0, mode=1)").replay(
        augplug_cat, {**record, "children": [{**record["children"][0], "name": "GridMask"}]})
    assert ((drop == 0) | (keep == 0)).all()
    assert np.array_equal(build_pipeline("GridMask(p=0.0)")(augplug_cat), augplug_cat)


def test_bad_parameters(augplug_load_plugins):
    augplug_load_plugins("gridmask")
    for spec, param in [("GridMask(d_range=(16, 8))", "d_range"), ("GridMask(ratio=1.5)", "ratio"),
                        ("GridMask(mode=2)", "mode"), ("GridMask(p=-1)", "p")]:
        with pytest.raises(ParameterError) as info:
            build_pipeline(spec)
        assert info.value.param == param
