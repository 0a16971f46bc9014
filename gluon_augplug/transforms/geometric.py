"""Flips, resizing, crops, rotation and affine warps (MXNet's names and size convention)."""
from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from . import functional as F
from . import params as P
from .base import CHW, HWC, Transform


def _flip(img: np.ndarray, layout: str, axis_hwc: int) -> np.ndarray:
    if layout == CHW:
        return np.ascontiguousarray(np.flip(img, axis=axis_hwc + 1))
    return F.keep_channels(cv2.flip(img, 1 if axis_hwc == 1 else 0), img)


class RandomFlipLeftRight(Transform):
    """Flip the image horizontally with probability ``p``."""

    random = True
    accepts = (HWC, CHW)

    def __init__(self, p: float = 0.5):
        self.p = P.probability("RandomFlipLeftRight", "p", p)

    def sample(self, rng, shape):
        return {"flip": bool(rng.random() < self.p)}

    def apply(self, img, layout, flip=False):
        return _flip(img, layout, 1) if flip else img


class RandomFlipTopBottom(RandomFlipLeftRight):
    """Flip the image vertically with probability ``p``."""

    def apply(self, img, layout, flip=False):
        return _flip(img, layout, 0) if flip else img


def scale_down(src_wh: tuple[int, int], size_wh: tuple[int, int]) -> tuple[int, int]:
    """Shrink ``size_wh`` to fit in ``src_wh`` keeping its aspect ratio (MXNet's ``scale_down``)."""
    w, h = size_wh
    sw, sh = src_wh
    if sh < h:
        w, h = float(w * sh) / h, sh
    if sw < w:
        w, h = sw, float(h * sw) / w
    return int(w), int(h)


class Resize(Transform):
    """Resize to ``size`` = int or (width, height); with ``keep_ratio`` an int sets the short side."""

    def __init__(self, size: Any, keep_ratio: bool = False, interpolation: int = 1):
        self.size = size
        self._wh = P.size_wh("Resize", "size", size)
        if keep_ratio not in (True, False):
            P.one_of("Resize", "keep_ratio", keep_ratio, (True, False))
        if keep_ratio and not isinstance(size, (int, float)):
            raise P.ParameterError("Resize", "size", size, "an integer (the short side) when keep_ratio=True")
        self.keep_ratio = keep_ratio
        self.interpolation = P.interpolation("Resize", interpolation)

    def output_size(self, h: int, w: int) -> tuple[int, int]:
        if not self.keep_ratio:
            return self._wh
        s = self._wh[0]
        return (s, int(h * s / w)) if h > w else (int(w * s / h), s)

    def apply(self, img, layout):
        return F.resize(img, self.output_size(*img.shape[:2]), self.interpolation)


