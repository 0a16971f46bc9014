"""Loading plugins: the built-in one first, then the ``gluon_augplug`` entry points.

Environment variables, read when plugins are loaded (not at import):

``GLUON_AUGPLUG_LOAD_PLUGINS``
    Comma-separated entry-point names to load; empty string = none but the built-ins.
``GLUON_AUGPLUG_DISABLE_PLUGINS``
    Comma-separated names never to load; wins over the allow list.
``GLUON_AUGPLUG_STRICT_PLUGINS``
    ``1`` turns a plugin that fails to load into an error instead of a warning.
"""
from __future__ import annotations

import contextlib
import importlib.metadata
import inspect
import logging
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

import pluggy

from .._version import __version__
from .._deprecation import warn_deprecated
from ..errors import PluginError, closest_names
from . import hookspecs
from .registry import Registrar, Registry

ENTRY_POINT_GROUP = hookspecs.PROJECT_NAME
# the plugin named "builtin": the modules that define built-in transforms and presets, each with its own
# hook implementations (datasette's DEFAULT_PLUGINS); named, not imported, so plugins/ imports nothing above it
BUILTIN_PLUGINS = (("builtin", (
    "gluon_augplug.transforms.geometric", "gluon_augplug.transforms.color", "gluon_augplug.transforms.erasing",
    "gluon_augplug.transforms.tensor", "gluon_augplug.transforms.composition", "gluon_augplug.transforms.autoaugment",
    "gluon_augplug.transforms.mixing", "gluon_augplug.transforms.detection", "gluon_augplug.transforms.video",
    "gluon_augplug.transforms.sizing", "gluon_augplug.transforms.warps",
    "gluon_augplug.transforms.tracking",
    "gluon_augplug.presets",
)),)
ENV_LOAD = "GLUON_AUGPLUG_LOAD_PLUGINS"
ENV_DISABLE = "GLUON_AUGPLUG_DISABLE_PLUGINS"
ENV_STRICT = "GLUON_AUGPLUG_STRICT_PLUGINS"

log = logging.getLogger("gluon_augplug.plugins")


@dataclass
class PluginRecord:
    """What became of one plugin: loaded, blocked by the environment, or failed."""

    name: str
    distribution: str | None = None
    version: str | None = None
    module: str | None = None
    status: str = "loaded"  # "loaded" | "blocked" | "error"
    hooks: list[str] = field(default_factory=list)
    transforms: int = 0
    batch_transforms: int = 0
    presets: int = 0
    error: str | None = None
    builtin: bool = False

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _env_list(name: str) -> list[str] | None:
    value = os.environ.get(name)
    if value is None:
        return None
    return [item.strip() for item in value.split(",") if item.strip()]


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _entry_points() -> list[tuple[importlib.metadata.EntryPoint, importlib.metadata.Distribution]]:
    """The group's entry points with the distribution of each, in name order. Read per distribution: an
    entry point knows its distribution (``ep.dist``) only from Python 3.10."""
    unique: dict[tuple[str, str], tuple[importlib.metadata.EntryPoint, importlib.metadata.Distribution]] = {}
    for dist in importlib.metadata.distributions():  # in sys.path order, as entry_points() reads them
        for ep in dist.entry_points:
            if ep.group == ENTRY_POINT_GROUP:  # a distribution seen twice on sys.path: the first one
                unique.setdefault((ep.name, ep.value), (ep, dist))
    return sorted(unique.values(), key=lambda pair: pair[0].name)


