"""Which imgaug augmenters the adapter offers, under which names, with which ranges and examples.

Every augmenter class ``imgaug.augmenters`` exports is offered as ``Iaa<ClassName>``, unless it
wraps other augmenters (gluon_augplug's ``Compose``, ``RandomApply`` and ``RandomChoice`` do that
around ``Iaa`` steps) or :data:`EXCLUDED` says why not. The list is read from the library when the
plugin loads.
"""
from __future__ import annotations

import inspect

PREFIX = "Iaa"

# parameters through which an augmenter wraps other augmenters or Python functions
CONTAINER_PARAMETERS = frozenset({"children", "then_list", "else_list", "foreground", "background"})
EXCLUDED = {
    "Augmenter": "an abstract base class",
    "Lambda": "takes Python functions, which a spec cannot name",
    "AssertLambda": "takes Python functions, which a spec cannot name",
    "AssertShape": "a debugging assertion, not an augmentation",
    "SaveDebugImageEveryNBatches": "writes debug images to disk, not an augmentation",
    "ClipCBAsToImagePlanes": "works on boxes and keypoints only",
    "RemoveCBAsByOutOfImageFraction": "works on boxes and keypoints only",
    "Noop": "a deprecated alias of Identity",
    "AffineCv2": "deprecated by imgaug (use IaaAffine(backend='cv2'))",
    "Convolve": "takes a kernel matrix or a function",
    "Voronoi": "takes a point-sampler object (UniformVoronoi and RegularGridVoronoi cover it)",
    "ReplaceElementwise": "takes a mask parameter object (Dropout, Salt and Pepper cover it)",
    "ChangeColorspace": "converts the picture's colour space (a building block of WithColorspace)",
    "CloudLayer": "a building block of Clouds",
    "RainLayer": "a building block of Rain",
    "SnowflakesLayer": "a building block of Snowflakes",
}
SKIPPED_PARAMETERS = ("seed", "name", "random_state", "deterministic", "polygon_recoverer")

# (lo, hi, integer) of parameters whose bounds imgaug 0.4 documents (each number of a range or list)
RANGES = {
    "p": (0, 1, False), "per_channel": (0, 1, False), "sigma": (0, None, False),
    "nb_rows": (1, None, True), "nb_cols": (1, None, True), "alpha": (0, None, False), "scale": (0, None, False),
    "rotate": (-360, 360, False), "order": (0, 5, True), "cval": (0, 255, False), "n_segments": (1, None, True),
    "p_replace": (0, 1, False), "cutoff": (0, 1, False), "compression": (0, 100, False), "nb_bits": (1, 8, True),
    "n_colors": (2, None, True), "kelvin": (1000, 40000, False), "lam": (0, None, False),
    "size_percent": (0, 1, False), "size_px": (1, None, True), "kernel_size": (1, None, True),
    "d": (1, None, True), "width": (1, None, True), "height": (1, None, True), "aspect_ratio": (0, None, False),
    "width_multiple": (1, None, True), "height_multiple": (1, None, True), "width_base": (2, None, True),
    "height_base": (2, None, True), "max_steps": (0, None, True), "gamma": (0, None, False),
    "nb_iterations": (0, None, True), "clip_limit": (0, None, False), "n": (0, None, True), "m": (0, 30, True),
    "pad_cval": (0, 255, False), "n_points": (1, None, True), "p_drop_points": (0, 1, False),
}

