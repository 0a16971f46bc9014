"""Data: offline readers of CIFAR-10 and image trees, and per-sample seeded augmentation of any data set.

Names are imported on first use (MXNet is not imported by ``import gluon_augplug.data``).
"""
from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "CIFAR10": "gluon_augplug.data.cifar",
    "open_dataset": "gluon_augplug.data.datasets",
    "ImageDataset": "gluon_augplug.data.datasets",
    "augment": "gluon_augplug.data.augment",
    "AugmentedDataset": "gluon_augplug.data.augment",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gluon_augplug.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
