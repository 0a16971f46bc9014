"""The plugin contract: every hook a gluon_augplug plugin may implement.

A plugin is a module (or any object) with functions marked ``@gluon_augplug.hookimpl``,
published under the ``gluon_augplug`` entry-point group::

    [options.entry_points]
    gluon_augplug =
        gridmask = gluon_augplug_gridmask

The built-in transforms are registered by the plugin named ``builtin`` through these
same hooks. A hook implementation may take fewer arguments than its spec, never other
ones; a misspelled hook name is reported as a broken plugin (mark a hook that only newer
versions of gluon_augplug know with ``@hookimpl(optionalhook=True)``).
"""
from __future__ import annotations

from typing import Any, Callable

import pluggy

from .._deprecation import deprecation_message

PROJECT_NAME = "gluon_augplug"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def augplug_register_transforms(register: Callable[..., None]) -> None:
    """Register per-sample image transforms.

    Call ``register(name, factory, **metadata)`` once per transform.

    Parameters
    ----------
    register : callable
        ``register(name: str, factory: Callable[..., Transform], *, doc: str = None,
        override: bool = False, nested: tuple[str, ...] = (), example: dict = None,
        params: dict = None)``.

        * ``name`` -- a Python identifier, used in specs (``Name(arg, key=value)``).
        * ``factory(**params)`` returns a transform: a callable that takes one HWC image
          (``mx.nd.NDArray`` or numpy ``uint8``) and returns one image of the same type,
          with the conventions of ``mxnet.gluon.data.vision.transforms``. Subclass
          :class:`gluon_augplug.Transform` to get seeding, replay and NDArray/numpy
          handling for free; a plain callable or a Gluon ``Block`` also works.
        * ``doc`` -- one-line description (default: the factory's first docstring line).
        * ``override`` -- win over another plugin that registers the same name.
        * ``nested`` -- parameter names that take a list of transform specs
          (as ``Compose``'s ``transforms``); the builder builds them first.
        * ``example`` -- parameters that build a typical instance, for listings and
          conformance tests when the factory has required parameters.
        * ``params`` -- ``{name: gluon_augplug.params.Param}``, the declared parameters of a
          factory that is not a :class:`gluon_augplug.Transform` class (a function, a Block):
          checked and listed as a class's own are.
    """


@hookspec
def augplug_register_presets(register: Callable[..., None]) -> None:
    """Register named pipelines.

    Call ``register(name, spec, doc=...)`` once per preset.

    Parameters
    ----------
    register : callable
        ``register(name: str, spec: str | list, *, doc: str = None, override: bool = False)``.
        ``spec`` is anything :func:`gluon_augplug.build_pipeline` accepts except a file
        path; ``name`` may contain ``-`` (``cifar10-standard``) and is used as the whole spec.
    """


@hookspec(warn_on_impl=DeprecationWarning(deprecation_message("augplug_register_batch_transforms")))
def augplug_register_batch_transforms(register: Callable[..., None]) -> None:
    """Register 0.1 batch transforms (deprecated: a :class:`gluon_augplug.Transform` registered with
    :func:`augplug_register_transforms` runs on batches through ``geometry()``, its ``apply()`` or an
    ``apply_batch()``; implementations of this hook get a ``DeprecationWarning``).

    Call ``register(name, factory, **metadata)`` once per batch transform (the metadata of
    :func:`augplug_register_transforms`). ``factory(**params)`` returns a
    :class:`gluon_augplug.batch.BatchTransform`; batch transforms are used by name in batch
    specs (``build_batch_pipeline``, ``augplug train --batch-aug``) and may share names with
    per-sample transforms (``RandomFlipLeftRight`` is both).

    Parameters
    ----------
    register : callable
        ``register(name: str, factory: Callable[..., BatchTransform], *, doc=None, override=False,
        nested=(), example=None)``.
    """


HOOK_NAMES: tuple[str, ...] = ("augplug_register_transforms", "augplug_register_presets",
                               "augplug_register_batch_transforms")


def hook_signatures() -> dict[str, Any]:
    """Return ``{hook name: inspect.Signature}`` for documentation and conformance checks."""
    import inspect

    return {name: inspect.signature(globals()[name]) for name in HOOK_NAMES}
