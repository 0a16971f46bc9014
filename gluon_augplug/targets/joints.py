"""GluonCV's pose labels: ``joints_3d`` arrays and person boxes, read into keypoints and boxes and written back.

GluonCV's pose data sets (``COCOKeyPoints``) give ``(img, {"bbox": (xmin, ymin, xmax, ymax), "joints_3d": (K, 3, 2)},
img_id)``: ``joints_3d[:, :, 0]`` are x, y, z and ``joints_3d[:, :, 1]`` their visibility flags. Their numbers are
pixel indices (a flip maps x to ``width - 1 - x``), where keypoints and boxes here are edge coordinates (``width -
x``): reading adds half a pixel, writing takes it off, so a pipeline of flips and warps gives GluonCV's numbers.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError

MAX_JOINTS = 10_000


def joints_3d_to_keypoints(joints_3d: Any) -> np.ndarray:
    """A ``(K, 3, 2)`` joints_3d array as ``(K, 6)`` keypoints: x, y (edge coordinates), z, then the three
    visibility flags, one row per joint.

    Examples
    --------
    >>> joints = np.zeros((2, 3, 2)); joints[0, :2] = [[10, 1], [20, 1]]
    >>> joints_3d_to_keypoints(joints)[0].tolist()
    [10.5, 20.5, 0.0, 1.0, 1.0, 0.0]
    """
    joints = joints_3d.asnumpy() if hasattr(joints_3d, "asnumpy") else np.asarray(joints_3d)
    if joints.ndim != 3 or joints.shape[1:] != (3, 2) or joints.dtype.kind not in "fiu" or len(joints) > MAX_JOINTS:
        raise InputError(f"joints_3d: expected a (K, 3, 2) array of numbers (x, y, z and their visibility, K <= "
                         f"{MAX_JOINTS:,}), got shape {tuple(joints.shape)} of {joints.dtype}")
    joints = joints.astype(np.float64)
    if not np.isfinite(joints).all():
        raise InputError("joints_3d: the joints must be finite numbers")
    points = np.concatenate([joints[:, :, 0], joints[:, :, 1]], axis=1)
    points[:, :2] += 0.5
    return points


def keypoints_to_joints_3d(keypoints: np.ndarray) -> np.ndarray:
    """The inverse of :func:`joints_3d_to_keypoints`, as float32 (GluonCV's dtype); a joint whose first
    visibility flag is 0 comes back at (0, 0), as COCO writes invisible joints and GluonCV's flip leaves them."""
    points = np.asarray(keypoints, np.float64)
    joints = np.zeros((len(points), 3, 2), np.float32)
    joints[:, :, 0] = points[:, :3]
    joints[:, :2, 0] -= 0.5
    joints[:, :, 1] = points[:, 3:6]
    joints[joints[:, 0, 1] <= 0, :2, 0] = 0
    return joints


def pose_box_to_xyxy(bbox: Any) -> np.ndarray:
    """A GluonCV pose box ``(xmin, ymin, xmax, ymax)`` in pixel indices as a (1, 4) edge-coordinate box array."""
    box = np.asarray(bbox.asnumpy() if hasattr(bbox, "asnumpy") else bbox, np.float64).reshape(-1)
    if box.shape != (4,) or not np.isfinite(box).all():
        raise InputError(f"bbox: expected 4 finite numbers (xmin, ymin, xmax, ymax), got {np.asarray(bbox).tolist()!r}")
    return (box + 0.5)[None, :]


def xyxy_to_pose_box(boxes: np.ndarray) -> tuple[float, float, float, float]:
    """The inverse of :func:`pose_box_to_xyxy`: the first box as GluonCV's ``(xmin, ymin, xmax, ymax)`` tuple."""
    x0, y0, x1, y1 = (float(v) - 0.5 for v in np.asarray(boxes)[0, :4])
    return x0, y0, x1, y1
