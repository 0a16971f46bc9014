"""Value checks behind declared parameters: each failure names the transform, parameter and allowed range."""
from __future__ import annotations

import math
from numbers import Real
from typing import Any, Sequence

from .errors import ParameterError

INTERPOLATIONS = {0: "nearest", 1: "bilinear", 2: "bicubic", 3: "area", 4: "lanczos",
                  9: "auto: bicubic to enlarge, area to shrink, else bilinear (MXNet's interp=9)"}
# the largest image side a size parameter may ask for: OpenCV's warps and remaps index pixels with
# 16-bit integers, and an image this size is already 3 GB as RGB
MAX_SIDE = 32767
MIN_STD = 1e-6  # below it 1/std overflows float32 arithmetic into inf and NaN


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(float(value))


def _interval(lo: float | None, hi: float | None) -> str:
    if lo is None and hi is None:
        return "a finite number"
    if hi is None:
        return f"a number >= {lo}"
    if lo is None:
        return f"a number <= {hi}"
    return f"a number in [{lo}, {hi}]"


def number(t: str, name: str, value: Any, lo: float | None = None, hi: float | None = None,
           integer: bool = False) -> float:
    """A (finite) number within ``[lo, hi]``."""
    kind = "an integer" if integer else "a number"
    allowed = _interval(lo, hi).replace("a number", kind)
    if not _is_number(value) or (integer and float(value) != int(value)):
        raise ParameterError(t, name, value, allowed)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ParameterError(t, name, value, allowed)
    return int(value) if integer else float(value)


def probability(t: str, name: str, value: Any) -> float:
    return number(t, name, value, 0.0, 1.0)


def pair(t: str, name: str, value: Any, lo: float | None = None, hi: float | None = None,
         symmetric_from: float | None = None) -> tuple[float, float]:
    """A ``(min, max)`` range with ``min <= max`` inside ``[lo, hi]``.

    A single number ``x`` means ``(symmetric_from - x, symmetric_from + x)`` when
    ``symmetric_from`` is given (``degrees=10`` -> ``(-10, 10)``), else ``(x, x)``.
    """
    allowed = f"{_interval(lo, hi)}, or a (min, max) pair of them"
    if _is_number(value) and symmetric_from is not None:
        if value < 0:
            raise ParameterError(t, name, value, "a number >= 0 (the range is ±value), or a (min, max) pair")
        low, high = symmetric_from - float(value), symmetric_from + float(value)
    elif _is_number(value):
        low = high = float(value)
    elif isinstance(value, (list, tuple)) and len(value) == 2 and all(_is_number(v) for v in value):
        low, high = float(value[0]), float(value[1])
        if low > high:
            raise ParameterError(t, name, value, f"(min, max) with min <= max; {allowed}")
    else:
        raise ParameterError(t, name, value, allowed)
    if (lo is not None and low < lo) or (hi is not None and high > hi):
        raise ParameterError(t, name, value, allowed)
    return low, high


def size_wh(t: str, name: str, value: Any) -> tuple[int, int]:
    """MXNet's size convention: an int (square) or ``(width, height)`` of ints in ``[1, MAX_SIDE]``."""
    allowed = f"an integer in [1, {MAX_SIDE}] or a (width, height) pair of them"
    if _is_number(value) and float(value) == int(value) and 0 < value <= MAX_SIDE:
        return int(value), int(value)
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(
        _is_number(v) and float(v) == int(v) and 0 < v <= MAX_SIDE for v in value
    ):
        return int(value[0]), int(value[1])
    raise ParameterError(t, name, value, allowed)


def interpolation(t: str, value: Any, name: str = "interpolation") -> int:
    """An OpenCV/MXNet interpolation code 0-4, or MXNet's 9 (chosen from the sizes when resampling)."""
    allowed = ", ".join(f"{k} ({v})" for k, v in INTERPOLATIONS.items())
    if not (_is_number(value) and int(value) == value and int(value) in INTERPOLATIONS):
        raise ParameterError(t, name, value, allowed)
    return int(value)


def per_channel(t: str, name: str, value: Any, lo: float | None = None, hi: float | None = None,
                positive: bool = False) -> tuple[float, ...]:
    """A number or a sequence of 1, 3 or 4 numbers (one per channel)."""
    allowed = "a number or a sequence of one number per channel" + (f" (all >= {MIN_STD})" if positive else "")
    values = [value] if _is_number(value) else value
    if not isinstance(values, (list, tuple)) or len(values) not in (1, 3, 4) or not all(_is_number(v) for v in values):
        raise ParameterError(t, name, value, allowed)
    if positive and any(v < MIN_STD for v in values):
        raise ParameterError(t, name, value, allowed)
    if (lo is not None and min(values) < lo) or (hi is not None and max(values) > hi):
        raise ParameterError(t, name, value, f"{allowed}, each in [{lo}, {hi}]")
    return tuple(float(v) for v in values)


def one_of(t: str, name: str, value: Any, options: Sequence[Any]) -> Any:
    if value not in options:
        raise ParameterError(t, name, value, "one of " + ", ".join(repr(o) for o in options))
    return value


def fill_value(t: str, name: str, value: Any) -> tuple[float, ...] | float:
    """A fill colour: one number or one per channel, in [0, 255]."""
    values = per_channel(t, name, value, 0, 255)
    return values[0] if len(values) == 1 else values
