"""Defect as a test-time view: a geometric transform whose map cannot be inverted (every row becomes the middle
row), so predictions on its output cannot be mapped back."""

import numpy as np

import gluon_augplug
from gluon_augplug import Transform


class SmearRows(Transform):
    """Every row of the output is the image's middle row."""

    target_mode = "geometric"

    def sample(self, rng, shape):
        return {}

    def apply(self, img, layout):
        return np.ascontiguousarray(np.repeat(img[img.shape[0] // 2][None], img.shape[0], axis=0))

    def geometry(self, params, in_hw, out_hw):
        return np.array([[1.0, 0.0, 0.0], [0.0, 0.0, in_hw[0] / 2], [0.0, 0.0, 1.0]])  # y -> H / 2 for every y


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("SmearRows", SmearRows)
