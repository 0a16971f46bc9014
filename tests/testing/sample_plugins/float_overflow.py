"""Defect: brightens float images past 255 (uint8 ones saturate, so only float input shows it)."""

import gluon_augplug
from gluon_augplug import Transform
from gluon_augplug import params as P


class Brighten(Transform):
    """Multiply by factor."""

    factor = P.Number(1.5, 0.0, 4.0)

    def apply(self, img, layout):
        import numpy as np

        if img.dtype == np.uint8:
            return np.clip(img * self.factor, 0, 255).astype(np.uint8)
        return (img * self.factor).astype(img.dtype)


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("Brighten", Brighten)
