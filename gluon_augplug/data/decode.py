"""Moved to :mod:`gluon_augplug.io.decode` in 0.4 (the io layer, below the pipelines); this old name is that module
itself (what is set or patched through it reaches the readers) and warns."""
import sys

from .._deprecation import warn_deprecated as _warn
from ..io import decode as _moved

_warn("gluon_augplug.data.decode / data.formats / data.recordio / data.images")
sys.modules[__name__] = _moved
