"""Each hook of the contract, its exact signature, and the validation of implementations."""
from __future__ import annotations

import inspect

import pytest

import gluon_augplug
from gluon_augplug.errors import PluginError
from gluon_augplug.plugins import hookspecs


def test_hook_signatures_are_the_published_contract():
    sigs = hookspecs.hook_signatures()
    assert list(sigs) == ["augplug_register_transforms", "augplug_register_presets",
                          "augplug_register_batch_transforms"]
    for sig in sigs.values():
        assert list(sig.parameters) == ["register"]
        assert all(p.default is inspect.Parameter.empty for p in sig.parameters.values())


def test_hookimpl_marker_is_pluggys_for_our_project():
    assert gluon_augplug.hookimpl.project_name == "gluon_augplug"
    assert hookspecs.PROJECT_NAME == "gluon_augplug"


def test_register_transforms_hook_with_metadata(plugin_system):
    class Plugin:
        @gluon_augplug.hookimpl
        def augplug_register_transforms(self, register):
            register("Twice", lambda t: (lambda img: t(t(img))), doc="apply twice", nested=("t",),
                     example={"t": ["RandomFlipLeftRight"]})

    plugin_system.add_plugin(Plugin(), "meta")
    info = plugin_system.registry.get_transform("Twice")
    assert (info.doc, info.nested, info.example, info.plugin) == ("apply twice", ("t",), {"t": ["RandomFlipLeftRight"]}, "meta")
    assert info.as_dict()["params"] == [{"name": "t", "required": True}]


def test_register_presets_hook(plugin_system):
    class Plugin:
        @gluon_augplug.hookimpl
        def augplug_register_presets(self, register):
            register("my-preset", ["RandomFlipLeftRight", {"name": "ToTensor"}], doc="flip then tensor")

    plugin_system.add_plugin(Plugin(), "presets")
    preset = plugin_system.registry.get_preset("my-preset")
    assert preset.doc == "flip then tensor" and preset.plugin == "presets"
    assert len(gluon_augplug.build_pipeline("my-preset")) == 2


def _plugin_with(source: str):
    namespace: dict = {}
    exec(source, {"gluon_augplug": gluon_augplug}, namespace)
    return type("Plugin", (), namespace)()


@pytest.mark.parametrize("source, message", [
    ("@gluon_augplug.hookimpl\ndef augplug_register_transform(self, register): pass",
     "did you mean 'augplug_register_transforms'"),
    ("@gluon_augplug.hookimpl\ndef augplug_register_transforms(self, register, extra): pass", "extra"),
    ("@gluon_augplug.hookimpl\ndef augplug_register_transforms(self, register=None): pass", "default values"),
    ("@gluon_augplug.hookimpl\ndef augplug_register_transforms(self, register):\n    return ['x']",
     "must call register"),
    ("@gluon_augplug.hookimpl\ndef augplug_register_transforms(self, register):\n    register('bad name', print)",
     "Python identifier"),
    ("@gluon_augplug.hookimpl\ndef augplug_register_transforms(self, register):\n    register('X', 3)",
     "must be callable"),
    ("@gluon_augplug.hookimpl\ndef augplug_register_transforms(self, register):\n    register('X', print, colour=1)",
     "unknown metadata"),
    ("@gluon_augplug.hookimpl\ndef augplug_register_transforms(self, register):\n"
     "    register('X', print)\n    register('X', print)", "registered twice"),
    ("@gluon_augplug.hookimpl\ndef augplug_register_presets(self, register):\n    register('p', 42)",
     "spec must be"),
])
def test_invalid_implementations_are_rejected_with_the_reason(plugin_system, source, message):
    with pytest.raises(PluginError, match=message):
        plugin_system.add_plugin(_plugin_with(source), "bad")
    assert "bad" not in plugin_system.records
    assert plugin_system.pm.get_plugin("bad") is None


def test_optional_hook_from_a_newer_contract_is_allowed(plugin_system):
    source = ("@gluon_augplug.hookimpl(optionalhook=True)\ndef augplug_future_hook(self, register): pass\n"
              "@gluon_augplug.hookimpl\ndef augplug_register_transforms(self, register):\n"
              "    register('Fine', lambda: (lambda img: img))")
    record = plugin_system.add_plugin(_plugin_with(source), "future")
    assert record.hooks == ["augplug_register_transforms"]


def test_hook_implementation_may_take_fewer_arguments(plugin_system):
    source = "@gluon_augplug.hookimpl\ndef augplug_register_presets(self): pass"
    assert plugin_system.add_plugin(_plugin_with(source), "noargs").presets == 0
