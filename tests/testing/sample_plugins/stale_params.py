"""Defect for schedules: ``get_params`` overridden to return the value the transform was first written for, not
the one it was built with, so a schedule's later values are reported (and rebuilt) wrong."""

import numpy as np

import gluon_augplug
from gluon_augplug import Transform
from gluon_augplug import params as P


class Brighten(Transform):
    """Adds ``amount`` levels to every pixel."""

    amount = P.Number(10, 0, 100, doc="levels added")

    def sample(self, rng, shape):
        return {}

    def apply(self, img, layout):
        return np.clip(img.astype(np.int16) + int(self.amount), 0, 255).astype(img.dtype)

    def get_params(self):
        return {"amount": 10}


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("Brighten", Brighten)
