"""Plugin loading: built-ins first, entry points, broken/blocked plugins, conflicts, strict mode."""
from __future__ import annotations

import logging
import sys

import numpy as np
import pytest

from gluon_augplug import build_pipeline
from gluon_augplug.errors import AmbiguousTransformError, PluginError, UnknownTransformError
from gluon_augplug.plugins import manager
from gluon_augplug.plugins.manager import PluginSystem
from tests.conftest import make_distribution

GOOD_PLUGIN = '''
import numpy as np
import gluon_augplug
from gluon_augplug import Transform

class Invert2(Transform):
    """Invert every pixel."""
    def apply(self, img, layout):
        return 255 - img

@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("InvertAll", Invert2)

@gluon_augplug.hookimpl
def augplug_register_presets(register):
    register("inverted", "InvertAll, ToTensor", doc="inverted tensor")
'''

IMPORT_ERROR_PLUGIN = "import this_module_does_not_exist_anywhere\n"

RAISING_PLUGIN = '''
import gluon_augplug

@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("HalfRegistered", lambda: (lambda img: img))
    raise RuntimeError("boom in hook")
'''

CONFLICT_PLUGIN = '''
import gluon_augplug
from gluon_augplug.transforms import RandomFlipLeftRight

class MyFlip(RandomFlipLeftRight):
    """Another left-right flip."""

@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("RandomFlipLeftRight", MyFlip{override})
'''


@pytest.fixture
def clean_env(monkeypatch):
    for var in (manager.ENV_LOAD, manager.ENV_DISABLE, manager.ENV_STRICT):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def install(monkeypatch, tmp_path, dist, version, plugins, modules):
    root = make_distribution(tmp_path / dist, dist, version, plugins, modules)
    monkeypatch.syspath_prepend(str(root))
    for module in modules:
        sys.modules.pop(module, None)
    return root


def test_builtin_registered_first_through_the_hooks(clean_env):
    system = PluginSystem(load_entry_points=False)
    first = next(iter(system.records.values()))
    assert first.name == "builtin" and first.builtin and first.status == "loaded"
    # one class per transform: the built-ins need no batch hook, their classes carry the batch path
    assert first.hooks == ["augplug_register_presets", "augplug_register_transforms"]
    assert first.transforms == len(system.registry.transforms("builtin")) >= 33
    assert first.batch_transforms == len(system.registry.transforms("builtin", kind="batch")) >= 19
    assert system.registry.get_transform("RandomFlipLeftRight").plugin == "builtin"


def test_entry_point_plugin_is_discovered_with_distribution_and_version(clean_env, tmp_path, cat):
    install(clean_env, tmp_path, "augplug-invert", "1.2.3", {"invert": "augplug_invert_mod"},
            {"augplug_invert_mod": GOOD_PLUGIN})
    system = PluginSystem()
    rec = system.records["invert"]
    assert (rec.distribution, rec.version, rec.status, rec.transforms, rec.presets) == (
        "augplug-invert", "1.2.3", "loaded", 1, 1)
    assert list(system.records)[0] == "builtin"
    out = build_pipeline("InvertAll", registry=system.registry)(cat)
    assert np.array_equal(out, 255 - cat)
    tensor = build_pipeline("inverted", registry=system.registry)(cat)
    assert tensor.shape == (3, 400, 500)


@pytest.mark.parametrize("source, error", [(IMPORT_ERROR_PLUGIN, "ModuleNotFoundError"),
                                           (RAISING_PLUGIN, "RuntimeError: boom in hook")])
def test_broken_plugin_is_skipped_with_one_warning_and_others_still_load(clean_env, tmp_path, caplog, source, error):
    install(clean_env, tmp_path / "a", "augplug-broken", "0.1", {"broken": "augplug_broken_mod"},
            {"augplug_broken_mod": source})
    install(clean_env, tmp_path / "b", "augplug-invert", "1.0", {"invert": "augplug_invert_mod"},
            {"augplug_invert_mod": GOOD_PLUGIN})
    with caplog.at_level(logging.WARNING, logger="gluon_augplug.plugins"):
        system = PluginSystem()
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "'broken'" in warnings[0] and "augplug-broken 0.1" in warnings[0] and error in warnings[0]
    assert system.records["broken"].status == "error"
    assert system.records["invert"].status == "loaded"
    assert "HalfRegistered" not in system.registry  # nothing of a failed plugin is kept
    with pytest.raises(PluginError, match="augplug-broken"):
        system.raise_errors()


def test_strict_mode_from_env_and_argument(clean_env, tmp_path):
    install(clean_env, tmp_path, "augplug-broken", "0.1", {"broken": "augplug_broken_mod"},
            {"augplug_broken_mod": IMPORT_ERROR_PLUGIN})
    previous = manager.use_plugin_system(None)
    try:
        clean_env.setenv(manager.ENV_STRICT, "1")
        with pytest.raises(PluginError, match="broken"):
            manager.get_registry()
        clean_env.delenv(manager.ENV_STRICT)
        manager.get_registry()  # lenient by default
        with pytest.raises(PluginError, match="broken"):
            manager.get_registry(strict=True)
        with pytest.raises(PluginError):
            build_pipeline("ToTensor", strict=True)
    finally:
        manager.use_plugin_system(previous)


def test_blocked_plugins_are_never_imported(clean_env, tmp_path):
    # importing this module would raise: only a plugin that is not imported stays clean
    install(clean_env, tmp_path, "augplug-broken", "0.1", {"broken": "augplug_broken_mod"},
            {"augplug_broken_mod": IMPORT_ERROR_PLUGIN})
    clean_env.setenv(manager.ENV_DISABLE, "broken")
    system = PluginSystem()
    assert system.records["broken"].status == "blocked"
    assert "augplug_broken_mod" not in sys.modules
    assert not system.errors()


