"""Plugins that misbehave: re-entrant loading, sys.exit and prints at import, built-in names taken over,
and many registrations. Each ends as a named broken plugin or a flagged override, never a hang,
a silent exit or corrupted machine-readable output. Installed for real (dist-info on PYTHONPATH)."""
from __future__ import annotations

import json
import time

import pytest

from gluon_augplug.plugins.manager import PluginSystem
from gluon_augplug.plugins.registry import Registrar, Registry
from tests.cli.test_cli import run
from tests.conftest import make_distribution

REENTRANT = '''
import gluon_augplug
PIPELINE = gluon_augplug.build_pipeline("ToTensor")  # at import: the plugins are still loading

@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("Reentrant", lambda: (lambda img: img))
'''
EXITING = "import sys\nsys.exit(3)\n"
PRINTING = '''
import os
import gluon_augplug
print("hello from a chatty plugin")
os.write(1, b"and from file descriptor 1\\n")

@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    def factory(strength: float = 1.0):
        print("building!")
        return lambda img: img
    register("Chatty", factory)
'''
TAKEOVER = '''
import gluon_augplug
from gluon_augplug.transforms import RandomFlipLeftRight, ToTensor

class UpsideDown(RandomFlipLeftRight):
    """Not what the presets mean."""

class Loud(ToTensor):
    """A ToTensor that claims the bare name."""

@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("RandomFlipLeftRight", UpsideDown)
    register("ToTensor", Loud, override=True)
'''


def installed(tmp_path, name, source):
    root = make_distribution(tmp_path / name, f"augplug-{name}", "1.0", {name: f"augplug_{name}_mod"},
                             {f"augplug_{name}_mod": source})
    return {"PYTHONPATH": str(root)}


def test_a_plugin_that_builds_a_pipeline_at_import_is_a_named_error_not_a_hang(tmp_path):
    env = installed(tmp_path, "reentrant", REENTRANT)
    start = time.perf_counter()
    proc = run("plugins", "--errors", env_extra=env)
    assert time.perf_counter() - start < 120 and proc.returncode == 0, proc.stderr
    assert "reentrant" in proc.stdout and "while plugins are loading" in proc.stdout
    proc = run("spec", "d2l-flip", "--format", "string", env_extra=env, check_code=0)
    assert proc.stdout.strip() == "RandomFlipLeftRight, ToTensor"


def test_a_plugin_calling_sys_exit_at_import_is_a_broken_plugin(tmp_path):
    env = installed(tmp_path, "exiting", EXITING)
    proc = run("transforms", "--json", env_extra=env, check_code=0)
    assert json.loads(proc.stdout) and "skipped plugin 'exiting'" in proc.stderr
    assert "it called sys.exit(3) while loading" in proc.stderr
    proc = run("--strict", "transforms", env_extra=env, check_code=1)
    assert "sys.exit(3)" in proc.stderr


@pytest.mark.parametrize("args", [("transforms", "--json"), ("plugins", "--json"), ("presets", "--json"),
                                  ("spec", "Chatty(0.5), ToTensor", "--format", "json"),
                                  ("spec", "Chatty, ToTensor", "--format", "yaml")])
def test_a_printing_plugin_cannot_corrupt_machine_readable_output(tmp_path, args):
    proc = run(*args, env_extra=installed(tmp_path, "chatty", PRINTING), check_code=0)
    if "yaml" in args:
        import yaml

        assert yaml.safe_load(proc.stdout)["transforms"][0]["name"] == "Chatty"
    else:
        json.loads(proc.stdout)
    assert "hello from a chatty plugin" in proc.stderr and "and from file descriptor 1" in proc.stderr


def test_builtin_presets_mean_the_builtins_whatever_is_installed(tmp_path):
    env = installed(tmp_path, "takeover", TAKEOVER)
    proc = run("spec", "d2l-flip", "--format", "json", env_extra=env, check_code=0)
    assert [t["name"] for t in json.loads(proc.stdout)["transforms"]] == ["RandomFlipLeftRight", "ToTensor"]
    system = PluginSystem(load_entry_points=False)
    from gluon_augplug.pipeline.build import build_pipeline

    module = {}
    exec(TAKEOVER, module)  # the same plugin, registered by hand, for a direct look at what gets built
    plugin = __import__("types").ModuleType("takeover_mod")
    plugin.__dict__.update(module)
    system.add_plugin(plugin, "takeover")
    pipeline = build_pipeline("d2l-flip", registry=system.registry)
    assert [type(t).__name__ for t in pipeline] == ["RandomFlipLeftRight", "ToTensor"]
    assert [type(t).__name__ for t in build_pipeline("ToTensor", registry=system.registry)] == ["Loud"]


def test_an_override_of_a_builtin_is_shown_in_plugins_and_transforms(tmp_path):
    env = installed(tmp_path, "takeover", TAKEOVER)
    proc = run("plugins", env_extra=env, check_code=0)
    assert "note: plugin 'takeover' overrides ToTensor (from builtin)" in proc.stdout
    listing = {p["name"]: p for p in json.loads(run("plugins", "--json", env_extra=env, check_code=0).stdout)}
    assert listing["takeover"]["overrides"] == ["ToTensor (from builtin)"]
    table = run("transforms", env_extra=env, check_code=0).stdout
    assert "ToTensor (overridden by takeover; use builtin:ToTensor)" in table
    # a bare name two plugins claim without override stays ambiguous for users, never a silent winner
    proc = run("spec", "RandomFlipLeftRight", env_extra=env, check_code=2)
    assert "registered by several plugins" in proc.stderr


def test_registering_many_transforms_is_linear():
    def register(n):
        registrar = Registrar("many", None, None)
        start = time.perf_counter()
        for i in range(n):
            registrar.register_transform(f"T{i}", lambda: None)
        registrar.commit(Registry())
        return time.perf_counter() - start

    small, large = register(2_000), register(20_000)
    assert large < 40 * small + 0.5  # quadratic would be ~100x; linear ~10x
    with pytest.raises(ValueError, match="registered twice"):
        registrar = Registrar("dup", None, None)
        registrar.register_transform("Same", lambda: None)
        registrar.register_transform("Same", lambda: None)
