"""Conformance checks for a plugin's transforms; each failure says what to fix.

Checks (in order; a transform that does not build skips the rest):

``builds``            the factory builds with its defaults (or its registered ``example``)
``validates``         bad parameters are rejected when building, not at the first image: every declared
                      parameter's out-of-range value raises a ParameterError naming it (undeclared:
                      numeric parameters must refuse a string)
``round_trip``        ``to_spec()`` survives JSON and YAML and rebuilds an identical pipeline
``output_contract``   numpy in -> numpy out, NDArray in -> NDArray out; dtype, shape and value range,
                      for uint8 images and float32 images in the documented 0-255 range; a float32 image
                      must come out as the same picture as its uint8 twin with the same seed (mean
                      difference <= 4 levels: a wrapped library that reads floats as 0-1 fails here)
``no_mutation``       the input image is never written to
``seeded``            the same seed gives the same outputs
``global_state``      the outputs do not depend on Python's or numpy's global random generators, and a
                      call leaves both as it found them (wrap a library that draws from them in
                      ``gluon_augplug.randomness.global_random_state``)
``random``            a transform declared random varies across seeds
``pickle``            the transform and its pipeline pickle and behave the same after
``dataloader``        it works in a ``gluon.data.DataLoader`` with 2 workers that draw distinct augmentations
``hybridize``         a Gluon HybridBlock gives the same output hybridized
``batch``             a transform with a batch path runs in a batch pipeline: numpy and NDArray batches,
                      NCHW float32 out, finite, input untouched, seeded, varies across seeds; mixing
                      transforms give soft targets that sum to 1
``targets``           boxes, masks and keypoints: on a painted rectangle whose box, mask (id 7) and centre
                      keypoint are exact, a ``targets = "geometric"`` transform must move them where
                      its pixels went (IoU >= 0.7 with what the pixels say, mask ids never blended,
                      the keypoint within 3 pixels of a dot painted at it); a transform that says it
                      cannot move a kind (``target_problem``) is checked on the others; a ``"pixel"`` one
                      must leave them and the size as they were; an undeclared one is skipped (it cannot be used with targets)
"""
from __future__ import annotations

import json
import os
import pickle
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import AugplugError, ParameterError, PluginError, SpecError
from ..pipeline.build import build_pipeline
from ..plugins.manager import BUILTIN_PLUGINS, PluginSystem
from ..plugins.registry import Registry, TransformInfo, factory_params
from ..targets.formats import box_ious
from ..targets.modes import TargetMode, moves_by_geometry, overrides, target_mode
from ..transforms.base import CHW, HWC, Transform
from .isolation import load_plugin_system
from .samples import sample_images

CHECKS = ("builds", "validates", "round_trip", "output_contract", "no_mutation", "seeded", "global_state", "random",
          "pickle", "dataloader", "hybridize", "batch", "targets")
# checks of the per-sample path; a batch-only transform (Mixup) skips them
PER_SAMPLE_CHECKS = frozenset({"round_trip", "output_contract", "no_mutation", "seeded", "global_state", "random", "pickle",
                               "dataloader", "hybridize", "targets"})
_SEEDS = range(8)


class Skip(Exception):
    """A check that does not apply to this transform."""


@dataclass
class Finding:
    subject: str
    check: str
    status: str  # "pass" | "fail" | "skip"
    message: str = ""

    def __str__(self) -> str:
        text = f"{self.status.upper():4}  {self.subject}  {self.check}"
        return f"{text}: {self.message}" if self.message else text


@dataclass
class Report:
    """The findings of :func:`check_plugin`; ``str(report)`` is a readable table."""

    plugin: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "fail"]

    @property
    def ok(self) -> bool:
        return not self.failures and bool(self.findings)

    def __str__(self) -> str:
        counts = {s: sum(f.status == s for f in self.findings) for s in ("pass", "fail", "skip")}
        lines = [f"gluon_augplug conformance report for plugin {self.plugin!r}"]
        lines += [f"  {f}" for f in self.findings]
        lines.append(f"{len(self.findings)} checks: {counts['pass']} passed, {counts['fail']} failed, "
                     f"{counts['skip']} skipped")
        return "\n".join(lines)

    def raise_for_failures(self) -> None:
        if not self.ok:
            raise AssertionError(str(self))


