"""Colour transforms: MXNet's random colour jitter family and the PIL/torchvision pixel ops."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import functional as F
from . import params as P
from .base import Transform


class _Factor(Transform):
    """Multiply-style jitter: factor uniform in [max(0, 1 - x), 1 + x], as MXNet's Random* blocks."""

    random = True
    _op = staticmethod(F.adjust_brightness)
    _param = "brightness"

    def __init__(self, amount: float):
        setattr(self, self._param, P.number(type(self).__name__, self._param, amount, 0.0, None))

    def sample(self, rng, shape):
        x = getattr(self, self._param)
        return {"factor": float(rng.uniform(max(0.0, 1.0 - x), 1.0 + x))}

    def apply(self, img, layout, factor=1.0):
        return self._op(img, factor)


class RandomBrightness(_Factor):
    """Scale pixel values by a factor uniform in [max(0, 1 - brightness), 1 + brightness]."""

    def __init__(self, brightness: float = 0.5):
        super().__init__(brightness)


class RandomContrast(_Factor):
    """Blend with the mean gray level by a factor uniform in [max(0, 1 - contrast), 1 + contrast]."""

    _op = staticmethod(F.adjust_contrast)
    _param = "contrast"

    def __init__(self, contrast: float = 0.5):
        super().__init__(contrast)


class RandomSaturation(_Factor):
    """Blend each pixel with its gray level by a factor uniform in [max(0, 1 - saturation), 1 + saturation]."""

    _op = staticmethod(F.adjust_saturation)
    _param = "saturation"

    def __init__(self, saturation: float = 0.5):
        super().__init__(saturation)


class RandomHue(Transform):
    """Rotate the hue by a uniform fraction of a turn in [-hue, hue] (MXNet: ``hue * 360`` degrees)."""

    random = True

    def __init__(self, hue: float = 0.5):
        self.hue = P.number("RandomHue", "hue", hue, 0.0, 1.0)

    def sample(self, rng, shape):
        return {"shift": float(rng.uniform(-self.hue, self.hue))}

    def apply(self, img, layout, shift=0.0):
        return F.adjust_hue(img, shift)


_JITTER_OPS = {
    "brightness": F.adjust_brightness,
    "contrast": F.adjust_contrast,
    "saturation": F.adjust_saturation,
    "hue": F.adjust_hue,
}


class RandomColorJitter(Transform):
    """Jitter brightness, contrast, saturation and hue in a random order (MXNet's RandomColorJitter).

    Brightness, contrast and saturation factors are uniform in [max(0, 1 - x), 1 + x];
    the hue shift is uniform in [-hue, hue] turns. A parameter of 0 leaves that step out.
    Unlike MXNet 1.9.1's operator, ``hue > 0`` is safe: no out-of-bounds read (mxnet#18986).
    """

    random = True

    def __init__(self, brightness: float = 0.0, contrast: float = 0.0, saturation: float = 0.0, hue: float = 0.0):
        self.brightness = P.number("RandomColorJitter", "brightness", brightness, 0.0, None)
        self.contrast = P.number("RandomColorJitter", "contrast", contrast, 0.0, None)
        self.saturation = P.number("RandomColorJitter", "saturation", saturation, 0.0, None)
        self.hue = P.number("RandomColorJitter", "hue", hue, 0.0, 1.0)

    def sample(self, rng, shape):
        steps = []
        for i in rng.permutation(4):
            op = ("brightness", "contrast", "saturation", "hue")[i]
            x = getattr(self, op)
            if x > 0:
                value = rng.uniform(-x, x) if op == "hue" else rng.uniform(max(0.0, 1.0 - x), 1.0 + x)
                steps.append([op, float(value)])
        return {"steps": steps}

    def apply(self, img, layout, steps=()):
        if img.shape[2] == 1:  # gray: only brightness and contrast apply
            out = img
            for op, value in steps:
                out = _JITTER_OPS[op](out, value)
            return out if out is not img else img.copy()
        # A run of brightness/contrast/saturation steps is one map alpha * x + beta * gray(x) + gamma
        # (the gray weights sum to 1, so the family is closed): one blend or one look-up table.
        # Hue (a non-linear HSV rotation) ends a run; a fused run clips once, at its end.
        out, run = img, None
        for op, value in steps:
            if op == "hue":
                if run is not None:
                    out, run = F.affine_gray_blend(out, *run), None
                out = F.adjust_hue(out, value)
                continue
            alpha, beta, gamma = run or (1.0, 0.0, 0.0)
            if op == "brightness":
                run = (alpha * value, beta * value, gamma * value)
            elif op == "saturation":
                run = (alpha * value, beta * value + (1 - value) * (alpha + beta), gamma)
            else:  # contrast: towards the mean gray level of the image as the run has made it
                mean_gray = (alpha + beta) * float(F.channel_means(F.gray(out))[0]) + gamma
                run = (alpha * value, beta * value, gamma * value + (1 - value) * mean_gray)
        if run is not None:
            out = F.affine_gray_blend(out, *run)
        return out if out is not img else img.copy()


