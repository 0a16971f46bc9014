"""Defect: the 40-line adapter's workaround: reseeds numpy's global generator inside apply() and never
puts it back (every user of np.random in the process then draws the same numbers)."""

import numpy as np

import gluon_augplug
from gluon_augplug import Transform
from gluon_augplug import params as P


class GlobalNoise(Transform):
    """Add noise drawn from np.random, seeded from our generator."""

    random = True
    amount = P.Number(10, 0, 100)

    def sample(self, rng, shape):
        return {"seed": int(rng.integers(0, 2**31))}

    def apply(self, img, layout, seed):
        np.random.seed(seed)  # the defect: no restore
        noise = np.random.uniform(-self.amount, self.amount, img.shape)
        return np.clip(img + noise, 0, 255).astype(img.dtype)


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("GlobalNoise", GlobalNoise)
