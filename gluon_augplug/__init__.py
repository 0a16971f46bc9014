"""Image augmentation for MXNet Gluon and GluonCV, extensible through pluggy plugins.

Importing this package is cheap: neither MXNet nor any plugin is imported until a
name below is first used (``build_pipeline``, ``get_registry``, ``augment``...).

Examples
--------
>>> from gluon_augplug import build_pipeline
>>> train_augs = build_pipeline("RandomFlipLeftRight, ToTensor", seed=0)
"""
from __future__ import annotations

from ._lazy import lazy_names
from ._version import __version__

# public name -> module that defines it; resolved on first attribute access (PEP 562)
_LAZY = {
    "hookimpl": "gluon_augplug.plugins.hookspecs",
    "hookspec": "gluon_augplug.plugins.hookspecs",
    "get_registry": "gluon_augplug.plugins.manager",
    "get_plugin_manager": "gluon_augplug.plugins.manager",
    "get_plugin_system": "gluon_augplug.plugins.manager",
    "reload_plugins": "gluon_augplug.plugins.manager",
    "build_pipeline": "gluon_augplug.pipeline.build",
    "Pipeline": "gluon_augplug.pipeline.pipeline",
    "Transform": "gluon_augplug.transforms.base",
    "Param": "gluon_augplug.params",
    "TargetMode": "gluon_augplug.targets.modes",
    "ImageHybridBlock": "gluon_augplug.transforms.block",
    "augment": "gluon_augplug.data.augment",
    "AugmentedDataset": "gluon_augplug.data.augment",
}

__all__ = ["__version__", *sorted(_LAZY)]


__getattr__ = lazy_names(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
