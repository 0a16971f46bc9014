"""Which albumentations classes the adapter offers, under which names, with which ranges and examples.

Every concrete transform class albumentations exports is offered as ``Albu<ClassName>``, unless
:data:`EXCLUDED` says why not; the list is read from the library when the plugin loads, so a
newer 1.x release's new transforms appear without a change here.
"""
from __future__ import annotations

import inspect

PREFIX = "Albu"

EXCLUDED = {
    "BasicTransform": "an abstract base class",
    "DualTransform": "an abstract base class",
    "ImageOnlyTransform": "an abstract base class",
    "BasicIAATransform": "an abstract base class",
    "DualIAATransform": "an abstract base class",
    "ImageOnlyIAATransform": "an abstract base class",
    "Lambda": "takes Python functions, which a spec cannot name",
    "FDA": "needs reference images and a reader function",
    "HistogramMatching": "needs reference images and a reader function",
    "PixelDistributionAdaptation": "needs reference images and a reader function",
    "TemplateTransform": "needs template images",
    "RandomCropNearBBox": "needs a caller-supplied cropping box in the call, which pipelines do not pass",
    "Normalize": "changes the value convention to normalized floats: use the built-in Normalize after ToTensor",
    "ToFloat": "changes the value convention to 0-1 floats (gluon_augplug keeps 0-255 until ToTensor)",
    "FromFloat": "changes the value convention (0-1 floats to integers)",
    "ToRGB": "turns one channel into three (gluon_augplug transforms keep the channel count)",
    "Cutout": "deprecated by albumentations (use AlbuCoarseDropout)",
    "JpegCompression": "deprecated by albumentations (use AlbuImageCompression)",
    "RandomBrightness": "deprecated by albumentations (use AlbuRandomBrightnessContrast)",
    "RandomContrast": "deprecated by albumentations (use AlbuRandomBrightnessContrast)",
}
DEPRECATED_WRAPPERS = "IAA"  # albumentations' own imgaug wrappers: deprecated; gluon-augplug-imgaug wraps imgaug

# (lo, hi, integer) of parameters whose bounds albumentations 1.3 documents; the others are checked by kind
RANGES = {
    "quality_lower": (0, 100, True), "quality_upper": (0, 100, True), "num_bits": (0, 8, True),
    "blur_limit": (0, None, True), "sigma_limit": (0, None, False), "sigmaX_limit": (0, None, False),
    "sigmaY_limit": (0, None, False), "var_limit": (0, None, False), "clip_limit": (0, None, False),
    "tile_grid_size": (1, None, True), "height": (1, None, True), "width": (1, None, True),
    "min_height": (1, None, True), "min_width": (1, None, True), "max_size": (1, None, True),
    "brightness": (0, None, False), "contrast": (0, None, False), "saturation": (0, None, False),
    "hue": (-0.5, 0.5, False), "gamma_limit": (0, None, False), "rotate_limit": (-360, 360, False),
    "limit": (-360, 360, False), "shift_limit": (-1, 1, False), "shift_limit_x": (-1, 1, False),
    "shift_limit_y": (-1, 1, False), "alpha": (0, None, False), "sigma": (0, None, False),
    "max_holes": (0, None, True), "min_holes": (0, None, True), "num_holes": (0, None, True),
    "p_replace": (0, 1, False), "threshold": (0, 255, False), "channel_drop_range": (1, None, True),
    "dropout_prob": (0, 1, False), "fog_coef_lower": (0, 1, False), "fog_coef_upper": (0, 1, False),
    "alpha_coef": (0, 1, False), "scale_min": (0, 1, False), "scale_max": (0, 1, False),
    "n_segments": (1, None, True), "max_factor": (1, None, False), "step_factor": (0, None, False),
    "radius": (0, None, False), "alias_blur": (0, None, False), "intensity": (0, None, False),
    "color_shift": (0, None, False), "multiplier": (0, None, False), "cutoff": (0, None, False),
    "nb_rows": (1, None, True), "nb_cols": (1, None, True), "grid": (1, None, True),
    "number_of_patches": (1, None, True), "iterations": (1, None, True), "num_steps": (1, None, True),
    "erosion_rate": (0, 1, False), "max_objects": (1, None, True),
}

