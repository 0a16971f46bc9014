"""Colour transforms: MXNet's random colour jitter family and the PIL/torchvision pixel ops."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import functional as F
from .. import params as P
from ..targets.modes import TargetMode
from .base import HWC, Transform, registration_hook
from .functional import LIGHTING_EIGS, color_step, color_steps, then, then_batch


class _ColorMap:
    """The batch path of a colour transform: one 3x4 affine map per sample on values in [0, 1],
    applied in one pass and clipped to [0, 1], as each transform saturates per sample."""

    needs_means = False  # the map depends on the sample's channel means (contrast)
    target_mode = TargetMode.PIXEL

    def color_maps(self, params: list, means: np.ndarray) -> np.ndarray:
        """The batch's (N, 3, 4) maps, one per sample's ``params`` and (N, 3) channel means."""
        raise NotImplementedError

    def color_map(self, params: dict, mean_rgb: np.ndarray) -> np.ndarray:
        """One sample's (3, 4) map."""
        return self.color_maps([params], np.asarray(mean_rgb, np.float64)[None])[0]

    def apply_batch(self, state, params):
        means = state.channel_means() if self.needs_means else np.zeros((state.n, 3))
        state.add_color(self.color_maps(params, means))
        state.flush_color()


class _Factor(_ColorMap, Transform):
    """Multiply-style jitter: factor uniform in [max(0, 1 - x), 1 + x], as MXNet's Random* blocks."""

    random = True
    _op = staticmethod(F.adjust_brightness)
    _param = "brightness"

    def sample(self, rng, shape):
        x = getattr(self, self._param)
        return {"factor": float(rng.uniform(max(0.0, 1.0 - x), 1.0 + x))}

    def apply(self, img, layout, factor=1.0):
        return self._op(img, factor)

    def color_maps(self, params, means):
        return color_steps(self._param, np.array([p["factor"] for p in params]), means)


class RandomBrightness(_Factor):
    """Scale pixel values by a factor uniform in [max(0, 1 - brightness), 1 + brightness]."""

    brightness = P.Number(0.5, 0.0, None, doc="largest change of the factor from 1")


class RandomContrast(_Factor):
    """Blend with the mean gray level by a factor uniform in [max(0, 1 - contrast), 1 + contrast]."""

    _op = staticmethod(F.adjust_contrast)
    _param = "contrast"
    needs_means = True
    contrast = P.Number(0.5, 0.0, None, doc="largest change of the factor from 1")


class RandomSaturation(_Factor):
    """Blend each pixel with its gray level by a factor uniform in [max(0, 1 - saturation), 1 + saturation].

    The gray level is the ITU-R 601 luma, as torchvision and PIL compute it; MXNet 1.9.1's kernel
    uses the blue channel alone (``gray = ...`` where ``gray += ...`` was meant), a bug not copied.
    """

    _op = staticmethod(F.adjust_saturation)
    _param = "saturation"
    saturation = P.Number(0.5, 0.0, None, doc="largest change of the factor from 1")


class RandomHue(_ColorMap, Transform):
    """Rotate the hue by a uniform fraction of a turn in [-hue, hue] (MXNet: ``hue * 360`` degrees).

    As MXNet's block, which rotates by a factor uniform in [max(0, 1 - hue), 1 + hue] whole
    turns: above 1 the shift is uniform in [-1, hue] turns. On batches the rotation is the
    linear YIQ one (as GluonCV's ``HueJitterAug``).
    """

    random = True
    hue = P.Number(0.5, 0.0, None, doc="largest hue shift, in turns (above 1: [-1, hue], as MXNet)")

    def sample(self, rng, shape):
        return {"shift": float(rng.uniform(-self.hue if self.hue <= 1 else -1.0, self.hue))}

    def apply(self, img, layout, shift=0.0):
        return F.adjust_hue(img, shift)

    def color_maps(self, params, means):
        return color_steps("hue", np.array([p["shift"] for p in params]), means)


_JITTER_OPS = {
    "brightness": F.adjust_brightness,
    "contrast": F.adjust_contrast,
    "saturation": F.adjust_saturation,
    "hue": F.adjust_hue,
}


