"""The clip path of a transform: one draw, applied to every frame of a video clip.

A clip is a numpy array of frames, (T, H, W, C) or, after ``ToTensor``, (T, C, H, W). A transform
draws its parameters once, from the first frame's shape, and applies them to each frame
(:meth:`Clips.apply_clip`, which a class may write for a faster whole-clip version). So a plugin
transform that follows the contract (draw in ``sample``, pixels in ``apply``) gets clips right
without code of its own. A class that writes its own ``run()`` (composites, adapters, plugins of
0.1) runs frame 0 and replays that frame's record on the others: again one draw.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Sequence

import numpy as np

from ..errors import ReplayError, SpecError
from ..targets.modes import overrides
from .arrays import HWC, hwc_shape
from .drawing import draw_params, record, run_step, step_name


def frame_hw(clip: np.ndarray, layout: str) -> tuple[int, int]:
    """Height and width of a clip's frames."""
    return (int(clip.shape[1]), int(clip.shape[2])) if layout == HWC else (int(clip.shape[2]), int(clip.shape[3]))


def stack_frames(first: np.ndarray, count: int) -> np.ndarray:
    """An empty clip of ``count`` frames shaped and typed as ``first``, with ``first`` as frame 0."""
    out = np.empty((count,) + first.shape, first.dtype)
    out[0] = first
    return out


class Clips:
    """The clip half of :class:`~gluon_augplug.Transform` (a mixin: read it as part of that class)."""

    #: the number of views a transform makes of each frame (1: it maps a frame to a frame). ``ThreeCrop``
    #: and ``TenCrop`` make several: they run on clips only, and the clip comes out with ``views * T`` frames.
    views: ClassVar[int] = 1

    if TYPE_CHECKING:  # given by Transform
        needs_targets: ClassVar[bool]
        produces: ClassVar[str | None]

        def sample(self, rng: np.random.Generator, shape: tuple[int, int, int]) -> dict: ...

        def apply(self, img: np.ndarray, layout: str, **params: Any) -> np.ndarray: ...

        def run(self, img: np.ndarray, rng: np.random.Generator, layout: str, replay: Any = None,
                targets: Any = None) -> tuple[np.ndarray, dict]: ...

        def _replayed_params(self, replay: dict) -> dict: ...

    def apply_clip(self, clip: np.ndarray, layout: str, **params: Any) -> np.ndarray:
        """``params`` applied to every frame of ``clip`` (T frames in ``layout``): a new clip array.

        Default: :meth:`apply` frame by frame. A class may write a whole-clip version (one array operation
        over T frames); it must give what :meth:`apply` gives on each frame (the harness's ``clips`` check
        compares them)."""
        out = stack_frames(self.apply(clip[0], layout, **params), len(clip))
        for i in range(1, len(clip)):
            out[i] = self.apply(clip[i], layout, **params)
        return out

    def run_clip(self, clip: np.ndarray, rng: np.random.Generator, layout: str, replay: dict | None = None,
                 targets: Sequence[Any] | None = None) -> tuple[np.ndarray, dict]:
        """Transform every frame of ``clip`` with one draw, and each frame's targets (a list of
        :class:`~gluon_augplug.targets.TargetState`, one per frame) with it; return the clip and the record
        (the record of one image: it replays onto a single frame as well)."""
        if overrides(self, "run"):  # a run() of its own: frame 0 draws, the other frames replay it
            return replay_frames(self, clip, rng, layout, replay, targets)
        shape = hwc_shape(clip[0], layout)
        params = draw_params(self, rng, shape, replay, targets[0] if targets else None)  # the first frame's boxes
        out = self.apply_clip(clip, layout, **params)
        out_hw = frame_hw(out, self.produces or layout)
        if targets:
            for state in targets:
                state.step(self, params, shape[:2], out_hw)
        return out, record(self, params, shape, out_hw)


def replay_frames(step: Any, clip: np.ndarray, rng: np.random.Generator, layout: str, replay: dict | None,
                  targets: Sequence[Any] | None) -> tuple[np.ndarray, dict]:
    """Run ``step`` (anything with the ``run()`` of a Transform) on frame 0, then replay frame 0's record on
    every other frame: one draw for the clip whatever the step does inside ``run``."""
    def state(i: int) -> Any:
        return targets[i] if targets else None

    first, record = run_step(step, clip[0], rng, layout, replay, state(0))
    out = stack_frames(first, len(clip))
    for i in range(1, len(clip)):
        try:
            out[i], _ = run_step(step, clip[i], rng, layout, record, state(i))
        except ReplayError as err:
            raise SpecError(f"{step_name(step)} cannot give every frame of a clip "
                            f"the same draw: {err}") from None
    return out, record


def run_clip_step(step: Any, clip: np.ndarray, rng: np.random.Generator, layout: str, replay: dict | None,
                  targets: Sequence[Any] | None) -> tuple[np.ndarray, dict]:
    """``step.run_clip``, or frame 0 and replay for a step that is not a Transform of this version."""
    run_clip = getattr(step, "run_clip", None)
    if run_clip is None:
        return replay_frames(step, clip, rng, layout, replay, targets)
    return run_clip(clip, rng, layout, replay, targets)
