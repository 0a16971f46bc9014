"""Declared transform parameters: the public API plugin authors describe their parameters with.

Declare each constructor parameter once, as a class attribute of a
:class:`gluon_augplug.Transform` subclass; the base class then builds the constructor, and the
declaration validates every value under the transform's own class name, lists the parameter
with its type, range and doc (``augplug transforms``), rebuilds the transform from its spec
(``to_spec``) and drives the harness's parameter checks::

    from gluon_augplug import Transform
    from gluon_augplug import params as P

    class GridMask(Transform):
        random = True
        d_range = P.Range((8, 16), 2, 4096, integer=True, doc="grid period in pixels, drawn per image")
        ratio = P.Number(0.5, 0, 1, doc="side of each dropped square, as a fraction of the period")
        p = P.Probability(0.8)

``GridMask(ratio=2)`` then raises ``ParameterError: GridMask: parameter ratio=2 is invalid;
allowed: a number in [0, 1]``. A factory that takes ``**kwargs`` (a wrapper) declares its
parameters at registration instead: ``register("Wrapped", factory, params={"p": P.Probability(0.5)})``.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

from . import _validate as _checks
from ._validate import (INTERPOLATIONS, MAX_SIDE, MIN_STD, fill_value, interpolation, number, one_of, pair,
                        per_channel, probability, size_wh)
from .errors import ParameterError


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()  # the default of a parameter that must be given


class Param:
    """One declared parameter: its default, its doc and the values it allows.

    As a class attribute of a transform it declares a parameter: assigning ``self.name = value``
    validates ``value`` (a :class:`ParameterError` names the class, the parameter and the
    allowed values) and reading ``self.name`` gives the validated value (``Size(32)`` reads
    as ``(32, 32)``); ``to_spec`` keeps the value as given.

    Parameters
    ----------
    default : Any
        The value when none is given; :data:`REQUIRED` (the default) makes it required.
    doc : str
        One line for listings.
    optional : bool
        ``None`` is allowed too (and means "off").
    """

    type_name = "any"

    def __init__(self, default: Any = REQUIRED, doc: str = "", *, optional: bool = False):
        self.default = default
        self.doc = doc
        self.optional = optional
        self.name = ""

    # -- to implement ----------------------------------------------------------------
    def check(self, value: Any, owner: str) -> Any:
        """Return the validated (normalized) value or raise :class:`ParameterError`."""
        return value

    def allowed(self) -> str:
        """The allowed values, in words."""
        return "any value"

    def bad_value(self) -> Any:
        """A value the declaration must refuse (the harness checks that building with it fails)."""
        return "not-a-value"

    # -- machinery -------------------------------------------------------------------
    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def validate(self, value: Any, owner: str) -> Any:
        if value is None and self.optional:
            return None
        return self.check(value, owner)

    def describe_allowed(self) -> str:
        return self.allowed() + (", or None" if self.optional else "")

    def invalid(self, owner: str, value: Any, allowed: str | None = None) -> ParameterError:
        return ParameterError(owner, self.name, value, allowed or self.describe_allowed())

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        # reached only while the instance has no value of its own (a transform stores the validated
        # value in its __dict__, which then wins: reading a parameter costs a plain attribute lookup)
        if obj is None:
            return self
        raise AttributeError(f"{type(obj).__name__}.{self.name} is not set yet")

    def assign(self, obj: Any, value: Any) -> Any:
        """Validate ``value`` for ``obj`` (under its class's name); remember it as given; return it validated."""
        normalized = self.validate(value, type(obj).__name__)
        obj.__dict__.setdefault("_param_given", {})[self.name] = value
        return normalized

    def as_dict(self) -> dict:
        """JSON-friendly description for listings (``augplug transforms --json``)."""
        out = {"name": self.name, "type": self.type_name, "required": self.required, "allowed": self.describe_allowed(),
               "doc": self.doc}
        if not self.required:
            out["default"] = jsonable(self.default)
        return out

    def __repr__(self) -> str:
        default = "" if self.required else f"{self.default!r}, "
        return f"{type(self).__name__}({default}{self.describe_allowed()!r})"


class Number(Param):
    """A finite number in ``[lo, hi]`` (an integer with ``integer=True``)."""

    type_name = "number"

    def __init__(self, default: Any = REQUIRED, lo: float | None = None, hi: float | None = None, *,
                 integer: bool = False, doc: str = "", optional: bool = False):
        super().__init__(default, doc, optional=optional)
        self.lo, self.hi, self.integer = lo, hi, integer
        if integer:
            self.type_name = "integer"

    def check(self, value, owner):
        return _checks.number(owner, self.name, value, self.lo, self.hi, integer=self.integer)

    def bad_value(self):
        if self.hi is not None:
            return self.hi + 1
        return self.lo - 1 if self.lo is not None else "not-a-number"

    def allowed(self):
        text = _checks._interval(self.lo, self.hi)
        return text.replace("a number", "an integer") if self.integer else text


class Probability(Number):
    """A probability in [0, 1]."""

    type_name = "probability"

    def __init__(self, default: Any = 0.5, doc: str = "", *, optional: bool = False):
        super().__init__(default, 0.0, 1.0, doc=doc or "probability of applying it", optional=optional)


class Range(Param):
    """A ``(min, max)`` pair inside ``[lo, hi]``; a single number ``x`` means ``(x, x)``, or
    ``(center - x, center + x)`` with ``symmetric_from=center`` (``degrees=10`` -> ``(-10, 10)``)."""

    type_name = "range"

    def __init__(self, default: Any = REQUIRED, lo: float | None = None, hi: float | None = None, *,
                 symmetric_from: float | None = None, up_to: float | None = None, integer: bool = False,
                 doc: str = "", optional: bool = False):
        super().__init__(default, doc, optional=optional)
        self.lo, self.hi, self.symmetric_from, self.integer = lo, hi, symmetric_from, integer
        self.up_to = up_to  # a single number x means (x, up_to), as MXNet reads RandomResizedCrop's scale

    def check(self, value, owner):
        if self.up_to is not None and _checks._is_number(value):
            value = (value, self.up_to)
        low, high = _checks.pair(owner, self.name, value, self.lo, self.hi, self.symmetric_from)
        if self.integer:
            if low != int(low) or high != int(high):
                raise self.invalid(owner, value)
            return int(low), int(high)
        return low, high

    def allowed(self):
        what = _checks._interval(self.lo, self.hi)
        if self.integer:
            what = what.replace("a number", "an integer")
        pair = f"a (min, max) pair of {'integers' if self.integer else 'numbers'}"
        if self.up_to is not None:
            return f"{pair}, {what.replace('a number ', 'each ')}; a number x means (x, {self.up_to})"
        if self.symmetric_from is not None:
            return f"{pair} in {what.split(' in ')[-1] if ' in ' in what else 'range'}, or x >= 0 for ±x"
        return f"{what}, or {pair} of them"


class Size(Param):
    """MXNet's size convention: an integer (square) or ``(width, height)``, each in [1, 32767]."""

    type_name = "size"

    def check(self, value, owner):
        return _checks.size_wh(owner, self.name, value)

    def bad_value(self):
        return 0

    def allowed(self):
        return f"an integer in [1, {MAX_SIDE}] or a (width, height) pair of them"


class Interpolation(Param):
    """An OpenCV/MXNet interpolation code: 0 nearest, 1 bilinear, 2 bicubic, 3 area, 4 lanczos, or MXNet's 9
    (auto: bicubic to enlarge, area to shrink, else bilinear)."""

    type_name = "interpolation"

    def __init__(self, default: Any = 1, doc: str = "", *, optional: bool = False):
        super().__init__(default, doc or "resampling method", optional=optional)

    def check(self, value, owner):
        return _checks.interpolation(owner, value, self.name)

    def bad_value(self):
        return 99

    def allowed(self):
        return ", ".join(f"{k} ({v})" for k, v in INTERPOLATIONS.items())


class PerChannel(Param):
    """A number or a sequence of 1, 3 or 4 numbers (one per channel), each in ``[lo, hi]``."""

    type_name = "per-channel"

    def __init__(self, default: Any = REQUIRED, lo: float | None = None, hi: float | None = None, *,
                 positive: bool = False, doc: str = "", optional: bool = False):
        super().__init__(default, doc, optional=optional)
        self.lo, self.hi, self.positive = lo, hi, positive

    def check(self, value, owner):
        return _checks.per_channel(owner, self.name, value, self.lo, self.hi, self.positive)

    def allowed(self):
        text = "a number or one per channel (1, 3 or 4)"
        if self.positive:
            text += f", each >= {MIN_STD}"
        if self.lo is not None or self.hi is not None:
            text += f", each {_checks._interval(self.lo, self.hi).replace('a number ', '')}"
        return text


class Fill(PerChannel):
    """A fill colour on the 0-255 scale: one number, or one per channel."""

    type_name = "fill"

    def __init__(self, default: Any = 0, doc: str = "", *, optional: bool = False):
        super().__init__(default, 0, 255, doc=doc or "fill colour (0-255)", optional=optional)

    def check(self, value, owner):
        return _checks.fill_value(owner, self.name, value)


class Choice(Param):
    """One of a fixed set of values."""

    type_name = "choice"

    def __init__(self, default: Any = REQUIRED, options: Sequence[Any] = (), doc: str = "", *,
                 optional: bool = False):
        super().__init__(default, doc, optional=optional)
        self.options = tuple(options)

    def check(self, value, owner):
        if isinstance(value, bool) and not any(isinstance(o, bool) for o in self.options):
            raise self.invalid(owner, value)
        return _checks.one_of(owner, self.name, value, self.options)

    def allowed(self):
        return "one of " + ", ".join(repr(o) for o in self.options)


class Flag(Choice):
    """True or False."""

    type_name = "flag"

    def __init__(self, default: Any = False, doc: str = "", *, optional: bool = False):
        super().__init__(default, (True, False), doc, optional=optional)

    def check(self, value, owner):
        if value is True or value is False:
            return value
        raise self.invalid(owner, value)


class Custom(Param):
    """A parameter checked by a function: ``check(owner, name, value) -> normalized value``, which
    raises :class:`ParameterError` (``allowed`` says what is allowed, for listings)."""

    def __init__(self, default: Any = REQUIRED, check: Callable[[str, str, Any], Any] | None = None,
                 allowed: str = "any value", doc: str = "", *, type_name: str = "any", optional: bool = False):
        super().__init__(default, doc, optional=optional)
        self._check, self._allowed, self.type_name = check, allowed, type_name

    def check(self, value, owner):
        return self._check(owner, self.name, value) if self._check is not None else value

    def allowed(self):
        return self._allowed


class Transforms(Param):
    """A list of transforms (as ``Compose``'s ``transforms``): the builder builds them first."""

    type_name = "transforms"

    def __init__(self, default: Any = REQUIRED, doc: str = "", *, optional: bool = False):
        super().__init__(default, doc or "the transforms it wraps", optional=optional)

    def check(self, value, owner):
        # callables are all this layer knows of transforms: the transforms layer wraps plain ones when it assigns
        # the list (transforms.declared), so that this leaf module imports nothing above it
        if callable(value) and not isinstance(value, (list, tuple)):
            value = [value]
        if not isinstance(value, (list, tuple)) or not all(callable(t) for t in value):
            raise self.invalid(owner, value)
        return list(value)

    def allowed(self):
        return "a list of transforms"


def declared(params: Mapping[str, Param] | None) -> dict[str, Param]:
    """Name the declarations of a ``register(..., params={...})`` mapping and check they are :class:`Param`."""
    out: dict[str, Param] = {}
    for name, param in (params or {}).items():
        if not isinstance(param, Param):
            raise TypeError(f"params[{name!r}] must be a gluon_augplug.params.Param, got {type(param).__name__}")
        if not param.name:
            param.name = name
        out[name] = param
    return out


def check_values(owner: str, params: Mapping[str, Param], values: Mapping[str, Any]) -> None:
    """Validate ``values`` against ``params`` (unknown names get the closest declared one)."""
    from .errors import SpecError, brief, closest_names

    for key, value in values.items():
        if key not in params:
            hint = closest_names(key, params, n=1)
            raise SpecError(f"{owner}: unknown parameter {brief(key, 60)}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
                            + f"; its parameters: {', '.join(params) or 'none'}")
        params[key].validate(value, owner)
    missing = [name for name, p in params.items() if p.required and name not in values]
    if missing:
        raise SpecError(f"{owner}: missing required parameter(s) {', '.join(missing)}")


def jsonable(value: Any) -> Any:
    """``value`` for JSON listings: dicts, lists and plain values kept, anything else (and non-finite
    floats, which JSON cannot hold) as its repr."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


__all__ = ["Param", "REQUIRED", "Number", "Probability", "Range", "Size", "Interpolation", "PerChannel", "Fill",
           "Choice", "Flag", "Custom", "Transforms", "ParameterError", "declared", "check_values",
           "number", "probability", "pair", "size_wh", "interpolation", "per_channel", "one_of", "fill_value",
           "INTERPOLATIONS", "MAX_SIDE", "MIN_STD"]