class _Context:
    """One transform under test: how to build it, on which images."""

    def __init__(self, info: TransformInfo, registry: Registry, images: dict[str, np.ndarray]):
        self.info = info
        self.registry = registry
        self.images = images
        self.params = dict(info.example)
        self._built: Any = None

    @property
    def item(self) -> dict:
        return {"name": self.info.qualified_name, "params": self.params}

    def pipeline(self, seed: int | None = 0, params: dict | None = None, kind: str = "sample"):
        """The transform in a per-sample pipeline (after ToTensor if it takes tensors) or a batch pipeline."""
        item = self.item if params is None else {"name": self.info.qualified_name, "params": params}
        if kind == "batch":
            from ..batch import build_batch_pipeline

            return build_batch_pipeline([item], seed=seed, registry=self.registry)
        return build_pipeline(self._prefix() + [item], seed=seed, registry=self.registry)

    def transform(self) -> Any:
        """The object the factory returns (composites are built by the builder: their children are specs)."""
        if self._built is None:
            if self.info.nested:
                self._built = build_pipeline([self.item], registry=self.registry)[-1]
            else:
                factory = self.info.factory if self.info.per_sample else self.info.batch_factory
                assert factory is not None
                self._built = factory(**self.params)
        return self._built

    def takes_tensors(self) -> bool:
        t = self.transform()
        return isinstance(t, Transform) and HWC not in t.accepts

    def _prefix(self) -> list:
        return ["ToTensor"] if self.takes_tensors() else []

    def raw_inputs(self) -> dict[str, np.ndarray]:
        """Inputs for calling the transform directly (tensors for tensor-only transforms)."""
        if not self.takes_tensors():
            return {k: v.copy() for k, v in self.images.items()}
        to_tensor = build_pipeline("ToTensor", registry=self.registry)
        return {k: to_tensor(v) for k, v in self.images.items()}

    def declared_random(self) -> bool:
        t = self.transform()
        if isinstance(t, Transform):
            return bool(t.random)
        return bool(getattr(t, "random", False))

    def outputs(self, pipeline) -> list[np.ndarray]:
        return [pipeline(img) for img in self.images.values()]


def _same(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> bool:
    return len(a) == len(b) and all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a, b))


# -- the checks: each returns None (pass) or a message (fail), or raises Skip ---------------

def check_builds(ctx: _Context) -> str | None:
    try:
        ctx.transform()
    except Exception as exc:
        required = [p.name for p in factory_params(ctx.info.factory) if p.required]
        hint = (f"; register it with example={{{', '.join(repr(r) + ': ...' for r in required)}}}"
                if required and not ctx.params else "")
        return f"factory(**{ctx.params}) raised {type(exc).__name__}: {exc}{hint}"
    return None


def _declarations(ctx: _Context) -> dict:
    declared = dict(ctx.info.declared)
    if not declared and isinstance(ctx.info.factory, type):
        declared = dict(getattr(ctx.info.factory, "parameters", None) or {})
    return {name: p for name, p in declared.items() if name not in ctx.info.nested}


def check_validates(ctx: _Context) -> str | None:
    from ..errors import ParameterError

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


def check_round_trip(ctx: _Context) -> str | None:
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


def _expected_layout(ctx: _Context) -> tuple[str, str]:
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


def check_output_contract(ctx: _Context) -> str | None:
    import mxnet as mx

    t = ctx.transform()
    layout_in, layout_out = _expected_layout(ctx)
    for name, img in _with_float_images(ctx.raw_inputs()).items():
        out = t(img)
        if not isinstance(out, np.ndarray):
            return f"numpy input ({name}) returned {type(out).__module__}.{type(out).__name__}: numpy in must give numpy out"
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
    return _float_like_uint8(ctx)


def _float_like_uint8(ctx: _Context) -> str | None:
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


def check_no_mutation(ctx: _Context) -> str | None:
    import mxnet as mx

    t = ctx.transform()
    for name, img in ctx.raw_inputs().items():
        before = img.copy()
        for _ in range(4):
            t(img)
        if not np.array_equal(img, before):
            return f"wrote into its numpy input ({name}): work on a copy (cv2/numpy functions that return new arrays)"
        nd = mx.nd.array(img, dtype=img.dtype)
        t(nd)
        if not np.array_equal(nd.asnumpy(), before):
            return f"wrote into its NDArray input ({name})"
    return None


