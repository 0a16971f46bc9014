"""Pixel kernels on HWC numpy images (uint8, or float in the 0-255 range).

uint8 images go through OpenCV look-up tables and saturating blends (one pass, no float
copy); float images through numpy, clipped to the same 0-255 range where a colour change
could leave it (as uint8 saturates). Every function returns a new array and keeps the
input's dtype and channel count.
"""
from __future__ import annotations

import threading

import cv2
import numpy as np

GRAY_COEF = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601-2, as MXNet and PIL
_GRAY_R, _GRAY_G, _GRAY_B = (float(c) for c in GRAY_COEF)
_GRAY64 = GRAY_COEF.astype(np.float64)
_RAMP = np.arange(256, dtype=np.float32)
# AlexNet's PCA lighting: eigenvalue-scaled eigenvectors of ImageNet RGB, as MXNet's RandomLighting
LIGHTING_EIG = np.array(
    [[55.46 * -0.5675, 4.794 * 0.7192, 1.148 * 0.4009],
     [55.46 * -0.5808, 4.794 * -0.0045, 1.148 * -0.8140],
     [55.46 * -0.5836, 4.794 * -0.6948, 1.148 * 0.4203]],
    dtype=np.float32,
)
# CornerNet's and CenterNet's (COCO's) PCA lighting, eigenvalues of 0-1 images scaled to 0-255; GluonCV's
# CenterNetDefaultTrainTransform adds them to its RGB images as CornerNet computed them
COCO_LIGHTING_EIG = (np.array([[-0.58752847, -0.69563484, 0.41340352],
                               [-0.5832747, 0.00994535, -0.81221408],
                               [-0.56089297, 0.71832671, 0.41158938]], np.float64)
                     * np.array([0.2141788, 0.01817699, 0.00341571]) * 255.0).astype(np.float32)
# pysot's and GluonCV's SiamRPN colour offset (rgbVar, for BGR images, subtracted): as an RGB lighting matrix
SIAMRPN_LIGHTING_EIG = -np.array([[-0.55919361, 0.98062831, -0.41940627],
                                  [1.72091413, 0.19879334, -1.82968581],
                                  [4.64467907, 4.73710203, 4.88324118]], np.float32)[::-1].copy()
LIGHTING_EIGS = {"imagenet": LIGHTING_EIG, "coco": COCO_LIGHTING_EIG, "siamrpn": SIAMRPN_LIGHTING_EIG}


def keep_channels(out: np.ndarray, like: np.ndarray) -> np.ndarray:
    """OpenCV drops a trailing channel axis of size 1; put it back."""
    return out[:, :, None] if out.ndim == 2 and like.ndim == 3 else out


