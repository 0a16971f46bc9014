"""Name -> factory registry of transforms and presets, filled by the plugins' hooks."""
from __future__ import annotations

import inspect
import keyword
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from ..errors import AmbiguousTransformError, UnknownTransformError

_PRESET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
TRANSFORM_METADATA = frozenset({"doc", "override", "nested", "example"})
PRESET_METADATA = frozenset({"doc", "override"})


@dataclass(frozen=True)
class ParamInfo:
    """One constructor parameter of a transform, as listed by ``augplug transforms``."""

    name: str
    default: Any = inspect.Parameter.empty
    kind: str = "POSITIONAL_OR_KEYWORD"

    @property
    def required(self) -> bool:
        return self.default is inspect.Parameter.empty and self.kind not in ("VAR_POSITIONAL", "VAR_KEYWORD")

    def describe(self) -> str:
        if self.kind == "VAR_POSITIONAL":
            return f"*{self.name}"
        if self.kind == "VAR_KEYWORD":
            return f"**{self.name}"
        return self.name if self.required else f"{self.name}={self.default!r}"


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
    kind: str = "sample"  # "sample" (one image) or "batch" (a whole batch on its device)

    @property
    def qualified_name(self) -> str:
        return f"{self.plugin}:{self.name}"

    @property
    def params(self) -> tuple[ParamInfo, ...]:
        return factory_params(self.factory)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "qualified_name": self.qualified_name,
            "plugin": self.plugin,
            "distribution": self.distribution,
            "version": self.version,
            "override": self.override,
            "doc": self.doc,
            "params": [
                {"name": p.name, "required": p.required, **({} if p.required else {"default": _jsonable(p.default)})}
                for p in self.params
                if p.kind not in ("VAR_POSITIONAL", "VAR_KEYWORD")
            ],
            "nested": list(self.nested),
            "example": _jsonable(self.example),
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
        return {"name": self.name, "plugin": self.plugin, "doc": self.doc, "spec": _jsonable(self.spec)}


def factory_params(factory: Callable[..., Any]) -> tuple[ParamInfo, ...]:
    """Constructor parameters of ``factory`` (a class or a function)."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return ()
    return tuple(ParamInfo(p.name, p.default, p.kind.name) for p in sig.parameters.values())


def first_doc_line(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0].strip().replace("``", "") if doc.strip() else ""


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


class Registry:
    """Transforms and presets by name.

    A bare name resolves to the only plugin that registered it, or to the one that
    registered it with ``override=True``; ``plugin:Name`` always resolves to that plugin's.
    """

    KINDS = ("sample", "batch")

    def __init__(self) -> None:
        self._tables: dict[str, dict[str, list[TransformInfo]]] = {kind: {} for kind in self.KINDS}
        self._presets: dict[str, list[PresetInfo]] = {}

    # -- filling ---------------------------------------------------------------
    def add_transform(self, info: TransformInfo) -> None:
        self._tables[info.kind].setdefault(info.name, []).append(info)

    def add_preset(self, info: PresetInfo) -> None:
        self._presets.setdefault(info.name, []).append(info)

    def remove_plugin(self, plugin: str) -> None:
        """Forget everything ``plugin`` registered."""
        for table in (*self._tables.values(), self._presets):
            for name in list(table):
                table[name] = [i for i in table[name] if i.plugin != plugin]
                if not table[name]:
                    del table[name]

    # -- lookup ----------------------------------------------------------------
    def get_transform(self, name: str, kind: str = "sample") -> TransformInfo:
        """Resolve ``Name`` or ``plugin:Name`` among the transforms of ``kind`` ("sample" or "batch").

        Raises
        ------
        UnknownTransformError
            No plugin registered it; the message lists the closest names.
        AmbiguousTransformError
            Several plugins registered the bare name and none with ``override=True``.
        """
        return self._resolve(self._tables[kind], name, "transform" if kind == "sample" else "batch transform")

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
        """Registered transforms of ``kind`` (None = both kinds; conflicting ones included), sorted by name."""
        kinds = self.KINDS if kind is None else (kind,)
        return sorted(
            (i for k in kinds for infos in self._tables[k].values() for i in infos
             if plugin is None or i.plugin == plugin),
            key=lambda i: (i.name.lower(), self.KINDS.index(i.kind), i.plugin),
        )

    def candidates(self, name: str, kind: str = "sample") -> list[TransformInfo]:
        """Every registration of the bare ``name`` among the ``kind`` transforms."""
        return list(self._tables[kind].get(name, ()))

    def conflicts(self, info: TransformInfo) -> bool:
        """True when another plugin registered the same name and kind."""
        return len(self._tables[info.kind].get(info.name, ())) > 1

    def presets(self, plugin: str | None = None) -> list[PresetInfo]:
        return sorted(
            (i for infos in self._presets.values() for i in infos if plugin is None or i.plugin == plugin),
            key=lambda i: (i.name, i.plugin),
        )

    def resolves_to(self, info: TransformInfo) -> bool:
        """True when the bare name of ``info`` resolves to ``info`` itself."""
        try:
            return self.get_transform(info.name, info.kind) is info
        except LookupError:
            return False

    def transform_names(self, kind: str = "sample") -> list[str]:
        return sorted(self._tables[kind])

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
        self._seen: set[tuple[str, str]] = set()  # (kind, name): a set, so that registering N is linear

    def register_batch_transform(self, name: str, factory: Callable[..., Any], **metadata: Any) -> None:
        self.register_transform(name, factory, _kind="batch", **metadata)

    def register_transform(self, name: str, factory: Callable[..., Any], _kind: str = "sample",
                           **metadata: Any) -> None:
        _check_identifier(name, "transform")
        if not callable(factory):
            raise TypeError(f"transform {name!r}: factory must be callable, got {type(factory).__name__}")
        unknown = set(metadata) - TRANSFORM_METADATA
        if unknown:
            raise TypeError(
                f"transform {name!r}: unknown metadata {sorted(unknown)}; allowed: {sorted(TRANSFORM_METADATA)}"
            )
        if (_kind, name) in self._seen:
            raise ValueError(f"{_kind} transform {name!r} registered twice by plugin {self.plugin!r}")
        self._seen.add((_kind, name))
        nested = metadata.get("nested", ())
        nested = (nested,) if isinstance(nested, str) else tuple(nested)
        self.transforms.append(
            TransformInfo(
                name=name,
                factory=factory,
                plugin=self.plugin,
                distribution=self.distribution,
                version=self.version,
                doc=metadata.get("doc") or first_doc_line(factory),
                override=bool(metadata.get("override", False)),
                nested=nested,
                example=dict(metadata.get("example") or {}),
                kind=_kind,
            )
        )

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
        for t in self.transforms:
            registry.add_transform(t)
        for p in self.presets:
            registry.add_preset(p)


def _check_identifier(name: Any, kind: str) -> None:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"{kind} name {name!r} must be a Python identifier (it is used in spec strings)")
