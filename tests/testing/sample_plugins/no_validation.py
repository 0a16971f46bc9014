"""Broken: accepts any parameter value when building and fails only at the first image."""
import gluon_augplug
from gluon_augplug import Transform


class Scale(Transform):
    """Multiply pixels by factor (never checked)."""

    def __init__(self, factor: float = 0.5):
        self.factor = factor

    def apply(self, img, layout):
        return (img * self.factor).astype(img.dtype)


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("Scale", Scale)