class RandomColorJitter(_ColorMap, Transform):
    """Jitter brightness, contrast, saturation and hue in a random order (MXNet's RandomColorJitter).

    As MXNet's operator: the order is a random permutation; brightness, contrast and saturation
    factors are uniform in [1 - x, 1 + x] (above 1 a factor can be negative: brightness then
    gives black, contrast and saturation invert around the mean gray and the luma); the hue
    shift is uniform in [-hue, hue] turns; a parameter of 0 leaves that step out; and every
    step saturates to 0-255 before the next one sees the image. Two deliberate differences:
    uint8 steps round to nearest where MXNet's truncate (MXNet's output is on average half a
    level darker per step), and saturation blends with the ITU-R 601 luma, as torchvision and
    PIL do (MXNet 1.9.1 uses the blue channel alone as gray: a bug). Unlike MXNet 1.9.1's
    operator, ``hue > 0`` is safe (no out-of-bounds read, mxnet#18986), and float images are
    kept within 0-255 (MXNet leaves float values unclipped).

    ``fused=True`` trades that for speed (1.3-1.5x per image): each run of brightness,
    contrast and saturation steps becomes one blend that saturates once, at its end. Equal
    where no step leaves 0-255; where one does (a brightness factor above 1 on bright pixels,
    then a contrast below 1), the fused output keeps what the clipping would have lost.

    On batches each step is one colour map per sample, clipped after each step (``fused``:
    after all of them); hue there is the linear YIQ rotation, as GluonCV's ``HueJitterAug``.
    """

    random = True
    needs_means = True
    brightness = P.Number(0.0, 0.0, None, doc="largest change of the brightness factor from 1 (0: off)")
    contrast = P.Number(0.0, 0.0, None, doc="largest change of the contrast factor from 1 (0: off)")
    saturation = P.Number(0.0, 0.0, None, doc="largest change of the saturation factor from 1 (0: off)")
    hue = P.Number(0.0, 0.0, None, doc="largest hue shift, in turns (0: off)")
    fused = P.Flag(False, doc="saturate once per run of brightness/contrast/saturation steps instead of after "
                              "every step (MXNet): faster, differs where a step leaves 0-255")
    example = {"brightness": 0.4, "contrast": 0.4, "saturation": 0.4, "hue": 0.1}

    def sample(self, rng, shape):
        steps = []
        for i in rng.permutation(4):
            op = _JITTER_STEPS[i]
            x = getattr(self, op)
            if x > 0:
                value = rng.uniform(-x, x) if op == "hue" else rng.uniform(1.0 - x, 1.0 + x)  # MXNet's ranges
                steps.append([op, float(value)])
        return {"steps": steps}

    def apply(self, img, layout, steps=()):
        if self.fused and img.shape[2] != 1:
            out = _fused_jitter(img, steps)
        else:  # gray images: only brightness and contrast change them, each step saturating
            out = img
            for op, value in steps:
                out = _JITTER_OPS[op](out, value)
        return out if out is not img else img.copy()

    def color_map(self, params, mean_rgb):
        """The steps one after the other, unclipped (the definition :meth:`color_maps` computes for a batch)."""
        total = color_step("brightness", 1.0, mean_rgb)
        for op, value in params["steps"]:
            total = then(color_step(op, value, total[:, :3] @ mean_rgb + total[:, 3]), total)
        return total

    def color_maps(self, params, means):
        """All steps of every sample as one unclipped map each (the ``fused`` batch path)."""
        total = color_steps("brightness", np.ones(len(params)), means)
        for k in range(4):
            step = self._step_maps(params, k, np.einsum("nij,nj->ni", total[:, :, :3], means) + total[:, :, 3])
            if step is None:
                break
            total = then_batch(step, total)
        return total

    def apply_batch(self, state, params):
        if self.fused:
            return super().apply_batch(state, params)
        for k in range(4):  # one map per step, clipped before the next step sees the batch
            contrast = any(len(p["steps"]) > k and p["steps"][k][0] == "contrast" for p in params)
            step = self._step_maps(params, k, state.channel_means() if contrast else np.zeros((state.n, 3)))
            if step is None:
                break
            state.add_color(step)
            state.flush_color()

    @staticmethod
    def _step_maps(params, k, means):
        """Each sample's map for its k-th step (identity where it has fewer), or None when none has one."""
        at_k = [(i, p["steps"][k]) for i, p in enumerate(params) if len(p["steps"]) > k]
        if not at_k:
            return None
        step = np.tile(color_steps("brightness", np.ones(1), means[:1]), (len(params), 1, 1))
        for op in _JITTER_STEPS:
            rows = np.array([i for i, (o, _) in at_k if o == op], dtype=np.int64)
            if len(rows):
                step[rows] = color_steps(op, np.array([v for _, (o, v) in at_k if o == op]), means[rows])
        return step


_JITTER_STEPS = ("brightness", "contrast", "saturation", "hue")


def _fused_jitter(img: np.ndarray, steps) -> np.ndarray:
    """Jitter steps with each run of brightness/contrast/saturation as one saturating blend.

    Such a run is one map ``alpha * x + beta * gray(x) + gamma`` (the gray weights sum to 1, so the
    family is closed): one look-up table or one colour matrix. Hue (a non-linear HSV rotation) ends a run.
    """
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
            run = (alpha * value, beta * value, gamma * value + (1 - value) * ((alpha + beta) * F.mean_gray(out) + gamma))
    return F.affine_gray_blend(out, *run) if run is not None else out


