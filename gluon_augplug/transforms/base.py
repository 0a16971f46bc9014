"""The base class of every transform (one image, or a whole batch), and image conversions.

A transform splits its work in two: :meth:`Transform.sample` draws the random
parameters for one image from a ``numpy.random.Generator``, :meth:`Transform.apply`
applies given parameters. That split is what makes seeding, replay (the same
parameters on another image) and per-sample counter-based seeding possible. The same
class may also run on whole batches (:meth:`Transform.sample_batch`,
:meth:`Transform.apply_batch`), and declares its parameters once
(:mod:`gluon_augplug.params`).
"""
from __future__ import annotations

import inspect
from typing import Any, ClassVar, NamedTuple

import numpy as np

from ..errors import InputError, InputTypeError, ParameterError, ReplayError, SpecError
from ..params import Param
from ..randomness import RandomSource, default_source  # noqa: F401  (their home before 0.2)
from ..targets.modes import TargetMode, _mode, default_method, moves_by_geometry, overrides, target_mode, undeclared

HWC = "HWC"
CHW = "CHW"
Record = dict  # {"name": str, "params": dict | None, "children": [Record]}


class DecodeWindow(NamedTuple):
    """What a crop or resize step reads of its input and makes of it (:meth:`Transform.decode_window`):
    the window ``(x0, y0, w, h)`` in input pixels, the output size ``out_hw`` and the interpolation."""

    x0: float
    y0: float
    w: float
    h: float
    out_hw: tuple[int, int]
    interpolation: int


def is_ndarray(obj: Any) -> bool:
    """True for an ``mxnet.nd.NDArray`` (checked without importing MXNet)."""
    return type(obj).__module__.startswith("mxnet") and hasattr(obj, "asnumpy")


def to_numpy(img: Any) -> np.ndarray:
    if isinstance(img, np.ndarray):
        return img
    if is_ndarray(img):
        return img.asnumpy()
    raise InputTypeError(
        f"expected an image as mxnet.nd.NDArray or numpy.ndarray, got {type(img).__module__}.{type(img).__name__}"
    )


def like_input(out: np.ndarray, original: Any) -> Any:
    """Return ``out`` in the type of ``original`` (NDArray on the same context, or numpy)."""
    if is_ndarray(original):
        from .._mxnet import nd_from_numpy

        if out.base is not None or not out.flags.c_contiguous:  # zero-copy needs an array of its own
            out = np.ascontiguousarray(out) if out.base is None else out.copy()
        result = nd_from_numpy(out)  # zero-copy hand-over: `out` is ours alone
        ctx = original.context
        if not (ctx.device_typeid == 1 and ctx.device_id == 0):
            result = result.as_in_context(ctx)
        # an mxnet.numpy array (code run under npx.set_np(), as D2L's) gets one back, without a copy
        return result.as_np_ndarray() if type(original).__module__.startswith("mxnet.numpy") else result
    return out


def check_image(img: np.ndarray, layout: str = HWC, where: str = "pipeline") -> None:
    """Raise a clear error unless ``img`` is a non-empty 3-D image in ``layout`` with 1, 3 or 4 channels,
    of uint8, float32 or float64 pixels, all finite.

    Raises
    ------
    InputError
        The shape is wrong or empty, or a float image holds NaN or infinity.
    InputTypeError
        The pixel type is not uint8, float32 or float64 (float16: convert it to float32 first).
    """
    if img.ndim != 3:
        raise InputError(f"{where}: expected one {layout} image with 3 dimensions, got shape {tuple(img.shape)}"
                         + (" (a batch? per-sample transforms take one image)" if img.ndim == 4 else ""))
    channels = img.shape[2] if layout == HWC else img.shape[0]
    if channels not in (1, 3, 4):
        raise InputError(f"{where}: expected an {layout} image with 1, 3 or 4 channels, got shape {tuple(img.shape)}")
    height, width = (img.shape[0], img.shape[1]) if layout == HWC else (img.shape[1], img.shape[2])
    if height < 1 or width < 1:
        raise InputError(f"{where}: the image is empty ({height}x{width} pixels, shape {tuple(img.shape)})")
    if img.dtype not in _PIXEL_TYPES:
        hint = " (convert it with .astype('float32'))" if img.dtype.kind == "f" else ""
        raise InputTypeError(f"{where}: expected uint8, float32 or float64 pixels, got {img.dtype}{hint}")
    # a sum is far cheaper than isfinite over every pixel, and is finite exactly when the pixels are
    # (or so large that they are out of any image's range: then the precise check below names them)
    if img.dtype.kind == "f" and not np.isfinite(img.sum(dtype=np.float64)) and not np.isfinite(img).all():
        raise InputError(f"{where}: the float image holds NaN or infinite pixels "
                         f"({int((~np.isfinite(img)).sum())} of {img.size} values)")