def check_seeded(ctx: _Context) -> str | None:
    a, b = ctx.outputs(ctx.pipeline(seed=0)), ctx.outputs(ctx.pipeline(seed=0))
    if not _same(a, b):
        return ("the same seed gave different outputs: draw random numbers only from the rng passed to sample() "
                "(subclass gluon_augplug.Transform) or to an `rng` keyword, never from np.random, random or mx.random")
    return None


def _global_states() -> tuple:
    import random

    state: Any = np.random.get_state()  # legacy=True: the 5-tuple
    name, keys, pos, has_gauss, cached = state
    return random.getstate(), (name, keys.tobytes(), pos, has_gauss, cached)


def check_global_state(ctx: _Context) -> str | None:
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


def check_random(ctx: _Context) -> str | None:
    if not ctx.declared_random():
        raise Skip("deterministic (random = False)")
    outputs = [ctx.outputs(ctx.pipeline(seed=s)) for s in _SEEDS]
    if all(_same(outputs[0], o) for o in outputs[1:]):
        return (f"declared random but seeds {_SEEDS.start}-{_SEEDS.stop - 1} give identical outputs: sample() "
                f"must draw the parameters from its rng (or set random = False)")
    return None


def check_pickle(ctx: _Context) -> str | None:
    try:
        clone = pickle.loads(pickle.dumps(ctx.transform()))
        pipe = pickle.loads(pickle.dumps(ctx.pipeline(seed=5)))
    except Exception as exc:
        return (f"does not pickle ({type(exc).__name__}: {exc}); DataLoader workers and checkpoints pickle "
                f"transforms: keep lambdas, locks, open files and generators out of attributes")
    if not _same(ctx.outputs(pipe), ctx.outputs(ctx.pipeline(seed=5))):
        return "a pickled copy of the pipeline gives other outputs than the original"
    if type(clone) is not type(ctx.transform()):
        return f"unpickles as {type(clone).__name__}"
    return None


def _most_varied_image(ctx: _Context) -> np.ndarray:
    """The sample image whose augmentations differ most across seeds (a no-op on it would hide a bug)."""
    pipes = [ctx.pipeline(seed=s) for s in _SEEDS]
    best, best_count = next(iter(ctx.images.values())), 0
    for img in ctx.images.values():
        distinct = len({p(img).tobytes() for p in pipes})
        if distinct > best_count:
            best, best_count = img, distinct
    return best


class _WorkerProbe:
    """A dataset whose items are ``(augmented image, pid of the process that made it)``."""

    def __init__(self, image: np.ndarray, pipeline: Any, length: int):
        self.image, self.pipeline, self.length = image, pipeline, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int):
        return self.pipeline(self.image), np.int64(os.getpid())


def check_dataloader(ctx: _Context, per_worker: int = 16) -> str | None:
    from mxnet import gluon

    image = _most_varied_image(ctx)
    pipeline = ctx.pipeline(seed=0)
    pipeline(image)  # the parent draws before forking, as a training script's sanity check would
    dataset = _WorkerProbe(image, pipeline, 2 * per_worker)
    loader = gluon.data.DataLoader(dataset, batch_size=1, num_workers=2)
    by_worker: dict[int, list[np.ndarray]] = {}
    try:
        for data, pid in loader:
            by_worker.setdefault(int(pid.asscalar()), []).append(data[0].asnumpy())
    except Exception as exc:
        return f"failed inside a DataLoader with num_workers=2: {type(exc).__name__}: {exc}"
    finally:
        del loader
    if not ctx.declared_random():
        return None
    if len(by_worker) < 2:
        raise Skip("one worker produced every sample; distinct streams not observable")
    first, second = list(by_worker.values())[:2]
    n = min(len(first), len(second))
    if _same(first[:n], second[:n]) and per_worker < 128:
        # a rarely applied transform (RandomGrayscale's p=0.1) can repeat 16 draws by chance: look longer
        return check_dataloader(ctx, per_worker * 8)
    if _same(first[:n], second[:n]):
        return ("the two DataLoader workers produced the same sequence of augmentations: forked workers share "
                "the global random state; draw from the rng passed to sample() (gluon_augplug reseeds it per worker)")
    return None


