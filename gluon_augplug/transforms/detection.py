"""GluonCV's detection augmentations (SSD, YOLOv3, Faster R-CNN), with GluonCV's parameter meanings.

Each is checked against GluonCV's own functions in the test suite (``gluoncv.data.transforms``:
``image.random_expand``, ``experimental.bbox.random_crop_with_constraints``,
``experimental.image.random_color_distort``, ``image.imresize`` with a random interpolation,
``image.resize_short_within``).
"""
from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from . import functional as F
from .. import params as P
from ..targets.formats import box_ious
from ..targets.geometry import crop_resize_matrix, scale_matrix
from ..targets.modes import TargetMode
from ..errors import InputError
from .base import DecodeWindow, Transform, registration_hook

# GluonCV's own YIQ matrices (rounded differently from functional._YIQ, whose inverse is computed), so that the
# distortion is GluonCV's to the last digit
_YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.321], [0.211, -0.523, 0.311]])
_YIQ_INV = np.array([[1.0, 0.956, 0.621], [1.0, -0.272, -0.647], [1.0, -1.107, 1.705]])
_LUMA = np.array([0.299, 0.587, 0.114])
_LUMA_ROWS = np.outer(np.ones(3), _LUMA)


MAX_CANVAS_PIXELS = 4 * 89_478_485  # four times the largest decodable image (1 GB as RGB uint8)
MAX_CANVAS_BYTES = 2**30


class RandomExpand(Transform):
    """With probability ``p``, place the image on a canvas up to ``max_ratio`` times its size (zoom out).

    GluonCV's ``random_expand``: the side ratio is uniform in [1, max_ratio] (one for both sides
    with ``keep_ratio``), the offset uniform over the canvas, the canvas filled with ``fill`` (SSD
    and YOLOv3 fill with the ImageNet mean: ``fill=(123.675, 116.28, 103.53)``). GluonCV's
    presets expand with probability 0.5.
    """

    random = True
    target_mode = TargetMode.GEOMETRIC
    max_ratio = P.Number(4.0, 1.0, 64.0, doc="largest ratio of the canvas side to the image side")
    fill = P.Fill(0, "colour of the canvas (0-255), one number or one per channel")
    keep_ratio = P.Flag(True, "the same ratio for width and height")
    p = P.Probability(0.5, "probability of expanding")
    example = {"max_ratio": 3, "fill": (123.675, 116.28, 103.53)}

    def sample(self, rng, shape):
        h, w = shape[:2]
        if rng.random() >= self.p or self.max_ratio <= 1:
            return {"x0": 0, "y0": 0, "w": w, "h": h}
        ratio_x = float(rng.uniform(1, self.max_ratio))
        ratio_y = ratio_x if self.keep_ratio else float(rng.uniform(1, self.max_ratio))
        oh, ow = int(h * ratio_y), int(w * ratio_x)
        return {"x0": int(rng.integers(0, ow - w + 1)), "y0": int(rng.integers(0, oh - h + 1)), "w": ow, "h": oh}

    def apply(self, img, layout, x0=0, y0=0, w=None, h=None):
        ih, iw = img.shape[:2]
        w, h = w or iw, h or ih
        if (w, h) == (iw, ih):
            return img
        if w * h > MAX_CANVAS_PIXELS or w * h * img.shape[2] * img.itemsize > MAX_CANVAS_BYTES:  # before OpenCV allocates
            raise InputError(f"{self.spec_name}: a {w}x{h} canvas for a {iw}x{ih} image ({w * h:,} pixels, "
                             f"{w * h * img.shape[2] * img.itemsize:,} bytes) is more than the limit of "
                             f"{MAX_CANVAS_PIXELS:,} pixels or {MAX_CANVAS_BYTES:,} bytes; lower max_ratio (now "
                             f"{self.max_ratio}) or resize the image first")
        return F.pad_constant(img, x0, y0, w - iw - x0, h - ih - y0, self.fill)

    def geometry(self, params, in_hw, out_hw):
        return np.array([[1.0, 0.0, params["x0"]], [0.0, 1.0, params["y0"]], [0.0, 0.0, 1.0]])

    def output_hw(self, params, in_hw):
        return params["h"], params["w"]

    def check_batch(self):
        if np.any(np.asarray(self.fill) != 0):
            raise self.invalid("fill", "0 in a batch pipeline (batch canvases are filled with zeros)")


