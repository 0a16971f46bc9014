"""Real photographs for the streaming readers: the cat and scikit-image's photos, cut and sized as
ImageNet's typical 500x375 JPEGs (quality 90), written as an image tree <class>/<image>."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.conftest import shared_file

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")


def real_photos() -> list[np.ndarray]:
    import skimage.data

    photos = [getattr(skimage.data, name)()[..., :3] for name in PHOTOS]
    photos.append(cv2.imread(str(shared_file("cat1.jpg")))[:, :, ::-1])
    return [np.ascontiguousarray(p) for p in photos]


def write_photo_tree(root: Path, count: int, classes: int = 3, seed: int = 0, size: tuple[int, int] = (500, 375)) -> Path:
    """``count`` random crops of the real photos, resized to ``size`` (w, h), as root/class_k/NNN.jpg."""
    rng = np.random.default_rng(seed)
    photos = real_photos()
    for k in range(count):
        photo = photos[k % len(photos)]
        h, w = photo.shape[:2]
        ch, cw = int(h * rng.uniform(0.6, 1.0)), int(w * rng.uniform(0.6, 1.0))
        y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        crop = cv2.resize(photo[y:y + ch, x:x + cw], size, interpolation=cv2.INTER_AREA)
        folder = root / f"class_{k % classes}"
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{k:03d}.jpg"), crop[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    return root


@pytest.fixture(scope="session")
def photo_tree(tmp_path_factory) -> Path:
    """13 real photographs in 3 class folders (5, 4 and 4 images)."""
    return write_photo_tree(tmp_path_factory.mktemp("photos") / "tree", 13)


@pytest.fixture(scope="session")
def photo_rec(photo_tree, tmp_path_factory) -> Path:
    """``photo_tree`` packed by ``augplug pack`` (in tree order) into photos.rec + photos.idx."""
    from gluon_augplug.data.pack import pack

    out = tmp_path_factory.mktemp("rec") / "photos"
    pack(str(photo_tree), str(out))
    return Path(str(out) + ".rec")
