"""The harness's checks of builds, validates, round trip, the output contract, no mutation
(see :mod:`gluon_augplug.testing.conformance`)."""
from __future__ import annotations

import json

import numpy as np

from ...errors import AugplugError, ParameterError
from ...pipeline.build import build_pipeline
from ...plugins.registry import factory_params
from ...transforms.base import CHW, HWC, Transform

from .registry import NDARRAY_HALF_SKIPPED, Skip, check, mxnet_or_none
from ..context import CheckContext, same as _same


@check("builds", per_sample=False, doc=(
    'the factory builds with its defaults (or its registered ``example``)'))
def check_builds(ctx: CheckContext) -> str | None:
    try:
        ctx.transform()
    except Exception as exc:
        required = [p.name for p in factory_params(ctx.info.factory) if p.required]
        hint = (f"; register it with example={{{', '.join(repr(r) + ': ...' for r in required)}}}"
                if required and not ctx.params else "")
        return f"factory(**{ctx.params}) raised {type(exc).__name__}: {exc}{hint}"
    return None


def _declarations(ctx: CheckContext) -> dict:
    declared = dict(ctx.info.declared)
    if not declared and isinstance(ctx.info.factory, type):
        declared = dict(getattr(ctx.info.factory, "parameters", None) or {})
    return {name: p for name, p in declared.items() if name not in ctx.info.nested}


@check("validates", per_sample=False, doc=(
    "bad parameters are rejected when building, not at the first image: every declared parameter's out-"
    'of-range value raises a ParameterError naming it (undeclared: numeric parameters must refuse a '
    'string)'))
def check_validates(ctx: CheckContext) -> str | None:

    declared = _declarations(ctx)
    if declared:
        kind = "batch" if not ctx.info.usable_in("sample") else "sample"
        owners = {ctx.info.name, type(ctx.transform()).__name__}
        for name, param in declared.items():
            bad = param.bad_value()
            try:
                ctx.pipeline(params={**ctx.params, name: bad}, kind=kind)
            except ParameterError as exc:
                if exc.param != name or exc.transform not in owners:
                    return (f"{name}={bad!r} raised a ParameterError for {exc.transform}.{exc.param}: it must "
                            f"name {ctx.info.name}.{name}")
                continue
            except (AugplugError, ValueError, TypeError) as exc:
                return f"{name}={bad!r} raised {type(exc).__name__} ({exc}), not a ParameterError naming {name}"
            return f"accepted {name}={bad!r} when building, outside its declared values ({param.describe_allowed()})"
        return None
    numeric = {}
    for p in factory_params(ctx.info.factory):
        value = ctx.params.get(p.name, None if p.required else p.default)
        if p.name not in ctx.info.nested and isinstance(value, (int, float)) and not isinstance(value, bool):
            numeric[p.name] = value
    if not numeric:
        raise Skip("no numeric parameters")
    accepted = []
    for name in numeric:
        try:
            ctx.pipeline(params={**ctx.params, name: "not-a-number"})
        except (AugplugError, ValueError, TypeError):
            continue
        accepted.append(name)
    if accepted:
        listed = ", ".join(f"{n}='not-a-number'" for n in accepted)
        return (f"accepted {listed} when building; validate "
                f"parameters in __init__ (raise gluon_augplug.errors.ParameterError(transform, param, value, "
                f"allowed)) so that bad specs fail before training starts")
    return None


@check("round_trip", per_sample=True, doc=(
    '``to_spec()`` survives JSON and YAML and rebuilds an identical pipeline'))
def check_round_trip(ctx: CheckContext) -> str | None:
    import yaml

    original = ctx.pipeline(seed=3)
    spec = original.to_spec()
    try:
        via_json = json.loads(json.dumps(spec))
    except (TypeError, ValueError) as exc:
        return f"to_spec() is not JSON-serializable ({exc}); parameters must be numbers, strings, lists, dicts, None"
    via_yaml = yaml.safe_load(yaml.safe_dump(spec))
    for label, rebuilt_spec in (("JSON", via_json), ("YAML", via_yaml)):
        rebuilt = build_pipeline(rebuilt_spec, registry=ctx.registry)
        if rebuilt.to_spec() != spec:
            return f"the spec changed through {label}: {spec} became {rebuilt.to_spec()}"
        if not _same(ctx.outputs(rebuilt), ctx.outputs(build_pipeline(spec, registry=ctx.registry))):
            return (f"a pipeline rebuilt from to_spec() through {label} gives other outputs: store every "
                    f"constructor parameter under an attribute of the same name (or override get_params)")
    return None


def _expected_layout(ctx: CheckContext) -> tuple[str, str]:
    t = ctx.transform()
    layout_in = CHW if ctx.takes_tensors() else HWC
    layout_out = (t.produces or layout_in) if isinstance(t, Transform) else layout_in
    return layout_in, layout_out


