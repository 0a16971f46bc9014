"""The built-in presets: named pipelines of the chapter, GluonCV's recipes and the policy papers."""
from __future__ import annotations

from .constants import CIFAR10_MEAN, CIFAR10_STD, GLUONCV_CIFAR10_STD, IMAGENET_MEAN, IMAGENET_STD
from .plugins.hookspecs import hookimpl


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
             doc="pad 4 + random 32 crop, flip, ToTensor, Normalize with the training set's true mean and std")
    gluoncv_norm = f"Normalize(mean={CIFAR10_MEAN}, std={GLUONCV_CIFAR10_STD})"
    register("cifar10-gluoncv", f"RandomCrop(32, pad=4), RandomFlipLeftRight, ToTensor, {gluoncv_norm}",
             doc="GluonCV's train_cifar10.py recipe exactly, with its std (0.2023, 0.1994, 0.2010)")
    register("cifar10-gluoncv-test", f"ToTensor, {gluoncv_norm}", doc="GluonCV's CIFAR-10 test transform exactly")
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
    # GluonCV's detection training transforms (image and boxes; chain GluonCV's target generators after them)
    fill = tuple(round(m * 255, 3) for m in IMAGENET_MEAN)
    ssd = ("RandomColorDistort, RandomExpand(fill={fill}), RandomIoUCrop, RandomInterpolationResize({size}), "
           f"RandomFlipLeftRight, ToTensor, {imagenet_norm}")
    for name, size, what in (("ssd-train", 300, "SSDDefaultTrainTransform(300, 300)"),
                             ("ssd-512-train", 512, "SSDDefaultTrainTransform(512, 512)"),
                             ("yolo3-train", 416, "YOLO3DefaultTrainTransform(416, 416)"),
                             ("yolo3-320-train", 320, "YOLO3DefaultTrainTransform(320, 320)"),
                             ("yolo3-608-train", 608, "YOLO3DefaultTrainTransform(608, 608)")):
        register(name, ssd.format(fill=fill, size=size),
                 doc=f"GluonCV's {what} without anchor targets: colour distortion, expand (p 0.5, mean fill), "
                     f"IoU-constrained crop, resize to {size} with a random interpolation, flip, normalize")
    register("ssd-val", f"Resize(300, interpolation=9), ToTensor, {imagenet_norm}",
             doc="GluonCV's SSDDefaultValTransform(300, 300): resize with MXNet's automatic interpolation (area "
                 "to shrink, bicubic to enlarge), normalize")
    for name, size in (("yolo3-val", 416), ("yolo3-320-val", 320), ("yolo3-608-val", 608)):
        register(name, f"Resize({size}, interpolation=9), ToTensor, {imagenet_norm}",
                 doc=f"GluonCV's YOLO3DefaultValTransform({size}, {size}): resize with MXNet's automatic "
                     f"interpolation, normalize; boxes are resized with the image")
    register("faster-rcnn-train", f"ResizeShortWithin(600, max_size=1000), RandomFlipLeftRight, ToTensor, "
             f"{imagenet_norm}", doc="GluonCV's FasterRCNNDefaultTrainTransform(600, 1000) without anchor targets: "
                                     "short side 600 within 1000, flip, normalize")
    register("faster-rcnn-val", f"ResizeShortWithin(600, max_size=1000), ToTensor, {imagenet_norm}",
             doc="GluonCV's FasterRCNNDefaultValTransform(600, 1000) (and Mask R-CNN's): short side 600 within 1000, "
                 "normalize; gluon_augplug.data.WithImScale adds its im_scale")
    register("mask-rcnn-train", f"ResizeShortWithin(600, max_size=1000), RandomFlipLeftRight, ToTensor, "
             f"{imagenet_norm}", doc="GluonCV's MaskRCNNDefaultTrainTransform(600, 1000) without anchor targets: short "
                                     "side 600 within 1000, flip, normalize; its instance masks move with their boxes "
                                     "under targets={'kinds': ['boxes', 'masks'], 'options': {'instance_masks': True}}")
    register("imagenet-test", f"Resize(256, keep_ratio=True), CenterCrop(224), ToTensor, {imagenet_norm}",
             doc="ImageNet evaluation: short side 256, centre 224 crop")