# parameters that build a typical, visibly random instance (the harness, listings and the gallery use them):
# required parameters, and defaults that do nothing (imgaug's Fliplr flips with p=0 by default)
EXAMPLES = {
    "Fliplr": {"p": 0.5}, "Flipud": {"p": 0.5},
    "Affine": {"rotate": (-25, 25), "scale": (0.8, 1.2)},
    "BilateralBlur": {"d": (3, 9)},
    "GaussianBlur": {"sigma": (0.5, 3.0)},
    "Superpixels": {"p_replace": (0.1, 1.0), "n_segments": (16, 128)},
    "Resize": {"size": 48},
    "CenterCropToAspectRatio": {"aspect_ratio": 1.0}, "CropToAspectRatio": {"aspect_ratio": 1.0},
    "CenterPadToAspectRatio": {"aspect_ratio": 1.0}, "PadToAspectRatio": {"aspect_ratio": 1.0},
    "CenterCropToFixedSize": {"width": 24, "height": 24}, "CropToFixedSize": {"width": 24, "height": 24},
    "CenterPadToFixedSize": {"width": 40, "height": 40}, "PadToFixedSize": {"width": 40, "height": 40},
    "CenterCropToMultiplesOf": {"width_multiple": 7, "height_multiple": 7},
    "CropToMultiplesOf": {"width_multiple": 7, "height_multiple": 7},
    "CenterPadToMultiplesOf": {"width_multiple": 7, "height_multiple": 7},
    "PadToMultiplesOf": {"width_multiple": 7, "height_multiple": 7},
    "CenterCropToPowersOf": {"width_base": 3, "height_base": 3}, "CropToPowersOf": {"width_base": 3, "height_base": 3},
    "CenterPadToPowersOf": {"width_base": 3, "height_base": 3}, "PadToPowersOf": {"width_base": 3, "height_base": 3},
    "Dropout2d": {"p": 0.5},
    # the defaults work on the whole 500x400 photo for up to a second a call; these look alike, 5-15x faster
    "MeanShiftBlur": {"spatial_radius": (3.0, 6.0), "color_radius": (3.0, 6.0)},
    "RelativeRegularGridVoronoi": {"max_size": 128},
    "RegularGridVoronoi": {"max_size": 128},
    "UniformVoronoi": {"max_size": 128},
    "Cartoon": {"segmentation_size": (0.5, 1.0)},
}

# augmenters that move pixels (their boxes, masks and keypoints move with them); the others change values only
GEOMETRIC_MODULES = frozenset({"geometric", "flip", "size", "collections"})
GEOMETRIC = frozenset({"AveragePooling", "MaxPooling", "MedianPooling", "MinPooling"})  # keep_size=False shrinks


# targets imgaug 0.4 refuses for an augmenter (it raises when asked)
CANNOT_MOVE = {
    "Jigsaw": ("boxes", "polygons"),  # its tiles move points, but tear an outline apart
    "RandAugment": ("boxes", "masks", "keypoints"),  # its PIL-like affine steps take images only
}


# parameters an augmenter ignores while another one is None (Invert's direction without a threshold)
UNUSED_WHEN_NONE = {"Invert": {"invert_above_threshold": "threshold"}}


def library_classes() -> dict[str, type]:
    """``{imgaug class name: class}`` of every augmenter the adapter offers."""
    import imgaug.augmenters as iaa

    found = {}
    for name, cls in inspect.getmembers(iaa, inspect.isclass):
        if not issubclass(cls, iaa.Augmenter) or name in EXCLUDED or inspect.isabstract(cls):
            continue
        if CONTAINER_PARAMETERS & set(inspect.signature(cls).parameters):
            continue
        found[name] = cls
    return found


def excluded() -> dict[str, str]:
    """``{class name: why it is not offered}`` for every augmenter class imgaug exports but the adapter skips."""
    import imgaug.augmenters as iaa

    offered = library_classes()
    return {name: EXCLUDED.get(name, "wraps other imgaug augmenters: use Compose, RandomApply or RandomChoice "
                                    "around Iaa steps")
            for name, cls in inspect.getmembers(iaa, inspect.isclass)
            if issubclass(cls, iaa.Augmenter) and name not in offered}


def moves_pixels(name: str, cls: type) -> bool:
    return name in GEOMETRIC or cls.__module__.rsplit(".", 1)[-1] in GEOMETRIC_MODULES
