"""Warps of a window onto a fixed output: CenterNet's random centre and scale (and its letterbox), the pose
recipes' crop around a person's box with scale and rotation jitter, and AlphaPose's enlarged box crop.

Each window is a centre, a width and an angle; it is warped to the output so that its centre lands on output
pixel ``(width // 2, height // 2)`` and its width fills the output's width, as GluonCV's
``get_affine_transform`` places it (``gluoncv.data.transforms.bbox`` and ``.pose``). The same 2x3 matrix moves
the image (one OpenCV resample) and, through :meth:`geometry`, the boxes, masks and keypoints.
"""
from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from . import functional as F
from .. import params as P
from ..errors import InputError
from ..targets.geometry import from_index_matrix
from ..targets.modes import TargetMode
from .base import Transform, registration_hook


def window_matrix(center: tuple[float, float], width: float, angle: float, out_wh: tuple[int, int]) -> np.ndarray:
    """The 2x3 forward matrix on pixel indices that puts the window of ``width`` pixels centred on pixel ``center``
    (turned ``angle`` degrees counter-clockwise) onto an ``out_wh`` output: GluonCV's
    ``get_affine_transform(center, width, angle, out_wh)``.

    Parameters
    ----------
    center : (x, y)
        The window's centre in pixel indices of the input.
    width : float
        The window's width in input pixels (its height follows the output's aspect ratio).
    angle : float
        Degrees; positive turns the content counter-clockwise on screen.
    out_wh : (width, height)
        The output size.
    """
    scale = out_wh[0] / float(width)
    t = math.radians(angle)
    c, s = math.cos(t) * scale, math.sin(t) * scale
    cx, cy = float(center[0]), float(center[1])
    return np.array([[c, s, out_wh[0] * 0.5 - (c * cx + s * cy)], [-s, c, out_wh[1] * 0.5 - (-s * cx + c * cy)]])


def _border(border: int, size: int) -> int:
    """GluonCV's ``_get_border``: the margin kept free of the random centre, halved until the centre has room."""
    i = 1
    while size - border // i <= border // i:
        i *= 2
    return border // i


def clipped_normal(rng: np.random.Generator, factor: float, limit: float) -> float:
    """``clip(N(0, 1) * factor, -limit, limit)``: GluonCV's draws of scale (limit = factor) and rotation
    (limit = 2 factor)."""
    return float(np.clip(rng.standard_normal() * factor, -limit, limit))


class _WindowWarp(Transform):
    """A window (centre, width, angle: :meth:`window`) warped onto ``size``."""

    target_mode = TargetMode.GEOMETRIC
    size: Any
    interpolation: int
    fill: Any

    def _matrix(self, params: dict) -> np.ndarray:
        return window_matrix(tuple(params["center"]), params["width"], params.get("angle", 0.0), self.size)

    def output_hw(self, params, in_hw):
        return self.size[1], self.size[0]

    def geometry(self, params, in_hw, out_hw):
        return from_index_matrix(self._matrix(params))

    def apply(self, img, layout, **params):
        return F.warp_affine(img, self._matrix(params), tuple(self.size), self.interpolation, self.fill)

    def check_batch(self):
        if np.any(np.asarray(self.fill) != 0):
            raise self.invalid("fill", "0 in a batch pipeline (batch warps fill with zeros)")


