"""The targets of one image on their way through a pipeline: boxes, masks and keypoints.

This is the one engine that moves targets: per-sample pipelines use one :class:`TargetState`, batch
pipelines one per sample (:mod:`gluon_augplug.batch.state`), so both follow the same rules. A box a step
drops is removed here; only at a batch's boundary does it become a -1 row (GluonCV's padding).
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .._deprecation import warn_deprecated
from ..errors import InputError, SpecError
from ..contract import hook
from .formats import TargetOptions, as_box_array, box_area, from_xyxy, to_xyxy
from .geometry import _UFUNC_CLIP, warp_boxes, warp_mask, warp_points
from .modes import TargetMode, geometry_only, target_mode, undeclared
from .polygons import as_polygons, flatten, unflatten

TARGET_KINDS = ("boxes", "masks", "keypoints", "polygons")


def __getattr__(name: str) -> Any:  # the names before 0.4, warning
    if name == "KINDS":
        warn_deprecated("gluon_augplug.targets.state.KINDS")
        return TARGET_KINDS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def check_kinds(kinds: Any, where: str = "") -> None:
    """Raise :class:`InputError` naming the first of ``kinds`` that is not a target kind (``where``: a prefix)."""
    unknown = sorted(set(kinds) - set(TARGET_KINDS))
    if unknown:
        raise InputError(f"{where}unknown target kind {unknown[0]!r}; the kinds are {', '.join(TARGET_KINDS)}")


class TargetState:
    """Boxes (pixel xyxy, extra columns kept), masks and keypoints of one image, moved step by step.

    Two copies of the boxes travel: ``boxes``, clipped to the image after every geometric step
    (when the options say so), and ``full``, never clipped, against which ``min_visibility``
    measures what is left. A step that drops a box (a NaN row) drops it from both.

    Consecutive flips, crops, pads and resizes (axis-aligned maps whose output lies inside the moved
    input, or which follow maps that lost nothing of the image) are composed and applied once:
    clipping commutes with them, so the result is the same as step by step, at the cost of one step
    (SSD's recipe has five geometric steps).
    """

    def __init__(self, hw: tuple[int, int], options: TargetOptions, boxes: Any = None, masks: Any = None,
                 keypoints: Any = None, track_left: bool = False, polygons: Any = None):
        self.hw: tuple[int, int] = (int(hw[0]), int(hw[1]))
        self.options = options
        self._pending: np.ndarray | None = None  # composed axis-aligned maps not yet applied
        self._pending_from: tuple[int, int] = self.hw  # the image size the pending maps start from
        self._rows: Any = None  # an (2N, 4+) array, or None: boxes, then full: one array, so that each step is one call
        self.ids = np.zeros(0, np.int64)
        self.left: np.ndarray | None = None
        self.mirrored = False  # a step mirrored the keypoints (whose left and right joints then trade places)
        self.masks: Any = None if masks is None else [_as_mask(m, self.hw, i) for i, m in enumerate(masks)]
        if boxes is not None:
            given = to_xyxy(as_box_array(boxes), options.box_format, self.hw)
            self._rows = np.concatenate([given, given])
            self.ids = np.arange(len(given))  # each remaining box's row in the input
        if options.instance_masks and self.masks is not None:
            _check_instance_masks(self.masks, self.boxes)
        # one list of polygons per instance, moved vertex by vertex; tied to the boxes' rows when boxes are given
        self.polygons: Any = None if polygons is None else as_polygons(polygons)
        if self.polygons is not None and self.boxes is not None and len(self.polygons) != len(self.boxes):
            raise InputError(f"polygons: {len(self.polygons)} instances for {len(self.boxes)} boxes; give one list of "
                             f"polygons per box, in the boxes' order")
        if boxes is not None and options.clip:
            self._clip()
        self.keypoints: Any = None
        if keypoints is not None:
            points = keypoints.asnumpy() if hasattr(keypoints, "asnumpy") else np.asarray(keypoints)
            if points.ndim != 2 or points.shape[1] < 2 or points.dtype.kind not in "fiu":
                raise InputError(f"keypoints: expected an (N, 2+) array of x, y (then any extra columns), "
                                 f"got shape {tuple(points.shape)}")
            self.keypoints = points.astype(np.float64)
            self.keypoint_ids = np.arange(len(points))  # each remaining point's joint: its row in the input
            self._swap = _swap_table(options.flip_pairs, len(points))
            # a batch keeps every point's row: those that left (or were -1 padding) are marked, not dropped
            self.left = np.all(self.keypoints[:, :2] == -1, axis=1) if track_left else None
            if options.keypoints_outside == "mark" and self.keypoints.shape[1] == 2:
                self.keypoints = np.hstack([self.keypoints, np.ones((len(self.keypoints), 1))])
            self._keypoints_outside()

    @property
    def boxes(self) -> Any:
        """The boxes as moved so far, clipped after each step (pixel xyxy, extra columns kept)."""
        return None if self._rows is None else self._rows[: len(self._rows) // 2]

    @property
    def full(self) -> Any:
        """The same boxes moved without clipping (the reference of ``min_visibility``)."""
        return None if self._rows is None else self._rows[len(self._rows) // 2:]

    def _keep(self, keep: np.ndarray) -> None:
        self._rows = np.concatenate([self.boxes[keep], self.full[keep]])
        self.ids = self.ids[keep]
        if self.options.instance_masks and self.masks is not None:  # a dropped box's mask goes with it, unwarped
            self.masks = [m for m, k in zip(self.masks, np.asarray(keep, bool).tolist()) if k]
        if self.polygons is not None:
            self.polygons = [p for p, k in zip(self.polygons, np.asarray(keep, bool).tolist()) if k]

    def kinds(self) -> list[str]:
        return [k for k, v in (("boxes", self.boxes), ("masks", self.masks), ("keypoints", self.keypoints),
                               ("polygons", self.polygons)) if v is not None]

    def view(self) -> np.ndarray:
        """The current boxes (pixel xyxy, (N, 4+)), for transforms whose sampling needs them: moved through the
        pending maps on a copy, so that the masks and keypoints stay composed."""
        if self._rows is None:
            return np.zeros((0, 4))
        if self._pending is None:
            return self.boxes.copy()
        rows = warp_boxes(self._rows, self._pending)
        boxes = rows[: len(rows) // 2]
        if self.options.clip:
            boxes = _clip_to(boxes, *self.hw)
            boxes = boxes[(boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])]
        return boxes.copy()

    # -- one step ----------------------------------------------------------------------
    def step(self, transform: Any, params: dict, in_hw: tuple[int, int], out_hw: tuple[int, int],
             matrix: np.ndarray | None = None) -> None:
        """Move the targets as ``transform`` moved the image (``params`` as it applied them); ``matrix`` is its
        ``geometry()`` for these parameters when the caller has it already (a batch's stacked maps)."""
        if self._rows is None and self.masks is None and self.keypoints is None and self.polygons is None:
            self.hw = (int(out_hw[0]), int(out_hw[1]))  # an image alone: nothing to move
            return
        mode = target_mode(transform)
        if mode is TargetMode.PIXEL:
            return
        if mode is not TargetMode.GEOMETRIC:
            raise SpecError(undeclared(transform))
        in_hw, out_hw = (int(in_hw[0]), int(in_hw[1])), (int(out_hw[0]), int(out_hw[1]))
        if geometry_only(transform):  # (the mode is geometric: moves_by_geometry's other half)
            keep_boxes = hook(transform, "keep_boxes")
            if keep_boxes is not None and self._rows is not None:
                self.flush()
                keep = np.asarray(keep_boxes(self.boxes, params, in_hw), bool)
                if not keep.all():
                    self._keep(keep)
            self.move(transform.geometry(params, in_hw, out_hw) if matrix is None else matrix, out_hw,
                      hook(transform, "mask_fill"))
            return
        self.flush()
        if self._rows is not None:
            self._rows = transform.apply_boxes(self._rows, params, in_hw, out_hw)
            dropped = np.isnan(self._rows[:, :4]).any(axis=1)
            half = len(dropped) // 2
            self._keep(~(dropped[:half] | dropped[half:]))
        if self.masks is not None:
            self.masks = [transform.apply_mask(m, params, in_hw, out_hw) for m in self.masks]
        if self.keypoints is not None:
            self._move_keypoints_by(transform, params, in_hw, out_hw)
        if self.polygons:
            self._move_polygons_by(transform, params, in_hw, out_hw)
        self.hw = out_hw
        if self._rows is not None and self.options.clip:
            self._clip()
        if self.keypoints is not None:
            self._keypoints_outside()

    def move(self, matrix: np.ndarray, out_hw: tuple[int, int], mask_fill: Any = 0) -> None:
        """Move every target by one step's 3x3 forward map (pixel edges) onto an ``out_hw`` image; mask pixels from
        outside the input get ``mask_fill`` (a step's ``mask_fill`` attribute: PadIfNeeded's ignore label)."""
        out_hw = (int(out_hw[0]), int(out_hw[1]))
        if mask_fill != 0 and self.masks is not None:  # its own fill: this step's masks cannot wait to be composed
            self.flush()
            masks = [warp_mask(m, matrix, out_hw, _mask_fill(m, mask_fill)) for m in self.masks]
            self.masks, before = None, self.ids
            self._pending, self.hw = matrix, out_hw
            self.flush()
            if self.options.instance_masks and len(self.ids) < len(before):  # the boxes this step dropped
                masks = [m for m, k in zip(masks, np.isin(before, self.ids).tolist()) if k]
            self.masks = masks
            return
        if _composable(matrix, self.hw, out_hw) or self._pending_keeps_all():
            if self._pending is None:
                self._pending_from = self.hw
            self._pending = matrix if self._pending is None else matrix @ self._pending
            self.hw = out_hw
            return
        self.flush()
        self._pending = matrix
        self.hw = out_hw
        self.flush()

    def _pending_keeps_all(self) -> bool:
        """The pending maps are axis-aligned and put the whole image they start from inside the current one (a
        flip, a resize, a pad): clipping to the current image would cut nothing, and they map boxes to boxes, so
        any next map (a crop, a rotation, a warp) composes with them exactly. This keeps GluonCV's segmentation
        recipe (resize, pad, crop) to one mask warp at the crop's size, and a pose recipe (flip, warp) to one
        move of its box and joints."""
        if self._pending is None:
            return True
        if not _axis_aligned(self._pending):
            return False
        (a, _, tx), (_, d, ty) = self._pending[:2].tolist()
        h0, w0 = self._pending_from
        h1, w1 = self.hw
        xs, ys = (tx, a * w0 + tx), (ty, d * h0 + ty)
        return min(xs) >= -1e-9 and max(xs) <= w1 + 1e-9 and min(ys) >= -1e-9 and max(ys) <= h1 + 1e-9

    def flush(self) -> None:
        """Apply the composed pending maps (boxes, masks, keypoints), then clip and drop as after a step."""
        if self._pending is None:
            return
        matrix, self._pending = self._pending, None
        if self._rows is not None:
            self._rows = warp_boxes(self._rows, matrix)
            if self.options.clip:
                self._clip()
        if self.masks is not None:
            self.masks = [warp_mask(m, matrix, self.hw) for m in self.masks]
        if self.polygons:
            self.polygons = unflatten(warp_points(flatten(self.polygons), matrix), self.polygons)
        if self.keypoints is not None:
            self.keypoints = warp_points(self.keypoints, matrix)
            (a, b), (c, d) = matrix[:2, :2].tolist()
            if a * d - b * c < 0:  # a mirror (np.linalg.det costs ten times this)
                self.mirrored = not self.mirrored
                if self._swap is not None:
                    self._mirror_ids()
            self._keypoints_outside()

    def _move_keypoints_by(self, transform: Any, params: dict, in_hw: tuple[int, int], out_hw: tuple[int, int]) -> None:
        """A step's own ``apply_keypoints``, with three probe points riding along: whether they come back turned the
        other way round tells a mirror (whose declared left and right joints then trade places), as a negative
        determinant does for ``geometry()``."""
        n, h, w = len(self.keypoints), in_hw[0], in_hw[1]
        probes = np.zeros((3, self.keypoints.shape[1]))
        probes[:, :2] = [[w * 0.25, h * 0.25], [w * 0.75, h * 0.25], [w * 0.25, h * 0.75]]
        moved = np.asarray(transform.apply_keypoints(np.vstack([self.keypoints, probes]), params, in_hw, out_hw))
        if moved.ndim != 2 or len(moved) != n + 3:  # it dropped points itself: the probes cannot be told apart
            self.keypoints = np.asarray(transform.apply_keypoints(self.keypoints, params, in_hw, out_hw))
            if len(self.keypoints) != len(self.keypoint_ids):  # which rows went is unknown: number them anew
                self.keypoint_ids = np.arange(len(self.keypoints))
            return
        self.keypoints = moved[:n]
        if _orientation(moved[n:, :2]) * _orientation(probes[:, :2]) < 0:
            self.mirrored = not self.mirrored
            if self._swap is not None:
                self._mirror_ids()

    def _move_polygons_by(self, transform: Any, params: dict, in_hw: tuple[int, int], out_hw: tuple[int, int]) -> None:
        """A step's own ``apply_keypoints`` on every vertex: one that drops a point (or loses it, NaN) would break
        an outline, so it cannot move polygons."""
        points = flatten(self.polygons)
        moved = np.asarray(transform.apply_keypoints(points, params, in_hw, out_hw), np.float64)
        kept = int((~np.isnan(moved[:, :2]).any(axis=1)).sum()) if moved.ndim == 2 else 0
        if kept != len(points) or len(moved) != len(points):
            raise SpecError(f"{getattr(transform, 'spec_name', type(transform).__name__)} cannot move polygons: its "
                            f"apply_keypoints dropped or lost vertices ({len(points)} in, {kept} came back)")
        self.polygons = unflatten(moved[:, :2], self.polygons)

    def _mirror_ids(self) -> None:
        """A mirror turns each declared left joint into its right one: relabel, then restore the rows' order."""
        assert self._swap is not None
        ids = self._swap[self.keypoint_ids]
        order = np.argsort(ids, kind="stable")
        self.keypoints, self.keypoint_ids = self.keypoints[order], ids[order]
        if self.left is not None:
            self.left = self.left[order]

    def _clip(self) -> None:
        h, w = self.hw
        boxes = _clip_to(self.boxes, h, w)  # a view: clips the first half in place
        keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        if not keep.all():
            self._keep(keep)

    def _keypoints_outside(self) -> None:
        mode = self.options.keypoints_outside
        if mode == "keep" and self.left is None:  # nothing to drop, mark or track
            return
        h, w = self.hw
        x, y = self.keypoints[:, 0], self.keypoints[:, 1]
        inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)  # a NaN fails every comparison: it is outside
        if inside.all():
            return
        outside = ~inside
        if self.left is not None:
            self.left |= outside
        if mode == "drop":
            self.keypoints = self.keypoints[~outside]
            self.keypoint_ids = self.keypoint_ids[~outside]
            if self.left is not None:
                self.left = self.left[~outside]
        elif mode == "mark":
            self.keypoints[outside, 2] = 0

    # -- the result ----------------------------------------------------------------------
    def result_boxes(self) -> np.ndarray:
        """The boxes in the caller's format after the final filters (min_area, min_visibility)."""
        return self.result_boxes_and_ids()[0]

    def result_masks(self) -> Any:
        """The masks as moved; with ``instance_masks``, those of the boxes :meth:`result_boxes` keeps, in its order."""
        self.flush()
        return self._of_kept_boxes(self.masks) if self.masks is not None and self.options.instance_masks else self.masks

    def result_polygons(self) -> Any:
        """The polygons as moved (not clipped: rasterising clips them); tied to boxes, those of the boxes
        :meth:`result_boxes` keeps, in its order."""
        self.flush()
        return self._of_kept_boxes(self.polygons) if self.polygons is not None and self._rows is not None \
            else self.polygons

    def _of_kept_boxes(self, items: list) -> list:
        """Of ``items`` (one per remaining box, in the order of ``ids``), those of the boxes the final filters keep."""
        ids = self.result_boxes_and_ids()[1]
        where = {i: k for k, i in enumerate(self.ids.tolist())}
        return [items[where[i]] for i in ids.tolist()]

    def result_boxes_and_ids(self) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`result_boxes`, and each kept box's row in the input."""
        self.flush()
        boxes, full = self.boxes, self.full
        options = self.options
        if options.clip and options.min_area == 0 and options.min_visibility == 0:  # already clipped, non-empty
            return from_xyxy(boxes.copy(), options.box_format, self.hw), self.ids
        h, w = self.hw
        visible = _clip_to(boxes[:, :4].copy(), h, w)
        area, full_area = box_area(visible), box_area(full)
        keep = area >= self.options.min_area
        if self.options.min_visibility > 0:
            keep &= area >= self.options.min_visibility * np.where(full_area > 0, full_area, np.inf)
        return from_xyxy(boxes[keep], self.options.box_format, self.hw), self.ids[keep]


def _orientation(points: np.ndarray) -> float:
    """The sign of the turn from the first point to the second and the third (negative once mirrored)."""
    (ax, ay), (bx, by), (cx, cy) = points[:3].tolist()
    return float(np.sign((bx - ax) * (cy - ay) - (by - ay) * (cx - ax)))


def _swap_table(pairs: tuple, n: int) -> np.ndarray | None:
    """The joint each joint becomes under a mirror (None: no pairs declared); one read-only table per pairs and
    count, made once (every sample of a pose data set has the same joints)."""
    if not pairs:
        return None
    try:
        return _cached_swap_table(pairs, n)  # TargetOptions made them a tuple of (int, int)
    except TypeError:  # unhashable: pairs given some other way
        return _make_swap_table(pairs, n)


@functools.lru_cache(maxsize=64)
def _cached_swap_table(pairs: tuple, n: int) -> np.ndarray:
    table = _make_swap_table(pairs, n)
    table.flags.writeable = False
    return table


def _make_swap_table(pairs: tuple, n: int) -> np.ndarray:
    table = np.arange(n)
    for i, j in pairs:
        if max(i, j) >= n:
            raise InputError(f"flip_pairs names keypoint row {max(i, j)}, but there are {n} keypoints (rows 0..{n - 1})")
        table[i], table[j] = j, i
    return table


def _axis_aligned(matrix: np.ndarray) -> bool:
    return bool(matrix[0, 1] == 0 and matrix[1, 0] == 0 and matrix[0, 0] != 0 and matrix[1, 1] != 0)


def _composable(matrix: np.ndarray, in_hw: tuple, out_hw: tuple) -> bool:
    """An axis-aligned map under which the input image covers the output image: clipping to the input
    before it, and to the output after it, is the same as clipping to the output after it alone."""
    (a, b, tx), (c, d, ty) = matrix[:2].tolist()
    if b != 0 or c != 0 or a == 0 or d == 0:
        return False
    for scale, shift, size_in, size_out in ((a, tx, in_hw[1], out_hw[1]), (d, ty, in_hw[0], out_hw[0])):
        end = scale * size_in + shift
        if min(shift, end) > 1e-9 or max(shift, end) < size_out - 1e-9:
            return False
    return True


def _clip_to(boxes: np.ndarray, h: float, w: float) -> np.ndarray:
    """Clip pixel xyxy boxes to a ``w`` x ``h`` image, in place (np.clip's checks cost more than the work)."""
    corners = boxes[:, :4]
    _UFUNC_CLIP(corners, 0.0, np.array((w, h, w, h), np.float64), out=corners)
    return boxes


def _mask_fill(mask: np.ndarray, fill: Any) -> Any:
    """``fill`` as a value of ``mask``'s dtype, or an InputError when the dtype cannot hold it."""
    if mask.dtype.kind in "iu":
        info = np.iinfo(mask.dtype)
        if not info.min <= fill <= info.max:
            raise InputError(f"mask_fill={fill} does not fit a mask of dtype {mask.dtype} (it holds {info.min}..{info.max}): "
                             f"give the masks a wider dtype or choose another mask_fill")
    elif mask.dtype == bool and fill not in (0, 1):
        raise InputError(f"mask_fill={fill} does not fit a boolean mask (0 or 1): give the masks an integer dtype")
    return fill


def _check_instance_masks(masks: list, boxes: Any) -> None:
    if boxes is None:
        raise InputError("instance_masks: the masks belong to boxes, one mask per box: pass the boxes too")
    if len(masks) != len(boxes):
        raise InputError(f"instance_masks: {len(masks)} masks for {len(boxes)} boxes; give one (H, W) mask per box, "
                         f"in the boxes' order")
    flat = [i for i, m in enumerate(masks) if m.ndim != 2]
    if flat:
        raise InputError(f"instance_masks: mask {flat[0]} has shape {tuple(masks[flat[0]].shape)}; each instance mask "
                         f"is one (H, W) array")


def _as_mask(mask: Any, hw: tuple[int, int], index: int) -> np.ndarray:
    array = mask.asnumpy() if hasattr(mask, "asnumpy") else np.asarray(mask)
    if array.ndim not in (2, 3) or tuple(array.shape[:2]) != tuple(hw):
        raise InputError(f"mask {index}: expected an (H, W) or (H, W, K) array of the image's size {hw[0]}x{hw[1]}, "
                         f"got shape {tuple(array.shape)}")
    return array
