"""Declared parameters: a class lists them as attributes, and gets its constructor, validation and listing."""
from __future__ import annotations

import inspect
from typing import Any, ClassVar

from ..errors import ParameterError
from ..params import Param, Transforms
from .specified import Specified


class Declared(Specified):
    """Parameters declared as class attributes (``p = params.Probability(0.5)``, see
    :mod:`gluon_augplug.params`): the constructor is built from them, every value is validated under the
    subclass's name on every assignment, and :attr:`parameters` lists them. A subclass may instead write its
    own ``__init__`` and store each parameter under an attribute of the same name (the 0.1 way)."""

    _declared_signature: ClassVar[inspect.Signature] = inspect.Signature()

    @staticmethod
    def _as_child(value: Any) -> Any:
        """How an item of a ``Transforms`` parameter becomes a transform. :mod:`gluon_augplug.transforms.adapter`, the
        layer above that knows how to wrap a plain callable or a Gluon Block, sets it when the transforms package is
        imported (before any transform can be built), so that this layer imports nothing above it."""
        raise RuntimeError("gluon_augplug.transforms.adapter was not imported")  # pragma: no cover

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = [(k, v) for k, v in vars(cls).items() if isinstance(v, Param)]
        # every direct base's declared parameters (class X(Mixin, _MaybeApply) keeps p), in base order; a base's
        # own list already lacks what it dropped, and a subclass drops one by assigning a plain value
        inherited: list = []
        for base in cls.__bases__:
            inherited += [(k, v) for k, v in getattr(base, "parameters", {}).items()
                          if k not in vars(cls) and all(k != name for name, _ in inherited)]
        cls.parameters = dict(own + inherited)  # its own first: Solarize(threshold, p) after _MaybeApply(p)
        cls._declared_signature = inspect.Signature([
            inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              default=inspect.Parameter.empty if p.required else p.default)
            for name, p in cls.parameters.items()])
        # the generated constructor's signature, unless the class writes its own __init__
        signature = cls._declared_signature if _own_init(cls) is Declared.__init__ else None
        cls.__signature__ = signature  # type: ignore[attr-defined]

    def __init__(self, *args: Any, **kwargs: Any):
        declared = type(self).parameters
        if not declared:
            if args or kwargs:
                raise TypeError(f"{type(self).__name__}() takes no parameters")
            self.setup()
            return
        try:
            bound = type(self)._declared_signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{type(self).__name__}: {exc}") from None
        bound.apply_defaults()
        for name, value in bound.arguments.items():
            setattr(self, name, value)  # the declaration validates it under this class's name
        self.setup()

    def __setattr__(self, name: str, value: Any) -> None:
        param = type(self).parameters.get(name)
        if param is not None:  # a declared parameter: validated on every assignment
            value = param.assign(self, value)
            if isinstance(param, Transforms):  # plain callables and Blocks become transforms
                value = [Declared._as_child(t) for t in value]
        object.__setattr__(self, name, value)

    def setup(self) -> None:
        """Check rules that span several parameters and derive state from them (after validation).

        Raise ``self.invalid(name, allowed)`` for a value that breaks such a rule.
        """

    def invalid(self, name: str, allowed: str) -> ParameterError:
        """The :class:`ParameterError` for parameter ``name``'s given value, under this class's name."""
        value = self.__dict__.get("_param_given", {}).get(name, getattr(self, name, None))
        return ParameterError(type(self).__name__, name, value, allowed)


def _own_init(cls: type) -> Any:
    """The ``__init__`` a class gets from the nearest class of its MRO that defines one."""
    for klass in cls.__mro__:
        if "__init__" in vars(klass):
            return vars(klass)["__init__"]
    return object.__init__