class RandomCenterWarp(_WindowWarp):
    """CenterNet's training warp: a square window of side ``max(h, w) * s`` around a random centre, warped to
    ``size``; ``s = 1 + clip(N(0, 1) * scale_factor, -scale_factor, scale_factor)``.

    The centre is a random pixel at least ``border`` pixels from the edges (halved until it fits, as GluonCV's
    ``_get_border``), or the image's centre pixel ``(w / 2, h / 2)`` with ``center="image"``.
    ``RandomCenterWarp(512, scale_factor=0.4)`` is ``CenterNetDefaultTrainTransform``'s warp, after its flip;
    :class:`Letterbox` is the deterministic case.
    """

    random = True
    size = P.Size(doc="output size: an integer (square) or (width, height)")
    center = P.Choice("random", ("random", "image"), "where the window is centred: a random pixel or the image's centre")
    border = P.Number(128, 0, P.MAX_SIDE, integer=True, doc="pixels from the edges kept free of a random centre")
    scale_factor = P.Number(0.4, 0.0, 0.99, doc="standard deviation of the window's scale about 1, clipped to +-1 std")
    interpolation = P.Interpolation(1)
    fill = P.Fill(0, "colour outside the input (0-255), one number or one per channel")
    example = {"size": 48, "border": 8}

    def sample(self, rng, shape):
        h, w = int(shape[0]), int(shape[1])
        if self.center == "random":
            bx, by = _border(self.border, w), _border(self.border, h)
            cx, cy = float(rng.integers(bx, max(w - bx, bx + 1))), float(rng.integers(by, max(h - by, by + 1)))
        else:
            cx, cy = w / 2.0, h / 2.0
        scale = 1.0 + clipped_normal(rng, self.scale_factor, self.scale_factor) if self.scale_factor else 1.0
        return {"center": [cx, cy], "width": max(h, w) * scale}


class Letterbox(RandomCenterWarp):
    """Fit the whole image, centred, into ``size`` keeping its aspect ratio (the rest is ``fill``): CenterNet's
    validation warp (``CenterNetDefaultValTransform``), the long side scaled to the output's width."""

    random = False
    center = border = scale_factor = None  # not parameters of the letterbox
    example = {"size": 48}

    def sample(self, rng, shape):
        h, w = int(shape[0]), int(shape[1])
        return {"center": [w / 2.0, h / 2.0], "width": float(max(h, w))}


class RandomBoxWarp(_WindowWarp):
    """The pose recipes' crop: a window around box ``box`` (the person), widened or heightened to the output's
    aspect ratio and enlarged by ``margin``, scaled by ``1 + clip(N(0, 1) * scale_factor, +-scale_factor)``, turned
    by ``clip(N(0, 1) * rotation_factor, +-2 rotation_factor)`` degrees with probability ``rotation_p``, warped to
    ``size``.

    ``RandomBoxWarp((192, 256))`` is ``SimplePoseDefaultTrainTransform``'s warp for its 256x192 input (after the
    flip, which swaps the left and right joints when the target options declare ``flip_pairs``). The window is
    centred on the box's centre (edge coordinates, as every box here: GluonCV's pose labels count pixel indices,
    which :func:`~gluon_augplug.targets.joints_3d_to_keypoints` shifts by half a pixel). Without boxes the window
    is the whole image.
    """

    random = True
    size = P.Size(doc="output size: an integer (square) or (width, height)")
    box = P.Number(0, 0, 99_999, integer=True, doc="which box (row of the boxes) the window is around")
    margin = P.Number(1.25, 0.01, 100.0, doc="the window's size over the box's (after the aspect-ratio fit)")
    scale_factor = P.Number(0.25, 0.0, 0.99, doc="standard deviation of the window's scale about 1, clipped to +-1 std")
    rotation_factor = P.Number(30.0, 0.0, 180.0, doc="standard deviation of the angle in degrees, clipped to +-2 std")
    rotation_p = P.Probability(0.6, "probability of turning the window")
    interpolation = P.Interpolation(1)
    fill = P.Fill(0, "colour outside the input (0-255), one number or one per channel")
    example = {"size": 32}

    def _window(self, shape: tuple, targets: Any) -> tuple[float, float, float]:
        h, w = int(shape[0]), int(shape[1])
        if targets is not None and len(targets) > self.box:
            x0, y0, x1, y1 = (float(v) for v in targets[self.box, :4])
        else:
            x0, y0, x1, y1 = 0.0, 0.0, float(w), float(h)
        bw, bh = x1 - x0, y1 - y0
        aspect = self.size[0] / self.size[1]
        if bw < aspect * bh:
            bw = bh * aspect
        return x0 + (x1 - x0) * 0.5 - 0.5, y0 + (y1 - y0) * 0.5 - 0.5, bw * self.margin

    def sample(self, rng, shape, targets=None):
        cx, cy, width = self._window(shape, targets)
        scale = 1.0 + clipped_normal(rng, self.scale_factor, self.scale_factor) if self.scale_factor else 1.0
        angle = 0.0
        if self.rotation_factor and rng.random() < self.rotation_p:
            angle = clipped_normal(rng, self.rotation_factor, 2 * self.rotation_factor)
        return {"center": [cx, cy], "width": width * scale, "angle": angle}


