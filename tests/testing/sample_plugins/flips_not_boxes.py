"""Defect: a geometric transform whose image flips but whose geometry says nothing moved."""

import numpy as np

import gluon_augplug
from gluon_augplug import Transform


class Mirror(Transform):
    """Flip left-right with probability 0.5."""

    random = True
    targets = "geometric"

    def sample(self, rng, shape):
        return {"flip": bool(rng.random() < 0.5)}

    def apply(self, img, layout, flip=False):
        return np.ascontiguousarray(img[:, ::-1]) if flip else img

    def geometry(self, params, in_hw, out_hw):
        return np.eye(3)  # the defect: the boxes, masks and keypoints stay where they were


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("Mirror", Mirror)
