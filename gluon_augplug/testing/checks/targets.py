"""The harness's checks of boxes, masks and keypoints
(see :mod:`gluon_augplug.testing.conformance`)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import AugplugError
from ...pipeline.build import build_pipeline
from ...targets.formats import box_ious
from ...targets.modes import TargetMode, overrides, target_mode
from ...transforms.base import CHW, Transform
from ...transforms.composition import asked_problem

from .registry import SEEDS as _SEEDS, Skip, check
from ..context import CheckContext


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def _painted_scene() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A white rectangle off-centre on black (so that flips move it), its exact box, mask and centre, with a
    yellow 4x4 dot at the centre that shows where the keypoint's pixels went."""
    img = np.zeros((96, 128, 3), np.uint8)
    img[17:49, 21:61] = 255  # odd edges: no resampling grid lines up with them
    img[31:35, 39:43] = (255, 255, 0)
    mask = np.zeros((96, 128), np.uint8)
    mask[17:49, 21:61] = 7
    return img, np.array([[21.0, 17.0, 61.0, 49.0, 1.0]]), mask, np.array([[41.0, 33.0]])


@check("targets", per_sample=True, doc=(
    'boxes, masks and keypoints: on a painted rectangle whose box, mask (id 7) and centre keypoint are '
    'exact, a ``target_mode = "geometric"`` transform must move them where its pixels went (IoU >= 0.7 '
    'with what the pixels say, mask ids never blended, the keypoint within 3 pixels of a dot painted at '
    'it); a transform that says it cannot move a kind (``target_problem``) is checked on the others; a '
    '``"pixel"`` one must leave them and the size as they were; an undeclared one is skipped (it cannot '
    'be used with targets)'))
