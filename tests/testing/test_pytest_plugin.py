"""The pytest plugin: its fixtures, its cost at start-up, and turning it off."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import gluon_augplug
from gluon_augplug.errors import PluginError, UnknownTransformError


def test_sample_images_are_real_and_read_only(augplug_sample_images, augplug_cat, augplug_cifar10):
    assert augplug_cat.shape == (400, 500, 3) and augplug_cat.dtype == np.uint8
    images, labels = augplug_cifar10
    assert images.shape == (20, 32, 32, 3) and sorted(set(labels.tolist())) == list(range(10))
    assert {"cat", "cat_small", "cifar_airplane"} <= set(augplug_sample_images)
    with pytest.raises(ValueError):
        augplug_cat[0, 0, 0] = 1


class _Plugin:
    @gluon_augplug.hookimpl
    def augplug_register_transforms(self, register):
        register("TestOnly", lambda: (lambda img: img))


def test_register_a_plugin_for_one_test(augplug_register, augplug_registry):
    augplug_register(_Plugin(), "one-test")
    assert "TestOnly" in augplug_registry
    assert len(gluon_augplug.build_pipeline("TestOnly, ToTensor")) == 2


def test_and_it_is_gone_in_the_next(augplug_plugin_system):
    with pytest.raises(UnknownTransformError):
        gluon_augplug.build_pipeline("TestOnly")


def test_fresh_system_loads_no_installed_plugin(augplug_plugin_system):
    assert [r.name for r in augplug_plugin_system.records.values()] == ["builtin"]


def test_load_named_installed_plugins_in_strict_mode(augplug_load_plugins, tmp_path, monkeypatch):
    from tests.conftest import make_distribution

    good = "import gluon_augplug\n@gluon_augplug.hookimpl\ndef augplug_register_presets(register):\n" \
           "    register('plug-preset', 'ToTensor')\n"
    root = make_distribution(tmp_path, "augplug-p", "3.1", {"p": "augplug_p_mod", "broken": "augplug_q_mod"},
                             {"augplug_p_mod": good, "augplug_q_mod": "raise RuntimeError('bad')\n"})
    monkeypatch.syspath_prepend(str(root))
    system = augplug_load_plugins("p")
    assert system.records["p"].version == "3.1" and system.records["broken"].status == "blocked"
    assert len(gluon_augplug.build_pipeline("plug-preset")) == 1
    with pytest.raises(PluginError, match="bad"):
        augplug_load_plugins("broken")


def _run_pytest(tmp_path, source, *args):
    (tmp_path / "test_author.py").write_text(textwrap.dedent(source))
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, str(tmp_path)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)


def test_plugin_is_registered_and_costs_nothing_at_start_up(tmp_path):
    proc = _run_pytest(tmp_path, """
        import sys

        def test_no_mxnet_yet():
            assert "mxnet" not in sys.modules
            assert "gluon_augplug.testing.pytest_plugin" in sys.modules

        def test_fixture_available(augplug_cat):
            assert augplug_cat.shape == (400, 500, 3)
    """)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout


def test_p_no_turns_it_off(tmp_path):
    proc = _run_pytest(tmp_path, """
        def test_fixture_available(augplug_cat):
            pass
    """, "-p", "no:gluon_augplug")
    assert proc.returncode != 0 and "fixture 'augplug_cat' not found" in proc.stdout
