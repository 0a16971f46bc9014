"""GridMask for gluon-augplug: drop a regular grid of squares (Chen et al., "GridMask Data Augmentation", 2020).

Installing this distribution is all it takes: its ``gluon_augplug`` entry point makes
``GridMask`` and the ``cifar10-gridmask`` preset available by name everywhere.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

import gluon_augplug
from gluon_augplug import Transform
from gluon_augplug import params as P

__version__ = "0.2.0"


class GridMask(Transform):
    """Fill a grid of squares (random period, offset and rotation) with ``fill``, with probability ``p``.

    Parameters
    ----------
    d_range : (int, int)
        The grid period in pixels is drawn uniformly from this range.
    ratio : float
        Side of each dropped square as a fraction of the period (0-1): about ratio**2 of the
        image is dropped.
    rotate : float
        The grid is rotated by an angle uniform in [-rotate, rotate] degrees.
    fill : number or per-channel sequence
        Value written into the dropped squares.
    mode : int
        0 drops the squares, 1 keeps only the squares.
    p : float
        Probability of applying the mask.

    Targets: GridMask only changes pixel values (``target_mode = "pixel"``), so it also runs in batch
    pipelines, its ``apply`` on each image. Boxes, keypoints and
    segmentation masks are left as they were: a dropped square keeps its mask labels and a box
    is not shrunk, as albumentations' GridDropout does by default.
    """

    random = True
    accepts = ("HWC", "CHW")
    target_mode = "pixel"
    d_range = P.Range((8, 16), 2, 4096, integer=True, doc="grid period in pixels, drawn uniformly")
    ratio = P.Number(0.5, 0.0, 1.0, doc="side of each dropped square as a fraction of the period")
    rotate = P.Number(0.0, 0.0, 180.0, doc="the grid is rotated by up to ± this many degrees")
    fill = P.Fill(0, "value of the dropped pixels (one number or one per channel)")
    mode = P.Choice(0, (0, 1), doc="0 drops the squares, 1 keeps only them")
    p = P.Probability(0.8, "probability of applying the mask")

    def sample(self, rng: np.random.Generator, shape: tuple) -> dict:
        if rng.random() >= self.p:
            return {"apply": False}
        d = int(rng.integers(self.d_range[0], self.d_range[1] + 1))
        return {
            "apply": True,
            "d": d,
            "dx": int(rng.integers(0, d)),
            "dy": int(rng.integers(0, d)),
            "angle": float(rng.uniform(-self.rotate, self.rotate)) if self.rotate else 0.0,
        }

    def mask(self, h: int, w: int, d: int, dx: int, dy: int, angle: float) -> np.ndarray:
        """Boolean (H, W) mask of the pixels to fill."""
        side = int(round(d * self.ratio))
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        if angle:
            t = math.radians(angle)
            cx, cy = (w - 1) / 2, (h - 1) / 2
            xx, yy = ((xx - cx) * math.cos(t) + (yy - cy) * math.sin(t) + cx,
                      -(xx - cx) * math.sin(t) + (yy - cy) * math.cos(t) + cy)
        inside = (np.floor(xx - dx) % d < side) & (np.floor(yy - dy) % d < side)
        return ~inside if self.mode == 1 else inside

    def apply(self, img: np.ndarray, layout: str, apply: bool = False, **grid: Any) -> np.ndarray:
        if not apply:
            return img
        h, w = (img.shape[1], img.shape[2]) if layout == "CHW" else img.shape[:2]
        mask = self.mask(h, w, **grid)
        out = img.copy()
        fill = np.asarray(self.fill, dtype=out.dtype if out.dtype.kind == "f" else np.float64)
        if layout == "CHW":
            out[:, mask] = fill.reshape(-1, 1)[: out.shape[0]] if fill.ndim else fill
        else:
            out[mask] = fill[: out.shape[2]] if fill.ndim else fill
        return out


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("GridMask", GridMask, doc="Drop a grid of squares (GridMask, Chen et al. 2020)")


@gluon_augplug.hookimpl
def augplug_register_presets(register):
    register("cifar10-gridmask",
             ["RandomCrop(32, pad=4), RandomFlipLeftRight, GridMask(d_range=(8, 16), ratio=0.5, rotate=30, p=0.8)",
              "cifar10-test"],  # a list item may name another preset
             doc="GluonCV's CIFAR-10 recipe with GridMask before ToTensor/Normalize")
