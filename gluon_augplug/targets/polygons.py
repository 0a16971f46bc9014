"""Polygons as a target kind: each instance's outline (GluonCV's ``segm``: a list per instance of (K, 2) x, y
arrays, or COCO's flat ``[x0, y0, x1, y1, ...]`` lists), moved vertex by vertex as keypoints are, exactly, and
rasterised on request (:func:`rasterize_polygons`), as GluonCV's Mask R-CNN transform rasterises them after
its resize and flip."""
from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from ..errors import InputError

MAX_VERTICES = 10_000_000  # of one image's polygons, all instances together


def as_polygons(value: Any, where: str = "polygons") -> list[list[np.ndarray]]:
    """``value`` (a list per instance of polygons) as lists of float64 (K, 2) arrays, or an InputError naming the
    instance and polygon at fault."""
    if not isinstance(value, (list, tuple)):
        raise InputError(f"{where}: expected a list with one list of polygons per instance, got {type(value).__name__}")
    out, total = [], 0
    for i, instance in enumerate(value):
        if not isinstance(instance, (list, tuple)):
            raise InputError(f"{where}[{i}]: expected a list of polygons ((K, 2) arrays or flat x, y lists), got "
                             f"{type(instance).__name__}")
        polygons = []
        for j, polygon in enumerate(instance):
            array = polygon.asnumpy() if hasattr(polygon, "asnumpy") else np.asarray(polygon)
            if array.dtype.kind not in "fiu":
                raise InputError(f"{where}[{i}][{j}]: expected numbers, got dtype {array.dtype}")
            if array.ndim == 1 and array.size % 2 == 0:  # COCO's flat [x0, y0, x1, y1, ...]
                array = array.reshape(-1, 2)
            if array.ndim != 2 or array.shape[1] != 2 or len(array) < 3:
                raise InputError(f"{where}[{i}][{j}]: expected a (K, 2) array of x, y with K >= 3 (or a flat list of "
                                 f"x, y pairs), got shape {tuple(array.shape)}")
            array = array.astype(np.float64)
            if not np.isfinite(array).all():
                raise InputError(f"{where}[{i}][{j}]: holds a value that is not a finite number")
            total += len(array)
            polygons.append(array)
        out.append(polygons)
    if total > MAX_VERTICES:
        raise InputError(f"{where}: {total:,} vertices, more than the limit of {MAX_VERTICES:,}")
    return out


def flatten(polygons: list[list[np.ndarray]]) -> np.ndarray:
    """Every vertex of every polygon as one (V, 2) array (one warp moves them all)."""
    arrays = [p for instance in polygons for p in instance]
    return np.concatenate(arrays) if arrays else np.zeros((0, 2))


def unflatten(points: np.ndarray, like: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    """``points`` cut back into the instances and polygons of ``like``."""
    out, start = [], 0
    for instance in like:
        moved = []
        for polygon in instance:
            moved.append(points[start:start + len(polygon)])
            start += len(polygon)
        out.append(moved)
    return out


def rasterize_polygons(polygons: Any, hw: tuple[int, int], backend: str = "auto") -> np.ndarray:
    """One (H, W) uint8 0/1 mask per instance, the union of its polygons, as an (N, H, W) array.

    Parameters
    ----------
    polygons : list
        One list of polygons per instance: (K, 2) x, y arrays or flat ``[x0, y0, ...]`` lists, in pixels.
    hw : (int, int)
        The image's height and width.
    backend : {"auto", "pycocotools", "numpy", "opencv"}
        ``"pycocotools"`` is GluonCV's ``gluoncv.data.transforms.mask.to_mask`` exactly (the same ``frPyObjects``,
        ``merge`` and ``decode``); ``"numpy"`` marks the pixels whose centres lie inside (what pycocotools draws
        but for a pixel here and there on the outline); ``"opencv"`` is ``cv2.fillPoly`` on vertices rounded to
        the pixel grid (it adds the outline's pixels: a row and a column more than the polygon covers);
        ``"auto"``: pycocotools when it is installed, else ``"numpy"``.
    """
    if backend not in ("auto", "pycocotools", "numpy", "opencv"):
        raise InputError(f"rasterize_polygons: backend={backend!r} is invalid; allowed: 'auto', 'pycocotools', "
                         f"'numpy', 'opencv'")
    h, w = int(hw[0]), int(hw[1])
    instances = as_polygons(polygons)
    masks = np.zeros((len(instances), h, w), np.uint8)
    cocomask: Any = None
    if backend in ("auto", "pycocotools"):
        try:
            cocomask = importlib.import_module("pycocotools.mask")
        except ImportError:
            if backend == "pycocotools":
                raise InputError("rasterize_polygons: backend='pycocotools' needs pycocotools (pip install "
                                 "pycocotools), or use backend='numpy'") from None
    import cv2

    for k, instance in enumerate(instances):
        if not instance:
            continue
        if cocomask is not None:
            rles = cocomask.frPyObjects([p.flatten().tolist() for p in instance], h, w)
            masks[k] = cocomask.decode(cocomask.merge(rles))
        elif backend == "opencv":
            limit = 4.0 * max(h, w, 1)
            for polygon in instance:  # one call each: fillPoly would cut the overlap of two polygons out (even-odd)
                cv2.fillPoly(masks[k], [np.round(np.clip(polygon, -limit, limit)).astype(np.int32)], 1)
        else:
            for polygon in instance:  # the union of the polygons, each filled even-odd
                _fill_centres(masks[k], np.asarray(polygon, np.float64))
    return masks


def _fill_centres(mask: np.ndarray, polygon: np.ndarray) -> None:
    """Set the pixels of ``mask`` whose centres lie inside ``polygon`` (even-odd rule), within its bounding box."""
    if len(polygon) < 3 or not np.isfinite(polygon).all():
        return
    h, w = mask.shape
    x, y = polygon[:, 0], polygon[:, 1]
    y0, y1 = max(int(np.floor(y.min())), 0), min(int(np.ceil(y.max())), h)
    x0, x1 = max(int(np.floor(x.min())), 0), min(int(np.ceil(x.max())), w)
    if y0 >= y1 or x0 >= x1:
        return
    centre_y = np.arange(y0, y1) + 0.5
    centre_x = np.arange(x0, x1) + 0.5
    inside = np.zeros((y1 - y0, x1 - x0), bool)
    for xa, ya, xb, yb in zip(x, y, np.roll(x, 1), np.roll(y, 1)):
        if ya == yb:
            continue
        rows = np.nonzero((ya > centre_y) != (yb > centre_y))[0]  # the rows whose centre line the edge crosses
        crossing = xa + (centre_y[rows] - ya) * (xb - xa) / (yb - ya)
        inside[rows] ^= centre_x[None, :] < crossing[:, None]
    mask[y0:y1, x0:x1] |= inside.astype(np.uint8)
