"""The contract of earlier releases, in one place: what plugins written against any README of this
package still use, and how the current machinery takes it.

The current contract is :class:`~gluon_augplug.Transform` with ``sample``/``apply`` (and ``geometry``,
``output_hw``, ``draw``, ``apply_batch`` where they apply). Kept for older plugins:

* :class:`BatchTransform`, 0.1's separate base class of batch transforms, with its hook
  ``augplug_register_batch_transforms``; a twin registered under the same name as a per-sample transform
  is joined to it at registration (``plugins.registry.Registrar.finish``: the plugin system sits below this
  module, so the join lives there) and keeps ``TransformInfo.batch_factory``. The batch pipeline runs such
  objects through :func:`run_batch_step`.
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

import inspect
from typing import Any

import numpy as np

from .transforms.base import Record, Specified, Transform


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

    def apply(self, state: Any) -> None:
        raise NotImplementedError


def run_batch_step(step: Any, state: Any) -> None:
    """Run one step of a batch pipeline: a :class:`~gluon_augplug.Transform` or a 0.1 :class:`BatchTransform`."""
    if isinstance(step, BatchTransform):
        step.apply(state)
    else:
        step.run_batch(state)


def batch_target_problem(step: Any, kinds: tuple) -> str | None:
    """Why a batch step cannot move ``kinds`` of targets, or None."""
    if isinstance(step, BatchTransform):
        return f"{step.spec_name} is a 0.1 batch transform, which cannot move {' or '.join(kinds)}"
    return step.target_problem(kinds)


def run_step(child: Any, img: np.ndarray, rng: np.random.Generator, layout: str, replay: Record | None,
             targets: Any = None) -> tuple[np.ndarray, Record]:
    """``child.run`` with targets only when there are some: a 0.1 plugin's own ``run()`` lacks the argument."""
    if targets is None:
        return child.run(img, rng, layout, replay)
    return child.run(img, rng, layout, replay, targets=targets)


def old_run_problem(transform: Any) -> str | None:
    """The message for a step whose own ``run()`` has the 0.1 signature (it cannot pass targets on), or None."""
    run = getattr(type(transform), "run", None)
    if run is not None and run is not Transform.run and "targets" not in inspect.signature(run).parameters:
        name = getattr(transform, "spec_name", type(transform).__name__)
        return f"{name} overrides run() without a targets argument, so it cannot pass boxes, masks or keypoints on"
    return None