class BoxWarp(RandomBoxWarp):
    """The pose recipes' validation crop: the window around box ``box``, fitted to the output's aspect ratio and
    enlarged by ``margin``, warped to ``size`` (``SimplePoseDefaultValTransform``)."""

    random = False
    scale_factor = rotation_factor = rotation_p = None  # not parameters of the validation crop

    def sample(self, rng, shape, targets=None):
        cx, cy, width = self._window(shape, targets)
        return {"center": [cx, cy], "width": width, "angle": 0.0}


def box_crop_matrix(ul: tuple[int, int], br: tuple[int, int], out_wh: tuple[int, int]) -> np.ndarray:
    """The 2x3 forward matrix on pixel indices of AlphaPose's ``cv_cropBox(img, ul, br, out_h, out_w)``: the
    pixels from ``ul`` up to (not including) ``br``, padded evenly to the output's aspect ratio, with the
    padded window's first and last pixel centres on the output's. As GluonCV computes it (three float32 points,
    the third at right angles, through ``cv2.getAffineTransform``), so the pixels are its pixels."""
    out_w, out_h = out_wh
    x0, y0 = ul
    x1, y1 = br[0] - 1, br[1] - 1
    len_h = max(y1 - y0, (x1 - x0) * out_h / out_w)
    len_w = len_h * out_w / out_h
    pad_y, pad_x = (len_h - (y1 - y0)) // 2, (len_w - (x1 - x0)) // 2
    src = np.array([[x0 - pad_x, y0 - pad_y], [x1 + pad_x, y1 + pad_y]], np.float32)
    return _two_point_matrix(src, np.array([[0, 0], [out_w - 1, out_h - 1]], np.float32))