@hookimpl(specname="augplug_register_presets")
def register_video_presets(register):
    """GluonCV's action-recognition transforms (``gluoncv.data.transforms.video``), for clips: every step draws
    once for all the frames. The frame sampling (segments, clip length, step) is the clip data set's."""
    norm = f"Normalize(mean={IMAGENET_MEAN}, std={IMAGENET_STD})"
    tail = f"RandomFlipLeftRight, ToTensor, {norm}"
    tsn = f"MultiScaleCrop(224), {tail}"
    register("tsn-train", tsn, doc="GluonCV's VideoGroupTrainTransform((224, 224), [1, .875, .75, .66]) (data_aug v1, "
                                   "TSN): multi-scale corner crop of 13 points, resize to 224, flip, normalize")
    register("i3d-train", tsn, doc="GluonCV's I3D Kinetics-400 recipe (data_aug v1 on 340x256 frames, 32-frame clips "
                                   "with step 2 from the data set): the same transform as tsn-train")
    register("tsn-train-v2", f"Resize(256, keep_ratio=True), {tsn}",
             doc="GluonCV's VideoGroupTrainTransformV2 (short side 256, then tsn-train's crop; mmaction's style)")
    register("slowfast-train", f"RandomShortSideScale(256, 320), RandomCrop(224), {tail}",
             doc="GluonCV's VideoGroupTrainTransformV3(224, 256, 320) (PySlowFast's): short side jittered in "
                 "[256, 320], random 224 crop, flip, normalize")
    register("video-train-v4", f"RandomResizedCrop(224), {tail}",
             doc="GluonCV's VideoGroupTrainTransformV4 (mmaction's SlowFast recipe): random resized crop to 224, flip")
    register("video-val", f"CenterCrop(224, offset='round'), ToTensor, {norm}",
             doc="GluonCV's VideoGroupValTransform(224): centre 224 crop, normalize")
    register("video-val-v2", f"Resize(256, keep_ratio=True), CenterCrop(224, offset='ceil'), ToTensor, {norm}",
             doc="GluonCV's VideoGroupValTransformV2((224, 224), 256): short side 256, centre crop, normalize")
    register("video-three-crop", f"Resize(224, keep_ratio=True), ThreeCrop(224), ToTensor, {norm}",
             doc="GluonCV's test_recognizer.py --three-crop (3D models, data_aug v2-v4): short side 224, three "
                 "views along the long side (3T frames)")
    register("video-ten-crop", f"TenCrop(224), ToTensor, {norm}",
             doc="GluonCV's test_recognizer.py --ten-crop (data_aug v1): ten views of each frame (10T frames)")


def segmentation_spec(stage: str = "train", base_size: int = 520, crop_size: int = 480, mask_fill: int = 0) -> str:
    """The spec of GluonCV's segmentation transform for any ``base_size`` and ``crop_size`` (what
    ``seg-train``/``seg-val`` are at 520/480): GluonCV's ``--base-size`` and ``--crop-size`` flags.

    Parameters
    ----------
    stage : {"train", "val"}
        ``SegmentationDataset._sync_transform`` (flip, long side in ``[base_size // 2, base_size * 2]``, pad to
        ``crop_size`` at the bottom and right, random crop, blur with p 0.5) or ``_val_sync_transform`` (short side
        ``crop_size``, centre crop), each followed by ToTensor and ImageNet's Normalize.
    base_size, crop_size : int
        GluonCV's meanings, in pixels.
    mask_fill : int
        The label of padded mask pixels: 0 as GluonCV (background), or the ignore label (255 for VOC's void).

    Examples
    --------
    >>> segmentation_spec("val", crop_size=96).split(", ToTensor")[0]
    "Resize(96, keep_ratio=True), CenterCrop(96, offset='round')"
    """
    norm = f"Normalize(mean={IMAGENET_MEAN}, std={IMAGENET_STD})"
    if stage == "val":
        return f"Resize({crop_size}, keep_ratio=True), CenterCrop({crop_size}, offset='round'), ToTensor, {norm}"
    if stage != "train":
        raise ValueError(f"segmentation_spec: stage={stage!r} is invalid; allowed: 'train' or 'val'")
    fill = f", mask_fill={mask_fill}" if mask_fill else ""
    return (f"RandomFlipLeftRight, RandomResizeSide(({base_size // 2}, {base_size * 2})), "
            f"PadIfNeeded({crop_size}, position='top_left'{fill}), RandomCrop({crop_size}, upscale=False), "
            f"RandomApply(GaussianBlur(0, sigma=(0.001, 1)), p=0.5), ToTensor, {norm}")


