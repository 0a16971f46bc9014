"""Moving boxes, keypoints and masks by a geometric step's 3x3 forward map.

Maps are in edge coordinates: pixel ``(i, j)`` covers ``[j, j + 1) x [i, i + 1)``, the image
``[0, W] x [0, H]``. OpenCV's warp matrices are in index coordinates (pixel centres at
integers): :func:`from_index_matrix` converts one.
"""
from __future__ import annotations

from typing import Any

import numpy as np

# the clip ufunc itself: np.clip's argument checks cost more than the work on a few boxes or indices. numpy 2
# moved it to numpy._core (reading numpy.core there warns); numpy 1.26 has a numpy._core without umath.
try:
    from numpy._core.umath import clip as _UFUNC_CLIP  # type: ignore[import-not-found,no-redef]
except ImportError:
    from numpy.core.umath import clip as _UFUNC_CLIP  # type: ignore[no-redef,attr-defined]

_TO_INDEX = np.array([[1.0, 0.0, -0.5], [0.0, 1.0, -0.5], [0.0, 0.0, 1.0]])
_FROM_INDEX = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])


def invert_affine(maps: np.ndarray) -> np.ndarray:
    """Inverses of affine maps, one (3, 3) or a stack (N, 3, 3) (2x3 rows are read as affine too),
    written out: np.linalg.inv costs ~100 us a call with this machine's OpenBLAS."""
    maps = np.asarray(maps, np.float64)
    single = maps.ndim == 2
    stack = maps[None] if single else maps
    a, b, c, d = stack[:, 0, 0], stack[:, 0, 1], stack[:, 1, 0], stack[:, 1, 1]
    tx, ty = stack[:, 0, 2], stack[:, 1, 2]
    out = np.zeros((len(stack), 3, 3))
    if not (b.any() or c.any()):  # flips, crops, resizes: each axis on its own (half the work, on every batch)
        ia, id_ = 1.0 / a, 1.0 / d
        out[:, 0, 0], out[:, 1, 1], out[:, 0, 2], out[:, 1, 2], out[:, 2, 2] = ia, id_, -tx * ia, -ty * id_, 1.0
        return out[0] if single else out
    det = a * d - b * c
    ia, ib, ic, id_ = d / det, -b / det, -c / det, a / det
    out[:, 0, 0], out[:, 0, 1], out[:, 1, 0], out[:, 1, 1] = ia, ib, ic, id_
    out[:, 0, 2], out[:, 1, 2] = -(ia * tx + ib * ty), -(ic * tx + id_ * ty)
    out[:, 2, 2] = 1.0
    return out[0] if single else out


def from_index_matrix(matrix: np.ndarray) -> np.ndarray:
    """An OpenCV-style 2x3 (or 3x3) forward matrix on pixel indices, as a 3x3 map on edge coordinates."""
    (a, b, tx), (c, d, ty) = np.asarray(matrix, np.float64)[:2].tolist()
    # _FROM_INDEX @ m @ _TO_INDEX, written out (a tenth of the time): the linear part stays, the shift takes the
    # half pixels on either side
    return np.array([[a, b, tx + 0.5 - 0.5 * (a + b)], [c, d, ty + 0.5 - 0.5 * (c + d)], [0.0, 0.0, 1.0]])


_SCALARS = (int, float, np.number)


def crop_resize_matrix(x0: Any, y0: Any, w: Any, h: Any, out_wh: tuple[Any, Any] | None = None) -> np.ndarray:
    """The map of cropping the ``w`` x ``h`` window at (x0, y0) and resizing it to ``out_wh``: (3, 3), or
    (n, 3, 3) when the window's numbers are arrays of n (a batch's draws)."""
    if (isinstance(x0, _SCALARS) and isinstance(y0, _SCALARS) and isinstance(w, _SCALARS) and isinstance(h, _SCALARS)
            and w and h):  # one image's window: a 3x3 from Python floats, five times faster
        x0, y0, w, h = float(x0), float(y0), float(w), float(h)
        sx, sy = (1.0, 1.0) if out_wh is None else (float(out_wh[0]) / w, float(out_wh[1]) / h)
        return np.array([[sx, 0.0, x0 * sx * -1.0], [0.0, sy, y0 * sy * -1.0], [0.0, 0.0, 1.0]])
    sx, sy = (1.0, 1.0) if out_wh is None else (np.divide(out_wh[0], w), np.divide(out_wh[1], h))
    m = np.zeros(np.broadcast(x0, y0, w, h).shape + (3, 3))
    m[..., 0, 0], m[..., 0, 2] = sx, np.multiply(x0, sx) * -1.0
    m[..., 1, 1], m[..., 1, 2] = sy, np.multiply(y0, sy) * -1.0
    m[..., 2, 2] = 1.0
    return m


