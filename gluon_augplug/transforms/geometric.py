"""Flips, resizing, crops, rotation and affine warps (MXNet's names and size convention)."""
from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from . import functional as F
from .. import params as P
from ..targets.geometry import crop_resize_matrix, flip_matrix, from_index_matrix, scale_matrix
from ..targets.modes import TargetMode
from .base import CHW, HWC, DecodeWindow, Transform, registration_hook


def _flip(img: np.ndarray, layout: str, axis_hwc: int) -> np.ndarray:
    if layout == CHW:
        return np.ascontiguousarray(np.flip(img, axis=axis_hwc + 1))
    return F.keep_channels(cv2.flip(img, 1 if axis_hwc == 1 else 0), img)


class RandomFlipLeftRight(Transform):
    """Flip the image horizontally with probability ``p``."""

    random = True
    accepts = (HWC, CHW)
    target_mode = TargetMode.GEOMETRIC
    p = P.Probability(0.5, "probability of flipping")
    _axis = 1  # of an HWC image

    def draw(self, rng, shape, size):
        return {"flip": rng.random(size) < self.p}

    def geometry(self, params, in_hw, out_hw):
        return flip_matrix(in_hw, self._axis == 1, params.get("flip", False))

    def apply(self, img, layout, flip=False):
        return _flip(img, layout, self._axis) if flip else img


class RandomFlipTopBottom(RandomFlipLeftRight):
    """Flip the image vertically with probability ``p``."""

    _axis = 0


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

    size = P.Size(doc="output size: an integer (square, or the short side with keep_ratio) or (width, height)")
    keep_ratio = P.Flag(False, "keep the aspect ratio: size is the short side")
    interpolation = P.Interpolation(1)
    example = {"size": 32}
    target_mode = TargetMode.GEOMETRIC

    def geometry(self, params, in_hw, out_hw):
        return scale_matrix(in_hw, out_hw)

    def output_hw(self, params, in_hw):
        w, h = self.output_size(*in_hw)
        return h, w

    def setup(self):
        if self.keep_ratio and isinstance(self._param_given["size"], (list, tuple)):
            raise self.invalid("size", "an integer (the short side) when keep_ratio=True")

    def output_size(self, h: int, w: int) -> tuple[int, int]:
        if not self.keep_ratio:
            return self.size
        s = self.size[0]
        return (s, int(h * s / w)) if h > w else (int(w * s / h), s)

    def apply(self, img, layout):
        return F.resize(img, self.output_size(*img.shape[:2]), self.interpolation)

    def decode_window(self, params, in_hw):
        w, h = self.output_size(*in_hw)
        return DecodeWindow(0, 0, in_hw[1], in_hw[0], (h, w), self.interpolation)


_HALF = {"floor": lambda v: v // 2, "round": lambda v: int(round(v / 2.0)), "ceil": lambda v: -(-v // 2)}


class CenterCrop(Transform):
    """Crop the centre to ``size`` (int or (width, height)); smaller images are cropped then resized up.

    ``offset`` says how an odd margin is halved: ``"floor"`` (MXNet's ``center_crop``), ``"round"``
    (Python's round, half to even: GluonCV's ``VideoCenterCrop`` and ``VideoGroupValTransform``) or
    ``"ceil"`` (GluonCV's ``VideoGroupValTransformV2``)."""

    size = P.Size(doc="output size: an integer (square) or (width, height)")
    interpolation = P.Interpolation(1)
    offset = P.Choice("floor", tuple(_HALF), "how an odd margin is halved: floor (MXNet), round or ceil (GluonCV's "
                                             "video transforms)")
    example = {"size": 24}
    target_mode = TargetMode.GEOMETRIC

    def _window(self, h: int, w: int) -> tuple[int, int, int, int]:
        cw, ch = scale_down((w, h), self.size)
        half = _HALF[self.offset]
        return half(w - cw), half(h - ch), cw, ch

    def apply(self, img, layout):
        return F.crop_resize(img, *self._window(*img.shape[:2]), self.size, self.interpolation)

    def geometry(self, params, in_hw, out_hw):
        return crop_resize_matrix(*self._window(*in_hw), self.size)

    def output_hw(self, params, in_hw):
        return self.size[1], self.size[0]

    def decode_window(self, params, in_hw):
        return DecodeWindow(*self._window(*in_hw), (self.size[1], self.size[0]), self.interpolation)


def _padding(owner: str, name: str, value: Any) -> tuple[int, int, int, int]:
    if value is None:
        return (0, 0, 0, 0)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        p = P.number(owner, name, value, 0, P.MAX_SIDE, integer=True)
        return (p, p, p, p)
    if isinstance(value, (list, tuple)) and len(value) in (2, 4) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= P.MAX_SIDE and int(v) == v
        for v in value
    ):
        v = [int(x) for x in value]
        return (v[0], v[1], v[0], v[1]) if len(v) == 2 else tuple(v)  # type: ignore[return-value]
    raise P.ParameterError(owner, name, value, _PAD_ALLOWED)


