"""``build_pipeline``: from a spec (string, preset, file, list, dict) to a :class:`Pipeline`."""
from __future__ import annotations

import inspect
from typing import Any

from ..errors import AugplugError, ParameterError, SpecError, UnknownTransformError, brief, closest_names
from ..params import check_values
from ..plugins.registry import Registry, TransformInfo
from ..transforms.adapter import as_transform
from ..transforms.base import Specified, Transform
from .pipeline import Pipeline
from .schedule import ACTIVE, SCHEDULES, Clock, Schedule, as_schedule
from .spec import Node, check_structure, load_spec_file, looks_like_file, node_from_dict, parse_spec_string

_MAX_PRESET_DEPTH = 8
MAX_TRANSFORMS = 1000  # in one pipeline, nested ones included


def check_seed(seed: Any, what: str, error: type[Exception] = SpecError, optional: bool = True) -> None:
    """Raise ``error`` unless ``seed`` is an integer in [0, 2**128) (or None, when ``optional``)."""
    if seed is None and optional:
        return
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**128:
        raise error(f"{what} must be a non-negative integer below 2**128{' or None' if optional else ''}, got "
                    f"{brief(seed, 40)}")


def build_pipeline(spec: Any, seed: int | None = None, *, registry: Registry | None = None,
                   strict: bool | None = None, targets: Any = None) -> Pipeline:
    """Build an augmentation pipeline by name.

    Parameters
    ----------
    spec : str, list, dict or Pipeline
        * a spec string: ``"RandomFlipLeftRight, RandomCrop(32, pad=4), ToTensor"``
          (``plugin:Name`` picks one plugin's transform);
        * a preset name: ``"cifar10-standard"``;
        * a ``.yaml``/``.yml``/``.json`` file holding a list of ``{name: ..., params: {...}}``
          items (or ``{seed: ..., transforms: [...]}``, as :meth:`Pipeline.to_spec` returns);
        * the same as Python lists and dicts, strings and transform objects mixed freely.
    seed : int, optional
        Seed of the pipeline's random source; overrides a seed stored in the spec.
    registry : Registry, optional
        Where names are looked up; default: every loaded plugin's (:func:`get_registry`).
    strict : bool, optional
        Raise if any plugin failed to load (default: ``GLUON_AUGPLUG_STRICT_PLUGINS``).
    targets : str, list, dict or TargetOptions, optional
        The targets the pipeline will move with its images, checked now: ``"boxes"``, a list of
        ``"boxes"``, ``"masks"``, ``"keypoints"``, or ``{"kinds": [...], "options": {...}}`` with
        :class:`gluon_augplug.targets.TargetOptions` (``box_format``, ``clip``, ``min_area``,
        ``min_visibility``, ``keypoints_outside``). A step that cannot move them is a
        :class:`SpecError` naming it.

    Returns
    -------
    Pipeline

    Raises
    ------
    UnknownTransformError, AmbiguousTransformError, ParameterError, SpecSyntaxError, SpecFileError, SpecError
        Each names the problem: the closest names, the parameter and its allowed values,
        the position in the string, the file and line.
    """
    check_seed(seed, "seed")
    if isinstance(spec, Pipeline) and not spec.scheduled:
        return Pipeline(spec.transforms, spec.seed if seed is None else seed,
                        targets if targets is not None else spec.target_options)
    if isinstance(spec, Pipeline):  # its schedules and switched-off steps live in its spec
        targets = targets if targets is not None else spec.target_options
    transforms, spec_seed, plan, every = build_scheduled(spec, "sample", registry, strict)
    if plan is None:
        return Pipeline(transforms, spec_seed if seed is None else seed, targets)
    from .plan import Plan

    if targets is not None:  # every step, those switched off at epoch 0 too, is checked against the targets now
        Pipeline(every, None, targets)
    pipeline = Pipeline(transforms, spec_seed if seed is None else seed, targets)
    pipeline.plan = Plan(plan, "sample", pipeline.seed, pipeline.target_options, registry, build=build_scheduled,
                         every=every)
    pipeline.plan.check()
    return pipeline


