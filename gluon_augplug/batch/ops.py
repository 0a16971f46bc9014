"""Built-in batch transforms. Each shares its per-sample twin's parameters, validation and
``sample()`` (so both draw from the same distributions) and differs only in how it applies:
geometry and colour are fused into per-sample matrices, occlusion and mixing work on the device."""
from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np

from ..transforms import color as C
from ..transforms import erasing as E
from ..transforms import geometric as G
from ..transforms import params as P
from ..transforms.functional import LIGHTING_EIG, color_step, then
from .base import BatchTransform
from .state import BatchState

class _Shared(BatchTransform):
    """A batch transform with the constructor and ``sample()`` of a per-sample transform."""

    per_sample: type

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "per_sample" in cls.__dict__:
            cls.__signature__ = inspect.signature(cls.per_sample)
            cls.__doc__ = cls.__doc__ or cls.per_sample.__doc__

    def __init__(self, *args: Any, **kwargs: Any):
        self._sampler = self.per_sample(*args, **kwargs)
        for name in inspect.signature(self.per_sample).parameters:
            if hasattr(self._sampler, name):
                setattr(self, name, getattr(self._sampler, name))

    def draw(self, state: BatchState) -> list[dict]:
        h, w = state.hw
        return [self._sampler.sample(state.rng, (h, w, state.channels)) for _ in range(state.n)]


# -- geometry: per-sample maps from output pixels to input pixels ---------------------------

def _crop_map(x0: float, y0: float, cw: int, ch: int, out_wh: tuple[int, int]) -> np.ndarray:
    ow, oh = out_wh
    sx, sy = (cw - 1) / max(ow - 1, 1), (ch - 1) / max(oh - 1, 1)
    return np.array([[sx, 0, x0], [0, sy, y0], [0, 0, 1.0]])


class RandomFlipLeftRight(_Shared):
    """Flip each sample horizontally with probability p."""

    per_sample = G.RandomFlipLeftRight
    _axis = 0

    def apply(self, state):
        h, w = state.hw
        flip = state.rng.random(state.n) < self.p  # the per-sample draw, vectorized
        maps = np.tile(np.eye(3), (state.n, 1, 1))
        maps[flip, self._axis, self._axis] = -1.0
        maps[flip, self._axis, 2] = (w if self._axis == 0 else h) - 1
        state.add_geometry(maps)


class RandomFlipTopBottom(RandomFlipLeftRight):
    """Flip each sample vertically with probability p."""

    per_sample = G.RandomFlipTopBottom
    _axis = 1


class RandomCrop(_Shared):
    """Zero-pad by pad and crop a random size window per sample (the CIFAR-10 recipe's crop)."""

    per_sample = G.RandomCrop

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.pad_value not in (0, 0.0):
            raise P.ParameterError("RandomCrop", "pad_value", self.pad_value, "0 (batch crops pad with zeros)")

    def apply(self, state):
        h, w = state.hw
        left, top, right, bottom = self._sampler._pad
        pw, ph = w + left + right, h + top + bottom
        cw, ch = G.scale_down((pw, ph), self._sampler._wh)
        ow, oh = self._sampler._wh
        # the per-sample draw (RandomCrop.sample), vectorized over the batch
        maps = np.tile(np.eye(3), (state.n, 1, 1))
        maps[:, 0, 0], maps[:, 1, 1] = (cw - 1) / max(ow - 1, 1), (ch - 1) / max(oh - 1, 1)
        maps[:, 0, 2] = state.rng.integers(0, pw - cw + 1, size=state.n) - left
        maps[:, 1, 2] = state.rng.integers(0, ph - ch + 1, size=state.n) - top
        state.add_geometry(maps, (oh, ow))


class RandomResizedCrop(_Shared):
    """Crop a random area and aspect ratio per sample and resize it to size (fused with the other geometry)."""

    per_sample = G.RandomResizedCrop

    def apply(self, state):
        out_wh = self._sampler._wh
        maps = np.stack([_crop_map(p["x0"], p["y0"], p["w"], p["h"], out_wh) for p in self.draw(state)])
        state.add_geometry(maps, (out_wh[1], out_wh[0]))


def _invert_affine(forward: np.ndarray) -> np.ndarray:
    """The 3x3 inverse of a 2x3 affine map, written out (np.linalg.inv is slow with this OpenBLAS)."""
    (a, b, tx), (c, d, ty) = forward
    det = a * d - b * c
    inv = np.array([[d, -b], [-c, a]]) / det
    return np.vstack([np.hstack([inv, -inv @ np.array([[tx], [ty]])]), [0, 0, 1.0]])


class RandomAffine(_Shared):
    """Random rotation, translation, scale and shear per sample, fused into one resample."""

    per_sample = G.RandomAffine

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.fill not in (0, 0.0):
            raise P.ParameterError(type(self).__name__, "fill", self.fill, "0 (batch warps fill with zeros)")

    def apply(self, state):
        h, w = state.hw
        center = ((w - 1) * 0.5, (h - 1) * 0.5)
        maps = []
        for p in self.draw(state):
            forward = G.affine_matrix(center, p["angle"], tuple(p["translate"]), p["scale"], tuple(p["shear"]))
            maps.append(_invert_affine(forward))
        state.add_geometry(np.stack(maps))


class RandomRotation(RandomAffine):
    """Rotate each sample by a random angle in degrees, fused with the other geometry."""

    per_sample = G.RandomRotation


# -- colour: per-sample 3x4 affine maps on values in [0, 1] ---------------------------------

