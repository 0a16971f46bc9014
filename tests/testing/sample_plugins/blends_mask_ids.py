"""Defect: a resize that moves masks with bilinear interpolation, inventing class ids between 0 and 7."""

import cv2
import numpy as np

import gluon_augplug
from gluon_augplug import Transform


class Shrink(Transform):
    """Resize to half size."""

    targets = "geometric"

    def apply(self, img, layout):
        return cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_LINEAR)

    def geometry(self, params, in_hw, out_hw):
        return np.diag([out_hw[1] / in_hw[1], out_hw[0] / in_hw[0], 1.0])

    def apply_mask(self, mask, params, in_hw, out_hw):
        return cv2.resize(mask, (out_hw[1], out_hw[0]), interpolation=cv2.INTER_LINEAR)  # the defect


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("Shrink", Shrink)
