"""imgaug for gluon-augplug: every imgaug 0.4 augmenter by name, as ``Iaa<ClassName>``.

Installing this distribution is all it takes: its ``gluon_augplug`` entry point (plugin name
``imgaug``) registers ``IaaAffine``, ``IaaCoarseDropout``, ``IaaSnowflakes``... in every pipeline,
spec file, training script and ``augplug`` command. The classes are generated from the installed
imgaug when the plugin loads: their parameters are imgaug's own (names, defaults; a ``(min, max)``
pair is imgaug's uniform range, a list of any other length its set of choices), declared and
checked when a pipeline is built; each call is seeded by the pipeline's generator; boxes, masks
and keypoints go through imgaug's own augmentation of them.
"""
from __future__ import annotations

import gluon_augplug
from gluon_augplug.adapters import LibraryValue, declare_signature, wrap_classes
from gluon_augplug.params import Flag

from . import catalog
from .transform import ImgaugTransform

__version__ = "0.1.0"


def _parameters(wrapped: type) -> dict:
    params = declare_signature(wrapped, ranges=catalog.RANGES, skip=catalog.SKIPPED_PARAMETERS, lists=True,
                               probability_names=())
    for name, param in list(params.items()):
        # imgaug takes most flags as probabilities too (per_channel=0.5, squared=0.5), and most string
        # parameters as numbers or lists as well (interpolation=1, position=(0.5, 0.5)): checked by kind only
        if isinstance(param, Flag):
            params[name] = LibraryValue(param.default, "any", 0, 1, lists=True,
                                        doc="True/False, or the probability of True")
        elif isinstance(param, LibraryValue) and param.kind == "text":
            params[name] = LibraryValue(param.default, "any", lists=True)
        params[name].name = name
    return params


def _generate() -> dict[str, type]:
    import imgaug

    return wrap_classes(catalog.library_classes(), ImgaugTransform, prefix=catalog.PREFIX, module=__name__,
                        version=imgaug.__version__, parameters=_parameters, moves_pixels=catalog.moves_pixels,
                        examples=catalog.EXAMPLES)


TRANSFORMS = _generate()


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    for name, cls in TRANSFORMS.items():
        register(name, cls)


@gluon_augplug.hookimpl
def augplug_register_presets(register):
    register("iaa-cifar10-train",
             ["IaaCropAndPad(px=(-4, 4), pad_mode='constant'), IaaFliplr(p=0.5), "
              "IaaMultiplyAndAddToBrightness(mul=(0.8, 1.2), add=(-20, 20))", "cifar10-test"],
             doc="CIFAR-10 training with imgaug's crop-and-pad, flip and brightness, then ToTensor/Normalize")
