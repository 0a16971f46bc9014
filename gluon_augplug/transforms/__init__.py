"""Built-in transforms (numpy/OpenCV kernels per sample, fused batch paths; MXNet-compatible names and parameters)."""
from .adapter import CallableTransform, as_transform  # noqa: F401 (first: Declared.as_child)
from .autoaugment import AutoAugment, RandAugment, TrivialAugmentWide
from ..randomness import RandomSource
from .base import CHW, HWC, Transform
from .color import (AutoContrast, Equalize, GaussianBlur, Invert, Posterize, RandomBrightness, RandomColorJitter,
                    RandomContrast, RandomGrayscale, RandomHue, RandomLighting, RandomSaturation, Sharpness, Solarize)
from .composition import Compose, OneOf, RandomApply, RandomChoice
from .detection import RandomColorDistort, RandomExpand, RandomInterpolationResize, RandomIoUCrop, ResizeShortWithin
from .erasing import Cutout, RandomErasing
from .mixing import CutMix, Mixup
from .geometric import (CenterCrop, RandomAffine, RandomCrop, RandomFlipLeftRight, RandomFlipTopBottom,
                        RandomResizedCrop, RandomRotation, Resize)
from .sizing import PadIfNeeded, RandomResizeSide
from .tensor import Normalize, ToTensor
from .tracking import MotionBlur, RandomChannelGain, RandomShiftScaleCrop
from .video import MultiScaleCrop, RandomShortSideScale, TenCrop, ThreeCrop
from .warps import BoxWarp, Letterbox, RandomBoxCrop, RandomBoxWarp, RandomCenterWarp, RandomNormalRotation

__all__ = [
    "Transform", "RandomSource", "HWC", "CHW",
    "RandomFlipLeftRight", "RandomFlipTopBottom", "Resize", "CenterCrop", "RandomCrop", "RandomResizedCrop",
    "RandomRotation", "RandomAffine",
    "RandomBrightness", "RandomContrast", "RandomSaturation", "RandomHue", "RandomColorJitter", "RandomLighting",
    "RandomGrayscale", "Invert", "Solarize", "Posterize", "Equalize", "AutoContrast", "Sharpness", "GaussianBlur",
    "ToTensor", "Normalize", "Cutout", "RandomErasing",
    "Compose", "RandomApply", "RandomChoice", "OneOf",
    "RandAugment", "TrivialAugmentWide", "AutoAugment", "Mixup", "CutMix",
    "RandomExpand", "RandomIoUCrop", "RandomColorDistort", "RandomInterpolationResize", "ResizeShortWithin",
    "RandomResizeSide", "PadIfNeeded", "RandomCenterWarp", "Letterbox", "RandomBoxWarp", "BoxWarp",
    "RandomShiftScaleCrop", "MotionBlur", "RandomChannelGain",
    "RandomBoxCrop", "RandomNormalRotation", "MultiScaleCrop", "RandomShortSideScale", "ThreeCrop", "TenCrop",
    "CallableTransform", "as_transform",
]
