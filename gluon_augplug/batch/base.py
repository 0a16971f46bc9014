"""The batch pipeline: per-sample random parameters, one pass on the device.

Batch transforms are ordinary :class:`~gluon_augplug.Transform` classes that implement the batch
path (``sample_batch``/``apply_batch``); :class:`BatchTransform` is the separate base class of
gluon_augplug 0.1, still accepted for plugins written against it (:mod:`gluon_augplug.compat`).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import InputError, SpecError
from ..randomness import RandomSource
from ..pipeline.spec import render_spec
from ..compat import BatchTransform, as_batch_step
from ..transforms.base import Transform
from .._lazy import mxnet as mx
from .state import DeviceState, NumpyState, to_device


class BatchPipeline:
    """Augment whole batches: ``pipeline(data)`` or ``pipeline(data, labels, classes=10)``.

    ``data`` is an NHWC uint8 batch (converted to NCHW float32 in [0, 1], as ToTensor does) or
    an NCHW float batch in [0, 1], as ``mx.nd.NDArray`` on any device (the work stays there)
    or numpy (for a DataLoader's batchify function; numpy comes back). Each sample gets its
    own random parameters from the pipeline's seeded source (or ``rng``).

    With labels it returns ``(data, targets)``: the labels unchanged, or soft targets
    (N x classes) when a transform mixes samples (Mixup, CutMix).

    With ``boxes=`` (N, M, 4+) pixel xyxy boxes padded with -1 rows (GluonCV's ``Pad(pad_val=-1)``
    batches), every geometric step moves them with the pixels; it returns ``(data, boxes)`` (or
    ``(data, targets, boxes)`` with labels), boxes clipped to the image and those that left it
    turned into -1 rows. ``masks=`` (N, H, W[, K]) label masks move by nearest-neighbour sampling,
    ``keypoints=`` (N, P, 2+) padded points move too (a point that leaves becomes a -1 row); they
    follow the boxes in the result, in that order. An NDArray batch gets its targets back as
    NDArrays on its device. The targets' arithmetic runs on the host: a few numbers per sample.
    """

    def __init__(self, transforms: Sequence[Transform | BatchTransform], seed: int | None = None):
        self.transforms = [as_batch_step(t) for t in transforms]  # a 0.1 BatchTransform as a Transform
        for t in self.transforms:
            if not (isinstance(t, Transform) and t.supports_batch()):
                raise SpecError(f"{getattr(t, 'spec_name', type(t).__name__)} has no batch path (apply_batch): "
                                f"it runs per sample only")
            if isinstance(t, Transform):
                t.check_batch()
        self.seed = seed
        self._source = RandomSource(seed)
        self.mixes_labels = any(t.mixes_labels for t in self.transforms)

    def __call__(self, data: Any, labels: Any = None, classes: int | None = None, smoothing: float = 0.0,
                 rng: np.random.Generator | None = None, boxes: Any = None, masks: Any = None,
                 keypoints: Any = None) -> Any:
        is_numpy = isinstance(data, np.ndarray)
        if data.ndim != 4:
            raise InputError(f"batch transforms take a 4-D batch (NHWC uint8 or NCHW float), got shape {data.shape}")
        soft_labels = None
        if labels is not None and (self.mixes_labels or smoothing):
            soft_labels = self._soft_targets(labels, classes, smoothing, None if is_numpy else data.context)
        elif self.mixes_labels:
            raise InputError(f"{', '.join(t.spec_name for t in self.transforms if t.mixes_labels)} mixes labels: "
                             f"call the pipeline with labels")
        rng = rng if rng is not None else self._source.generator()
        state = NumpyState(data, rng, soft_labels) if is_numpy else DeviceState(data, rng, soft_labels)
        given = {k: v for k, v in (("boxes", boxes), ("masks", masks), ("keypoints", keypoints)) if v is not None}
        if given:
            if self.mixes_labels:
                raise InputError(f"{', '.join(t.spec_name for t in self.transforms if t.mixes_labels)} with "
                                 f"{' and '.join(given)}: mixing detection samples is not supported in batch pipelines")
            for t in self.transforms:
                problem = t.target_problem(tuple(given))
                if problem:
                    raise SpecError(f"this batch pipeline cannot move {' and '.join(given)}: {problem}")
            state.set_targets(**{k: v.asnumpy() if hasattr(v, "asnumpy") else np.asarray(v) for k, v in given.items()})
        for t in self.transforms:
            t.run_batch(state)
        out = state.result()
        result = (out,) if labels is None else (out, state.soft_labels if state.soft_labels is not None else labels)
        for kind, moved in state.moved_targets().items():
            if is_numpy:
                result += (moved.astype(np.float32) if kind != "masks" else moved,)
            elif kind == "masks":
                result += (mx.nd.array(moved, dtype=moved.dtype, ctx=data.context),)
            else:
                result += (to_device(moved.astype(np.float32), data.context),)
        return result[0] if len(result) == 1 else result

    @staticmethod
    def _soft_targets(labels: Any, classes: int | None, smoothing: float, ctx: Any) -> Any:
        """One-hot (optionally smoothed) targets: numpy for numpy batches, NDArray on ``ctx`` otherwise."""

        values = labels.asnumpy() if hasattr(labels, "asnumpy") else np.asarray(labels)
        if values.ndim == 1:
            if classes is None:
                raise InputError("mixing labels needs classes= (the number of classes)")
            on, off = 1.0 - smoothing + smoothing / classes, smoothing / classes
            values = np.where(np.arange(classes)[None, :] == values.astype(np.int64)[:, None], on, off)
        values = values.astype(np.float32)
        return values if ctx is None else to_device(values, ctx)

    def to_spec(self) -> dict:
        return {"seed": self.seed, "transforms": [t.to_spec() for t in self.transforms]}

    def to_string(self) -> str:
        return ", ".join(render_spec(item) for item in self.to_spec()["transforms"])

    def __len__(self) -> int:
        return len(self.transforms)

    def __getitem__(self, index: int) -> Transform | BatchTransform:
        return self.transforms[index]

    def __repr__(self) -> str:
        return f"BatchPipeline({self.to_string()!r}, seed={self.seed!r})"