def check_hybridize(ctx: _Context) -> str | None:
    import mxnet as mx

    if not isinstance(ctx.transform(), mx.gluon.HybridBlock):
        raise Skip("not a Gluon HybridBlock")
    t = ctx.info.factory(**ctx.params)  # a fresh block: hybridizing must not touch the shared one
    inputs = [mx.nd.array(img, dtype=img.dtype) for img in ctx.raw_inputs().values()]
    mx.random.seed(0)
    eager = [t(x).asnumpy() for x in inputs]
    t.hybridize()
    mx.random.seed(0)
    hybrid = [t(x).asnumpy() for x in inputs]
    if not _same(eager, hybrid):
        return "gives other outputs once hybridized: keep Python control flow out of hybrid_forward"
    return None


def check_batch(ctx: _Context) -> str | None:
    import mxnet as mx

    from ..compat import BatchTransform
    from .samples import cifar10_samples

    if not ctx.info.usable_in("batch"):
        raise Skip("runs per sample only (no batch path)")
    t = ctx.transform()
    if not (isinstance(t, BatchTransform) or (isinstance(t, Transform) and t.supports_batch())):
        raise Skip("the object its factory returns has no batch path")
    images = np.ascontiguousarray(cifar10_samples()[0][:8])
    labels = np.arange(8) % 10
    by_geometry = isinstance(t, Transform) and not overrides(t, "apply_batch") and moves_by_geometry(t)
    if isinstance(t, Transform) and by_geometry:  # its batch path is its geometry(): output_hw() must name the size apply() makes
        problem = _output_hw_problem(ctx, t)
        if problem:
            return problem
    items = [ctx.item]
    try:
        ctx.pipeline(seed=0, kind="batch")
    except ParameterError as exc:  # an example value batches refuse (a non-zero fill): the defaults then
        if "batch pipeline" not in str(exc) or any(p.required for p in factory_params(ctx.info.factory)):
            raise
        items = [{"name": ctx.info.qualified_name, "params": {}}]

    def build(seed: int) -> Any:
        from ..batch import build_batch_pipeline

        return build_batch_pipeline(items, seed=seed, registry=ctx.registry)

    def run(seed: int, data: Any) -> tuple[Any, Any]:
        pipe = build(seed)
        if pipe.mixes_labels:
            return pipe(data, labels, classes=10)
        return pipe(data), None

    try:
        run(0, images)
    except SpecError as exc:  # a size of each sample's own (RandomIoUCrop): a batch ends it with a Resize
        if "different sizes" not in str(exc):
            raise
        items = items + [{"name": "Resize", "params": {"size": 32}}]

    before = images.copy()
    out, targets = run(0, images)
    if not isinstance(out, np.ndarray):
        return f"a numpy batch returned {type(out).__name__}: numpy in must give numpy out"
    if out.dtype != np.float32 or out.ndim != 4 or out.shape[:2] != (8, 3):
        return f"a (8, 32, 32, 3) uint8 batch gave {out.dtype} {out.shape}: batches come out NCHW float32"
    if not np.isfinite(out).all():
        return "the batch output has NaN or infinite values"
    if not np.array_equal(images, before):
        return "wrote into its input batch: work on new arrays (the state's methods do)"
    again, _ = run(0, images)
    if not np.array_equal(out, again):
        return "the same seed gave a different batch: draw only from the rng sample_batch gets (state.rng)"
    nd_out, _ = run(0, mx.nd.array(images, dtype="uint8"))
    if not isinstance(nd_out, mx.nd.NDArray) or nd_out.shape != out.shape:
        return (f"an NDArray batch gave {type(nd_out).__name__} {getattr(nd_out, 'shape', '')}: it must stay an "
                f"NDArray on its device with the numpy path's shape {out.shape}")
    if targets is not None:
        t_np = targets.asnumpy() if hasattr(targets, "asnumpy") else np.asarray(targets)
        if t_np.shape != (8, 10) or not np.allclose(t_np.sum(axis=1), 1.0, atol=1e-5):
            return f"mixing gave targets of shape {t_np.shape} that do not sum to 1 per sample"
    if ctx.declared_random() and all(np.array_equal(out, run(seed, images)[0]) for seed in range(1, 8)):
        # a draw that batches do not show (an interpolation: batches resample bilinearly) must still vary
        draws = [repr(t.sample_batch(np.random.default_rng(seed), 8, (32, 32, 3))) for seed in range(8)] \
            if isinstance(t, Transform) and by_geometry else []
        if len(set(draws)) < 2:
            return "declared random but seeds 0-7 give identical batches: draw from the rng sample_batch gets"
    return None


