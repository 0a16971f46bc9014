"""Reading images from disk with errors that name the file."""
from __future__ import annotations

import os

import numpy as np

from ..errors import AugplugError


class ImageReadError(AugplugError, OSError):
    """An image file that is missing, unreadable, truncated or not an image."""


def read_image(path: str) -> np.ndarray:
    """Read an image file as an RGB ``uint8`` HWC numpy array.

    Raises
    ------
    ImageReadError
        Naming the file and what is wrong with it (missing, not an image, truncated).
    """
    from .decode import decode_image
    from .formats import MAX_IMAGE_BYTES, DataFormatError, read_bounded

    if os.path.isdir(path):
        raise ImageReadError(f"{path!r} is a folder, not an image file")
    if not os.path.exists(path):
        raise ImageReadError(f"image file {path!r} does not exist")
    try:
        return decode_image(read_bounded(path, MAX_IMAGE_BYTES, "image file"), repr(path)).copy()
    except DataFormatError as exc:
        raise ImageReadError(str(exc)) from None