class RandomLighting(Transform):
    """AlexNet-style PCA lighting noise with per-channel coefficients drawn from N(0, alpha)."""

    random = True

    def __init__(self, alpha: float = 0.1):
        self.alpha = P.number("RandomLighting", "alpha", alpha, 0.0, None)

    def sample(self, rng, shape):
        return {"alpha": [float(a) for a in rng.normal(0.0, self.alpha, size=3)]}

    def apply(self, img, layout, alpha=(0.0, 0.0, 0.0)):
        return F.adjust_lighting(img, tuple(alpha))


class _MaybeApply(Transform):
    """A pixel op applied with probability ``p``."""

    random = True

    def __init__(self, p: float = 0.5):
        self.p = P.probability(type(self).__name__, "p", p)

    def sample(self, rng, shape):
        return {"apply": bool(rng.random() < self.p)}

    def apply(self, img, layout, apply=False, **op_params):
        return self.op(img, **op_params) if apply else img

    def op(self, img: np.ndarray, **op_params: Any) -> np.ndarray:
        raise NotImplementedError


class RandomGrayscale(_MaybeApply):
    """Convert to grayscale (keeping the channel count) with probability ``p``."""

    def __init__(self, p: float = 0.1):
        super().__init__(p)

    def op(self, img):
        return F.to_grayscale(img)


class Invert(_MaybeApply):
    """Invert all pixel values (255 - x) with probability ``p``."""

    def op(self, img):
        return F.invert(img)


class Solarize(_MaybeApply):
    """Invert the pixels at or above ``threshold`` (0-255) with probability ``p``."""

    def __init__(self, threshold: float = 128, p: float = 0.5):
        super().__init__(p)
        self.threshold = P.number("Solarize", "threshold", threshold, 0, 256)

    def op(self, img):
        return F.solarize(img, self.threshold)


class Posterize(_MaybeApply):
    """Keep only the ``bits`` most significant bits of each channel, with probability ``p``."""

    def __init__(self, bits: int = 4, p: float = 0.5):
        super().__init__(p)
        self.bits = P.number("Posterize", "bits", bits, 1, 8, integer=True)

    def op(self, img):
        return F.posterize(img, self.bits)


class Equalize(_MaybeApply):
    """Equalize the histogram of each channel with probability ``p``."""

    def op(self, img):
        return F.equalize(img)


class AutoContrast(_MaybeApply):
    """Stretch each channel to the full 0-255 range with probability ``p``."""

    def op(self, img):
        return F.autocontrast(img)


class Sharpness(_MaybeApply):
    """Adjust sharpness by ``factor`` (0 blurs, 1 keeps, 2 sharpens; a (min, max) pair draws it) with probability ``p``."""

    def __init__(self, factor: Any = 2.0, p: float = 0.5):
        super().__init__(p)
        self.factor = factor
        self._range = P.pair("Sharpness", "factor", factor, 0.0, None)

    def sample(self, rng, shape):
        params = super().sample(rng, shape)
        params["factor"] = float(rng.uniform(*self._range)) if self._range[0] != self._range[1] else self._range[0]
        return params

    def op(self, img, factor=1.0):
        return F.adjust_sharpness(img, factor)


class GaussianBlur(Transform):
    """Blur with an odd ``kernel_size`` and a sigma drawn uniformly from ``sigma`` (number or (min, max))."""

    random = True

    def __init__(self, kernel_size: int = 5, sigma: Any = (0.1, 2.0)):
        self.kernel_size = P.number("GaussianBlur", "kernel_size", kernel_size, 1, 255, integer=True)
        if self.kernel_size % 2 == 0:
            raise P.ParameterError("GaussianBlur", "kernel_size", kernel_size, "an odd integer in [1, 255]")
        self.sigma = sigma
        self._sigma = P.pair("GaussianBlur", "sigma", sigma, 1e-3, None)

    def sample(self, rng, shape):
        return {"sigma": float(rng.uniform(*self._sigma))}

    def apply(self, img, layout, sigma=1.0):
        return F.gaussian_blur(img, self.kernel_size, sigma)