class PluginSystem:
    """A pluggy ``PluginManager`` plus the registry its plugins filled.

    Parameters
    ----------
    load_entry_points : bool
        Discover installed plugins (after the built-ins).
    builtins : bool
        Register the built-in plugin.
    warn : bool
        Log one warning line per plugin that fails to load (strict callers raise instead).
    """

    def __init__(self, *, load_entry_points: bool = True, builtins: bool = True, warn: bool = True):
        self.warn = warn
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.registry = Registry()
        self.records: dict[str, PluginRecord] = {}
        self.loading: str | None = None  # the plugin being imported or registered right now
        # a plugin that prints at import must not corrupt machine-readable output (augplug ... --json)
        with contextlib.redirect_stdout(sys.stderr):
            if builtins:
                for name, modules in BUILTIN_PLUGINS:
                    self._load_module_plugin(name, modules)
            if load_entry_points:
                self._load_entry_points()
        self.loading = None

    # -- loading ---------------------------------------------------------------
    def _load_module_plugin(self, name: str, modules: tuple[str, ...]) -> None:
        record = PluginRecord(name, "gluon-augplug", __version__, ", ".join(modules), builtin=True)
        self.loading = name
        try:
            plugins = [importlib.import_module(module) for module in modules]
        except (Exception, SystemExit) as exc:  # a broken install of ourselves: report, do not hide
            self._failed(record, exc)
            return
        self._register(plugins, record)

    def _load_entry_points(self) -> None:
        allow = _env_list(ENV_LOAD)
        deny = set(_env_list(ENV_DISABLE) or ())
        entry_points = _entry_points()
        for ep, dist in entry_points:
            record = PluginRecord(ep.name, dist.metadata["Name"], dist.version, ep.value)
            if ep.name in deny or (allow is not None and ep.name not in allow):
                record.status = "blocked"
                self.records.setdefault(ep.name, record)
                continue
            if ep.name in self.records and self.records[ep.name].status != "blocked":
                other = self.records[ep.name]
                self._failed(record, f"plugin name {ep.name!r} is already taken by {other.distribution or other.module}")
                continue
            self.loading = ep.name
            try:
                plugin = ep.load()
            except (Exception, SystemExit) as exc:  # sys.exit() at import is a broken plugin, not our exit
                self._failed(record, _exit_error(exc))
                continue
            self._register(plugin, record)
        if allow:
            known = {ep.name for ep, _ in entry_points}
            for missing in sorted(set(allow) - known):
                hint = closest_names(missing, known)
                self._failed(
                    PluginRecord(missing),
                    f"not installed: no distribution provides a {ENTRY_POINT_GROUP!r} entry point named {missing!r}"
                    + (f" (closest: {', '.join(hint)})" if hint else ""),
                )

    def add_plugin(self, plugin: Any, name: str | None = None, *, distribution: str | None = None,
                   version: str | None = None) -> PluginRecord:
        """Register a plugin object or module by hand (tests, notebooks, applications).

        Raises
        ------
        PluginError
            The plugin does not match the hook specs or its hooks raised; nothing it
            registered is kept.
        """
        name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        record = PluginRecord(name, distribution, version, getattr(plugin, "__name__", None))
        self._register(plugin, record, raise_errors=True)
        return record

    def remove_plugin(self, name: str) -> None:
        """Unregister plugin ``name`` and forget what it registered."""
        for pm_name, plugin in list(self.pm.list_name_plugin()):
            if pm_name == name or pm_name.startswith(name + "/"):
                self.pm.unregister(plugin)
        self.registry.remove_plugin(name)
        self.records.pop(name, None)

    def _register(self, plugin: Any, record: PluginRecord, raise_errors: bool = False) -> bool:
        """Register ``plugin`` (or a list of modules that together are one plugin, as ``builtin``)."""
        registrar = Registrar(record.name, record.distribution, record.version)
        parts = plugin if isinstance(plugin, list) else [plugin]
        names = [record.name] if len(parts) == 1 else [f"{record.name}/{p.__name__}" for p in parts]
        try:
            for part, pm_name in zip(parts, names):
                self.pm.register(part, name=pm_name)
        except Exception as exc:  # pluggy: bad hook arguments, or the name is taken
            # what is registered under our names is ours (pluggy < 1.7 even keeps a plugin whose hooks it refused);
            # a plugin registered before under another name, or another plugin holding the name, stays
            for part, pm_name in zip(parts, names):
                if self.pm.get_plugin(pm_name) is part:
                    self.pm.unregister(part)
            return self._failed(record, exc, raise_errors)
        try:
            record.hooks = sorted({hook for part in parts for hook in self._validate(part)})
            for part in parts:
                self._call_hooks(part, registrar)
            registrar.finish()
        except (Exception, SystemExit) as exc:
            for part in parts:
                self.pm.unregister(part)
            return self._failed(record, _exit_error(exc), raise_errors)
        registrar.commit(self.registry)
        record.transforms = sum(t.usable_in("sample") for t in registrar.transforms)
        record.batch_transforms = sum(t.batch for t in registrar.transforms)
        record.presets = len(registrar.presets)
        record.status = "loaded"
        self.records[record.name] = record
        return True

    def _validate(self, plugin: Any) -> list[str]:
        """Reject misspelled hooks and hook arguments with defaults; return the hook names."""
        hooks = []
        for caller in self.pm.get_hookcallers(plugin) or ():
            impls = [i for i in caller.get_hookimpls() if i.plugin is plugin]
            if caller.spec is None:
                if all(i.opts.get("optionalhook") for i in impls):
                    continue
                hint = closest_names(caller.name, hookspecs.HOOK_NAMES, n=1)
                raise pluggy.PluginValidationError(
                    plugin,
                    f"unknown hook {caller.name!r}"
                    + (f" (did you mean {hint[0]!r}?)" if hint else "")
                    + f"; the hooks are: {', '.join(hookspecs.HOOK_NAMES)}",
                )
            for impl in impls:
                defaults = [
                    p.name for p in inspect.signature(impl.function).parameters.values()
                    if p.default is not inspect.Parameter.empty
                ]
                if defaults:
                    raise pluggy.PluginValidationError(
                        plugin, f"hook {caller.name!r}: arguments must not have default values ({', '.join(defaults)})"
                    )
                if impl.hookwrapper or impl.opts.get("wrapper"):
                    raise pluggy.PluginValidationError(plugin, f"hook {caller.name!r} cannot be a wrapper")
            hooks.append(caller.name)
        return sorted(hooks)

    def _call_hooks(self, plugin: Any, registrar: Registrar) -> None:
        arguments: dict[str, dict[str, Any]] = {
            "augplug_register_transforms": {"register": registrar.register_transform},
            "augplug_register_presets": {"register": registrar.register_preset},
            "augplug_register_batch_transforms": {"register": registrar.register_batch_transform},
        }
        for hook_name, kwargs in arguments.items():
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                if impl.plugin is plugin:
                    result = impl.function(*[kwargs[a] for a in impl.argnames])
                    if result is not None:
                        raise TypeError(f"hook {hook_name!r} must call register(...) and return None, "
                                        f"it returned {type(result).__name__}")

    def _failed(self, record: PluginRecord, error: BaseException | str, raise_error: bool = False) -> bool:
        """Mark ``record`` failed: raise (``add_plugin``: nothing is left behind), or keep it for
        ``--errors`` and warn once (discovery). Returns False, for ``return self._failed(...)``."""
        err = PluginError(record.name, record.distribution, record.version, error)
        record.status = "error"
        record.error = str(err)
        if raise_error:
            raise err from (error if isinstance(error, BaseException) else None)
        key = record.name
        if key in self.records and self.records[key].status == "loaded":  # a second plugin with a taken name
            key = f"{record.name}@{record.distribution or record.module}"
        self.records[key] = record
        if self.warn:
            log.warning("gluon_augplug: skipped %s", err)
        return False

    # -- reporting -------------------------------------------------------------
    def plugins(self, include_builtin: bool = False) -> list[PluginRecord]:
        return [r for r in self.records.values() if include_builtin or not r.builtin]

    def overrides(self, plugin: str) -> list[str]:
        """The names ``plugin`` took over from other plugins (``override=True``), as ``name (from other)``."""
        taken = []
        for info in self.registry.transforms(plugin, kind=None):
            others = [o.plugin for o in self.registry.candidates(info.name, info.kind) if o.plugin != plugin]
            if others and self.registry.resolves_to(info):
                taken.append(f"{info.name} (from {', '.join(others)})")
        return taken

    def errors(self) -> list[PluginRecord]:
        return [r for r in self.records.values() if r.status == "error"]

    def raise_errors(self) -> None:
        """Raise :class:`PluginError` for the first plugin that failed to load."""
        errors = self.errors()
        if errors:
            first = errors[0]
            more = f" (and {len(errors) - 1} more: {', '.join(e.name for e in errors[1:])})" if len(errors) > 1 else ""
            raise PluginError(first.name, first.distribution, first.version,
                              (first.error or "").split("failed to load: ", 1)[-1] + more)


