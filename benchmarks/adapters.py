"""The albumentations and imgaug adapters against the same library called directly, in one environment.

Workloads for worker.py (bench.py pairs them): per pipeline, the library called directly (albumentations'
Compose, imgaug's Sequential) and through the plugin by name (build_pipeline), on the same real images
(CIFAR-10 32x32, 224x224 crops of the cat), in the project's environment (albumentations 1.3.1, imgaug 0.4.0).
"""
import warnings

import numpy as np

warnings.filterwarnings("ignore")


def pipelines():
    import albumentations as A
    import imgaug.augmenters as iaa

    return {
        ("albumentations", "CIFAR recipe: pad, crop, flip", "32x32"): (
            A.Compose([A.PadIfNeeded(40, 40, border_mode=0, value=0), A.RandomCrop(32, 32), A.HorizontalFlip(p=0.5)]),
            "AlbuPadIfNeeded(min_height=40, min_width=40, border_mode=0, value=0), AlbuRandomCrop(height=32, width=32), "
            "AlbuHorizontalFlip(p=0.5)"),
        ("albumentations", "colour: flip, jitter 0.5, resized crop", "224x224"): (
            A.Compose([A.HorizontalFlip(p=0.5), A.ColorJitter(0.5, 0.5, 0.5, 0.5, p=1.0),
                       A.RandomResizedCrop(224, 224, scale=(0.1, 1), ratio=(0.5, 2))]),
            "AlbuHorizontalFlip(p=0.5), AlbuColorJitter(0.5, 0.5, 0.5, 0.5, p=1.0), "
            "AlbuRandomResizedCrop(height=224, width=224, scale=(0.1, 1), ratio=(0.5, 2))"),
        ("imgaug", "CIFAR recipe: pad, crop, flip", "32x32"): (
            iaa.Sequential([iaa.Pad(px=4, keep_size=False), iaa.CropToFixedSize(32, 32), iaa.Fliplr(0.5)]),
            "IaaPad(px=4, keep_size=False), IaaCropToFixedSize(width=32, height=32), IaaFliplr(p=0.5)"),
        ("imgaug", "colour: flip, multiply, contrast, crop", "224x224"): (
            iaa.Sequential([iaa.Fliplr(0.5), iaa.Multiply((0.8, 1.2), per_channel=0.5), iaa.LinearContrast((0.75, 1.5)),
                            iaa.Crop(percent=(0, 0.2))]),
            "IaaFliplr(p=0.5), IaaMultiply(mul=(0.8, 1.2), per_channel=0.5), IaaLinearContrast(alpha=(0.75, 1.5)), "
            "IaaCrop(percent=(0, 0.2))"),
    }


CHUNK = {"32x32": 256, "224x224": 16}


def workload(library, pipeline, side, inputs):
    """``library``'s ``pipeline`` called directly (``side="direct"``) or through our plugin by name
    (``side="adapter"``), as a call that makes a fixed number of images and returns it (worker.py times it)."""
    from gluon_augplug import build_pipeline

    (key, (direct, spec)), = [(k, v) for k, v in pipelines().items() if k[:2] == (library, pipeline)]
    size = key[2]
    data = np.load(inputs)
    images = [np.ascontiguousarray(i) for i in data["cifar32" if size == "32x32" else "img224"]]
    if side == "adapter":
        call = build_pipeline(spec, seed=0)
    elif library == "albumentations":
        call = lambda im: direct(image=im)["image"]  # noqa: E731
    else:
        call = lambda im: direct(image=im)  # noqa: E731
    chunk, state = CHUNK[size], {"i": 0}

    def run():
        i = state["i"]
        for k in range(chunk):
            call(images[(i + k) % len(images)])
        state["i"] = i + chunk
        return chunk

    return run


def versions():
    import albumentations
    import imgaug

    return {"albumentations": albumentations.__version__, "imgaug": imgaug.__version__}
