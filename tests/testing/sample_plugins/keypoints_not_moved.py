"""Defect: a flip that moves boxes and masks but forgets the keypoints (its own apply_keypoints)."""

import numpy as np

import gluon_augplug
from gluon_augplug import Transform


class FlipLR(Transform):
    """Flip left-right, always."""

    targets = "geometric"

    def apply(self, img, layout):
        return np.ascontiguousarray(img[:, ::-1])

    def geometry(self, params, in_hw, out_hw):
        return np.array([[-1.0, 0.0, in_hw[1]], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])

    def apply_keypoints(self, points, params, in_hw, out_hw):
        return points.copy()  # the defect


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("FlipLR", FlipLR)