def _exit_error(exc: BaseException) -> BaseException | str:
    if isinstance(exc, SystemExit):
        return f"it called sys.exit({exc.code!r}) while loading"
    return exc


_lock = threading.RLock()
_system: PluginSystem | None = None
_loading: PluginSystem | None = None  # under construction, in the thread that holds _lock


def get_plugin_system(strict: bool | None = None) -> PluginSystem:
    """Return the process-wide plugin system (pluggy's manager as ``.pm``, the filled registry as
    ``.registry``, what became of each plugin as ``.records``), loading plugins on first use.

    Parameters
    ----------
    strict : bool, optional
        Raise :class:`~gluon_augplug.errors.PluginError` if any plugin failed to load.
        Default: the ``GLUON_AUGPLUG_STRICT_PLUGINS`` environment variable.
    """
    global _system, _loading
    strict = strict if strict is not None else _env_flag(ENV_STRICT)
    with _lock:
        if _system is None:
            if _loading is not None:  # a plugin's import or hook asked for the plugins being loaded
                culprit = _loading.loading or "?"
                raise PluginError(culprit, None, None,
                                  "it uses gluon_augplug's registry (build_pipeline, get_registry...) while plugins "
                                  "are loading, at import or in a hook; build pipelines later, e.g. in a factory")
            # made first and initialised second, so that a re-entrant call can name the plugin being loaded
            _loading = PluginSystem.__new__(PluginSystem)
            _loading.loading = None
            try:
                _loading.__init__(warn=not strict)  # type: ignore[misc]
                _system = _loading
            finally:
                _loading = None
        system = _system
    if strict:
        system.raise_errors()
    return system


def get_registry(strict: bool | None = None) -> Registry:
    """Return the registry of every loaded plugin's transforms and presets."""
    return get_plugin_system(strict).registry


def reload_plugins() -> PluginSystem:
    """Forget the cached plugin system; the next lookup discovers plugins again."""
    global _system
    with _lock:
        _system = None
    return get_plugin_system()


def get_plugin_manager(strict: bool | None = None) -> PluginSystem:
    """The name of :func:`get_plugin_system` in gluon_augplug 0.1, kept for its callers.

    It returns the :class:`PluginSystem`, not pluggy's ``PluginManager`` (that is its ``.pm``).
    """
    warn_deprecated("gluon_augplug.get_plugin_manager")
    return get_plugin_system(strict)


def use_plugin_system(system: PluginSystem | None) -> PluginSystem | None:
    """Install ``system`` as the process-wide one (``None`` = rediscover); return the previous."""
    global _system
    with _lock:
        previous, _system = _system, system
    return previous
