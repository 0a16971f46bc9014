"""MXNet is optional: the core (pipelines, presets, targets, clips, RecordIO and image readers, the plugin
harness) runs on numpy alone; the parts that run on MXNet import it through :func:`require_mxnet`, which
names the extra to install when it is missing."""
from __future__ import annotations

import importlib.util
from types import ModuleType

from .errors import MXNetMissingError


def mxnet_installed() -> bool:
    """Whether ``import mxnet`` can find MXNet (without importing it: that takes a second)."""
    try:
        return importlib.util.find_spec("mxnet") is not None
    except (ImportError, ValueError):  # a stub module of that name without a spec
        return False


def require_mxnet(what: str) -> ModuleType:
    """``mxnet``, imported; or :class:`~gluon_augplug.errors.MXNetMissingError` saying that ``what`` needs it
    and how to install it. An error raised while MXNet itself imports is left as it is."""
    try:
        import mxnet
    except ModuleNotFoundError as exc:
        if exc.name != "mxnet":
            raise
        raise MXNetMissingError(what) from None
    return mxnet


#: The modules that run on MXNet and say so when it is missing; every other module imports without it
#: (checked module by module by tests/test_core_without_mxnet.py).
MXNET_ONLY_MODULES = (
    "gluon_augplug.train.evaluate",
    "gluon_augplug.train.loop",
    "gluon_augplug.train.models",
    "gluon_augplug.train.report",
    "gluon_augplug.transforms.block",
)
