"""The Pipeline: one callable over a list of transforms, with its own seedable random source."""
from __future__ import annotations

import json
from typing import Any, Iterator, Sequence

import numpy as np

from dataclasses import dataclass

from ..contract import views as view_count
from ..io.decode import EncodedImage
from .._deprecation import warn_deprecated
from ..errors import InputError, InputTypeError, ReplayError, SpecError
from ..targets.formats import TargetOptions, declared_targets
from ..targets.state import check_kinds, TargetState
from ..randomness import RandomSource
from ..transforms.base import HWC, Record, Transform, check_image, like_input, to_numpy
from ..transforms.composition import Compose, child_problem
from .clips import is_clip, like_clip, per_frame, to_clip
from .fused import run_encoded
from .spec import render_spec


@dataclass
class Augmented:
    """An augmented image with its targets (``None`` where none were given) and the record of the steps."""

    image: Any
    boxes: Any = None
    masks: Any = None
    keypoints: Any = None
    record: Any = None
    label: Any = None  # a pose item's moved label (Pipeline.apply_pose)
    polygons: Any = None

    def as_tuple(self) -> tuple:
        """The image, then the targets that were given, in the order boxes, masks, keypoints, polygons."""
        return (self.image,) + tuple(t for t in (self.boxes, self.masks, self.keypoints, self.polygons)
                                     if t is not None)


def _like(array: np.ndarray, original: Any) -> Any:
    """``array`` as the caller gave its target: a float target keeps its float dtype, and an NDArray
    comes back as an NDArray on its context (float32 where the values are floats)."""
    given = getattr(original, "dtype", None)
    if array.dtype.kind == "f" and given is not None and np.dtype(given).kind == "f":
        array = array.astype(given, copy=False)
    if hasattr(original, "asnumpy"):
        import mxnet as mx

        dtype = np.float32 if array.dtype == np.float64 else array.dtype
        return mx.nd.array(array, dtype=dtype, ctx=original.context)
    return array


def _channels_last(masks: Any, hw: tuple[int, int]) -> bool:
    """Instance masks given as one (H, W, N) array (the COCO reader's) rather than (N, H, W) (GluonCV's)."""
    shape = tuple(getattr(masks, "shape", ()))
    return len(shape) == 3 and shape[:2] == tuple(hw) and shape[1:] != tuple(hw)


def _instance_list(masks: Any, hw: tuple[int, int]) -> list:
    """Instance masks (a list, an (N, H, W) or an (H, W, N) array) as a list of (H, W) masks."""
    if isinstance(masks, (list, tuple)):
        return list(masks)
    if _channels_last(masks, hw):
        return [masks[:, :, k] for k in range(masks.shape[2])]
    return list(masks)


def _instance_masks_like(state: TargetState, given: Any, hw: tuple[int, int]) -> Any:
    """The kept boxes' masks as the caller gave them: a list, or one (N, H, W) or (H, W, N) array (NDArray)."""
    moved = state.result_masks()
    if isinstance(given, (list, tuple)):
        return [_like(m, o) for m, o in zip(moved, given)]
    last = _channels_last(given, hw)
    if not moved:
        stacked = np.zeros((*state.hw, 0) if last else (0, *state.hw), np.dtype(given.dtype))
    else:
        stacked = np.stack(moved, axis=2 if last else 0)
    return _like(stacked, given)


def _one_mask(masks: Any, options: TargetOptions) -> bool:
    """``masks`` is one label mask (an array), not a list of them nor instance masks."""
    return masks is not None and not isinstance(masks, (list, tuple)) and not options.instance_masks


def _check_record(record: Any) -> None:
    if not isinstance(record, dict) or "children" not in record:
        raise ReplayError("expected the record returned by Pipeline.apply_with_params or Pipeline.apply")