def test_load_list_empty_means_builtins_only_and_disable_wins(clean_env, tmp_path):
    install(clean_env, tmp_path, "augplug-invert", "1.0", {"invert": "augplug_invert_mod"},
            {"augplug_invert_mod": GOOD_PLUGIN})
    clean_env.setenv(manager.ENV_LOAD, "")
    system = PluginSystem()
    assert system.records["invert"].status == "blocked" and "InvertAll" not in system.registry
    assert "ToTensor" in system.registry
    clean_env.setenv(manager.ENV_LOAD, "invert")
    assert PluginSystem().records["invert"].status == "loaded"
    clean_env.setenv(manager.ENV_DISABLE, "invert")
    assert PluginSystem().records["invert"].status == "blocked"


def test_load_list_naming_a_missing_plugin_is_reported(clean_env):
    clean_env.setenv(manager.ENV_LOAD, "no-such-plugin")
    system = PluginSystem()
    assert system.records["no-such-plugin"].status == "error"
    assert "not installed" in system.records["no-such-plugin"].error


def test_env_is_read_when_loading_not_at_import(clean_env, tmp_path):
    install(clean_env, tmp_path, "augplug-invert", "1.0", {"invert": "augplug_invert_mod"},
            {"augplug_invert_mod": GOOD_PLUGIN})
    assert PluginSystem().records["invert"].status == "loaded"
    clean_env.setenv(manager.ENV_DISABLE, "invert")  # set after gluon_augplug was imported
    assert PluginSystem().records["invert"].status == "blocked"


def test_name_conflict_is_an_error_naming_both_plugins(clean_env, tmp_path, cat):
    install(clean_env, tmp_path, "augplug-flip", "2.0", {"myflip": "augplug_flip_mod"},
            {"augplug_flip_mod": CONFLICT_PLUGIN.format(override="")})
    system = PluginSystem()
    with pytest.raises(AmbiguousTransformError) as info:
        build_pipeline("RandomFlipLeftRight", registry=system.registry)
    assert "builtin" in str(info.value) and "myflip" in str(info.value)
    assert "'myflip:RandomFlipLeftRight'" in str(info.value)
    mine = build_pipeline("myflip:RandomFlipLeftRight(p=1.0)", registry=system.registry)
    builtin = build_pipeline("builtin:RandomFlipLeftRight(p=1.0)", registry=system.registry)
    assert type(mine[0]).__name__ == "MyFlip" and type(builtin[0]).__name__ == "RandomFlipLeftRight"
    assert np.array_equal(mine(cat), cat[:, ::-1]) and np.array_equal(builtin(cat), cat[:, ::-1])
    assert mine.to_spec()["transforms"][0]["name"] == "myflip:RandomFlipLeftRight"


def test_override_wins_the_bare_name(clean_env, tmp_path):
    install(clean_env, tmp_path, "augplug-flip", "2.0", {"myflip": "augplug_flip_mod"},
            {"augplug_flip_mod": CONFLICT_PLUGIN.format(override=", override=True")})
    system = PluginSystem()
    info = system.registry.get_transform("RandomFlipLeftRight")
    assert info.plugin == "myflip" and info.override
    assert system.registry.get_transform("builtin:RandomFlipLeftRight").plugin == "builtin"


def test_unknown_qualified_plugin_suggests_qualified_names(plugin_system):
    with pytest.raises(UnknownTransformError, match="builtin:RandomFlipLeftRight"):
        build_pipeline("bultin:RandomFlipLeftRight")


def test_add_and_remove_plugin_by_hand(plugin_system, cat):
    import gluon_augplug

    class Plugin:
        @gluon_augplug.hookimpl
        def augplug_register_transforms(self, register):
            register("Identity2", lambda: (lambda img: img), doc="does nothing")

    record = plugin_system.add_plugin(Plugin(), "byhand")
    assert record.transforms == 1
    assert np.array_equal(build_pipeline("Identity2")(cat), cat)
    plugin_system.remove_plugin("byhand")
    with pytest.raises(UnknownTransformError):
        build_pipeline("Identity2")


def test_discovery_is_cached_and_reload_rediscovers(clean_env):
    previous = manager.use_plugin_system(None)
    try:
        first = manager.get_plugin_manager()
        assert manager.get_plugin_manager() is first
        assert manager.reload_plugins() is not first
    finally:
        manager.use_plugin_system(previous)


def test_import_does_not_import_mxnet_or_plugins():
    import subprocess

    code = ("import sys, gluon_augplug; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('mxnet', 'pluggy', 'cv2', 'numpy')]; "
            "print(bad); assert not bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_plugin_added_twice_is_refused_and_the_first_registration_stays(clean_env):
    import types

    import gluon_augplug as package

    plugin = types.ModuleType("twice_plugin")

    @package.hookimpl
    def augplug_register_transforms(register):
        register("TwiceFlip", lambda: (lambda img: img[:, ::-1]))

    plugin.augplug_register_transforms = augplug_register_transforms
    system = PluginSystem(load_entry_points=False)
    system.add_plugin(plugin, "first")
    with pytest.raises(PluginError):
        system.add_plugin(plugin, "second")  # pluggy: already registered (under "first")
    assert system.pm.get_plugin("first") is plugin and system.pm.get_plugin("second") is None
