"""Broken: declared random, but its sample() ignores the rng and always returns the same thing."""
import gluon_augplug
from gluon_augplug import Transform


class AlwaysFlip(Transform):
    """Claims to flip at random."""

    random = True

    def sample(self, rng, shape):
        return {"flip": True}

    def apply(self, img, layout, flip=False):
        return img[:, ::-1].copy() if flip else img


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("AlwaysFlip", AlwaysFlip)
