"""Broken: a required parameter and no `example` to build it with."""
import gluon_augplug
from gluon_augplug import Transform


class Pad(Transform):
    """Pad by amount."""

    def __init__(self, amount):
        self.amount = amount

    def apply(self, img, layout):
        import numpy as np

        return np.pad(img, ((self.amount,) * 2, (self.amount,) * 2, (0, 0)))


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("Pad", Pad)
