"""Test-time augmentation around a network: every view of a batch through the model, each prediction mapped back
to the input's frame by the inverse of the view's map, and merged."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from ..targets.geometry import invert_affine, scale_matrix, warp_boxes
from .merge import activate, nms, reduce, shift_right, spread, swap_joints, weighted_box_fusion
from .ops import coverage, is_ndarray, output_grid, resize, spatial_hw, warp
from .views import REDUCES, View, ViewError, get_views

TASKS = ("classification", "video", "segmentation", "dense", "pose", "detection")
_DEFAULT_ACTIVATION = {"classification": "softmax", "video": "softmax", "segmentation": "softmax", "dense": None,
                       "pose": None, "detection": None}


@dataclass
class TTAResult:
    """What :meth:`TTA.predict` returns.

    Attributes
    ----------
    output : array or tuple
        The merged prediction, as :meth:`TTA.__call__` returns it.
    spread : array or None
        The standard deviation of every forward pass's prediction (of the first output), mapped back, around their
        mean: per class for class scores, per pixel and class for dense maps (weighted by where each view saw);
        None for boxes, for ``multi-eval`` (summed logits) and with ``predict(x, spread=False)``.
    views : int
        The forward passes made per input.
    """

    output: Any
    spread: Any
    views: int


def _tuple(y: Any) -> tuple:
    return tuple(y) if isinstance(y, (list, tuple)) else (y,)


def _raw_alone(views: View) -> View:
    """A view set that merges raw logits (``multi-eval``, GluonCV's arithmetic) as the whole tree: a list holding
    only it is unwrapped, one mixed with other views refused (their probabilities cannot be merged with its
    exponentiated logit sums)."""
    if views.raw_outputs:
        return views
    kids = views.children if isinstance(views.children, (list, tuple)) else []
    if not any(_has_raw(k) for k in kids):
        return views
    if len(kids) == 1 and views.name == "views":  # get_views([...]) of one item
        return _raw_alone(kids[0])
    raise ViewError("multi-eval reproduces MultiEvalModel's arithmetic on raw logits and cannot be merged with other "
                    "views; use multi-scale, which averages probabilities, to combine it with others")


def _has_raw(view: View) -> bool:
    kids = view.children if isinstance(view.children, (list, tuple)) else []
    return view.raw_outputs or any(_has_raw(k) for k in kids)


def _mirrors(matrix: np.ndarray) -> bool:
    return bool(matrix[0, 0] * matrix[1, 1] - matrix[0, 1] * matrix[1, 0] < 0)


class TTA:
    """A network with test-time augmentation: ``TTA(net, "flip")(batch)`` is the merged prediction.

    Parameters
    ----------
    model : HybridBlock or callable
        Takes a batch as the views make it (NCHW, or NCTHW clips; the network's normalized input) and returns
        class scores (N, K), dense maps (N, K, h, w) at any resolution (a pose network's heatmaps at a quarter of
        the input), a tuple of such, or GluonCV's detections ``(ids, scores, boxes)``.
    views : str, View or list
        A view set by name (``"flip"``, ``"ten-crop(224)"``, ``"multi-scale"``, ``"multi-eval"``...), a spec of
        geometric transforms, or a list of them: :func:`gluon_augplug.tta.get_views`.
    task : str
        ``classification`` (and ``video``): class scores, merged as they are. ``segmentation``, ``dense``:
        every output with two trailing spatial axes is warped back to the input's frame (at the output's own
        resolution) and merged where the views saw it. ``pose``: dense heatmaps whose left and right joints trade
        channels under a mirror (``joint_pairs``). ``detection``: boxes moved back by the inverse map, clipped,
        then merged by ``boxes``.
    merge : str or tuple of str, optional
        ``mean`` (default), ``gmean``, ``max``, ``sum`` or ``first`` (the first view's, e.g. CenterNet's offsets);
        one per output for a model with several outputs. A view set that reproduces a library's arithmetic
        (``multi-eval``) brings its own.
    activation : str or None, optional
        ``softmax`` or ``sigmoid`` of each view's outputs (along axis 1) before merging. Default: softmax for
        classification, video and segmentation; none otherwise, or for a view set that merges raw logits.
    ctx : list of mx.Context, optional
        The devices: each batch is split over them as ``split_and_load`` does and every part runs its views on
        its own device. Default: the batch's own.
    pad_value : float or sequence, optional
        The network-input value of pixels a view brings from outside the image (0: the mean pixel after
        normalization). A view set may bring its own (``multi-eval``: a black pixel, as GluonCV pads).
    joint_pairs : sequence of (int, int), optional
        ``task="pose"``: the left/right joint pairs (GluonCV's dataset ``joint_pairs``). Needed by views that
        mirror.
    shift : bool
        ``task="pose"``: shift a mirrored heatmap one pixel right after flipping it back, as GluonCV's
        ``flip_heatmap(..., shift=True)`` does (its ``--flip-test``); our maps are exact without it.
    boxes : str
        ``task="detection"``: ``nms`` (MXNet's ``box_nms``, per class) or ``wbf`` (weighted box fusion).
    iou : float
        The overlap above which boxes are suppressed (``nms``) or fused (``wbf``).
    max_boxes : int
        ``task="detection"``: boxes kept per image (the rest padded with -1, as GluonCV's detectors return).
    output_hw : (int, int) or callable, optional
        The size of the merged dense maps, or a function of the input's (height, width) giving it. By default a
        map comes back at the input's size times the network's output-to-input ratio, rounded; a network whose
        output is not proportional to its input (pooling that rounds up) may round otherwise than on the input
        itself, so give its size to have it exactly.
    """

    def __init__(self, model: Callable, views: Any = "flip", task: str = "classification", merge: Any = None,
                 activation: Any = "auto", ctx: Any = None, pad_value: Any = 0.0, joint_pairs: Any = None,
                 shift: bool = False, boxes: str = "nms", iou: float = 0.5, max_boxes: int = 100,
                 output_hw: Any = None):
        if task not in TASKS:
            raise ViewError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
        self.model = model
        self.views: View = _raw_alone(get_views(views))
        self.task = task
        merges = _tuple(merge) if merge is not None else ("mean",)
        for how in merges:
            if how not in REDUCES or how == "exp-sum":
                raise ViewError(f"merge must be one of mean, gmean, max, sum, first (one per output), got {how!r}")
        self.merge = merges
        if activation == "auto":
            activation = None if self.views.raw_outputs else _DEFAULT_ACTIVATION[task]
        if activation not in (None, "softmax", "sigmoid"):
            raise ViewError(f"activation must be softmax, sigmoid or None, got {activation!r}")
        self.activation = activation
        self.ctx = list(ctx) if isinstance(ctx, (list, tuple)) else ([ctx] if ctx is not None else None)
        self.pad_value = pad_value
        self.joint_pairs = [tuple(int(v) for v in p) for p in joint_pairs] if joint_pairs is not None else None
        self.shift = bool(shift)
        if boxes not in ("nms", "wbf"):
            raise ViewError(f"boxes must be nms or wbf, got {boxes!r}")
        if not 0 < float(iou) <= 1:
            raise ViewError(f"iou must be in (0, 1], got {iou!r}")
        self.boxes, self.iou = boxes, float(iou)
        if not isinstance(max_boxes, int) or max_boxes < 1:
            raise ViewError(f"max_boxes must be a whole number >= 1, got {max_boxes!r}")
        self.max_boxes = max_boxes
        if output_hw is not None and not callable(output_hw) and not (
                isinstance(output_hw, (tuple, list)) and len(output_hw) == 2
                and all(isinstance(v, int) and v > 0 for v in output_hw)):
            raise ViewError(f"output_hw must be (height, width) or a function of the input's (height, width), got "
                            f"{output_hw!r}")
        self.output_hw = output_hw
        self.align_corners = self.views.raw_outputs  # multi-eval resizes as GluonCV's _resize_image does
        if task == "pose" and self.joint_pairs is None and self._any_mirror((256, 192)):
            raise ViewError("pose views that mirror the image need joint_pairs (the dataset's left/right joint pairs, "
                            "GluonCV's dataset.joint_pairs): a mirrored left wrist's heatmap is the right wrist's")

    def _any_mirror(self, hw: tuple[int, int]) -> bool:
        try:
            return any(_mirrors(m) for _, m, _ in self.views.leaves(hw))
        except ViewError:
            return True

    # -- calling -------------------------------------------------------------------------------------------------
    def __call__(self, x: Any) -> Any:
        """The merged prediction for the batch ``x`` (same kind as the model's: one array, a tuple, or
        ``(ids, scores, boxes)``)."""
        return self.predict(x, spread=False).output

    def predict(self, x: Any, spread: bool = True) -> TTAResult:
        """The merged prediction with the views' spread (:class:`TTAResult`; ``spread=False`` leaves it out, and
        the work of mapping every view back on its own)."""
        if x.ndim < 4:
            raise ViewError(f"TTA takes a batch (N, C, H, W) or clips (N, C, T, H, W), got shape {tuple(x.shape)}")
        parts = self._split(x)
        results = [self._predict_part(p, spread) for p in parts]
        passes = len(self.views.leaves(spatial_hw(x)))
        if len(results) == 1:
            return TTAResult(results[0][0], results[0][1], passes)
        target = parts[0]
        outputs = self._gather([r[0] for r in results], target)
        spreads = None if results[0][1] is None else self._gather([r[1] for r in results], target)
        return TTAResult(outputs, spreads, passes)

    def _split(self, x: Any) -> list:
        if not self.ctx or not is_ndarray(x):
            return [x]
        from mxnet import gluon

        contexts = self.ctx[: max(1, min(len(self.ctx), int(x.shape[0])))]
        return gluon.utils.split_and_load(x, contexts, even_split=False)

    @staticmethod
    def _gather(values: list, like: Any) -> Any:
        import mxnet as mx

        if isinstance(values[0], tuple):
            return tuple(TTA._gather([v[i] for v in values], like) for i in range(len(values[0])))
        widest = max(int(v.shape[1]) for v in values) if values[0].ndim in (2, 3) else None
        if widest is not None:  # detections of unequal counts: pad with -1 as the detectors do
            values = [v if int(v.shape[1]) == widest else mx.nd.concat(
                v.as_in_context(like.context), -mx.nd.ones((v.shape[0], widest - v.shape[1]) + tuple(v.shape[2:]),
                                                            ctx=like.context, dtype=v.dtype), dim=1) for v in values]
        return mx.nd.concat(*[v.as_in_context(like.context) for v in values], dim=0)

    def _forward(self, x: Any) -> tuple:
        out = _tuple(self.model(x))
        if self.task == "detection":
            return out
        return tuple(activate(y, self.activation) if i == 0 or self.task in ("classification", "video") else y
                     for i, y in enumerate(out)) if self.activation else out

    def _how(self, node: View, i: int) -> str:
        if node.reduce:
            return node.reduce
        return self.merge[i] if i < len(self.merge) else self.merge[-1]

    def _predict_part(self, x: Any, want_spread: bool) -> tuple[Any, Any]:
        if self.task == "detection":
            return self._detect(x), None
        outputs, _, leaves = self._run(self.views, x, self.pad_value, want_spread and not self.views.raw_outputs)
        spread_of = None
        if leaves is not None:
            ref = spatial_hw(leaves[0][0]) if self._spatial(leaves[0][0]) else None
            leaves = [(resize(y, ref), resize(c, ref)) if ref and spatial_hw(y) != ref else (y, c) for y, c in leaves]
            spread_of = spread(leaves)
        if self.output_hw is not None:
            size = self.output_hw(spatial_hw(x)) if callable(self.output_hw) else self.output_hw
            size = (int(size[0]), int(size[1]))
            outputs = tuple(resize(y, size) if self._spatial(y) else y for y in outputs)
            if spread_of is not None and self._spatial(spread_of):
                spread_of = resize(spread_of, size)
        return (outputs[0] if len(outputs) == 1 else outputs), spread_of

    # -- class scores and dense maps --------------------------------------------------------------------------
    def _spatial(self, y: Any) -> bool:
        return self.task not in ("classification", "video") and y.ndim >= 3

    def _run(self, node: View, x: Any, fill: Any, leaves: bool = False) -> tuple:
        """Run ``node`` on ``x`` (its parent's frame): its outputs and their coverage, each mapped back to the
        parent's frame; with ``leaves``, also every forward pass's first output (and coverage) mapped back so."""
        matrix, out_hw = node.geometry(spatial_hw(x))
        fill = node.fill if node.fill is not None else fill
        view = warp(x, matrix, out_hw, fill, align_corners=self.align_corners)
        kids = node.children_for(out_hw)
        found: list | None = None
        if not kids:
            outputs: tuple = self._forward(view)
            covers: tuple = tuple(None for _ in outputs)
        else:
            parts = [self._run(kid, view, fill, leaves) for kid in kids]
            parts = [self._same_grid(p, parts[0]) for p in parts]
            merged = [reduce([(p[0][i], p[1][i]) for p in parts], self._how(node, i)) for i in range(len(parts[0][0]))]
            outputs, covers = tuple(m[0] for m in merged), tuple(m[1] for m in merged)
            if leaves:
                found = [self._back(y, c, spatial_hw(x), out_hw, matrix) for p in parts for y, c in p[2]]
        back = tuple(self._back(y, c, spatial_hw(x), out_hw, matrix) for y, c in zip(outputs, covers))
        if leaves and found is None:
            found = [back[0]]
        return tuple(b[0] for b in back), tuple(b[1] for b in back), found

    def _back(self, y: Any, cover: Any, parent_hw: tuple, out_hw: tuple, matrix: np.ndarray) -> tuple[Any, Any]:
        """One output of a view (and where the view saw, or None: all of it) moved back to the parent's frame, at
        the output's own resolution; a pose heatmap's joints trade channels under a mirror."""
        if not self._spatial(y):
            return y, None
        y_hw = spatial_hw(y)
        grid = output_grid(parent_hw, out_hw, y_hw)
        forward = scale_matrix(out_hw, y_hw) @ np.asarray(matrix, np.float64) @ scale_matrix(grid, parent_hw)
        inverse = invert_affine(forward)
        moved = warp(y, inverse, grid, 0.0, align_corners=self.align_corners)
        seen = coverage(y, y_hw, inverse, grid) if cover is None else warp(cover, inverse, grid, 0.0,
                                                                          align_corners=self.align_corners)
        if self.task == "pose" and _mirrors(matrix):
            if self.joint_pairs:
                moved = swap_joints(moved, self.joint_pairs)
            if self.shift and matrix[0, 0] < 0:  # GluonCV's shift follows a left-right mirror
                moved, seen = shift_right(moved), shift_right(seen)
        return moved, seen

    @staticmethod
    def _same_grid(part: tuple, like: tuple | None = None) -> tuple:
        """A child's outputs on the grid of the first child's (a network whose output size is not proportional to
        its input's rounds differently at each scale): resized where they differ. ``part`` and ``like`` are
        (outputs, covers, ...)."""
        if like is None:
            return part
        outputs, covers = part[0], part[1]
        fixed_outputs, fixed_covers = [], []
        for y, c, ref in zip(outputs, covers, like[0]):
            if c is not None and y.ndim >= 3 and spatial_hw(y) != spatial_hw(ref):
                y, c = resize(y, spatial_hw(ref)), resize(c, spatial_hw(ref))
            fixed_outputs.append(y)
            fixed_covers.append(c)
        return (tuple(fixed_outputs), tuple(fixed_covers)) + tuple(part[2:])

    # -- boxes --------------------------------------------------------------------------------------------------
    def _detect(self, x: Any) -> tuple:
        hw = spatial_hw(x)
        found: list[list[tuple]] = [[] for _ in range(int(x.shape[0]))]
        leaves = self.views.leaves(hw)
        flat = False  # CenterNet gives ids and scores as (N, K); SSD, YOLO and Faster R-CNN as (N, K, 1)
        for leaf_view, batch in self._leaf_batches(self.views, x, self.pad_value, np.eye(3)):
            outputs = _tuple(self.model(batch))
            if len(outputs) < 3:
                raise ViewError(f"task='detection' needs the model to return (ids, scores, boxes), as GluonCV's "
                                f"detectors do; it returned {len(outputs)} output(s)")
            ids, scores, boxes = (np.asarray(v.asnumpy() if is_ndarray(v) else v, np.float64) for v in outputs[:3])
            flat = ids.ndim == 2
            ids, scores = ids.reshape(ids.shape[0], -1), scores.reshape(scores.shape[0], -1)
            inverse = invert_affine(leaf_view)
            for i in range(len(found)):
                keep = (ids[i] >= 0) & (scores[i] >= 0)
                moved = warp_boxes(boxes[i, keep], inverse)
                moved[:, 0:4:2] = np.clip(moved[:, 0:4:2], 0, hw[1])
                moved[:, 1:4:2] = np.clip(moved[:, 1:4:2], 0, hw[0])
                real = (moved[:, 2] > moved[:, 0]) & (moved[:, 3] > moved[:, 1])
                found[i].append((ids[i, keep][real], scores[i, keep][real], moved[real]))
        merged = [self._merge_boxes(parts, len(leaves)) for parts in found]
        width = max(1, max(len(m[0]) for m in merged))
        out_ids = -np.ones((len(merged), width, 1), np.float32)
        out_scores = -np.ones((len(merged), width, 1), np.float32)
        out_boxes = -np.ones((len(merged), width, 4), np.float32)
        for i, (ids, scores, boxes) in enumerate(merged):
            out_ids[i, :len(ids), 0], out_scores[i, :len(ids), 0], out_boxes[i, :len(ids)] = ids, scores, boxes
        if flat:
            out_ids, out_scores = out_ids[..., 0], out_scores[..., 0]
        if is_ndarray(x):
            import mxnet as mx

            return tuple(mx.nd.array(a, ctx=x.context) for a in (out_ids, out_scores, out_boxes))
        return out_ids, out_scores, out_boxes

    def _leaf_batches(self, node: View, x: Any, fill: Any, composed: np.ndarray):
        matrix, out_hw = node.geometry(spatial_hw(x))
        fill = node.fill if node.fill is not None else fill
        view = warp(x, matrix, out_hw, fill)
        total = np.asarray(matrix, np.float64) @ composed
        kids = node.children_for(out_hw)
        if not kids:
            yield total, view
            return
        for kid in kids:
            yield from self._leaf_batches(kid, view, fill, total)

    def _merge_boxes(self, parts: list, views: int) -> tuple:
        ids = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0)
        scores = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0)
        boxes = np.concatenate([p[2] for p in parts]) if parts else np.zeros((0, 4))
        if self.boxes == "wbf":
            ids, scores, boxes = weighted_box_fusion(ids, scores, boxes, views, self.iou)
        else:
            keep = nms(ids, scores, boxes, self.iou)
            ids, scores, boxes = ids[keep], scores[keep], boxes[keep]
        return ids[: self.max_boxes], scores[: self.max_boxes], boxes[: self.max_boxes, :4]


def merged_views(views: Any, hw: Sequence[int]) -> list[str]:
    """The names of the forward passes ``views`` makes for an input of ``hw`` (for listings)."""
    return [leaf.name for leaf, _, _ in get_views(views).leaves((int(hw[0]), int(hw[1])))]