# parameters that build a typical instance (the harness, listings and the gallery use them): required
# parameters, and defaults meant for large photos (PadIfNeeded pads to 1024x1024) scaled to CIFAR's 32x32
EXAMPLES = {
    "CenterCrop": {"height": 24, "width": 24},
    "RandomCrop": {"height": 24, "width": 24},
    "CropNonEmptyMaskIfExists": {"height": 24, "width": 24},
    "Crop": {"x_min": 2, "y_min": 2, "x_max": 26, "y_max": 30},
    "CropAndPad": {"percent": (-0.1, 0.1)},
    "Resize": {"height": 48, "width": 48},
    "RandomResizedCrop": {"height": 48, "width": 48},
    "RandomSizedCrop": {"min_max_height": (16, 32), "height": 48, "width": 48},
    "RandomSizedBBoxSafeCrop": {"height": 48, "width": 48},
    "PadIfNeeded": {"min_height": 64, "min_width": 64},
    "LongestMaxSize": {"max_size": 64},
    "SmallestMaxSize": {"max_size": 64},
    "Downscale": {"interpolation": 1},
    "HorizontalFlip": {"p": 0.5},
    # a constant border: the default reflection copies the picture's objects into the border, where the
    # harness (and a reader of the gallery) would take the copies for the object itself
    "Rotate": {"limit": 30, "border_mode": 0, "p": 1.0},
    "SafeRotate": {"limit": 30, "border_mode": 0, "p": 1.0},
    "ShiftScaleRotate": {"border_mode": 0, "p": 1.0},
}

# classes that move a box by painting it into a mask and reading it back: a box must lie inside the image (the
# unclipped copy that min_visibility measures against is clipped for them)
BOXES_BY_MASK = frozenset({"ElasticTransform", "GridDistortion", "OpticalDistortion"})
# classes that keep the keypoints outside their holes through a set(): the order comes back shuffled (and equal
# points merged), so each point goes through alone
KEYPOINTS_AS_A_SET = frozenset({"CoarseDropout"})
# classes that move keypoints but cannot move a polygon: why (its vertices must all come back, in order, and the
# outline must stay whole)
CANNOT_MOVE_POLYGONS = {
    "CoarseDropout": "it removes the points under its holes, and a polygon cannot lose a vertex",
    "RandomGridShuffle": "it shuffles the image's tiles, which tears an outline apart",
}
# scalar OpenCV codes (a sequence would fail at the first image, in OpenCV)
CODES = {"interpolation": (0, 1, 2, 3, 4), "mask_interpolation": (0, 1, 2, 3, 4), "border_mode": (0, 1, 2, 3, 4)}

# classes whose draws depend on the boxes or the mask alone (without them they always do the same),
# and a class that never changes anything
NOT_RANDOM = frozenset({"BBoxSafeRandomCrop", "RandomSizedBBoxSafeCrop", "MaskDropout", "NoOp"})
# classes random only when this parameter lists several choices
RANDOM_WHEN_CHOICES = {"LongestMaxSize": "max_size", "SmallestMaxSize": "max_size"}


def library_classes() -> dict[str, type]:
    """``{albumentations class name: class}`` of every class the adapter offers."""
    import albumentations
    from albumentations.core.transforms_interface import BasicTransform

    found = {}
    for name, cls in inspect.getmembers(albumentations, inspect.isclass):
        if not issubclass(cls, BasicTransform) or name in EXCLUDED or name.startswith(DEPRECATED_WRAPPERS):
            continue
        if getattr(cls, "__module__", "").startswith("albumentations.core.composition"):
            continue
        found[name] = cls
    return found


def excluded() -> dict[str, str]:
    """``{class name: why it is not offered}`` for every transform class albumentations exports but the adapter skips."""
    import albumentations
    from albumentations.core.transforms_interface import BasicTransform

    out = {}
    for name, cls in inspect.getmembers(albumentations, inspect.isclass):
        if issubclass(cls, BasicTransform) and name not in library_classes():
            out[name] = EXCLUDED.get(name) or "albumentations' deprecated imgaug wrapper (gluon-augplug-imgaug wraps imgaug)"
    return out
