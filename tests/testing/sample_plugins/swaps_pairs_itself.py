"""Defect: a flip whose own apply_keypoints also trades the first two rows, as a plugin written before flip_pairs
might: with the engine relabelling the declared pairs too, the left and right joints end up on the wrong dots."""

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
        out = points.copy()
        out[:, 0] = in_hw[1] - out[:, 0]
        out[[0, 1]] = out[[1, 0]]  # the defect: the pairs are the engine's to swap
        return out


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("FlipLR", FlipLR)
