"""Defect: reads float images as 0-1 (albumentations 1.x's convention), where gluon_augplug's are 0-255."""

import numpy as np

import gluon_augplug
from gluon_augplug import Transform
from gluon_augplug import params as P


class Gamma(Transform):
    """Raise to a power, on a scale read from the dtype."""

    gamma = P.Number(0.8, 0.1, 5.0)

    def apply(self, img, layout):
        top = 255.0 if img.dtype == np.uint8 else 1.0  # the defect: floats taken as 0-1
        out = (np.clip(img / top, 0, 1) ** self.gamma) * top
        return out.round().astype(np.uint8) if img.dtype == np.uint8 else out.astype(img.dtype)


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("Gamma", Gamma)