def scale_matrix(in_hw: tuple[int, int], out_hw: tuple[int, int]) -> np.ndarray:
    """The map of resizing a whole ``in_hw`` image to ``out_hw``."""
    return np.array([[out_hw[1] / in_hw[1], 0.0, 0.0], [0.0, out_hw[0] / in_hw[0], 0.0], [0.0, 0.0, 1.0]])


def flip_matrix(hw: tuple[int, int], horizontal: bool, flip: Any = True) -> np.ndarray:
    """The map of a horizontal (or vertical) flip of an ``hw`` image where ``flip`` is true: (3, 3), or
    (n, 3, 3) for an array of n flags."""
    axis, size = (0, hw[1]) if horizontal else (1, hw[0])
    if isinstance(flip, (bool, np.bool_)):  # one image's flag
        m = np.eye(3)
        if flip:
            m[axis, axis], m[axis, 2] = -1.0, float(size)
        return m
    flip = np.asarray(flip, bool)
    m = np.zeros(flip.shape + (3, 3))
    m[..., 0, 0] = m[..., 1, 1] = m[..., 2, 2] = 1.0
    m[..., axis, axis] = np.where(flip, -1.0, 1.0)
    m[..., axis, 2] = np.where(flip, float(size), 0.0)
    return m


def index_inverse(forward: np.ndarray) -> np.ndarray:
    """Forward maps on pixel edges (input -> output, what :meth:`~gluon_augplug.Transform.geometry` gives) as
    the maps a resampler needs: output pixel index -> input pixel index (OpenCV's ``WARP_INVERSE_MAP``,
    MXNet's ``GridGenerator``). The one place where the two conventions meet; (3, 3) or (n, 3, 3)."""
    f = np.asarray(forward, np.float64)
    if f.ndim == 3 and not (f[:, 0, 1].any() or f[:, 1, 0].any()):  # axis-aligned (every batch's flips and crops)
        ia, id_ = 1.0 / f[:, 0, 0], 1.0 / f[:, 1, 1]
        out = np.zeros(f.shape)
        # x_in = (x_out + 0.5 - t) / a - 0.5 on each axis: the inverse and the half pixels at once
        out[:, 0, 0], out[:, 1, 1], out[:, 2, 2] = ia, id_, 1.0
        out[:, 0, 2], out[:, 1, 2] = (0.5 - f[:, 0, 2]) * ia - 0.5, (0.5 - f[:, 1, 2]) * id_ - 0.5
        return out
    inverse = invert_affine(f)
    # _TO_INDEX @ inverse @ _FROM_INDEX, written out: the linear part stays, the shift takes the half pixels
    inverse[..., :2, 2] += (inverse[..., :2, 0] + inverse[..., :2, 1] - 1.0) * 0.5
    return inverse


def warp_image(img: np.ndarray, matrix: np.ndarray, out_hw: tuple[int, int], interpolation: int = 1,
               fill: Any = 0) -> np.ndarray:
    """An HWC image warped by ``matrix`` (a :meth:`~gluon_augplug.Transform.geometry` map, on pixel edges) to an
    ``out_hw`` output: what a geometric transform's ``apply`` does with its own ``geometry()``, so that the pixels and
    every target follow one map. ``interpolation`` is OpenCV's code (1: bilinear); ``fill`` the value outside."""
    import cv2

    h, w = int(out_hw[0]), int(out_hw[1])
    inverse = index_inverse(np.asarray(matrix, np.float64))
    out = cv2.warpAffine(np.ascontiguousarray(img), inverse[:2], (w, h), flags=int(interpolation) | cv2.WARP_INVERSE_MAP,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=fill)
    return out.reshape(h, w, *img.shape[2:])


def forward_from_index_inverse(inverse: np.ndarray) -> np.ndarray:
    """The converse of :func:`index_inverse`: resampling maps (output index -> input index) as forward maps
    on pixel edges, the coordinates of boxes and keypoints."""
    return invert_affine(_FROM_INDEX @ np.asarray(inverse, np.float64) @ _TO_INDEX)


