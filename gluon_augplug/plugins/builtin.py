"""The ``builtin`` plugin: every built-in transform and preset, registered through the public hooks."""
from __future__ import annotations

from .hookspecs import hookimpl

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)  # the training set's; GluonCV's scripts use (0.2023, 0.1994, 0.2010)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# typical parameters for listings and conformance tests, where the defaults need completing
_EXAMPLES = {
    "Resize": {"size": 32},
    "CenterCrop": {"size": 24},
    "RandomCrop": {"size": 32, "pad": 4},
    "RandomResizedCrop": {"size": 32},
    # these default to doing nothing, as in MXNet and torchvision
    "RandomAffine": {"degrees": 15, "translate": (0.1, 0.1), "scale": (0.9, 1.1), "shear": 10},
    "RandomColorJitter": {"brightness": 0.4, "contrast": 0.4, "saturation": 0.4, "hue": 0.1},
}
_COMPOSITE_EXAMPLE = ["RandomFlipLeftRight", "RandomBrightness(0.3)"]


@hookimpl
def augplug_register_transforms(register):
    from .. import transforms as T

    for name in T.__all__:
        cls = getattr(T, name)
        if not (isinstance(cls, type) and issubclass(cls, T.Transform)) or cls is T.Transform:
            continue
        if issubclass(cls, T.composition._Composite):
            register(name, cls, nested=("transforms",), example={"transforms": _COMPOSITE_EXAMPLE})
        else:
            register(name, cls, example=_EXAMPLES.get(name))


@hookimpl
def augplug_register_presets(register):
    cifar_norm = f"Normalize(mean={CIFAR10_MEAN}, std={CIFAR10_STD})"
    imagenet_norm = f"Normalize(mean={IMAGENET_MEAN}, std={IMAGENET_STD})"
    register("d2l-flip", "RandomFlipLeftRight, ToTensor",
             doc="D2L's CIFAR-10 training augmentation: random left-right flip, then ToTensor")
    register("d2l-none", "ToTensor", doc="D2L's test-time pipeline (no augmentation)")
    register("d2l-cat", "RandomFlipLeftRight, RandomColorJitter(brightness=0.5, contrast=0.5, saturation=0.5, "
             "hue=0.5), RandomResizedCrop(200, scale=(0.1, 1), ratio=(0.5, 2))",
             doc="D2L's composed flip + colour + shape augmentation of the cat photo")
    register("cifar10-standard", f"RandomCrop(32, pad=4), RandomFlipLeftRight, ToTensor, {cifar_norm}",
             doc="GluonCV's CIFAR-10 recipe: pad 4 + random 32 crop, flip, ToTensor, Normalize")
    register("cifar10-test", f"ToTensor, {cifar_norm}", doc="CIFAR-10 evaluation: ToTensor, Normalize")
    register("cifar10-autoaugment",
             f"RandomCrop(32, pad=4), RandomFlipLeftRight, AutoAugment('cifar10'), ToTensor, {cifar_norm}, "
             "Cutout(16)", doc="AutoAugment's CIFAR-10 recipe: crop, flip, learned policy, Cutout 16")
    register("cifar10-randaugment",
             f"RandomCrop(32, pad=4), RandomFlipLeftRight, RandAugment(2, 9), ToTensor, {cifar_norm}",
             doc="RandAugment N=2 M=9 after the standard crop and flip")
    register("imagenet-standard",
             "RandomResizedCrop(224), RandomFlipLeftRight, RandomColorJitter(brightness=0.4, contrast=0.4, "
             f"saturation=0.4), RandomLighting(0.1), ToTensor, {imagenet_norm}",
             doc="GluonCV's ImageNet training recipe")
    register("imagenet-test", f"Resize(256, keep_ratio=True), CenterCrop(224), ToTensor, {imagenet_norm}",
             doc="ImageNet evaluation: short side 256, centre 224 crop")


@hookimpl
def augplug_register_batch_transforms(register):
    from ..batch.ops import BUILTIN_BATCH_TRANSFORMS

    for cls in BUILTIN_BATCH_TRANSFORMS:
        register(cls.__name__, cls, example=_EXAMPLES.get(cls.__name__))
