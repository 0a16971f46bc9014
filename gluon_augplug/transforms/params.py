"""Parameter checks of gluon_augplug 0.1, kept for plugins that import them from here.

New code declares its parameters with :mod:`gluon_augplug.params` instead.
"""
from .._deprecation import warn_deprecated

warn_deprecated("gluon_augplug.transforms.params")

from .._validate import (INTERPOLATIONS, MAX_SIDE, MIN_STD, ParameterError, fill_value, interpolation, number,  # noqa: E402,F401
                         one_of, pair, per_channel, probability, size_wh)
from .._validate import _interval, _is_number  # noqa: E402,F401
