"""Per-sample reproducible augmentation of a Gluon dataset, whatever ``num_workers`` is.

Every sample's random numbers come from a counter-based generator (Philox) keyed by the
seed, with the counter set to ``(sample index, epoch)``. So an augmented epoch is the same
with 0, 2 or 8 DataLoader workers, differs from one epoch to the next, and any sample of
any epoch can be recomputed on its own (resuming mid-epoch is exact).
"""
from __future__ import annotations

import multiprocessing
from typing import Any

import numpy as np

from ..errors import AugplugError, InputError
from ..pipeline.build import build_pipeline, check_seed
from ..pipeline.pipeline import Pipeline
from ..targets.formats import declared_targets
from ..targets.modes import TargetMode, target_mode
from ..randomness import sample_generator, seed_key  # noqa: F401  (their home before 0.2)
from .tagged import SampleIndex

try:  # a Gluon Dataset when MXNet is there, so that .transform(), DataLoader etc. work as usual
    from mxnet.gluon.data import Dataset as _Base
except ImportError:  # pragma: no cover - gluon_augplug works on numpy without MXNet
    _Base = object


class SharedEpoch:
    """An epoch (and any other ``_SHARED`` counters) in shared memory, so that ``set_epoch`` reaches the worker
    processes MXNet's DataLoader forked when it was created; a pickled copy gets its own."""

    _SHARED = {"_epoch": "q"}

    def _share(self, **values: int) -> None:
        for name, code in self._SHARED.items():
            setattr(self, name, multiprocessing.RawValue(code, int(values[name.lstrip("_")])))

    @property
    def epoch(self) -> int:
        return int(self._epoch.value)  # type: ignore[attr-defined]

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose draws the next items get."""
        if not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise InputError(f"set_epoch: epoch must be a non-negative integer, got {epoch!r}")
        self._epoch.value = int(epoch)  # type: ignore[attr-defined]

    def __getstate__(self) -> dict:  # RawValue is shared by fork only
        state = self.__dict__.copy()
        for name in self._SHARED:
            state[name] = int(getattr(self, name).value)
        return state

    def __setstate__(self, state: dict) -> None:
        values = {name.lstrip("_"): state.pop(name) for name in self._SHARED}
        self.__dict__.update(state)
        self._share(**values)


class ItemIndexError(AugplugError, IndexError):
    """An item number that is not an integer in range (an IndexError, so iteration stops as usual)."""


class AugmentedDataset(SharedEpoch, _Base):  # type: ignore[misc,valid-type]
    """Apply ``pipeline`` to the first element of each item of ``dataset``, seeded per sample.

    Parameters
    ----------
    dataset : Dataset or sequence
        Items are images or tuples ``(image, label, ...)``.
    pipeline : Pipeline or spec
        Anything :func:`build_pipeline` takes.
    seed : int
        The seed of the whole augmentation; with the epoch and the index it decides each sample.
    epoch : int
        Initial epoch; change it with :meth:`set_epoch` before iterating each epoch.
    targets : str or sequence of str, optional
        What follows the image in each item and moves with it: ``"boxes"`` for GluonCV's
        ``(image, label)`` detection items (label (N, 5+) boxes with class id and any extra
        columns), ``"masks"`` for ``(image, mask)`` segmentation items, or a sequence such as
        ``("boxes", "masks")`` for ``(image, label, masks)``. Box format and filters are the
        pipeline's (``build_pipeline(..., targets={"options": {...}})``), or given here as
        ``{"kinds": [...], "options": {...}}`` with a spec (``{"kinds": ["boxes", "masks"], "options":
        {"instance_masks": True}}`` for Mask R-CNN's items). Without it, an item whose
        second element looks like boxes or a mask, under a pipeline that moves pixels, is an error:
        boxes are never passed through a crop or a flip unchanged. ``targets=()`` says the extra
        elements are not targets. A pose item (GluonCV's ``COCOKeyPoints``: ``(image, {"bbox": ...,
        "joints_3d": ...}, img_id)``) is recognised by its label and moved by :meth:`Pipeline.apply_pose`.
    clip_layout : str, optional
        For clips (items whose image is a (T, H, W, C) array or a list of frames): "CTHW" transposes each
        augmented (T, C, H, W) clip for 3-D networks (I3D, SlowFast); default: as the pipeline gives it.

    A data set that draws while reading (:class:`~gluon_augplug.data.clips.ClipDataset` samples its frames)
    gives its items through ``sample_item(index, rng)``: it draws from the sample's generator before the
    pipeline does, so the frames chosen are seeded by (seed, index, epoch) too.

    Notes
    -----
    The epoch lives in shared memory, so ``set_epoch`` reaches the worker processes that
    MXNet's DataLoader forked when it was created.
    """

    def __init__(self, dataset: Any, pipeline: Any, seed: int = 0, epoch: int = 0, targets: Any = None,
                 clip_layout: str | None = None):
        check_seed(seed, "augment: seed", InputError, optional=False)
        if clip_layout not in (None, "TCHW", "CTHW"):
            raise InputError(f"augment: clip_layout must be None, 'TCHW' or 'CTHW', got {str(clip_layout)[:40]!r}")
        self.clip_layout = clip_layout
        self._dataset = dataset
        options = None
        if isinstance(targets, dict):  # {"kinds": [...], "options": {...}}, as build_pipeline's targets=
            kinds, options = declared_targets(targets)
            targets = kinds
        if not isinstance(pipeline, Pipeline):
            pipeline = build_pipeline(pipeline, targets=options)
        elif options is not None and options != pipeline.target_options:
            raise InputError("augment: target options given to augment() differ from the built pipeline's; give "
                             "them to build_pipeline(..., targets=...) or pass the spec to augment()")
        self.pipeline = pipeline
        self.targets = _target_kinds(targets)
        if self.targets:
            self.pipeline.check_targets(self.targets)
        self._moves_pixels = targets is None and _moves_pixels(self.pipeline)
        self.seed = seed
        self._key = seed_key(seed)
        self._share(epoch=epoch)

    def generator(self, index: int, epoch: int | None = None) -> np.random.Generator:
        return sample_generator(self._key, index, self.epoch if epoch is None else epoch)

    def __len__(self) -> int:
        return len(self._dataset)

    def __getitem__(self, index: int) -> Any:
        n = len(self)
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise ItemIndexError(f"augment: items are numbered by integers, got {str(index)[:40]!r} "
                                 f"({type(index).__name__})")
        if not -n <= index < n:
            raise ItemIndexError(f"augment: item {str(index)[:40]} is out of range for {n} items")
        # a SampleIndex brings the epoch and iteration it is drawn at; a plain one is drawn at set_epoch's epoch
        time = (index.epoch, index.step, index.steps) if type(index) is SampleIndex else (self.epoch, 0, 0)
        epoch = time[0]
        pipeline = self.pipeline if self.pipeline.plan is None else self.pipeline.plan.resolve(*time)
        index = int(index) + (n if index < 0 else 0)
        rng = self.generator(index, epoch)
        sample_item = getattr(self._dataset, "sample_item", None)
        item = sample_item(index, rng) if callable(sample_item) else self._dataset[index]
        if self.clip_layout == "CTHW" and isinstance(item, tuple) and item:
            from .clips import clip_layout

            first = self._augment(item, index, rng, pipeline)
            return (clip_layout(first[0], "CTHW"),) + tuple(first[1:])
        return self._augment(item, index, rng, pipeline)

    def _augment(self, item: Any, index: int, rng: np.random.Generator, pipeline: Pipeline) -> Any:
        if not isinstance(item, tuple):
            return pipeline(item, rng=rng)
        if self.targets:
            n = len(self.targets)
            if len(item) < 1 + n:
                raise InputError(f"augment(targets={self.targets}): item {index} has {len(item)} elements, expected "
                                 f"the image and {n} target(s)")
            given = dict(zip(self.targets, item[1:1 + n]))
            return pipeline(item[0], rng, **given) + item[1 + n:]
        if len(item) > 1 and isinstance(item[1], dict) and "joints_3d" in item[1]:  # a pose item (COCOKeyPoints)
            done = pipeline.apply_pose(item[0], item[1], rng)
            return (done.image, done.label) + item[2:]
        if self._moves_pixels and len(item) > 1:
            _refuse_unnamed_targets(item, index)
        return (pipeline(item[0], rng=rng),) + item[1:]



def _target_kinds(targets: Any) -> tuple[str, ...]:
    from ..targets.state import check_kinds

    if targets is None:
        return ()
    kinds = (targets,) if isinstance(targets, str) else tuple(targets)
    check_kinds(kinds, "augment: ")
    return kinds


def _moves_pixels(pipeline: Pipeline) -> bool:
    """Whether any step of ``pipeline`` may move pixels (is not declared pixel-only)."""
    def walk(transforms):
        for t in transforms:
            inner = getattr(t, "transforms", None)
            if target_mode(t) is TargetMode.CONTAINER and inner is not None:
                if walk(inner):
                    return True
            elif target_mode(t) is not TargetMode.PIXEL:
                return True
        return False

    return walk(pipeline.plan.every_step() if pipeline.plan is not None else pipeline.transforms)


def _refuse_unnamed_targets(item: tuple, index: int) -> None:
    second = item[1]
    shape = tuple(getattr(second, "shape", ()))
    image_hw = tuple(getattr(item[0], "shape", ())[:2])
    if len(shape) == 2 and shape[1] >= 4 and shape != image_hw:
        what = "boxes"
    elif len(shape) in (2, 3) and shape[:2] == image_hw:
        what = "a mask"
    else:
        return
    raise InputError(f"augment: item {index}'s label (shape {shape}) looks like {what}, and the pipeline moves pixels: "
                     f"say augment(..., targets='{'boxes' if what == 'boxes' else 'masks'}') so that it moves with "
                     f"the image, or targets=() if it is not a target")


def augment(dataset: Any, pipeline: Any, seed: int = 0, epoch: int = 0, targets: Any = None,
            clip_layout: str | None = None) -> AugmentedDataset:
    """Wrap ``dataset`` so that ``pipeline`` augments each image reproducibly (see :class:`AugmentedDataset`).

    Examples
    --------
    >>> train = augment(gluon.data.vision.CIFAR10(train=True), "cifar10-standard", seed=0)  # doctest: +SKIP
    >>> for epoch in range(10):                                                              # doctest: +SKIP
    ...     train.set_epoch(epoch)
    ...     for data, label in gluon.data.DataLoader(train, 128, num_workers=2): ...
    """
    return AugmentedDataset(dataset, pipeline, seed=seed, epoch=epoch, targets=targets, clip_layout=clip_layout)
