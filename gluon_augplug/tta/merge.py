"""Merging the predictions of several views: class scores, dense maps (with how much of each pixel a view
covered), keypoint heatmaps and boxes. Each function takes MXNet NDArrays or numpy arrays alike."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .ops import is_ndarray

_TINY = 1e-12


def _exp(x: Any) -> Any:
    return x.exp() if is_ndarray(x) else np.exp(x)


def _log(x: Any) -> Any:
    return x.clip(_TINY, np.inf).log() if is_ndarray(x) else np.log(np.maximum(x, _TINY))


def _maximum(a: Any, b: Any) -> Any:
    if is_ndarray(a):
        import mxnet as mx

        return mx.nd.broadcast_maximum(a, b)
    return np.maximum(a, b)


def activate(x: Any, how: str | None, axis: int = 1) -> Any:
    """``softmax`` or ``sigmoid`` of a network's raw outputs (``None``: as they are)."""
    if how is None:
        return x
    if how == "softmax":
        if is_ndarray(x):
            return x.softmax(axis=axis)
        shifted = np.exp(x - x.max(axis=axis, keepdims=True))
        return shifted / shifted.sum(axis=axis, keepdims=True)
    if how == "sigmoid":
        return x.sigmoid() if is_ndarray(x) else 1.0 / (1.0 + np.exp(-x))
    raise ValueError(f"activation must be softmax, sigmoid or None, got {how!r}")


def reduce(parts: Sequence[tuple[Any, Any]], how: str) -> tuple[Any, Any]:
    """Merge ``(output, coverage)`` pairs (coverage: how much of each pixel the view saw, 0-1, broadcastable;
    None for outputs without pixels) into one pair.

    ``mean`` weighs each view by its coverage; ``gmean`` is the coverage-weighted mean of logarithms,
    exponentiated; ``max``, ``sum`` and ``first`` are what they say; ``exp-sum`` is GluonCV's flip inference
    (the outputs summed, then exponentiated)."""
    outputs = [p[0] for p in parts]
    covers = [p[1] for p in parts]
    dense = covers[0] is not None
    if how == "first":
        return outputs[0], covers[0]
    if how in ("sum", "exp-sum", "max"):
        total = outputs[0]
        for y in outputs[1:]:
            total = _maximum(total, y) if how == "max" else total + y
        cover = None
        if dense:
            cover = covers[0]
            for c in covers[1:]:
                cover = _maximum(cover, c)
        return (_exp(total) if how == "exp-sum" else total), cover
    if how not in ("mean", "gmean"):
        raise ValueError(f"merge must be one of mean, gmean, max, sum, first, exp-sum, got {how!r}")
    if not dense:
        values = outputs if how == "mean" else [_log(y) for y in outputs]
        total = values[0]
        for y in values[1:]:
            total = total + y
        mean = total / len(values)
        return (mean if how == "mean" else _exp(mean)), None
    num: Any = None
    den: Any = None
    for y, c in zip(outputs, covers):
        term = y if how == "mean" else _log(y) * c
        num = term if num is None else num + term
        den = c if den is None else den + c
    safe = den.clip(_TINY, np.inf) if is_ndarray(den) else np.maximum(den, _TINY)
    mean = num / safe
    seen = (den > 1e-6) * 1.0
    mean = mean * seen  # nothing where no view looked
    return (mean if how == "mean" else _exp(mean) * seen), seen


def spread(parts: Sequence[tuple[Any, Any]]) -> Any:
    """The standard deviation of the views' outputs around their mean: ``(output, coverage)`` pairs, each view's
    output mapped back to the input's frame; dense maps weighted by coverage (a pixel counts the views that saw
    it)."""
    covers = [p[1] for p in parts]
    if covers[0] is None:
        mean = parts[0][0]
        for y, _ in parts[1:]:
            mean = mean + y
        mean = mean / len(parts)
        total: Any = None
        for y, _ in parts:
            total = (y - mean) ** 2 if total is None else total + (y - mean) ** 2
        return (total / len(parts)) ** 0.5
    num: Any = None
    weight: Any = None
    for y, c in parts:
        num = y if num is None else num + y
        weight = c if weight is None else weight + c
    safe = weight.clip(_TINY, np.inf) if is_ndarray(weight) else np.maximum(weight, _TINY)
    mean = num / safe
    total = None
    for y, c in parts:  # y is 0 where its view saw nothing, and so is c
        term = (y - mean * c) ** 2
        total = term if total is None else total + term
    return (total / safe) ** 0.5


