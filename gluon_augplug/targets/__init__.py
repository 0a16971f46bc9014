"""Boxes, masks and keypoints that move with their image (detection, segmentation, pose).

A pipeline moves them when given: ``img, boxes = pipeline(img, boxes=boxes)``. Boxes are
(N, 4+) arrays in a :data:`BOX_FORMATS` format with any extra columns (class id, difficult
flag) travelling with their box; masks are (H, W) or (H, W, K) label arrays, moved by
nearest-neighbour sampling; keypoints are (N, 2+) arrays of x, y; polygons (one list per instance) move
vertex by vertex and :func:`rasterize_polygons` makes their masks. See :class:`TargetOptions`; GluonCV's pose labels
(``joints_3d``) are read and written by :mod:`gluon_augplug.targets.joints`.
"""
from .formats import BOX_FORMATS, TargetOptions, box_ious, from_xyxy, to_xyxy
from .geometry import crop_resize_matrix, flip_matrix, from_index_matrix, warp_boxes, warp_image, warp_mask, warp_points
from .joints import joints_3d_to_keypoints, keypoints_to_joints_3d, pose_box_to_xyxy, xyxy_to_pose_box
from .modes import TargetMode
from .polygons import rasterize_polygons
from .state import TARGET_KINDS, TargetState

__all__ = [
    "BOX_FORMATS",
    "TARGET_KINDS",
    "TargetMode",
    "TargetOptions",
    "TargetState",
    "box_ious",
    "crop_resize_matrix",
    "flip_matrix",
    "from_index_matrix",
    "from_xyxy",
    "joints_3d_to_keypoints",
    "keypoints_to_joints_3d",
    "pose_box_to_xyxy",
    "rasterize_polygons",
    "xyxy_to_pose_box",
    "to_xyxy",
    "warp_boxes",
    "warp_image",
    "warp_mask",
    "warp_points",
]


def __getattr__(name: str):  # the name before 0.4, warning
    if name == "KINDS":
        from . import state

        return state.KINDS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
