"""Name -> factory registry of transforms and presets, filled by the plugins' hooks.

One table holds every transform: a registration says whether it runs per sample, on batches
or both (a :class:`~gluon_augplug.Transform` class that implements ``apply_batch`` does both);
a lookup for a per-sample or a batch pipeline considers the registrations that can run there.
"""
from __future__ import annotations

import inspect
import keyword
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator

from ..contract import views
from ..errors import AmbiguousTransformError, UnknownTransformError
from ..params import jsonable

_PRESET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
TRANSFORM_METADATA = frozenset({"doc", "override", "nested", "example", "params"})
TRANSFORM_KINDS = ("sample", "batch")  # the pipelines a transform may run in
KINDS = TRANSFORM_KINDS  # the name before 0.4
PRESET_METADATA = frozenset({"doc", "override"})


@dataclass(frozen=True)
class ParamInfo:
    """One constructor parameter of a transform, as listed by ``augplug transforms``."""

    name: str
    default: Any = inspect.Parameter.empty
    kind: str = "POSITIONAL_OR_KEYWORD"
    declaration: Any = None  # the gluon_augplug.params.Param, when the parameter is declared

    @property
    def required(self) -> bool:
        return self.default is inspect.Parameter.empty and self.kind not in ("VAR_POSITIONAL", "VAR_KEYWORD")

    def describe(self, ranges: bool = False) -> str:
        if self.kind == "VAR_POSITIONAL":
            return f"*{self.name}"
        if self.kind == "VAR_KEYWORD":
            return f"**{self.name}"
        text = self.name if self.required else f"{self.name}={self.default!r}"
        if ranges and self.declaration is not None:
            text += f" [{self.declaration.describe_allowed()}]"
        return text

    def as_dict(self) -> dict:
        if self.declaration is not None:
            return self.declaration.as_dict()
        return {"name": self.name, "required": self.required, **({} if self.required else {"default": jsonable(self.default)})}


@dataclass(frozen=True)
class TransformInfo:
    """A registered transform: its factory and the metadata shown in listings."""

    name: str
    factory: Callable[..., Any]
    plugin: str
    distribution: str | None = None
    version: str | None = None
    doc: str = ""
    override: bool = False
    nested: tuple[str, ...] = ()
    example: dict = field(default_factory=dict)
    declared: dict = field(default_factory=dict)  # name -> Param given with register(..., params=...)
    per_sample: bool = True  # False: registered through the superseded batch hook only
    batch_factory: Callable[..., Any] | None = None  # a 0.1 BatchTransform twin (augplug_register_batch_transforms)

    @property
    def qualified_name(self) -> str:
        return f"{self.plugin}:{self.name}"

    @property
    def batch(self) -> bool:
        """It runs in batch pipelines (known for classes; a factory function is tried when built)."""
        return self.batch_factory is not None or _class_supports_batch(self.factory) is True

    @property
    def kind(self) -> str:
        """``"sample"``, ``"batch"`` (batches only) or ``"sample+batch"``, for listings."""
        if not self.usable_in("sample"):
            return "batch"
        return "sample+batch" if self.batch else "sample"

    @property
    def clips_only(self) -> bool:
        """It makes several views of each frame (ThreeCrop, TenCrop), so it runs on clips only."""
        return views(self.factory) > 1

    def usable_in(self, kind: str) -> bool:
        """It may run in a ``kind`` ("sample" or "batch") pipeline."""
        if kind == "sample":
            return self.per_sample and not getattr(self.factory, "batch_only", False)
        return self.batch_factory is not None or _class_supports_batch(self.factory) is not False

    @property
    def params(self) -> tuple[ParamInfo, ...]:
        if self.declared:
            return tuple(ParamInfo(name, inspect.Parameter.empty if p.required else p.default, declaration=p)
                         for name, p in self.declared.items())
        return factory_params(self.factory)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "per_sample": self.usable_in("sample"),
            "batch": self.batch,
            "clips_only": self.clips_only,
            "qualified_name": self.qualified_name,
            "plugin": self.plugin,
            "distribution": self.distribution,
            "version": self.version,
            "override": self.override,
            "doc": self.doc,
            "params": [p.as_dict() for p in self.params if p.kind not in ("VAR_POSITIONAL", "VAR_KEYWORD")],
            "nested": list(self.nested),
            "example": jsonable(self.example),
        }


