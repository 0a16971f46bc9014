"""TSN's clip augmentation: ours against GluonCV's VideoGroupTrainTransform and albumentations 2.0.8 (``images=``),
and our clip path against 32 single-image calls and a batch of 8 clips, on one real clip (the cat at GluonCV's
340x256 frame size, panned 4 pixels a frame, 32 frames): workloads for worker.py, each library in its own
environment (bench.py pairs them).
"""
from pathlib import Path

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
TSN = f"MultiScaleCrop(224), RandomFlipLeftRight, ToTensor, Normalize(mean={list(MEAN)}, std={list(STD)})"


def make_clip(path: Path, shared: Path) -> None:
    import cv2
    import numpy as np

    cat = cv2.cvtColor(cv2.imread(str(shared / "cat1.jpg")), cv2.COLOR_BGR2RGB)
    base = cv2.resize(cat, (340 + 4 * 31, 256), interpolation=cv2.INTER_AREA)
    np.save(path, np.stack([base[:, 4 * t:4 * t + 340] for t in range(32)]))


def calls(row: str, clip):
    """The function that augments ``clip`` once the way ``row`` does."""
    import numpy as np

    if row.startswith("ours"):
        from gluon_augplug import build_pipeline

        pipe = build_pipeline(TSN, seed=0)
        if row == "ours clip":
            return lambda: pipe(clip), 1
        if row == "ours 32 single calls":
            frames = list(clip)
            return (lambda: [pipe(f) for f in frames]), 1
        if row == "ours 8 clips stacked":  # what a DataLoader's batchify makes of 8 clips augmented one by one
            return (lambda: np.stack([pipe(clip) for _ in range(8)])), 8
        from gluon_augplug.batch import build_batch_pipeline

        batch = build_batch_pipeline(TSN.replace(", ToTensor", ""), seed=0)
        clips = np.stack([clip] * 8)
        return (lambda: batch(clips, clip_layout="BTCHW")), 8
    if row == "gluoncv":
        from gluoncv.data.transforms.video import VideoGroupTrainTransform

        transform = VideoGroupTrainTransform((224, 224), [1.0, 0.875, 0.75, 0.66], MEAN, STD)
        frames = list(clip)
        return (lambda: np.stack(transform(frames))), 1
    import albumentations as A  # the closest pipeline: no corner-grid crop, a random resized crop of TSN's scales

    compose = A.Compose([A.RandomResizedCrop(size=(224, 224), scale=(0.66 ** 2, 1.0), ratio=(0.75, 1.333)),
                         A.HorizontalFlip(), A.Normalize(mean=MEAN, std=STD)])
    return (lambda: np.ascontiguousarray(compose(images=clip)["images"].transpose(0, 3, 1, 2))), 1


def workload(row: str, clip: str):
    """``row``'s augmentation of the clip saved at ``clip`` (.npy), as a call that returns the clips it made
    (worker.py times it)."""
    import numpy as np

    fn, clips = calls(row, np.load(clip))

    def run():
        fn()
        return clips

    return run
