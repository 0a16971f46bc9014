"""Box formats and the options that say how boxes and keypoints are kept.

Inside a pipeline boxes are pixel ``xmin, ymin, xmax, ymax`` in edge coordinates: the image
spans ``[0, W] x [0, H]``, so a horizontal flip maps ``x`` to ``W - x`` (GluonCV's and Pascal
VOC's convention, as GluonCV's ``bbox.flip`` computes it). Keypoints use the same coordinates.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError, ParameterError

BOX_FORMATS = {
    "xyxy": "pixel xmin, ymin, xmax, ymax (GluonCV, Pascal VOC)",
    "coco": "pixel x, y, width, height (COCO)",
    "yolo": "normalized center x, center y, width, height (YOLO)",
    "xyxy_norm": "normalized xmin, ymin, xmax, ymax (albumentations)",
}
_ALIASES = {"pascal_voc": "xyxy", "voc": "xyxy", "gluoncv": "xyxy", "albumentations": "xyxy_norm"}
KEYPOINTS_OUTSIDE = ("drop", "mark", "keep")


def box_format(name: Any) -> str:
    """The canonical name of a box format (aliases: pascal_voc, voc, gluoncv, albumentations)."""
    key = _ALIASES.get(name, name) if isinstance(name, str) else None
    if key not in BOX_FORMATS:
        allowed = ", ".join(list(BOX_FORMATS) + list(_ALIASES))
        raise ParameterError("TargetOptions", "box_format", name, f"one of {allowed}")
    return key


@dataclass(frozen=True)
class TargetOptions:
    """How boxes and keypoints are read, kept and dropped (albumentations' ``bbox_params`` options).

    Parameters
    ----------
    box_format : str
        ``"xyxy"`` (default: pixel corners, GluonCV/VOC), ``"coco"``, ``"yolo"`` or ``"xyxy_norm"``.
    clip : bool
        Clip boxes to the image after every geometric step (a box entirely outside is dropped).
    min_area : float
        Drop a box whose final area is below this many square pixels.
    min_visibility : float
        Drop a box of which less than this fraction remains inside the image (measured against the
        same box transformed without clipping).
    keypoints_outside : str
        A keypoint that leaves the image is dropped (``"drop"``), kept with its visibility column
        set to 0 (``"mark"``: a third column is appended to ``(N, 2)`` keypoints), or kept (``"keep"``).
    flip_pairs : sequence of (int, int)
        Rows of the keypoints that trade places when a step mirrors the image (a flip, or any map of negative
        determinant): the left and right joints of a skeleton, GluonCV's ``joint_pairs``
        (``COCOKeyPoints.joint_pairs``). Rows are those of the keypoints as given; after a mirror the point that was
        joint ``i`` is joint ``j``. Empty (the default): rows keep their ids, as albumentations does.
    instance_masks : bool
        The masks are one (H, W) mask per box, in the boxes' order (Mask R-CNN's ``(N, H, W)`` instance masks): a box
        a step drops (or the final filters drop) takes its mask with it, so the masks that come back are those of
        the boxes that come back, in their order. Default False: masks are label maps, independent of the boxes.
    """

    box_format: str = "xyxy"
    clip: bool = True
    min_area: float = 0.0
    min_visibility: float = 0.0
    keypoints_outside: str = "drop"
    flip_pairs: Any = ()
    instance_masks: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "flip_pairs", _flip_pairs(self.flip_pairs))
        if not isinstance(self.instance_masks, bool):
            raise ParameterError("TargetOptions", "instance_masks", self.instance_masks, "True or False")
        object.__setattr__(self, "box_format", box_format(self.box_format))
        if not isinstance(self.clip, bool):
            raise ParameterError("TargetOptions", "clip", self.clip, "True or False")
        for name, upper in (("min_area", None), ("min_visibility", 1.0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1e300 < value < 1e300 \
                    or value != value or value < 0 or (upper is not None and value > upper):
                raise ParameterError("TargetOptions", name, value,
                                     "a number in [0, 1]" if upper else "a number >= 0")
        if self.keypoints_outside not in KEYPOINTS_OUTSIDE:
            raise ParameterError("TargetOptions", "keypoints_outside", self.keypoints_outside,
                                 f"one of {', '.join(KEYPOINTS_OUTSIDE)}")

    @classmethod
    def of(cls, value: Any) -> "TargetOptions":
        """``None`` (the defaults), a dict of options, or a TargetOptions."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                raise InputError(f"target options: the names must be strings, got {sorted(map(repr, value))[:3]}")
            unknown = set(value) - set(cls.__dataclass_fields__)
            if unknown:
                from ..errors import closest_names

                name = sorted(unknown)[0]
                hint = closest_names(name, cls.__dataclass_fields__)
                raise InputError(f"unknown target option {name!r}" + (f"; did you mean {hint[0]!r}?" if hint else ""))
            return cls(**value)
        raise InputError(f"target options: expected None, a dict or TargetOptions, got {type(value).__name__}")


