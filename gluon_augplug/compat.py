"""The contract of earlier releases, in one place: what plugins written against any README of this
package still use, and how the current machinery takes it.

The current contract is :class:`~gluon_augplug.Transform` with ``sample``/``apply`` (and ``geometry``,
``output_hw``, ``draw``, ``apply_batch`` where they apply). Kept for older plugins:

* :class:`BatchTransform`, 0.1's separate base class of batch transforms, with its hook
  ``augplug_register_batch_transforms``; a twin registered under the same name as a per-sample transform
  is joined to it at registration (``plugins.registry.Registrar.finish``: the plugin system sits below this
  module, so the join lives there) and keeps ``TransformInfo.batch_factory``. The builder wraps what that
  factory makes in a :class:`LegacyBatchStep`, so the batch pipeline sees one kind of step.
* A ``run(img, rng, layout, replay)`` of one's own without the ``targets`` argument (0.1): composites call
  every child through :func:`run_step`, and :func:`old_run_problem` says why such a step cannot carry targets.
* ``targets = "pixel"`` for the target mode (read by :func:`gluon_augplug.targets.modes.target_mode`).
* Import paths: ``gluon_augplug.cli.grid`` (now :mod:`gluon_augplug.visual.grid`),
  ``gluon_augplug.transforms.params`` (0.1's parameter checks), ``gluon_augplug.transforms.base.RandomSource``
  and ``default_source`` (now :mod:`gluon_augplug.randomness`), ``gluon_augplug.get_plugin_manager`` (now
  ``get_plugin_system``), ``BatchState.targets`` (now ``soft_labels``), ``targets.state.KINDS`` (now
  ``TARGET_KINDS``): one-line re-exports where they were.
"""
from __future__ import annotations

from typing import Any

from .transforms.base import Record, Specified, Transform  # noqa: F401 (Record: importable here)
from ._deprecation import warn_deprecated
from .transforms.drawing import old_run_problem, run_step  # noqa: F401 (their home before 0.4)


class BatchTransform(Specified):
    """The 0.1 base class of batch transforms (superseded: implement ``apply_batch`` on a
    :class:`~gluon_augplug.Transform` instead, one class for samples and batches; a geometric transform
    needs only ``geometry()``).

    ``apply(state)`` draws each sample's parameters from ``state.rng`` and either appends
    per-sample geometry/colour to the state (fused with its neighbours) or works on
    ``state.data`` directly after ``state.flush()``.
    """

    random = True
    mixes_labels = False  # Mixup/CutMix: needs the labels, returns soft targets

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        warn_deprecated("gluon_augplug.compat.BatchTransform")

    def apply(self, state: Any) -> None:
        raise NotImplementedError

    # -- what the batch pipeline asks of every step (a Transform answers the same) ---------------------
    @classmethod
    def supports_batch(cls) -> bool:
        return True

    def check_batch(self) -> None:
        """Nothing to check: a 0.1 batch transform validates its own values."""

    def run_batch(self, state: Any) -> None:
        self.apply(state)

    def target_problem(self, kinds: tuple[str, ...]) -> str | None:
        return f"{self.spec_name} is a 0.1 batch transform, which cannot move {' or '.join(kinds)}"


class LegacyBatchStep(Transform):
    """A 0.1 :class:`BatchTransform` as a :class:`~gluon_augplug.Transform` whose batch path is its ``apply(state)``.
    Before 0.4 the builder and :class:`~gluon_augplug.batch.BatchPipeline` wrapped every such object in one; since 0.4
    they take the object itself (which answers the batch pipeline's questions), so ``isinstance(step, TheirClass)``
    holds truthfully, and this wrapper is kept for code that builds one. Its attributes are the wrapped object's
    (``step.legacy`` is that object), and it pickles as a wrapper of it; it no longer claims the wrapped object's
    class (it faked ``__class__`` before 0.4)."""

    batch_only = True

    def __init__(self, legacy: BatchTransform):
        object.__setattr__(self, "legacy", legacy)

    # -- stand for the wrapped object -------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:  # only for what the wrapper does not define itself
        return getattr(object.__getattribute__(self, "legacy"), name)

    def __reduce__(self):
        return (LegacyBatchStep, (self.legacy,))

    @property
    def random(self) -> bool:  # type: ignore[override]
        return bool(getattr(self.legacy, "random", True))

    @property
    def mixes_labels(self) -> bool:  # type: ignore[override]
        return bool(getattr(self.legacy, "mixes_labels", False))

    @property
    def spec_name(self) -> str:
        return self.__dict__.get("_spec_name") or self.legacy.spec_name

    def to_spec(self) -> dict:
        if self.__dict__.get("_spec_params") is not None:  # built from a spec: the names and values given
            return super().to_spec()
        return self.legacy.to_spec()

    def __repr__(self) -> str:
        return repr(self.legacy)

    # -- the batch path: the 0.1 object's own --------------------------------------------------------
    @classmethod
    def supports_batch(cls) -> bool:
        return True

    def run_batch(self, state: Any) -> None:
        self.legacy.apply(state)

    def target_problem(self, kinds: tuple[str, ...]) -> str | None:
        return f"{self.spec_name} is a 0.1 batch transform, which cannot move {' or '.join(kinds)}"


def as_batch_step(step: Any) -> Any:
    """``step`` as a batch pipeline's step: since 0.4 every step as it is (a 0.1 :class:`BatchTransform` answers what
    the batch pipeline asks of a step itself: ``supports_batch``, ``check_batch``, ``run_batch``, ``target_problem``)."""
    return step
