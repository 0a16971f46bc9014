"""The batch path of a transform: draws for a whole batch, and the step on a batch state."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..targets.modes import default_method, moves_by_geometry, overrides


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
        :meth:`geometry` alone (and says its pixels follow it: ``pixels_follow_geometry``)."""
        return overrides(cls, "apply_batch") or batch_by_geometry(cls)

    def run_batch(self, state: Any) -> None:
        """Draw this batch's parameters from ``state.rng`` and apply them."""
        if batch_by_geometry(self):
            state.geometric_step(self)  # the one geometry: this step's geometry(), stacked over the samples
            return
        h, w = state.hw
        draw = getattr(state, "draw", None)  # a BatchState gives a batch of clips one draw per clip
        shape = (h, w, state.channels)
        self.apply_batch(state, draw(self, shape) if draw is not None else self.sample_batch(state.rng, state.n, shape))


def batch_by_geometry(transform: Any) -> bool:
    """True when ``transform`` (an instance or a class) runs on batches through its ``geometry()``: it writes
    no ``apply_batch``, moves pixels by that map alone and says its pixels follow it."""
    return (not overrides(transform, "apply_batch") and moves_by_geometry(transform)
            and bool(getattr(transform, "pixels_follow_geometry", True)))