def build_transforms(spec: Any, kind: str = "sample", registry: Registry | None = None,
                     strict: bool | None = None) -> tuple[list, int | None]:
    """Build the transforms a spec names among the ``kind`` ("sample" or "batch") transforms; return them
    with the seed the spec holds (None if it holds none). Schedules take their values at epoch 0."""
    transforms, spec_seed, _, _ = build_scheduled(spec, kind, registry, strict)
    return transforms, spec_seed


def build_scheduled(spec: Any, kind: str = "sample", registry: Registry | None = None, strict: bool | None = None,
                    clock: Clock | None = None, recipes: list | None = None) -> tuple[list, int | None, list | None, list]:
    """:func:`build_transforms` at ``clock`` (default: the start of the run), the spec of every step, those
    switched off at ``clock`` included, when the spec holds a schedule (None when it holds none), and every
    step built (the switched-off ones too). ``recipes`` (with a clock) receives ``(transform, rebuild)`` for
    each step whose scheduled values a plan can change by calling ``rebuild(clock)``."""
    if registry is None:
        from ..plugins.manager import get_registry

        registry = get_registry(strict)
    builder = _Builder(registry, kind, clock)
    items, spec_seed = builder.normalize(spec, "spec", 0)
    built = [t for item in items for t in builder.build(item, "spec", 0)]
    transforms = [t for t in built if not getattr(t, "_inactive", False)]
    if not built:
        raise SpecError("the spec names no transform")
    plan = [t.to_spec() for t in built] if builder.scheduled else None
    if recipes is not None:
        recipes.extend(builder.recipes)
    return transforms, spec_seed, plan, built  # transforms empty: every step is off at this epoch


