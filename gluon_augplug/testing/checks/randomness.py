"""The harness's checks of seeded, independent of the global generators, random when declared so
(see :mod:`gluon_augplug.testing.conformance`)."""
from __future__ import annotations

from typing import Any

import numpy as np


from ...params import Probability
from ...transforms.base import Transform
from .registry import SEEDS as _SEEDS, Skip, check
from ..context import CheckContext, same as _same


@check("seeded", per_sample=True, doc=(
    'the same seed gives the same outputs, and the drawn parameters it records are JSON numbers (records are '
    'saved and replayed)'))
def check_seeded(ctx: CheckContext) -> str | None:
    a, b = ctx.outputs(ctx.pipeline(seed=0)), ctx.outputs(ctx.pipeline(seed=0))
    if not _same(a, b):
        return ("the same seed gave different outputs: draw random numbers only from the rng passed to sample() "
                "(subclass gluon_augplug.Transform) or to an `rng` keyword, never from np.random, random or mx.random")
    import json

    pipe = ctx.pipeline(seed=0)
    for img in ctx.images.values():
        record = pipe.apply(img).record
        try:
            json.dumps(record)
        except TypeError as exc:
            return (f"the parameters sample() (or draw(size=None)) returned do not go into JSON ({exc}): return "
                    f"Python numbers, lists and strings (int(x), float(x), x.tolist() of numpy values)")
    return None


def _global_states() -> tuple:
    import random

    state: Any = np.random.get_state()  # legacy=True: the 5-tuple
    name, keys, pos, has_gauss, cached = state
    return random.getstate(), (name, keys.tobytes(), pos, has_gauss, cached)


@check("global_state", per_sample=True, doc=(
    "the outputs do not depend on Python's or numpy's global random generators, and a call leaves both as"
    ' it found them (wrap a library that draws from them in '
    '``gluon_augplug.randomness.global_random_state``)'))
def check_global_state(ctx: CheckContext) -> str | None:
    import random

    saved_python, saved_numpy = random.getstate(), np.random.get_state()
    try:
        random.seed(1234)
        np.random.seed(1234)
        before = _global_states()
        first = ctx.outputs(ctx.pipeline(seed=0))
        if _global_states() != before:
            return ("a call changed Python's or numpy's global random state (it reseeds or draws from them): run "
                    "such a library inside gluon_augplug.randomness.global_random_state(rng), which restores both")
        random.seed(99)
        np.random.seed(99)
        if not _same(first, ctx.outputs(ctx.pipeline(seed=0))):
            return ("the outputs depend on Python's or numpy's global random state: draw from the rng passed to "
                    "sample(), or run the library inside gluon_augplug.randomness.global_random_state(rng)")
    finally:
        random.setstate(saved_python)
        np.random.set_state(saved_numpy)
    return None


@check("random", per_sample=True, doc=(
    'a transform declared (or inferred) random varies across seeds (one that says random = False but varies is '
    'named in the skip)'))
def check_random(ctx: CheckContext) -> str | None:
    t = ctx.transform()
    inferred = isinstance(t, Transform) and type(t)._random_inferred
    outputs = [ctx.outputs(ctx.pipeline(seed=s)) for s in _SEEDS]
    varies = not all(_same(outputs[0], o) for o in outputs[1:])
    seeds = f"seeds {_SEEDS.start}-{_SEEDS.stop - 1}"
    if not ctx.declared_random():
        if varies and isinstance(t, Transform) and not inferred:  # named, not failed: plugins of 0.3 passed with it
            raise Skip(f"it says random = False but {seeds} give different outputs: remove random = False (a class "
                       f"that writes sample() is random unless it says otherwise), or draw nothing in sample()")
        if inferred and t.random:
            raise Skip("random was inferred from sample(), which draws nothing here: say random = False if it never does")
        raise Skip("deterministic (random = False)")
    if varies:
        return None
    draws = ctx.drawn_params()
    if len(set(draws)) > 1:
        return (f"sample() draws different parameters for {seeds} but the outputs are identical: apply() ignores what "
                f"sample() draws")
    certain = _certain_probabilities(t)
    if certain:
        return (f"{seeds} give identical outputs because the parameters the harness built it with make every draw "
                f"certain ({', '.join(certain)}): register an example whose draw varies (a probability between 0 and 1)")
    return (f"declared random but {seeds} give identical outputs: sample() must draw the parameters from its rng "
            f"(or set random = False)")


def _certain_probabilities(t: Any) -> list[str]:
    """The declared probabilities of ``t`` set to 0 or 1 (``p=1`` makes a random flip certain)."""
    parameters = getattr(t, "parameters", None) or {}
    return [f"{name}={getattr(t, name)!r}" for name, param in parameters.items()
            if isinstance(param, Probability) and getattr(t, name, None) in (0, 1)]
