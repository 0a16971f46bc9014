"""Parameters that follow a schedule over a training run, and steps switched on or off by epoch.

In a spec, a declared parameter of any transform may be a schedule instead of a value::

    RandomResizedCrop(steps(160, (30, 192)), scale=(0.35, 1)), ColorJitter(brightness=linear(0, 0.4, 0, 10))
    Mixup(0.2, active=until(90))

Time is counted in epochs done: 0 at the start of the run, ``29.5`` halfway through the
thirtieth epoch. A schedule's value at a sample is a function of the (epoch, iteration) that
sample is drawn at (:class:`Clock`), which the training loop sends with each sample's index
(:class:`~gluon_augplug.data.tagged.SampleIndex`): no worker keeps any state of it, so every
worker process and thread resolves the same value, and seeded replay and resume stay exact.

In YAML or JSON a schedule is a one-key mapping: ``brightness: {linear: [0, 0.4, 0, 10]}``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable

from ..errors import SpecError, brief

MAX_STEPS = 1000  # change points in one steps() schedule
MAX_EPOCH = 10**6


@dataclass(frozen=True)
class Clock:
    """When a sample is drawn: ``epoch`` epochs done, ``step`` iterations into the next one out of ``steps``
    (``steps`` 0: unknown, the epoch alone counts)."""

    epoch: int = 0
    step: int = 0
    steps: int = 0

    @property
    def time(self) -> float:
        """Epochs done, with the fraction of the current epoch."""
        return self.epoch + (min(self.step, self.steps) / self.steps if self.steps else 0.0)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _numbers(value: Any) -> bool:
    """A number, or a flat list/tuple of numbers (a pair, a size, one value per channel)."""
    if isinstance(value, (list, tuple)):
        return bool(value) and all(_is_number(v) for v in value)
    return _is_number(value)


def _epoch(value: Any, what: str) -> float:
    if not _is_number(value) or not 0 <= value <= MAX_EPOCH:
        raise SpecError(f"{what} must be an epoch in [0, {MAX_EPOCH}] (epochs done; fractions allowed), "
                        f"got {brief(value, 40)}")
    return value


def _hashable(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, (list, tuple)) else value


class Schedule:
    """A value that changes with the epoch. ``value(clock)`` gives it; ``values()`` the values it takes at its
    ends and steps (what the transform's declaration must allow: the values between lie between them)."""

    name = ""

    def value(self, clock: Clock) -> Any:
        raise NotImplementedError

    def values(self) -> list:
        raise NotImplementedError

    def args(self) -> list:
        raise NotImplementedError

    def points(self) -> list[float]:
        """The epochs at which it takes the values of :meth:`values` (where a build is checked)."""
        raise NotImplementedError

    def to_spec(self) -> dict:
        """The one-key mapping of specs and files: ``{"linear": [0, 0.4, 0, 10]}``."""
        return {self.name: [list(a) if isinstance(a, tuple) else a for a in self.args()]}

    def describe(self) -> str:
        return render_schedule(self.to_spec())

    def __repr__(self) -> str:
        return self.describe()

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Schedule) and self.to_spec() == other.to_spec()

    def __hash__(self) -> int:
        return hash(repr(self))


class Constant(Schedule):
    """``constant(v)``: the same value throughout (a schedule written out, e.g. in a generated file)."""

    name = "constant"

    def __init__(self, v: Any):
        self.v = v

    def value(self, clock: Clock) -> Any:
        return self.v

    def values(self) -> list:
        return [self.v]

    def points(self) -> list[float]:
        return [0.0]

    def args(self) -> list:
        return [self.v]


