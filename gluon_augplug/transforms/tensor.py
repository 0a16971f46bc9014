"""Conversion to CHW float tensors and normalization (MXNet's ToTensor and Normalize)."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import params as P
from .base import CHW, HWC, Transform


class ToTensor(Transform):
    """HWC image with values in [0, 255] -> CHW float32 tensor with values in [0, 1]."""

    accepts = (HWC,)
    produces = CHW

    def apply(self, img, layout):
        out = np.empty((img.shape[2], img.shape[0], img.shape[1]), dtype=np.float32)
        np.multiply(np.moveaxis(img, 2, 0), np.float32(1.0 / 255.0), out=out, casting="unsafe")
        return out


class Normalize(Transform):
    """``(tensor - mean) / std`` per channel of a CHW tensor (place it after ToTensor)."""

    accepts = (CHW,)

    def __init__(self, mean: Any = 0.0, std: Any = 1.0):
        self.mean = mean
        self.std = std
        self._mean = np.asarray(P.per_channel("Normalize", "mean", mean), np.float32)
        self._inv_std = 1.0 / np.asarray(P.per_channel("Normalize", "std", std, positive=True), np.float32)

    def apply(self, img, layout):
        c = img.shape[0]
        for name, values in (("mean", self._mean), ("std", self._inv_std)):
            if values.size not in (1, c):
                raise ValueError(f"Normalize: {name} has {values.size} values but the tensor has {c} channels")
        mean = self._mean.reshape(-1, 1, 1)
        inv_std = self._inv_std.reshape(-1, 1, 1)
        return ((img.astype(np.float32, copy=False) - mean) * inv_std).astype(np.float32, copy=False)