def check_targets(ctx: CheckContext) -> str | None:
    t = ctx.transform()
    mode = target_mode(t)
    if mode is TargetMode.UNDECLARED:
        raise Skip("does not declare its target mode ('pixel' or 'geometric'): it cannot be used with boxes, masks "
                   "or keypoints")
    if ctx.takes_tensors():
        raise Skip("works on tensors, after ToTensor")
    # a transform that says it cannot move a kind (target_problem) is checked on the kinds it moves
    kinds = [k for k in ("boxes", "masks", "keypoints")
             if not isinstance(t, Transform) or t.target_problem((k,)) is None]
    if not kinds:
        if mode is TargetMode.GEOMETRIC and isinstance(t, Transform) and not overrides(t, "target_problem"):
            return ("it says target_mode = 'geometric' but moves none of boxes, masks, keypoints: write geometry() "
                    "(the 3x3 map of apply()), or apply_boxes/apply_mask/apply_keypoints, or say target_mode = "
                    "'pixel' if it moves no pixels")
        raise Skip(f"moves none of boxes, masks, keypoints: {t.target_problem(('boxes',))}")
    img, boxes, mask, points = _painted_scene()
    scene: dict[str, Any] = {"boxes": boxes, "masks": mask, "keypoints": points}
    given = {k: (v if k in kinds else None) for k, v in scene.items()}
    try:
        pipe = build_pipeline([ctx.item], registry=ctx.registry, targets=kinds)
    except AugplugError as exc:
        return str(exc)
    for seed in _SEEDS:
        result = pipe.apply(img, np.random.default_rng(seed), **given)
        out = np.asarray(result.image)
        out_mask = np.asarray(result.masks) if result.masks is not None else None
        if mode is TargetMode.PIXEL:
            hw = out.shape[1:] if pipe.output_layout() == CHW else out.shape[:2]
            if tuple(hw) != img.shape[:2]:
                return f"declared 'pixel' but changed the size {img.shape[:2]} -> {tuple(hw)} (seed {seed})"
            continue
        if out.ndim != 3 or out.shape[2] not in (1, 3, 4):
            raise Skip("its output is not an HWC image")
        gray = out.astype(np.float64).mean(axis=2)
        region = gray > 127
        if out_mask is None:  # a transform that cannot move masks: the rectangle's pixels stand in for the mask
            out_mask = np.where(region, 7, 0)
        if out_mask.shape[:2] != out.shape[:2]:
            return f"the mask came out {out_mask.shape[:2]}, the image {out.shape[:2]} (seed {seed})"
        blended = sorted(set(np.unique(out_mask).tolist()) - {0, 7})
        if blended:
            return (f"mask ids were blended: ids {{0, 7}} came out with {blended[:5]} (seed {seed}); move masks with "
                    f"nearest-neighbour sampling (the default apply_mask does)")
        if min(region.sum(), (~region).sum(), (out_mask == 7).sum()) < 20:
            continue  # cropped away, or made uniform by a colour step: nothing to compare
        if _iou(out_mask == 7, ~region) > _iou(out_mask == 7, region):  # an inverting colour step: dark rectangle
            region = ~region
        overlap = _iou(out_mask == 7, region)
        if overlap < 0.7:
            return (f"the mask does not follow the pixels: IoU {overlap:.2f} between the moved mask and where the "
                    f"rectangle went (seed {seed})")
        if result.boxes is None:
            pass
        elif not len(result.boxes):
            return f"the box was dropped though the rectangle is still in the image (seed {seed})"
        ys, xs = np.nonzero(region)
        seen = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        box_overlap = 1.0 if result.boxes is None else float(
            box_ious(result.boxes[:1, :4], np.array([seen], np.float64))[0, 0])
        if box_overlap < 0.7:
            return (f"the box does not follow the pixels: {np.round(result.boxes[0, :4], 1).tolist()} where the "
                    f"rectangle is at {list(seen)} (IoU {box_overlap:.2f}, seed {seed})")
        if result.keypoints is not None and len(result.keypoints):
            # the yellow dot painted at the keypoint travels with its pixels, whatever the warp (a jigsaw too)
            dot = (out[:, :, 0] > 128) & (out[:, :, 1] > 128) & (out[:, :, 2] < 128)
            ys, xs = np.nonzero(dot)
            inside = len(xs) >= 4 and xs.min() > 0 and ys.min() > 0 and xs.max() < out.shape[1] - 1 \
                and ys.max() < out.shape[0] - 1
            if inside:
                centre = (float(xs.mean()) + 0.5, float(ys.mean()) + 0.5)
                if np.hypot(*(result.keypoints[0, :2] - centre)) > 3:
                    return (f"the keypoint went to {np.round(result.keypoints[0, :2], 1).tolist()}, the pixels painted "
                            f"at it to {np.round(centre, 1).tolist()} (seed {seed})")
    if mode is TargetMode.PIXEL and "masks" in kinds and not np.array_equal(result.masks, mask):
        return "declared 'pixel' but changed the mask"
    return None


def _dots_scene() -> tuple[np.ndarray, np.ndarray]:
    """Three 4x4 dots on gray, red (a left joint), green (its right partner) and blue, as three keypoints."""
    img = np.full((96, 128, 3), 96, np.uint8)
    points = np.array([[40.0, 30.0], [88.0, 30.0], [40.0, 66.0]])
    for (x, y), colour in zip(points.astype(int), ((255, 0, 0), (0, 255, 0), (0, 0, 255))):
        img[y - 2:y + 2, x - 2:x + 2] = colour
    return img, points


def _find_dots(out: np.ndarray) -> list | None:
    """The centres of the red, green and blue dots in an HWC image, or None where one cannot be told."""
    r, g, b = (out[:, :, c].astype(np.float64) for c in range(3))
    found = []
    for mine, other1, other2 in ((r, g, b), (g, r, b), (b, r, g)):
        ys, xs = np.nonzero((mine > 160) & (other1 < 110) & (other2 < 110))
        if len(xs) < 4 or xs.min() == 0 or ys.min() == 0 or xs.max() >= out.shape[1] - 1 or ys.max() >= out.shape[0] - 1:
            return None
        found.append((float(xs.mean()) + 0.5, float(ys.mean()) + 0.5))
    return found