def _flip_pairs(value: Any) -> tuple[tuple[int, int], ...]:
    allowed = "pairs (i, j) of distinct keypoint rows >= 0, each row in at most one pair"
    if hasattr(value, "tolist"):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise ParameterError("TargetOptions", "flip_pairs", value, allowed)
    pairs: list[tuple[int, int]] = []
    seen: set[int] = set()
    for pair in value:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not all(
                isinstance(v, (int, np.integer)) and not isinstance(v, bool) and 0 <= v < MAX_BOXES for v in pair) \
                or pair[0] == pair[1] or {int(pair[0]), int(pair[1])} & seen:
            raise ParameterError("TargetOptions", "flip_pairs", value, allowed + f" (the pair {pair!r} is not)")
        seen |= {int(pair[0]), int(pair[1])}
        pairs.append((int(pair[0]), int(pair[1])))
    return tuple(pairs)


MAX_BOXES = 100_000  # for one image: COCO's most crowded has under 100; each box is copied a few times per step


def as_box_array(boxes: Any, where: str = "boxes") -> np.ndarray:
    """``boxes`` as a float64 (N, 4+) array (a copy), with a clear error for anything else."""
    array = boxes.asnumpy() if hasattr(boxes, "asnumpy") else np.asarray(boxes)
    if array.ndim == 1 and array.size == 0:
        array = array.reshape(0, 4)
    if array.ndim != 2 or array.shape[1] < 4:
        raise InputError(f"{where}: expected an (N, 4+) array of boxes (4 coordinates, then any extra columns "
                         f"such as the class id), got shape {tuple(array.shape)}")
    if array.dtype.kind not in "fiu":
        raise InputError(f"{where}: expected numbers, got {array.dtype}")
    if len(array) > MAX_BOXES or array.shape[1] > 64:
        raise InputError(f"{where}: {len(array):,} boxes of {array.shape[1]} columns, more than the limit of "
                         f"{MAX_BOXES:,} boxes of at most 64 columns for one image")
    array = array.astype(np.float64)
    if not np.isfinite(array[:, :4]).all():
        raise InputError(f"{where}: box coordinates must be finite")
    return array


def to_xyxy(boxes: np.ndarray, fmt: str, hw: tuple[int, int]) -> np.ndarray:
    """Boxes of format ``fmt`` on an image of ``hw`` (height, width) to pixel xyxy (extra columns kept);
    xyxy boxes come back as they are, other formats as a new array."""
    if fmt == "xyxy":
        return boxes
    out = boxes.copy()
    h, w = hw
    if fmt == "coco":
        out[:, 2:4] = boxes[:, :2] + boxes[:, 2:4]
    elif fmt == "yolo":
        cx, cy, bw, bh = (boxes[:, i] for i in range(4))
        out[:, 0], out[:, 2] = (cx - bw / 2) * w, (cx + bw / 2) * w
        out[:, 1], out[:, 3] = (cy - bh / 2) * h, (cy + bh / 2) * h
    elif fmt == "xyxy_norm":
        out[:, [0, 2]] *= w
        out[:, [1, 3]] *= h
    return out


def from_xyxy(boxes: np.ndarray, fmt: str, hw: tuple[int, int]) -> np.ndarray:
    """The inverse of :func:`to_xyxy` (xyxy boxes come back as they are)."""
    if fmt == "xyxy":
        return boxes
    out = boxes.copy()
    h, w = hw
    if fmt == "coco":
        out[:, 2:4] = boxes[:, 2:4] - boxes[:, :2]
    elif fmt == "yolo":
        x0, y0, x1, y1 = (boxes[:, i] for i in range(4))
        out[:, 0], out[:, 1], out[:, 2], out[:, 3] = (x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h
    elif fmt == "xyxy_norm":
        out[:, [0, 2]] /= w
        out[:, [1, 3]] /= h
    return out


def box_area(boxes: np.ndarray) -> np.ndarray:
    return np.maximum(boxes[:, 2] - boxes[:, 0], 0) * np.maximum(boxes[:, 3] - boxes[:, 1], 0)


def box_ious(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The (len(a), len(b)) IoUs of two sets of pixel xyxy boxes (4+ columns each)."""
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:4], b[None, :, 2:4])
    inter = np.prod(np.maximum(bottom_right - top_left, 0), axis=2)
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def declared_targets(targets: Any) -> tuple[tuple[str, ...], TargetOptions]:
    """``targets=`` of build_pipeline and BatchPipeline: None, a kind ("boxes"), kinds, TargetOptions, or
    {"kinds": [...], "options": {...}}: the kinds to check at build time and the options."""
    if targets is None:
        return (), TargetOptions()
    if isinstance(targets, TargetOptions):
        return (), targets
    if isinstance(targets, str):
        return (targets,), TargetOptions()
    if isinstance(targets, dict):
        kinds = targets.get("kinds", ())
        return (tuple([kinds]) if isinstance(kinds, str) else tuple(kinds)), TargetOptions.of(targets.get("options"))
    if isinstance(targets, (list, tuple)):
        return tuple(targets), TargetOptions()
    raise InputError(f"targets: expected a kind ('boxes', 'masks', 'keypoints'), a list of them, or "
                     f"{{'kinds': [...], 'options': {{...}}}}, got {type(targets).__name__}")
