"""Adapting plain callables and Gluon Blocks from plugins to the :class:`Transform` protocol."""
from __future__ import annotations

import inspect
import warnings
from typing import Any, Callable

import numpy as np

from ..errors import ReplayError
from ..targets.modes import TargetMode, target_mode
from .base import CHW, HWC, Transform, is_ndarray, to_numpy
from .clips import stack_frames
from .declared import Declared


def _is_gluon_block(obj: Any) -> bool:
    return any(c.__module__.startswith("mxnet.gluon") for c in type(obj).__mro__)


def _accepts_rng(fn: Callable) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "rng" in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


class CallableTransform(Transform):
    """A plugin's transform that is not a :class:`Transform`: a function, a callable or a Gluon Block.

    Gluon Blocks get an ``mx.nd.NDArray``, other callables the numpy image. A callable
    that takes an ``rng`` keyword receives a generator seeded from the pipeline's source,
    so it is seeded and replayable; any other callable draws its own randomness and
    cannot be replayed, unless it declares itself deterministic with ``random = False``.
    """

    accepts = (HWC, CHW)

    def __init__(self, fn: Callable[[Any], Any], name: str | None = None, params: dict | None = None):
        self.fn = fn
        self._spec_name = name or getattr(fn, "__name__", None) or type(fn).__name__
        self._spec_params = dict(params or {})
        self._block = _is_gluon_block(fn)
        self._takes_rng = not self._block and _accepts_rng(fn)
        # None = unknown: a callable may declare `random = False` to be replayable by calling it again
        self.random = True if self._takes_rng else getattr(fn, "random", None)
        # a callable may say it changes pixel values only (target_mode = "pixel", or targets = "pixel"); it cannot move targets
        self.target_mode = TargetMode.PIXEL if target_mode(fn) is TargetMode.PIXEL else TargetMode.UNDECLARED
        self._warned_clip = False

    def run(self, img, rng, layout, replay=None, targets=None):
        params = None
        kwargs = {}
        if self._takes_rng:
            if replay is not None:
                params = self._replayed_params(replay)
            else:
                params = {"seed": int(rng.integers(0, 2**63 - 1))}
            kwargs["rng"] = np.random.default_rng(params["seed"])
        elif replay is not None and self.random is not False:
            raise ReplayError(f"step {self.spec_name!r} cannot be replayed: it is a plain callable that draws its "
                              f"own random numbers (make it take an `rng` keyword or subclass gluon_augplug.Transform)")
        arg: Any = img
        if self._block:
            import mxnet as mx

            arg = mx.nd.array(img, dtype=img.dtype)
        out = self.fn(arg, **kwargs)
        if not (isinstance(out, np.ndarray) or is_ndarray(out)):
            raise TypeError(f"transform {self.spec_name!r} returned {type(out).__name__}, expected an image array")
        out = to_numpy(out)
        if out is img:  # keep the pipeline's promise never to hand back (and so expose) the input
            out = out.copy()
        return out, {"name": self.spec_name, "params": params}

    def run_clip(self, clip, rng, layout, replay=None, targets=None):
        """One call per frame; a callable with an ``rng`` keyword gets the same seed for every frame (one draw).
        One without it cannot be given a draw: it is called anew on each frame (a warning says so once)."""
        if self._takes_rng or self.random is False:
            return super().run_clip(clip, rng, layout, replay, targets)
        if not self._warned_clip:
            self._warned_clip = True
            warnings.warn(f"{self.spec_name} is a plain callable without an `rng` keyword: it is called anew on each "
                          f"frame of a clip, so if it draws random numbers the frames get different draws (give it an "
                          f"`rng` keyword, or `random = False` if it draws none)", stacklevel=2)
        out = stack_frames(self.run(clip[0], rng, layout)[0], len(clip))
        for i in range(1, len(clip)):
            out[i] = self.run(clip[i], rng, layout)[0]
        return out, {"name": self.spec_name, "params": None}

    def output_layout(self, layout: str) -> str:
        return layout

    def spec_params(self) -> dict:
        return dict(self._spec_params)

    def __reduce__(self):
        return (CallableTransform, (self.fn, self._spec_name, self._spec_params))


def as_transform(obj: Any, name: str | None = None, params: dict | None = None) -> Transform:
    """Return ``obj`` as a :class:`Transform` (wrapping plain callables and Blocks)."""
    if isinstance(obj, Transform):
        return obj
    if not callable(obj):
        raise TypeError(f"expected a transform (a callable), got {type(obj).__name__}")
    return CallableTransform(obj, name, params)


Declared._as_child = staticmethod(as_transform)  # type: ignore[method-assign]  # see Declared._as_child

__all__ = ["CallableTransform", "as_transform", "HWC", "CHW"]