class _Color(_Shared):
    """A colour step as one 3x4 map per sample: ``color_step(op, params[key])`` unless overridden."""

    needs_means = False
    op = ""
    key = "factor"

    def step(self, params: dict, mean_rgb: np.ndarray) -> np.ndarray:
        return color_step(self.op, params[self.key], mean_rgb)

    def apply(self, state):
        means = state.channel_means() if self.needs_means else np.zeros((state.n, 3))
        state.add_color(np.stack([self.step(p, m) for p, m in zip(self.draw(state), means)]))


class RandomBrightness(_Color):
    per_sample, op = C.RandomBrightness, "brightness"


class RandomContrast(_Color):
    per_sample, op, needs_means = C.RandomContrast, "contrast", True


class RandomSaturation(_Color):
    per_sample, op = C.RandomSaturation, "saturation"


class RandomHue(_Color):
    """Rotate each sample's hue by a uniform fraction of a turn in [-hue, hue] (linear YIQ rotation)."""

    per_sample, op, key = C.RandomHue, "hue", "shift"


class RandomColorJitter(_Color):
    """Brightness, contrast, saturation and hue in a random order per sample, fused into one colour map."""

    per_sample = C.RandomColorJitter
    needs_means = True

    def step(self, params, mean_rgb):
        total = color_step("brightness", 1.0, mean_rgb)
        for op, value in params["steps"]:
            total = then(color_step(op, value, total[:, :3] @ mean_rgb + total[:, 3]), total)
        return total


class RandomGrayscale(_Color):
    per_sample = C.RandomGrayscale

    def step(self, params, mean_rgb):
        return color_step("saturation", 0.0 if params["apply"] else 1.0, mean_rgb)


class RandomLighting(_Color):
    per_sample = C.RandomLighting

    def step(self, params, mean_rgb):
        return np.hstack([np.eye(3), (LIGHTING_EIG @ np.asarray(params["alpha"]))[:, None] / 255.0])


# -- on the device -------------------------------------------------------------------------

class ToTensor(BatchTransform):
    """Nothing to do: batch pipelines turn NHWC uint8 batches into NCHW float32 in [0, 1] on entry."""

    random = False

    def apply(self, state):
        return None


class Normalize(BatchTransform):
    """(x - mean) / std per channel (put it last: colour steps clip to [0, 1])."""

    random = False

    def __init__(self, mean: Any = 0.0, std: Any = 1.0):
        self.mean, self.std = mean, std
        self._mean = np.asarray(P.per_channel("Normalize", "mean", mean), np.float32)
        self._std = np.asarray(P.per_channel("Normalize", "std", std, positive=True), np.float32)

    def apply(self, state):
        state.normalize(self._mean, self._std)


class Cutout(_Shared):
    """Fill num_holes squares per sample (fill is on the 0-255 scale, as the per-sample Cutout)."""

    per_sample = E.Cutout

    def apply(self, state):
        state.flush()
        boxes = [p["boxes"] for p in self.draw(state)]
        state.fill_boxes(boxes, np.asarray(self.fill, np.float32) / 255.0)


class RandomErasing(_Shared):
    """Erase one random rectangle per sample with probability p (value on the 0-255 scale, or 'random')."""

    per_sample = E.RandomErasing

    def apply(self, state):
        state.flush()
        boxes = [p["boxes"] for p in self.draw(state)]
        if self.value == "random":
            state.fill_boxes(boxes, 0.0, noise=True)
        else:
            state.fill_boxes(boxes, np.asarray(self.value, np.float32) / 255.0)


class _Mix(BatchTransform):
    mixes_labels = True

    def __init__(self, alpha: float = 1.0, p: float = 1.0):
        self.alpha = P.number(type(self).__name__, "alpha", alpha, 1e-6, None)
        self.p = P.probability(type(self).__name__, "p", p)

    def partners(self, state) -> tuple[np.ndarray, np.ndarray]:
        """Each sample's partner and its own share (1 where the sample is not mixed)."""
        perm = state.rng.permutation(state.n)
        share = state.rng.beta(self.alpha, self.alpha, size=state.n)
        share[state.rng.random(state.n) >= self.p] = 1.0
        return perm, share


class Mixup(_Mix):
    """Blend each sample with a random partner of the batch, lambda ~ Beta(alpha, alpha) per sample, labels alike."""

    def apply(self, state):
        perm, share = self.partners(state)
        state.mix(perm, share)
        state.mix_targets(perm, share)


class CutMix(_Mix):
    """Paste a box of a random partner into each sample (box area 1 - lambda), labels by the pasted area."""

    def apply(self, state):
        state.flush()
        perm, share = self.partners(state)
        h, w = state.hw
        boxes = []
        for i in range(state.n):
            cut = math.sqrt(1.0 - share[i])
            ch, cw = int(h * cut), int(w * cut)
            cy, cx = int(state.rng.integers(h)), int(state.rng.integers(w))
            y0, y1 = max(cy - ch // 2, 0), min(cy + ch // 2, h)
            x0, x1 = max(cx - cw // 2, 0), min(cx + cw // 2, w)
            boxes.append([[x0, y0, x1 - x0, y1 - y0]])
            share[i] = 1.0 - (y1 - y0) * (x1 - x0) / float(h * w)
        state.mix(perm, share, boxes)
        state.mix_targets(perm, share)


BUILTIN_BATCH_TRANSFORMS = [
    RandomFlipLeftRight, RandomFlipTopBottom, RandomCrop, RandomResizedCrop, RandomAffine, RandomRotation,
    RandomBrightness, RandomContrast, RandomSaturation, RandomHue, RandomColorJitter, RandomGrayscale,
    RandomLighting, ToTensor, Normalize, Cutout, RandomErasing, Mixup, CutMix,
]
