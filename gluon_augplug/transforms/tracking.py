"""The tracking and pose recipes' extra steps: SiamRPN's shift-and-scale crop and its streak blur (pysot's, as
GluonCV's ``SiamRPNaugmentation``), and AlphaPose's per-channel gains."""
from __future__ import annotations

import cv2
import numpy as np

from . import functional as F
from .. import params as P
from ..targets.geometry import from_index_matrix
from ..targets.modes import TargetMode
from .base import Transform, registration_hook


def _uniform_pm1(rng: np.random.Generator) -> float:
    """pysot's ``random()``: uniform in [-1, 1)."""
    return float(rng.random() * 2 - 1)


class RandomShiftScaleCrop(Transform):
    """SiamRPN's crop: a window of ``size - 1`` pixels around the image's centre, each side scaled by
    ``1 + U(-1, 1) * scale`` (at most the image's), shifted by ``U(-1, 1) * shift`` pixels along each axis (kept
    inside the image), warped to ``size`` x ``size``.

    ``RandomShiftScaleCrop(127, shift=4, scale=0.05)`` is GluonCV's template augmentation,
    ``RandomShiftScaleCrop(255, shift=64, scale=0.18)`` its search-region one (``SiamRPNaugmentation``'s
    ``_shift_scale_aug``; its window centre is ``(h // 2, w // 2)``, the same on the square crops it is fed).
    """

    random = True
    target_mode = TargetMode.GEOMETRIC
    size = P.Number(P.REQUIRED, 2, P.MAX_SIDE, integer=True, doc="side of the square output in pixels")
    shift = P.Number(0.0, 0.0, P.MAX_SIDE, doc="largest shift of the window in pixels along each axis")
    scale = P.Number(0.0, 0.0, 0.99, doc="largest relative change of each side of the window")
    interpolation = P.Interpolation(1)
    fill = P.Fill(0, "colour outside the input (0-255), one number or one per channel")
    example = {"size": 32, "shift": 4, "scale": 0.1}

    def sample(self, rng, shape):
        h, w = int(shape[0]), int(shape[1])
        side = self.size - 1
        cx, cy = w // 2, h // 2
        bw = bh = float(side)
        if self.scale:
            bw *= min(1.0 + _uniform_pm1(rng) * self.scale, w / bw)
            bh *= min(1.0 + _uniform_pm1(rng) * self.scale, h / bh)
        x0, y0, x1, y1 = cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2  # pysot's center2corner
        if self.shift:
            sx, sy = _uniform_pm1(rng) * self.shift, _uniform_pm1(rng) * self.shift
            sx, sy = max(-x0, min(w - 1 - x1, sx)), max(-y0, min(h - 1 - y1, sy))
            x0, x1, y0, y1 = x0 + sx, x1 + sx, y0 + sy, y1 + sy
        return {"window": [x0, y0, x1, y1]}

    def _matrix(self, window) -> np.ndarray:
        x0, y0, x1, y1 = window
        a, b = (self.size - 1) / (x1 - x0), (self.size - 1) / (y1 - y0)
        return np.array([[a, 0.0, -a * x0], [0.0, b, -b * y0]])

    def output_hw(self, params, in_hw):
        return self.size, self.size

    def geometry(self, params, in_hw, out_hw):
        return from_index_matrix(self._matrix(params["window"]))

    def apply(self, img, layout, window=(0.0, 0.0, 1.0, 1.0)):
        return F.warp_affine(img, self._matrix(window), (self.size, self.size), self.interpolation, self.fill)

    def check_batch(self):
        if np.any(np.asarray(self.fill) != 0):
            raise self.invalid("fill", "0 in a batch pipeline (batch warps fill with zeros)")


class MotionBlur(Transform):
    """pysot's blur (GluonCV's ``SiamRPNaugmentation._blur_aug``), with probability ``p``: an odd kernel side drawn
    from ``sizes``, a horizontal streak of weight ``1 - w`` and a vertical one of weight ``w`` through its centre,
    ``w`` uniform in [0, 1)."""

    random = True
    target_mode = TargetMode.PIXEL
    sizes = P.Range((5, 45), 1, 255, integer=True, doc="(min, max) odd kernel side in pixels, both included")
    p = P.Probability(1.0, "probability of blurring")
    example = {"sizes": (3, 7)}

    def setup(self):
        if self.sizes[0] % 2 == 0 or self.sizes[1] % 2 == 0:
            raise self.invalid("sizes", "odd (min, max) kernel sides in [1, 255]")

    def sample(self, rng, shape):
        if rng.random() >= self.p:
            return {"size": 0, "weight": 0.0}
        size = int(self.sizes[0] + 2 * rng.integers(0, (self.sizes[1] - self.sizes[0]) // 2 + 1))
        return {"size": size, "weight": float(rng.random())}

    @staticmethod
    def kernel(size: int, weight: float) -> np.ndarray:
        """The streak kernel: row and column through the centre, weighted ``1 - weight`` and ``weight``."""
        kernel = np.zeros((size, size))
        c = size // 2
        kernel[:, c] += weight / size
        kernel[c, :] += (1 - weight) / size
        return kernel

    def apply(self, img, layout, size=0, weight=0.0):
        if not size:
            return img
        return F.keep_channels(cv2.filter2D(img, -1, self.kernel(size, weight)), img)


class RandomChannelGain(Transform):
    """Multiply each channel by its own factor drawn uniformly from ``gain`` and saturate to 0-255 (uint8 values
    truncated): AlphaPose's colour jitter (``AlphaPoseDefaultTrainTransform``: ``U(0.7, 1.3)`` per channel)."""

    random = True
    target_mode = TargetMode.PIXEL
    gain = P.Range((0.7, 1.3), 0.0, 100.0, doc="(min, max) of each channel's factor")
    example = {"gain": (0.7, 1.3)}

    def sample(self, rng, shape):
        return {"gains": [float(g) for g in rng.uniform(self.gain[0], self.gain[1], int(shape[2]))]}

    def apply(self, img, layout, gains=(1.0, 1.0, 1.0)):
        out = F.clip255(img.astype(np.float32) * np.asarray(gains, np.float32)[: img.shape[2]])
        return out.astype(img.dtype)  # uint8: truncated, as GluonCV stores them


augplug_register_transforms = registration_hook(__name__)