class CenterCrop(Transform):
    """Crop the centre to ``size`` (int or (width, height)); smaller images are cropped then resized up."""

    def __init__(self, size: Any, interpolation: int = 1):
        self.size = size
        self._wh = P.size_wh("CenterCrop", "size", size)
        self.interpolation = P.interpolation("CenterCrop", interpolation)

    def apply(self, img, layout):
        h, w = img.shape[:2]
        cw, ch = scale_down((w, h), self._wh)
        return F.crop_resize(img, (w - cw) // 2, (h - ch) // 2, cw, ch, self._wh, self.interpolation)


class RandomCrop(Transform):
    """Pad by ``pad`` pixels (filled with ``pad_value``), then crop a random ``size`` window.

    ``pad`` is an int, ``(pad_x, pad_y)`` or ``(left, top, right, bottom)``: GluonCV's
    CIFAR-10 recipe is ``RandomCrop(32, pad=4)``. A window larger than the padded image is
    scaled down to fit and resized back up, as MXNet's ``random_crop``.
    """

    random = True

    def __init__(self, size: Any, pad: Any = None, pad_value: Any = 0, interpolation: int = 1):
        self.size = size
        self._wh = P.size_wh("RandomCrop", "size", size)
        self.pad = pad
        if pad is None:
            self._pad = (0, 0, 0, 0)
        elif isinstance(pad, (int, float)) and not isinstance(pad, bool):
            p = P.number("RandomCrop", "pad", pad, 0, P.MAX_SIDE, integer=True)
            self._pad = (p, p, p, p)
        elif isinstance(pad, (list, tuple)) and len(pad) in (2, 4) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 and int(v) == v for v in pad
        ):
            v = [int(x) for x in pad]
            self._pad = (v[0], v[1], v[0], v[1]) if len(v) == 2 else tuple(v)
        else:
            raise P.ParameterError("RandomCrop", "pad", pad,
                                   "None, an integer >= 0, (pad_x, pad_y) or (left, top, right, bottom)")
        self.pad_value = P.fill_value("RandomCrop", "pad_value", pad_value)
        self.interpolation = P.interpolation("RandomCrop", interpolation)

    def sample(self, rng, shape):
        left, top, right, bottom = self._pad
        pw, ph = shape[1] + left + right, shape[0] + top + bottom
        cw, ch = scale_down((pw, ph), self._wh)
        return {"x0": int(rng.integers(0, pw - cw + 1)) - left, "y0": int(rng.integers(0, ph - ch + 1)) - top,
                "w": cw, "h": ch}

    def apply(self, img, layout, x0=0, y0=0, w=None, h=None):
        w, h = w or self._wh[0], h or self._wh[1]
        H, W = img.shape[:2]
        if 0 <= x0 and 0 <= y0 and x0 + w <= W and y0 + h <= H:
            return F.crop_resize(img, x0, y0, w, h, self._wh, self.interpolation)
        # the window reaches into the padding: copy the overlap into a filled canvas
        out = np.empty((h, w, img.shape[2]), dtype=img.dtype)
        out[...] = np.asarray(self.pad_value, dtype=img.dtype) if not isinstance(self.pad_value, tuple) \
            else np.asarray(self.pad_value[: img.shape[2]], dtype=img.dtype)
        sx, sy, ex, ey = max(x0, 0), max(y0, 0), min(x0 + w, W), min(y0 + h, H)
        if sx < ex and sy < ey:
            out[sy - y0 : ey - y0, sx - x0 : ex - x0] = img[sy:ey, sx:ex]
        return F.resize(out, self._wh, self.interpolation)


class RandomResizedCrop(Transform):
    """Crop a random area and aspect ratio, then resize to ``size`` (MXNet's and torchvision's recipe).

    The area fraction is uniform in ``scale``, the aspect ratio (w/h) log-uniform in
    ``ratio``; after 10 failed tries it falls back to a centre crop.
    """

    random = True

    def __init__(self, size: Any, scale: Any = (0.08, 1.0), ratio: Any = (3.0 / 4.0, 4.0 / 3.0),
                 interpolation: int = 1):
        self.size = size
        self._wh = P.size_wh("RandomResizedCrop", "size", size)
        self.scale = P.pair("RandomResizedCrop", "scale", scale, 0.0, 1.0)
        if self.scale[1] <= 0:
            raise P.ParameterError("RandomResizedCrop", "scale", scale, "(min, max) with 0 <= min <= max <= 1, max > 0")
        self.ratio = P.pair("RandomResizedCrop", "ratio", ratio, 1e-6, None)
        self.interpolation = P.interpolation("RandomResizedCrop", interpolation)

    def sample(self, rng, shape):
        h, w = shape[:2]
        area = h * w
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            target = rng.uniform(*self.scale) * area
            aspect = math.exp(rng.uniform(*log_ratio))
            cw, ch = int(round(math.sqrt(target * aspect))), int(round(math.sqrt(target / aspect)))
            if 0 < cw <= w and 0 < ch <= h:
                return {"x0": int(rng.integers(0, w - cw + 1)), "y0": int(rng.integers(0, h - ch + 1)), "w": cw, "h": ch}
        cw, ch = scale_down((w, h), self._wh)
        return {"x0": (w - cw) // 2, "y0": (h - ch) // 2, "w": cw, "h": ch}

    def apply(self, img, layout, x0=0, y0=0, w=None, h=None):
        return F.crop_resize(img, x0, y0, w or img.shape[1], h or img.shape[0], self._wh, self.interpolation)


def affine_matrix(center: tuple[float, float], angle: float, translate: tuple[float, float] = (0.0, 0.0),
                  scale: float = 1.0, shear: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """2x3 forward matrix about ``center``: shear (degrees along x, y), scale, rotate
    ``angle`` degrees counter-clockwise as seen on screen, then translate by pixels."""
    cx, cy = center
    t = math.radians(angle)
    rotate = np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]])  # y axis points down
    shear_m = np.array([[1.0, math.tan(math.radians(shear[0]))], [math.tan(math.radians(shear[1])), 1.0]])
    m = scale * rotate @ shear_m
    offset = np.array([cx + translate[0], cy + translate[1]]) - m @ np.array([cx, cy])
    return np.hstack([m, offset[:, None]])