SSD_CONSTRAINTS = ((0.1, None), (0.3, None), (0.5, None), (0.7, None), (0.9, None), (None, 1))


def _constraints(owner: str, name: str, value: Any) -> tuple:
    if value is None:
        return SSD_CONSTRAINTS
    ok = isinstance(value, (list, tuple)) and value and all(
        isinstance(c, (list, tuple)) and len(c) == 2 and all(v is None or (isinstance(v, (int, float))
                                                                             and not isinstance(v, bool)
                                                                             and 0 <= v <= 1) for v in c)
        for c in value)
    if not ok:
        raise P.ParameterError(owner, name, value, "None, or (min_iou, max_iou) pairs, each in [0, 1] or None")
    return tuple((c[0], c[1]) for c in value)


class RandomIoUCrop(Transform):
    """SSD's crop: a random window whose IoU with the boxes meets one of ``constraints`` (its sampling
    sees the boxes); boxes whose centre leaves the window are dropped.

    GluonCV's ``random_crop_with_constraints``: for each (min_iou, max_iou) constraint, up to
    ``max_trial`` windows of area scale uniform in [min_scale, max_scale] and aspect ratio uniform in
    [max(1/max_aspect_ratio, scale^2), min(max_aspect_ratio, 1/scale^2)] are tried; the first whose
    IoU with every box lies in the constraint's range is a candidate. One candidate (or the whole
    image) is picked uniformly; one that would keep no box is discarded. Without boxes, the first
    window tried is taken. The image is cropped, not resized.
    """

    random = True
    target_mode = TargetMode.GEOMETRIC
    min_scale = P.Number(0.3, 0.01, 1.0, doc="smallest side scale of the window")
    max_scale = P.Number(1.0, 0.01, 1.0, doc="largest side scale of the window")
    max_aspect_ratio = P.Number(2.0, 1.0, 100.0, doc="largest aspect ratio of the window")
    constraints = P.Custom(None, _constraints, "None (SSD's: min IoU 0.1, 0.3, 0.5, 0.7, 0.9, or max IoU 1), or "
                           "(min_iou, max_iou) pairs, each in [0, 1] or None", "IoU ranges, tried in turn",
                           type_name="constraints", optional=True)
    max_trial = P.Number(50, 1, 10_000, integer=True, doc="windows tried per constraint")

    def setup(self):
        if self.min_scale > self.max_scale:
            raise self.invalid("min_scale", f"a number in [0.01, max_scale={self.max_scale}]")

    def sample(self, rng, shape, targets=None):
        h, w = shape[:2]
        boxes = targets if targets is not None else np.zeros((0, 4))
        candidates = [(0, 0, w, h)]
        for min_iou, max_iou in self.constraints or SSD_CONSTRAINTS:
            # GluonCV tries up to max_trial windows one by one and keeps the first that fits; the trials are
            # independent, so drawing them at once and keeping the first that fits is the same distribution
            n = self.max_trial
            scale = rng.uniform(self.min_scale, self.max_scale, n)
            ratio = rng.uniform(np.maximum(1 / self.max_aspect_ratio, scale * scale),
                                np.minimum(self.max_aspect_ratio, 1 / (scale * scale)))
            ch = (h * scale / np.sqrt(ratio)).astype(np.int64)
            cw = (w * scale * np.sqrt(ratio)).astype(np.int64)
            top = np.floor(rng.random(n) * np.maximum(h - ch, 0)).astype(np.int64)  # randrange(h - ch)
            left = np.floor(rng.random(n) * np.maximum(w - cw, 0)).astype(np.int64)
            if not len(boxes):
                return {"x0": int(left[0]), "y0": int(top[0]), "w": int(cw[0]), "h": int(ch[0])}
            windows = np.stack([left, top, left + cw, top + ch], axis=1).astype(np.float64)
            iou = box_ious(boxes, windows)  # (boxes, windows)
            low = -np.inf if min_iou is None else min_iou
            high = np.inf if max_iou is None else max_iou
            fits = np.nonzero((iou.min(axis=0) >= low) & (iou.max(axis=0) <= high))[0]
            if len(fits):
                k = fits[0]
                candidates.append((int(left[k]), int(top[k]), int(cw[k]), int(ch[k])))
        while candidates:
            crop = candidates.pop(int(rng.integers(0, len(candidates))))
            if _centres_inside(boxes, crop).any():
                return {"x0": crop[0], "y0": crop[1], "w": crop[2], "h": crop[3]}
        return {"x0": 0, "y0": 0, "w": w, "h": h}

    def apply(self, img, layout, x0=0, y0=0, w=None, h=None):
        return F.crop_resize(img, x0, y0, w or img.shape[1], h or img.shape[0], None, 1)

    def geometry(self, params, in_hw, out_hw):
        return crop_resize_matrix(params["x0"], params["y0"], params["w"], params["h"])

    def output_hw(self, params, in_hw):
        return params["h"], params["w"]

    def keep_boxes(self, boxes, params, in_hw):
        """GluonCV drops a box whose centre leaves the window."""
        return _centres_inside(boxes, (params["x0"], params["y0"], params["w"], params["h"]))


