"""The semantic-segmentation rows: GluonCV's seg-train recipe on an image and its mask, per sample.

Loaded in each library's worker process through anchors.workload (ours, GluonCV's ``SegmentationDataset._sync_transform``,
albumentations 2.0.8's closest pipeline); bench.py pairs them and checks the targets.
"""

def quadrant_mask(image):
    """A label map of the image's size: the quadrants 1-4 (uint8)."""
    import numpy as np

    h, w = image.shape[:2]
    mask = np.ones((h, w), np.uint8)
    mask[:, w // 2:] += 1
    mask[h // 2:] += 2
    return mask


def segmentation_calls(library, image, mask):
    """seg-train (base 520, crop 480) on one image and its mask, as each library writes it."""
    import numpy as np

    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    if library == "ours":
        from gluon_augplug import build_pipeline

        pipe = build_pipeline("seg-train", seed=0)
        # the mask's own cost: the same recorded draws replayed with and without it
        records = [pipe.apply(image, masks=[mask]).record for _ in range(16)]
        cycle = iter(range(10**9))
        return {"per-sample mask": lambda: pipe(image, mask),
                "per-sample replay mask": lambda: pipe.replay(image, records[next(cycle) % 16], masks=[mask]),
                "per-sample replay image only": lambda: pipe.replay(image, records[next(cycle) % 16])}
    if library == "gluoncv":
        import tempfile

        from gluoncv.data.segbase import SegmentationDataset
        from mxnet.gluon.data.vision import transforms
        from PIL import Image

        norm = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])
        dataset = SegmentationDataset(tempfile.gettempdir(), "train", "train", norm, base_size=520, crop_size=480)
        pil_image, pil_mask = Image.fromarray(image), Image.fromarray(mask)  # GluonCV's readers give PIL images

        def call():
            img, target = dataset._sync_transform(pil_image, pil_mask)
            return dataset.transform(img).wait_to_read(), target.wait_to_read()

        return {"per-sample mask": call}
    if library == "albumentations":
        import albumentations as A
        import cv2

        # the closest albumentations 2.0.8 recipe: flip, the long side drawn from [260, 1040], pad to 480 at the
        # bottom and right, a 480 crop, blur sized from sigma with p 0.5, normalize; the mask through its targets
        pipe = A.Compose([A.HorizontalFlip(p=0.5), A.LongestMaxSize(max_size=list(range(260, 1041))),
                          A.PadIfNeeded(480, 480, position="top_left", border_mode=cv2.BORDER_CONSTANT, fill=0,
                                        fill_mask=0),
                          A.RandomCrop(480, 480), A.GaussianBlur(blur_limit=0, sigma_limit=(0.001, 1.0), p=0.5),
                          A.Normalize(mean, std, max_pixel_value=255)])

        def call():
            out = pipe(image=image, mask=mask)
            return np.ascontiguousarray(out["image"].transpose(2, 0, 1), dtype=np.float32), out["mask"]

        return {"per-sample mask": call}
    return {}
