"""Time one library's version of each benchmark pipeline on shared inputs; print JSON rows.

Run by bench.py with the interpreter that has the library: the project's venv for ours, MXNet
and GluonCV; separate venvs for albumentations 2.x (needs numpy>=1.24) and imgaug 0.4 (needs
numpy<1.24). Every library gets the same images (an .npz written by bench.py).

    python anchors.py --library ours --inputs runs/bench/inputs.npz
"""
import argparse
import json
import sys

import numpy as np
from family import median_rate  # benchmarks/, the script's own folder
from pose import pose_rows
from segmentation import segmentation_rows


def _constants():
    """gluon_augplug/constants.py read by path: the anchors' environments do not have our package."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "gluon_augplug" / "constants.py"
    spec = importlib.util.spec_from_file_location("augplug_constants", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CIFAR_MEAN, CIFAR_STD = _constants().CIFAR10_MEAN, _constants().CIFAR10_STD


def to_tensor(img):
    return np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32) / np.float32(255)


def pipelines_ours(size_for):
    from gluon_augplug import build_pipeline
    from gluon_augplug.batch import build_batch_pipeline

    norm = f"Normalize({CIFAR_MEAN}, {CIFAR_STD})"
    color = ("RandomFlipLeftRight, RandomColorJitter(0.5, 0.5, 0.5, 0.5), "
             "RandomResizedCrop({s}, scale=(0.1, 1), ratio=(0.5, 2)), ToTensor")
    specs = {
        "flip": "RandomFlipLeftRight, ToTensor",
        "cifar": f"RandomCrop(32, pad=4), RandomFlipLeftRight, ToTensor, {norm}",
        "color": color,
        "randaugment": "RandAugment(2, 9), ToTensor",
    }
    out = {}
    for name, spec in specs.items():
        spec_s = spec.format(s=size_for(name))
        out[name] = {"per-sample": build_pipeline(spec_s, seed=0)}
        if name != "randaugment":
            out[name]["batch"] = build_batch_pipeline(spec_s.replace(", ToTensor", ""), seed=0)
    return out


def pipelines_mxnet(size_for):
    from mxnet.gluon.data.vision import transforms as T

    s = size_for("color")
    return {
        "flip": T.Compose([T.RandomFlipLeftRight(), T.ToTensor()]),
        "color": T.Compose([T.RandomFlipLeftRight(), T.RandomColorJitter(0.5, 0.5, 0.5, 0.5),
                            T.RandomResizedCrop(s, scale=(0.1, 1), ratio=(0.5, 2)), T.ToTensor()]),
    }


def pipelines_gluoncv(size_for):
    from gluoncv.data import transforms as gcv_transforms
    from mxnet.gluon.data.vision import transforms as T

    return {"cifar": T.Compose([gcv_transforms.RandomCrop(32, pad=4), T.RandomFlipLeftRight(), T.ToTensor(),
                                T.Normalize(CIFAR_MEAN, CIFAR_STD)])}


def pipelines_albumentations(size_for):
    import albumentations as A
    import cv2

    s = size_for("color")
    tensor = A.ToFloat(max_value=255)
    return {
        "flip": A.Compose([A.HorizontalFlip(p=0.5), tensor]),
        "cifar": A.Compose([A.PadIfNeeded(40, 40, border_mode=cv2.BORDER_CONSTANT, fill=0), A.RandomCrop(32, 32),
                            A.HorizontalFlip(p=0.5), A.Normalize(CIFAR_MEAN, CIFAR_STD, max_pixel_value=255)]),
        "color": A.Compose([A.HorizontalFlip(p=0.5), A.ColorJitter(0.5, 0.5, 0.5, 0.5, p=1.0),
                            A.RandomResizedCrop((s, s), scale=(0.1, 1), ratio=(0.5, 2)), tensor]),
    }


def pipelines_imgaug(size_for):
    import imgaug.augmenters as iaa

    return {
        "flip": iaa.Fliplr(0.5),
        "cifar": iaa.Sequential([iaa.Pad(px=4, keep_size=False), iaa.CropToFixedSize(32, 32), iaa.Fliplr(0.5)]),
        "randaugment": iaa.RandAugment(n=2, m=9),
    }


def detection_calls(library, image, boxes):
    """The SSD training recipe on one image and its boxes, as each library writes it: a callable per variant."""
    if library == "ours":
        from gluon_augplug import build_pipeline

        pipe = build_pipeline("ssd-train", seed=0, targets="boxes")
        # the cost of the boxes alone: the same recorded draws replayed with and without them (without boxes the
        # IoU crop would draw other windows, and the image work would differ)
        records = [pipe.apply(image, boxes=boxes).record for _ in range(16)]
        cycle = iter(range(10**9))
        return {"per-sample boxes": lambda: pipe(image, boxes=boxes),
                "per-sample replay boxes": lambda: pipe.replay(image, records[next(cycle) % 16], boxes=boxes),
                "per-sample replay image only": lambda: pipe.replay(image, records[next(cycle) % 16])}
    if library == "gluoncv":
        import mxnet as mx
        from gluoncv.data.transforms.presets.ssd import SSDDefaultTrainTransform

        transform = SSDDefaultTrainTransform(300, 300)  # anchors off: image and boxes only
        nd = mx.nd.array(image, dtype="uint8")
        return {"per-sample boxes": lambda: transform(nd, boxes)[0].wait_to_read()}
    if library == "albumentations":
        import albumentations as A

        # the closest albumentations 2.0.8 recipe: colour jitter, zoom-out by Affine (p 0.5), a crop that keeps
        # the boxes, resize to 300, flip, normalize; boxes through its bbox pipeline
        mean = (0.485, 0.456, 0.406)
        pipe = A.Compose([A.ColorJitter(0.125, 0.5, 0.5, 0.05, p=1.0),
                          A.Affine(scale=(0.25, 1.0), keep_ratio=True, fill=tuple(255 * m for m in mean), p=0.5),
                          A.RandomSizedBBoxSafeCrop(300, 300), A.HorizontalFlip(p=0.5),
                          A.Normalize(mean, (0.229, 0.224, 0.225), max_pixel_value=255)],
                         bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]))
        bboxes, labels = boxes[:, :4].tolist(), boxes[:, 4].tolist()
        return {"per-sample boxes": lambda: to_tensor_chw(pipe(image=image, bboxes=bboxes, labels=labels)["image"])}
    return {}


def detection_rows(library, data, repeats, scale):
    rows = []
    for size, key in (("500x400 cat", "det_cat"), ("300x300", "det300")):
        image, boxes = data[key][0], data[key + "_boxes"]
        n = max(10, int(60 * scale))
        for mode, call in detection_calls(library, image, boxes).items():
            for _ in range(5):
                call()

            def run():
                for _ in range(n):
                    call()

            rows.append({"pipeline": "ssd", "size": size, "mode": mode, "img_per_s": median_rate(run, n, repeats)})
    return rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--library", required=True, choices=["ours", "mxnet", "gluoncv", "albumentations", "imgaug"])
    p.add_argument("--inputs", required=True)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--scale", type=float, default=1.0, help="fraction of the default image counts (quick runs)")
    args = p.parse_args()
    data = np.load(args.inputs)
    inputs = {"32x32": data["cifar32"], "500x400 cat": data["cat"], "224x224": data["img224"]}
    counts = {"32x32": 2000, "500x400 cat": 60, "224x224": 100}
    # pipeline -> input sizes it runs on (the colour pipeline crops to the chapter's 200 for the cat)
    sizes = {"flip": ["32x32"], "cifar": ["32x32"], "color": ["32x32", "500x400 cat", "224x224"],
             "randaugment": ["32x32"]}
    rows = []
    for size in ("32x32", "500x400 cat", "224x224"):
        crop = {"32x32": 32, "500x400 cat": 200, "224x224": 224}[size]
        build = globals()[f"pipelines_{args.library}"]
        pipes = build(lambda name: crop)
        images = inputs[size]
        n = max(10, int(counts[size] * args.scale))
        batch_inputs = images
        for name, pipe in pipes.items():
            if size not in sizes[name]:
                continue
            modes = pipe if isinstance(pipe, dict) else {"per-sample": pipe}
            for mode, fn in modes.items():
                rows.extend(time_mode(args.library, name, size, mode, fn, images, n, args.repeats))
        del batch_inputs
    rows.extend(detection_rows(args.library, data, args.repeats, args.scale))
    rows.extend(segmentation_rows(args.library, data, args.repeats, args.scale, median_rate))
    rows.extend(pose_rows(args.library, data, args.repeats, args.scale, median_rate))
    print(json.dumps({"library": args.library, "version": version(args.library), "numpy": np.__version__,
                      "rows": rows}))


def time_mode(library, name, size, mode, fn, images, n, repeats):
    k = len(images)
    rows = []
    if mode == "per-sample":
        if library in ("mxnet", "gluoncv", "ours"):
            import mxnet as mx

            nd_images = [mx.nd.array(im, dtype="uint8") for im in images]
        variants = {"numpy": lambda im, i: fn(images[i % k])}
        if library == "ours":
            variants["NDArray"] = lambda im, i: fn(nd_images[i % k])
        if library in ("mxnet", "gluoncv"):
            variants = {"NDArray": lambda im, i: fn(nd_images[i % k])}
        if library == "albumentations":
            variants = {"numpy": lambda im, i: to_tensor_chw(fn(image=images[i % k])["image"])}
        if library == "imgaug":
            variants = {"numpy": lambda im, i: to_tensor(fn(image=images[i % k]))}
        for variant, call in variants.items():
            for i in range(10):
                call(None, i)

            def run():
                out = None
                for i in range(n):
                    out = call(None, i)
                if hasattr(out, "wait_to_read"):
                    out.wait_to_read()

            rows.append({"pipeline": name, "size": size, "mode": f"per-sample {variant}",
                         "img_per_s": median_rate(run, n, repeats)})
    else:  # ours, batch
        import mxnet as mx

        for batch_size in (128, 256):
            batch = np.stack([images[i % k] for i in range(batch_size)])
            batches = max(1, n // batch_size) if size != "32x32" else max(2, 4 * n // batch_size)
            for variant, data in (("numpy", batch), ("NDArray", mx.nd.array(batch, dtype="uint8"))):
                fn(data)

                def run():
                    out = None
                    for _ in range(batches):
                        out = fn(data)
                    if hasattr(out, "wait_to_read"):
                        out.wait_to_read()

                rows.append({"pipeline": name, "size": size, "mode": f"batch {variant} {batch_size}",
                             "img_per_s": median_rate(run, batches * batch_size, repeats)})
    return rows


def to_tensor_chw(img):
    return np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32)


def version(library):
    module = {"ours": "gluon_augplug", "gluoncv": "gluoncv"}.get(library, library)
    return getattr(__import__(module), "__version__", "?")


if __name__ == "__main__":
    sys.exit(main())
