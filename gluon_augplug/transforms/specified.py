"""What every buildable transform shares: its spec name and the parameters that rebuild it."""
from __future__ import annotations

import inspect
from typing import Any, ClassVar

import numpy as np

from ..params import Param


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
        """:meth:`spec_params` under its name before 0.4 (what :meth:`to_spec` calls, so that a plugin may
        override either)."""
        return self.spec_params()

    def spec_params(self) -> dict:
        """The constructor parameters that rebuild this transform (the values as given), as :meth:`to_spec`
        writes them. Not a random draw: that is :meth:`~gluon_augplug.Transform.sample` (torchvision and
        albumentations call theirs ``get_params``)."""
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
