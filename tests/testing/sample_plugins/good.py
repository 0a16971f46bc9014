"""A well-behaved plugin: a seeded Transform subclass, a deterministic one and a HybridBlock."""

import gluon_augplug
from gluon_augplug import Transform
from gluon_augplug.transforms import params as P


class RandomShift(Transform):
    """Roll the image by up to max_shift pixels."""

    random = True

    def __init__(self, max_shift: int = 4):
        self.max_shift = P.number("RandomShift", "max_shift", max_shift, 1, 64, integer=True)

    def sample(self, rng, shape):
        return {"dx": int(rng.integers(-self.max_shift, self.max_shift + 1))}

    def apply(self, img, layout, dx=0):
        import numpy as np

        return np.roll(img, dx, axis=1)


class Darken(Transform):
    """Scale pixels down by a fixed factor."""

    def __init__(self, factor: float = 0.5):
        self.factor = P.number("Darken", "factor", factor, 0.0, 1.0)

    def apply(self, img, layout):
        return (img * self.factor).astype(img.dtype)


class SwapRB(gluon_augplug.ImageHybridBlock):
    """Swap the red and blue channels (a HybridBlock)."""

    def hybrid_forward(self, F, x):
        return F.reverse(x, axis=2)


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("RandomShift", RandomShift)
    register("Darken", Darken)
    register("SwapRB", SwapRB)


@gluon_augplug.hookimpl
def augplug_register_presets(register):
    register("good-shift", "RandomShift(2), ToTensor")


class Dim(Transform):
    """Multiply pixels by a random factor in [low, 1]: declared parameters and a batch path."""

    random = True
    low = gluon_augplug.params.Number(0.5, 0.0, 1.0, doc="the smallest factor")

    def sample(self, rng, shape):
        return {"factor": float(rng.uniform(self.low, 1.0))}

    def apply(self, img, layout, factor=1.0):
        return (img * factor).astype(img.dtype)

    def apply_batch(self, state, params):
        import numpy as np

        state.add_color(np.stack([np.hstack([np.eye(3) * p["factor"], np.zeros((3, 1))]) for p in params]))


@gluon_augplug.hookimpl(specname="augplug_register_transforms")
def register_dim(register):
    register("Dim", Dim)

