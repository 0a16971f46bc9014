"""Broken: writes into its input image."""
import gluon_augplug
from gluon_augplug import Transform


class Blackout(Transform):
    """Zero the first row (in place: the defect)."""

    def apply(self, img, layout):
        img[0] = 0
        return img


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("Blackout", Blackout)
