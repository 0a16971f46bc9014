"""The contract a transform follows, in one place: what it must define, and the optional hooks it may define.

A plugin's transform subclasses :class:`gluon_augplug.Transform` and defines:

* **its parameters**, as class attributes (``p = params.Probability(0.5)``, :mod:`gluon_augplug.params`);
* :meth:`~TransformContract.apply` (``apply(img, layout, **params) -> new array``): the pixels, for given
  parameters;
* if it draws: :meth:`~TransformContract.sample` (``sample(rng, shape) -> dict``), drawing only from ``rng``; a
  draw that depends on the image's boxes writes ``sample(rng, shape, targets=None)`` and is given them: pixel
  xyxy (N, 4+), possibly empty ((0, 4+): an image whose boxes all left, a batch sample of -1 rows only, a
  pipeline that moves masks alone), or None when no boxes were given; a clip's one draw gets its first frame's.
  ``random`` is inferred: a class that writes ``sample`` (or ``draw``) is random unless it says
  ``random = False``;
* if it moves pixels: ``target_mode = "geometric"``, :meth:`~TransformContract.geometry` (the 3x3 map) and, when
  the size changes, :meth:`~TransformContract.output_hw`. A pixel-only op says ``target_mode = "pixel"``.

That is enough for images, clips (a clip is a batch of frames sharing one draw), batches (a geometric op through
its map, a pixel op through its ``apply`` on each image) and boxes, masks, keypoints and polygons. Everything else
is optional, listed in :data:`OPTIONAL_HOOKS` with its type and default, and read only through :func:`hook`
(nothing else is looked up on a transform by name).
"""
from __future__ import annotations

from typing import Any, NamedTuple, Protocol

import numpy as np


class TransformContract(Protocol):
    """What every transform defines (``sample``, ``geometry`` and ``output_hw`` where they apply; see the module)."""

    def apply(self, img: np.ndarray, layout: str, **params: Any) -> np.ndarray: ...

    def sample(self, rng: np.random.Generator, shape: tuple[int, int, int]) -> dict: ...

    def geometry(self, params: dict, in_hw: tuple[int, int], out_hw: tuple[int, int]) -> np.ndarray: ...

    def output_hw(self, params: dict, in_hw: tuple[int, int]) -> tuple[int, int]: ...


class OptionalHook(NamedTuple):
    """One optional hook of a transform: its name, its type as written in the class, its default and its use."""

    name: str
    type: str
    default: Any
    doc: str


OPTIONAL_HOOKS: dict[str, OptionalHook] = {h.name: h for h in (
    OptionalHook("draw", "method (rng, shape, size) -> dict", None,
                 "The draw written once for one image (size=None) and for a batch of size images (arrays of size "
                 "values): it is then both sample() and sample_batch()."),
    OptionalHook("sample_batch", "method (rng, n, shape) -> list of n dicts, or dict of columns", None,
                 "A batch's parameters at once (default: draw(), else sample() n times)."),
    OptionalHook("apply_clip", "method (clip, layout, **params) -> clip", None,
                 "A whole-clip version of apply() (default: apply() on each frame with the one draw)."),
    OptionalHook("apply_batch", "method (state: BatchState, params) -> None", None,
                 "A batch path of one's own, on the documented BatchState (default: geometry() for a geometric op, "
                 "apply() on each image for a pixel op)."),
    OptionalHook("check_batch", "method () -> None", None,
                 "Refuse (self.invalid(name, allowed)) a parameter value the batch path does not support."),
    OptionalHook("apply_boxes / apply_mask / apply_keypoints", "methods (target, params, in_hw, out_hw)", None,
                 "For a geometric op that is not affine (no geometry()): move each kind itself (per sample only)."),
    OptionalHook("target_problem", "method (kinds: tuple of str) -> str or None", None,
                 "Why the op cannot move some kinds of targets (a tile shuffle tears polygons), or None."),
    OptionalHook("keep_boxes", "method (boxes, params, in_hw) -> bool array, or None", None,
                 "Which boxes (pixel xyxy, before the step) survive it (RandomIoUCrop's centre rule)."),
    OptionalHook("mask_fill", "int", 0,
                 "The label of mask pixels the step brings in from outside its input (a pad's ignore label)."),
    OptionalHook("pixels_follow_geometry", "bool", True,
                 "A geometric op's output is its input warped by geometry() and nothing else (so batches run "
                 "through the map alone); False for one that also changes values (RandAugment)."),
    OptionalHook("views", "int", 1,
                 "How many views of each frame the op makes (ThreeCrop: 3, TenCrop: 10; clips only)."),
    OptionalHook("decode_window", "method (params, in_hw) -> DecodeWindow or None", None,
                 "For a crop-and-resize step: the window it reads, so that a JPEG is decoded at a reduced scale."),
    OptionalHook("example", "dict", None,
                 "Parameters that build a typical instance when the defaults do not (listings, the harness)."),
)}

#: what every transform must (or, where it applies, does) define: the contract proper
REQUIRED = ("apply", "sample", "geometry", "output_hw", "target_mode")

#: class attributes that describe a transform (declared, or inferred where the comment says)
FLAGS = ("random",  # inferred from sample()/draw() unless said
         "accepts", "produces", "batch_only", "mixes_labels", "parameters",  # parameters: from the declarations
         "needs_targets", "targets")  # read from sample()'s signature / target_mode's old name: not to be set

#: what the package calls on a transform and an author does not write: running it, its spec, its parameters
MACHINERY = ("run", "run_clip", "run_batch", "output_layout", "supports_batch", "batch_path", "spec_name", "spec_params",
             "to_spec", "get_params", "invalid", "setup")

_HOOK_OF = {name: row for key, row in OPTIONAL_HOOKS.items() for name in key.split(" / ")}

_FLAGS_READ = {"random": False, "needs_targets": False}  # the two flags the machinery reads off any step


def hook(step: Any, name: str) -> Any:
    """The optional hook ``name`` of ``step`` (a :class:`~gluon_augplug.Transform`, or an older plugin's object that
    is not one), or its documented default. Only the names of :data:`OPTIONAL_HOOKS` (and the flags ``random``
    and ``needs_targets``) can be asked for: a misspelt name is an error here, not a silent default."""
    if name in _HOOK_OF:
        return getattr(step, name, _HOOK_OF[name].default)
    if name in _FLAGS_READ:
        return getattr(step, name, _FLAGS_READ[name])
    raise KeyError(f"{name!r} is not an optional hook of the transform contract ({', '.join(sorted(_HOOK_OF))})")


def views(step: Any) -> int:
    """How many views of each frame ``step`` makes (1 for a step that maps a frame to a frame)."""
    return int(hook(step, "views") or 1)

