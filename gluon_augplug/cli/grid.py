"""Moved to :mod:`gluon_augplug.visual.grid` (kept so that older imports keep working)."""
from .._deprecation import warn_deprecated

warn_deprecated("gluon_augplug.cli.grid")

from ..visual.grid import augmentation_grid, displayable, make_grid, save_image, save_png  # noqa: E402,F401