_PAD_ALLOWED = "None, an integer >= 0, (pad_x, pad_y) or (left, top, right, bottom)"


class RandomCrop(Transform):
    """Pad by ``pad`` pixels (filled with ``pad_value``), then crop a random ``size`` window.

    ``pad`` is an int, ``(pad_x, pad_y)`` or ``(left, top, right, bottom)``: GluonCV's
    CIFAR-10 recipe is ``RandomCrop(32, pad=4)``. A window larger than the padded image is
    scaled down to fit and resized back up, as MXNet's ``random_crop``; with ``upscale=False`` it is
    never resized (GluonCV's segmentation crop, after ``PadIfNeeded``).
    """

    random = True
    size = P.Size(doc="window size: an integer (square) or (width, height)")
    pad = P.Custom(None, _padding, _PAD_ALLOWED, "padding added around the image first", type_name="padding")
    pad_value = P.Fill(0, "colour of the padding (0-255)")
    interpolation = P.Interpolation(1)
    upscale = P.Flag(True, "a window larger than the padded image is shrunk to fit and resized back up (MXNet); "
                           "False: never resized, it reaches past the bottom and right into pad_value")
    example = {"size": 32, "pad": 4}
    target_mode = TargetMode.GEOMETRIC

    def geometry(self, params, in_hw, out_hw):
        return crop_resize_matrix(params["x0"], params["y0"], params["w"], params["h"], self.size)

    def output_hw(self, params, in_hw):
        return self.size[1], self.size[0]

    def check_batch(self):
        if self.pad_value not in (0, 0.0):
            raise self.invalid("pad_value", "0 in a batch pipeline (batch crops pad with zeros)")

    def draw(self, rng, shape, size):
        left, top, right, bottom = self.pad
        pw, ph = shape[1] + left + right, shape[0] + top + bottom
        cw, ch = scale_down((pw, ph), self.size) if self.upscale else self.size
        x0, y0 = rng.integers(0, max(pw - cw, 0) + 1, size), rng.integers(0, max(ph - ch, 0) + 1, size)
        if size is None:  # one image: Python numbers, for its record
            return {"x0": int(x0) - left, "y0": int(y0) - top, "w": cw, "h": ch}
        return {"x0": x0 - left, "y0": y0 - top, "w": cw, "h": ch}

    def apply(self, img, layout, x0=0, y0=0, w=None, h=None):
        w, h = w or self.size[0], h or self.size[1]
        H, W = img.shape[:2]
        if 0 <= x0 and 0 <= y0 and x0 + w <= W and y0 + h <= H:
            return F.crop_resize(img, x0, y0, w, h, self.size, self.interpolation)
        # the window reaches into the padding: copy the overlap into a filled canvas
        out = np.empty((h, w, img.shape[2]), dtype=img.dtype)
        out[...] = np.asarray(self.pad_value, dtype=img.dtype) if not isinstance(self.pad_value, tuple) \
            else np.asarray(self.pad_value[: img.shape[2]], dtype=img.dtype)
        sx, sy, ex, ey = max(x0, 0), max(y0, 0), min(x0 + w, W), min(y0 + h, H)
        if sx < ex and sy < ey:
            out[sy - y0 : ey - y0, sx - x0 : ex - x0] = img[sy:ey, sx:ex]
        return out if (w, h) == tuple(self.size) else F.resize(out, self.size, self.interpolation)


