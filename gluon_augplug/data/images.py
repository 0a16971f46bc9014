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
    import io

    from PIL import Image, UnidentifiedImageError

    from .formats import MAX_IMAGE_BYTES, DataFormatError, check_pixels, open_image, read_bounded

    if os.path.isdir(path):
        raise ImageReadError(f"{path!r} is a folder, not an image file")
    if not os.path.exists(path):
        raise ImageReadError(f"image file {path!r} does not exist")
    try:
        data = read_bounded(path, MAX_IMAGE_BYTES, "image file")
        with open_image(io.BytesIO(data)) as im:
            check_pixels(im.size, repr(path))
            im.load()  # decodes fully: a truncated file raises here rather than yielding gray rows
            return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
    except DataFormatError as exc:
        raise ImageReadError(str(exc)) from None
    except Image.DecompressionBombError:
        raise ImageReadError(f"{path!r} claims too many pixels (a decompression bomb?): not decoded") from None
    except UnidentifiedImageError:
        raise ImageReadError(f"{path!r} is not an image file PIL can read (JPEG, PNG, ...)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(f"image file {path!r} is corrupt or truncated: {exc}") from None
