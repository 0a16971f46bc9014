"""Declared parameters read off another library's constructor signature.

A wrapped library's parameters keep their names and accept what the library accepts in a
spec (numbers, ``(min, max)`` pairs, lists, strings); :class:`LibraryValue` checks the kind of
value and, where the adapter knows it, the range, so that a bad value fails when the pipeline
is built, under the transform's name, and ``augplug transforms`` lists what is allowed.
"""
from __future__ import annotations

from types import MappingProxyType

import enum
import inspect
import math
from typing import Any, Callable, Iterable, Mapping

from ..params import REQUIRED, Flag, Param, Probability

_KINDS = ("number", "text", "any")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class LibraryValue(Param):
    """A wrapped library's parameter: a number or a sequence of numbers (``kind="number"``), a string or
    a list of strings (``"text"``), or any spec value (``"any"``); numbers inside ``[lo, hi]``.

    Sequences come back as tuples, unless ``lists=True`` (imgaug reads a tuple as a range and a list as
    choices): then strings are a list (choices), a pair of numbers a tuple (a range, as everywhere in
    gluon_augplug specs), and other sequences keep the type given.
    """

    def __init__(self, default: Any = REQUIRED, kind: str = "number", lo: float | None = None,
                 hi: float | None = None, *, integer: bool = False, lists: bool = False, doc: str = "",
                 optional: bool = False):
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
        super().__init__(default, doc, optional=optional)
        self.kind, self.lo, self.hi, self.integer, self.lists = kind, lo, hi, integer, lists
        self.type_name = {"number": "integer" if integer else "number", "text": "text", "any": "value"}[kind]

    def _number_ok(self, value: Any) -> bool:
        if not _is_number(value) or not math.isfinite(value):
            return False
        if self.integer and value != int(value):
            return False
        return (self.lo is None or value >= self.lo) and (self.hi is None or value <= self.hi)

    def _item_ok(self, value: Any, depth: int = 0) -> bool:
        if isinstance(value, (list, tuple)) and depth < 2:  # nested: imgaug's ((lo, hi), (lo, hi)) thresholds
            return all(self._item_ok(v, depth + 1) for v in value)
        if isinstance(value, dict) and depth < 2 and self.kind != "text":  # imgaug's {"x": (a, b), "y": ...}
            return all(isinstance(k, str) and self._item_ok(v, depth + 1) for k, v in value.items())
        if self.kind == "number":
            return self._number_ok(value)
        if self.kind == "text":
            return isinstance(value, str)
        if _is_number(value):
            return self._number_ok(value)
        return value is None or isinstance(value, (str, bool))

    def _normalized(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self._normalized(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            items = [self._normalized(v) for v in value]
            if not self.lists:
                return tuple(items)
            if items and all(isinstance(v, str) for v in items):
                return items  # strings: a set of choices
            if len(items) == 2:
                return tuple(items)  # a (min, max) range, as in every gluon_augplug spec
            return items if isinstance(value, list) else tuple(items)  # as given: [0, 90, 180] or (1, 2, 3, 4)
        return value

    def check(self, value: Any, owner: str) -> Any:
        if not self._item_ok(value):
            raise self.invalid(owner, value)
        return self._normalized(value)

    def bad_value(self) -> Any:
        if self.kind == "text":
            return 3.5
        if self.hi is not None:
            return self.hi + 1
        if self.lo is not None:
            return self.lo - 1
        return "not-a-number" if self.kind == "number" else object()  # no spec value: refused whatever the kind

    def allowed(self) -> str:
        if self.kind == "text":
            return "a string or a list of strings"
        if self.lo is not None and self.hi is not None:
            each = f"in [{self.lo:g}, {self.hi:g}]"
        elif self.lo is not None:
            each = f">= {self.lo:g}"
        elif self.hi is not None:
            each = f"<= {self.hi:g}"
        else:
            each = ""
        number = ("an integer" if self.integer else "a number") + (f" {each}" if each else "")
        numbers = ("integers" if self.integer else "numbers") + (f" {each}" if each else "")
        seq = "a (min, max) pair or a list" if self.lists else "a sequence"
        if self.kind == "number":
            return f"{number}, or {seq} of {numbers}"
        return f"{number}, a string, or {seq} of them"


# name -> (lo, hi, integer) of a library's numeric parameters, as the adapter knows them
Ranges = Mapping[str, tuple]
_NONE: Mapping = MappingProxyType({})


def declare_signature(factory: Callable[..., Any], *, ranges: Ranges = _NONE, skip: Iterable[str] = (),
                      lists: bool = False, docs: Mapping[str, str] = _NONE,
                      probability_names: Iterable[str] = ("p",)) -> dict[str, Param]:
    """Declared parameters for every parameter of ``factory``'s signature, in order.

    Parameters
    ----------
    factory : callable
        The library's class (or function).
    ranges : mapping
        ``{name: (lo, hi, integer)}`` of parameters whose bounds the adapter knows (``None`` = open).
    skip : iterable of str
        Parameters not offered (``seed``, ``name``: the adapter handles them).
    lists : bool
        Sequences other than pairs stay lists (see :class:`LibraryValue`).
    docs : mapping
        One-line docs by parameter name.
    probability_names : iterable of str
        Parameters that are one probability (imgaug's ``p`` may be a range: leave it out there).

    A parameter named ``p`` is a :class:`~gluon_augplug.params.Probability`; a ``bool`` default a
    :class:`~gluon_augplug.params.Flag`; a string default takes strings; ``None`` any spec value.
    """
    ranges, docs, skip, probability_names = dict(ranges), dict(docs), set(skip), set(probability_names)
    out: dict[str, Param] = {}
    for name, p in inspect.signature(factory).parameters.items():
        if name in skip or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        default = REQUIRED if p.default is p.empty else p.default
        if isinstance(default, enum.Enum):  # a library's enum default (albumentations' PositionType.CENTER)
            default = default.value
        doc = docs.get(name, "")
        if name in probability_names and (default is REQUIRED or _is_number(default)):
            param: Param = Probability(default, doc)
        elif isinstance(default, bool):
            param = Flag(default, doc)
        else:
            lo, hi, integer = ranges.get(name, (None, None, False))
            if isinstance(default, str) or (isinstance(default, (list, tuple)) and default
                                            and all(isinstance(v, str) for v in default)):
                kind = "text"
            elif (name in ranges and lo is not None) or _is_number(default) or (
                    isinstance(default, (list, tuple)) and default and all(_is_number(v) for v in default)):
                kind = "number"
            else:
                kind = "any"
            param = LibraryValue(default, kind, lo, hi, integer=integer, lists=lists, doc=doc,
                                 optional=default is None)
        param.name = name
        out[name] = param
    return out
