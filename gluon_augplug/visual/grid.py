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


MAX_GRID_SIDE = 64  # rows or columns of a grid
MAX_GRID_BYTES = 2**30  # the augmented images a grid holds, before it is drawn
IMAGE_FORMATS = {".png": ".png", ".jpg": ".jpg", ".jpeg": ".jpg", ".bmp": ".bmp", ".webp": ".webp"}


def augmentation_grid(image: np.ndarray, pipeline: Any, rows: int, cols: int, boxes: np.ndarray | None = None,
                      mask: np.ndarray | None = None, names: Sequence[str] | None = None) -> np.ndarray:
    """Apply ``pipeline`` ``rows * cols`` times to ``image`` and tile the results; with ``boxes`` (pixel
    xyxy in the pipeline's box format, class id in column 4) or ``mask``, each copy shows them moved.

    Raises
    ------
    InputError
        The augmented images would take more than ``MAX_GRID_BYTES`` of memory.
    """
    from ..errors import InputError

    from .targets import draw_targets

    images, total = [], 0
    for _ in range(rows * cols):
        if boxes is None and mask is None:
            out = pipeline(image)
        else:
            from ..targets.formats import to_xyxy

            result = pipeline.apply(image, boxes=boxes, masks=mask)
            shown = displayable(result.image)
            moved = None if result.boxes is None else to_xyxy(np.asarray(result.boxes, np.float64),
                                                              pipeline.target_options.box_format, shown.shape[:2])
            out = draw_targets(shown, moved, result.masks, names)
        total += int(np.prod(getattr(out, "shape", ()))) * 4
        if total > MAX_GRID_BYTES:
            raise InputError(f"a {rows}x{cols} grid of these images would need more than {MAX_GRID_BYTES >> 20} "
                             f"MB: use fewer rows and columns or a smaller image")
        images.append(out)
    return make_grid(images, rows, cols)


def clip_strips(clip: np.ndarray, pipeline: Any, copies: int) -> np.ndarray:
    """``copies`` augmented copies of ``clip`` (T frames), a row each: a strip of its frames, so that the one
    draw every frame of a copy gets is seen across the row (views of ThreeCrop/TenCrop make the row longer)."""
    from ..errors import InputError

    rows, total = [], 0
    for _ in range(copies):
        out = pipeline(clip)
        total += int(np.prod(getattr(out, "shape", ()))) * 4
        if total > MAX_GRID_BYTES:
            raise InputError(f"{copies} copies of this clip would need more than {MAX_GRID_BYTES >> 20} MB: use "
                             f"fewer rows or frames")
        rows.append(list(out))
    return make_grid([frame for row in rows for frame in row], copies, len(rows[0]))


def read_clip(path: str, frames: int) -> np.ndarray:
    """``frames`` evenly spaced frames of a video file or of a folder of frame images (sorted by name)."""
    import os

    from ..io.formats import DataFormatError
    from ..io.images import read_image
    from ..data.video import read_video, video_length
    from ..errors import InputError

    if not 1 <= frames <= MAX_GRID_SIDE:
        raise InputError(f"--frames must be in [1, {MAX_GRID_SIDE}], got {frames}")
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if os.path.splitext(n)[1].lower() in
                       (".jpg", ".jpeg", ".png", ".bmp", ".webp"))
        if not names:
            raise DataFormatError(f"{path!r} holds no frame images (.jpg, .png, .bmp, .webp)")
        picks = np.linspace(0, len(names) - 1, min(frames, len(names))).round().astype(int)
        clip = [read_image(os.path.join(path, names[i])) for i in picks]
        if len({f.shape for f in clip}) > 1:
            raise DataFormatError(f"the frames of {path!r} have different sizes")
        return np.stack(clip)
    length = video_length(path)
    return read_video(path, np.linspace(0, length - 1, min(frames, length)).round().astype(int).tolist())


def check_output_path(path: str) -> str:
    """The image format ``path``'s suffix asks for; its folder must exist (nothing is created).

    Raises
    ------
    InputError
        An unknown suffix, a missing folder, or a path that is a folder.
    """
    import os

    from ..errors import InputError

    suffix = os.path.splitext(path)[1].lower()
    if suffix not in IMAGE_FORMATS:
        raise InputError(f"cannot tell the image format of {path!r}: name it .png, .jpg, .bmp or .webp")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InputError(f"the folder of {path!r} does not exist ({folder}); create it first")
    if os.path.isdir(path):
        raise InputError(f"{path!r} is a folder")
    return IMAGE_FORMATS[suffix]


def save_image(path: str, rgb: np.ndarray, quality: int = 95) -> None:
    """Write an RGB image in the format of ``path``'s suffix (JPEG at ``quality``), atomically (a temporary
    file, then a rename; on any error the temporary file is removed and ``path`` is untouched)."""
    import cv2

    from .._files import atomic_write

    ext = check_output_path(path)
    options = [cv2.IMWRITE_JPEG_QUALITY, int(quality)] if ext == ".jpg" else []
    ok, data = cv2.imencode(ext, np.ascontiguousarray(rgb[:, :, ::-1]), options)
    if not ok:
        raise OSError(f"could not encode {path!r} as {ext[1:].upper()}")
    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(data.tobytes())

    atomic_write(path, write)


def save_png(path: str, rgb: np.ndarray) -> None:
    """Write an RGB PNG atomically, creating its folder (for the files a run writes into its own folder)."""
    import os

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    save_image(path, rgb)