def _centres_inside(boxes: np.ndarray, crop: tuple) -> np.ndarray:
    """Which boxes keep their centre inside the window, and some area (GluonCV's ``bbox.crop`` rule)."""
    x0, y0, w, h = crop
    low, high = np.array([x0, y0], np.float64), np.array([x0 + w, y0 + h], np.float64)
    centres = (boxes[:, :2] + boxes[:, 2:4]) * 0.5
    inside = ((low <= centres) & (centres < high)).all(axis=1)
    # and some area left inside the window (the centre rule alone keeps a box of zero width)
    return inside & (np.maximum(boxes[:, :2], low) < np.minimum(boxes[:, 2:4], high)).all(axis=1)


class RandomColorDistort(Transform):
    """GluonCV's SSD/YOLOv3 colour distortion (``random_color_distort``), each step with probability 1 - p.

    Brightness adds a value uniform in [-brightness_delta, brightness_delta] (0-255 scale); then,
    in one of two orders picked uniformly (contrast, saturation, hue or saturation, hue, contrast):
    contrast multiplies by a factor uniform in ``contrast`` (a scaling, as GluonCV's, not a blend with
    the mean), saturation blends with the luma by a factor uniform in ``saturation``, and hue turns
    the YIQ chroma plane by ``alpha * pi`` radians with alpha uniform in [-hue_delta, hue_delta].
    GluonCV documents ``hue_delta=18`` as degrees but computes ``cos(alpha * pi)``: with 18 the
    rotation is uniform over the whole circle. We follow its code, so outputs agree in distribution.
    All steps are linear: one colour matrix, one pass; values saturate to 0-255 at the end, where
    GluonCV leaves its float image unclipped.
    """

    random = True
    target_mode = TargetMode.PIXEL
    brightness_delta = P.Number(32, 0, 255, doc="largest brightness change (0-255 scale)")
    contrast = P.Range((0.5, 1.5), 0.0, None, doc="contrast factor range")
    saturation = P.Range((0.5, 1.5), 0.0, None, doc="saturation factor range")
    hue_delta = P.Number(18, 0, 360, doc="hue rotation is alpha * pi radians, alpha uniform in [-hue_delta, hue_delta]")
    p = P.Probability(0.5, "probability of skipping each step (GluonCV: uniform(0, 1) > p applies it)")

    def sample(self, rng, shape):
        steps = []
        if rng.uniform(0, 1) > self.p:
            steps.append(["brightness", float(rng.uniform(-self.brightness_delta, self.brightness_delta))])
        order = ("contrast", "saturation", "hue") if rng.integers(0, 2) else ("saturation", "hue", "contrast")
        for op in order:
            if rng.uniform(0, 1) > self.p:
                value = rng.uniform(-self.hue_delta, self.hue_delta) if op == "hue" else rng.uniform(*getattr(self, op))
                steps.append([op, float(value)])
        return {"steps": steps}

    @staticmethod
    def matrix(steps) -> np.ndarray:
        """The 3x4 map (RGB on the 0-255 scale) of the steps, one after the other."""
        linear, offset = np.eye(3), np.zeros(3)
        for op, value in steps:
            if op == "brightness":
                offset = offset + value
            elif op == "contrast":
                linear, offset = linear * value, offset * value
            elif op == "saturation":
                step = value * np.eye(3) + (1 - value) * _LUMA_ROWS
                linear, offset = step @ linear, step @ offset
            else:  # hue: GluonCV's YIQ rotation by value * pi radians
                u, w = math.cos(value * math.pi), math.sin(value * math.pi)
                step = _YIQ_INV @ np.array([[1.0, 0.0, 0.0], [0.0, u, -w], [0.0, w, u]]) @ _YIQ
                linear, offset = step @ linear, step @ offset
        return np.hstack([linear, offset[:, None]])

    def apply(self, img, layout, steps=()):
        if not steps or img.shape[2] < 3:
            return img
        matrix = self.matrix(steps)
        if img.dtype == np.uint8 and img.shape[2] == 3:
            return cv2.transform(np.ascontiguousarray(img), matrix.astype(np.float32))  # rounds and saturates
        rgb = img[:, :, :3].astype(np.float64) @ matrix[:, :3].T + matrix[:, 3]
        out = np.concatenate([rgb, img[:, :, 3:].astype(np.float64)], axis=2) if img.shape[2] == 4 else rgb
        return F._finish(out, img)


