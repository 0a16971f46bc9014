"""Real sample images shipped with the package: the D2L cat photo and 20 CIFAR-10 images."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from ..constants import CIFAR10_CLASSES

DATA = Path(__file__).parent / "data"


@lru_cache(maxsize=None)
def cat_image() -> np.ndarray:
    """The 500x400 cat photo of Dive into Deep Learning's augmentation chapter (RGB uint8, HWC, read-only)."""
    from ..io.images import read_image

    img = read_image(str(DATA / "cat.jpg"))
    img.setflags(write=False)
    return img


@lru_cache(maxsize=None)
def cifar10_samples() -> tuple[np.ndarray, np.ndarray]:
    """Two real CIFAR-10 test images per class: ``(images (20, 32, 32, 3) uint8, labels (20,))``, read-only."""
    with np.load(DATA / "cifar10_samples.npz") as data:
        images, labels = data["images"], data["labels"]
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def sample_images() -> dict[str, np.ndarray]:
    """Named sample images of several sizes: the cat, a smaller cat, and CIFAR-10 images."""
    cat = cat_image()
    images = {"cat": cat, "cat_small": np.ascontiguousarray(cat[::4, ::4])}
    cifar, labels = cifar10_samples()
    for i in (0, 7, 13):
        images[f"cifar_{CIFAR10_CLASSES[labels[i]]}"] = cifar[i]
    for img in images.values():
        img.setflags(write=False)
    return images