class RandomAffine(Transform):
    """Random rotation, translation, scale and shear in one resample (torchvision's parameters).

    ``degrees``: ±x or (min, max); ``translate``: (max_dx, max_dy) as fractions of the
    width and height; ``scale``: (min, max); ``shear``: ±x, (min, max) along x, or
    (xmin, xmax, ymin, ymax); ``fill``: the border colour.
    """

    random = True

    def __init__(self, degrees: Any = 0, translate: Any = None, scale: Any = None, shear: Any = None,
                 interpolation: int = 1, fill: Any = 0):
        name = type(self).__name__
        self.degrees = P.pair(name, "degrees", degrees, -360, 360, symmetric_from=0.0)
        if translate is not None:
            translate = P.pair(name, "translate", translate, 0.0, 1.0)
        self.translate = translate
        if scale is not None:
            scale = P.pair(name, "scale", scale, 1e-3, None)
        self.scale = scale
        if shear is None:
            self._shear = ((0.0, 0.0), (0.0, 0.0))
        elif isinstance(shear, (list, tuple)) and len(shear) == 4:
            self._shear = (P.pair(name, "shear", shear[:2], -89, 89), P.pair(name, "shear", shear[2:], -89, 89))
        else:
            self._shear = (P.pair(name, "shear", shear, -89, 89, symmetric_from=0.0), (0.0, 0.0))
        self.shear = shear
        self.interpolation = P.interpolation(name, interpolation)
        self.fill = P.fill_value(name, "fill", fill)

    def sample(self, rng, shape):
        h, w = shape[:2]
        tx = ty = 0.0
        if self.translate is not None:
            tx = float(round(rng.uniform(-self.translate[0], self.translate[0]) * w))
            ty = float(round(rng.uniform(-self.translate[1], self.translate[1]) * h))
        return {
            "angle": float(rng.uniform(*self.degrees)),
            "translate": [tx, ty],
            "scale": float(rng.uniform(*self.scale)) if self.scale is not None else 1.0,
            "shear": [float(rng.uniform(*self._shear[0])), float(rng.uniform(*self._shear[1]))],
        }

    def apply(self, img, layout, angle=0.0, translate=(0.0, 0.0), scale=1.0, shear=(0.0, 0.0)):
        h, w = img.shape[:2]
        m = affine_matrix(((w - 1) * 0.5, (h - 1) * 0.5), angle, tuple(translate), scale, tuple(shear))
        return F.warp_affine(img, m, (w, h), self.interpolation, self.fill)


class RandomRotation(RandomAffine):
    """Rotate by a random angle in ``degrees`` (±x or (min, max)), counter-clockwise for positive angles.

    MXNet's ``RandomRotation(angle_limits)`` takes the same (min, max) pair as its first argument.
    """

    def __init__(self, degrees: Any = 10, interpolation: int = 1, fill: Any = 0):
        super().__init__(degrees=degrees, interpolation=interpolation, fill=fill)