_PIXEL_TYPES = (np.dtype(np.uint8), np.dtype(np.float32), np.dtype(np.float64))


def hwc_shape(img: np.ndarray, layout: str) -> tuple[int, int, int]:
    if layout == CHW:
        c, h, w = img.shape
        return h, w, c
    return img.shape  # type: ignore[return-value]


def guess_layout(img: np.ndarray) -> str:
    """Layout of an image handed to a transform called outside a pipeline."""
    if img.dtype.kind == "f" and img.ndim == 3 and img.shape[0] in (1, 3) and img.shape[2] not in (1, 3):
        return CHW
    return HWC


class Specified:
    """What every buildable transform shares: its spec name and the parameters that rebuild it.

    Subclasses declare their parameters (:mod:`gluon_augplug.params`) or store each
    constructor parameter under an attribute of the same name.
    """

    # set by the pipeline builder: the name used in the spec and the parameters given
    _spec_name: str | None = None
    _spec_params: dict | None = None
    parameters: ClassVar[dict[str, Param]] = {}

    @property
    def spec_name(self) -> str:
        return self._spec_name or type(self).__name__

    def get_params(self) -> dict:
        """The constructor parameters that rebuild this transform (the values as given)."""
        if self._spec_params is not None:
            return dict(self._spec_params)
        given = self.__dict__.get("_param_given", {})
        params = {}
        for name, p in inspect.signature(type(self)).parameters.items():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or not (name in given or hasattr(self, name)):
                continue
            value = given[name] if name in given else getattr(self, name)
            if p.default is p.empty or not _equal(value, p.default):
                params[name] = value
        return params

    def to_spec(self) -> dict:
        """``{"name": ..., "params": {...}}``, buildable by :func:`gluon_augplug.build_pipeline`."""
        return {"name": self.spec_name, "params": _plain(self.get_params())}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{self.spec_name}({args})"