def _geometric_pipeline(ctx: CheckContext, moves: tuple[str, ...], targets: Any) -> Any:
    """The one-step pipeline a target check runs (``targets=`` as build_pipeline's), or the error message of
    building it; Skip unless the transform is geometric, works on HWC images and moves ``moves``."""
    t = ctx.transform()
    if target_mode(t) is not TargetMode.GEOMETRIC:
        raise Skip("does not move targets (not 'geometric')")
    if ctx.takes_tensors():
        raise Skip("works on tensors, after ToTensor")
    problem = asked_problem(t.target_problem, moves) if isinstance(t, Transform) else None
    if problem is not None:
        raise Skip(f"does not move {' and '.join(moves)}: {problem}")
    try:
        return build_pipeline([ctx.item], registry=ctx.registry, targets=targets)
    except AugplugError as exc:
        return str(exc)


@check("flip_pairs", per_sample=True, doc=(
    "keypoints' flip_pairs: on three coloured dots (a left joint, its right partner, a third), a geometric transform "
    "that moves keypoints must give each row the point whose pixels it names: when its pixels come out mirrored "
    "(the dots turned the other way round), the left joint's row holds the point on the right dot's pixels, as "
    "GluonCV's joint_pairs swap them; otherwise each row keeps its own dot (within 3 pixels)"))
def check_flip_pairs(ctx: CheckContext) -> str | None:
    pipe = _geometric_pipeline(ctx, ("keypoints",), {
        "kinds": ["keypoints"], "options": {"flip_pairs": [[0, 1]], "keypoints_outside": "keep"}})
    if isinstance(pipe, str):
        return pipe
    img, points = _dots_scene()
    for seed in _SEEDS:
        result = pipe.apply(img, np.random.default_rng(seed), keypoints=points)
        out = np.asarray(result.image)
        if out.ndim != 3 or out.shape[2] < 3:
            raise Skip("its output is not an RGB HWC image")
        dots = _find_dots(out)
        if dots is None or len(result.keypoints) != 3:
            continue  # a dot cropped away or recoloured: nothing to compare
        mirrored = _turn(dots) * _turn(points.tolist()) < 0
        expected = [dots[1], dots[0], dots[2]] if mirrored else dots
        for row, (want, what) in enumerate(zip(expected, ("left", "right", "third"))):
            got = result.keypoints[row, :2]
            if np.hypot(got[0] - want[0], got[1] - want[1]) > 3:
                return (f"keypoint row {row} (the {what} joint) went to {np.round(got, 1).tolist()}, but the dot it "
                        f"names is at {np.round(want, 1).tolist()}: the pixels came out {'' if mirrored else 'not '}"
                        f"mirrored, so rows 0 and 1 (declared flip_pairs) should {'' if mirrored else 'not '}trade "
                        f"places (seed {seed}); move keypoints through geometry(), or return them from apply_keypoints "
                        f"as the pixels went and let the engine relabel the pairs")
    return None


def _turn(points: list) -> float:
    (ax, ay), (bx, by), (cx, cy) = points[:3]
    return float(np.sign((bx - ax) * (cy - ay) - (by - ay) * (cx - ax)))


