"""Readers of CIFAR-10's official formats and of image-folder trees, from folders or archives.

The parsers return ``(images, labels)`` for one file, where ``images`` is a uint8 NHWC
array. Nothing is downloaded and no checksum is fetched. Every error names the file, the
record and the offset.

What is read is bounded by what the formats hold, so that an archive or a file that expands
without bound (a compressed bomb, a link to ``/dev/zero``) is refused before it fills memory:
a batch file at most ``MAX_BATCH_BYTES``, an encoded image at most ``MAX_IMAGE_BYTES``, a
decoded image at most ``MAX_IMAGE_PIXELS`` pixels; only regular files are read.
"""
from __future__ import annotations

import io
import pickle
from typing import Any, Iterable

import numpy as np

from .. import _files
from ..errors import AugplugError

from ..constants import CIFAR10_CLASSES  # noqa: F401 (read from here by datasets.py)
RECORD = 1 + 3 * 32 * 32
BINARY_FILES = {"train": [f"data_batch_{i}.bin" for i in range(1, 6)], "test": ["test_batch.bin"]}
PYTHON_FILES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".webp")
# the image formats decoded; others (EPS through Ghostscript, PDF, ...) are refused, never handed to tools
IMAGE_FORMATS = ("JPEG", "PNG", "BMP", "PPM", "WEBP", "GIF", "TIFF")
MAX_BATCH_BYTES = 256 * 2**20  # the official batches are 30.7 MB (10,000 records)
MAX_IMAGE_BYTES = 64 * 2**20
MAX_IMAGE_PIXELS = 89_478_485  # PIL's own default: a 9459 x 9459 image, 268 MB as RGB


class DataFormatError(AugplugError, ValueError):
    """A data file that is truncated, corrupt or not in the expected format."""


def read_bounded(path: str, limit: int, what: str) -> bytes:
    """Read a regular file of at most ``limit`` bytes; :class:`DataFormatError` otherwise."""
    return _files.read_bounded(path, limit, what, DataFormatError)


def check_size(size: int, limit: int, name: str, what: str) -> None:
    _files.check_size(size, limit, name, what, DataFormatError)


def _check_labels(labels: np.ndarray, name: str, offset_of) -> None:
    bad = np.flatnonzero(labels > 9)
    if bad.size:
        i = int(bad[0])
        raise DataFormatError(f"{name}: record {i} (offset {offset_of(i)}) has label {int(labels[i])}, "
                              f"not a CIFAR-10 class (0-9)")


def parse_cifar_binary(data: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """One ``*.bin`` file: records of 1 label byte + 3,072 pixel bytes (R, G, B planes of 32x32)."""
    whole, rest = divmod(len(data), RECORD)
    if rest or not whole:
        raise DataFormatError(f"{name} is truncated or not a CIFAR-10 binary batch: {len(data)} bytes hold {whole} "
                              f"whole {RECORD}-byte records and {rest} bytes of record {whole} "
                              f"(which starts at offset {whole * RECORD})")
    records = np.frombuffer(data, np.uint8).reshape(whole, RECORD)
    labels = records[:, 0].astype(np.int32)
    _check_labels(labels, name, lambda i: i * RECORD)
    images = records[:, 1:].reshape(whole, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


class _BatchUnpickler(pickle.Unpickler):
    """Unpickles CIFAR-10's python batches only: dicts, lists, bytes and numpy arrays; nothing callable."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: a CIFAR-10 batch holds only data")
        return super().find_class(module, name)


def parse_cifar_python(data: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """One pickled batch: a dict with ``b'data'`` (N x 3072 uint8) and ``b'labels'``."""
    stream = io.BytesIO(data)
    try:
        batch = _BatchUnpickler(stream, encoding="bytes").load()
    except Exception as exc:  # truncated pickles raise EOFError, UnpicklingError, ValueError...
        raise DataFormatError(f"{name} is truncated or corrupt: cannot unpickle it ({type(exc).__name__}: {exc}; "
                              f"read up to offset {stream.tell()} of {len(data)} bytes)") from None
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        keys = sorted(batch) if isinstance(batch, dict) else type(batch).__name__
        raise DataFormatError(f"{name} is not a CIFAR-10 python batch: expected a dict with b'data' and b'labels', "
                              f"got {keys}")
    pixels = np.asarray(batch[b"data"])
    if pixels.dtype != np.uint8 or pixels.ndim != 2 or pixels.shape[1] != 3072:
        raise DataFormatError(f"{name}: b'data' must be an N x 3072 uint8 array, got {pixels.dtype} {pixels.shape}")
    labels = _integer_labels(batch[b"labels"], name)
    if labels.shape != (pixels.shape[0],):
        raise DataFormatError(f"{name}: {pixels.shape[0]} images but {labels.size} labels "
                              f"(record {min(pixels.shape[0], labels.size)} is incomplete)")
    images = pixels.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype(np.int32)


def _integer_labels(values, name: str) -> np.ndarray:
    """CIFAR labels as int64: integers only (a float label is a broken file, not something to truncate)."""
    if not isinstance(values, (list, tuple, np.ndarray)):
        raise DataFormatError(f"{name}: b'labels' must be a list of integers, got {type(values).__name__}")
    for i, v in enumerate(values):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise DataFormatError(f"{name}: record {i} has label {str(v)[:40]} ({type(v).__name__}), "
                                  f"not an integer CIFAR-10 class (0-9)")
        if not 0 <= v <= 9:
            raise DataFormatError(f"{name}: record {i} has label {str(v)[:40]}, not a CIFAR-10 class (0-9)")
    return np.asarray(values, dtype=np.int64).reshape(-1)


def open_image(stream: Any) -> Any:
    """``PIL.Image.open`` without PIL's bomb warning: :func:`check_pixels` refuses such images with our error."""
    import warnings

    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return Image.open(stream, formats=IMAGE_FORMATS)


def check_pixels(size: tuple[int, int], name: str) -> None:
    """Refuse an image whose header claims more than ``MAX_IMAGE_PIXELS`` pixels, before decoding it."""
    width, height = size
    if width * height > MAX_IMAGE_PIXELS:
        raise DataFormatError(f"{name} is {width}x{height} = {width * height:,} pixels, more than the limit of "
                              f"{MAX_IMAGE_PIXELS:,} (a decompression bomb?): not decoded")


def stack_or_list(images: Iterable[np.ndarray]) -> np.ndarray | list:
    """One uint8 NHWC array when every image has the same shape, else the list."""
    images = list(images)
    if images and all(im.shape == images[0].shape for im in images):
        return np.stack(images)
    return images
