"""Each library's version of the benchmark pipelines, as workloads for worker.py (see pairs.py).

Loaded in the process of the library's environment: the project's venv for ours, MXNet and GluonCV;
separate venvs for albumentations 2.x (needs numpy>=1.24) and imgaug 0.4 (needs numpy<1.24). Every
library gets the same images (an .npz written by bench.py).
"""
import numpy as np
from pose import pose_calls  # benchmarks/, the script's own folder
from segmentation import quadrant_mask, segmentation_calls


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


INPUTS = {"32x32": "cifar32", "500x400 cat": "cat", "224x224": "img224"}
CROP = {"32x32": 32, "500x400 cat": 200, "224x224": 224}  # the colour pipeline crops the cat to the chapter's 200
CHUNK = {"32x32": 256, "500x400 cat": 4, "224x224": 16}  # images a call of a per-sample workload makes


def workload(library, pipeline, size, mode, inputs):
    """``library``'s version of ``pipeline`` on the ``size`` inputs of the .npz ``inputs``, as a no-argument call
    that makes a fixed number of images and returns that number (worker.py times it).

    ``mode`` is ``per-sample numpy``, ``per-sample NDArray`` (MXNet's and GluonCV's only kind), ``batch numpy
    128`` or ``batch NDArray 128`` (ours), or one of a task family's modes (``ssd``, ``seg-train``,
    ``simple-pose-train``: ``per-sample boxes`` and the replayed ``... image only``; see those modules).
    """
    data = np.load(inputs)
    if pipeline in ("ssd", "seg-train", "simple-pose-train"):
        key = "det300" if size == "300x300" else "det_cat"
        image = data[key][0]
        if pipeline == "ssd":
            call = detection_calls(library, image, data[key + "_boxes"])[mode]
        elif pipeline == "seg-train":
            call = segmentation_calls(library, image, quadrant_mask(image))[mode]
        else:
            call = pose_calls(library, image)[mode]
        return counted(call, 4)
    images = list(data[INPUTS[size]])
    built = globals()[f"pipelines_{library}"](lambda name: CROP[size])[pipeline]
    kind, variant, *batch_size = mode.split()
    if kind == "batch":
        import mxnet as mx

        n = int(batch_size[0])
        batch = np.stack([images[i % len(images)] for i in range(n)])
        batch = mx.nd.array(batch, dtype="uint8") if variant == "NDArray" else batch
        return counted(lambda: wait(built["batch"](batch)), 1, n)
    fn = built["per-sample"] if isinstance(built, dict) else built
    if variant == "NDArray":
        import mxnet as mx

        images = [mx.nd.array(im, dtype="uint8") for im in images]
    if library == "albumentations":
        call = lambda im: to_tensor_chw(fn(image=im)["image"])  # noqa: E731
    elif library == "imgaug":
        call = lambda im: to_tensor(fn(image=im))  # noqa: E731
    else:
        call = fn
    chunk, state = CHUNK[size], {"i": 0}

    def run():
        out, i = None, state["i"]
        for k in range(chunk):
            out = call(images[(i + k) % len(images)])
        state["i"] = i + chunk
        wait(out)
        return chunk

    return run


def counted(call, calls, items_per_call=1):
    """``call`` made ``calls`` times per run; the run returns the items made."""
    def run():
        for _ in range(calls):
            call()
        return calls * items_per_call

    return run


def wait(out):
    """Block until an NDArray result is computed (MXNet's engine is asynchronous)."""
    for item in out if isinstance(out, (tuple, list)) else (out,):
        if hasattr(item, "wait_to_read"):
            item.wait_to_read()
    return out


def to_tensor_chw(img):
    return np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32)


def version(library):
    module = {"ours": "gluon_augplug", "gluoncv": "gluoncv"}.get(library, library)
    return getattr(__import__(module), "__version__", "?")


def versions(library):
    """The library's version and numpy's, in this environment."""
    return {"version": version(library), "numpy": np.__version__}
