"""Moved to :mod:`gluon_augplug.io.formats` in 0.4 (the io layer, below the pipelines); this old name warns, and
every name read, set or patched through it is io.formats' own (so a limit changed here reaches the readers), plus
``decode_image``, whose home this was (the one decoder, :func:`gluon_augplug.io.decode.decode_image`, now)."""
import sys
import types
from typing import Any

from .._deprecation import warn_deprecated as _warn
from ..io import formats as _moved
from ..io.decode import decode_image  # noqa: F401

_warn("gluon_augplug.data.decode / data.formats / data.recordio / data.images")


class _Forwarding(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        return getattr(_moved, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("__") or name == "decode_image":
            super().__setattr__(name, value)
        else:
            setattr(_moved, name, value)

    def __delattr__(self, name: str) -> None:
        delattr(_moved, name)


sys.modules[__name__].__class__ = _Forwarding
