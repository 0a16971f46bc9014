"""Plugin systems for tests: fresh, isolated from the installed plugins, restored afterwards."""
from __future__ import annotations

import contextlib
import os
from typing import Iterator, Sequence

from ..plugins import manager
from ..plugins.manager import PluginSystem


def _set_environment(values: dict[str, str | None]) -> None:
    """Set each variable, or remove it where the value is None."""
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@contextlib.contextmanager
def _environment(**values: str | None) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    try:
        _set_environment(values)
        yield
    finally:
        _set_environment(saved)


def load_plugin_system(plugins: Sequence[str] | None = None, strict: bool = True) -> PluginSystem:
    """A new plugin system with the built-ins and the named installed plugins (``None`` = none).

    Raises
    ------
    gluon_augplug.errors.PluginError
        In strict mode, when a named plugin is not installed or fails to load.
    """
    if not plugins:
        return PluginSystem(load_entry_points=False)
    with _environment(**{manager.ENV_LOAD: ",".join(plugins), manager.ENV_DISABLE: None}):
        system = PluginSystem(warn=not strict)
    if strict:
        system.raise_errors()
    return system


@contextlib.contextmanager
def isolated_plugin_system(plugins: Sequence[str] | None = None, strict: bool = True) -> Iterator[PluginSystem]:
    """Install a fresh plugin system process-wide for the duration of the block, then restore the previous one."""
    system = load_plugin_system(plugins, strict)
    previous = manager.use_plugin_system(system)
    try:
        yield system
    finally:
        manager.use_plugin_system(previous)