def warp_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``points`` (N, 2+) with x, y moved by ``matrix``; extra columns kept."""
    out = points.copy()
    xy = points[:, :2]
    out[:, 0] = matrix[0, 0] * xy[:, 0] + matrix[0, 1] * xy[:, 1] + matrix[0, 2]
    out[:, 1] = matrix[1, 0] * xy[:, 0] + matrix[1, 1] * xy[:, 1] + matrix[1, 2]
    return out


def warp_boxes(boxes: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Boxes (N, 4+) pixel xyxy moved by ``matrix``: the enclosing box of the four moved corners."""
    out = boxes.copy()
    if not len(boxes):
        return out
    if matrix[0, 1] == 0 and matrix[1, 0] == 0:  # flips, crops, resizes: each axis on its own
        for axis in (0, 1):
            scale = matrix[axis, axis]
            moved = boxes[:, axis:4:2] * scale + matrix[axis, 2]
            out[:, axis:4:2] = moved[:, ::-1] if scale < 0 else moved
        return out
    # the corners are {x0, x1} x {y0, y1}, so each moved coordinate's extremes are sums of per-axis extremes:
    # [k, i, j] is the x_i (or y_i) term of output coordinate j (x then y), both rows of the map at once
    linear, shift = matrix[:2, :2], matrix[:2, 2]
    from_x = boxes[:, 0:4:2, None] * linear[:, 0]
    from_y = boxes[:, 1:4:2, None] * linear[:, 1]
    x_lo, x_hi = np.minimum(from_x[:, 0], from_x[:, 1]), np.maximum(from_x[:, 0], from_x[:, 1])
    y_lo, y_hi = np.minimum(from_y[:, 0], from_y[:, 1]), np.maximum(from_y[:, 0], from_y[:, 1])
    out[:, 0:2] = x_lo + y_lo + shift
    out[:, 2:4] = x_hi + y_hi + shift
    return out


def _gather_rows_cols(mask: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``mask[rows][:, cols]``. Gathering whole rows is a copy of contiguous memory, gathering columns is not: for
    the 1- and 2-byte label maps of segmentation, columns are gathered as rows of the transposed mask (OpenCV's
    transposes are vectorized), about 2.5x faster than numpy's column gather at 480x480."""
    if mask.ndim == 2 and mask.dtype in _CV2_TRANSPOSABLE:
        import cv2

        return cv2.transpose(cv2.transpose(mask[rows])[cols])
    return mask[rows][:, cols]  # two 1-D gathers: several times faster than one np.ix_ gather


_CV2_TRANSPOSABLE = (np.dtype(np.uint8), np.dtype(np.int8), np.dtype(np.uint16), np.dtype(np.int16))


def _source_indices(inverse_scale: float, shift: float, size_out: int, size_in: int) -> tuple[np.ndarray, tuple[int, int]]:
    """For one axis of an axis-aligned map (``x_out = x_in / inverse_scale + shift``): the input index of each output
    pixel's centre (clamped into the input), and the run ``[start, stop)`` of output pixels whose centres fall
    inside the input (one run: the indices are monotonic)."""
    source = np.floor(inverse_scale * (np.arange(size_out) + 0.5) + -shift * inverse_scale).astype(np.intp)
    if inverse_scale > 0:  # increasing: the run is where 0 <= source < size_in
        run = int(source.searchsorted(0)), int(source.searchsorted(size_in))
    else:  # decreasing (a flip): the same on the reversed indices
        back = source[::-1]
        run = size_out - int(back.searchsorted(size_in)), size_out - int(back.searchsorted(0))
    _UFUNC_CLIP(source, 0, size_in - 1, out=source)
    return source, run


def warp_mask(mask: np.ndarray, matrix: np.ndarray, out_hw: tuple[int, int], fill: float = 0) -> np.ndarray:
    """A label mask (H, W) or (H, W, K) of any dtype moved by ``matrix`` with nearest-neighbour
    sampling: every output value is one of the input's (or ``fill`` where the output pixel's centre
    falls outside the input). Class ids are never blended."""
    oh, ow = out_hw
    h, w = mask.shape[:2]
    if h == 0 or w == 0:
        return np.full((oh, ow) + mask.shape[2:], fill, mask.dtype)
    (a, b, tx), (c, d, ty) = np.asarray(matrix, np.float64)[:2].tolist()
    if b == 0 and c == 0:  # flips, crops, resizes: one index per row and per column
        rows, (y0, y1) = _source_indices(1.0 / d, ty, oh, h)
        cols, (x0, x1) = _source_indices(1.0 / a, tx, ow, w)
        out = _gather_rows_cols(mask, rows, cols)
        # the output pixels whose centres fall inside the input are one run of rows and one of columns
        if y0 or y1 < oh:
            out[:y0] = fill
            out[y1:] = fill
        if x0 or x1 < ow:
            out[:, :x0] = fill
            out[:, x1:] = fill
        return out
    inverse = invert_affine(matrix)
    xs, ys = np.arange(ow) + 0.5, np.arange(oh) + 0.5
    gx = inverse[0, 0] * xs[None, :] + inverse[0, 1] * ys[:, None] + inverse[0, 2]
    gy = inverse[1, 0] * xs[None, :] + inverse[1, 1] * ys[:, None] + inverse[1, 2]
    sx, sy = np.floor(gx).astype(np.int64), np.floor(gy).astype(np.int64)
    inside = (sx >= 0) & (sx < w) & (sy >= 0) & (sy < h)
    out = np.full((oh, ow) + mask.shape[2:], fill, mask.dtype)
    out[inside] = mask[sy[inside], sx[inside]]
    return out
