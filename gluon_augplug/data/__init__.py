"""Data: offline readers of CIFAR-10, image trees, Pascal VOC (detection and segmentation), COCO and video clips
(frame folders, video files), and per-sample seeded augmentation of any data set (images with their boxes and masks too).

Names are imported on first use (MXNet is not imported by ``import gluon_augplug.data``).
"""
from __future__ import annotations

from .._lazy import lazy_names

_LAZY = {
    "CIFAR10": "gluon_augplug.data.cifar",
    "open_dataset": "gluon_augplug.data.datasets",
    "ImageDataset": "gluon_augplug.data.datasets",
    "augment": "gluon_augplug.data.augment",
    "AugmentedDataset": "gluon_augplug.data.augment",
    "VOCDetection": "gluon_augplug.data.detection",
    "COCODetection": "gluon_augplug.data.detection",
    "VOC_CLASSES": "gluon_augplug.data.detection",
    "MixupDetection": "gluon_augplug.data.mixup",
    "WithImScale": "gluon_augplug.data.rcnn",
    "VOCSegmentation": "gluon_augplug.data.segmentation",
    "read_label_png": "gluon_augplug.data.segmentation",
    "ClipDataset": "gluon_augplug.data.clips",
    "clip_layout": "gluon_augplug.data.clips",
    "read_video": "gluon_augplug.data.video",
    "read_frames_folder": "gluon_augplug.data.video",
    "write_video": "gluon_augplug.data.video",
}

__all__ = sorted(_LAZY)


__getattr__ = lazy_names(__name__, _LAZY)