@dataclass(frozen=True)
class PresetInfo:
    """A registered named pipeline."""

    name: str
    spec: Any
    plugin: str
    doc: str = ""
    override: bool = False

    def as_dict(self) -> dict:
        return {"name": self.name, "plugin": self.plugin, "doc": self.doc, "spec": jsonable(self.spec)}


def factory_params(factory: Callable[..., Any]) -> tuple[ParamInfo, ...]:
    """Constructor parameters of ``factory`` (a class or a function), with their declarations if declared."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return ()
    declared = getattr(factory, "parameters", None) if isinstance(factory, type) else None
    declared = declared if isinstance(declared, dict) else {}
    return tuple(ParamInfo(p.name, p.default, p.kind.name, declared.get(p.name)) for p in sig.parameters.values())


def _class_supports_batch(factory: Any) -> bool | None:
    """True/False for a class that says whether it implements the batch path; None when unknown."""
    check = getattr(factory, "supports_batch", None) if isinstance(factory, type) else None
    if check is None:
        return None if not isinstance(factory, type) else False
    try:
        return bool(check())
    except Exception:
        return None


def _batch_inferred_only(info: TransformInfo) -> bool:
    """The registration runs on batches only through a pixel op's per-image ``apply`` (since 0.4): another
    registration of the name with a batch path of its own (a 0.1 batch twin) is the one a batch spec means."""
    path = getattr(info.factory, "batch_path", None) if isinstance(info.factory, type) else None
    return info.batch_factory is None and path is not None and path() == "apply"


def first_doc_line(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0].strip().replace("``", "") if doc.strip() else ""


_WRONG_KIND = {
    "sample": "{name} works on whole batches only: use it in a batch spec (build_batch_pipeline, "
              "augplug train --batch-aug)",
    "batch": "{name} has no batch path: it runs per sample only (use it in the per-sample pipeline, "
             "--train-aug; `augplug transforms --kind batch` lists the batch transforms)",
}


class Registry:
    """Transforms and presets by name.

    A bare name resolves to the only plugin that registered it, or to the one that
    registered it with ``override=True``; ``plugin:Name`` always resolves to that plugin's.
    A lookup for a batch pipeline considers only the registrations that can run on batches,
    one for a per-sample pipeline only those that run per sample.
    """

    KINDS = KINDS

    def __init__(self) -> None:
        self._transforms: dict[str, list[TransformInfo]] = {}
        self._by_kind: dict[str, dict[str, list[TransformInfo]]] = {}  # _table's views, until the next change
        self._presets: dict[str, list[PresetInfo]] = {}

    # -- filling ---------------------------------------------------------------
    def add_transform(self, info: TransformInfo) -> None:
        self._transforms.setdefault(info.name, []).append(info)
        self._by_kind.clear()

    def add_preset(self, info: PresetInfo) -> None:
        self._presets.setdefault(info.name, []).append(info)

    def remove_plugin(self, plugin: str) -> None:
        """Forget everything ``plugin`` registered."""
        self._by_kind.clear()
        tables: tuple[dict, ...] = (self._transforms, self._presets)
        for table in tables:
            for name in list(table):
                table[name] = [i for i in table[name] if i.plugin != plugin]
                if not table[name]:
                    del table[name]

    # -- lookup ----------------------------------------------------------------
    def get_transform(self, name: str, kind: str = "sample") -> TransformInfo:
        """Resolve ``Name`` or ``plugin:Name`` among the transforms usable in a ``kind`` pipeline
        ("sample" or "batch").

        Raises
        ------
        UnknownTransformError
            No plugin registered it for that kind; the message lists the closest names.
        AmbiguousTransformError
            Several plugins registered the bare name and none with ``override=True``.
        """
        try:
            return self._resolve(self._table(kind), name, "transform" if kind == "sample" else "batch transform")
        except UnknownTransformError as exc:
            bare = name.rpartition(":")[2]
            if not self.candidates(bare, kind) and self.candidates(bare, None):  # registered, for the other kind
                raise UnknownTransformError(name, (), kind, note=_WRONG_KIND[kind].format(name=bare)) from exc
            raise

    def _table(self, kind: str) -> dict[str, list[TransformInfo]]:
        """The registrations usable in a ``kind`` pipeline, by name (built once per change, not per lookup)."""
        if kind not in TRANSFORM_KINDS:
            raise ValueError(f"kind must be one of {TRANSFORM_KINDS}, got {kind!r}")
        if kind not in self._by_kind:
            table: dict[str, list[TransformInfo]] = {}
            for name, infos in self._transforms.items():
                usable = [i for i in infos if i.usable_in(kind)]
                if kind == "batch" and len(usable) > 1:  # a batch path written or registered wins over one inferred
                    explicit = [i for i in usable if not _batch_inferred_only(i)]
                    usable = explicit or usable
                if usable:
                    table[name] = usable
            self._by_kind[kind] = table
        return self._by_kind[kind]

    def get_preset(self, name: str) -> PresetInfo:
        return self._resolve(self._presets, name, "preset")

    def has_preset(self, name: str) -> bool:
        try:
            self.get_preset(name)
        except LookupError:
            return False
        return True

    def _resolve(self, table: dict, name: str, kind: str):
        plugin, sep, bare = name.rpartition(":")
        candidates = table.get(bare if sep else name, [])
        if sep:
            for info in candidates:
                if info.plugin == plugin:
                    return info
            raise UnknownTransformError(name, self._known_names(table, qualified=True), kind)
        if not candidates:
            raise UnknownTransformError(name, self._known_names(table, qualified=False), kind)
        if len(candidates) == 1:
            return candidates[0]
        winners = [c for c in candidates if c.override]
        if len(winners) == 1:
            return winners[0]
        raise AmbiguousTransformError(name, [c.plugin for c in (winners or candidates)])

    @staticmethod
    def _known_names(table: dict, qualified: bool) -> list[str]:
        if qualified:
            return [f"{i.plugin}:{i.name}" for infos in table.values() for i in infos]
        return list(table)

    # -- listing ---------------------------------------------------------------
    def transforms(self, plugin: str | None = None, kind: str | None = "sample") -> list[TransformInfo]:
        """Registered transforms usable in a ``kind`` pipeline (None = all; conflicting ones included),
        sorted by name."""
        return sorted(
            (i for infos in self._transforms.values() for i in infos
             if (plugin is None or i.plugin == plugin) and (kind is None or i.usable_in(kind))),
            key=lambda i: (i.name.lower(), i.plugin),
        )

    def candidates(self, name: str, kind: str | None = "sample") -> list[TransformInfo]:
        """Every registration of the bare ``name`` usable in a ``kind`` pipeline (None: all)."""
        return [i for i in self._transforms.get(name, ()) if kind is None or i.usable_in(kind)]

    def conflicts(self, info: TransformInfo) -> bool:
        """True when another plugin registered the same name for a pipeline kind ``info`` serves."""
        return any(len(self.candidates(info.name, kind)) > 1 for kind in TRANSFORM_KINDS if info.usable_in(kind))

    def presets(self, plugin: str | None = None) -> list[PresetInfo]:
        return sorted(
            (i for infos in self._presets.values() for i in infos if plugin is None or i.plugin == plugin),
            key=lambda i: (i.name, i.plugin),
        )

    def resolves_to(self, info: TransformInfo, kind: str | None = None) -> bool:
        """True when the bare name of ``info`` resolves to ``info`` itself (in a ``kind`` pipeline;
        None: in the first kind it serves)."""
        kind = kind or ("sample" if info.usable_in("sample") else "batch")
        try:
            return self.get_transform(info.name, kind) is info
        except LookupError:
            return False

    def transform_names(self, kind: str = "sample") -> list[str]:
        return sorted(self._table(kind))

    def __contains__(self, name: str) -> bool:
        try:
            self.get_transform(name)
        except LookupError:
            return False
        return True

    def __iter__(self) -> Iterator[TransformInfo]:
        return iter(self.transforms())


class Registrar:
    """The ``register`` callables handed to one plugin's hooks.

    Registrations are buffered and committed only when every hook of the plugin
    succeeded, so a plugin that fails half-way registers nothing.
    """

    def __init__(self, plugin: str, distribution: str | None, version: str | None):
        self.plugin = plugin
        self.distribution = distribution
        self.version = version
        self.transforms: list[TransformInfo] = []
        self.presets: list[PresetInfo] = []
        self._batch_twins: list[TransformInfo] = []
        self._seen: set[tuple[str, str]] = set()  # (hook, name): a set, so that registering N is linear

    def register_transform(self, name: str, factory: Callable[..., Any], **metadata: Any) -> None:
        self.transforms.append(self._info("sample", name, factory, metadata))

    def register_batch_transform(self, name: str, factory: Callable[..., Any], **metadata: Any) -> None:
        """The superseded ``augplug_register_batch_transforms`` hook: a 0.1 batch class, joined at
        :meth:`finish` to this plugin's transform of the same name (or listed as batch-only)."""
        self._batch_twins.append(self._info("batch", name, factory, metadata))

    def _info(self, hook: str, name: str, factory: Callable[..., Any], metadata: dict) -> TransformInfo:
        _check_identifier(name, "transform")
        if not callable(factory):
            raise TypeError(f"transform {name!r}: factory must be callable, got {type(factory).__name__}")
        unknown = set(metadata) - TRANSFORM_METADATA
        if unknown:
            raise TypeError(
                f"transform {name!r}: unknown metadata {sorted(unknown)}; allowed: {sorted(TRANSFORM_METADATA)}"
            )
        if (hook, name) in self._seen:
            raise ValueError(f"{hook} transform {name!r} registered twice by plugin {self.plugin!r}")
        self._seen.add((hook, name))
        from ..params import Transforms, declared

        params = declared(metadata.get("params"))
        class_params = getattr(factory, "parameters", None) if isinstance(factory, type) else None
        class_params = class_params if isinstance(class_params, dict) else {}
        nested = metadata.get("nested")
        if nested is None:  # declared Transforms parameters are nested without being told
            nested = tuple(k for k, p in {**class_params, **params}.items() if isinstance(p, Transforms))
        nested = (nested,) if isinstance(nested, str) else tuple(nested)
        example = metadata.get("example")
        if example is None:
            example = getattr(factory, "example", None) if isinstance(getattr(factory, "example", None), dict) else None
        return TransformInfo(
            name=name,
            factory=factory,
            plugin=self.plugin,
            distribution=self.distribution,
            version=self.version,
            doc=metadata.get("doc") or first_doc_line(factory),
            override=bool(metadata.get("override", False)),
            nested=nested,
            example=dict(example or {}),
            declared=params,
            per_sample=hook == "sample",
            batch_factory=factory if hook == "batch" else None,
        )

    def finish(self) -> None:
        """Join each batch twin to this plugin's transform of the same name; the others are batch-only."""
        by_name = {info.name: i for i, info in enumerate(self.transforms)}
        for twin in self._batch_twins:
            if twin.name in by_name:
                i = by_name[twin.name]
                self.transforms[i] = replace(self.transforms[i], batch_factory=twin.factory)
            else:
                self.transforms.append(twin)
        self._batch_twins = []

    def register_preset(self, name: str, spec: Any, **metadata: Any) -> None:
        if not isinstance(name, str) or not _PRESET_NAME.match(name):
            raise ValueError(f"preset name {name!r} must be letters, digits, '_', '-' or '.'")
        unknown = set(metadata) - PRESET_METADATA
        if unknown:
            raise TypeError(f"preset {name!r}: unknown metadata {sorted(unknown)}; allowed: {sorted(PRESET_METADATA)}")
        if not isinstance(spec, (str, list, tuple, dict)):
            raise TypeError(f"preset {name!r}: spec must be a string, list or dict, got {type(spec).__name__}")
        if ("preset", name) in self._seen:
            raise ValueError(f"preset {name!r} registered twice by plugin {self.plugin!r}")
        self._seen.add(("preset", name))
        self.presets.append(
            PresetInfo(name, spec, self.plugin, metadata.get("doc") or "", bool(metadata.get("override", False)))
        )

    def commit(self, registry: Registry) -> None:
        self.finish()
        for t in self.transforms:
            registry.add_transform(t)
        for p in self.presets:
            registry.add_preset(p)


def _check_identifier(name: Any, kind: str) -> None:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"{kind} name {name!r} must be a Python identifier (it is used in spec strings)")
