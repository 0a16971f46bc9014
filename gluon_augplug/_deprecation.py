"""Old names that keep working and say what replaces them (the policy: docs/explanation/deprecations.md).

Every deprecated name of the package is a row of :data:`DEPRECATIONS`, and warns through :func:`warn_deprecated`
with a :class:`DeprecationWarning` (Python shows those for code run as ``__main__`` and under pytest; plugin
authors see them in their test runs). A deprecated name works until 1.0 at the earliest, and at least two minor
releases after the one that deprecated it.
"""
from __future__ import annotations

import os
import sys
import warnings
from typing import NamedTuple


class Deprecation(NamedTuple):
    old: str
    new: str
    since: str


DEPRECATIONS: dict[str, Deprecation] = {d.old: d for d in (
    Deprecation("Transform.needs_targets", "write sample(self, rng, shape, targets=None): a sample() with a "
                "targets parameter is given the image's boxes", "0.4"),
    Deprecation('targets = "pixel" / "geometric" (class attribute)', 'target_mode = "pixel" / "geometric" '
                "(or TargetMode.PIXEL / TargetMode.GEOMETRIC)", "0.4"),
    Deprecation("gluon_augplug.compat.BatchTransform", "a Transform with apply_batch(state, params) (or geometry() "
                "alone for a geometric step): one class for images, clips and batches", "0.4"),
    Deprecation("augplug_register_batch_transforms", "augplug_register_transforms: register one Transform that "
                "runs on images, clips and batches", "0.4"),
    Deprecation("Pipeline(img, label) with an array or dict label", "pipeline.for_dataset(label=...) (\"class\", \"mask\", "
                "\"boxes\", \"pose\"): the kind said, never guessed from the label's shape", "0.4"),
    Deprecation("BatchState.targets", "BatchState.soft_labels", "0.4"),
    Deprecation("gluon_augplug.get_plugin_manager", "gluon_augplug.get_plugin_system", "0.2"),
    Deprecation("gluon_augplug.cli.grid", "gluon_augplug.visual.grid", "0.3"),
    Deprecation("gluon_augplug.transforms.params", "gluon_augplug.params (declared parameters)", "0.2"),
    Deprecation("gluon_augplug.transforms.base.RandomSource / default_source", "gluon_augplug.randomness", "0.2"),
    Deprecation("gluon_augplug.targets.state.KINDS", "gluon_augplug.targets.state.TARGET_KINDS", "0.4"),
    Deprecation("gluon_augplug.data.decode / data.formats / data.recordio / data.images",
                "gluon_augplug.io.decode / io.formats / io.recordio / io.images", "0.4"),
)}


def deprecation_message(old: str) -> str:
    row = DEPRECATIONS[old]
    return (f"{row.old} is deprecated since gluon-augplug {row.since}: {row.new}. It keeps working until 1.0 at "
            f"least (docs/explanation/deprecations.md)")


def warn_deprecated(old: str) -> None:
    """Warn that ``old`` (a key of :data:`DEPRECATIONS`) is deprecated, naming what replaces it, at the first frame
    outside this package and the libraries that call a user's transforms (the user's line: a class statement, an
    import, a call, the ``dataset.transform(pipeline)``)."""
    warnings.warn(deprecation_message(old), DeprecationWarning, stacklevel=_outside_frames())


_CALLERS = ("mxnet", "gluoncv")  # libraries that call a user's transform (dataset.transform): not the user's line


def _outside_frames() -> int:
    here = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame, level = sys._getframe(2), 2  # the frame of warn_deprecated's caller is stacklevel 2
    while frame is not None:
        name = frame.f_code.co_filename
        if "importlib" in name and "_bootstrap" in name:  # warnings.warn skips these frames itself: not counted
            frame = frame.f_back
            continue
        if not os.path.abspath(name).startswith(here) and not any(f"{os.sep}{lib}{os.sep}" in name for lib in _CALLERS):
            break
        frame, level = frame.f_back, level + 1
    return level
