"""The pose rows: GluonCV's simple-pose-train recipe (SimplePose, MobilePose) on the VOC cat as the person, with
its box and COCO's 17 joints, per sample, stopping at image and targets (GluonCV's heatmaps left out of its own
time, so that the three libraries do the same work).

Loaded in each library's worker process through anchors.workload (ours, GluonCV's ``SimplePoseDefaultTrainTransform``,
albumentations 2.0.8's closest pipeline); bench.py pairs them and checks the targets.
"""
BOX = (35.0, 88.0, 470.0, 318.0)  # the cat
FLIP_PAIRS = ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16))  # COCO's joint_pairs


def cat_joints():
    """17 joints spread over the cat's box (joints_3d, all visible)."""
    import numpy as np

    rng = np.random.default_rng(0)
    joints = np.zeros((17, 3, 2), np.float32)
    joints[:, 0, 0] = rng.uniform(BOX[0], BOX[2], 17)
    joints[:, 1, 0] = rng.uniform(BOX[1], BOX[3], 17)
    joints[:, :2, 1] = 1
    return joints


def pose_calls(library, image):
    """simple-pose-train (256x192) on one image, its person box and 17 joints, as each library writes it."""
    import numpy as np

    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    joints = cat_joints()
    if library == "ours":
        from gluon_augplug import build_pipeline

        pipe = build_pipeline("simple-pose-train", seed=0, targets={"kinds": ["boxes", "keypoints"],
                                                                    "options": {"flip_pairs": FLIP_PAIRS}})
        label = {"bbox": BOX, "joints_3d": joints}
        # the targets' own cost: the same recorded draws replayed with and without the box and joints
        boxes = np.array([BOX]) + 0.5
        points = np.concatenate([joints[:, :, 0], joints[:, :, 1]], axis=1) + [0.5, 0.5, 0, 0, 0, 0]
        records = [pipe.apply(image, boxes=boxes, keypoints=points).record for _ in range(16)]
        cycle = iter(range(10**9))
        return {"per-sample joints": lambda: pipe(image, label, 0),
                "per-sample replay joints": lambda: pipe.replay(image, records[next(cycle) % 16], boxes=boxes,
                                                                keypoints=points),
                "per-sample replay image only": lambda: pipe.replay(image, records[next(cycle) % 16])}
    if library == "gluoncv":
        import mxnet as mx
        from gluoncv.data.transforms.presets.simple_pose import SimplePoseDefaultTrainTransform

        transform = SimplePoseDefaultTrainTransform(17, [list(p) for p in FLIP_PAIRS], image_size=(256, 192),
                                                    heatmap_size=(64, 48), mean=mean, std=std)
        transform._internal_target_generator = lambda moved: (moved, None)  # stop at the moved joints
        src = mx.nd.array(image, dtype="uint8")  # GluonCV's COCOKeyPoints reads uint8 NDArrays

        def call():
            img, moved, _, _ = transform(src, {"bbox": BOX, "joints_3d": joints.copy()}, 0)
            return img.wait_to_read(), moved

        return {"per-sample joints": call}
    if library == "albumentations":
        import albumentations as A

        # the closest albumentations 2.0.8 recipe: flip (with the joints' left/right swap), the box's window with
        # GluonCV's margin as a crop, resize to 256x192, scale 1 +- 0.25 and rotation +-60 with p 0.6, normalize
        x0, y0, x1, y1 = BOX
        cx, cy, w = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) * 1.25
        h = w * 256 / 192
        crop = [int(max(cx - w / 2, 0)), int(max(cy - h / 2, 0)), int(min(cx + w / 2, image.shape[1])),
                int(min(cy + h / 2, image.shape[0]))]
        pipe = A.Compose([A.HorizontalFlip(p=0.5), A.Crop(*crop), A.Resize(256, 192),
                          A.Affine(scale=(0.75, 1.25), rotate=(-60, 60), p=0.6), A.Normalize(mean, std)],
                         keypoint_params=A.KeypointParams(format="xy", remove_invisible=False, label_fields=["ids"]),
                         bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]))
        points, ids = joints[:, :2, 0].copy(), list(range(17))
        swap = {a: b for pair in FLIP_PAIRS for a, b in (pair, pair[::-1])}

        def call():
            out = pipe(image=image, keypoints=points, ids=ids, bboxes=[BOX], labels=[0])
            flipped = out["ids"]  # albumentations keeps the ids: the swap is the caller's
            return (np.ascontiguousarray(out["image"].transpose(2, 0, 1), dtype=np.float32), out["keypoints"],
                    [swap.get(i, i) for i in flipped])

        return {"per-sample joints": call}
    return {}
