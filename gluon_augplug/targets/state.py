"""The targets of one image on their way through a pipeline: boxes, masks and keypoints."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError, SpecError
from .formats import TargetOptions, as_box_array, box_area, from_xyxy, to_xyxy

KINDS = ("boxes", "masks", "keypoints")


class TargetState:
    """Boxes (pixel xyxy, extra columns kept), masks and keypoints of one image, moved step by step.

    Two copies of the boxes travel: ``boxes``, clipped to the image after every geometric step
    (when the options say so), and ``full``, never clipped, against which ``min_visibility``
    measures what is left. A step that drops a box (a NaN row) drops it from both.
    """

    def __init__(self, hw: tuple[int, int], options: TargetOptions, boxes: Any = None, masks: Any = None,
                 keypoints: Any = None):
        self.hw = tuple(hw)
        self.options = options
        self.boxes = self.full = None
        if boxes is not None:
            self.boxes = to_xyxy(as_box_array(boxes), options.box_format, self.hw)
            self.full = self.boxes.copy()
            if options.clip:
                self._clip()
        self.masks = None if masks is None else [_as_mask(m, self.hw, i) for i, m in enumerate(masks)]
        self.keypoints = None
        if keypoints is not None:
            points = keypoints.asnumpy() if hasattr(keypoints, "asnumpy") else np.asarray(keypoints)
            if points.ndim != 2 or points.shape[1] < 2 or points.dtype.kind not in "fiu":
                raise InputError(f"keypoints: expected an (N, 2+) array of x, y (then any extra columns), "
                                 f"got shape {tuple(points.shape)}")
            self.keypoints = points.astype(np.float64)
            if options.keypoints_outside == "mark" and self.keypoints.shape[1] == 2:
                self.keypoints = np.hstack([self.keypoints, np.ones((len(self.keypoints), 1))])
            self._keypoints_outside()

    def kinds(self) -> list[str]:
        return [k for k, v in (("boxes", self.boxes), ("masks", self.masks), ("keypoints", self.keypoints))
                if v is not None]

    def view(self) -> np.ndarray:
        """The current boxes (pixel xyxy, (N, 4+)), for transforms whose sampling needs them."""
        return self.boxes.copy() if self.boxes is not None else np.zeros((0, 4))

    # -- one step ----------------------------------------------------------------------
    def step(self, transform: Any, params: dict, in_hw: tuple[int, int], out_hw: tuple[int, int]) -> None:
        """Move the targets as ``transform`` moved the image (``params`` as it applied them)."""
        kind = getattr(transform, "targets", None)
        if kind == "pixel":
            return
        if kind != "geometric":
            raise SpecError(undeclared(transform))
        in_hw, out_hw = tuple(in_hw), tuple(out_hw)
        if self.boxes is not None:
            self.boxes = transform.apply_boxes(self.boxes, params, in_hw, out_hw)
            self.full = transform.apply_boxes(self.full, params, in_hw, out_hw)
            keep = ~(np.isnan(self.boxes[:, :4]).any(axis=1) | np.isnan(self.full[:, :4]).any(axis=1))
            self.boxes, self.full = self.boxes[keep], self.full[keep]
        if self.masks is not None:
            self.masks = [transform.apply_mask(m, params, in_hw, out_hw) for m in self.masks]
        if self.keypoints is not None:
            self.keypoints = transform.apply_keypoints(self.keypoints, params, in_hw, out_hw)
        self.hw = out_hw
        if self.boxes is not None and self.options.clip:
            self._clip()
        if self.keypoints is not None:
            self._keypoints_outside()

    def _clip(self) -> None:
        h, w = self.hw
        self.boxes[:, [0, 2]] = np.clip(self.boxes[:, [0, 2]], 0, w)
        self.boxes[:, [1, 3]] = np.clip(self.boxes[:, [1, 3]], 0, h)
        keep = (self.boxes[:, 2] > self.boxes[:, 0]) & (self.boxes[:, 3] > self.boxes[:, 1])
        self.boxes, self.full = self.boxes[keep], self.full[keep]

    def _keypoints_outside(self) -> None:
        h, w = self.hw
        x, y = self.keypoints[:, 0], self.keypoints[:, 1]
        outside = (x < 0) | (x >= w) | (y < 0) | (y >= h) | np.isnan(x) | np.isnan(y)
        mode = self.options.keypoints_outside
        if mode == "drop":
            self.keypoints = self.keypoints[~outside]
        elif mode == "mark":
            self.keypoints[outside, 2] = 0

    # -- the result ----------------------------------------------------------------------
    def result_boxes(self) -> np.ndarray:
        """The boxes in the caller's format after the final filters (min_area, min_visibility)."""
        boxes, full = self.boxes, self.full
        h, w = self.hw
        visible = boxes.copy()
        visible[:, [0, 2]] = np.clip(visible[:, [0, 2]], 0, w)
        visible[:, [1, 3]] = np.clip(visible[:, [1, 3]], 0, h)
        area, full_area = box_area(visible), box_area(full)
        keep = area >= self.options.min_area
        if self.options.min_visibility > 0:
            keep &= area >= self.options.min_visibility * np.where(full_area > 0, full_area, np.inf)
        return from_xyxy(boxes[keep], self.options.box_format, self.hw)


def _as_mask(mask: Any, hw: tuple[int, int], index: int) -> np.ndarray:
    array = mask.asnumpy() if hasattr(mask, "asnumpy") else np.asarray(mask)
    if array.ndim not in (2, 3) or tuple(array.shape[:2]) != tuple(hw):
        raise InputError(f"mask {index}: expected an (H, W) or (H, W, K) array of the image's size {hw[0]}x{hw[1]}, "
                         f"got shape {tuple(array.shape)}")
    return array


def undeclared(transform: Any) -> str:
    name = getattr(transform, "spec_name", type(transform).__name__)
    return (f"{name} does not say how it treats boxes, masks and keypoints: a transform used with targets "
            f"declares targets = 'pixel' (targets untouched) or 'geometric' (with geometry(), or apply_boxes/"
            f"apply_mask/apply_keypoints)")
