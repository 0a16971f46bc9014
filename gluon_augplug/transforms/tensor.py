"""Conversion to CHW float tensors and normalization (MXNet's ToTensor and Normalize)."""
from __future__ import annotations

import cv2
import numpy as np

from .. import params as P
from ..targets.modes import TargetMode
from ..errors import InputError
from .base import CHW, HWC, Transform, registration_hook


class ToTensor(Transform):
    """HWC image with values in [0, 255] -> CHW float32 tensor with values in [0, 1]."""

    accepts = (HWC,)
    produces = CHW
    target_mode = TargetMode.PIXEL

    def apply_batch(self, state, params):
        """Nothing to do: batch pipelines turn NHWC uint8 batches into NCHW float32 in [0, 1] on entry."""

    def apply(self, img, layout):
        h, w, c = img.shape
        if h * w <= 4096:  # small images: numpy's transposing copy is cheapest
            out = np.ascontiguousarray(img.transpose(2, 0, 1)).astype(np.float32)
        else:  # larger ones: OpenCV's channel split, 2-3x faster than numpy's strided transpose
            out = np.empty((c, h, w), np.float32)
            for k, plane in enumerate(cv2.split(img) if c > 1 else [img[:, :, 0]]):
                out[k] = plane
        out *= np.float32(1.0 / 255.0)
        return out


class Normalize(Transform):
    """``(tensor - mean) / std`` per channel of a CHW tensor (place it after ToTensor)."""

    accepts = (CHW,)
    target_mode = TargetMode.PIXEL
    mean = P.PerChannel(0.0, doc="subtracted per channel (on the 0-1 scale)")
    std = P.PerChannel(1.0, positive=True, doc="divisor per channel (on the 0-1 scale)")

    def setup(self):
        self._mean = np.asarray(self.mean, np.float32)
        self._inv_std = 1.0 / np.asarray(self.std, np.float32)
        # uint8 value -> its ToTensor-then-Normalize result, per channel, computed with the same float32
        # operations as the two steps, so that the fused path below gives the same values
        ramp = np.arange(256, dtype=np.float32) * np.float32(1.0 / 255.0)
        self._tables = [((ramp - m) * s).astype(np.float32) for m, s in
                        zip(np.broadcast_to(self._mean, (4,)) if self._mean.size == 1 else self._mean,
                            np.broadcast_to(self._inv_std, (4,)) if self._inv_std.size == 1 else self._inv_std)]

    def fits(self, channels: int) -> bool:
        """Whether the mean and std fit images of ``channels`` channels (one value, or one per channel)."""
        return self._mean.size in (1, channels) and self._inv_std.size in (1, channels)

    def from_pixels(self, img: np.ndarray, out: np.ndarray | None = None,
                    before: np.ndarray | None = None) -> np.ndarray | None:
        """ToTensor followed by this Normalize on a uint8 HWC image, in one pass (one OpenCV look-up per
        channel), into ``out`` (a C-contiguous float32 CHW array) if given; None when that does not apply
        (other dtypes, a channel count the mean/std do not fit). ``before``, a (256, C) uint8 table, is a
        per-channel value map applied first (a step such as RandomLighting), looked up in the same pass."""
        h, w, c = img.shape
        if img.dtype != np.uint8 or not self.fits(c):
            return None  # the two steps' own path raises the clear error for a mismatch
        if before is not None and before.shape != (256, c):
            return None
        if out is None:
            out = np.empty((c, h, w), np.float32)
        for k, plane in enumerate(cv2.split(img) if c > 1 else [np.ascontiguousarray(img[:, :, 0])]):
            table = self._tables[k] if before is None else self._tables[k][before[:, k]]
            cv2.LUT(plane, table, dst=out[k])
        return out

    def apply(self, img, layout):
        c = img.shape[0]
        for name, values in (("mean", self._mean), ("std", self._inv_std)):
            if values.size not in (1, c):
                raise InputError(f"{self.spec_name}: {name} has {values.size} values but the tensor has {c} channels")
        out = np.subtract(img, self._mean.reshape(-1, 1, 1), dtype=np.float32)
        np.multiply(out, self._inv_std.reshape(-1, 1, 1), out=out)
        return out

    def apply_batch(self, state, params):
        """(x - mean) / std per channel (put it last: colour steps clip to [0, 1])."""
        state.normalize(self._mean, np.asarray(self.std, np.float32))


augplug_register_transforms = registration_hook(__name__)
