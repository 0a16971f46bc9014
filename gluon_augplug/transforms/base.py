"""The base class of every transform (one image, or a whole batch).

A transform splits its work in two: :meth:`Transform.sample` draws the random
parameters for one image from a ``numpy.random.Generator``, :meth:`Transform.apply`
applies given parameters. That split is what makes seeding, replay (the same
parameters on another image) and per-sample counter-based seeding possible. The same
class may also run on whole batches (:meth:`Transform.sample_batch`,
:meth:`Transform.apply_batch`), and declares its parameters once
(:mod:`gluon_augplug.params`).
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._deprecation import warn_deprecated
from ..errors import InputError, InputTypeError, ParameterError, ReplayError, SpecError  # noqa: F401  (importable here)
from ..params import Param  # noqa: F401
from .. import randomness as _randomness
from ..targets.modes import TargetMode, _mode, default_method, overrides
# the pieces of Transform, a module per concern; their names stay importable from here
from .arrays import (CHW, HWC, check_image, guess_layout, hwc_shape, is_ndarray, like_input,  # noqa: F401
                     to_numpy, _PIXEL_TYPES)
from .batching import Batching
from .clips import Clips
from .declared import Declared, _own_init  # noqa: F401
from .drawing import Record, draw_params, replayed_params, sample_takes_targets
from .moving import DecodeWindow, Moving, _TARGET_METHODS  # noqa: F401
from .specified import Specified, _equal, _plain  # noqa: F401


class Transform(Declared, Moving, Batching, Clips):
    """Base class of gluon_augplug transforms (built-in and third-party).

    Subclasses implement :meth:`apply` and, if random, :meth:`sample`. Parameters are
    declared as class attributes (``p = params.Probability(0.5)``, see
    :mod:`gluon_augplug.params`): the base class then builds the constructor, validates
    every value under the subclass's name and lists them. A subclass may instead write its
    own ``__init__`` and store each parameter under an attribute of the same name (the
    0.1 way, still supported). Calling a transform accepts an ``mx.nd.NDArray`` or a
    numpy array and returns the same type.

    The same class may run on whole batches (``build_batch_pipeline``, ``augplug train
    --batch-aug``): a geometric transform through its :meth:`geometry` alone, others by
    implementing :meth:`apply_batch` (and :meth:`sample_batch` to draw a batch's parameters at
    once); without either it is per-sample only.

    Its members come in five parts, a module each: the declared parameters
    (:class:`~gluon_augplug.transforms.declared.Declared`), drawing and applying (here), the geometry
    and targets (:class:`~gluon_augplug.transforms.moving.Moving`), the batch path
    (:class:`~gluon_augplug.transforms.batching.Batching`) and the clip path
    (:class:`~gluon_augplug.transforms.clips.Clips`: one draw for every frame of a video clip).

    Class attributes
    ----------------
    random : bool
        The transform draws random numbers.
    accepts : tuple of str
        Layouts of the input it takes: ``"HWC"`` (images) and/or ``"CHW"`` (tensors).
    produces : str or None
        The layout it outputs; ``None`` = unchanged.
    batch_only : bool
        It works on whole batches only (Mixup, CutMix): per-sample pipelines refuse it.
    mixes_labels : bool
        It mixes samples, so a batch pipeline needs the labels and returns soft targets.
    example : dict
        Parameters that build a typical instance when the defaults do not (listings, harness).
    parameters : dict of str to Param
        The declared parameters in constructor order (filled in from the class attributes).
    target_mode : TargetMode
        How the transform treats boxes, masks and keypoints: ``TargetMode.PIXEL`` (or ``"pixel"``: it
        changes pixel values only, targets untouched) or ``TargetMode.GEOMETRIC`` (``"geometric"``: it
        moves pixels: implement :meth:`geometry`, or :meth:`apply_boxes`, :meth:`apply_mask` and
        :meth:`apply_keypoints`). Undeclared: the transform cannot be used with targets (a clear error,
        never wrong boxes). The name before 0.4, ``targets = "pixel"``, is read the same way, and
        ``targets`` keeps giving the mode's string.
    pixels_follow_geometry : bool
        For a geometric transform with :meth:`geometry`: its output pixels are the input warped by that map
        and nothing else (default True), so it runs on batches through the map alone. One that also
        changes values (a policy of colour and geometric operations, as RandAugment) sets it False and
        runs per sample, or writes :meth:`apply_batch`. The harness's ``batch`` check compares a batch of
        one with the per-sample output and says which to do.
    needs_targets : bool
        :meth:`sample` needs the image's current boxes (an IoU-constrained crop): it is called as
        ``sample(rng, shape, targets=boxes)`` with pixel xyxy boxes (N, 4+), or ``None`` when the
        image has none.
    """

    random: ClassVar[bool] = False
    accepts: ClassVar[tuple[str, ...]] = (HWC,)
    produces: ClassVar[str | None] = None
    batch_only: ClassVar[bool] = False
    mixes_labels: ClassVar[bool] = False
    example: ClassVar[dict | None] = None
    target_mode: ClassVar[TargetMode] = TargetMode.UNDECLARED
    targets: ClassVar[str | None] = None  # the target mode's name before 0.4 (kept in step with target_mode)
    needs_targets: ClassVar[bool] = False  # read from sample()'s signature (a targets parameter); not to be set
    pixels_follow_geometry: ClassVar[bool] = True
    _draws: ClassVar[bool] = False  # the class writes draw(): it is sample() and sample_batch()
    _random_inferred: ClassVar[bool] = False  # no class of the MRO says random: it was read from sample()/draw()
    _declared_needs_targets: ClassVar[bool | None] = None  # the 0.3 flag, as a class of the MRO set it (it wins)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)  # the declared parameters (Declared)
        cls._draws = overrides(cls, "draw")
        own = vars(cls)
        if "targets" in own and "target_mode" not in own and own["targets"] is not None:
            warn_deprecated('targets = "pixel" / "geometric" (class attribute)')
        mode = _declared_mode(cls)
        cls.target_mode, cls.targets = mode, (None if mode is TargetMode.UNDECLARED else mode.value)
        if "needs_targets" in own:  # set in the class body (0.3): read from sample()'s signature now
            warn_deprecated("Transform.needs_targets")
            cls._declared_needs_targets = bool(own["needs_targets"])
        declared = cls._declared_needs_targets
        cls.needs_targets = declared if declared is not None else sample_takes_targets(cls)
        # a value this method inferred for a parent is stored on it too, with _random_inferred: not a declaration
        declares_random = any("random" in vars(k) and not vars(k).get("_random_inferred", False)
                              for k in cls.__mro__[:cls.__mro__.index(Transform)])
        cls._random_inferred = not declares_random
        if not declares_random:  # random unless it draws nothing: a sample() or draw() of its own draws
            cls.random = overrides(cls, "sample") or cls._draws

    # -- to implement --------------------------------------------------------
    @default_method
    def sample(self, rng: np.random.Generator, shape: tuple[int, int, int]) -> dict:
        """Draw this image's random parameters (JSON-friendly values) for an image of ``shape`` (H, W, C).

        Default: :meth:`draw` for one image when the class writes it, else no parameters."""
        if self._draws:
            return self.draw(rng, shape, None)
        return {}

    @default_method
    def draw(self, rng: np.random.Generator, shape: tuple[int, int, int], size: int | None) -> dict:
        """Optional: the random draw written once for one image (``size=None``: Python numbers, JSON-friendly
        as :meth:`sample`'s) and for a batch of ``size`` images of ``shape`` (arrays of ``size`` values, drawn
        at once: ``rng.integers(0, k, size)`` is the same stream either way). Written, it is both
        :meth:`sample` and :meth:`sample_batch`, and then :meth:`geometry` and :meth:`output_hw` take such
        columns too (arrays of n values: return (n, 3, 3) maps and the one output size)."""
        raise NotImplementedError

    def apply(self, img: np.ndarray, layout: str, **params: Any) -> np.ndarray:
        """Return a new array: ``img`` transformed with ``params``; never modify ``img``."""
        if self.batch_only:
            raise SpecError(f"{self.spec_name} works on whole batches only: use it in a batch pipeline "
                            f"(build_batch_pipeline, augplug train --batch-aug)")
        raise NotImplementedError

    # -- machinery -------------------------------------------------------------
    @default_method
    def run(self, img: np.ndarray, rng: np.random.Generator, layout: str,
            replay: Record | None = None, targets: Any = None) -> tuple[np.ndarray, Record]:
        """Transform a numpy image, and ``targets`` (a :class:`gluon_augplug.targets.TargetState`) with
        it; return the image with the record of the parameters applied and of the sizes in and out."""
        shape = hwc_shape(img, layout)
        params = draw_params(self, rng, shape, replay, targets)
        out = self.apply(img, layout, **params)
        out_hw = out.shape[:2] if (self.produces or layout) == HWC else out.shape[1:]
        if targets is not None:
            targets.step(self, params, shape[:2], out_hw)
        # record(), written out on this hottest path (a CIFAR pipeline calls it 30k times a second)
        return out, {"name": self.spec_name, "params": params, "in_hw": list(shape[:2]), "out_hw": list(out_hw)}

    def _replayed_params(self, replay: Record) -> dict:
        return replayed_params(self, replay)

    def output_layout(self, layout: str) -> str:
        """Layout after this transform given the input ``layout``; raise :class:`SpecError` if it cannot take it."""
        if layout not in self.accepts:
            where = "after ToTensor" if CHW in self.accepts else "before ToTensor"
            raise SpecError(f"{self.spec_name} takes {' or '.join(self.accepts)} input but gets {layout} here; "
                            f"place it {where}")
        return self.produces or layout

    def __call__(self, img: Any, rng: np.random.Generator | None = None) -> Any:
        arr = to_numpy(img)
        layout = guess_layout(arr) if len(self.accepts) > 1 or self.accepts == (CHW,) else HWC
        check_image(arr, layout, self.spec_name)
        out, _ = self.run(arr, rng if rng is not None else _randomness.default_source().generator(), layout)
        return like_input(out, img)


def _declared_mode(cls: type) -> TargetMode:
    """The target mode the nearest class of ``cls``'s MRO declares, under either name."""
    for klass in cls.__mro__:
        own = vars(klass)
        if "target_mode" in own or "targets" in own:
            value = own.get("target_mode")
            if value is None or (value is TargetMode.UNDECLARED and own.get("targets") is not None):
                value = own.get("targets")
            return _mode(value)
    return TargetMode.UNDECLARED


def registration_hook(module: str) -> Any:
    """The ``augplug_register_transforms`` hook of a built-in module: it registers every public
    :class:`Transform` subclass the module defines, under its class name (the ``builtin`` plugin
    is these hooks; adding a built-in is writing its class)."""
    import sys

    from ..plugins.hookspecs import hookimpl

    @hookimpl
    def augplug_register_transforms(register):
        for name, obj in list(vars(sys.modules[module]).items()):
            if (isinstance(obj, type) and issubclass(obj, Transform) and obj.__module__ == module
                    and not name.startswith("_")):
                register(name, obj)

    return augplug_register_transforms


def __getattr__(name: str) -> Any:  # their home before 0.2, warning
    if name in ("RandomSource", "default_source"):
        warn_deprecated("gluon_augplug.transforms.base.RandomSource / default_source")
        return getattr(_randomness, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
