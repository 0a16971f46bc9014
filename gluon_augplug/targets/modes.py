"""How a transform treats boxes, masks and keypoints: its target mode, and the one function that reads it.

A transform class says it with ``target_mode = TargetMode.PIXEL`` (or the string ``"pixel"``); the
0.1-0.3 spelling ``targets = "pixel"`` is read the same way. Nothing else in the package compares
these strings: it calls :func:`target_mode`.
"""
from __future__ import annotations

import enum
import weakref
from typing import Any, Callable, TypeVar


class TargetMode(str, enum.Enum):
    """What a transform does to the targets of its image.

    A ``str`` enum: ``TargetMode.PIXEL == "pixel"``, so classes that declare the string keep working.
    """

    PIXEL = "pixel"
    """It changes pixel values only: boxes, masks and keypoints stay where they are."""
    GEOMETRIC = "geometric"
    """It moves pixels: :meth:`~gluon_augplug.Transform.geometry` (or the ``apply_boxes``/``apply_mask``/
    ``apply_keypoints`` methods) moves the targets with them."""
    CONTAINER = "container"
    """It runs other transforms (Compose, RandomApply, OneOf): the targets go through its children."""
    UNDECLARED = "undeclared"
    """It does not say: it cannot be used with targets (a clear error, never wrong boxes)."""


_BY_NAME = {mode.value: mode for mode in TargetMode}


def target_mode(transform: Any) -> TargetMode:
    """The :class:`TargetMode` of a transform (an instance or a class, of any release of the contract)."""
    own = getattr(transform, "__dict__", None) or {}
    for name in ("target_mode", "targets"):  # an instance's own value first (a wrapper that decides per object)
        if own.get(name) is not None and not isinstance(transform, type):
            return _mode(own[name])
    value = getattr(transform, "target_mode", None)
    if value is None or value is TargetMode.UNDECLARED:
        value = getattr(transform, "targets", value)  # the name before 0.4
    return _mode(value)


def _mode(value: Any) -> TargetMode:
    if isinstance(value, TargetMode):
        return value
    return _BY_NAME.get(value, TargetMode.UNDECLARED) if isinstance(value, str) else TargetMode.UNDECLARED


F = TypeVar("F", bound=Callable[..., Any])


def default_method(fn: F) -> F:
    """Mark a method of the base class as the default, so that whether a subclass overrides it can be
    told without importing the base class (the targets layer sits below the transforms layer)."""
    fn._augplug_default = True  # type: ignore[attr-defined]
    return fn


def overrides(transform: Any, name: str) -> bool:
    """True when ``transform``'s class implements method ``name`` itself (not the base class's default)."""
    method = getattr(type(transform) if not isinstance(transform, type) else transform, name, None)
    return method is not None and not getattr(method, "_augplug_default", False)


def moves_by_geometry(transform: Any) -> bool:
    """True for a geometric transform whose targets (and batches) follow its 3x3 map alone: it implements
    ``geometry()`` and none of ``apply_boxes``, ``apply_mask``, ``apply_keypoints``."""
    return target_mode(transform) is TargetMode.GEOMETRIC and geometry_only(transform)


_GEOMETRY_ONLY: "weakref.WeakKeyDictionary[type, bool]" = weakref.WeakKeyDictionary()


def geometry_only(transform: Any) -> bool:
    """Whether ``transform``'s class implements ``geometry()`` and none of the apply_* methods; read once per class
    (every step of every sample asks)."""
    cls = transform if isinstance(transform, type) else type(transform)
    try:
        return _GEOMETRY_ONLY[cls]
    except KeyError:
        pass
    except TypeError:  # pragma: no cover - a class that cannot be weakly referenced
        return _read_geometry_only(cls)
    _GEOMETRY_ONLY[cls] = answer = _read_geometry_only(cls)
    return answer


def _read_geometry_only(cls: type) -> bool:
    return overrides(cls, "geometry") and not any(overrides(cls, m) for m in ("apply_boxes", "apply_mask",
                                                                              "apply_keypoints"))


def undeclared(transform: Any) -> str:
    """The message for a transform used with targets that does not declare its target mode."""
    name = getattr(transform, "spec_name", type(transform).__name__)
    return (f"{name} does not say how it treats boxes, masks and keypoints: a transform used with targets "
            f"declares target_mode = 'pixel' (targets untouched) or 'geometric' (with geometry(), or apply_boxes/"
            f"apply_mask/apply_keypoints)")
