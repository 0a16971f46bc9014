"""Learned and random augmentation policies: AutoAugment, RandAugment, TrivialAugmentWide.

Magnitudes follow torchvision's definitions (Cubuk et al. 2019, 2020; Müller & Hutter 2021).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import functional as F
from .. import params as P
from ..targets.modes import TargetMode
from .base import Transform, registration_hook
from ..targets.geometry import from_index_matrix
from .geometric import affine_matrix

def _space(num_bins: int, h: int, w: int, wide: bool) -> dict[str, tuple[bool, np.ndarray | None]]:
    """Operation name -> (signed, magnitude per bin or None): torchvision's augmentation spaces.

    ``wide`` is TrivialAugment's wider space (no Invert); otherwise AutoAugment's/RandAugment's.
    """
    lin = np.linspace
    shear, rotate, enhance, posterize_div = (0.99, 135.0, 0.99, 6) if wide else (0.3, 30.0, 0.9, 4)
    tx, ty = (32.0, 32.0) if wide else (150.0 / 331.0 * w, 150.0 / 331.0 * h)
    space = {
        "Identity": (False, None),
        "ShearX": (True, lin(0.0, shear, num_bins)),
        "ShearY": (True, lin(0.0, shear, num_bins)),
        "TranslateX": (True, lin(0.0, tx, num_bins)),
        "TranslateY": (True, lin(0.0, ty, num_bins)),
        "Rotate": (True, lin(0.0, rotate, num_bins)),
        "Brightness": (True, lin(0.0, enhance, num_bins)),
        "Color": (True, lin(0.0, enhance, num_bins)),
        "Contrast": (True, lin(0.0, enhance, num_bins)),
        "Sharpness": (True, lin(0.0, enhance, num_bins)),
        "Posterize": (False, 8 - (np.arange(num_bins) / ((num_bins - 1) / posterize_div)).round()),
        "Solarize": (False, lin(255.0, 0.0, num_bins)),
        "AutoContrast": (False, None),
        "Equalize": (False, None),
    }
    if not wide:
        space["Invert"] = (False, None)
    return space


GEOMETRIC_OPS = ("ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate")


def op_matrix(op: str, value: float, hw: tuple[int, int]) -> np.ndarray:
    """The 2x3 forward matrix (pixel indices) of a geometric policy operation on an image of ``hw``."""
    h, w = hw
    center = ((w - 1) * 0.5, (h - 1) * 0.5)
    if op in ("ShearX", "ShearY"):
        angle = math.degrees(math.atan(value))
        return affine_matrix(center, 0.0, shear=(angle, 0.0) if op == "ShearX" else (0.0, angle))
    if op in ("TranslateX", "TranslateY"):
        return affine_matrix(center, 0.0, translate=(float(value), 0.0) if op == "TranslateX" else (0.0, float(value)))
    return affine_matrix(center, float(value))  # Rotate


def apply_op(img: np.ndarray, op: str, value: float | None, interpolation: int, fill: Any) -> np.ndarray:
    """Apply one named policy operation with its resolved magnitude."""
    h, w = img.shape[:2]
    if op == "Identity":
        return img
    if op in GEOMETRIC_OPS:
        return F.warp_affine(img, op_matrix(op, value, (h, w)), (w, h), interpolation, fill)
    if op == "Brightness":
        return F.adjust_brightness(img, 1.0 + value)
    if op == "Color":
        return F.adjust_saturation(img, 1.0 + value)
    if op == "Contrast":
        return F.adjust_contrast(img, 1.0 + value)
    if op == "Sharpness":
        return F.adjust_sharpness(img, 1.0 + value)
    if op == "Posterize":
        return F.posterize(img, int(value))
    if op == "Solarize":
        return F.solarize(img, float(value))
    if op == "AutoContrast":
        return F.autocontrast(img)
    if op == "Equalize":
        return F.equalize(img)
    if op == "Invert":
        return F.invert(img)
    raise ValueError(f"unknown policy operation {op!r}")


class _Policy(Transform):
    random = True
    _wide = False

    interpolation = P.Interpolation(0)
    fill = P.Fill(0, "colour of the border of geometric operations (0-255)")

    def _resolve(self, rng, space, op: str, bin_index: int | None) -> list:
        signed, magnitudes = space[op]
        if magnitudes is None or bin_index is None:
            return [op, None]
        value = float(magnitudes[bin_index])
        if signed and rng.random() < 0.5:
            value = -value
        return [op, value]

    target_mode = TargetMode.GEOMETRIC  # its shears, translations and rotations move targets; colour operations do not
    pixels_follow_geometry = False  # its colour operations are not in geometry(): no batch path from it

    def apply(self, img, layout, ops=()):
        out = img
        for op, value in ops:
            out = apply_op(out, op, value, self.interpolation, self.fill)
        return out

    def geometry(self, params, in_hw, out_hw):
        total = np.eye(3)
        for op, value in params.get("ops", ()):
            if op in GEOMETRIC_OPS:
                total = from_index_matrix(op_matrix(op, value, in_hw)) @ total
        return total


class RandAugment(_Policy):
    """Apply ``num_ops`` operations picked uniformly, each at bin ``magnitude`` of ``num_magnitude_bins``."""

    num_ops = P.Number(2, 0, 100, integer=True, doc="operations applied per image")
    magnitude = P.Number(9, 0, 999, integer=True, doc="magnitude bin of every operation (< num_magnitude_bins)")
    num_magnitude_bins = P.Number(31, 2, 1000, integer=True, doc="number of magnitude bins")

    def setup(self):
        if self.magnitude > self.num_magnitude_bins - 1:
            raise self.invalid("magnitude", f"an integer in [0, {self.num_magnitude_bins - 1}] "
                                            f"(below num_magnitude_bins={self.num_magnitude_bins})")

    def sample(self, rng, shape):
        space = _space(self.num_magnitude_bins, shape[0], shape[1], wide=False)
        space.pop("Invert")
        names = list(space)
        return {"ops": [self._resolve(rng, space, names[int(rng.integers(len(names)))], self.magnitude)
                        for _ in range(self.num_ops)]}


class TrivialAugmentWide(_Policy):
    """Apply one operation picked uniformly at a magnitude bin picked uniformly (wide ranges)."""

    num_magnitude_bins = P.Number(31, 2, 1000, integer=True, doc="number of magnitude bins")

    def sample(self, rng, shape):
        space = _space(self.num_magnitude_bins, shape[0], shape[1], wide=True)
        names = list(space)
        op = names[int(rng.integers(len(names)))]
        return {"ops": [self._resolve(rng, space, op, int(rng.integers(self.num_magnitude_bins)))]}


# (operation, probability, magnitude bin of 10) pairs: the sub-policies of Cubuk et al. (2019)
_POLICIES = {
    "imagenet": [
        (("Posterize", 0.4, 8), ("Rotate", 0.6, 9)), (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
        (("Equalize", 0.8, None), ("Equalize", 0.6, None)), (("Posterize", 0.6, 7), ("Posterize", 0.6, 6)),
        (("Equalize", 0.4, None), ("Solarize", 0.2, 4)), (("Equalize", 0.4, None), ("Rotate", 0.8, 8)),
        (("Solarize", 0.6, 3), ("Equalize", 0.6, None)), (("Posterize", 0.8, 5), ("Equalize", 1.0, None)),
        (("Rotate", 0.2, 3), ("Solarize", 0.6, 8)), (("Equalize", 0.6, None), ("Posterize", 0.4, 6)),
        (("Rotate", 0.8, 8), ("Color", 0.4, 0)), (("Rotate", 0.4, 9), ("Equalize", 0.6, None)),
        (("Equalize", 0.0, None), ("Equalize", 0.8, None)), (("Invert", 0.6, None), ("Equalize", 1.0, None)),
        (("Color", 0.6, 4), ("Contrast", 1.0, 8)), (("Rotate", 0.8, 8), ("Color", 1.0, 2)),
        (("Color", 0.8, 8), ("Solarize", 0.8, 7)), (("Sharpness", 0.4, 7), ("Invert", 0.6, None)),
        (("ShearX", 0.6, 5), ("Equalize", 1.0, None)), (("Color", 0.4, 0), ("Equalize", 0.6, None)),
        (("Equalize", 0.4, None), ("Solarize", 0.2, 4)), (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
        (("Invert", 0.6, None), ("Equalize", 1.0, None)), (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
        (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
    ],
    "cifar10": [
        (("Invert", 0.1, None), ("Contrast", 0.2, 6)), (("Rotate", 0.7, 2), ("TranslateX", 0.3, 9)),
        (("Sharpness", 0.8, 1), ("Sharpness", 0.9, 3)), (("ShearY", 0.5, 8), ("TranslateY", 0.7, 9)),
        (("AutoContrast", 0.5, None), ("Equalize", 0.9, None)), (("ShearY", 0.2, 7), ("Posterize", 0.3, 7)),
        (("Color", 0.4, 3), ("Brightness", 0.6, 7)), (("Sharpness", 0.3, 9), ("Brightness", 0.7, 9)),
        (("Equalize", 0.6, None), ("Equalize", 0.5, None)), (("Contrast", 0.6, 7), ("Sharpness", 0.6, 5)),
        (("Color", 0.7, 7), ("TranslateX", 0.5, 8)), (("Equalize", 0.3, None), ("AutoContrast", 0.4, None)),
        (("TranslateY", 0.4, 3), ("Sharpness", 0.2, 6)), (("Brightness", 0.9, 6), ("Color", 0.2, 8)),
        (("Solarize", 0.5, 2), ("Invert", 0.0, None)), (("Equalize", 0.2, None), ("AutoContrast", 0.6, None)),
        (("Equalize", 0.2, None), ("Equalize", 0.6, None)), (("Color", 0.9, 9), ("Equalize", 0.6, None)),
        (("AutoContrast", 0.8, None), ("Solarize", 0.2, 8)), (("Brightness", 0.1, 3), ("Color", 0.7, 0)),
        (("Solarize", 0.4, 5), ("AutoContrast", 0.9, None)), (("TranslateY", 0.9, 9), ("TranslateY", 0.7, 9)),
        (("AutoContrast", 0.9, None), ("Solarize", 0.8, 3)), (("Equalize", 0.8, None), ("Invert", 0.1, None)),
        (("TranslateY", 0.7, 9), ("AutoContrast", 0.9, None)),
    ],
}


class AutoAugment(_Policy):
    """Apply one randomly chosen sub-policy of the learned ``policy`` ("imagenet" or "cifar10")."""

    policy = P.Choice("imagenet", tuple(_POLICIES), doc="the learned policy")

    def sample(self, rng, shape):
        space = _space(10, shape[0], shape[1], wide=False)
        sub_policy = _POLICIES[self.policy][int(rng.integers(len(_POLICIES[self.policy])))]
        ops = []
        for op, prob, bin_index in sub_policy:
            if rng.random() < prob:
                ops.append(self._resolve(rng, space, op, bin_index))
        return {"ops": ops}


augplug_register_transforms = registration_hook(__name__)
