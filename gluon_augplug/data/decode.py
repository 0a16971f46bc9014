"""Moved to :mod:`gluon_augplug.io.decode` in 0.4 (the io layer, below the pipelines); this old name keeps working
and warns."""
from .._deprecation import warn_deprecated as _warn

_warn("gluon_augplug.data.decode / data.formats / data.recordio / data.images")

from ..io.decode import *  # noqa: E402,F401,F403
from ..io import decode as _moved  # noqa: E402

globals().update({k: v for k, v in vars(_moved).items() if not k.startswith("__")})
