"""The harness's checks of the batch path
(see :mod:`gluon_augplug.testing.conformance`)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import ParameterError, SpecError
from ...pipeline.build import build_pipeline
from ...plugins.registry import factory_params
from ...transforms.batching import batch_by_geometry
from ...transforms.base import HWC, Transform

from .registry import NDARRAY_HALF_SKIPPED, SEEDS as _SEEDS, Skip, check, mxnet_or_none
from ..context import CheckContext


@check("batch", per_sample=False, doc=(
    'a transform with a batch path runs in a batch pipeline: numpy and NDArray batches, NCHW float32 out,'
    ' finite, input untouched, seeded, varies across seeds; mixing transforms give soft targets that sum '
    'to 1'))
def check_batch(ctx: CheckContext) -> str | None:
    mx = mxnet_or_none()

    from ...compat import BatchTransform
    from ..samples import cifar10_samples

    if not ctx.info.usable_in("batch"):
        raise Skip("runs per sample only (no batch path)")
    t = ctx.transform()
    if not (isinstance(t, BatchTransform) or (isinstance(t, Transform) and t.supports_batch())):
        raise Skip("the object its factory returns has no batch path")
    images = np.ascontiguousarray(cifar10_samples()[0][:8])
    labels = np.arange(8) % 10
    by_geometry = isinstance(t, Transform) and batch_by_geometry(t)
    if isinstance(t, Transform) and by_geometry:  # its batch path is its geometry(): output_hw() must name the size apply() makes
        problem = _output_hw_problem(ctx, t)
        if problem:
            return problem
    items = [ctx.item]
    try:
        ctx.pipeline(seed=0, kind="batch")
    except ParameterError as exc:  # an example value batches refuse (a non-zero fill): the defaults then
        if "batch pipeline" not in str(exc) or any(p.required for p in factory_params(ctx.info.factory)):
            raise
        items = [{"name": ctx.info.qualified_name, "params": {}}]

    def build(seed: int) -> Any:
        from ...batch import build_batch_pipeline

        return build_batch_pipeline(items, seed=seed, registry=ctx.registry)

    def run(seed: int, data: Any) -> tuple[Any, Any]:
        pipe = build(seed)
        if pipe.mixes_labels:
            return pipe(data, labels, classes=10)
        return pipe(data), None

    if by_geometry:  # and its pixels must be the warp of that map: a batch of one against the per-sample step
        problem = _pixels_problem(ctx, items[0])
        if problem:
            return problem
    try:
        run(0, images)
    except SpecError as exc:  # a size of each sample's own (RandomIoUCrop): a batch ends it with a Resize
        if "different sizes" not in str(exc):
            raise
        items = items + [{"name": "Resize", "params": {"size": 32}}]

    before = images.copy()
    out, targets = run(0, images)
    if not isinstance(out, np.ndarray):
        return f"a numpy batch returned {type(out).__name__}: numpy in must give numpy out"
    if out.dtype != np.float32 or out.ndim != 4 or out.shape[:2] != (8, 3):
        return f"a (8, 32, 32, 3) uint8 batch gave {out.dtype} {out.shape}: batches come out NCHW float32"
    if not np.isfinite(out).all():
        return "the batch output has NaN or infinite values"
    if not np.array_equal(images, before):
        return "wrote into its input batch: work on new arrays (the state's methods do)"
    again, _ = run(0, images)
    if not np.array_equal(out, again):
        return "the same seed gave a different batch: draw only from the rng sample_batch gets (state.rng)"
    if mx is not None:
        nd_out, _ = run(0, mx.nd.array(images, dtype="uint8"))
        if not isinstance(nd_out, mx.nd.NDArray) or nd_out.shape != out.shape:
            return (f"an NDArray batch gave {type(nd_out).__name__} {getattr(nd_out, 'shape', '')}: it must stay an "
                    f"NDArray on its device with the numpy path's shape {out.shape}")
    if targets is not None:
        t_np = targets.asnumpy() if hasattr(targets, "asnumpy") else np.asarray(targets)
        if t_np.shape != (8, 10) or not np.allclose(t_np.sum(axis=1), 1.0, atol=1e-5):
            return f"mixing gave targets of shape {t_np.shape} that do not sum to 1 per sample"
    if ctx.declared_random() and all(np.array_equal(out, run(seed, images)[0]) for seed in range(1, 8)):
        # a draw that batches do not show (an interpolation: batches resample bilinearly) must still vary
        draws = [repr(t.sample_batch(np.random.default_rng(seed), 8, (32, 32, 3))) for seed in range(8)] \
            if isinstance(t, Transform) and by_geometry and not t.needs_targets else []
        if isinstance(t, Transform) and by_geometry and t.needs_targets:  # a draw around the boxes: show it one
            boxes = ctx.boxes_for(images[0])
            draws = [repr(t.sample(np.random.default_rng(seed), (32, 32, 3), targets=boxes))  # type: ignore[call-arg]
                     for seed in range(8)]
        if len(set(draws)) < 2:
            return "declared random but seeds 0-7 give identical batches: draw from the rng sample_batch gets"
    if mx is None:
        raise Skip(NDARRAY_HALF_SKIPPED)
    return None


def _output_hw_problem(ctx: CheckContext, t: Transform) -> str | None:
    img = ctx.images.get("cat_small", next(iter(ctx.images.values())))
    for seed in _SEEDS[:4]:
        h, w, c = img.shape
        params = t.sample(np.random.default_rng(seed), (h, w, c))
        made = t.apply(img, HWC, **params).shape[:2]
        said = tuple(int(v) for v in t.output_hw(params, (h, w)))
        if said != tuple(made):
            return (f"output_hw() says {said} but apply() made {tuple(made)} for {params} (seed {seed}): its batch "
                    f"path (the stacked geometry()) needs output_hw() to name the output size")
    return None


def _pixels_problem(ctx: CheckContext, item: dict) -> str | None:
    from ...batch import build_batch_pipeline

    img = ctx.images.get("cat_small", next(iter(ctx.images.values())))
    for seed in _SEEDS[:4]:
        single = np.asarray(build_pipeline([item], registry=ctx.registry)(img, np.random.default_rng(seed)), np.float64)
        batch = build_batch_pipeline([item], registry=ctx.registry)(img[None], rng=np.random.default_rng(seed))
        warped = np.moveaxis(np.asarray(batch)[0], 0, 2) * 255.0
        if warped.shape != single.shape or np.abs(warped - single).mean() > 8:
            differ = f"{warped.shape} against {single.shape}" if warped.shape != single.shape else \
                f"by {np.abs(warped - single).mean():.1f} grey levels on average"
            return (f"its batch path (its geometry() stacked over the samples) differs from apply() {differ} "
                    f"(seed {seed}): either geometry() is not the map apply() moves pixels by (a wrong sign, the "
                    f"inverse map: fix geometry(), which the boxes follow too), or apply() also changes values (then "
                    f"set pixels_follow_geometry = False, per-sample only, or write apply_batch())")
    return None
