"""The chapter's ``apply()`` + ``show_images()``: a grid of augmented copies of one image."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def displayable(img: Any) -> np.ndarray:
    """An augmented output as an HWC uint8 RGB image (CHW tensors are rescaled to 0-255)."""
    arr = img.asnumpy() if hasattr(img, "asnumpy") else np.asarray(img)
    if arr.ndim == 3 and arr.dtype != np.uint8 and arr.shape[0] in (1, 3) and arr.shape[2] not in (1, 3):
        arr = np.moveaxis(arr, 0, 2)
        lo, hi = float(arr.min()), float(arr.max())
        arr = (arr - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(arr)
    arr = np.clip(np.rint(arr), 0, 255).astype(np.uint8) if arr.dtype != np.uint8 else arr
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    return arr[:, :, :3]


def make_grid(images: Sequence[np.ndarray], rows: int, cols: int, gap: int = 4,
              background: int = 255) -> np.ndarray:
    """Tile ``rows * cols`` images (of any sizes) into one RGB image, each centred in its cell."""
    if len(images) != rows * cols:
        raise ValueError(f"make_grid: {len(images)} images for a {rows}x{cols} grid")
    images = [displayable(im) for im in images]
    cell_h = max(im.shape[0] for im in images)
    cell_w = max(im.shape[1] for im in images)
    grid = np.full((rows * cell_h + (rows + 1) * gap, cols * cell_w + (cols + 1) * gap, 3), background, np.uint8)
    for i, im in enumerate(images):
        r, c = divmod(i, cols)
        y = gap + r * (cell_h + gap) + (cell_h - im.shape[0]) // 2
        x = gap + c * (cell_w + gap) + (cell_w - im.shape[1]) // 2
        grid[y : y + im.shape[0], x : x + im.shape[1]] = im
    return grid


def augmentation_grid(image: np.ndarray, pipeline: Any, rows: int, cols: int) -> np.ndarray:
    """Apply ``pipeline`` ``rows * cols`` times to ``image`` and tile the results."""
    return make_grid([pipeline(image) for _ in range(rows * cols)], rows, cols)


def save_png(path: str, rgb: np.ndarray) -> None:
    """Write an RGB image atomically (temporary file, then rename)."""
    import os

    import cv2

    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    ok, data = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]))
    if not ok:
        raise OSError(f"could not encode {path!r} as PNG")
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data.tobytes())
    os.replace(tmp, path)