def _with_float_images(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The uint8 images again as float32 in the documented 0-255 range."""
    out = dict(inputs)
    for name, img in inputs.items():
        if img.dtype == np.uint8:
            out[f"{name} as float32 0-255"] = img.astype(np.float32)
    return out


@check("output_contract", per_sample=True, doc=(
    'numpy in -> numpy out, NDArray in -> NDArray out; dtype, shape and value range, for uint8 images and'
    ' float32 images in the documented 0-255 range; a float32 image must come out as the same picture as '
    'its uint8 twin with the same seed (mean difference <= 4 levels: a wrapped library that reads floats '
    'as 0-1 fails here)'))
def check_output_contract(ctx: CheckContext) -> str | None:
    mx = mxnet_or_none()

    t = ctx.transform()
    layout_in, layout_out = _expected_layout(ctx)
    for name, img in _with_float_images(ctx.raw_inputs()).items():
        out = t(img)
        if not isinstance(out, np.ndarray):
            return f"numpy input ({name}) returned {type(out).__module__}.{type(out).__name__}: numpy in must give numpy out"
        if mx is not None:
            nd_out = t(mx.nd.array(img, dtype=img.dtype))
            if not isinstance(nd_out, mx.nd.NDArray):
                return f"NDArray input ({name}) returned {type(nd_out).__name__}: NDArray in must give NDArray out"
            if nd_out.dtype != out.dtype:
                return f"NDArray input gives dtype {np.dtype(nd_out.dtype)}, numpy input {out.dtype}: they must agree"
        if out.ndim != 3:
            return f"output of {name} has shape {out.shape}: one image in gives one 3-D image out"
        channels_in = img.shape[2] if layout_in == HWC else img.shape[0]
        channels_out = out.shape[2] if layout_out == HWC else out.shape[0]
        if channels_out != channels_in:
            return f"output of {name} has {channels_out} channels, the input {channels_in} ({layout_out} layout)"
        if layout_out == HWC and img.dtype == np.uint8 and out.dtype != np.uint8:
            return f"uint8 image in gave {out.dtype} out: keep uint8 (ToTensor-like transforms set produces='CHW')"
        if layout_out == CHW and out.dtype != np.float32:
            return f"a CHW tensor out must be float32, got {out.dtype}"
        if out.dtype != np.uint8 and not np.isfinite(out).all():
            return f"output of {name} has NaN or infinite values"
        if layout_out == HWC and img.dtype == np.float32:
            if out.dtype != np.float32:
                return f"float32 image in gave {out.dtype} out: keep the input's dtype"
            if out.min() < -1e-3 or out.max() > 255.001:
                return (f"float32 image in the 0-255 range ({name}) gave values in [{out.min():.4g}, {out.max():.4g}]: "
                        f"keep float images in 0-255 (clip as uint8 saturates)")
    problem = _float_like_uint8(ctx)
    if problem is None and mx is None:
        raise Skip(NDARRAY_HALF_SKIPPED)
    return problem


def _float_like_uint8(ctx: CheckContext) -> str | None:
    """A float32 image on the 0-255 scale is the same picture as its uint8 twin: the same seed must give
    (nearly) the same output, not one made for 0-1 floats."""
    if ctx.takes_tensors():
        return None
    for name, img in ctx.raw_inputs().items():
        if img.dtype != np.uint8:
            continue
        a = np.asarray(ctx.pipeline(seed=11)(img), np.float64)
        b = np.asarray(ctx.pipeline(seed=11)(img.astype(np.float32)), np.float64)
        if a.shape != b.shape:
            return f"float32 twin of {name} came out {b.shape}, the uint8 image {a.shape}, with the same seed"
        gap = float(np.abs(a - b).mean())
        if gap > 4:
            return (f"float32 image on the 0-255 scale ({name}) came out unlike its uint8 twin with the same seed (mean "
                    f"difference {gap:.1f} levels): read float images on gluon_augplug's 0-255 scale, not as 0-1")
    return None


@check("no_mutation", per_sample=True, doc=(
    'the input image is never written to'))
def check_no_mutation(ctx: CheckContext) -> str | None:
    mx = mxnet_or_none()

    t = ctx.transform()
    for name, img in ctx.raw_inputs().items():
        before = img.copy()
        for _ in range(4):
            t(img)
        if not np.array_equal(img, before):
            return f"wrote into its numpy input ({name}): work on a copy (cv2/numpy functions that return new arrays)"
        if mx is None:
            continue
        nd = mx.nd.array(img, dtype=img.dtype)
        t(nd)
        if not np.array_equal(nd.asnumpy(), before):
            return f"wrote into its NDArray input ({name})"
    if mx is None:
        raise Skip(NDARRAY_HALF_SKIPPED)
    return None
