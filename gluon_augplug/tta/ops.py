"""Moving a batch of network inputs, or of the network's dense outputs, by one 3x3 map.

Everything here acts on the last two axes (height, width) of an array of any rank: (N, C, H, W) images,
(N, C, T, H, W) clips, (N, K, h, w) score maps. Two backends with the same functions: MXNet NDArrays on
their device, and numpy arrays (the core without MXNet, and the plugin harness).

A map is axis-aligned for every named view (flips, crops, pads, resizes, and their compositions). It is done
as GluonCV's evaluation code does it: slicing, ``flip``, ``BilinearResize2D`` of the visible window and a
canvas filled with the pad value, so that the numbers equal GluonCV's. Any other affine map (a plugin's
shear, a rotation) is resampled bilinearly.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..targets.geometry import index_inverse

_EPS = 1e-6


def is_ndarray(x: Any) -> bool:
    """True for an MXNet NDArray (anything else is read as a numpy array)."""
    return hasattr(x, "asnumpy") and hasattr(x, "context")


def spatial_hw(x: Any) -> tuple[int, int]:
    return int(x.shape[-2]), int(x.shape[-1])


def flip_width(x: Any) -> Any:
    """Mirror the last axis."""
    if is_ndarray(x):
        return x.flip(axis=x.ndim - 1)
    return np.ascontiguousarray(x[..., ::-1])


def resize(x: Any, hw: tuple[int, int], align_corners: bool = False) -> Any:
    """Bilinear resize of the last two axes to ``hw``: MXNet's ``BilinearResize2D``, or OpenCV for numpy.

    ``align_corners=False`` is the map on pixel edges, the geometry of every transform (OpenCV's
    ``INTER_LINEAR``); ``True`` maps the first and last pixels' centres onto each other, as GluonCV's
    ``_resize_image`` (``BilinearResize2D``'s default) does, which ``multi-eval`` needs to equal
    ``MultiEvalModel``."""
    h, w = int(hw[0]), int(hw[1])
    if spatial_hw(x) == (h, w):
        return x
    lead = tuple(x.shape[:-2])
    if is_ndarray(x):
        import mxnet as mx

        flat = x.reshape((-1, 1) + spatial_hw(x)) if len(lead) != 2 else x
        out = mx.nd.contrib.BilinearResize2D(flat, height=h, width=w, align_corners=bool(align_corners))
        return out.reshape(lead + (h, w))
    import cv2

    in_h, in_w = spatial_hw(x)
    flat = np.asarray(x, np.float32).reshape((-1, in_h, in_w))
    corners = np.array([[(in_w - 1) / max(w - 1, 1), 0, 0], [0, (in_h - 1) / max(h - 1, 1), 0]])

    def one(chunk: np.ndarray) -> np.ndarray:  # OpenCV takes up to 512 channels at once, channels last
        if align_corners:
            return cv2.warpAffine(chunk, corners, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                  borderMode=cv2.BORDER_REPLICATE).reshape(h, w, -1)
        return cv2.resize(chunk, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, -1)

    parts = [one(np.ascontiguousarray(np.moveaxis(flat[i:i + 512], 0, -1))) for i in range(0, len(flat), 512)]
    return np.moveaxis(np.concatenate(parts, axis=-1), -1, 0).reshape(lead + (h, w))


def _canvas(x: Any, hw: tuple[int, int], fill: Any, channel_axis: int) -> Any:
    """A new array of ``x``'s leading shape and ``hw``, filled with ``fill`` (a number, or one per channel)."""
    shape = tuple(x.shape[:-2]) + (int(hw[0]), int(hw[1]))
    values = np.asarray(fill, np.float64).ravel()
    if is_ndarray(x):
        import mxnet as mx

        if values.size <= 1:
            return mx.nd.full(shape, float(values[0]) if values.size else 0.0, ctx=x.context, dtype=x.dtype)
        per_channel = [1] * len(shape)
        per_channel[channel_axis] = values.size
        base = mx.nd.array(values.reshape(per_channel), ctx=x.context, dtype=x.dtype)
        return mx.nd.broadcast_to(base, shape).copy()
    dtype = x.dtype if x.dtype.kind == "f" else np.float32
    if values.size <= 1:
        return np.full(shape, values[0] if values.size else 0.0, dtype)
    per_channel = [1] * len(shape)
    per_channel[channel_axis] = values.size
    return np.broadcast_to(values.reshape(per_channel).astype(dtype), shape).copy()


def _check_fill(x: Any, fill: Any, channel_axis: int) -> None:
    values = np.asarray(fill, np.float64).ravel()
    if values.size > 1 and (x.ndim <= channel_axis or int(x.shape[channel_axis]) != values.size):
        raise ValueError(f"pad value: {values.size} values (one per channel) for an input of shape "
                         f"{tuple(x.shape)} (channel axis {channel_axis})")


def _axis_plan(scale: float, shift: float, size_in: int, size_out: int) -> tuple[bool, int, int, int, int] | None:
    """One axis of an axis-aligned map as (mirror, src0, src1, dst0, dst1): mirror the input, take its
    window [src0, src1), resize it to [dst0, dst1) of the output; None when the window's ends are not whole
    pixels (then the map is resampled)."""
    mirror = scale < 0
    if mirror:  # x' = s x + t on the mirrored input (W - x): s' = -s, t' = s W + t
        scale, shift = -scale, scale * size_in + shift
    lo, hi = max(0.0, -shift / scale), min(float(size_in), (size_out - shift) / scale)
    if hi <= lo:
        return mirror, 0, 0, 0, 0
    dst_lo, dst_hi = scale * lo + shift, scale * hi + shift
    ends = [lo, hi, dst_lo, dst_hi]
    rounded = [round(v) for v in ends]
    if any(abs(v - r) > 1e-4 for v, r in zip(ends, rounded)):
        return None
    return (mirror, *rounded)  # type: ignore[return-value]


def _place(x: Any, plans: tuple, out_hw: tuple[int, int], fill: Any, channel_axis: int, align_corners: bool) -> Any:
    (mirror_y, y0, y1, v0, v1), (mirror_x, x0, x1, u0, u1) = plans
    if mirror_x:
        x = flip_width(x)
    if mirror_y:
        x = x.flip(axis=x.ndim - 2) if is_ndarray(x) else np.ascontiguousarray(x[..., ::-1, :])
    lead = (slice(None),) * (x.ndim - 2)
    if (y0, y1, x0, x1) == (0, x.shape[-2], 0, x.shape[-1]) and (v0, v1, u0, u1) == (0, out_hw[0], 0, out_hw[1]):
        return resize(x, out_hw, align_corners)  # the whole image onto the whole output: no canvas
    canvas = _canvas(x, out_hw, fill, channel_axis)
    if y1 > y0 and x1 > x0:
        window = x[lead + (slice(y0, y1), slice(x0, x1))]
        canvas[lead + (slice(v0, v1), slice(u0, u1))] = resize(window, (v1 - v0, u1 - u0), align_corners)
    return canvas


def _resample(x: Any, matrix: np.ndarray, out_hw: tuple[int, int], fill: Any, channel_axis: int) -> Any:
    """Bilinear resampling by an affine map; outside the input, ``fill``."""
    h, w = int(out_hw[0]), int(out_hw[1])
    inverse = index_inverse(matrix)  # output pixel index -> input pixel index
    lead = tuple(x.shape[:-2])
    in_h, in_w = spatial_hw(x)
    values = np.asarray(fill, np.float64).ravel()
    if is_ndarray(x):
        import mxnet as mx

        # MXNet's grid: -1 at the first pixel's centre, 1 at the last's
        to_grid = np.array([[2.0 / max(in_w - 1, 1), 0, -1], [0, 2.0 / max(in_h - 1, 1), -1], [0, 0, 1]])
        from_grid = np.array([[max(w - 1, 1) / 2.0, 0, max(w - 1, 1) / 2.0],
                              [0, max(h - 1, 1) / 2.0, max(h - 1, 1) / 2.0], [0, 0, 1]])
        theta = (to_grid @ inverse @ from_grid)[:2].reshape(1, 6)
        flat = x.reshape((-1, 1, in_h, in_w))
        grid = mx.nd.GridGenerator(mx.nd.array(theta, ctx=x.context), transform_type="affine", target_shape=(h, w))
        grid = mx.nd.broadcast_to(grid, (flat.shape[0], 2, h, w))
        out = mx.nd.BilinearSampler(flat, grid).reshape(lead + (h, w))
        if values.size and values.any():
            inside = mx.nd.BilinearSampler(mx.nd.ones((1, 1, in_h, in_w), ctx=x.context), grid[:1])
            out = out + (1 - inside.reshape((h, w))) * _canvas(out, (h, w), fill, channel_axis)
        return out
    import cv2

    flat = np.asarray(x, np.float32).reshape((-1, in_h, in_w))
    out = np.stack([cv2.warpAffine(np.ascontiguousarray(plane), inverse[:2], (w, h),
                                   flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT,
                                   borderValue=0) for plane in flat]).reshape(lead + (h, w))
    if values.size and values.any():
        inside = cv2.warpAffine(np.ones((in_h, in_w), np.float32), inverse[:2], (w, h),
                                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT)
        out = out + (1 - inside) * _canvas(out, (h, w), fill, channel_axis)
    return out


def axis_aligned(matrix: np.ndarray) -> bool:
    return abs(matrix[0, 1]) < _EPS and abs(matrix[1, 0]) < _EPS


def warp(x: Any, matrix: np.ndarray, out_hw: tuple[int, int], fill: Any = 0.0, channel_axis: int = 1,
         align_corners: bool = False) -> Any:
    """``x`` moved by the 3x3 forward ``matrix`` (pixel edges of its last two axes) onto an ``out_hw`` grid;
    ``fill`` (a number, or one per channel along ``channel_axis``) where the map brings nothing. ``align_corners``:
    the resizes of axis-aligned maps as GluonCV's evaluation makes them (:func:`resize`)."""
    matrix = np.asarray(matrix, np.float64)
    out_hw = (int(out_hw[0]), int(out_hw[1]))
    _check_fill(x, fill, channel_axis)
    if np.allclose(matrix, np.eye(3)) and spatial_hw(x) == out_hw:
        return x
    if axis_aligned(matrix):
        in_h, in_w = spatial_hw(x)
        plans = (_axis_plan(matrix[1, 1], matrix[1, 2], in_h, out_hw[0]),
                 _axis_plan(matrix[0, 0], matrix[0, 2], in_w, out_hw[1]))
        if plans[0] is not None and plans[1] is not None:
            return _place(x, plans, out_hw, fill, channel_axis, align_corners)
    return _resample(x, matrix, out_hw, fill, channel_axis)


def coverage(like: Any, in_hw: tuple[int, int], matrix: np.ndarray, out_hw: tuple[int, int]) -> Any:
    """Where the map brings something: a (1, ..., 1, H, W) array of ``like``'s backend (1 inside, 0 outside,
    between at a resampled edge)."""
    lead = (1,) * (like.ndim - 2)
    if is_ndarray(like):
        import mxnet as mx

        ones = mx.nd.ones(lead + tuple(in_hw), ctx=like.context, dtype=like.dtype)
    else:
        ones = np.ones(lead + tuple(in_hw), np.float32)
    return warp(ones, matrix, out_hw, 0.0)


def output_grid(in_hw: tuple[int, int], view_hw: tuple[int, int], out_hw: tuple[int, int]) -> tuple[int, int]:
    """The grid of an input of ``in_hw`` at the resolution the network gives a ``view_hw`` input as ``out_hw``
    (a pose network's heatmaps at a quarter of its input)."""
    return (max(1, int(math.floor(in_hw[0] * out_hw[0] / view_hw[0] + 0.5))),
            max(1, int(math.floor(in_hw[1] * out_hw[1] / view_hw[1] + 0.5))))