def _output_hw_problem(ctx: _Context, t: Transform) -> str | None:
    img = ctx.images.get("cat_small", next(iter(ctx.images.values())))
    for seed in _SEEDS[:4]:
        h, w, c = img.shape
        params = t.sample(np.random.default_rng(seed), (h, w, c))
        made = t.apply(img, HWC, **params).shape[:2]
        said = tuple(int(v) for v in t.output_hw(params, (h, w)))
        if said != tuple(made):
            return (f"output_hw() says {said} but apply() made {tuple(made)} for {params} (seed {seed}): its batch "
                    f"path (the stacked geometry()) needs output_hw() to name the output size")
    return None


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def _painted_scene() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A white rectangle off-centre on black (so that flips move it), its exact box, mask and centre, with a
    yellow 4x4 dot at the centre that shows where the keypoint's pixels went."""
    img = np.zeros((96, 128, 3), np.uint8)
    img[17:49, 21:61] = 255  # odd edges: no resampling grid lines up with them
    img[31:35, 39:43] = (255, 255, 0)
    mask = np.zeros((96, 128), np.uint8)
    mask[17:49, 21:61] = 7
    return img, np.array([[21.0, 17.0, 61.0, 49.0, 1.0]]), mask, np.array([[41.0, 33.0]])


def check_targets(ctx: _Context) -> str | None:
    t = ctx.transform()
    mode = target_mode(t)
    if mode is TargetMode.UNDECLARED:
        raise Skip("does not declare its target mode ('pixel' or 'geometric'): it cannot be used with boxes, masks "
                   "or keypoints")
    if ctx.takes_tensors():
        raise Skip("works on tensors, after ToTensor")
    # a transform that says it cannot move a kind (target_problem) is checked on the kinds it moves
    kinds = [k for k in ("boxes", "masks", "keypoints")
             if not isinstance(t, Transform) or t.target_problem((k,)) is None]
    if not kinds:
        raise Skip(f"moves none of boxes, masks, keypoints: {t.target_problem(('boxes',))}")
    img, boxes, mask, points = _painted_scene()
    scene: dict[str, Any] = {"boxes": boxes, "masks": mask, "keypoints": points}
    given = {k: (v if k in kinds else None) for k, v in scene.items()}
    try:
        pipe = build_pipeline([ctx.item], registry=ctx.registry, targets=kinds)
    except AugplugError as exc:
        return str(exc)
    for seed in _SEEDS:
        result = pipe.apply(img, np.random.default_rng(seed), **given)
        out = np.asarray(result.image)
        out_mask = np.asarray(result.masks) if result.masks is not None else None
        if mode is TargetMode.PIXEL:
            hw = out.shape[1:] if pipe.output_layout() == CHW else out.shape[:2]
            if tuple(hw) != img.shape[:2]:
                return f"declared 'pixel' but changed the size {img.shape[:2]} -> {tuple(hw)} (seed {seed})"
            continue
        if out.ndim != 3 or out.shape[2] not in (1, 3, 4):
            raise Skip("its output is not an HWC image")
        gray = out.astype(np.float64).mean(axis=2)
        region = gray > 127
        if out_mask is None:  # a transform that cannot move masks: the rectangle's pixels stand in for the mask
            out_mask = np.where(region, 7, 0)
        if out_mask.shape[:2] != out.shape[:2]:
            return f"the mask came out {out_mask.shape[:2]}, the image {out.shape[:2]} (seed {seed})"
        blended = sorted(set(np.unique(out_mask).tolist()) - {0, 7})
        if blended:
            return (f"mask ids were blended: ids {{0, 7}} came out with {blended[:5]} (seed {seed}); move masks with "
                    f"nearest-neighbour sampling (the default apply_mask does)")
        if min(region.sum(), (~region).sum(), (out_mask == 7).sum()) < 20:
            continue  # cropped away, or made uniform by a colour step: nothing to compare
        if _iou(out_mask == 7, ~region) > _iou(out_mask == 7, region):  # an inverting colour step: dark rectangle
            region = ~region
        overlap = _iou(out_mask == 7, region)
        if overlap < 0.7:
            return (f"the mask does not follow the pixels: IoU {overlap:.2f} between the moved mask and where the "
                    f"rectangle went (seed {seed})")
        if result.boxes is None:
            pass
        elif not len(result.boxes):
            return f"the box was dropped though the rectangle is still in the image (seed {seed})"
        ys, xs = np.nonzero(region)
        seen = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        box_overlap = 1.0 if result.boxes is None else float(
            box_ious(result.boxes[:1, :4], np.array([seen], np.float64))[0, 0])
        if box_overlap < 0.7:
            return (f"the box does not follow the pixels: {np.round(result.boxes[0, :4], 1).tolist()} where the "
                    f"rectangle is at {list(seen)} (IoU {box_overlap:.2f}, seed {seed})")
        if result.keypoints is not None and len(result.keypoints):
            # the yellow dot painted at the keypoint travels with its pixels, whatever the warp (a jigsaw too)
            dot = (out[:, :, 0] > 128) & (out[:, :, 1] > 128) & (out[:, :, 2] < 128)
            ys, xs = np.nonzero(dot)
            inside = len(xs) >= 4 and xs.min() > 0 and ys.min() > 0 and xs.max() < out.shape[1] - 1 \
                and ys.max() < out.shape[0] - 1
            if inside:
                centre = (float(xs.mean()) + 0.5, float(ys.mean()) + 0.5)
                if np.hypot(*(result.keypoints[0, :2] - centre)) > 3:
                    return (f"the keypoint went to {np.round(result.keypoints[0, :2], 1).tolist()}, the pixels painted "
                            f"at it to {np.round(centre, 1).tolist()} (seed {seed})")
    if mode is TargetMode.PIXEL and "masks" in kinds and not np.array_equal(result.masks, mask):
        return "declared 'pixel' but changed the mask"
    return None