class RandomInterpolationResize(Transform):
    """Resize to ``size`` with an interpolation picked uniformly from ``interpolations`` per image
    (GluonCV's SSD/YOLOv3 ``imresize(..., interp=np.random.randint(0, 5))``)."""

    random = True
    target_mode = TargetMode.GEOMETRIC
    size = P.Size(doc="output size: an integer (square) or (width, height)")
    interpolations = P.Custom((0, 1, 2, 3, 4), lambda owner, name, value: _interpolations(owner, name, value),
                              "a non-empty list of interpolation codes (0-4, 9)", "the interpolations picked from",
                              type_name="interpolations")
    example = {"size": 300}

    def sample(self, rng, shape):
        return {"interpolation": int(self.interpolations[int(rng.integers(0, len(self.interpolations)))])}

    def apply(self, img, layout, interpolation=1):
        return F.resize(img, self.size, interpolation)

    def decode_window(self, params, in_hw):
        return DecodeWindow(0, 0, in_hw[1], in_hw[0], (self.size[1], self.size[0]), params["interpolation"])

    def geometry(self, params, in_hw, out_hw):
        return scale_matrix(in_hw, out_hw)

    def output_hw(self, params, in_hw):
        return self.size[1], self.size[0]


def _interpolations(owner: str, name: str, value: Any) -> tuple:
    from .._validate import interpolation

    if not isinstance(value, (list, tuple)) or not value:
        raise P.ParameterError(owner, name, value, "a non-empty list of interpolation codes (0-4, 9)")
    return tuple(interpolation(owner, v, name) for v in value)


class ResizeShortWithin(Transform):
    """Resize the short side to ``short`` (or, as a (min, max) pair, an integer drawn uniformly from it,
    both ends included) unless the long side would exceed ``max_size``, then fit the long side to it
    (GluonCV's ``resize_short_within``, Faster R-CNN's training and test resize)."""

    random = True
    target_mode = TargetMode.GEOMETRIC
    short = P.Range(600, 1, P.MAX_SIDE, integer=True, doc="short side, or a (min, max) range to draw it from")
    max_size = P.Number(1000, 1, P.MAX_SIDE, integer=True, doc="largest long side")
    mult_base = P.Number(1, 1, 1024, integer=True, doc="output sides are multiples of it")
    interpolation = P.Interpolation(1)
    example = {"short": (480, 640), "max_size": 1000}

    def sample(self, rng, shape):
        low, high = self.short
        return {"short": int(rng.integers(low, high + 1)) if high > low else int(low)}

    def output_size(self, h: int, w: int, short: int) -> tuple[int, int]:
        small, large = min(h, w), max(h, w)
        scale = short / small
        if np.round(scale * large / self.mult_base) * self.mult_base > self.max_size:
            scale = float(np.floor(self.max_size / self.mult_base) * self.mult_base) / large
        base = self.mult_base
        return int(np.round(w * scale / base) * base), int(np.round(h * scale / base) * base)

    def apply(self, img, layout, short=600):
        return F.resize(img, self.output_size(*img.shape[:2], short), self.interpolation)

    def decode_window(self, params, in_hw):
        w, h = self.output_size(*in_hw, params["short"])
        return DecodeWindow(0, 0, in_hw[1], in_hw[0], (h, w), self.interpolation)

    def geometry(self, params, in_hw, out_hw):
        return scale_matrix(in_hw, out_hw)

    def output_hw(self, params, in_hw):
        w, h = self.output_size(*in_hw, params["short"])
        return h, w


augplug_register_transforms = registration_hook(__name__)
