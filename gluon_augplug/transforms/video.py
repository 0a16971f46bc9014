"""The crops of GluonCV's action-recognition recipes: TSN's multi-scale corner crop, short-side jitter, and the
test-time views (three and ten crops).

They work on images and, like every transform, on clips with one draw for all frames
(:mod:`gluon_augplug.transforms.clips`); ``ThreeCrop`` and ``TenCrop`` make several views of a clip and
so run on clips only.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import functional as F
from .. import params as P
from ..errors import InputError, SpecError
from ..targets.geometry import crop_resize_matrix, scale_matrix
from ..targets.modes import TargetMode
from .base import CHW, HWC, DecodeWindow, Transform, registration_hook


def _ratios(owner: str, name: str, value: Any) -> tuple[float, ...]:
    if (isinstance(value, (list, tuple)) and 0 < len(value) <= 16
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 1 for v in value)):
        return tuple(float(v) for v in value)
    raise P.ParameterError(owner, name, value, "1 to 16 numbers in (0, 1]")


def crop_sizes(scale_ratios: tuple[float, ...], max_distort: int, h: int, w: int) -> list[tuple[int, int]]:
    """TSN's candidate crops (height, width): the short side times each pair of ratios whose indices differ by
    at most ``max_distort`` (GluonCV's ``fillCropSize``)."""
    base = min(h, w)
    return [(int(base * rh), int(base * rw)) for i, rh in enumerate(scale_ratios)
            for j, rw in enumerate(scale_ratios) if abs(i - j) <= max_distort]


def fixed_offsets(more: bool, h: int, w: int, ch: int, cw: int) -> list[tuple[int, int]]:
    """TSN's corner-cropping grid, (y, x): four corners and the centre, and with ``more`` eight more points
    (GluonCV's ``fillFixOffset``, in its order)."""
    dy, dx = (h - ch) // 4, (w - cw) // 4
    grid = [(0, 0), (0, 4), (4, 0), (4, 4), (2, 2)]
    if more:
        grid += [(0, 2), (4, 2), (2, 0), (2, 4), (1, 1), (1, 3), (3, 1), (3, 3)]
    return [(a * dy, b * dx) for a, b in grid]


class MultiScaleCrop(Transform):
    """TSN's multi-scale corner crop, resized to ``size`` (GluonCV's ``VideoMultiScaleCrop``).

    The crop's height and width are the short side times two of ``scale_ratios`` whose positions differ by
    at most ``max_distort``; the pair is drawn uniformly. With ``fix_crop`` its corner is drawn uniformly from
    the fixed grid (the four corners and the centre, plus eight more points with ``more_fix_crop``), else
    uniformly anywhere. Then the crop is resized to ``size`` (bilinear, as ``cv2.resize``).
    """

    random = True
    size = P.Size(doc="output size: an integer (square) or (width, height)")
    scale_ratios = P.Custom((1.0, 0.875, 0.75, 0.66), _ratios, "1 to 16 numbers in (0, 1]",
                            "crop sides as fractions of the short side", type_name="ratios")
    fix_crop = P.Flag(True, "draw the corner from the fixed grid (else anywhere)")
    more_fix_crop = P.Flag(True, "13 grid points instead of 5")
    max_distort = P.Number(1, 0, 16, integer=True, doc="largest difference of the two ratios' positions")
    interpolation = P.Interpolation(1)
    example = {"size": 24}
    target_mode = TargetMode.GEOMETRIC

    def _choices(self, h: int, w: int) -> tuple[list, list]:
        sizes = crop_sizes(self.scale_ratios, self.max_distort, h, w)
        grids = [fixed_offsets(self.more_fix_crop, h, w, ch, cw) for ch, cw in sizes] if self.fix_crop else []
        return sizes, grids

    def sample(self, rng, shape):
        h, w = shape[:2]
        sizes, grids = self._choices(h, w)
        ch, cw = sizes[int(rng.integers(0, len(sizes)))]
        if ch < 1 or cw < 1:
            raise InputError(f"{self.spec_name}: a {h}x{w} image gives an empty {ch}x{cw} crop")
        if self.fix_crop:
            y0, x0 = grids[sizes.index((ch, cw))][int(rng.integers(0, len(grids[0])))]
        else:
            y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        return {"x0": int(x0), "y0": int(y0), "w": int(cw), "h": int(ch)}

    def apply(self, img, layout, x0=0, y0=0, w=None, h=None):
        return F.crop_resize(img, x0, y0, w or img.shape[1], h or img.shape[0], self.size, self.interpolation)

    def geometry(self, params, in_hw, out_hw):
        return crop_resize_matrix(params["x0"], params["y0"], params["w"], params["h"], self.size)

    def output_hw(self, params, in_hw):
        return self.size[1], self.size[0]

    def decode_window(self, params, in_hw):
        return DecodeWindow(params["x0"], params["y0"], params["w"], params["h"], (self.size[1], self.size[0]),
                            self.interpolation)


class RandomShortSideScale(Transform):
    """Resize the short side to a random length drawn uniformly in [``min_size``, ``max_size``] and rounded, the
    long side in proportion (rounded down): PySlowFast's scale jitter, GluonCV's ``VideoGroupTrainTransformV3``."""

    random = True
    min_size = P.Number(256, 1, P.MAX_SIDE, integer=True, doc="shortest short side")
    max_size = P.Number(320, 1, P.MAX_SIDE, integer=True, doc="longest short side")
    interpolation = P.Interpolation(1)
    example = {"min_size": 24, "max_size": 40}
    target_mode = TargetMode.GEOMETRIC

    def setup(self):
        if self.max_size < self.min_size:
            raise self.invalid("max_size", f"an integer >= min_size ({self.min_size})")

    def sample(self, rng, shape):
        return {"short": int(round(rng.uniform(self.min_size, self.max_size)))}

    def output_hw(self, params, in_hw):
        h, w = in_hw
        s = params["short"]
        return (int(h / w * s), s) if w < h else (s, int(w / h * s))

    def geometry(self, params, in_hw, out_hw):
        return scale_matrix(in_hw, out_hw)

    def apply(self, img, layout, short=256):
        h, w = self.output_hw({"short": short}, img.shape[:2])
        return F.resize(img, (w, h), self.interpolation)


class _Views(Transform):
    """Several fixed crops of every frame of a clip (test-time views): clips only."""

    accepts = (HWC,)
    size = P.Size(doc="view size: an integer (square) or (width, height)")
    example = {"size": 24}
    views = 1

    def windows(self, h: int, w: int) -> list[tuple[int, int, bool]]:
        """(y0, x0, flipped) of each view, in GluonCV's order."""
        raise NotImplementedError

    def apply(self, img, layout):
        raise SpecError(f"{self.spec_name} makes {self.views} views of each frame: it runs on clips "
                        f"(pipeline(clip), a (T, H, W, C) array or a list of frames), not on single images")

    def apply_clip(self, clip, layout, **params):
        t, h, w = clip.shape[:3]
        tw, th = self.size
        if th > h or tw > w:
            raise InputError(f"{self.spec_name}: cannot take {tw}x{th} views of {w}x{h} frames")
        crops = [(y0, x0, flip) for y0, x0, flip in self.windows(h, w)]
        out = np.empty((len(crops) * t, th, tw, clip.shape[3]), clip.dtype)
        for k, (y0, x0, flip) in enumerate(crops):
            region = clip[:, y0:y0 + th, x0:x0 + tw]
            out[self._rows(k, t)] = region[:, :, ::-1] if flip else region
        return out

    def _rows(self, view: int, frames: int) -> Any:
        """Where view ``view`` of every frame goes in the output (GluonCV's order)."""
        return slice(view * frames, (view + 1) * frames)  # view after view


class ThreeCrop(_Views):
    """Three ``size`` views of each frame along the long side: first side, far side, middle (GluonCV's
    ``VideoThreeCrop``; the frames must match ``size`` on the short side). The clip comes out with 3T frames,
    view after view (as GluonCV's)."""

    views = 3
    example = {"size": 224}  # frames with a 224 short side (the gallery's clip; the harness makes its own)

    def windows(self, h, w):
        tw, th = self.size
        if th == h:
            step = (w - tw) // 2
            return [(0, 0, False), (0, 2 * step, False), (0, step, False)]
        if tw == w:
            step = (h - th) // 2
            return [(0, 0, False), (2 * step, 0, False), (step, 0, False)]
        raise InputError(f"{self.spec_name}: the {w}x{h} frames must have the views' height {th} or width {tw} "
                         f"(resize the short side to it first)")


class TenCrop(_Views):
    """Ten ``size`` views of each frame: centre, top-left, bottom-left, top-right, bottom-right, then the same
    five flipped left-right (GluonCV's ``VideoTenCrop``). The clip comes out with 10T frames, frame after frame
    (all ten views of frame 0 first, as GluonCV's)."""

    views = 10

    def windows(self, h, w):
        tw, th = self.size
        five = [((h - th) // 2, (w - tw) // 2), (0, 0), (h - th, 0), (0, w - tw), (h - th, w - tw)]
        return [(y, x, False) for y, x in five] + [(y, x, True) for y, x in five]

    def _rows(self, view, frames):
        return slice(view, view + 10 * frames, 10)  # frame after frame


augplug_register_transforms = registration_hook(__name__)
__all__ = ["MultiScaleCrop", "RandomShortSideScale", "ThreeCrop", "TenCrop", "crop_sizes", "fixed_offsets", "CHW"]