class Linear(Schedule):
    """``linear(a, b, start, stop)``: ``a`` until epoch ``start``, ``b`` from epoch ``stop``, a straight line
    between, changing every iteration. Numbers or equal-length tuples (each element its own line); integers at
    both ends give integers (rounded)."""

    name = "linear"

    def __init__(self, a: Any, b: Any, start: Any = 0, stop: Any = None):
        for what, v in (("first value", a), ("last value", b)):
            if not _numbers(v):
                raise SpecError(f"{self.name}(): the {what} must be a number or a tuple of numbers, got {brief(v, 40)}")
        if isinstance(a, (list, tuple)) != isinstance(b, (list, tuple)) or \
                (isinstance(a, (list, tuple)) and len(a) != len(b)):
            raise SpecError(f"{self.name}(): both values must be numbers or tuples of one length, got {brief(a, 40)} "
                            f"and {brief(b, 40)}")
        if stop is None:
            raise SpecError(f"{self.name}(a, b, start, stop): give the epoch it ends at, e.g. {self.name}({a!r}, "
                            f"{b!r}, 0, 30)")
        self.a, self.b = a, b
        self.start, self.stop = _epoch(start, f"{self.name}(): start"), _epoch(stop, f"{self.name}(): stop")
        if self.stop <= self.start:
            raise SpecError(f"{self.name}(): stop ({brief(stop, 20)}) must come after start ({brief(start, 20)})")
        ends = [*(a if isinstance(a, (list, tuple)) else [a]), *(b if isinstance(b, (list, tuple)) else [b])]
        self.integer = all(isinstance(v, int) for v in ends)

    def fraction(self, t: float) -> float:
        return min(max((t - self.start) / (self.stop - self.start), 0.0), 1.0)

    def value(self, clock: Clock) -> Any:
        f = self.fraction(clock.time)
        if f <= 0:
            return self.a
        if f >= 1:
            return self.b

        def between(a: float, b: float) -> Any:
            v = a + (b - a) * f
            return int(round(v)) if self.integer else v

        if isinstance(self.a, (list, tuple)):
            return tuple(between(a, b) for a, b in zip(self.a, self.b))
        return between(self.a, self.b)

    def values(self) -> list:
        # and one value between (at 37% of the way: not a round number), where a parameter that takes integers
        # meets the decimals of float ends
        return [self.a, self.b, self.value(clock_at(self.start + 0.37 * (self.stop - self.start)))]

    def points(self) -> list[float]:
        return [self.start, self.stop]

    def args(self) -> list:
        return [self.a, self.b, self.start, self.stop]


class Cosine(Linear):
    """``cosine(a, b, start, stop)``: from ``a`` to ``b`` along a half cosine (slow, fast, slow), as the cosine
    learning-rate schedule."""

    name = "cosine"

    def fraction(self, t: float) -> float:
        return (1 - math.cos(math.pi * super().fraction(t))) / 2


class Steps(Schedule):
    """``steps(v0, (e1, v1), (e2, v2), ...)``: ``v0``, then ``v1`` from epoch ``e1``, ``v2`` from ``e2``... Any
    values the parameter allows (sizes, choices, flags), changing at epoch boundaries or at fractions of one."""

    name = "steps"

    def __init__(self, first: Any, *changes: Any):
        if len(changes) > MAX_STEPS:
            raise SpecError(f"steps(): at most {MAX_STEPS} changes, got {len(changes)}")
        self.first = first
        self.changes: list[tuple[float, Any]] = []
        for k, change in enumerate(changes):
            if not (isinstance(change, (list, tuple)) and len(change) == 2):
                raise SpecError(f"steps(): change {k + 1} must be an (epoch, value) pair, got {brief(change, 40)}")
            epoch = _epoch(change[0], f"steps(): the epoch of change {k + 1}")
            if self.changes and epoch <= self.changes[-1][0]:
                raise SpecError(f"steps(): the epochs must increase, got {brief(self.changes[-1][0], 20)} then "
                                f"{brief(epoch, 20)}")
            self.changes.append((epoch, change[1]))

    def value(self, clock: Clock) -> Any:
        t, current = clock.time, self.first
        for epoch, value in self.changes:
            if t < epoch:
                break
            current = value
        return current

    def values(self) -> list:
        return [self.first] + [v for _, v in self.changes]

    def points(self) -> list[float]:
        return [0.0] + [e for e, _ in self.changes]

    def args(self) -> list:
        return [self.first] + [[e, list(v) if isinstance(v, tuple) else v] for e, v in self.changes]


class Until(Steps):
    """``until(e)``: on (True) for the first ``e`` epochs, then off: ``Mixup(0.2, active=until(90))`` is
    GluonCV's ``--mixup-off-epoch 10`` of a 100-epoch run."""

    name = "until"

    def __init__(self, epoch: Any):
        super().__init__(True, (_epoch(epoch, "until(): the epoch"), False))

    def args(self) -> list:
        return [self.changes[0][0]]


class After(Steps):
    """``after(e)``: off for the first ``e`` epochs, then on (a warm-up without a step)."""

    name = "after"

    def __init__(self, epoch: Any):
        super().__init__(False, (_epoch(epoch, "after(): the epoch"), True))

    def args(self) -> list:
        return [self.changes[0][0]]


class Between(Steps):
    """``between(a, b)``: on from epoch ``a`` until epoch ``b``."""

    name = "between"

    def __init__(self, start: Any, stop: Any):
        start, stop = _epoch(start, "between(): start"), _epoch(stop, "between(): stop")
        if stop <= start:
            raise SpecError(f"between(): stop ({brief(stop, 20)}) must come after start ({brief(start, 20)})")
        super().__init__(start == 0, *([(start, True)] if start else []), (stop, False))

    def args(self) -> list:
        return [self.changes[0][0] if self.first is False else 0, self.changes[-1][0]]


