"""Defect: its batch path draws from numpy's global generator instead of the batch's rng."""

import numpy as np

import gluon_augplug
from gluon_augplug import Transform
from gluon_augplug import params as P


class Jitter(Transform):
    """Scale each image by a random factor."""

    random = True
    amount = P.Number(0.2, 0.0, 1.0)

    def sample(self, rng, shape):
        return {"factor": float(rng.uniform(1 - self.amount, 1 + self.amount))}

    def apply(self, img, layout, factor=1.0):
        return np.clip(img * factor, 0, 255).astype(img.dtype)

    def sample_batch(self, rng, n, shape):
        return np.random.uniform(1 - self.amount, 1 + self.amount, size=n)  # the defect

    def apply_batch(self, state, factors):
        state.add_color(np.stack([np.hstack([np.eye(3) * f, np.zeros((3, 1))]) for f in factors]))


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("Jitter", Jitter)
