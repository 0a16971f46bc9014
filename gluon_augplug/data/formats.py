"""Readers of CIFAR-10's official formats and of image-folder trees, from folders or archives.

Each reader returns ``(images, labels, classes)`` for one split, where ``images`` is a
uint8 NHWC array (or a list of encoded images, for trees of mixed sizes). Nothing is
downloaded and no checksum is fetched. Every error names the file, the record and the offset.
"""
from __future__ import annotations

import io
import pickle
from typing import Iterable

import numpy as np

from ..errors import AugplugError

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
RECORD = 1 + 3 * 32 * 32
BINARY_FILES = {"train": [f"data_batch_{i}.bin" for i in range(1, 6)], "test": ["test_batch.bin"]}
PYTHON_FILES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".webp")


class DataFormatError(AugplugError, ValueError):
    """A data file that is truncated, corrupt or not in the expected format."""


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
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if pixels.dtype != np.uint8 or pixels.ndim != 2 or pixels.shape[1] != 3072:
        raise DataFormatError(f"{name}: b'data' must be an N x 3072 uint8 array, got {pixels.dtype} {pixels.shape}")
    if labels.shape != (pixels.shape[0],):
        raise DataFormatError(f"{name}: {pixels.shape[0]} images but {labels.size} labels "
                              f"(record {min(pixels.shape[0], labels.size)} is incomplete)")
    if labels.size and labels.min() < 0:
        i = int(np.argmin(labels))
        raise DataFormatError(f"{name}: record {i} has label {int(labels[i])}, not a CIFAR-10 class (0-9)")
    _check_labels(labels.astype(np.int32), name, lambda i: f"row {i} of b'data'")
    images = pixels.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype(np.int32)


def decode_image(data: bytes, name: str) -> np.ndarray:
    """Decode an encoded image fully (a truncated file raises instead of yielding gray rows)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            return np.asarray(im.convert("RGB"), dtype=np.uint8)
    except UnidentifiedImageError:
        raise DataFormatError(f"{name} is not an image file (JPEG, PNG, ...)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise DataFormatError(f"{name} is corrupt or truncated ({len(data)} bytes): {exc}") from None


def stack_or_list(images: Iterable[np.ndarray]) -> np.ndarray | list:
    """One uint8 NHWC array when every image has the same shape, else the list."""
    images = list(images)
    if images and all(im.shape == images[0].shape for im in images):
        return np.stack(images)
    return images