@hookimpl(specname="augplug_register_presets")
def register_segmentation_presets(register):
    """GluonCV's semantic-segmentation transforms (``SegmentationDataset._sync_transform`` and
    ``_val_sync_transform``, then ``scripts/segmentation/train.py``'s ToTensor and Normalize), for an image and its
    mask: ``pipeline.apply(img, masks=[mask])`` or ``dataset.transform(pipeline)`` on ``(img, mask)`` items."""
    for prefix, base, crop, what in (("seg", 520, 480, "VOC, ADE20K and COCO"), ("seg-citys", 2048, 768, "Cityscapes")):
        register(f"{prefix}-train", segmentation_spec("train", base, crop),
                 doc=f"GluonCV's segmentation training transform with base_size={base}, crop_size={crop} ({what}): "
                     f"flip, long side in [{base // 2}, {base * 2}], pad to {crop} at the bottom and right (image and "
                     f"mask with 0), random {crop} crop, PIL-radius blur with p 0.5, normalize")
        register(f"{prefix}-val", segmentation_spec("val", base, crop),
                 doc=f"GluonCV's segmentation validation transform with crop_size={crop} ({what}): short side {crop}, "
                     f"centre {crop} crop, normalize")


def pose_spec(stage: str = "train", input_size: tuple[int, int] = (256, 192), scale_factor: float = 0.25,
              rotation_factor: float = 30) -> str:
    """The spec of GluonCV's SimplePose transform (SimplePose and MobilePose) for an ``input_size`` of (height,
    width), GluonCV's ``--input-size``: what ``simple-pose-train``/``simple-pose-val`` are at 256x192.

    Parameters
    ----------
    stage : {"train", "val"}
        ``SimplePoseDefaultTrainTransform`` (a flip that swaps the left and right joints, then the window around
        the person's box: margin 1.25, scale factor 0.25, rotation factor 30 with p 0.6) or
        ``SimplePoseDefaultValTransform`` (the window alone), each followed by ToTensor and ImageNet's Normalize.
    input_size : (int, int)
        Height and width of the network's input, in pixels.
    scale_factor, rotation_factor : float
        GluonCV's meanings (the class's defaults; ``train_simple_pose.py`` passes 0.30 and 40).

    Examples
    --------
    >>> pose_spec("val", (128, 96)).split(", ToTensor")[0]
    'BoxWarp((96, 128))'
    """
    height, width = (int(v) for v in input_size)
    norm = f"Normalize(mean={IMAGENET_MEAN}, std={IMAGENET_STD})"
    if stage == "val":
        return f"BoxWarp(({width}, {height})), ToTensor, {norm}"
    if stage != "train":
        raise ValueError(f"pose_spec: stage={stage!r} is invalid; allowed: 'train' or 'val'")
    return (f"RandomFlipLeftRight, RandomBoxWarp(({width}, {height}), margin=1.25, scale_factor={scale_factor}, "
            f"rotation_factor={rotation_factor}, rotation_p=0.6), ToTensor, {norm}")


def alpha_pose_spec(input_size: tuple[int, int] = (256, 192), scale_factor: tuple[float, float] = (0.2, 0.3),
                    rotation_factor: float = 40) -> str:
    """The spec of GluonCV's ``AlphaPoseDefaultTrainTransform`` for an ``input_size`` of (height, width), with
    ``train_alpha_pose.py``'s settings by default: what ``alpha-pose-train`` is.

    Parameters
    ----------
    input_size : (int, int)
        Height and width of the network's input, in pixels (the script's ``--input-size``, 256,192).
    scale_factor : (float, float)
        The range of the box's enlargement, a fraction of its size (``scale_factor``).
    rotation_factor : float
        The angle's standard deviation in degrees, clipped at twice it (the script passes 40; the class's
        default is 30).

    Examples
    --------
    >>> alpha_pose_spec((320, 256), rotation_factor=30).split(", RandomFlipLeftRight")[0]
    'RandomChannelGain((0.7, 1.3)), RandomBoxCrop((256, 320), enlarge=(0.2, 0.3))'
    """
    height, width = (int(v) for v in input_size)
    low, high = (float(v) for v in scale_factor)
    return (f"RandomChannelGain((0.7, 1.3)), RandomBoxCrop(({width}, {height}), enlarge=({low:g}, {high:g})), "
            f"RandomFlipLeftRight, RandomNormalRotation({rotation_factor:g}, limit={2 * rotation_factor:g}, p=0.6), "
            f"ToTensor, Normalize(mean=(0.406, 0.457, 0.48), std=1)")


