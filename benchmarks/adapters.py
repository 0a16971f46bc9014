"""The albumentations and imgaug adapters against the same library called directly, in one environment.

    python benchmarks/adapters.py --inputs runs/bench/inputs.npz [--repeats 5] [--scale 1.0]

Prints one JSON line: per pipeline, images/second called directly (albumentations' Compose, imgaug's
Sequential) and through the plugin by name (build_pipeline), each the median of ``repeats`` runs over
the same real images (CIFAR-10 32x32, 224x224 crops of the cat).
"""
import argparse
import json
import statistics
import time
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


def rate(call, images, n, repeats):
    k = len(images)
    for i in range(10):
        call(images[i % k])
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(n):
            call(images[i % k])
        times.append(n / (time.perf_counter() - start))
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--inputs", required=True)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--scale", type=float, default=1.0)
    args = p.parse_args()
    import albumentations
    import imgaug

    from gluon_augplug import build_pipeline

    data = np.load(args.inputs)
    images = {"32x32": [np.ascontiguousarray(i) for i in data["cifar32"]],
              "224x224": [np.ascontiguousarray(i) for i in data["img224"]]}
    counts = {("albumentations", "32x32"): 4000, ("albumentations", "224x224"): 400, ("imgaug", "32x32"): 1000,
              ("imgaug", "224x224"): 300}
    rows = []
    for (library, name, size), (direct, spec) in pipelines().items():
        n = max(20, int(counts[(library, size)] * args.scale))
        ours = build_pipeline(spec, seed=0)
        call_direct = (lambda im, d=direct: d(image=im)["image"]) if library == "albumentations" else \
            (lambda im, d=direct: d(image=im))
        rows.append({"library": library, "pipeline": name, "size": size, "spec": spec,
                     "direct": rate(call_direct, images[size], n, args.repeats),
                     "adapter": rate(ours, images[size], n, args.repeats)})
    print(json.dumps({"rows": rows, "versions": {"albumentations": albumentations.__version__,
                                                  "imgaug": imgaug.__version__}}))


if __name__ == "__main__":
    main()