class _Builder:
    def __init__(self, registry: Registry, kind: str = "sample", clock: Clock | None = None):
        self.registry = registry
        self.kind = kind
        self.clock = clock or Clock()
        self.concrete = clock is not None  # specs of the values at the clock, not of the schedules
        self.trusted = clock is not None  # a plan's own specs, checked when it was built: not walked again
        self.recipes: list = []  # (transform, rebuild(clock)) of the scheduled steps built at a clock
        self.scheduled = False  # a schedule or an active= was met: the pipeline keeps its spec
        self.echo = True  # False once a file was read: errors then give positions, not content
        self.in_file = 0  # > 0 while building what a file holds: it names no further files
        self.count = 0
        self.home: str | None = None  # the plugin of the preset being built

    def normalize(self, spec: Any, where: str, depth: int) -> tuple[list, int | None]:
        """Return ``(items, seed)``; items are Nodes, dicts or transform objects."""
        if depth > _MAX_PRESET_DEPTH:
            raise SpecError(f"{where}: presets nest more than {_MAX_PRESET_DEPTH} deep (a preset that names itself?)")
        if isinstance(spec, Pipeline):
            if spec.scheduled:
                return self.normalize(spec.to_spec(), where, depth)
            return list(spec.transforms), spec.seed
        if isinstance(spec, Specified) or (callable(spec) and not isinstance(spec, type)):
            return [spec], None
        if isinstance(spec, str):
            text = spec.strip()
            if self.kind == "sample" and self.registry.has_preset(text):
                preset = self.registry.get_preset(text)
                items, seed = self.normalize(preset.spec, f"preset {text!r}", depth + 1)
                for item in items:  # a preset means its own plugin's transforms, whatever else is installed
                    _mark(item, home=preset.plugin)
                return items, seed
            if looks_like_file(text):
                if self.in_file:
                    raise SpecError(f"{where}: a pipeline file cannot name another file")
                self.echo = False
                self.in_file += 1
                try:
                    items, seed = self.normalize(load_spec_file(text), f"file {text!r}", depth + 1)
                finally:
                    self.in_file -= 1
                for item in items:
                    _mark(item, from_file=True)
                return items, seed
            return list(parse_spec_string(spec, echo=self.echo)), None
        if depth == 0 and not self.trusted and isinstance(spec, (list, tuple, dict)):  # bounded as a file's is
            check_structure(spec, where)
        if isinstance(spec, dict):
            if "transforms" in spec:
                unknown = set(spec) - {"transforms", "seed"}
                if unknown:
                    raise SpecError(f"{where}: unknown key(s) {', '.join(sorted(brief(k, 40) for k in unknown))[:200]}; "
                                    f"a pipeline mapping has 'transforms' and optional 'seed'")
                seed = spec.get("seed")
                check_seed(seed, f"{where}: seed")
                items, _ = self.normalize(spec["transforms"], where, depth)
                return items, seed
            return [node_from_dict(spec, where)], None
        if isinstance(spec, (list, tuple)):
            items = []
            for i, element in enumerate(spec):
                if isinstance(element, (list, tuple)):
                    raise SpecError(f"{where}, item {i + 1}: expected a transform (string, mapping or object), "
                                    f"got a nested list")
                sub, _ = self.normalize(element, f"{where}, item {i + 1}", depth)
                items.extend(sub)
            return items, None
        if spec is None:
            raise SpecError(f"{where}: the spec is empty")
        raise SpecError(f"{where}: cannot build a pipeline from {type(spec).__name__}")

    def build(self, item: Any, where: str, depth: int) -> list:
        if isinstance(item, Specified):
            return [item]
        if isinstance(item, dict):
            item = node_from_dict(item, where)
        if not isinstance(item, Node):
            if isinstance(item, str):
                items, _ = self.normalize(item, where, depth)
                return [t for i in items for t in self.build(i, where, depth)]
            return [as_transform(item)]
        home = item.home or self.home
        try:
            info = self._lookup(item.name, home)
        except UnknownTransformError:
            if self.kind == "sample" and not item.args and not item.params and self.registry.has_preset(item.name):
                items, _ = self.normalize(item.name, where, depth + 1)
                return [t for i in items for t in self.build(i, where, depth + 1)]
            raise
        self.count += 1
        if self.count > MAX_TRANSFORMS:
            raise SpecError(f"the spec builds more than {MAX_TRANSFORMS} transforms")
        outer, self.home = self.home, home
        self.in_file += item.from_file
        try:
            return [self._instantiate(info, item, where, depth)]
        finally:
            self.home = outer
            self.in_file -= item.from_file

    def _lookup(self, name: str, home: str | None) -> TransformInfo:
        """``name`` among the ``home`` plugin's transforms first (inside its presets), then everywhere."""
        if home is not None and ":" not in name:
            try:
                return self.registry.get_transform(f"{home}:{name}", self.kind)
            except UnknownTransformError:
                pass
        return self.registry.get_transform(name, self.kind)

    def _instantiate(self, info: TransformInfo, node: Node, where: str, depth: int) -> Transform:
        label = node.describe()
        factory = info.batch_factory if self.kind == "batch" and info.batch_factory is not None else info.factory
        try:
            signature = inspect.signature(factory)
        except (TypeError, ValueError):
            signature = None
        node_params = dict(node.params)
        active = self._active(node_params, info, signature, label)
        kwargs: dict[str, Any] = {}
        args = list(node.args)
        if signature is not None:
            accepted = signature.parameters
            var_kw = any(p.kind == p.VAR_KEYWORD for p in accepted.values())
            known = info.declared or accepted  # a **kwargs wrapper's declared parameters name what it takes
            for key in node_params:
                if key not in known and (info.declared or not var_kw):
                    hint = closest_names(key, known, n=1)
                    raise SpecError(
                        f"{label}: unknown parameter {brief(key, 60)}"
                        + (f" (did you mean {hint[0]!r}?)" if hint else "")
                        + f"; its parameters: {', '.join(known) or 'none'}"
                    )
            try:
                bound = signature.bind(*args, **node_params)
            except TypeError as exc:
                raise SpecError(f"{label}: {exc}; its signature: {info.name}{signature}") from None
            kwargs = {}
            for name, value in bound.arguments.items():
                kind = accepted[name].kind
                if kind == inspect.Parameter.VAR_KEYWORD:
                    kwargs.update(value)
                elif kind == inspect.Parameter.VAR_POSITIONAL:
                    args = list(value)
                else:
                    kwargs[name] = value
            if not any(p.kind == p.VAR_POSITIONAL for p in accepted.values()):
                args = []
        else:
            kwargs = dict(node_params)
        scheduled = self._resolve_schedules(info, kwargs, label)
        spec_params = dict(kwargs)
        for name in info.nested:
            if name in kwargs:
                children = self._children(kwargs[name], f"{label}, parameter {name!r}", depth)
                kwargs[name] = [c for c in children if not getattr(c, "_inactive", False)]
                # a plan keeps its switched-off steps; a pipeline resolved at a clock is what runs then
                spec_params[name] = [c.to_spec() for c in (kwargs[name] if self.concrete else children)]
        for name, value in kwargs.items():
            if name not in info.nested and isinstance(value, Node) and value.name[:1].islower():
                hint = closest_names(value.name, SCHEDULES, n=1)
                raise SpecError(f"{label}: parameter {name!r} takes a literal value or a schedule; "
                                f"{brief(value.name, 40)}() is not a schedule"
                                + (f" (did you mean {hint[0]!r}?)" if hint else "")
                                + f"; the schedules: {', '.join(SCHEDULES)}")
            if name not in info.nested and isinstance(value, (list, tuple)) and any(
                    isinstance(v, Node) and v.name in SCHEDULES for v in value):
                raise SpecError(f"{label}: parameter {name!r}: a schedule is the whole value, not a part of it; "
                                f"schedule the tuple, e.g. linear((0.08, 1.0), (0.35, 1.0), 0, 30)")
            if name not in info.nested and _contains_node(value):
                raise SpecError(f"{label}: parameter {name!r} takes a literal value, not a transform "
                                f"(only {', '.join(info.nested) or 'no parameters'} take transforms)")
        if info.declared:
            check_values(info.name, info.declared, {k: v for k, v in kwargs.items() if k not in info.nested})
        try:
            obj = factory(*args, **kwargs)
        except AugplugError:
            raise
        except Exception as exc:
            raise ParameterError(info.name, "(construction)", node.params or node.args,
                                 f"values the factory accepts; it raised {type(exc).__name__}: {exc}") from exc
        if not self.concrete:
            spec_params.update(scheduled)
        transform = self._checked(obj, info, node, spec_params)
        transform._spec_name = node.name
        if active is not None:
            if not self.concrete:
                spec_params[ACTIVE] = active.to_spec() if isinstance(active, Schedule) else active
            on = active.value(self.clock) if isinstance(active, Schedule) else active
            if not on:
                transform._inactive = True
        transform._spec_params = spec_params
        if self.concrete and scheduled and not isinstance(active, Schedule) and \
                not any(name in kwargs for name in info.nested):
            self.recipes.append((transform, self._recipe(factory, args, kwargs, scheduled, info, node)))
        return transform

    def _recipe(self, factory: Any, args: list, kwargs: dict, scheduled: dict, info: TransformInfo,
                node: Node) -> Any:
        """How to build this step again at another clock: its factory called with the schedules' new values (the
        spec is not parsed, looked up and checked again: a plan checked it when it was built)."""
        schedules = {name: as_schedule(spec) for name, spec in scheduled.items()}

        def rebuild(clock: Clock) -> Any:
            values = {k: schedules[k].value(clock) if k in schedules else v  # type: ignore[union-attr]
                      for k, v in kwargs.items()}
            transform = self._checked(factory(*args, **values), info, node, values)
            transform._spec_name, transform._spec_params = node.name, values
            return transform

        return rebuild

    def _active(self, params: dict, info: TransformInfo, signature: Any, label: str) -> Any:
        """Take ``active=`` (a flag, or a schedule of flags: until(90), after(5), steps(...)) out of ``params``,
        unless the transform has a parameter of that name itself."""
        if ACTIVE not in params or ACTIVE in info.declared or (signature is not None and ACTIVE in signature.parameters):
            return None
        value = params.pop(ACTIVE)
        schedule = as_schedule(value, f"{label}: active=")
        self.scheduled = True
        candidates = schedule.values() if schedule is not None else [value]
        if not all(v is True or v is False for v in candidates):
            raise SpecError(f"{label}: active= switches the step on or off: True, False, or a schedule of them such "
                            f"as until(90), after(5), between(5, 90) or steps(True, (90, False)); got "
                            f"{brief(schedule if schedule is not None else value, 60)}")
        return schedule if schedule is not None else value

    def _resolve_schedules(self, info: TransformInfo, kwargs: dict, label: str) -> dict:
        """Replace each scheduled parameter in ``kwargs`` by its value at this builder's clock, after checking
        the values it takes against the parameter's declaration; return their specs (``{name: {"linear": ...}}``)."""
        specs: dict[str, Any] = {}
        declarations = None
        for name, value in list(kwargs.items()):
            if name in info.nested:
                continue
            schedule = as_schedule(value, f"{label}: parameter {name}: ")
            if schedule is None:
                continue
            if not self.trusted:  # a plan's own steps were checked when it was built
                if declarations is None:
                    declarations = {**{p.name: p.declaration for p in info.params if p.declaration is not None},
                                    **info.declared}
                declaration = declarations.get(name)
                if declaration is None:
                    raise SpecError(f"{label}: parameter {name!r} is not declared (gluon_augplug.params), so it "
                                    f"cannot follow a schedule; declared: {', '.join(declarations) or 'none'}")
                for v in schedule.values():
                    declaration.validate(v, info.name)
            kwargs[name] = schedule.value(self.clock)
            specs[name] = schedule.to_spec()
            self.scheduled = True
        return specs

    def _checked(self, obj: Any, info: TransformInfo, node: Node, spec_params: dict) -> Any:
        """``obj`` as a transform of this builder's kind, or a :class:`SpecError` that says why it is not."""
        if self.kind == "sample":
            if getattr(obj, "batch_only", False):
                raise SpecError(f"{node.name} works on whole batches only: use it in a batch spec "
                                f"(build_batch_pipeline, augplug train --batch-aug)")
            return as_transform(obj, node.name, spec_params)
        from ..compat import BatchTransform

        if isinstance(obj, BatchTransform):  # the 0.1 layer: it answers the batch pipeline's questions itself
            obj._spec_name, obj._spec_params = node.name, spec_params
            return obj
        if isinstance(obj, Transform) and obj.supports_batch():
            obj.check_batch()
            return obj
        raise SpecError(f"{node.name} ({info.plugin}) has no batch path: it runs per sample only "
                        f"(use it in the per-sample pipeline, --train-aug); batch transforms: "
                        f"`augplug transforms --kind batch`")

    def _children(self, value: Any, where: str, depth: int) -> list[Transform]:
        items = value if isinstance(value, (list, tuple)) else [value]
        out: list[Transform] = []
        for i, item in enumerate(items):
            out.extend(self.build(item, f"{where}, item {i + 1}", depth))
        return out


def _mark(item: Any, home: str | None = None, from_file: bool = False) -> None:
    """Mark a node and the nodes nested in it as a preset's (``home``) or as read from a file."""
    if isinstance(item, Node):
        item.home = item.home or home
        item.from_file = item.from_file or from_file
        for value in [*item.args, *item.params.values()]:
            _mark(value, home, from_file)
    elif isinstance(item, (list, tuple)):
        for value in item:
            _mark(value, home, from_file)


def _contains_node(value: Any) -> bool:
    if isinstance(value, Node):
        return True
    if isinstance(value, (list, tuple)):
        return any(_contains_node(v) for v in value)
    return False