def _two_instances() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two rectangles, the right one first in the rows (a step that sorts its boxes reorders them), their boxes
    (class 0, 1) and one instance mask each."""
    img = np.full((96, 128, 3), 40, np.uint8)
    boxes = np.array([[70.0, 20.0, 110.0, 60.0, 0.0], [14.0, 40.0, 50.0, 84.0, 1.0]])
    masks = np.zeros((2, 96, 128), np.uint8)
    for i, ((x0, y0, x1, y1, _), colour) in enumerate(zip(boxes.astype(int), ((230, 60, 60), (60, 60, 230)))):
        img[y0:y1, x0:x1] = colour
        masks[i, y0:y1, x0:x1] = 1
    return img, boxes, masks


@check("instance_masks", per_sample=True, doc=(
    "instance masks tied to box rows (``instance_masks=True``): on two rectangles given with one mask each, a "
    "geometric transform that moves boxes and masks must give back as many masks as boxes, each kept box's mask "
    "inside that box (80% of its pixels): a step that drops a box drops it as a NaN row (or through ``keep_boxes``), "
    "keeping the others in their order, so that the engine drops its mask with it"))
def check_instance_masks(ctx: CheckContext) -> str | None:
    pipe = _geometric_pipeline(ctx, ("boxes", "masks"),
                               {"kinds": ["boxes", "masks"], "options": {"instance_masks": True}})
    if isinstance(pipe, str):
        return pipe
    img, boxes, masks = _two_instances()
    for seed in _SEEDS:
        result = pipe.apply(img, np.random.default_rng(seed), boxes=boxes, masks=masks)
        out_boxes, out_masks = np.asarray(result.boxes), np.asarray(result.masks)
        if len(out_masks) != len(out_boxes):
            return f"{len(out_boxes)} boxes came back with {len(out_masks)} masks (seed {seed})"
        for box, mask in zip(out_boxes, out_masks):
            h, w = mask.shape[:2]
            x0, y0 = (int(np.clip(np.floor(v), 0, n)) for v, n in zip(box[:2], (w, h)))
            x1, y1 = (int(np.clip(np.ceil(v), 0, n)) for v, n in zip(box[2:4], (w, h)))
            drawn = np.zeros(mask.shape[:2], bool)
            drawn[y0:y1, x0:x1] = True
            on = mask > 0
            inside = float((on & drawn).sum() / on.sum()) if on.sum() >= 20 else 1.0
            if inside < 0.8:  # a rotated rectangle fills less of its box, but stays inside it
                return (f"the mask that came back with box {np.round(box[:4], 1).tolist()} (class {box[4]:.0f}) lies "
                        f"outside it ({inside:.0%} inside, seed {seed}): the rows came back in another order, so the "
                        f"masks belong to other boxes; return the boxes in their rows (NaN for one dropped)")
    return None


@check("polygons", per_sample=True, doc=(
    "polygons: the painted rectangle's outline given as a polygon must come back, rasterised, where the rectangle's "
    "pixels went (IoU >= 0.7), for a geometric transform that moves them (polygons move vertex by vertex "
    "through ``geometry()`` or ``apply_keypoints``, which must keep every vertex; a step that tears outlines or "
    "drops covered points says so in ``target_problem(('polygons',))``)"))
def check_polygons(ctx: CheckContext) -> str | None:
    from ...targets.polygons import rasterize_polygons

    pipe = _geometric_pipeline(ctx, ("polygons",), ["polygons"])
    if isinstance(pipe, str):
        return pipe
    img, _, _, _ = _painted_scene()
    outline = [[np.array([[21.0, 17.0], [61.0, 17.0], [61.0, 49.0], [21.0, 49.0]])]]
    for seed in _SEEDS:
        try:
            result = pipe.apply(img, np.random.default_rng(seed), polygons=outline)
        except AugplugError as exc:
            return f"{exc} (seed {seed})"
        out = np.asarray(result.image)
        if out.ndim != 3 or out.shape[2] not in (1, 3, 4):
            raise Skip("its output is not an HWC image")
        region = out[:, :, :3].astype(np.float64).mean(axis=2) > 127
        if min(region.sum(), (~region).sum()) < 20:
            continue  # cropped away, or made uniform by a colour step
        drawn = rasterize_polygons(result.polygons, (out.shape[0], out.shape[1]))[0] > 0
        if _iou(drawn, ~region) > _iou(drawn, region):  # an inverting colour step
            region = ~region
        if _iou(drawn, region) < 0.7:
            return (f"the polygon does not follow the pixels: IoU {_iou(drawn, region):.2f} between the moved outline, "
                    f"rasterised, and where the rectangle went (seed {seed})")
    return None