def swap_joints(heatmaps: Any, joint_pairs: Sequence[Sequence[int]]) -> Any:
    """Heatmaps (N, K, h, w) with the channels of each left/right joint pair exchanged (what a mirror does)."""
    order = list(range(int(heatmaps.shape[1])))
    for a, b in joint_pairs:
        order[a], order[b] = order[b], order[a]
    if is_ndarray(heatmaps):
        import mxnet as mx

        return mx.nd.take(heatmaps, mx.nd.array(order, ctx=heatmaps.context), axis=1)
    return heatmaps[:, order]


def shift_right(x: Any) -> Any:
    """GluonCV's one-pixel shift after flipping a heatmap back (``flip_heatmap(..., shift=True)``): column j takes
    column j - 1's values, the first column keeps its own."""
    if is_ndarray(x):
        import mxnet as mx

        last = x.ndim - 1
        return mx.nd.concat(x.slice_axis(axis=last, begin=0, end=1), x.slice_axis(axis=last, begin=0, end=-1),
                            dim=last)
    out = x.copy()
    out[..., 1:] = x[..., :-1]
    return out


# -- boxes -------------------------------------------------------------------------------------------------------
def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box of ``a`` (N, 4) with every box of ``b`` (M, 4), pixel xyxy."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:4], b[None, :, 2:4])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:4] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:4] - b[:, :2], 0, None), axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None] - inter, _TINY)


def nms(ids: np.ndarray, scores: np.ndarray, boxes: np.ndarray, iou: float = 0.5, topk: int = -1,
        force_suppress: bool = False) -> np.ndarray:
    """Indices kept by non-maximum suppression, best first (per class unless ``force_suppress``): MXNet's
    ``box_nms`` when MXNet is installed, the same rule in numpy otherwise."""
    if not len(scores):
        return np.zeros(0, np.int64)
    try:
        import mxnet as mx
    except ImportError:
        mx = None
    if mx is not None:
        data = np.concatenate([ids[:, None], scores[:, None], boxes[:, :4], np.arange(len(scores))[:, None]], axis=1)
        out = mx.nd.contrib.box_nms(mx.nd.array(data[None]), overlap_thresh=iou, valid_thresh=-np.inf, topk=topk,
                                    coord_start=2, score_index=1, id_index=0, force_suppress=force_suppress,
                                    in_format="corner", out_format="corner").asnumpy()[0]
        kept = out[out[:, 1] > -1]  # box_nms marks suppressed rows -1
        kept = kept[(kept[:, 0] >= 0) | force_suppress]
        return kept[:, 6].astype(np.int64)
    order = np.argsort(-scores, kind="stable")
    if topk > 0:
        order = order[:topk]
    keep: list[int] = []
    for i in order:
        if any((force_suppress or ids[j] == ids[i]) and iou_matrix(boxes[i:i + 1], boxes[j:j + 1])[0, 0] > iou
               for j in keep):
            continue
        keep.append(int(i))
    return np.asarray(keep, np.int64)


def weighted_box_fusion(ids: np.ndarray, scores: np.ndarray, boxes: np.ndarray, views: int,
                        iou: float = 0.55) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted box fusion (Solovyev et al., 2021): per class, boxes that overlap a cluster's fused box by more
    than ``iou`` join it; a cluster's box is the score-weighted mean of its boxes, its score their mean score
    times the share of the ``views`` that found it."""
    out_ids, out_scores, out_boxes = [], [], []
    for cls in np.unique(ids):
        sel = np.flatnonzero(ids == cls)
        sel = sel[np.argsort(-scores[sel], kind="stable")]
        clusters: list[list[int]] = []
        fused: list[np.ndarray] = []
        for i in sel:
            if fused:
                overlap = iou_matrix(boxes[i:i + 1, :4], np.asarray(fused))[0]
                best = int(np.argmax(overlap))
                if overlap[best] > iou:
                    clusters[best].append(int(i))
                    members = clusters[best]
                    w = scores[members]
                    fused[best] = (boxes[members, :4] * w[:, None]).sum(0) / max(w.sum(), _TINY)
                    continue
            clusters.append([int(i)])
            fused.append(boxes[i, :4].astype(np.float64))
        for members, box in zip(clusters, fused):
            out_ids.append(cls)
            out_scores.append(scores[members].mean() * min(len(members), views) / views)
            out_boxes.append(box)
    if not out_ids:
        return np.zeros(0), np.zeros(0), np.zeros((0, 4))
    order = np.argsort(-np.asarray(out_scores), kind="stable")
    return np.asarray(out_ids)[order], np.asarray(out_scores)[order], np.asarray(out_boxes)[order]
