"""The batch path of a transform: draws for a whole batch, and the step on a batch state."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..contract import hook
from ..targets.modes import TargetMode, default_method, moves_by_geometry, overrides, target_mode
from .drawing import draw_batch, draw_params


class Batching:
    """The batch half of :class:`~gluon_augplug.Transform` (a mixin: read it as part of that class)."""

    if TYPE_CHECKING:  # given by Transform
        _draws: ClassVar[bool]

        def sample(self, rng: np.random.Generator, shape: tuple[int, int, int]) -> dict: ...

        def draw(self, rng: np.random.Generator, shape: tuple[int, int, int], size: int | None) -> dict: ...

    def sample_batch(self, rng: np.random.Generator, n: int, shape: tuple[int, int, int]) -> Any:
        """Draw the parameters of ``n`` images of ``shape`` (H, W, C) at once: a list of ``n`` dicts
        (default: ``sample`` n times), or columns of n values each (default when :meth:`draw` is written)."""
        if self._draws:
            return self.draw(rng, shape, n)
        if not overrides(self, "sample"):  # draws nothing (Normalize): n empty dicts, without n calls
            return [{} for _ in range(n)]
        return [draw_params(self, rng, shape) for _ in range(n)]  # a sample() that takes boxes gets None

    @default_method
    def apply_batch(self, state: Any, params: Any) -> None:
        """Apply ``params`` (from :meth:`sample_batch`) to a batch: append per-sample geometry or colour
        to ``state`` (a :class:`gluon_augplug.batch.BatchState`, fused with the neighbouring steps:
        ``state.add_geometry``, ``state.add_color``) or replace its pixels (``state.images``, NHWC in 0-255 on
        either backend).

        Not needed by a geometric transform that moves pixels by :meth:`geometry` alone (its batch path is
        that map, stacked over the samples), nor by a pixel op (``target_mode = "pixel"``: its :meth:`apply`
        runs on each image). Written, it must give what :meth:`apply` gives on each image (the harness's
        ``batch`` check compares them)."""
        raise NotImplementedError

    def check_batch(self) -> None:
        """Raise ``self.invalid(name, allowed)`` for a parameter value the batch path does not support
        (checked when a batch pipeline is built)."""

    @classmethod
    def batch_path(cls) -> str | None:
        """How the class runs on batches: ``"apply_batch"`` (its own), ``"geometry"`` (its maps stacked), ``"apply"``
        (a pixel op's apply on each image, inferred), or None (per sample only)."""
        if overrides(cls, "apply_batch"):
            return "apply_batch"
        if batch_by_geometry(cls):
            return "geometry"
        return "apply" if batch_by_apply(cls) else None

    @classmethod
    def supports_batch(cls) -> bool:
        """True when the class runs on batches: it implements :meth:`apply_batch`, or moves pixels by
        :meth:`geometry` alone (and says its pixels follow it: ``pixels_follow_geometry``), or is a pixel op
        (``target_mode = "pixel"``) whose :meth:`apply` then runs on each image of the batch."""
        return cls.batch_path() is not None

    def run_batch(self, state: Any) -> None:
        """Draw this batch's parameters from ``state.rng`` and apply them."""
        if batch_by_geometry(self):
            state.geometric_step(self)  # the one geometry: this step's geometry(), stacked over the samples
            return
        h, w = state.hw
        params = draw_batch(self, state.rng, state.n, (h, w, state.channels), state.clip_length)  # one per clip
        if overrides(self, "apply_batch"):
            self.apply_batch(state, params)
        else:  # a pixel op: its apply() on each image
            state.apply_per_image(self, params)


def batch_by_geometry(transform: Any) -> bool:
    """True when ``transform`` (an instance or a class) runs on batches through its ``geometry()``: it writes
    no ``apply_batch``, moves pixels by that map alone and says its pixels follow it."""
    return (not overrides(transform, "apply_batch") and moves_by_geometry(transform)
            and bool(hook(transform, "pixels_follow_geometry")))


def batch_by_apply(transform: Any) -> bool:
    """True when ``transform`` (an instance or a class) is a pixel op that gets its batch path from its per-image
    ``apply()``: it declares ``target_mode = "pixel"``, writes ``apply`` and neither ``apply_batch`` nor a ``run()``
    of its own, and takes HWC images to HWC images."""
    cls = transform if isinstance(transform, type) else type(transform)
    return (target_mode(cls) is TargetMode.PIXEL and overrides(cls, "apply") and not overrides(cls, "apply_batch")
            and not overrides(cls, "run") and not getattr(cls, "batch_only", False) and "HWC" in getattr(cls, "accepts", ())
            and getattr(cls, "produces", None) in (None, "HWC"))
