"""The harness's check that every declared parameter can follow a schedule (see
:mod:`gluon_augplug.pipeline.schedule`): no code of the plugin's is needed, and this check proves it."""
from __future__ import annotations

import json
from typing import Any

from ... import params as P
from ...errors import AugplugError
from ...pipeline.build import build_pipeline
from ...plugins.registry import factory_params

from .registry import Skip, check
from ..context import CheckContext, same as _same


def _declared(ctx: CheckContext) -> dict:
    declared = dict(ctx.info.declared)
    if not declared and isinstance(ctx.info.factory, type):
        declared = dict(getattr(ctx.info.factory, "parameters", None) or {})
    return {name: p for name, p in declared.items() if name not in ctx.info.nested
            and not isinstance(p, P.Transforms)}


def _current(ctx: CheckContext, name: str, param: P.Param) -> Any:
    if name in ctx.params:
        return ctx.params[name]
    if not param.required:
        return param.default
    for p in factory_params(ctx.info.factory):
        if p.name == name and not p.required:
            return p.default
    return None


def _candidates(param: P.Param, value: Any) -> list:
    """Values to try as the second value of a schedule, most telling first."""
    if isinstance(param, (P.Choice, P.Interpolation)):
        return list(getattr(param, "options", ())) + [0, 1, 2, 3, True, False]
    numbers: list = []
    lo, hi = getattr(param, "lo", None), getattr(param, "hi", None)
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, (int, float)):
        numbers = [value / 2, value * 2, value + 1, value - 1, 0.5, 1, 2, 8]
        if lo is not None and hi is not None:
            numbers.insert(0, (lo + hi) / 2)
        numbers += [lo, hi]
        if isinstance(value, int) or getattr(param, "integer", False):
            numbers = [int(round(v)) for v in numbers if v is not None]
        return [v for v in numbers if v is not None]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (int, float)) for v in value):
        scales = (0.5, 2)
        out = [type(value)(type(v)(v * s) if isinstance(v, int) else v * s for v in value) for s in scales]
        out += [type(value)(v + 1 for v in value), type(value)(v - 1 for v in value)]
        return out
    return []


def _second_value(ctx: CheckContext, name: str, param: P.Param, value: Any) -> Any:
    """A value other than ``value`` that the declaration allows, the transform builds with, and runs with on the
    harness's images (a wrapped library may refuse a combination its signature cannot say)."""
    normalized = param.validate(value, ctx.info.name)
    for candidate in _candidates(param, value):
        try:
            if param.validate(candidate, ctx.info.name) != normalized:
                ctx.outputs(ctx.pipeline(seed=5, params={**ctx.params, name: candidate}))
                return candidate
        except Exception:  # noqa: BLE001 - any refusal: try the next candidate
            continue
    return None


@check("schedules", per_sample=True, doc=(
    "every declared parameter follows a schedule with no code of the plugin's: ``steps(v0, (1, v1))`` "
    "builds, resolves to v0 at epoch 0 and v1 at epoch 1, and the pipeline at epoch 1 draws exactly what one "
    "built with v1 draws; the scheduled spec survives JSON; an out-of-range value in a schedule is refused at "
    "build time naming the parameter"))
def check_schedules(ctx: CheckContext) -> str | None:
    declared = _declared(ctx)
    if not declared:
        raise Skip("no declared parameters (undeclared ones cannot follow a schedule)")
    tried = 0
    for name, param in declared.items():
        value = _current(ctx, name, param)
        if value is None:
            continue
        other = _second_value(ctx, name, param, value)
        if other is None:
            continue
        tried += 1
        schedule = {"steps": [value, [1, other]]}
        try:
            scheduled = ctx.pipeline(seed=5, params={**ctx.params, name: schedule})
        except AugplugError as exc:
            return f"{name}=steps({value!r}, (1, {other!r})) did not build: {exc}"
        at = [scheduled.at(0), scheduled.at(1)]
        got = [p.to_spec()["transforms"][-1]["params"].get(name) for p in at]
        if json.loads(json.dumps(got)) != json.loads(json.dumps([value, other])):
            return f"{name}=steps({value!r}, (1, {other!r})) resolved to {got[0]!r} at epoch 0 and {got[1]!r} at 1"
        direct = ctx.pipeline(seed=5, params={**ctx.params, name: other})
        if not _same(ctx.outputs(at[1]), ctx.outputs(direct)):
            return f"the pipeline at epoch 1 of {name}=steps({value!r}, (1, {other!r})) draws other outputs than " \
                   f"one built with {name}={other!r}"
        spec = json.loads(json.dumps(scheduled.to_spec()))
        if build_pipeline(spec, registry=ctx.registry).to_spec() != scheduled.to_spec():
            return f"the spec of {name}=steps(...) did not survive JSON: {spec}"
        bad = param.bad_value()
        try:
            ctx.pipeline(params={**ctx.params, name: {"steps": [value, [1, bad]]}})
        except AugplugError:
            pass
        else:
            return f"{name}=steps({value!r}, (1, {bad!r})) built, with a value outside {param.describe_allowed()}"
    if not tried:
        raise Skip("no declared parameter has a second valid value to switch to")
    return None
