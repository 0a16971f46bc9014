"""An offline reader of Pascal VOC's semantic-segmentation layout (``SegmentationClass/`` PNGs of class ids).

Items are ``(image, mask)``: the RGB image and an (H, W) ``uint8`` label map of the same size, 255 marking
VOC's "void" border, so ``dataset.transform(build_pipeline("seg-train"))`` or
``augment(dataset, "seg-train", targets="masks")`` moves both. Malformed files raise
:class:`DataFormatError` naming the file and what is wrong.
"""
from __future__ import annotations

import io
import os
import warnings
from typing import Any, Callable

import numpy as np

from .detection import _Detection, _read_list
from ..io.formats import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, DataFormatError, read_bounded

VOC_SEGMENTATION_CLASSES = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor")
VOID_LABEL = 255


def read_label_png(path: str) -> np.ndarray:
    """Read a label map: a palette (``P``) or grey (``L``) image whose pixel values are class ids.

    Returns an (H, W) ``uint8`` array. A colour image (the palette's colours, not the ids), another mode, a
    truncated or oversized file raises :class:`DataFormatError` naming the file.
    """
    from PIL import Image

    data = read_bounded(path, MAX_IMAGE_BYTES, "label map")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.width * img.height > MAX_IMAGE_PIXELS:
                    raise DataFormatError(f"{path}: a {img.width}x{img.height} label map is larger than the limit "
                                          f"of {MAX_IMAGE_PIXELS:,} pixels")
                if img.mode not in ("P", "L"):
                    raise DataFormatError(f"{path}: a label map in mode {img.mode!r}; class ids are read from a "
                                          f"palette ('P') or grey ('L') image (a colour PNG holds the palette's "
                                          f"colours, not the ids)")
                return np.array(img, dtype=np.uint8)
    except DataFormatError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise DataFormatError(f"{path}: not a readable label map ({exc})") from None


class VOCSegmentation(_Detection):
    """Pascal VOC semantic segmentation from a local folder; never downloads.

    Items are ``(image, mask)``, the mask (H, W) ``uint8`` class ids in ``0..20`` and 255 on VOC's void border
    (GluonCV turns 255 into -1 after its transform, for ``MixSoftmaxCrossEntropyLoss(ignore_label=-1)``).

    Parameters
    ----------
    root : str
        A VOC folder (``JPEGImages/``, ``SegmentationClass/``, ``ImageSets/Segmentation/``), or GluonCV's layout:
        a folder holding ``VOC2012/`` (default ``~/.mxnet/datasets/voc``).
    split : str
        The name of an ``ImageSets/Segmentation/*.txt`` list, read as named: ``"train"``, ``"val"``,
        ``"trainval"``. (GluonCV's ``VOCSegmentation(split='train')`` reads ``trainval.txt``.)
    transform : callable, optional
        ``transform(image, mask) -> item``, as Gluon datasets take it.
    as_ndarray : bool
        Images as ``mx.nd.NDArray`` or numpy arrays (HWC RGB uint8 either way); masks are numpy ``uint8``.
    """

    classes = VOC_SEGMENTATION_CLASSES

    def __init__(self, root: str = os.path.join("~", ".mxnet", "datasets", "voc"), split: str = "train",
                 transform: Callable[..., Any] | None = None, as_ndarray: bool = True):
        super().__init__(transform, as_ndarray)
        self._root = os.path.expanduser(root)
        if not os.path.isdir(os.path.join(self._root, "ImageSets", "Segmentation")) and \
                os.path.isdir(os.path.join(self._root, "VOC2012")):
            self._root = os.path.join(self._root, "VOC2012")
        if not os.path.isdir(self._root):
            raise FileNotFoundError(f"no VOC data set at {self._root!r}: VOCSegmentation reads a local copy and "
                                    f"never downloads")
        lists = os.path.join(self._root, "ImageSets", "Segmentation")
        path = os.path.join(lists, f"{split}.txt")
        if not os.path.isfile(path):
            have = sorted(n[:-4] for n in os.listdir(lists) if n.endswith(".txt")) if os.path.isdir(lists) else []
            raise FileNotFoundError(f"VOC segmentation list {path!r} does not exist"
                                    + (f" (lists there: {', '.join(have)})" if have else ""))
        self._ids = _read_list(path)
        for item in self._ids:
            for sub, ext in (("JPEGImages", ".jpg"), ("SegmentationClass", ".png")):
                if not os.path.isfile(os.path.join(self._root, sub, item + ext)):
                    raise FileNotFoundError(f"{path} lists {item!r} but {os.path.join(self._root, sub, item + ext)!r}"
                                            f" does not exist")

    def __len__(self) -> int:
        return len(self._ids)

    def _item(self, idx: int) -> tuple:
        item = self._ids[idx]
        img = self._image(os.path.join(self._root, "JPEGImages", item + ".jpg"))
        mask_path = os.path.join(self._root, "SegmentationClass", item + ".png")
        mask = read_label_png(mask_path)
        if tuple(mask.shape) != tuple(img.shape[:2]):
            raise DataFormatError(f"{mask_path}: a {mask.shape[1]}x{mask.shape[0]} label map for a "
                                  f"{img.shape[1]}x{img.shape[0]} image (width x height); they must be the same size")
        return img, mask

    def __repr__(self) -> str:
        return f"VOCSegmentation({len(self)} images, {len(self.classes)} classes, from {self._root!r})"
