"""Broken: draws from numpy's global random state instead of the rng it is given."""
import numpy as np

import gluon_augplug
from gluon_augplug import Transform


class NoisyFlip(Transform):
    """Flip half of the time (using np.random: the defect)."""

    random = True

    def sample(self, rng, shape):
        return {"flip": bool(np.random.random() < 0.5)}

    def apply(self, img, layout, flip=False):
        return img[:, ::-1].copy() if flip else img


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("NoisyFlip", NoisyFlip)