class RandomResizedCrop(Transform):
    """Crop a random area and aspect ratio, then resize to ``size`` (MXNet's and torchvision's recipe).

    The area fraction is uniform in ``scale``, the aspect ratio (w/h) log-uniform in
    ``ratio``; after 10 failed tries it falls back to a centre crop.
    """

    random = True
    size = P.Size(doc="output size: an integer (square) or (width, height)")
    scale = P.Range((0.08, 1.0), 0.0, 1.0, up_to=1.0,
                    doc="area of the crop as a fraction of the image's (a number x: (x, 1.0), as MXNet reads it)")
    ratio = P.Range((3.0 / 4.0, 4.0 / 3.0), 1e-6, None, doc="aspect ratio (width / height) of the crop")
    interpolation = P.Interpolation(1)
    example = {"size": 32}
    target_mode = TargetMode.GEOMETRIC

    def setup(self):
        if self.scale[1] <= 0:
            raise self.invalid("scale", "(min, max) with 0 <= min <= max <= 1, max > 0")

    def geometry(self, params, in_hw, out_hw):
        return crop_resize_matrix(params["x0"], params["y0"], params["w"], params["h"], self.size)

    def output_hw(self, params, in_hw):
        return self.size[1], self.size[0]

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
        cw, ch = scale_down((w, h), self.size)
        return {"x0": (w - cw) // 2, "y0": (h - ch) // 2, "w": cw, "h": ch}

    def apply(self, img, layout, x0=0, y0=0, w=None, h=None):
        return F.crop_resize(img, x0, y0, w or img.shape[1], h or img.shape[0], self.size, self.interpolation)

    def decode_window(self, params, in_hw):
        return DecodeWindow(params["x0"], params["y0"], params["w"], params["h"], (self.size[1], self.size[0]),
                            self.interpolation)


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


def _shear(owner: str, name: str, value: Any) -> tuple[tuple[float, float], tuple[float, float]]:
    if isinstance(value, (list, tuple)) and len(value) == 4:
        return P.pair(owner, name, value[:2], -89, 89), P.pair(owner, name, value[2:], -89, 89)
    return P.pair(owner, name, value, -89, 89, symmetric_from=0.0), (0.0, 0.0)


class RandomAffine(Transform):
    """Random rotation, translation, scale and shear in one resample (torchvision's parameters).

    ``degrees``: ±x or (min, max); ``translate``: (max_dx, max_dy) as fractions of the
    width and height; ``scale``: (min, max); ``shear``: ±x, (min, max) along x, or
    (xmin, xmax, ymin, ymax); ``fill``: the border colour.
    """

    random = True
    degrees = P.Range(0, -360, 360, symmetric_from=0.0, doc="rotation angle, counter-clockwise")
    translate = P.Range(None, 0.0, 1.0, optional=True, doc="(max_dx, max_dy) as fractions of width and height")
    scale = P.Range(None, 1e-3, None, optional=True, doc="scale factor range")
    shear = P.Custom(None, _shear, "±x, (min, max) along x or (xmin, xmax, ymin, ymax), each in [-89, 89]",
                     "shear angles in degrees", type_name="shear", optional=True)
    interpolation = P.Interpolation(1)
    fill = P.Fill(0, "colour of the border (0-255)")
    # these default to doing nothing, as in MXNet and torchvision
    example = {"degrees": 15, "translate": (0.1, 0.1), "scale": (0.9, 1.1), "shear": 10}

    def check_batch(self):
        if self.fill not in (0, 0.0):
            raise self.invalid("fill", "0 in a batch pipeline (batch warps fill with zeros)")

    def sample(self, rng, shape):
        h, w = shape[:2]
        tx = ty = 0.0
        translate, scale = getattr(self, "translate", None), getattr(self, "scale", None)
        shear = getattr(self, "shear", None) or ((0.0, 0.0), (0.0, 0.0))
        if translate is not None:
            tx = float(round(rng.uniform(-translate[0], translate[0]) * w))
            ty = float(round(rng.uniform(-translate[1], translate[1]) * h))
        return {
            "angle": float(rng.uniform(*self.degrees)),
            "translate": [tx, ty],
            "scale": float(rng.uniform(*scale)) if scale is not None else 1.0,
            "shear": [float(rng.uniform(*shear[0])), float(rng.uniform(*shear[1]))],
        }

    target_mode = TargetMode.GEOMETRIC

    @staticmethod
    def _matrix(hw, angle=0.0, translate=(0.0, 0.0), scale=1.0, shear=(0.0, 0.0)) -> np.ndarray:
        h, w = hw
        return affine_matrix(((w - 1) * 0.5, (h - 1) * 0.5), angle, tuple(translate), scale, tuple(shear))

    def apply(self, img, layout, **params):
        h, w = img.shape[:2]
        return F.warp_affine(img, self._matrix((h, w), **params), (w, h), self.interpolation, self.fill)

    def geometry(self, params, in_hw, out_hw):
        return from_index_matrix(self._matrix(in_hw, **params))


class RandomRotation(RandomAffine):
    """Rotate by a random angle in ``degrees`` (±x or (min, max)), counter-clockwise for positive angles.

    MXNet's ``RandomRotation(angle_limits)`` takes the same (min, max) pair as its first argument.
    """

    degrees = P.Range(10, -360, 360, symmetric_from=0.0, doc="rotation angle, counter-clockwise")
    translate = scale = shear = None  # not parameters of a rotation
    example = None


augplug_register_transforms = registration_hook(__name__)
