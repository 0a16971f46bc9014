"""albumentations for gluon-augplug: every albumentations 1.x transform by name, as ``Albu<ClassName>``.

Installing this distribution is all it takes: its ``gluon_augplug`` entry point (plugin name
``albumentations``) registers ``AlbuCLAHE``, ``AlbuShiftScaleRotate``... in every pipeline, spec
file, training script and ``augplug`` command. The classes are generated from the installed
albumentations when the plugin loads: their parameters are albumentations' own (names, defaults),
declared and checked when a pipeline is built; each call is seeded by the pipeline's generator;
boxes, masks and keypoints go through albumentations' own target functions.
"""
from __future__ import annotations

import gluon_augplug
from gluon_augplug.adapters import LibraryValue, declare_signature, wrap_classes
from gluon_augplug.params import Choice

from . import catalog
from .transform import AlbumentationsTransform

__version__ = "0.1.0"


def _parameters(wrapped: type) -> dict:
    params = declare_signature(wrapped, ranges=catalog.RANGES)
    for name, param in params.items():
        if name in catalog.CODES and not isinstance(param.default, dict):
            params[name] = Choice(param.default, catalog.CODES[name], optional=param.default is None)
            params[name].name = name
        elif isinstance(param, LibraryValue):
            param.optional = True  # albumentations takes None for many sizes and limits (PadIfNeeded's min_height)
    return params


def _generate() -> dict[str, type]:
    import albumentations
    from albumentations.core.transforms_interface import DualTransform

    return wrap_classes(catalog.library_classes(), AlbumentationsTransform, prefix=catalog.PREFIX, module=__name__,
                        version=albumentations.__version__,
                        parameters=_parameters,
                        moves_pixels=lambda name, wrapped: issubclass(wrapped, DualTransform),
                        examples=catalog.EXAMPLES)


TRANSFORMS = _generate()


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    for name, cls in TRANSFORMS.items():
        register(name, cls)


@gluon_augplug.hookimpl
def augplug_register_presets(register):
    register("albu-cifar10-train",
             ["AlbuPadIfNeeded(min_height=40, min_width=40, border_mode=0), AlbuRandomCrop(height=32, width=32, p=1), "
              "AlbuHorizontalFlip(p=0.5), AlbuColorJitter(0.4, 0.4, 0.4, 0.1, p=0.8)", "cifar10-test"],
             doc="CIFAR-10 training with albumentations' pad, crop, flip and colour jitter, then ToTensor/Normalize")
