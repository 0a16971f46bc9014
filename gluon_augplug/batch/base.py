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
from ..compat import BatchTransform
from ..targets.formats import declared_targets
from ..targets.state import check_kinds
from ..transforms.base import Transform
from .._lazy import mxnet as mx
from .state import DeviceState, NumpyState, to_device


CLIP_LAYOUTS = ("BCTHW", "BTCHW", "(BT)CHW")


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

    A 5-D batch is a batch of clips, (B, T, H, W, C) uint8 or (B, T, C, H, W) float: each clip gets one draw for
    all its frames, and ``clip_layout`` ("BCTHW", the default, for 3-D networks; "BTCHW"; "(BT)CHW" for TSN) says
    how it comes out. Targets then have a (B, T) prefix (boxes (B, T, M, 4+)).
    """

    plan: Any = None  # a spec with schedules: its Plan (see at())

    def __init__(self, transforms: Sequence[Transform | BatchTransform], seed: int | None = None, targets: Any = None):
        self.transforms = list(transforms)  # a 0.1 BatchTransform answers the batch pipeline's questions itself
        for t in self.transforms:
            if not (isinstance(t, (Transform, BatchTransform)) and t.supports_batch()):
                raise SpecError(f"{getattr(t, 'spec_name', type(t).__name__)} has no batch path (apply_batch): "
                                f"it runs per sample only")
            t.check_batch()
        self.seed = seed
        self._source = RandomSource(seed)
        self.mixes_labels = any(t.mixes_labels for t in self.transforms)
        kinds, self.target_options = declared_targets(targets)
        if kinds:
            self._check_targets(kinds)

    def _check_targets(self, kinds: Sequence[str]) -> None:
        if "polygons" in kinds:
            raise InputError("polygons move per sample (build_pipeline); a batch's targets are boxes, masks and "
                             "keypoints")
        check_kinds(kinds)
        for t in self.transforms:
            problem = t.target_problem(tuple(kinds))
            if problem:
                raise SpecError(f"this batch pipeline cannot move {' and '.join(kinds)}: {problem}")

    def __call__(self, data: Any, labels: Any = None, classes: int | None = None, smoothing: float = 0.0,
                 rng: np.random.Generator | None = None, boxes: Any = None, masks: Any = None,
                 keypoints: Any = None, clip_layout: str = "BCTHW") -> Any:
        if getattr(data, "ndim", None) == 5:
            return self._clips(data, labels, classes, smoothing, rng, boxes, masks, keypoints, clip_layout)
        if data.ndim != 4:
            raise InputError(f"batch transforms take a 4-D batch (NHWC uint8 or NCHW float) or a 5-D batch of clips "
                             f"(B, T, H, W, C), got shape {data.shape}")
        return self._run(data, labels, classes, smoothing, rng, boxes, masks, keypoints, 1)

    def _clips(self, data, labels, classes, smoothing, rng, boxes, masks, keypoints, clip_layout):
        """A batch of clips (B, T, H, W, C) uint8 or (B, T, C, H, W) float: every frame of a clip gets its clip's
        draw; out in ``clip_layout``: ``"BCTHW"`` (I3D, SlowFast, R2+1D), ``"BTCHW"``, or ``"(BT)CHW"`` (TSN's
        frames as one batch, as GluonCV's train_recognizer.py reshapes them)."""
        if clip_layout not in CLIP_LAYOUTS:
            raise InputError(f"clip_layout must be one of {', '.join(CLIP_LAYOUTS)}, got {str(clip_layout)[:40]!r}")
        mixing = [t.spec_name for t in self.transforms if t.mixes_labels]
        if mixing:
            raise SpecError(f"{', '.join(mixing)} mixes samples: batch pipelines of clips do not mix (use it on frames)")
        b, t = int(data.shape[0]), int(data.shape[1])
        frames = data.reshape((b * t,) + tuple(data.shape[2:]))

        def flat(target: Any, kind: str) -> Any:
            if target is None:
                return None
            if target.ndim < 3 or tuple(target.shape[:2]) != (b, t):
                raise InputError(f"clip batch {kind}: expected ({b}, {t}, ...) (per clip, per frame), got shape "
                                 f"{tuple(target.shape)}")
            return target.reshape((b * t,) + tuple(target.shape[2:]))

        result = self._run(frames, labels, classes, smoothing, rng, flat(boxes, "boxes"), flat(masks, "masks"),
                           flat(keypoints, "keypoints"), t)
        parts = list(result) if isinstance(result, tuple) else [result]
        out = parts[0]
        c, h, w = (int(v) for v in out.shape[1:])
        if clip_layout == "BCTHW":
            out = out.reshape((b, t, c, h, w)).transpose((0, 2, 1, 3, 4))
            out = np.ascontiguousarray(out) if isinstance(out, np.ndarray) else out
        elif clip_layout == "BTCHW":
            out = out.reshape((b, t, c, h, w))
        parts[0] = out
        first_target = 1 if labels is None else 2
        parts[first_target:] = [p.reshape((b, t) + tuple(p.shape[1:])) for p in parts[first_target:]]
        return parts[0] if len(parts) == 1 else tuple(parts)

    def _run(self, data, labels, classes, smoothing, rng, boxes, masks, keypoints, clip_length):
        is_numpy = isinstance(data, np.ndarray)
        soft_labels = None
        if labels is not None and (self.mixes_labels or smoothing):
            soft_labels = self._soft_targets(labels, classes, smoothing, None if is_numpy else data.context)
        elif self.mixes_labels:
            raise InputError(f"{', '.join(t.spec_name for t in self.transforms if t.mixes_labels)} mixes labels: "
                             f"call the pipeline with labels")
        rng = rng if rng is not None else self._source.generator()
        state = NumpyState(data, rng, soft_labels) if is_numpy else DeviceState(data, rng, soft_labels)
        state.clip_length = clip_length
        given = {k: v for k, v in (("boxes", boxes), ("masks", masks), ("keypoints", keypoints)) if v is not None}
        if given:
            if self.mixes_labels:
                raise InputError(f"{', '.join(t.spec_name for t in self.transforms if t.mixes_labels)} with "
                                 f"{' and '.join(given)}: mixing detection samples is not supported in batch pipelines")
            self._check_targets(tuple(given))
            state.set_targets(**{k: v.asnumpy() if hasattr(v, "asnumpy") else np.asarray(v) for k, v in given.items()},
                              options=self.target_options)
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
        if self.plan is not None:
            return {"seed": self.seed, "transforms": list(self.plan.specs)}
        return {"seed": self.seed, "transforms": [t.to_spec() for t in self.transforms]}

    @property
    def scheduled(self) -> bool:
        """The spec holds a schedule or an ``active=`` switch (see :meth:`at`)."""
        return self.plan is not None

    def at(self, epoch: Any = 0, step: int = 0, steps: int = 0) -> "BatchPipeline":
        """The batch pipeline at ``epoch`` epochs done and ``step`` of ``steps`` iterations into the next one (as
        :meth:`Pipeline.at <gluon_augplug.pipeline.pipeline.Pipeline.at>`); an unscheduled one is itself."""
        if self.plan is None:
            return self
        from ..pipeline.schedule import clock_of

        return self.plan.at(clock_of(epoch, step, steps))

    def to_string(self) -> str:
        return ", ".join(render_spec(item) for item in self.to_spec()["transforms"])

    def __len__(self) -> int:
        return len(self.transforms)

    def __getitem__(self, index: int) -> Transform | BatchTransform:
        return self.transforms[index]

    def __repr__(self) -> str:
        return f"BatchPipeline({self.to_string()!r}, seed={self.seed!r})"