def lut(img: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Apply a 256-entry table (or a (256, C) table, one column per channel) to a uint8 image."""
    table = to_uint8(table)
    if table.ndim == 2:
        if img.shape[2] == 1:
            table = table[:, :1]
        out = np.empty_like(img)
        for c in range(img.shape[2]):
            out[:, :, c] = cv2.LUT(img[:, :, c], table[:, c % table.shape[1]])
        return out
    return keep_channels(cv2.LUT(img, table), img)


def clip255(values: np.ndarray) -> np.ndarray:
    """Clip a float array to 0-255 in place (np.clip's argument checks cost ~10 us a call, more than
    the clipping of a 32x32 image or of a 256-entry table)."""
    np.maximum(values, 0, out=values)
    return np.minimum(values, 255, out=values)


def to_uint8(values: np.ndarray) -> np.ndarray:
    """Float values rounded to nearest and saturated to uint8, as a saturating uint8 kernel stores them."""
    return clip255(np.rint(values)).astype(np.uint8)


def _finish(out: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``out`` in the dtype of ``like``, within 0-255 (rounded for uint8)."""
    if like.dtype == np.uint8:
        return to_uint8(out)
    return clip255(out.astype(like.dtype, copy=False))


def gray(img: np.ndarray) -> np.ndarray:
    """Luma as an (H, W, 1) image of the input's dtype."""
    if img.shape[2] == 1:
        return img.copy()
    if img.dtype == np.uint8 or img.dtype == np.float32:
        return keep_channels(cv2.cvtColor(np.ascontiguousarray(img[:, :, :3]), cv2.COLOR_RGB2GRAY), img)
    return (img[:, :, :3] @ GRAY_COEF.astype(img.dtype))[:, :, None]


def blend(img: np.ndarray, other: np.ndarray | float, factor: float) -> np.ndarray:
    """``img * factor + other * (1 - factor)``, saturated for uint8."""
    if img.dtype == np.uint8 and isinstance(other, np.ndarray):
        if other.shape != img.shape:  # a gray (H, W, 1) image: OpenCV widens it without a numpy copy
            other = cv2.cvtColor(np.ascontiguousarray(other[:, :, 0]), cv2.COLOR_GRAY2RGB) if img.shape[2] == 3 \
                else np.ascontiguousarray(np.broadcast_to(other, img.shape))
        return keep_channels(cv2.addWeighted(img, factor, other, 1.0 - factor, 0.0), img)
    if img.dtype == np.uint8:  # one saturating SIMD pass: 2-5x faster than building and applying a table
        return _scale_shift(img, factor, float(other) * (1.0 - factor))
    return _finish(img * np.float32(factor) + np.asarray(other, np.float32) * np.float32(1.0 - factor), img)


def _scale_shift(img: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """``alpha * img + beta`` on a uint8 image, rounded and saturated."""
    return keep_channels(cv2.addWeighted(img, float(alpha), img, 0.0, float(beta)), img)


def channel_means(img: np.ndarray) -> np.ndarray:
    """Per-channel means of an HWC image (OpenCV: 30x faster than numpy's mean of uint8 here)."""
    c = img.shape[2]
    if c <= 4 and img.dtype in (np.uint8, np.float32):
        return np.asarray(cv2.mean(np.ascontiguousarray(img))[:c], dtype=np.float64)
    return img.reshape(-1, c).mean(axis=0, dtype=np.float64)


def adjust_brightness(img: np.ndarray, factor: float) -> np.ndarray:
    return blend(img, 0.0, factor)


def mean_gray(img: np.ndarray) -> float:
    """The image's mean luma, from unrounded per-pixel lumas (as MXNet's contrast sums them)."""
    means = channel_means(img)
    return float(means[0]) if img.shape[2] == 1 else float(means[:3] @ _GRAY64)


def adjust_contrast(img: np.ndarray, factor: float) -> np.ndarray:
    """Blend with the mean luma (MXNet's and torchvision's definition)."""
    return blend(img, mean_gray(img), factor)


def adjust_saturation(img: np.ndarray, factor: float) -> np.ndarray:
    """Blend each pixel with its own (unrounded) luma, one rounding at the end; grayscale images are
    returned unchanged."""
    if img.shape[2] == 1:
        return img.copy()
    return affine_gray_blend(img, factor, 1.0 - factor, 0.0)


def adjust_hue(img: np.ndarray, shift: float) -> np.ndarray:
    """Rotate hue by ``shift`` turns (``shift * 360`` degrees), keeping the RGB min and max.

    MXNet's HLS rotation, computed in HSV (both keep each pixel's min and max channel, so the
    rotated colours agree) on float32 values, exactly, for uint8 images too: OpenCV's float
    HSV is faster than its 8-bit ``HSV_FULL`` inverse here, and rounds only once, at the end.
    """
    if img.shape[2] == 1 or shift == 0:
        return img.copy()
    rgb, hsv = _scratch(img.shape[:2])
    np.multiply(img[:, :, :3], np.float32(1 / 255), out=rgb, casting="unsafe")
    cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV, dst=hsv)
    hsv[:, :, 0] += np.float32((shift % 1.0) * 360.0)  # OpenCV's HSV2RGB wraps hues of 360 and more itself
    cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB, dst=rgb)
    if img.dtype == np.uint8:
        out = cv2.convertScaleAbs(rgb, alpha=255.0)  # rounds and saturates, as uint8 does
    else:
        out = _finish(rgb * np.float32(255), img)
    if img.shape[2] == 4:
        out = np.concatenate([out, img[:, :, 3:].astype(out.dtype)], axis=2)
    return out


_local = threading.local()