class Pipeline:
    """A built augmentation pipeline: ``pipeline(image) -> image``.

    Takes one HWC ``mx.nd.NDArray`` (returned on the same context) or numpy array
    (returned as numpy), converting once at each end: every step works on numpy. An
    :class:`~gluon_augplug.io.decode.EncodedImage` (what ``RecordDataset(..., encoded=True)``
    gives) is decoded as the first step, at 1/2, 1/4 or 1/8 scale when the first crop or resize
    needs no more pixels (:mod:`gluon_augplug.pipeline.fused`); it returns numpy.
    Build one with :func:`gluon_augplug.build_pipeline`.

    Parameters
    ----------
    transforms : sequence of Transform
    seed : int, optional
        Seed of the pipeline's random source; ``None`` draws fresh entropy.

    Notes
    -----
    Threads: a pipeline may be shared by threads (nothing is corrupted), but a seeded pipeline
    whose calls draw from its own stream is reproducible only when called from one thread: under
    threads, which call gets which numbers depends on scheduling. For reproducible results under
    threads pass ``rng=`` per call (e.g. ``np.random.default_rng((seed, index))``) or use
    :func:`gluon_augplug.augment`, whose samples are seeded by index. DataLoader worker
    processes each get a distinct stream (see :class:`RandomSource`).

    What a seed guarantees, by how the pipeline is used:

    * ``dataset.transform_first(pipeline)`` with ``num_workers=0``: the same epochs, run after run.
    * the same with ``num_workers > 0``: each worker draws a distinct stream, but which worker
      augments which sample depends on scheduling, so an epoch is not reproducible, and differs
      between 0 and 2 workers.
    * ``gluon_augplug.augment(dataset, pipeline, seed=s)``: every sample of every epoch is decided
      by (seed, index, epoch): the same whatever ``num_workers`` is, and resumable mid-epoch.
    """

    plan: Any = None  # a spec with schedules: its Plan (see at())

    def __init__(self, transforms: Sequence[Transform], seed: int | None = None, targets: Any = None):
        self._root = Compose(list(transforms))
        self._root.output_layout(HWC)  # order errors (Normalize before ToTensor...) surface here
        self.seed = seed
        self._source = RandomSource(seed)
        self.target_options = TargetOptions()
        self._checked: set = set()
        if targets is not None:  # the kinds of targets this pipeline will move: checked now, at build time
            kinds, options = declared_targets(targets)
            self.target_options = options
            self.check_targets(kinds)

    # -- applying ------------------------------------------------------------------
    def __call__(self, img: Any, rng: np.random.Generator | None = None, *extra: Any, boxes: Any = None,
                 masks: Any = None, keypoints: Any = None, polygons: Any = None) -> Any:
        """The augmented image; with ``boxes=``, ``masks=`` or ``keypoints=``, a tuple of the image and
        those targets, in that order (``img, boxes = pipeline(img, boxes=boxes)``, as GluonCV's transforms).

        ``pipeline(img, label)``, as Gluon's ``dataset.transform(pipeline)`` calls it on ``(img, label)`` items,
        gives ``(img, label)`` back. Deprecated for an array or dict label, whose kind is guessed from its shape
        (a ``DeprecationWarning``): say it with :meth:`for_dataset` (``dataset.transform(pipeline.for_dataset(
        label="mask"))``). The guess: a label of the image's height and width is a mask, moved with the image (a
        segmentation item); an (N, 4+) array is boxes with their extra columns (a detection item, as GluonCV's
        ``VOCDetection`` gives); a class id is returned as it is. ``pipeline(img, label, img_id)`` on a pose item
        (GluonCV's ``COCOKeyPoints``: a dict label with ``"bbox"`` and ``"joints_3d"``) gives ``(img, label,
        img_id)`` back with the box and joints moved (see :meth:`apply_pose`); any further items pass through."""
        if rng is not None and not isinstance(rng, np.random.Generator) and boxes is None and masks is None \
                and keypoints is None and polygons is None:
            if isinstance(rng, dict) and "joints_3d" in rng:
                warn_deprecated("Pipeline(img, label) with an array or dict label")
                done = self.apply_pose(img, rng)
                return (done.image, done.label, *extra)
            if extra:
                return (*self._call_with_label(img, rng), *extra)
            return self._call_with_label(img, rng)
        if boxes is None and masks is None and keypoints is None and polygons is None:
            return self._run(img, rng, None)[0]
        return self.apply(img, rng, boxes=boxes, masks=masks, keypoints=keypoints, polygons=polygons).as_tuple()

    def for_dataset(self, label: str = "class") -> Any:
        """This pipeline as Gluon's item transform ``fn(img, label, *rest)``, for ``dataset.transform(...)``, with
        the label's kind said: ``"class"``, ``"mask"``, ``"boxes"`` or ``"pose"`` (see
        :class:`~gluon_augplug.pipeline.items.ItemTransform`)."""
        from .items import ItemTransform

        return ItemTransform(self, label)

    def apply_pose(self, img: Any, label: dict, rng: np.random.Generator | None = None) -> Augmented:
        """Augment a pose item: ``label["bbox"]`` (the person, GluonCV's pixel indices) and ``label["joints_3d"]``
        ((K, 3, 2)) move with the image; the moved label (a copy, other keys kept) is ``augmented.label``.

        Every joint keeps its row (``keypoints_outside="drop"`` reads as ``"keep"``, ``"mark"`` zeroes the
        visibility of joints that leave the image) and the box is not clipped, as in GluonCV. A step that mirrors
        the image needs the target options' ``flip_pairs`` (GluonCV's ``joint_pairs``): without them the left and
        right joints would keep their rows, so that raises an InputError.
        """
        from dataclasses import replace

        from ..targets.joints import joints_3d_to_keypoints, keypoints_to_joints_3d, pose_box_to_xyxy, \
            xyxy_to_pose_box

        if "bbox" not in label:
            raise InputError(f"pose label: expected the keys 'bbox' and 'joints_3d', got {sorted(map(str, label))}")
        options = self.target_options
        options = replace(options, clip=False, keypoints_outside="keep" if options.keypoints_outside == "drop"
                          else options.keypoints_outside)
        done, state = self._apply_with_state(img, rng, None, pose_box_to_xyxy(label["bbox"]), None,
                                             joints_3d_to_keypoints(label["joints_3d"]), options)
        if state.mirrored and not options.flip_pairs:
            raise InputError("pose label: a step mirrored the image but the target options declare no flip_pairs, so "
                             "the left and right joints would keep their rows: build the pipeline with targets="
                             "{'kinds': ['boxes', 'keypoints'], 'options': {'flip_pairs': dataset.joint_pairs}} "
                             "(gluon_augplug.constants.COCO_FLIP_PAIRS for COCO's 17 joints)")
        moved = dict(label)
        moved["bbox"] = xyxy_to_pose_box(done.boxes) if len(done.boxes) else tuple(np.asarray(label["bbox"]))
        moved["joints_3d"] = keypoints_to_joints_3d(done.keypoints)
        done.label = moved
        return done

    def _call_with_label(self, img: Any, label: Any) -> tuple[Any, Any]:
        """``pipeline(img, label)``: the label read as a mask, boxes or a class id (see :meth:`__call__`)."""
        if isinstance(label, (int, float, np.integer, np.floating)) and not isinstance(label, bool):
            return self._run(img, None, None)[0], label
        given = label
        if type(label).__module__.split(".")[0] == "PIL" or isinstance(label, (list, tuple)):
            given = np.asarray(label)  # GluonCV's segmentation sets read PIL masks
        if not (isinstance(given, np.ndarray) or hasattr(given, "asnumpy")) or \
                (isinstance(given, np.ndarray) and given.dtype.kind not in "biuf"):
            raise InputTypeError(f"pipeline(img, label): the second argument is a random generator or a label, got "
                                 f"{type(label).__module__}.{type(label).__name__}; a label is a class id, a mask of "
                                 f"the image's size or an (N, 4+) box array; other targets go by keyword: "
                                 f"pipeline(img, boxes=..., masks=..., keypoints=...)")
        shape = tuple(given.shape)
        if len(shape) == 0 or shape == (1,):
            return self._run(img, None, None)[0], label
        warn_deprecated("Pipeline(img, label) with an array or dict label")
        if isinstance(img, EncodedImage):
            hw = tuple(img.size())
        else:
            hw = tuple(img.shape[:2]) if hasattr(img, "shape") else tuple(to_numpy(img).shape[:2])
        if len(shape) in (2, 3) and shape[:2] == hw:
            return self.apply(img, masks=given).as_tuple()
        if len(shape) == 2 and shape[1] >= 4:
            return self.apply(img, boxes=given).as_tuple()
        raise InputTypeError(f"pipeline(img, label): a label of shape {shape} is neither a mask of the image's size "
                             f"{hw[0]}x{hw[1]} (height x width) nor (N, 4+) boxes nor a class id")

    def apply_clip(self, clip: Any, rng: np.random.Generator | None = None, *, boxes: Any = None, masks: Any = None,
                   keypoints: Any = None, replay: Record | None = None, polygons: Any = None) -> Augmented:
        """Augment a video clip with one draw for all its frames; return an :class:`Augmented` whose image is the
        clip.

        ``pipeline(clip)``, :meth:`apply`, :meth:`apply_with_params` and :meth:`replay` do the same when given a
        clip: a (T, H, W, C) numpy array or NDArray, or a list of HWC frames. A clip is a batch of frames that
        share each step's draw: every step draws once, from the first frame (and its boxes), and applies that
        draw to each frame, so the clip's frames are exactly what :meth:`replay` of the first frame's record
        gives on each of them. The clip comes back in the form given ((T, H, W, C), or (T, C, H, W) after
        ``ToTensor``; a list of frames for a list); ``ThreeCrop`` and ``TenCrop`` return ``views * T`` frames in
        GluonCV's order.

        Parameters
        ----------
        boxes, masks, keypoints, polygons : list, optional
            One entry per frame, each as :meth:`apply` takes it for an image (instance masks and polygons
            included); they come back as lists, one entry per frame.
        replay : dict, optional
            A record (of a clip or of one image) to apply instead of drawing.
        """
        frames = to_clip(clip)
        given = {k: per_frame(v, len(frames), k) for k, v in (("boxes", boxes), ("masks", masks),
                                                               ("keypoints", keypoints), ("polygons", polygons))}
        hw = (int(frames.shape[1]), int(frames.shape[2]))
        states = None
        if any(v is not None for v in given.values()):
            def frame(kind: str, i: int) -> Any:
                entries = given[kind]
                if entries is None:
                    return None
                if kind == "masks" and not self.target_options.instance_masks and isinstance(entries[i], (list, tuple)):
                    return np.asarray(entries[i])  # a frame's mask (one per frame, as before instance masks)
                return entries[i]

            states = [self._target_state(hw, self.target_options, frame("boxes", i), frame("masks", i),
                                         frame("keypoints", i), frame("polygons", i)) for i in range(len(frames))]
            self.check_targets(states[0].kinds())
        if replay is not None:
            _check_record(replay)
        out, record = self._root.run_clip(frames, None if replay is not None else self._generator(rng), HWC,
                                          replay, states)
        record["in_hw"] = list(frames.shape[1:3])
        record["frames"] = int(len(frames))
        if out is frames or np.may_share_memory(out, clip if isinstance(clip, np.ndarray) else frames):
            out = out.copy()
        result = Augmented(image=like_clip(out, clip), record=record)
        if states is not None:
            moved = [self._moved_targets(state, hw, self.target_options, frame("boxes", i), frame("masks", i),
                                         frame("keypoints", i)) for i, state in enumerate(states)]
            for kind in ("boxes", "masks", "keypoints", "polygons"):
                if given[kind] is not None:
                    setattr(result, kind, [m[kind] for m in moved])
        return result

    def apply(self, img: Any, rng: np.random.Generator | None = None, *, boxes: Any = None, masks: Any = None,
              keypoints: Any = None, polygons: Any = None) -> Augmented:
        """Augment ``img`` and its targets together; return an :class:`Augmented` (image, boxes, masks,
        keypoints, record).

        A clip (a (T, H, W, C) array or a list of frames) goes to :meth:`apply_clip`.

        Parameters
        ----------
        boxes : array (N, 4+), optional
            In :attr:`target_options`' ``box_format`` (default pixel xmin, ymin, xmax, ymax); extra
            columns (class id, difficult flag) travel with their box, and a dropped box drops its row.
        masks : array (H, W) or (H, W, K), or a list of them, optional
            Label masks of the image's size: moved with nearest-neighbour sampling, never recoloured.
        keypoints : array (N, 2+), optional
            x, y (then any extra columns), in pixels.
        polygons : list, optional
            One list of polygons per instance (GluonCV's ``segm``: (K, 2) x, y arrays; or COCO's flat lists), moved
            exactly, vertex by vertex, and not clipped; with boxes, one instance per box, dropped with its box.
            :func:`gluon_augplug.targets.rasterize_polygons` makes the masks.
        """
        if is_clip(img):
            return self.apply_clip(img, rng, boxes=boxes, masks=masks, keypoints=keypoints, polygons=polygons)
        return self._apply(img, rng, None, boxes, masks, keypoints, polygons)

    def apply_with_params(self, img: Any, rng: np.random.Generator | None = None) -> tuple[Any, Record]:
        """Transform ``img`` and return ``(output, record)``; ``record`` holds every parameter applied
        and each step's input and output size."""
        return self._run(img, rng, None)

    def replay(self, img: Any, record: Record, *, boxes: Any = None, masks: Any = None, keypoints: Any = None,
               polygons: Any = None) -> Any:
        """Apply exactly the parameters in ``record`` (from :meth:`apply_with_params`) to ``img``, and to
        its ``boxes``/``masks``/``keypoints`` if given (then a tuple, as :meth:`__call__` returns).

        Size-dependent parameters (crop boxes) are in pixels of the recorded image. For a mask or boxes
        alone use :meth:`replay_targets` (replaying the image steps onto a mask would recolour it).
        """
        _check_record(record)
        if is_clip(img):
            done = self.apply_clip(img, boxes=boxes, masks=masks, keypoints=keypoints, replay=record, polygons=polygons)
            return done.image if boxes is None and masks is None and keypoints is None and polygons is None \
                else done.as_tuple()
        if boxes is None and masks is None and keypoints is None and polygons is None:
            return self._run(img, None, record)[0]
        return self._apply(img, None, record, boxes, masks, keypoints, polygons).as_tuple()

    def replay_targets(self, record: Record, *, boxes: Any = None, masks: Any = None, keypoints: Any = None,
                       polygons: Any = None) -> Any:
        """Move ``boxes``, ``masks`` or ``keypoints`` of the recorded image exactly as the record moved the
        image (its sizes are in the record): the targets, alone or as a tuple in that order."""
        _check_record(record)
        if "in_hw" not in record:
            raise ReplayError("this record has no image size (it was made before records carried sizes): replay it with "
                              "pipeline.replay(img, record, boxes=..., masks=...)")
        blank = np.zeros((*record["in_hw"], 3), np.uint8)
        result = self._apply(blank, None, record, boxes, masks, keypoints, polygons).as_tuple()[1:]
        return result[0] if len(result) == 1 else result

    def check_targets(self, kinds: Sequence[str]) -> None:
        """Raise :class:`SpecError` naming every step that cannot move ``kinds`` ("boxes", "masks", "keypoints",
        "polygons")."""
        kinds = tuple(sorted(set(kinds)))
        if not kinds or kinds in self._checked:  # no targets: any transform will do (apply() of an image alone)
            return
        check_kinds(kinds)
        # a scheduled pipeline: every step, those switched on at a later epoch too
        problem = child_problem(self._root if self.plan is None else Compose(self.plan.every_step()), kinds)
        if problem:
            raise SpecError(f"this pipeline cannot move {' and '.join(kinds)}: {problem}")
        self._checked.add(kinds)

    def _apply(self, img, rng, replay, boxes, masks, keypoints, polygons=None) -> Augmented:
        return self._apply_with_state(img, rng, replay, boxes, masks, keypoints, polygons=polygons)[0]

    def _apply_with_state(self, img, rng, replay, boxes, masks, keypoints, options=None,
                          polygons=None) -> tuple[Augmented, Any]:
        encoded = isinstance(img, EncodedImage)
        arr = None if encoded else to_numpy(img)
        if arr is not None:
            check_image(arr, HWC, "pipeline input")
        options = options or self.target_options
        hw = img.size() if encoded else (arr.shape[0], arr.shape[1])  # type: ignore[union-attr]  # arr: not encoded
        state = self._target_state(hw, options, boxes, masks, keypoints, polygons)
        self.check_targets(state.kinds())
        out, record = self._run_encoded(img, rng, replay, state) if encoded else \
            self._run_numpy(arr, rng, replay, state)
        out = like_input(out if out is not img else out.copy(), img)
        moved = self._moved_targets(state, hw, options, boxes, masks, keypoints)
        return Augmented(image=out, record=record, **moved), state

    @staticmethod
    def _target_state(hw: Any, options: TargetOptions, boxes: Any, masks: Any, keypoints: Any,
                      polygons: Any) -> TargetState:
        """The targets of one image (or of one frame of a clip) as the state every step moves."""
        mask_list = None if masks is None else [masks] if _one_mask(masks, options) else _instance_list(masks, hw)
        return TargetState(hw, options, boxes, mask_list, keypoints, polygons=polygons)

    @staticmethod
    def _moved_targets(state: TargetState, hw: Any, options: TargetOptions, boxes: Any, masks: Any,
                       keypoints: Any) -> dict:
        """The moved targets in the form they were given (``None`` where none were)."""
        state.flush()
        return {
            "boxes": None if boxes is None else _like(state.result_boxes(), boxes),
            "masks": None if masks is None else (_like(state.masks[0], masks) if _one_mask(masks, options)
                                                 else _instance_masks_like(state, masks, hw) if options.instance_masks
                                                 else [_like(m, o) for m, o in zip(state.masks, masks)]),
            "keypoints": None if keypoints is None else _like(state.keypoints, keypoints),
            "polygons": state.result_polygons(),
        }

    def _run(self, img: Any, rng: np.random.Generator | None, replay: Record | None) -> tuple[Any, Record]:
        if is_clip(img):
            done = self.apply_clip(img, rng, replay=replay)
            return done.image, done.record
        if isinstance(img, EncodedImage):
            return self._run_encoded(img, rng, replay, None)
        arr = to_numpy(img)
        check_image(arr, HWC, "pipeline input")
        out, record = self._run_numpy(arr, rng, replay, None)
        if out is img:
            out = out.copy()
        return like_input(out, img), record

    def _generator(self, rng: Any) -> np.random.Generator:
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise InputTypeError(f"pipeline(img, rng): the second argument is the random generator, got "
                                 f"{type(rng).__module__}.{type(rng).__name__}; pass targets by keyword: "
                                 f"pipeline(img, boxes=..., masks=..., keypoints=...)")
        return rng if rng is not None else self._source.generator()

    def _run_encoded(self, encoded: EncodedImage, rng: Any, replay: Record | None, state: Any) -> tuple:
        """An encoded image: decoded as the first step, at a reduced scale where the first crop allows."""
        out, record, hw = run_encoded(self._root, encoded, self._generator(rng), replay, state)
        record["in_hw"] = list(hw)
        return out, record

    def _run_numpy(self, arr, rng, replay, state):
        generator = self._generator(rng)
        if state is None:
            out, record = self._root.run(arr, generator, HWC, replay)
        else:
            out, record = self._root.run(arr, generator, HWC, replay, targets=state)
        record["in_hw"] = list(arr.shape[:2])
        return out, record

    def reseed(self, seed: int | None) -> "Pipeline":
        """Restart the random stream from ``seed``; returns self."""
        self.seed = seed
        self._source.reseed(seed)
        return self

    # -- describing ------------------------------------------------------------------
    @property
    def transforms(self) -> list[Transform]:
        return list(self._root.transforms)

    def to_spec(self) -> dict:
        """A spec that rebuilds an identical pipeline: ``{"seed": ..., "transforms": [...]}`` (its schedules and
        switched-off steps included)."""
        if self.plan is not None:
            return {"seed": self.seed, "transforms": list(self.plan.specs)}
        return {"seed": self.seed, "transforms": [t.to_spec() for t in self._root.transforms]}

    # -- schedules -------------------------------------------------------------------
    @property
    def scheduled(self) -> bool:
        """The spec holds a schedule or an ``active=`` switch: what runs depends on the epoch (see :meth:`at`)."""
        return self.plan is not None

    def at(self, epoch: Any = 0, step: int = 0, steps: int = 0) -> "Pipeline":
        """The pipeline at ``epoch`` epochs done and ``step`` iterations of ``steps`` into the next one: every
        scheduled parameter at its value then, the steps switched off then left out. An unscheduled pipeline
        is itself at every epoch. Called directly, a scheduled pipeline runs as it is at epoch 0;
        :func:`~gluon_augplug.augment` and ``augplug train`` resolve it for each sample's epoch and iteration."""
        if self.plan is None:
            return self
        from .schedule import clock_of

        return self.plan.at(clock_of(epoch, step, steps))

    def to_string(self) -> str:
        """The pipeline as a spec string (without its seed)."""
        return ", ".join(render_spec(item) for item in self.to_spec()["transforms"])

    def save(self, path: str) -> None:
        """Write :meth:`to_spec` as YAML (``.yaml``/``.yml``) or JSON (anything else), atomically."""
        from .._files import atomic_write

        spec = self.to_spec()

        def write(tmp: str) -> None:
            with open(tmp, "w", encoding="utf-8") as f:
                if str(path).lower().endswith((".yaml", ".yml")):
                    import yaml

                    yaml.safe_dump(spec, f, sort_keys=False)
                else:
                    json.dump(spec, f, indent=2)
                    f.write("\n")

        atomic_write(str(path), write)

    def output_layout(self) -> str:
        return self._root.output_layout(HWC)

    @property
    def clips_only(self) -> bool:
        """A step makes several views of each frame (ThreeCrop, TenCrop): the pipeline takes clips only."""
        def views(steps: Any) -> bool:
            return any(view_count(t) > 1 or views(getattr(t, "transforms", None) or ())
                       for t in steps)

        return views(self._root.transforms)

    def __len__(self) -> int:
        return len(self._root.transforms)

    def __iter__(self) -> Iterator[Transform]:
        return iter(self._root.transforms)

    def __getitem__(self, index: int) -> Transform:
        return self._root.transforms[index]

    def __repr__(self) -> str:
        return f"Pipeline({self.to_string()!r}, seed={self.seed!r})"
