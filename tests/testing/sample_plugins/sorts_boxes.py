"""Defect: a crop that returns its boxes sorted left to right, as a plugin author might who thinks their order
free: the engine ties instance masks to rows, so the masks then belong to other boxes."""

import numpy as np

import gluon_augplug
from gluon_augplug import Transform


class CropLeftTop(Transform):
    """Crop the top-left 112x88 pixels."""

    targets = "geometric"

    def apply(self, img, layout):
        return np.ascontiguousarray(img[:88, :112])

    def apply_boxes(self, boxes, params, in_hw, out_hw):
        out = boxes.copy()
        out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, 112)
        out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, 88)
        half = len(out) // 2  # the engine's rows: the boxes, then their unclipped copies
        order = np.argsort(out[:half, 0], kind="stable")
        return np.concatenate([out[:half][order], out[half:][order]])  # the defect: rows reordered

    def apply_mask(self, mask, params, in_hw, out_hw):
        return mask[:88, :112]

    def apply_keypoints(self, points, params, in_hw, out_hw):
        return points


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("CropLeftTop", CropLeftTop)
