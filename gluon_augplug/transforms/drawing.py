"""The one draw routine: how a step gets its parameters, for an image, a clip and a batch alike.

A step's parameters come from one of three places: a record being replayed, the step's ``sample()``
(given the image's current boxes when its signature has a ``targets`` parameter), or, for many images at
once, ``sample_batch()``. Every path (:meth:`Transform.run`, the clip path, the batch path) calls
:func:`draw_params` or :func:`draw_batch` here, so the rules are written once:

* replay: the recorded parameters, after checking the record names this step;
* ``sample(rng, shape, targets=boxes)`` when ``sample`` declares ``targets`` (the boxes as pixel xyxy
  (N, 4+), or None when the image has none), else ``sample(rng, shape)``;
* a clip is a batch of frames sharing one draw: its parameters are drawn once, from the first frame.

It also holds how the 0.1 ``run(img, rng, layout, replay)`` without ``targets`` is called (:func:`run_step`),
which composites and clips need; :mod:`gluon_augplug.compat` re-exports it.
"""
from __future__ import annotations

import inspect
from typing import Any, Sequence

import numpy as np

from ..errors import ReplayError
from ..targets.modes import overrides

Record = dict  # {"name": str, "params": dict | None, "children": [Record], "in_hw": [h, w], "out_hw": [h, w]}


def sample_takes_targets(cls: type) -> bool:
    """True when ``cls.sample`` has a parameter named ``targets``: it is then given the image's boxes (a ``**kwargs``
    does not count: a wrapper that forwards them to another ``sample`` would pass the boxes where they are not taken)."""
    sample = getattr(cls, "sample", None)
    if sample is None:
        return False
    try:
        parameters = inspect.signature(sample).parameters
    except (TypeError, ValueError):  # pragma: no cover - a builtin or C callable as sample: no keywords
        return False
    return "targets" in parameters


def step_name(step: Any) -> str:
    try:
        return step.spec_name
    except AttributeError:  # an older plugin's object that is not a Transform
        return type(step).__name__


def replayed_params(step: Any, replay: Record) -> dict:
    """The parameters ``replay`` recorded for ``step``; a :class:`ReplayError` when it recorded another step."""
    if replay.get("name") != step_name(step) or not isinstance(replay.get("params"), dict):
        raise ReplayError(f"recorded step {replay.get('name')!r} does not match transform {step_name(step)!r}")
    return replay["params"]


def draw_params(step: Any, rng: np.random.Generator, shape: tuple[int, int, int], replay: Record | None = None,
                boxes: Any = None) -> dict:
    """One draw of ``step``'s parameters for an image (or a clip's frames) of ``shape`` (H, W, C).

    ``boxes`` is the image's current boxes (a :class:`~gluon_augplug.targets.TargetState` to view, an array, or
    None), given to a ``sample`` that declares ``targets``."""
    if replay is not None:
        return replayed_params(step, replay)
    if step.needs_targets:
        view = boxes.view() if hasattr(boxes, "view") and not isinstance(boxes, np.ndarray) else boxes
        return step.sample(rng, shape, targets=view)
    return step.sample(rng, shape)


def draw_batch(step: Any, rng: np.random.Generator, n: int, shape: tuple[int, int, int], frames: int = 1) -> Any:
    """``step``'s parameters for a batch of ``n`` images of ``shape``: ``sample_batch`` (columns of n values, or n
    dicts); for a batch of clips of ``frames`` frames each, one draw per clip given to each of its frames."""
    if frames == 1:
        return step.sample_batch(rng, n, shape)
    return repeat_draws(step, step.sample_batch(rng, n // frames, shape), frames, n // frames)


def repeat_draws(step: Any, drawn: Any, t: int, clips: int) -> Any:
    """Draws for ``clips`` samples given to each sample's ``t`` frames in turn (columns repeated, dicts reused)."""
    from ..errors import SpecError

    if isinstance(drawn, dict):
        return {k: (np.repeat(v, t, axis=0) if isinstance(v, np.ndarray) and v.ndim and len(v) == clips else v)
                for k, v in drawn.items()}
    if isinstance(drawn, list) and len(drawn) == clips:
        return [p for p in drawn for _ in range(t)]
    raise SpecError(f"{step_name(step)}'s batch draw ({type(drawn).__name__}) has no per-sample form this "
                    f"package can give a clip's frames: it cannot run on batches of clips")


def record(step: Any, params: dict, in_hw: Sequence[int], out_hw: Sequence[int]) -> Record:
    """The record of one step applied with ``params`` (``in_hw`` and ``out_hw``: Python ints, from shapes)."""
    return {"name": step_name(step), "params": params, "in_hw": list(in_hw[:2]), "out_hw": list(out_hw[:2])}


# -- the 0.1 run() signature -----------------------------------------------------------------------------
def run_step(child: Any, img: np.ndarray, rng: np.random.Generator, layout: str, replay: Record | None,
             targets: Any = None) -> tuple[np.ndarray, Record]:
    """``child.run`` with targets only when there are some: a 0.1 plugin's own ``run()`` lacks the argument."""
    if targets is None:
        return child.run(img, rng, layout, replay)
    return child.run(img, rng, layout, replay, targets=targets)


def old_run_problem(transform: Any) -> str | None:
    """The message for a step whose own ``run()`` has the 0.1 signature (it cannot pass targets on), or None."""
    run = getattr(type(transform), "run", None)
    if run is not None and overrides(transform, "run") and "targets" not in inspect.signature(run).parameters:
        return (f"{step_name(transform)} overrides run() without a targets argument, so it cannot pass boxes, masks "
                f"or keypoints on")
    return None
