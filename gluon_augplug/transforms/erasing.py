"""Occlusion: Cutout (DeVries & Taylor, 2017) and RandomErasing (Zhong et al., 2017)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import params as P
from ..targets.modes import TargetMode
from .base import CHW, HWC, Transform, registration_hook


def _erase(img: np.ndarray, layout: str, boxes: list, value: Any) -> np.ndarray:
    out = img.copy()
    fill = np.asarray(value, dtype=np.float64)
    for x0, y0, w, h in boxes:
        if layout == CHW:
            region = out[:, y0 : y0 + h, x0 : x0 + w]
            region[...] = fill.reshape(-1, 1, 1)[: out.shape[0]] if fill.ndim else fill
        else:
            region = out[y0 : y0 + h, x0 : x0 + w]
            region[...] = fill[: out.shape[2]] if fill.ndim else fill
    return out


def _fill(owner: str, name: str, value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return P.per_channel(owner, name, value)
    return P.fill_value(owner, name, value)


def _erase_value(owner: str, name: str, value: Any) -> Any:
    if value != "random":
        P.per_channel(owner, name, value)
    return value


class Cutout(Transform):
    """Fill ``num_holes`` squares of side ``size`` centred at random points (clipped at the border), with probability ``p``."""

    random = True
    accepts = (HWC, CHW)
    target_mode = TargetMode.PIXEL  # erased pixels keep their boxes, mask labels and keypoints (albumentations' default)
    size = P.Number(16, 1, P.MAX_SIDE, integer=True, doc="side of each square in pixels")
    num_holes = P.Number(1, 0, 1000, integer=True, doc="squares per image")
    fill = P.Custom(0, _fill, "a number, or one per channel (0-255 on images; any value on tensors)",
                    "value written into the squares", type_name="fill")
    p = P.Probability(1.0)

    def sample(self, rng, shape):
        h, w = shape[:2]
        if rng.random() >= self.p:
            return {"boxes": []}
        boxes = []
        for _ in range(self.num_holes):
            cy, cx = int(rng.integers(0, h)), int(rng.integers(0, w))
            y0, y1 = max(cy - self.size // 2, 0), min(cy + self.size - self.size // 2, h)
            x0, x1 = max(cx - self.size // 2, 0), min(cx + self.size - self.size // 2, w)
            boxes.append([x0, y0, x1 - x0, y1 - y0])
        return {"boxes": boxes}

    def apply(self, img, layout, boxes=()):
        return _erase(img, layout, list(boxes), self.fill) if boxes else img

    def apply_batch(self, state, params):
        state.flush()
        state.fill_boxes([p["boxes"] for p in params], np.asarray(self.fill, np.float32) / 255.0)


class RandomErasing(Transform):
    """With probability ``p`` erase one rectangle of area fraction in ``scale`` and aspect ratio in ``ratio``.

    ``value``: a number, one per channel, or ``"random"`` (per-pixel noise: uniform 0-255
    on uint8 images, standard normal on float tensors, as torchvision after Normalize).
    Works before or after ToTensor. The aspect ratio is drawn log-uniformly and up to ``attempts`` rectangles
    are drawn until one fits (torchvision's); GluonCV's ``RandomErasing(probability, s_min, s_max, ratio, mean)``
    is ``RandomErasing(p=probability, scale=(s_min, s_max), ratio=(ratio, 1 / ratio), value=mean, attempts=1,
    log_ratio=False)``: one draw, a uniform aspect ratio, nothing erased when it does not fit.
    """

    random = True
    accepts = (HWC, CHW)
    target_mode = TargetMode.PIXEL  # erased pixels keep their boxes, mask labels and keypoints (albumentations' default)
    p = P.Probability(0.5)
    scale = P.Range((0.02, 0.33), 0.0, 1.0, doc="area of the rectangle as a fraction of the image's")
    ratio = P.Range((0.3, 3.3), 1e-6, None, doc="aspect ratio of the rectangle")
    value = P.Custom(0, _erase_value, "a number, one per channel, or 'random' (noise)",
                     "value written into the rectangle", type_name="fill")
    attempts = P.Number(10, 1, 100, integer=True, doc="rectangles drawn until one fits (GluonCV: 1)")
    log_ratio = P.Flag(True, "draw the aspect ratio log-uniformly (torchvision); False: uniformly (GluonCV)")

    def sample(self, rng, shape):
        h, w = shape[:2]
        if rng.random() >= self.p:
            return {"boxes": []}
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(self.attempts):
            area = rng.uniform(*self.scale) * h * w
            aspect = math.exp(rng.uniform(*log_ratio)) if self.log_ratio else rng.uniform(*self.ratio)
            eh, ew = int(round(math.sqrt(area * aspect))), int(round(math.sqrt(area / aspect)))
            if 0 < eh < h and 0 < ew < w:
                box = [int(rng.integers(0, w - ew + 1)), int(rng.integers(0, h - eh + 1)), ew, eh]
                params: dict = {"boxes": [box]}
                if self.value == "random":
                    params["noise_seed"] = int(rng.integers(0, 2**31))
                return params
        return {"boxes": []}

    def apply(self, img, layout, boxes=(), noise_seed=None):
        if not boxes:
            return img
        noise = None
        if noise_seed is not None:
            gen = np.random.default_rng(noise_seed)
            x0, y0, ew, eh = boxes[0]
            c = img.shape[0] if layout == CHW else img.shape[2]
            shape = (c, eh, ew) if layout == CHW else (eh, ew, c)
            if img.dtype == np.uint8:
                noise = [gen.integers(0, 256, size=shape)]
            else:
                noise = [gen.standard_normal(shape)]
            out = img.copy()
            if layout == CHW:
                out[:, y0 : y0 + eh, x0 : x0 + ew] = noise[0]
            else:
                out[y0 : y0 + eh, x0 : x0 + ew] = noise[0]
            return out
        return _erase(img, layout, list(boxes), self.value)

    def apply_batch(self, state, params):
        state.flush()
        boxes = [p["boxes"] for p in params]
        if self.value == "random":
            state.fill_boxes(boxes, 0.0, noise=True)
        else:
            state.fill_boxes(boxes, np.asarray(self.value, np.float32) / 255.0)


augplug_register_transforms = registration_hook(__name__)
