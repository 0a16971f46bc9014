"""The base class of per-sample transforms, the seedable random source, and conversions.

A transform splits its work in two: :meth:`Transform.sample` draws the random
parameters for one image from a ``numpy.random.Generator``, :meth:`Transform.apply`
applies given parameters. That split is what makes seeding, replay (the same
parameters on another image) and per-sample counter-based seeding possible.
"""
from __future__ import annotations

import inspect
import multiprocessing
import os
import threading
from typing import Any, ClassVar

import numpy as np

from ..errors import InputError, InputTypeError, ReplayError, SpecError

HWC = "HWC"
CHW = "CHW"
Record = dict  # {"name": str, "params": dict | None, "children": [Record]}


class RandomSource:
    """One seedable stream of random numbers, safe across ``fork``.

    MXNet's DataLoader forks its workers, which would otherwise inherit the same
    generator state and draw identical numbers. The source notices that it runs in a
    new process and derives a distinct stream from ``(seed, worker identity)``
    (fresh OS entropy when ``seed`` is None).

    Parameters
    ----------
    seed : int, optional
        ``None`` draws from the operating system's entropy.
    """

    def __init__(self, seed: int | None = None):
        self.seed = seed
        self._generator: np.random.Generator | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def generator(self) -> np.random.Generator:
        pid = os.getpid()
        if self._generator is None or self._pid != pid:
            with self._lock:
                if self._generator is None or self._pid != pid:
                    self._generator = np.random.Generator(np.random.PCG64(self._seed_sequence(pid)))
                    self._pid = pid
        return self._generator

    def _seed_sequence(self, pid: int) -> np.random.SeedSequence:
        if self._pid is None and multiprocessing.parent_process() is None:
            return np.random.SeedSequence(self.seed)  # the main process: exactly the seed's stream
        identity = multiprocessing.current_process()._identity or (pid,)
        return np.random.SeedSequence(self.seed, spawn_key=tuple(identity))

    def reseed(self, seed: int | None) -> None:
        with self._lock:
            self.seed, self._generator, self._pid = seed, None, None

    def __getstate__(self) -> dict:  # a copy starts the seed's stream again, per process
        return {"seed": self.seed}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["seed"])


_default_source = RandomSource()


def default_source() -> RandomSource:
    """The source used by a transform called on its own, outside a pipeline."""
    return _default_source


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
        import mxnet as mx

        if out.base is not None or not out.flags.c_contiguous:  # zero-copy needs an array of its own
            out = np.ascontiguousarray(out) if out.base is None else out.copy()
        # zero-copy hand-over: 7x cheaper than mx.nd.array for CIFAR-sized images; `out` is ours alone
        result = mx.nd.from_numpy(out, zero_copy=True)
        return result if original.context == result.context else result.as_in_context(original.context)
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

    Subclasses store each constructor parameter under an attribute of the same name.
    """

    # set by the pipeline builder: the name used in the spec and the parameters given
    _spec_name: str | None = None
    _spec_params: dict | None = None

    @property
    def spec_name(self) -> str:
        return self._spec_name or type(self).__name__

    def get_params(self) -> dict:
        """The constructor parameters that rebuild this transform."""
        if self._spec_params is not None:
            return dict(self._spec_params)
        params = {}
        for name, p in inspect.signature(type(self)).parameters.items():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or not hasattr(self, name):
                continue
            value = getattr(self, name)
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

    Subclasses implement :meth:`apply` and, if random, :meth:`sample`; they store each
    constructor parameter under an attribute of the same name, which gives
    :meth:`get_params` (and so ``to_spec``) for free. Calling a transform accepts an
    ``mx.nd.NDArray`` or a numpy array and returns the same type.

    Class attributes
    ----------------
    random : bool
        The transform draws random numbers.
    accepts : tuple of str
        Layouts of the input it takes: ``"HWC"`` (images) and/or ``"CHW"`` (tensors).
    produces : str or None
        The layout it outputs; ``None`` = unchanged.
    """

    random: ClassVar[bool] = False
    accepts: ClassVar[tuple[str, ...]] = (HWC,)
    produces: ClassVar[str | None] = None

    # -- to implement --------------------------------------------------------
    def sample(self, rng: np.random.Generator, shape: tuple[int, int, int]) -> dict:
        """Draw this image's random parameters (JSON-friendly values) for an image of ``shape`` (H, W, C)."""
        return {}

    def apply(self, img: np.ndarray, layout: str, **params: Any) -> np.ndarray:
        """Return a new array: ``img`` transformed with ``params``; never modify ``img``."""
        raise NotImplementedError

    # -- machinery -------------------------------------------------------------
    def run(self, img: np.ndarray, rng: np.random.Generator, layout: str,
            replay: Record | None = None) -> tuple[np.ndarray, Record]:
        """Transform a numpy image; return it with the record of the parameters applied."""
        if replay is None:
            params = self.sample(rng, hwc_shape(img, layout))
        else:
            params = self._replayed_params(replay)
        return self.apply(img, layout, **params), {"name": self.spec_name, "params": params}

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