def _scratch(hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Two float32 (H, W, 3) work arrays of this thread, reused: fresh arrays of this size come from
    fresh pages each time (page faults cost more than the conversions themselves)."""
    buffers = getattr(_local, "hue", None)
    if buffers is None or buffers[0].shape[:2] != tuple(hw):
        buffers = _local.hue = (np.empty((*hw, 3), np.float32), np.empty((*hw, 3), np.float32))
    return buffers


def adjust_lighting(img: np.ndarray, alpha: tuple[float, float, float], eig: np.ndarray = LIGHTING_EIG) -> np.ndarray:
    """Add AlexNet's PCA colour noise ``eig @ alpha`` (``LIGHTING_EIG``: ImageNet's) to each RGB pixel."""
    if img.shape[2] == 1:
        return img.copy()
    offset = eig @ np.asarray(alpha, np.float32)
    if img.dtype == np.uint8 and img.flags.c_contiguous:
        # one saturating pass, rounding as the table below does (3x faster than three channel look-ups)
        return cv2.add(img, (float(offset[0]), float(offset[1]), float(offset[2]), 0.0))
    if img.dtype == np.uint8:
        table = _RAMP[:, None] + offset[None, :]
        if img.shape[2] == 4:
            table = np.concatenate([table, _RAMP[:, None]], axis=1)
        return lut(img, table)
    out = img.astype(np.float32, copy=True)
    out[:, :, :3] += offset
    return _finish(out, img)


def to_grayscale(img: np.ndarray) -> np.ndarray:
    """Luma repeated over the colour channels (the channel count is kept)."""
    g = gray(img)
    if img.shape[2] == 1:
        return g
    out = np.repeat(g, 3, axis=2)
    return np.concatenate([out, img[:, :, 3:]], axis=2) if img.shape[2] == 4 else out


def invert(img: np.ndarray) -> np.ndarray:
    return 255 - img if img.dtype == np.uint8 else (255.0 - img).astype(img.dtype)


def solarize(img: np.ndarray, threshold: float) -> np.ndarray:
    """Invert the pixels at or above ``threshold`` (0-255 scale)."""
    if img.dtype == np.uint8:
        return lut(img, np.where(_RAMP >= threshold, 255 - _RAMP, _RAMP))
    return np.where(img >= threshold, 255.0 - img, img).astype(img.dtype)


def posterize(img: np.ndarray, bits: int) -> np.ndarray:
    """Keep the ``bits`` most significant bits of each channel."""
    step = 2 ** (8 - int(bits))
    if img.dtype == np.uint8:
        return lut(img, np.floor(_RAMP / step) * step)
    return (np.floor(np.clip(img, 0, 255) / step) * step).astype(img.dtype)


def _as_uint8(img: np.ndarray) -> np.ndarray:
    return img if img.dtype == np.uint8 else to_uint8(img)


def equalize(img: np.ndarray) -> np.ndarray:
    """Histogram equalization, each channel on its own (as PIL's ImageOps.equalize)."""
    u8 = _as_uint8(img)
    out = np.empty_like(u8)
    for c in range(u8.shape[2]):
        out[:, :, c] = cv2.equalizeHist(np.ascontiguousarray(u8[:, :, c]))
    return out if img.dtype == np.uint8 else out.astype(img.dtype)


def autocontrast(img: np.ndarray) -> np.ndarray:
    """Stretch each channel linearly so that its min becomes 0 and its max 255."""
    flat = img.reshape(-1, img.shape[2])
    lo, hi = flat.min(axis=0).astype(np.float32), flat.max(axis=0).astype(np.float32)
    scale = np.where(hi > lo, 255.0 / np.maximum(hi - lo, 1e-6), 1.0).astype(np.float32)
    lo = np.where(hi > lo, lo, 0.0).astype(np.float32)
    if img.dtype == np.uint8:
        return lut(img, (_RAMP[:, None] - lo[None, :]) * scale[None, :])
    return _finish((img - lo) * scale, img)


_SMOOTH = np.array([[1, 1, 1], [1, 5, 1], [1, 1, 1]], dtype=np.float32) / 13.0


def adjust_sharpness(img: np.ndarray, factor: float) -> np.ndarray:
    """Blend with PIL's smoothed image (factor 0 = blurred, 1 = unchanged, 2 = sharpened)."""
    if img.shape[0] < 3 or img.shape[1] < 3:
        return img.copy()
    smooth = keep_channels(cv2.filter2D(img, -1, _SMOOTH, borderType=cv2.BORDER_REPLICATE), img)
    smooth[0, :], smooth[-1, :], smooth[:, 0], smooth[:, -1] = img[0, :], img[-1, :], img[:, 0], img[:, -1]
    return blend(img, smooth, factor)


def gaussian_blur(img: np.ndarray, kernel_size: int, sigma: float) -> np.ndarray:
    return keep_channels(
        cv2.GaussianBlur(img, (kernel_size, kernel_size), sigmaX=sigma, sigmaY=sigma,
                         borderType=cv2.BORDER_REFLECT_101),
        img,
    )


AUTO_INTERPOLATION = 9


def resolve_interpolation(code: int, src_wh: tuple[float, float], dst_wh: tuple[float, float]) -> int:
    """OpenCV's code for an interpolation code: MXNet's 9 (auto) is bicubic when both sides grow, area when both
    shrink and bilinear otherwise (``mxnet.image._get_interp_method``, which GluonCV's ``imresize`` applies);
    others are themselves."""
    if code != AUTO_INTERPOLATION:
        return code
    (sw, sh), (dw, dh) = src_wh, dst_wh
    if dw > sw and dh > sh:
        return cv2.INTER_CUBIC
    if dw < sw and dh < sh:
        return cv2.INTER_AREA
    return cv2.INTER_LINEAR


def warp_affine(img: np.ndarray, matrix: np.ndarray, size_wh: tuple[int, int], interpolation: int,
                fill: float | tuple[float, ...]) -> np.ndarray:
    """One affine resample with a constant border (``matrix`` maps output -> input pixels inverted as OpenCV)."""
    interpolation = resolve_interpolation(interpolation, (img.shape[1], img.shape[0]), tuple(size_wh))
    border = tuple(fill) if isinstance(fill, tuple) else (fill,) * 4
    out = keep_channels(cv2.warpAffine(img, matrix.astype(np.float64), size_wh, flags=interpolation,
                                       borderMode=cv2.BORDER_CONSTANT, borderValue=border), img)
    return _overshoot(out, interpolation)


def _overshoot(out: np.ndarray, interpolation: int) -> np.ndarray:
    """Bicubic and Lanczos ring past the input's range: float images are clipped to 0-255 as uint8 saturates."""
    return clip255(out) if out.dtype.kind == "f" and interpolation in (cv2.INTER_CUBIC, cv2.INTER_LANCZOS4) else out


def pad_constant(img: np.ndarray, left: int, top: int, right: int, bottom: int,
                 fill: float | tuple[float, ...]) -> np.ndarray:
    """``img`` on a canvas with ``left``, ``top``, ``right`` and ``bottom`` pixels of ``fill`` (one number or one per
    channel, rounded for uint8) around it: one OpenCV pass writes the canvas and the image."""
    values = np.broadcast_to(np.asarray(fill, np.float64), (4,)) if np.ndim(fill) == 0 else np.asarray(fill, np.float64)
    value = [float(np.rint(v)) if img.dtype == np.uint8 else float(v) for v in values[: img.shape[2]]]
    return keep_channels(cv2.copyMakeBorder(np.ascontiguousarray(img), int(top), int(bottom), int(left), int(right),
                                            cv2.BORDER_CONSTANT, value=value + [0.0] * (4 - len(value))), img)


def resize(img: np.ndarray, size_wh: tuple[int, int], interpolation: int) -> np.ndarray:
    if (img.shape[1], img.shape[0]) == tuple(size_wh):
        return img.copy()
    interpolation = resolve_interpolation(interpolation, (img.shape[1], img.shape[0]), tuple(size_wh))
    return _overshoot(keep_channels(cv2.resize(img, tuple(size_wh), interpolation=interpolation), img), interpolation)


def crop_resize(img: np.ndarray, x0: int, y0: int, w: int, h: int, size_wh: tuple[int, int] | None,
                interpolation: int) -> np.ndarray:
    """Crop ``(x0, y0, w, h)`` then resize to ``size_wh`` (one copy when no resize is needed)."""
    region = img[y0 : y0 + h, x0 : x0 + w]
    if size_wh is None or (w, h) == tuple(size_wh):
        return region.copy()
    interpolation = resolve_interpolation(interpolation, (w, h), tuple(size_wh))
    # OpenCV reads the window in place (rows of the whole image apart): copying it first costs a pass
    out = keep_channels(cv2.resize(region, tuple(size_wh), interpolation=interpolation), img)
    return _overshoot(out, interpolation)


# -- colour steps as 3x4 affine maps on RGB values (any scale): fused jitter, batch transforms ------
# RGB <-> YIQ: a linear hue rotation turns the I/Q plane (GluonCV's and mx.image's HueJitterAug)
_YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_YIQ_INV = np.linalg.inv(_YIQ)


def color_step(op: str, value: float, mean_rgb: np.ndarray) -> np.ndarray:
    """The 3x4 map of one jitter step; ``mean_rgb`` (the image's channel means) is used by contrast."""
    return color_steps(op, np.array([value]), np.asarray(mean_rgb, np.float64)[None])[0]


def color_steps(op: str, values: np.ndarray, means: np.ndarray) -> np.ndarray:
    """The maps of one jitter step for a batch: (N,) values and (N, 3) channel means -> (N, 3, 4) maps.

    Hue is the linear (YIQ) rotation, used by the batch transforms."""
    values = np.asarray(values, np.float64)
    n = len(values)
    out = np.zeros((n, 3, 4))
    eye = np.eye(3)
    if op == "brightness":
        out[:, :, :3] = values[:, None, None] * eye
    elif op == "saturation":
        out[:, :, :3] = values[:, None, None] * eye + (1 - values)[:, None, None] * np.outer(np.ones(3), _GRAY64)
    elif op == "contrast":
        out[:, :, :3] = values[:, None, None] * eye
        out[:, :, 3] = ((1 - values) * (means @ _GRAY64))[:, None]
    elif op == "hue":
        t = values * 2 * np.pi
        cos, sin = np.cos(t), np.sin(t)
        rot = np.zeros((n, 3, 3))
        rot[:, 0, 0], rot[:, 1, 1], rot[:, 1, 2], rot[:, 2, 1], rot[:, 2, 2] = 1, cos, -sin, sin, cos
        out[:, :, :3] = _YIQ_INV @ rot @ _YIQ
    else:
        raise ValueError(f"unknown colour step {op!r}")
    return out


def then_batch(steps: np.ndarray, so_far: np.ndarray) -> np.ndarray:
    """:func:`then` for (N, 3, 4) batches of maps."""
    out = steps[:, :, :3] @ so_far
    out[:, :, 3] += steps[:, :, 3]
    return out


def then(step: np.ndarray, so_far: np.ndarray) -> np.ndarray:
    """The 3x4 map of ``so_far`` followed by ``step``."""
    return then_batch(step[None], so_far[None])[0]


def affine_gray_blend(img: np.ndarray, alpha: float, beta: float, gamma: float) -> np.ndarray:
    """``alpha * img + beta * gray(img) + gamma`` in one pass (a look-up table when ``beta`` is 0).

    Any run of brightness, contrast and saturation steps has this form; uint8 results saturate.
    """
    if img.dtype == np.uint8 and beta == 0:
        return _scale_shift(img, alpha, gamma)
    if img.dtype == np.uint8 and img.shape[2] == 3:  # one 3x4 colour matrix, one saturating pass
        r, g, b = beta * _GRAY_R, beta * _GRAY_G, beta * _GRAY_B  # plain floats: numpy costs more at 32x32
        matrix = np.array([[alpha + r, g, b, gamma], [r, alpha + g, b, gamma], [r, g, alpha + b, gamma]], np.float32)
        return cv2.transform(np.ascontiguousarray(img), matrix)
    out = img.astype(np.float32) * np.float32(alpha) + gray(img).astype(np.float32) * np.float32(beta) \
        + np.float32(gamma)
    return _finish(out, img)