_CHECK_FUNCTIONS: dict[str, Callable[[_Context], str | None]] = {
    "builds": check_builds, "validates": check_validates, "round_trip": check_round_trip,
    "output_contract": check_output_contract, "no_mutation": check_no_mutation, "seeded": check_seeded,
    "global_state": check_global_state,
    "random": check_random, "pickle": check_pickle, "dataloader": check_dataloader, "hybridize": check_hybridize,
    "batch": check_batch, "targets": check_targets,
}


def run_check(check: str, ctx: _Context) -> Finding:
    if check in PER_SAMPLE_CHECKS and not ctx.info.usable_in("sample"):
        return Finding(ctx.info.name, check, "skip", "works on whole batches only")
    try:
        message = _CHECK_FUNCTIONS[check](ctx)
    except Skip as skip:
        return Finding(ctx.info.name, check, "skip", str(skip))
    except Exception as exc:
        return Finding(ctx.info.name, check, "fail", f"raised {type(exc).__name__}: {exc}")
    return Finding(ctx.info.name, check, "fail" if message else "pass", message or "")


def check_transform(info: TransformInfo, registry: Registry, checks: Sequence[str] = CHECKS,
                    images: dict[str, np.ndarray] | None = None) -> list[Finding]:
    """Run ``checks`` on one registered transform; a transform that does not build skips the rest."""
    unknown = set(checks) - set(CHECKS)
    if unknown:
        raise ValueError(f"unknown checks {sorted(unknown)}; the checks are {', '.join(CHECKS)}")
    ctx = _Context(info, registry, images or sample_images())
    first = run_check("builds", ctx)
    findings = [first] if "builds" in checks else []
    if first.status == "fail":
        return findings or [first]
    return findings + [run_check(c, ctx) for c in CHECKS if c in checks and c != "builds"]


def _load(plugin: Any) -> tuple[str, PluginSystem | None, Finding]:
    """Load an installed plugin by name (strict), or register a plugin module/object; report how it went."""
    if isinstance(plugin, str):
        name = plugin
        if name in dict(BUILTIN_PLUGINS):
            return name, PluginSystem(load_entry_points=False), Finding(name, "loads", "pass", "built in")
        try:
            system = load_plugin_system([name], strict=True)
        except PluginError as exc:
            return name, None, Finding(name, "loads", "fail", str(exc))
        record = system.records[name]
        return name, system, Finding(name, "loads", "pass", f"{record.distribution} {record.version}")
    name = getattr(plugin, "__name__", None) or type(plugin).__name__
    system = PluginSystem(load_entry_points=False)
    try:
        system.add_plugin(plugin, name)
    except PluginError as exc:
        return name, None, Finding(name, "loads", "fail", str(exc))
    return name, system, Finding(name, "loads", "pass", "registered by hand")


