"""Resizing one side to a size drawn from a range, and padding up to a size: the first steps of GluonCV's
semantic-segmentation recipe (``SegmentationDataset._sync_transform``) and of albumentations'
``LongestMaxSize``/``PadIfNeeded`` pipelines.

Both move boxes, masks and keypoints through their geometry. ``PadIfNeeded`` fills the image and the masks
separately: ``mask_fill`` is the label of the padded pixels (the ignore label, 255 for VOC, or 0 as GluonCV).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import functional as F
from .. import params as P
from ..errors import InputError
from ..targets.geometry import crop_resize_matrix, scale_matrix
from ..targets.modes import TargetMode
from .base import DecodeWindow, Transform, registration_hook
from .detection import MAX_CANVAS_BYTES, MAX_CANVAS_PIXELS

# how many pixels of padding go before the image (left, top), as a fraction of the padding: per position
_BEFORE = {"center": (0.5, 0.5), "top_left": (0.0, 0.0), "top_right": (1.0, 0.0), "bottom_left": (0.0, 1.0),
           "bottom_right": (1.0, 1.0)}


class RandomResizeSide(Transform):
    """Resize so that the long (or short) side is an integer drawn uniformly from ``sizes`` (both ends included),
    keeping the aspect ratio.

    The other side is ``int(other * size / side + 0.5)``, as GluonCV's segmentation recipe rounds it, whose long
    side is drawn from ``(base_size // 2, base_size * 2)``: ``RandomResizeSide((260, 1040))`` for its
    ``base_size=520``. A square image counts its width as the long side, as GluonCV's does.
    """

    random = True
    target_mode = TargetMode.GEOMETRIC
    sizes = P.Range(P.REQUIRED, 1, P.MAX_SIDE, integer=True,
                    doc="(min, max) of the chosen side in pixels, both included; one number: that size")
    side = P.Choice("long", ("long", "short"), "the side drawn from sizes")
    interpolation = P.Interpolation(1)
    example = {"sizes": (24, 48)}

    def sample(self, rng, shape):
        return {"size": int(rng.integers(self.sizes[0], self.sizes[1] + 1))}

    def output_hw(self, params, in_hw):
        h, w = in_hw
        size = params["size"]
        width_is_side = (w >= h) == (self.side == "long")  # GluonCV: `if h > w` picks the height as the long side
        if width_is_side:
            return max(1, int(h * size / w + 0.5)), size
        return size, max(1, int(w * size / h + 0.5))

    def geometry(self, params, in_hw, out_hw):
        return scale_matrix(in_hw, out_hw)

    def apply(self, img, layout, size=None):
        oh, ow = self.output_hw({"size": size if size is not None else self.sizes[0]}, img.shape[:2])
        return F.resize(img, (ow, oh), self.interpolation)

    def decode_window(self, params, in_hw):
        h, w = in_hw
        return DecodeWindow(0, 0, w, h, self.output_hw(params, in_hw), self.interpolation)


def _mask_fill(owner: str, name: str, value: Any) -> int:
    return int(P.number(owner, name, value, -(2 ** 31), 2 ** 31 - 1, integer=True))


class PadIfNeeded(Transform):
    """Pad the image up to ``size`` (``(width, height)``, or an integer for both) where it is smaller; larger
    sides are kept.

    ``position`` says where the image sits on the padded canvas: ``"top_left"`` pads at the bottom and right, as
    GluonCV's segmentation recipe; ``"center"`` splits the padding (the odd pixel after the image, as
    albumentations); ``"random"`` draws the offset uniformly. The image's padding is ``fill``, a mask's is
    ``mask_fill`` (a label: the ignore label, or 0 as GluonCV pads VOC).
    """

    random = True
    target_mode = TargetMode.GEOMETRIC
    size = P.Size(doc="smallest output size: an integer (both sides) or (width, height)")
    position = P.Choice("center", tuple(_BEFORE) + ("random",), "where the image sits on the padded canvas")
    fill = P.Fill(0, "colour of the image's padding (0-255), one number or one per channel")
    mask_fill = P.Custom(0, _mask_fill, "an integer label in [-2147483648, 2147483647]",
                         "label of the masks' padding (the ignore label)", type_name="label")
    example = {"size": 48, "position": "top_left", "mask_fill": 255}

    def setup(self):
        self.random = self.position == "random"

    def _canvas(self, in_hw):
        h, w = int(in_hw[0]), int(in_hw[1])
        return max(h, self.size[1]), max(w, self.size[0])

    def sample(self, rng, shape):
        oh, ow = self._canvas(shape[:2])
        pad_y, pad_x = oh - shape[0], ow - shape[1]
        if self.position == "random":
            return {"left": int(rng.integers(0, pad_x + 1)), "top": int(rng.integers(0, pad_y + 1))}
        fx, fy = _BEFORE[self.position]
        return {"left": int(pad_x * fx), "top": int(pad_y * fy)}

    def output_hw(self, params, in_hw):
        return self._canvas(in_hw)

    def geometry(self, params, in_hw, out_hw):
        oh, ow = out_hw
        return crop_resize_matrix(-np.asarray(params["left"]), -np.asarray(params["top"]), ow, oh)

    def apply(self, img, layout, left=0, top=0):
        oh, ow = self._canvas(img.shape[:2])
        if (oh, ow) == img.shape[:2]:
            return img
        if oh * ow > MAX_CANVAS_PIXELS or oh * ow * img.shape[2] * img.itemsize > MAX_CANVAS_BYTES:
            raise InputError(f"{self.spec_name}: padding a {img.shape[1]}x{img.shape[0]} image to {ow}x{oh} needs "
                             f"{oh * ow:,} pixels ({oh * ow * img.shape[2] * img.itemsize:,} bytes), more than the limit "
                             f"of {MAX_CANVAS_PIXELS:,} pixels or {MAX_CANVAS_BYTES:,} bytes; lower size (now {self.size})")
        return F.pad_constant(img, left, top, ow - img.shape[1] - left, oh - img.shape[0] - top, self.fill)

    def check_batch(self):
        if np.any(np.asarray(self.fill) != 0):
            raise self.invalid("fill", "0 in a batch pipeline (batch canvases are filled with zeros)")


augplug_register_transforms = registration_hook(__name__)
