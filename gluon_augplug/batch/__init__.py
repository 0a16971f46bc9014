"""Batch augmentation: whole batches on their device (CPU or GPU) or in numpy, per-sample parameters.

Build one by name with :func:`gluon_augplug.batch.build_batch_pipeline`; the training loop runs
it after ``split_and_load`` (``augplug train --batch-aug "..."``).
"""
from .base import BatchPipeline, BatchTransform
from .state import BatchState


def build_batch_pipeline(spec, seed=None, *, registry=None, strict=None, targets=None) -> BatchPipeline:
    """Build a :class:`BatchPipeline` from a spec (string, list, dict or YAML/JSON file) of transforms that
    have a batch path (``augplug transforms --kind batch``); ``targets=`` as :func:`~gluon_augplug.build_pipeline`'s
    (kinds checked now; the options ``flip_pairs``, ``instance_masks``, ``box_format``, ``min_area`` and
    ``min_visibility`` hold for every sample)."""
    from ..pipeline.build import build_scheduled, check_seed

    check_seed(seed, "seed")
    if isinstance(spec, BatchPipeline):
        spec = spec.to_spec()
    transforms, spec_seed, plan, every = build_scheduled(spec, kind="batch", registry=registry, strict=strict)
    pipeline = BatchPipeline(transforms, spec_seed if seed is None else seed, targets=targets)
    if plan is not None:
        from ..pipeline.plan import Plan

        if targets is not None:  # the steps switched off at epoch 0 must move the targets too
            BatchPipeline(every, targets=targets)
        pipeline.mixes_labels = any(t.mixes_labels for t in every)  # soft targets all run long
        pipeline.plan = Plan(plan, "batch", pipeline.seed, targets, registry, pipeline.mixes_labels, BatchPipeline,
                             build_scheduled, every)
        pipeline.plan.check()
    return pipeline


__all__ = ["BatchPipeline", "BatchTransform", "BatchState", "build_batch_pipeline"]