def check_plugin(plugin: Any, checks: Sequence[str] = CHECKS, raise_on_failure: bool = True) -> Report:
    """Check every transform and preset a plugin registers.

    Parameters
    ----------
    plugin : str or module or object
        An installed plugin's entry-point name (loaded in strict mode), or a plugin
        module/object to register by hand.
    checks : sequence of str
        A subset of :data:`CHECKS`.
    raise_on_failure : bool
        Raise ``AssertionError`` with the readable report when a check fails.

    Returns
    -------
    Report
    """
    name, system, loaded = _load(plugin)
    report = Report(name, [loaded])
    if system is not None:
        transforms = system.registry.transforms(name, kind=None)
        presets = system.registry.presets(name)
        if not transforms and not presets:
            report.findings.append(Finding(name, "registers", "fail", "the plugin registered no transform and no preset"))
        for info in transforms:
            report.findings.extend(check_transform(info, system.registry, checks))
        for preset in presets:
            try:
                build_pipeline(preset.name, registry=system.registry)(sample_images()["cat_small"])
                report.findings.append(Finding(preset.name, "preset", "pass"))
            except Exception as exc:
                report.findings.append(Finding(preset.name, "preset", "fail", f"{type(exc).__name__}: {exc}"))
    if raise_on_failure:
        report.raise_for_failures()
    return report


def check_named(name: str, checks: Sequence[str] = CHECKS, raise_on_failure: bool = True) -> Report:
    """Check a plugin (its entry-point name, or ``builtin``) or one transform (``Name`` or
    ``plugin:Name``) of an installed plugin, which is loaded alone, in strict mode.

    Raises
    ------
    AugplugError
        Neither a plugin nor a transform of that name is installed (the message lists the closest),
        or several plugins register that transform name.
    """
    from ..errors import closest_names
    from ..plugins.manager import get_plugin_system

    system = get_plugin_system()
    if name in system.records or name in dict(BUILTIN_PLUGINS):
        return check_plugin(name, checks, raise_on_failure)
    plugin, _, bare = name.rpartition(":")
    candidates = [i for i in system.registry.candidates(bare, None) if not plugin or i.plugin == plugin]
    if not candidates:
        known = list(system.records) + system.registry.transform_names(kind="sample") + \
            system.registry.transform_names(kind="batch")
        hint = closest_names(name, known)
        raise AugplugError(f"no installed plugin or transform named {name!r}"
                          + (f"; closest: {', '.join(hint)}" if hint else ""))
    if len({i.plugin for i in candidates}) > 1:
        raise AugplugError(f"transform {bare!r} is registered by {', '.join(sorted({i.plugin for i in candidates}))}: "
                          f"name one as plugin:{bare}")
    owner = candidates[0].plugin
    plugin_name, loaded_system, loaded = _load(owner)
    report = Report(f"{plugin_name}:{bare}", [loaded])
    if loaded_system is not None:
        for info in loaded_system.registry.candidates(bare, None):
            if info.plugin == owner:
                report.findings.extend(check_transform(info, loaded_system.registry, checks))
    if raise_on_failure:
        report.raise_for_failures()
    return report


@dataclass
class Case:
    """One check of one transform, for ``pytest.mark.parametrize``."""

    transform: TransformInfo
    check: str
    registry: Registry

    def run(self) -> None:
        finding = check_transform(self.transform, self.registry, ["builds", self.check])[-1]
        if finding.status == "skip":
            import pytest

            pytest.skip(finding.message)
        if finding.status == "fail":
            raise AssertionError(str(finding))

    def __str__(self) -> str:
        return f"{self.transform.name}-{self.check}"


def conformance_cases(plugin: str, checks: Sequence[str] = CHECKS) -> list[Case]:
    """One :class:`Case` per (transform, check) of an installed plugin (loaded in strict mode)."""
    system = load_plugin_system([plugin], strict=True)
    return [Case(info, check, system.registry) for info in system.registry.transforms(plugin, kind=None)
            for check in checks]
