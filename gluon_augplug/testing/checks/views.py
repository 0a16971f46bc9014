"""The harness's check of a geometric transform as a test-time view (see :mod:`gluon_augplug.tta`): its drawn
``geometry()`` undone, a label mask and a box sent through the view and back."""
from __future__ import annotations

import numpy as np

from ...contract import hook
from ...errors import AugplugError
from ...pipeline.build import build_pipeline
from ...targets.geometry import invert_affine, warp_boxes
from ...targets.modes import TargetMode, overrides, target_mode
from ...tta.merge import iou_matrix
from ...tta.ops import axis_aligned, coverage, warp
from ...tta.views import spec_view

from .registry import SEEDS as _SEEDS, Skip, check
from .targets import _painted_scene
from ..context import CheckContext


def _band(labels: np.ndarray, width: int) -> np.ndarray:
    """The pixels within ``width`` of a change of label: where a resampled label map may differ."""
    import cv2

    edges = np.zeros(labels.shape, np.uint8)
    edges[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edges[1:, :] |= labels[1:, :] != labels[:-1, :]
    kernel = np.ones((2 * width + 1, 2 * width + 1), np.uint8)
    return cv2.dilate(edges, kernel) > 0


@check("views", per_sample=True, doc=(
    'test-time views: a ``"geometric"`` transform with ``geometry()`` is a view with no code of its own (its draw '
    'for a seed); for each seed the map must be finite, affine and invertible, the view warped by the map must be '
    'what ``apply()`` makes (to the pixel for flips and whole-pixel shifts, 90% of the painted rectangle '
    'otherwise), a label mask sent through the view and back must be recovered wherever the view saw it, except '
    'within the interpolation\'s reach of a label edge, and the painted rectangle found in the view must come back '
    'with IoU >= 0.9 against the box moved there and back by the map (which a rotation or shear enlarges), or '
    'within a pixel of the view (1 / scale pixels of the image) where the view is small; other transforms are '
    'skipped (a pixel op is no view)'))
def check_views(ctx: CheckContext) -> str | None:
    t = ctx.transform()
    if target_mode(t) is not TargetMode.GEOMETRIC or not overrides(t, "geometry"):
        raise Skip("has no geometry() map: it cannot be a test-time view")
    if ctx.takes_tensors():
        raise Skip("works on tensors, after ToTensor")
    if not hook(t, "pixels_follow_geometry"):
        raise Skip("its pixels do not follow geometry() alone (pixels_follow_geometry = False): it is no view")
    try:
        pipe = build_pipeline([ctx.item], registry=ctx.registry)
    except AugplugError as exc:
        return str(exc)
    img, boxes, mask, _ = _painted_scene()
    hw = (int(img.shape[0]), int(img.shape[1]))
    one_hot = np.stack([mask == 0, mask == 7]).astype(np.float32)[None]  # (1, 2, H, W)
    picture = (img.astype(np.float32) / 255).transpose(2, 0, 1)[None]
    checked = 0
    for seed in _SEEDS:
        try:
            matrix, out_hw = spec_view(pipe, seed=seed).geometry(hw)
        except AugplugError as exc:
            return f"as a view (seed {seed}): {exc}"
        if not np.allclose(matrix[2], (0.0, 0.0, 1.0)):
            return (f"geometry() gives a projective map (seed {seed}, last row {np.round(matrix[2], 4).tolist()}): "
                    f"views undo affine maps only")
        det = matrix[0, 0] * matrix[1, 1] - matrix[0, 1] * matrix[1, 0]
        if not np.all(np.isfinite(matrix)) or abs(det) < 1e-9 or min(out_hw) < 1:
            return f"geometry() gives a map that cannot be undone (seed {seed}): {np.round(matrix, 4).tolist()}"
        inverse = invert_affine(matrix)
        # the view the network sees (the map, warped) must be what the transform makes (its apply())
        made = np.asarray(pipe.apply(img, np.random.default_rng(seed)).image)
        if made.ndim == 3 and made.shape[:2] == tuple(out_hw):
            seen_rect = np.asarray(warp(picture, matrix, out_hw))[0].mean(axis=0) > 0.5
            made_rect = made.astype(np.float64).mean(axis=2) > 127
            exact = axis_aligned(matrix) and np.allclose(np.abs(np.diag(matrix)[:2]), 1) and np.allclose(
                matrix[:2, 2], np.round(matrix[:2, 2]))
            differ = int((seen_rect != made_rect).sum())
            union = int((seen_rect | made_rect).sum())
            if (exact and differ) or (not exact and union and differ / union > 0.1):
                return (f"as a view (seed {seed}), geometry() and apply() disagree: the painted rectangle lands on "
                        f"{differ} other pixels when the map is warped than in apply()'s output, so predictions on "
                        f"the view would be mapped back to the wrong place")
        # the mask: through the view and back, as dense predictions are merged
        back = warp(warp(one_hot, matrix, out_hw), inverse, hw)
        seen = np.asarray(coverage(one_hot, out_hw, inverse, hw))[0, 0] > 0.99
        if seen.any():
            scale = min(np.linalg.svd(matrix[:2, :2], compute_uv=False))
            reach = int(np.ceil(1.0 / max(scale, 1e-3))) + 1
            wrong = seen & ~_band(mask, reach) & (back[0].argmax(axis=0) != (mask == 7))
            if wrong.any():
                ys, xs = np.nonzero(wrong)
                return (f"as a view (seed {seed}), a label mask sent through geometry() and back differs at "
                        f"{len(ys)} pixels away from its edges, e.g. at x={xs[0]}, y={ys[0]}: the map is not what "
                        f"the view's inverse undoes")
        # the box: found in the view, moved back
        view = np.asarray(warp(picture, matrix, out_hw))[0].mean(axis=0) > 0.5
        x0, y0, x1, y1 = boxes[0, :4]
        moved = warp_boxes(boxes[:, :4].astype(np.float64), matrix)[0]
        visible = np.clip(moved, 0, [out_hw[1], out_hw[0]] * 2)
        area = (visible[2] - visible[0]) * (visible[3] - visible[1])
        if area < 16 or min(visible[2] - visible[0], visible[3] - visible[1]) < 3 or not view.any():
            continue  # the rectangle is (nearly) outside this view
        ys, xs = np.nonzero(view)
        found = np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float64)
        got = warp_boxes(found, inverse)
        best = warp_boxes(visible[None], inverse)
        overlap = iou_matrix(got, best)[0, 0]
        # a box found on a small view is off by up to a pixel of the view's, which is 1 / scale of the image's
        reach = 1.5 / max(min(np.linalg.svd(matrix[:2, :2], compute_uv=False)), 1e-3)
        if overlap < 0.9 and np.abs(got - best).max() > reach:
            return (f"as a view (seed {seed}), the rectangle at {[x0, y0, x1, y1]} found in the view came back at "
                    f"{np.round(got[0], 1).tolist()} (IoU {overlap:.2f} < 0.9 with {np.round(best[0], 1).tolist()}, "
                    f"where the map sends it and back, and off by more than the view's pixel, {reach:.1f})")
        checked += 1
    if not checked:
        raise Skip(f"no seed's view kept the test rectangle in sight ({len(_SEEDS)} draws)")
    return None
