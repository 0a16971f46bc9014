"""Broken: draws from numpy's global random state instead of the rng it is given."""
import numpy as np

import gluon_augplug
from gluon_augplug import Transform


class NoisyBrightness(Transform):
    """Scale brightness by a random factor (drawn with np.random: the defect)."""

    random = True

    def sample(self, rng, shape):
        return {"factor": float(np.random.uniform(0.5, 1.5))}  # continuous: two runs never agree by chance

    def apply(self, img, layout, factor=1.0):
        return np.clip(img * factor, 0, 255).astype(img.dtype)


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("NoisyBrightness", NoisyBrightness)