class Transform(Specified):
    """Base class of gluon_augplug transforms (built-in and third-party).

    Subclasses implement :meth:`apply` and, if random, :meth:`sample`. Parameters are
    declared as class attributes (``p = params.Probability(0.5)``, see
    :mod:`gluon_augplug.params`): the base class then builds the constructor, validates
    every value under the subclass's name and lists them. A subclass may instead write its
    own ``__init__`` and store each parameter under an attribute of the same name (the
    0.1 way, still supported). Calling a transform accepts an ``mx.nd.NDArray`` or a
    numpy array and returns the same type.

    The same class may run on whole batches (``build_batch_pipeline``, ``augplug train
    --batch-aug``): implement :meth:`apply_batch` (and :meth:`sample_batch` to draw a
    batch's parameters at once). A transform without :meth:`apply_batch` is per-sample only.

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
    needs_targets: ClassVar[bool] = False
    _declared_signature: ClassVar[inspect.Signature] = inspect.Signature()
    _draws: ClassVar[bool] = False  # the class writes draw(): it is sample() and sample_batch()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._draws = overrides(cls, "draw")
        mode = _declared_mode(cls)
        cls.target_mode, cls.targets = mode, (None if mode is TargetMode.UNDECLARED else mode.value)
        own = [(k, v) for k, v in vars(cls).items() if isinstance(v, Param)]
        # every direct base's declared parameters (class X(Mixin, _MaybeApply) keeps p), in base order; a base's
        # own list already lacks what it dropped, and a subclass drops one by assigning a plain value
        inherited: list = []
        for base in cls.__bases__:
            inherited += [(k, v) for k, v in getattr(base, "parameters", {}).items()
                          if k not in vars(cls) and all(k != name for name, _ in inherited)]
        cls.parameters = dict(own + inherited)  # its own first: Solarize(threshold, p) after _MaybeApply(p)
        cls._declared_signature = inspect.Signature([
            inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              default=inspect.Parameter.empty if p.required else p.default)
            for name, p in cls.parameters.items()])
        # the generated constructor's signature, unless the class writes its own __init__
        signature = cls._declared_signature if _own_init(cls) is Transform.__init__ else None
        cls.__signature__ = signature  # type: ignore[attr-defined]

    def __init__(self, *args: Any, **kwargs: Any):
        declared = type(self).parameters
        if not declared:
            if args or kwargs:
                raise TypeError(f"{type(self).__name__}() takes no parameters")
            self.setup()
            return
        try:
            bound = type(self)._declared_signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{type(self).__name__}: {exc}") from None
        bound.apply_defaults()
        for name, value in bound.arguments.items():
            setattr(self, name, value)  # the declaration validates it under this class's name
        self.setup()

    def __setattr__(self, name: str, value: Any) -> None:
        param = type(self).parameters.get(name)
        if param is not None:  # a declared parameter: validated on every assignment
            value = param.assign(self, value)
        object.__setattr__(self, name, value)

    def setup(self) -> None:
        """Check rules that span several parameters and derive state from them (after validation).

        Raise ``self.invalid(name, allowed)`` for a value that breaks such a rule.
        """

    def invalid(self, name: str, allowed: str) -> ParameterError:
        """The :class:`ParameterError` for parameter ``name``'s given value, under this class's name."""
        value = self.__dict__.get("_param_given", {}).get(name, getattr(self, name, None))
        return ParameterError(type(self).__name__, name, value, allowed)

    # -- to implement --------------------------------------------------------
    def sample(self, rng: np.random.Generator, shape: tuple[int, int, int]) -> dict:
        """Draw this image's random parameters (JSON-friendly values) for an image of ``shape`` (H, W, C).

        Default: :meth:`draw` for one image when the class writes it, else no parameters."""
        if self._draws:
            params = self.draw(rng, shape, None)
            for name, value in params.items():
                if isinstance(value, np.generic):  # JSON-friendly: numbers, not numpy scalars
                    params[name] = value.item()
            return params
        return {}

    @default_method
    def draw(self, rng: np.random.Generator, shape: tuple[int, int, int], size: int | None) -> dict:
        """Optional: the random draw written once for one image (``size=None``: numbers) and for a batch of
        ``size`` images of ``shape`` (arrays of ``size`` values, drawn at once). Written, it is both
        :meth:`sample` and :meth:`sample_batch`, and then :meth:`geometry` and :meth:`output_hw` take such
        columns too (arrays of n values: return (n, 3, 3) maps and the one output size)."""
        raise NotImplementedError

    def apply(self, img: np.ndarray, layout: str, **params: Any) -> np.ndarray:
        """Return a new array: ``img`` transformed with ``params``; never modify ``img``."""
        if self.batch_only:
            raise SpecError(f"{self.spec_name} works on whole batches only: use it in a batch pipeline "
                            f"(build_batch_pipeline, augplug train --batch-aug)")
        raise NotImplementedError

    # -- the batch path (optional) ---------------------------------------------
    def sample_batch(self, rng: np.random.Generator, n: int, shape: tuple[int, int, int]) -> Any:
        """Draw the parameters of ``n`` images of ``shape`` (H, W, C) at once: a list of ``n`` dicts
        (default: ``sample`` n times), or columns of n values each (default when :meth:`draw` is written)."""
        if self._draws:
            return self.draw(rng, shape, n)
        return [self.sample(rng, shape) for _ in range(n)]

    @default_method
    def apply_batch(self, state: Any, params: Any) -> None:
        """Apply ``params`` (from :meth:`sample_batch`) to a batch: append per-sample geometry or colour
        to ``state`` (:class:`gluon_augplug.batch.BatchState`, fused with the neighbouring steps) or
        work on its data after ``state.flush()``.

        Not needed by a geometric transform that moves pixels by :meth:`geometry` alone: its batch path
        is that map, stacked over the samples. Otherwise, not implemented: the transform is per-sample only."""
        raise NotImplementedError

    def check_batch(self) -> None:
        """Raise ``self.invalid(name, allowed)`` for a parameter value the batch path does not support
        (checked when a batch pipeline is built)."""

    @classmethod
    def supports_batch(cls) -> bool:
        """True when the class runs on batches: it implements :meth:`apply_batch`, or moves pixels by
        :meth:`geometry` alone."""
        return overrides(cls, "apply_batch") or moves_by_geometry(cls)

    # -- geometry: targets and batches (boxes, masks, keypoints) --------------------------
    @default_method
    def geometry(self, params: dict, in_hw: tuple[int, int], out_hw: tuple[int, int]) -> np.ndarray:
        """The 3x3 map that moved each point (x, y) of the input to the output, for ``params``.

        Coordinates are pixel edges: the input spans ``[0, W] x [0, H]`` (``in_hw`` = (H, W)), and a
        horizontal flip is ``x -> W - x``. It is the single source of the step's geometry: the default
        :meth:`apply_boxes`, :meth:`apply_mask` and :meth:`apply_keypoints` use it, and so does the batch
        path (the maps of the samples stacked, with :meth:`output_hw`: no :meth:`apply_batch` to write).
        :func:`gluon_augplug.targets.from_index_matrix` converts an OpenCV matrix. A geometric transform
        that is not affine overrides the three ``apply_*`` methods instead (and runs per sample only).
        """
        raise NotImplementedError

    @default_method
    def output_hw(self, params: dict, in_hw: tuple[int, int]) -> tuple[int, int]:
        """The output's (H, W) for ``params`` on an ``in_hw`` image, known before the pixels are made (the
        batch path needs it). Default: the input's size; a step that changes the size implements it."""
        return tuple(in_hw)  # type: ignore[return-value]

    @default_method
    def apply_boxes(self, boxes: np.ndarray, params: dict, in_hw: tuple[int, int],
                    out_hw: tuple[int, int]) -> np.ndarray:
        """Boxes (N, 4+) in pixel xyxy moved as the image was; extra columns kept. A row of NaN drops
        that box. Default: the enclosing box of the corners moved by :meth:`geometry`."""
        from ..targets.geometry import warp_boxes

        return warp_boxes(boxes, self.geometry(params, in_hw, out_hw))

    @default_method
    def apply_keypoints(self, points: np.ndarray, params: dict, in_hw: tuple[int, int],
                        out_hw: tuple[int, int]) -> np.ndarray:
        """Keypoints (N, 2+) x, y moved as the image was; extra columns kept. Default: :meth:`geometry`."""
        from ..targets.geometry import warp_points

        return warp_points(points, self.geometry(params, in_hw, out_hw))

    @default_method
    def apply_mask(self, mask: np.ndarray, params: dict, in_hw: tuple[int, int],
                   out_hw: tuple[int, int]) -> np.ndarray:
        """A label mask (H, W) or (H, W, K) moved as the image was, by nearest-neighbour sampling
        (class ids are never blended; outside the input: 0). Default: :meth:`geometry`."""
        from ..targets.geometry import warp_mask

        return warp_mask(mask, self.geometry(params, in_hw, out_hw), out_hw)

    def decode_window(self, params: dict, in_hw: tuple[int, int]) -> DecodeWindow | None:
        """For a step that crops a window and resizes it (or resizes the whole image): the window it reads
        and the output size, for ``params`` drawn on an image of ``in_hw``. A pipeline whose first step
        says so decodes a JPEG at 1/2, 1/4 or 1/8 scale when the window still has at least the output's
        pixels (a draw on the full size, the decode at the reduced one). Default None: every pixel is needed."""
        return None

    # Optional: ``keep_boxes(boxes, params, in_hw) -> bool array``, which boxes (pixel xyxy, before this step)
    # survive it (RandomIoUCrop's centre rule). Defined, it lets a geometry()-only step drop boxes and still be
    # composed with its neighbours (and run on batches); the same can be done by returning NaN rows from apply_boxes.

    def target_problem(self, kinds: tuple[str, ...]) -> str | None:
        """Why this transform cannot move ``kinds`` of targets ("boxes", "masks", "keypoints"), or None."""
        mode = target_mode(self)
        if mode is TargetMode.PIXEL:
            return None
        if mode is not TargetMode.GEOMETRIC:
            return undeclared(self)
        if overrides(self, "geometry"):
            return None
        missing = [k for k in kinds if not overrides(self, _TARGET_METHODS[k])]
        if missing:
            return (f"{self.spec_name} is geometric but cannot move {', '.join(missing)}: it implements neither "
                    f"geometry() nor {', '.join(_TARGET_METHODS[k] + '()' for k in missing)}")
        return None

    # -- machinery -------------------------------------------------------------
    def run(self, img: np.ndarray, rng: np.random.Generator, layout: str,
            replay: Record | None = None, targets: Any = None) -> tuple[np.ndarray, Record]:
        """Transform a numpy image, and ``targets`` (a :class:`gluon_augplug.targets.TargetState`) with
        it; return the image with the record of the parameters applied and of the sizes in and out."""
        shape = hwc_shape(img, layout)
        if replay is not None:
            params = self._replayed_params(replay)
        elif self.needs_targets:
            boxes = targets.view() if targets is not None else None
            params = self.sample(rng, shape, targets=boxes)  # type: ignore[call-arg]
        else:
            params = self.sample(rng, shape)
        out = self.apply(img, layout, **params)
        out_hw = out.shape[:2] if (self.produces or layout) == HWC else out.shape[1:]
        if targets is not None:
            targets.step(self, params, shape[:2], out_hw)
        return out, {"name": self.spec_name, "params": params, "in_hw": list(shape[:2]), "out_hw": list(out_hw)}

    def run_batch(self, state: Any) -> None:
        """Draw this batch's parameters from ``state.rng`` and apply them."""
        if not overrides(self, "apply_batch") and moves_by_geometry(self):
            state.geometric_step(self)  # the one geometry: this step's geometry(), stacked over the samples
            return
        h, w = state.hw
        self.apply_batch(state, self.sample_batch(state.rng, state.n, (h, w, state.channels)))

    def _replayed_params(self, replay: Record) -> dict:
        if replay.get("name") != self.spec_name or not isinstance(replay.get("params"), dict):
            raise ReplayError(f"recorded step {replay.get('name')!r} does not match transform {self.spec_name!r}")
        return replay["params"]

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
        out, _ = self.run(arr, rng if rng is not None else default_source().generator(), layout)
        return like_input(out, img)


_TARGET_METHODS = {"boxes": "apply_boxes", "masks": "apply_mask", "keypoints": "apply_keypoints"}


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


def _own_init(cls: type) -> Any:
    """The ``__init__`` a class gets from the nearest class of its MRO that defines one."""
    for klass in cls.__mro__:
        if "__init__" in vars(klass):
            return vars(klass)["__init__"]
    return object.__init__


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) if not isinstance(a, np.ndarray) else False
    except Exception:
        return False


def _plain(value: Any) -> Any:
    """Tuples to lists and numpy scalars to Python numbers, so specs survive JSON and YAML."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Specified):
        return value.to_spec()
    return value


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