@hookimpl(specname="augplug_register_presets")
def register_keypoint_presets(register):
    """GluonCV's CenterNet and SimplePose transforms, stopping at image and targets (chain GluonCV's
    ``CenterNetTargetGenerator`` or ``SimplePoseGaussianTargetGenerator`` after them)."""
    norm = f"Normalize(mean={IMAGENET_MEAN}, std={IMAGENET_STD})"
    for size, suffix in ((512, ""), (384, "-384")):
        register(f"center-net{suffix}-train",
                 f"RandomFlipLeftRight, RandomCenterWarp({size}, border=128, scale_factor=0.4), RandomColorJitter("
                 f"brightness=0.4, contrast=0.4, saturation=0.4), RandomLighting(0.1, eigen='coco'), ToTensor, {norm}",
                 doc=f"GluonCV's CenterNetDefaultTrainTransform({size}, {size}) without heatmap targets: flip, a "
                     f"square window of the long side times 1 +- 0.4 (clipped normal) around a random centre warped "
                     f"to {size}, brightness/contrast/saturation 0.4 in random order, COCO's PCA lighting, normalize")
        register(f"center-net{suffix}-val", f"Letterbox({size}), ToTensor, {norm}",
                 doc=f"GluonCV's CenterNetDefaultValTransform({size}, {size}): the image centred in a {size} square "
                     f"(long side to {size}, black around), normalize")
    register("simple-pose-train", pose_spec("train"),
             doc="GluonCV's SimplePoseDefaultTrainTransform at 256x192 without heatmaps: flip (left and right joints "
                 "swapped by the targets' flip_pairs), the person's box with margin 1.25, scale 1 +- 0.25, rotation "
                 "N(0, 30) clipped to +-60 with p 0.6, warped to 192x256, normalize")
    register("alpha-pose-train", alpha_pose_spec(),
             doc="GluonCV's AlphaPoseDefaultTrainTransform as train_alpha_pose.py sets it (256x192, scale (0.2, "
                 "0.3), rotation 40) without heatmaps: per-channel gains in [0.7, 1.3], the person's box enlarged by "
                 "U(0.2, 0.3) and blacked around, fitted to 192x256, flip (joints swapped by flip_pairs), rotation "
                 "N(0, 40) clipped to +-80 with p 0.6, AlphaPose's mean subtracted")
    register("simple-pose-val", pose_spec("val"),
             doc="GluonCV's SimplePoseDefaultValTransform at 256x192: the person's box with margin 1.25 warped to "
                 "192x256, normalize")


def siamrpn_spec(size: int, shift: float, scale: float) -> str:
    """The spec of GluonCV's ``SiamRPNaugmentation(shift, scale, blur=0, flip=0, color=1.0)`` for a crop of
    ``size`` (its tracking data set's settings: no blur, flip or grey).

    >>> siamrpn_spec(255, 64, 0.18)
    "RandomShiftScaleCrop(255, shift=64, scale=0.18), RandomLighting(1.0, eigen='siamrpn')"
    """
    return f"RandomShiftScaleCrop({size}, shift={shift:g}, scale={scale:g}), RandomLighting(1.0, eigen='siamrpn')"


SIAMRPN_SEARCH = siamrpn_spec(255, 64, 0.18)


@hookimpl(specname="augplug_register_presets")
def register_tracking_presets(register):
    """GluonCV's SiamRPN training augmentation (``TrkDataset``'s ``SiamRPNaugmentation`` settings), for the
    template and search crops and the target's box, stopping at image and box (no anchors). pysot blurs the
    search crop with p 0.2 where GluonCV does not: add ``MotionBlur(p=0.2)``."""
    for name, size, shift, scale, what in (("siamrpn-template", 127, 4, 0.05, "template"),
                                           ("siamrpn-search", 255, 64, 0.18, "search region")):
        register(name, siamrpn_spec(size, shift, scale),
                 doc=f"GluonCV's SiamRPN {what} augmentation: the centre {size} window shifted by up to {shift} "
                     f"pixels and each side scaled by up to {scale}, pysot's colour offset")
    register("siamrpn-train", SIAMRPN_SEARCH,
             doc="GluonCV's SiamRPN training augmentation of the search region, whose box the anchors are made from "
                 "(siamrpn-search; the template crop is siamrpn-template)")
