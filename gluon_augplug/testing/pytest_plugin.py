"""pytest fixtures for gluon_augplug plugin authors (loaded through the ``pytest11`` entry point).

Importing this module costs nothing: MXNet and the plugins are imported by the fixtures that
need them. Disable it with ``-p no:gluon_augplug``.

Fixtures
--------
augplug_plugin_system
    A fresh plugin system with only the built-ins (no installed plugin), installed as the
    process-wide one for the test, restored afterwards.
augplug_registry
    That system's registry.
augplug_register
    ``augplug_register(plugin, name=None)`` registers a plugin module/object for this test only.
augplug_load_plugins
    ``augplug_load_plugins("gridmask", ...)`` loads named installed plugins in strict mode
    (a missing or broken one raises) and installs that system for the test.
augplug_sample_images
    Real images: ``{"cat": ..., "cat_small": ..., "cifar_airplane": ..., ...}`` (read-only).
augplug_cat, augplug_cifar10
    The D2L cat photo; 20 real CIFAR-10 test images with their labels.
"""
from __future__ import annotations

import pytest


@pytest.fixture
def augplug_plugin_system():
    from gluon_augplug.testing.isolation import isolated_plugin_system

    with isolated_plugin_system() as system:
        yield system


@pytest.fixture
def augplug_registry(augplug_plugin_system):
    return augplug_plugin_system.registry


@pytest.fixture
def augplug_register(augplug_plugin_system):
    names = []

    def register(plugin, name=None):
        record = augplug_plugin_system.add_plugin(plugin, name)
        names.append(record.name)
        return record

    yield register
    for name in names:
        augplug_plugin_system.remove_plugin(name)


@pytest.fixture
def augplug_load_plugins():
    from gluon_augplug.plugins import manager
    from gluon_augplug.testing.isolation import load_plugin_system

    previous = []

    def load(*names):
        system = load_plugin_system(list(names), strict=True)
        previous.append(manager.use_plugin_system(system))
        return system

    yield load
    if previous:
        manager.use_plugin_system(previous[0])


@pytest.fixture
def augplug_sample_images():
    from gluon_augplug.testing.samples import sample_images

    return sample_images()


@pytest.fixture
def augplug_cat():
    from gluon_augplug.testing.samples import cat_image

    return cat_image()


@pytest.fixture
def augplug_cifar10():
    from gluon_augplug.testing.samples import cifar10_samples

    return cifar10_samples()
