"""Moved to :mod:`gluon_augplug.visual.grid` (kept so that older imports keep working)."""
from ..visual.grid import augmentation_grid, displayable, make_grid, save_image, save_png  # noqa: F401