class RandomLighting(_ColorMap, Transform):
    """AlexNet-style PCA lighting noise with per-channel coefficients drawn from N(0, alpha).

    ``eigen`` names the principal components: ImageNet's (MXNet's ``RandomLighting``), COCO's (CornerNet's, as
    GluonCV's ``CenterNetDefaultTrainTransform`` adds them) or SiamRPN's (pysot's ``rgbVar``, which GluonCV's
    ``SiamRPNaugmentation`` subtracts with coefficients from N(0, 1): ``alpha=1``)."""

    random = True
    alpha = P.Number(0.1, 0.0, None, doc="standard deviation of the PCA coefficients")
    eigen = P.Choice("imagenet", tuple(LIGHTING_EIGS), "whose principal components: ImageNet's, COCO's (CenterNet) or SiamRPN's")

    def color_maps(self, params, means):
        maps = np.tile(np.hstack([np.eye(3), np.zeros((3, 1))]), (len(params), 1, 1))
        eig = LIGHTING_EIGS[self.eigen].astype(np.float64)
        maps[:, :, 3] = np.array([p["alpha"] for p in params]) @ eig.T / 255.0
        return maps

    def sample(self, rng, shape):
        return {"alpha": [float(a) for a in rng.normal(0.0, self.alpha, size=3)]}

    def apply(self, img, layout, alpha=(0.0, 0.0, 0.0)):
        return F.adjust_lighting(img, tuple(alpha), LIGHTING_EIGS[self.eigen])

    def value_tables(self, alpha=(0.0, 0.0, 0.0)) -> np.ndarray:
        """What :meth:`apply` does to each uint8 value of each RGB channel, as a (256, 3) uint8 table: the same
        function run on the 256 values (a pixel's result depends on its own value only), so that a pipeline
        may look the step up together with ToTensor and Normalize in one pass, exactly."""
        ramp = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2)
        return self.apply(ramp, HWC, alpha)[0]


class _MaybeApply(Transform):
    """A pixel op applied with probability ``p``."""

    random = True
    target_mode = TargetMode.PIXEL
    p = P.Probability(0.5)

    def sample(self, rng, shape):
        return {"apply": bool(rng.random() < self.p)}

    def apply(self, img, layout, apply=False, **op_params):
        return self.op(img, **op_params) if apply else img

    def op(self, img: np.ndarray, **op_params: Any) -> np.ndarray:
        raise NotImplementedError


class RandomGrayscale(_ColorMap, _MaybeApply):
    """Convert to grayscale (keeping the channel count) with probability ``p``."""

    p = P.Probability(0.1)

    def op(self, img):
        return F.to_grayscale(img)

    def color_maps(self, params, means):
        return color_steps("saturation", np.array([0.0 if p["apply"] else 1.0 for p in params]), means)


class Invert(_MaybeApply):
    """Invert all pixel values (255 - x) with probability ``p``."""

    def op(self, img):
        return F.invert(img)


class Solarize(_MaybeApply):
    """Invert the pixels at or above ``threshold`` (0-255) with probability ``p``."""

    threshold = P.Number(128, 0, 256, doc="pixels at or above it are inverted (0-255 scale)")

    def op(self, img):
        return F.solarize(img, self.threshold)


class Posterize(_MaybeApply):
    """Keep only the ``bits`` most significant bits of each channel, with probability ``p``."""

    bits = P.Number(4, 1, 8, integer=True, doc="most significant bits kept per channel")

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

    factor = P.Range(2.0, 0.0, None, doc="sharpness factor, or a (min, max) range to draw it from")

    def sample(self, rng, shape):
        params = super().sample(rng, shape)
        params["factor"] = float(rng.uniform(*self.factor)) if self.factor[0] != self.factor[1] else self.factor[0]
        return params

    def op(self, img, factor=1.0):
        return F.adjust_sharpness(img, factor)


class GaussianBlur(Transform):
    """Blur with an odd ``kernel_size`` and a sigma drawn uniformly from ``sigma`` (number or (min, max)).

    ``kernel_size=0`` sizes the kernel from the sigma drawn (3 sigma each side): then sigma means what PIL's
    ``ImageFilter.GaussianBlur(radius)`` calls the radius, and ``GaussianBlur(0, sigma=(0.001, 1))`` under
    ``RandomApply(p=0.5)`` is GluonCV's segmentation blur (its radius is uniform in [0, 1))."""

    random = True
    target_mode = TargetMode.PIXEL
    kernel_size = P.Number(5, 0, 255, integer=True, doc="odd side of the kernel in pixels; 0: 3 sigma each side")
    sigma = P.Range((0.1, 2.0), 1e-3, None, doc="standard deviation, or a (min, max) range to draw it from")

    def setup(self):
        if self.kernel_size % 2 == 0 and self.kernel_size != 0:
            raise self.invalid("kernel_size", "0 (sized from sigma) or an odd integer in [1, 255]")

    def sample(self, rng, shape):
        return {"sigma": float(rng.uniform(*self.sigma))}

    def apply(self, img, layout, sigma=1.0):
        size = self.kernel_size or 2 * int(np.ceil(3 * sigma)) + 1
        return F.gaussian_blur(img, size, sigma)


augplug_register_transforms = registration_hook(__name__)
