"""A test harness for plugin authors: fixtures, sample images and conformance checks.

``gluon_augplug`` registers :mod:`gluon_augplug.testing.pytest_plugin` with pytest (the
``pytest11`` entry point), so a plugin's tests can use the fixtures right away; the
conformance checks run with one call::

    from gluon_augplug.testing import check_plugin

    def test_my_plugin_conforms():
        check_plugin("gridmask")          # raises AssertionError with a readable report

or one test per transform and check::

    from gluon_augplug.testing import conformance_cases

    @pytest.mark.parametrize("case", conformance_cases("gridmask"), ids=str)
    def test_conformance(case):
        case.run()
"""
from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "check_plugin": "gluon_augplug.testing.conformance",
    "augmented_epoch": "gluon_augplug.testing.epochs",
    "check_transform": "gluon_augplug.testing.conformance",
    "conformance_cases": "gluon_augplug.testing.conformance",
    "CHECKS": "gluon_augplug.testing.conformance",
    "Report": "gluon_augplug.testing.conformance",
    "sample_images": "gluon_augplug.testing.samples",
    "cat_image": "gluon_augplug.testing.samples",
    "cifar10_samples": "gluon_augplug.testing.samples",
    "isolated_plugin_system": "gluon_augplug.testing.isolation",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:  # imports MXNet only when a check is used
    if name not in _LAZY:
        raise AttributeError(f"module 'gluon_augplug.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)
