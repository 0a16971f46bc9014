"""Conformance checks for a plugin's transforms; each failure says what to fix.

The checks live a module per concern in :mod:`gluon_augplug.testing.checks`, each registered once with its
documentation; :data:`CHECKS` and the table below are made from that one list.

Checks (in order; a transform that does not build skips the rest):

{table}
"""
from __future__ import annotations

from dataclasses import dataclass, field
import textwrap
from typing import Any, Sequence

import numpy as np

from ..errors import AugplugError, PluginError
from ..pipeline.build import build_pipeline
from ..plugins.manager import BUILTIN_PLUGINS, PluginSystem
from ..plugins.registry import Registry, TransformInfo
from .checks import REGISTRY, Skip
from .context import CheckContext
from .isolation import load_plugin_system
from .samples import sample_images

CHECKS = tuple(REGISTRY)
# checks of the per-sample path; a batch-only transform (Mixup) skips them
PER_SAMPLE_CHECKS = frozenset(name for name, c in REGISTRY.items() if c.per_sample)
_Context = CheckContext  # its name before 0.4


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


def run_check(check: str, ctx: CheckContext) -> Finding:
    if check in PER_SAMPLE_CHECKS and not ctx.info.usable_in("sample"):
        return Finding(ctx.info.name, check, "skip", "works on whole batches only")
    if check not in ("builds", "clips") and ctx.info.clips_only:
        return Finding(ctx.info.name, check, "skip", "runs on clips only (several views per frame): the clips check "
                                                     "covers it")
    try:
        message = REGISTRY[check].function(ctx)
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
    ctx = CheckContext(info, registry, images or sample_images())
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
                preset_pipeline = build_pipeline(preset.name, registry=system.registry)
                if preset_pipeline.clips_only:  # test-time views of full-size frames
                    preset_pipeline(np.stack([sample_images()["cat"]] * 2))
                else:
                    preset_pipeline(sample_images()["cat_small"])
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


def _checks_table() -> str:
    rows = []
    for name, c in REGISTRY.items():
        wrapped = textwrap.wrap(c.doc, 90)
        rows.append(f"``{name}``".ljust(22) + wrapped[0])
        rows += [" " * 22 + line for line in wrapped[1:]]
    return "\n".join(rows)


__doc__ = __doc__.replace("{table}", _checks_table())  # noqa: A001
