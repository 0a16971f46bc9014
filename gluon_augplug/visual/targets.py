"""Drawing boxes and masks on augmented images, and reading them for ``augplug show``."""
from __future__ import annotations

import math
import os
from typing import Any, Sequence

import cv2
import numpy as np

from ..io.formats import DataFormatError
from ..errors import InputError

# distinct, colour-blind-friendly colours (Okabe-Ito), cycled by class id / mask id
PALETTE = np.array([[230, 159, 0], [86, 180, 233], [0, 158, 115], [240, 228, 66], [0, 114, 178], [213, 94, 0],
                    [204, 121, 167], [0, 0, 0]], np.uint8)


def draw_targets(image: np.ndarray, boxes: np.ndarray | None = None, mask: np.ndarray | None = None,
                 names: Sequence[str] | None = None) -> np.ndarray:
    """``image`` (HWC uint8 RGB) with ``mask``'s non-zero ids tinted and ``boxes`` (pixel xyxy, class id
    in column 4 if any) outlined and labelled with ``names``; a new array."""
    out = image.copy()
    if mask is not None:
        ids = mask if mask.ndim == 2 else np.argmax(mask, axis=2) + (mask.max(axis=2) > 0)
        where = ids != 0  # one pass for every id (a pass per id would take hours on a 16-bit mask)
        colour = PALETTE[(ids[where].astype(np.int64) % len(PALETTE))].astype(np.float64)
        out[where] = np.rint(0.55 * out[where] + 0.45 * colour).astype(np.uint8)
    if boxes is not None:
        thickness = max(1, round(max(out.shape[:2]) / 200))
        for row in np.asarray(boxes, np.float64):
            if np.all(row[:4] == -1):
                continue
            cls = int(row[4]) if len(row) > 4 and row[4] >= 0 else 0
            colour = tuple(int(c) for c in PALETTE[cls % len(PALETTE)])
            x0, y0, x1, y1 = (int(round(v)) for v in row[:4])
            cv2.rectangle(out, (x0, y0), (max(x0, x1 - 1), max(y0, y1 - 1)), colour, thickness)
            label = names[cls] if names is not None and 0 <= cls < len(names) else (str(cls) if len(row) > 4 else "")
            if label:
                scale = max(0.35, thickness * 0.35)
                (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
                top = max(y0 - th - 4, 0)
                cv2.rectangle(out, (x0, top), (x0 + tw + 4, top + th + 4), colour, -1)
                cv2.putText(out, label, (x0 + 2, top + th + 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1,
                            cv2.LINE_AA)
    return out


def read_boxes(source: str, box_format: str = "xyxy") -> tuple[np.ndarray, list[str] | None]:
    """Boxes for ``augplug show --boxes``: a Pascal VOC XML file, a JSON file (a list of boxes, or
    ``{"boxes": [...], "names": [...]}``), or literal boxes ``"x0,y0,x1,y1[,class];..."``.
    Returns (N, 5) boxes in ``box_format`` with a class column, and the class names if known."""
    from ..data.detection import _parse_voc

    if source.lower().endswith(".xml"):
        if box_format != "xyxy":
            raise InputError("--boxes: a VOC XML file holds xyxy boxes; drop --box-format")
        objects = _parse_voc(source)
        names = sorted({name for name, _, _ in objects})
        index = {name: i for i, name in enumerate(names)}
        rows = [[*box, index[name]] for name, box, _ in objects]
        return np.asarray(rows, np.float64).reshape(-1, 5), names
    if source.lower().endswith(".json") or os.path.isfile(source):
        from ..data.detection import read_json

        try:
            data = read_json(source, "--boxes file", MAX_BOXES_JSON_BYTES)
        except (FileNotFoundError, DataFormatError) as exc:
            raise InputError(str(exc)) from None
        names = _names(data.get("names"), source) if isinstance(data, dict) else None
        rows = data.get("boxes") if isinstance(data, dict) else data
        return _rows(rows, source), names
    try:
        rows = [[float(v) for v in part.split(",")] for part in source.split(";") if part.strip()]
    except ValueError:
        raise InputError(f"--boxes: {source!r} is no XML or JSON file and not boxes like "
                         f"'35,88,470,318;35,158,110,250'") from None
    return _rows(rows, "--boxes"), None


from ..targets.formats import MAX_BOXES  # noqa: E402  (boxes drawn on one image)

MAX_BOXES_JSON_BYTES = 16 * 2**20  # 100,000 boxes as JSON; parsed JSON takes up to ~24x its size


def _rows(rows: Any, where: str) -> np.ndarray:
    shape = "a list of boxes [x0, y0, x1, y1] or [x0, y0, x1, y1, class]"
    if not isinstance(rows, list) or not all(isinstance(r, (list, tuple)) and len(r) in (4, 5) for r in rows):
        raise InputError(f"{where}: expected {shape}")
    if len(rows) > MAX_BOXES:
        raise InputError(f"{where}: {len(rows):,} boxes, more than the limit of {MAX_BOXES:,}")
    for k, row in enumerate(rows):
        for v in row:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or abs(v) > 1e9:
                raise InputError(f"{where}: box {k} holds {str(v)[:40]!r}, not a finite number (expected {shape})")
    return np.asarray([list(r) + ([k] if len(r) == 4 else []) for k, r in enumerate(rows)], np.float64).reshape(-1, 5)


def _names(names: Any, where: str) -> list[str] | None:
    if names is None:
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) and len(n) <= 200 for n in names):
        raise InputError(f"{where}: 'names' must be a list of class names (strings of at most 200 characters)")
    return names


def read_mask(path: str, hw: tuple[int, int]) -> np.ndarray:
    """A label mask image (palette PNG indices as VOC's SegmentationClass, or gray values) of size ``hw``."""
    import io

    from PIL import Image

    from ..io.formats import MAX_IMAGE_BYTES, check_pixels, open_image, read_bounded

    if not os.path.lexists(path):
        raise InputError(f"--mask: {path!r} does not exist")
    try:  # a regular file, bounded, opened only as the documented formats (never EPS through Ghostscript)
        with open_image(io.BytesIO(read_bounded(path, MAX_IMAGE_BYTES, "mask image"))) as im:
            check_pixels(im.size, f"--mask {path}")
            mask = np.array(im if im.mode in ("P", "L", "I", "I;16") else im.convert("L"))
    except DataFormatError as exc:
        raise InputError(f"--mask: {exc}") from None
    except Image.DecompressionBombError:
        raise InputError(f"--mask: {path} claims more pixels than any mask may have (a decompression bomb?)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"--mask: {path} is not a readable PNG, JPEG, BMP, PPM, WebP, GIF or TIFF image "
                         f"({exc})") from None
    if mask.shape[:2] != tuple(hw):
        raise InputError(f"--mask: {path} is {mask.shape[1]}x{mask.shape[0]}, the image {hw[1]}x{hw[0]}")
    return mask