SCHEDULES: dict[str, type[Schedule]] = {c.name: c for c in (Constant, Linear, Cosine, Steps, Until, After, Between)}
ACTIVE = "active"  # the pseudo-parameter that switches any step on or off (unless the transform has its own)


def make_schedule(name: str, args: Iterable[Any] = (), params: dict | None = None, where: str = "") -> Schedule:
    """Build the schedule ``name(*args, **params)`` (a :class:`SpecError` names what is wrong)."""
    import inspect

    cls = SCHEDULES[name]
    try:
        return cls(*args, **(params or {}))
    except TypeError:
        names = [("*" if p.kind == p.VAR_POSITIONAL else "") + p.name
                 for p in inspect.signature(cls).parameters.values()]
        written = f"{name}({', '.join(names)})"
        raise SpecError(f"{where}{name}() takes {written}, got {len(list(args))} value(s)"
                        f"{' and ' + ', '.join(params) if params else ''}; e.g. {_EXAMPLES[name]}") from None
    except SpecError as exc:
        raise SpecError(f"{where}{exc}") from None


_EXAMPLES = {"constant": "constant(0.4)", "linear": "linear(0.0, 0.4, 0, 30)", "cosine": "cosine(0.4, 0.0, 0, 90)",
             "steps": "steps(160, (30, 192), (60, 224))", "until": "until(90)", "after": "after(5)",
             "between": "between(5, 90)"}


def as_schedule(value: Any, where: str = "") -> Schedule | None:
    """``value`` as a :class:`Schedule` when it is one: a parsed call ``linear(...)`` (a spec Node), the one-key
    mapping of files (``{"linear": [...]}``) or a Schedule; None for any other value."""
    if isinstance(value, Schedule):
        return value
    if _is_call(value) and value.name in SCHEDULES:
        return make_schedule(value.name, value.args, value.params, where)
    if isinstance(value, dict) and len(value) == 1:
        (name, args), = value.items()
        if name in SCHEDULES:
            if isinstance(args, dict):
                return make_schedule(name, (), args, where)
            return make_schedule(name, args if isinstance(args, (list, tuple)) else [args], None, where)
    return None


def _is_call(value: Any) -> bool:
    """A parsed call of a spec string (:class:`~gluon_augplug.pipeline.spec.Node`: a name, args and params)."""
    return type(value).__name__ == "Node" and isinstance(getattr(value, "name", None), str) \
        and isinstance(getattr(value, "args", None), list) and isinstance(getattr(value, "params", None), dict)


def render_schedule(item: dict) -> str:
    """A schedule's one-key mapping as spec text: ``linear(0, 0.4, 0, 10)``."""
    (name, args), = item.items()

    def text(v: Any) -> str:
        if isinstance(v, (list, tuple)):
            return "(" + ", ".join(text(x) for x in v) + ("," if len(v) == 1 else "") + ")"
        return repr(v)

    return f"{name}({', '.join(text(a) for a in (args if isinstance(args, (list, tuple)) else [args]))})"


def is_schedule_spec(item: Any) -> bool:
    return isinstance(item, dict) and len(item) == 1 and next(iter(item)) in SCHEDULES


def schedules_in(value: Any) -> list[Schedule]:
    """Every schedule in a spec item (dicts and lists walked), in a fixed order."""
    found: list[Schedule] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if is_schedule_spec(item):
            found.append(as_schedule(item))  # type: ignore[arg-type]
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(list(item)))
    return found


def clock_at(time: float) -> Clock:
    """The clock at ``time`` epochs (a fraction as a step of a million)."""
    whole = int(math.floor(time))
    # rounded up: the clock is at or just past ``time``, where a change at ``time`` has happened
    return Clock(whole, int(math.ceil((time - whole) * 10**6 - 1e-6)), 10**6 if time != whole else 0)


def key_at(schedules: list[Schedule], clock: Clock) -> tuple:
    return tuple(_hashable(s.value(clock)) for s in schedules)


def clock_of(epoch: Any = 0, step: int = 0, steps: int = 0) -> Clock:
    """A :class:`Clock` from ``at()``'s arguments (a Clock passes through)."""
    if isinstance(epoch, Clock):
        return epoch
    for name, v in (("epoch", epoch), ("step", step), ("steps", steps)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise SpecError(f"at(): {name} must be an integer >= 0, got {brief(v, 40)}")
    return Clock(epoch, step, steps)