def _two_point_matrix(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The rotation, scale and shift taking two float32 points onto two others, as GluonCV's pose code computes it
    (each pair given a third point at right angles, through ``cv2.getAffineTransform``): OpenCV resamples this
    float32-rounded matrix, so a double one would put a few edge pixels a grey level or more elsewhere."""

    def third(points: np.ndarray) -> np.ndarray:  # GluonCV's get_3rd_point
        d = points[0] - points[1]
        return np.vstack([points, points[1] + np.array([-d[1], d[0]], np.float32)])

    return cv2.getAffineTransform(third(src), third(dst)).astype(np.float64)


class RandomBoxCrop(_WindowWarp):
    """AlphaPose's crop: box ``box`` (the person) enlarged on each side by half of a fraction drawn uniformly from
    ``enlarge`` of its width and height, clipped to the image, everything outside it set to ``fill``, then fitted
    into ``size`` keeping its aspect ratio (padded evenly; one warp, its corner pixels on the output's corners).

    ``RandomBoxCrop((192, 256))`` is ``AlphaPoseDefaultTrainTransform``'s ``cv_cropBox`` after its box scaling,
    with GluonCV's integer box corners (its pose labels count pixel indices; boxes here are edge coordinates).
    Without boxes the box is the whole image. Joints outside the enlarged box keep their places, in the filled
    margin or beyond the output (GluonCV draws no heatmap for them: count them invisible there). Masks are moved,
    not filled.
    """

    random = True
    pixels_follow_geometry = False  # it also fills everything outside the box: no batch path
    size = P.Size(doc="output size: an integer (square) or (width, height)")
    box = P.Number(0, 0, 99_999, integer=True, doc="which box (row of the boxes) is cropped")
    enlarge = P.Range((0.2, 0.3), 0.0, 10.0, doc="(min, max) of the enlargement, a fraction of the box's size")
    interpolation = P.Interpolation(1)
    fill = P.Fill(0, "colour outside the box and the input (0-255), one number or one per channel")
    example = {"size": 32}

    def corners(self, shape: tuple, targets: Any, fraction: float) -> tuple[list[int], list[int]]:
        """The crop's integer corners ``ul`` and ``br`` (exclusive) for an enlargement ``fraction``, as GluonCV
        computes them: the box's ``int()`` corners, moved out by half the fraction of its size, clipped."""
        h, w = int(shape[0]), int(shape[1])
        if targets is not None and len(targets) > self.box:
            edges = [float(v) for v in targets[self.box, :4]]
        else:
            edges = [0.0, 0.0, float(w), float(h)]
        x0, y0, x1, y1 = (int(v - 0.5) for v in edges)  # GluonCV's int() of its index coordinates
        bw, bh = x1 - x0, y1 - y0
        ul = [int(max(0, x0 - bw * fraction / 2)), int(max(0, y0 - bh * fraction / 2))]
        br = [int(min(w - 1, x1 + bw * fraction / 2)), int(min(h - 1, y1 + bh * fraction / 2))]
        if br[0] - ul[0] < 1 or br[1] - ul[1] < 1 or max(br[0] - ul[0], br[1] - ul[1]) < 2:
            raise InputError(f"{self.spec_name}: box {self.box} ({', '.join(f'{v:g}' for v in edges)}) keeps no "
                             f"more than one pixel of the {w}x{h} image; give a box of at least 2 pixels inside it")
        return ul, br

    def sample(self, rng, shape, targets=None):
        fraction = float(rng.uniform(*self.enlarge))
        ul, br = self.corners(shape, targets, fraction)
        return {"ul": ul, "br": br}

    def _matrix(self, params: dict) -> np.ndarray:
        return box_crop_matrix(tuple(params["ul"]), tuple(params["br"]), tuple(self.size))

    def apply(self, img, layout, **params):
        (x0, y0), (x1, y1) = params["ul"], params["br"]
        matrix = self._matrix(params)
        matrix[:, 2] += matrix[:, :2] @ np.array([x0, y0], np.float64)  # warp the box alone: the rest is fill
        return F.warp_affine(img[y0:y1, x0:x1], matrix, tuple(self.size), self.interpolation, self.fill)


class RandomNormalRotation(_WindowWarp):
    """Rotate about the image's centre by ``clip(N(0, 1) * std, -limit, limit)`` degrees (counter-clockwise for
    positive angles) with probability ``p``, else not at all; the output keeps the input's size, ``fill`` around.

    ``RandomNormalRotation(40, limit=80, p=0.6)`` is ``AlphaPoseDefaultTrainTransform``'s ``cv_rotate`` after its
    crop and flip, for ``train_alpha_pose.py``'s rotation factor 40 (GluonCV clips at twice the factor).
    """

    random = True
    size = None  # not a parameter: the output keeps the input's size
    std = P.Number(30.0, 0.0, 180.0, doc="standard deviation of the angle in degrees")
    limit = P.Number(60.0, 0.0, 360.0, doc="the largest angle in degrees either way")
    p = P.Probability(0.6, "probability of rotating")
    interpolation = P.Interpolation(1)
    fill = P.Fill(0, "colour outside the input (0-255), one number or one per channel")
    example = {"std": 30.0, "p": 1.0}

    def sample(self, rng, shape):
        rotate = self.p > 0 and rng.random() < self.p
        return {"angle": clipped_normal(rng, self.std, self.limit) if rotate and self.std else 0.0}

    def _turn(self, params: dict, in_hw: tuple) -> np.ndarray:
        """AlphaPose's ``cv_rotate``: the point above the centre, turned by the angle, goes back above it."""
        h, w = int(in_hw[0]), int(in_hw[1])
        t = math.radians(params["angle"])
        centre = np.array([(w - 1) * 0.5, (h - 1) * 0.5], np.float32)
        up = np.array([0.0, (h - 1) * -0.5])
        turned = np.array([up[0] * math.cos(t) - up[1] * math.sin(t), up[0] * math.sin(t) + up[1] * math.cos(t)])
        return _two_point_matrix(np.array([centre, centre + turned], np.float32),
                                 np.array([centre, centre + up], np.float32))

    def output_hw(self, params, in_hw):
        return int(in_hw[0]), int(in_hw[1])

    def geometry(self, params, in_hw, out_hw):
        return from_index_matrix(self._turn(params, in_hw))

    def apply(self, img, layout, **params):
        h, w = img.shape[:2]
        return F.warp_affine(img, self._turn(params, (h, w)), (w, h), self.interpolation, self.fill)


augplug_register_transforms = registration_hook(__name__)
