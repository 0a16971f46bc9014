"""Offline readers of the two detection layouts users have on disk: Pascal VOC and COCO.

Both give GluonCV's items, ``(image, label)`` with ``label`` an (N, 5+) float32 array
``xmin, ymin, xmax, ymax, class_id[, difficult]`` in pixels, so their output feeds
``augment(dataset, "ssd-train", targets="boxes")`` and GluonCV's ``Stack``/``Pad(pad_val=-1)``
batchify. Malformed files raise :class:`DataFormatError` naming the file and the element.
"""
from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from typing import Any, Callable, Sequence

import numpy as np

from .formats import DataFormatError
from .images import read_image

try:  # a Gluon Dataset when MXNet is there, so that .transform(), DataLoader etc. work as usual
    from mxnet.gluon.data import Dataset as _Base
except ImportError:  # pragma: no cover
    _Base = object

VOC_CLASSES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", "diningtable",
               "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor")


class _Detection(_Base):  # type: ignore[misc,valid-type]
    def __init__(self, transform: Callable[..., Any] | None, as_ndarray: bool):
        self._transform = transform
        self._as_ndarray = as_ndarray

    def _image(self, path: str) -> Any:
        img = read_image(path)
        if self._as_ndarray:
            import mxnet as mx

            return mx.nd.array(img, dtype="uint8")
        return img

    def _item(self, idx: int) -> tuple:
        raise NotImplementedError

    def __getitem__(self, idx: int) -> Any:
        item = self._item(idx)
        return self._transform(*item) if self._transform is not None else item


class VOCDetection(_Detection):
    """Pascal VOC detection from a local folder; never downloads.

    Parameters
    ----------
    root : str
        A VOC folder (``Annotations/``, ``JPEGImages/``, ``ImageSets/Main/``), or GluonCV's layout: a
        folder holding ``VOC2007/``, ``VOC2012/`` (default ``~/.mxnet/datasets/voc``).
    splits : sequence, optional
        Names of ``ImageSets/Main/*.txt`` lists: ``"train"`` in a VOC folder, ``(2007, "trainval")`` in
        GluonCV's layout. Default: ``trainval`` (or else ``train``) of a VOC folder, GluonCV's
        ``((2007, "trainval"), (2012, "trainval"))`` otherwise.
    classes : sequence of str or "auto"
        Class names in id order (VOC's 20 by default); objects of other classes are skipped, as GluonCV
        skips them. ``"auto"``: every name in the annotations, sorted.
    transform : callable, optional
        ``transform(image, label) -> item``, as Gluon datasets take it.
    pixel_offset : float
        Subtracted from every coordinate: VOC numbers pixels from 1, and GluonCV subtracts 1 (default).
    as_ndarray : bool
        Images as ``mx.nd.NDArray`` (GluonCV's type) or numpy arrays; HWC RGB uint8 either way.

    Items are ``(image, label)``, ``label`` (N, 6) float32: xmin, ymin, xmax, ymax, class id, difficult.
    """

    def __init__(self, root: str = os.path.join("~", ".mxnet", "datasets", "voc"), splits: Sequence[Any] | None = None,
                 classes: Sequence[str] | str = VOC_CLASSES, transform: Callable[..., Any] | None = None,
                 pixel_offset: float = 1.0, as_ndarray: bool = True):
        super().__init__(transform, as_ndarray)
        self._root = os.path.expanduser(root)
        if not os.path.isdir(self._root):
            raise FileNotFoundError(f"no VOC data set at {self._root!r}: VOCDetection reads a local copy and never "
                                    f"downloads")
        self._items = [(folder, line) for folder, name in self._splits(splits)
                       for line in _read_list(os.path.join(folder, "ImageSets", "Main", name + ".txt"))]
        parsed = [_parse_voc(os.path.join(folder, "Annotations", item + ".xml")) for folder, item in self._items]
        names = sorted({obj[0] for objects in parsed for obj in objects})
        self.classes = tuple(names) if classes == "auto" else tuple(classes)
        index = {name: i for i, name in enumerate(self.classes)}
        self._labels = []
        for objects in parsed:
            rows = [[*(np.asarray(box) - pixel_offset), index[name], difficult]
                    for name, box, difficult in objects if name in index]
            self._labels.append(np.asarray(rows, np.float32).reshape(-1, 6))

    def _splits(self, splits: Sequence[Any] | None) -> list[tuple[str, str]]:
        flat = os.path.isdir(os.path.join(self._root, "ImageSets", "Main"))
        if splits is None:
            if flat:
                lists = os.path.join(self._root, "ImageSets", "Main")
                return [(self._root, "trainval" if os.path.exists(os.path.join(lists, "trainval.txt")) else "train")]
            splits = ((2007, "trainval"), (2012, "trainval"))
        out = []
        for split in splits:
            if isinstance(split, str):
                out.append((self._root, split))
            else:
                year, name = split
                out.append((os.path.join(self._root, f"VOC{year}"), name))
        for folder, name in out:
            path = os.path.join(folder, "ImageSets", "Main", name + ".txt")
            if not os.path.isfile(path):
                raise FileNotFoundError(f"VOC split list {path!r} does not exist")
        return out

    def __len__(self) -> int:
        return len(self._items)

    def _item(self, idx: int) -> tuple:
        folder, item = self._items[idx]
        return self._image(os.path.join(folder, "JPEGImages", item + ".jpg")), self._labels[idx].copy()

    def __repr__(self) -> str:
        return f"VOCDetection({len(self)} images, {len(self.classes)} classes, from {self._root!r})"


def _read_list(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [line.strip().split()[0] for line in f if line.strip()]


def _parse_voc(path: str) -> list[tuple[str, tuple[float, float, float, float], int]]:
    """The objects of one VOC annotation: (name, (xmin, ymin, xmax, ymax), difficult)."""
    try:
        root = ET.parse(path).getroot()
    except FileNotFoundError:
        raise DataFormatError(f"{path}: the annotation file does not exist") from None
    except ET.ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(": line")[0]  # ElementTree's message ends with the position given here
        raise DataFormatError(f"{path}: malformed XML at line {line}, column {column}: {reason}") from None
    objects = []
    for k, obj in enumerate(root.iter("object")):
        where = f"{path}: <object> {k + 1}"
        name = obj.findtext("name")
        if not name or not name.strip():
            raise DataFormatError(f"{where} has no <name>")
        box = obj.find("bndbox")
        if box is None:
            raise DataFormatError(f"{where} ({name.strip()}) has no <bndbox>")
        values = []
        for tag in ("xmin", "ymin", "xmax", "ymax"):
            text = box.findtext(tag)
            try:
                values.append(float(text))
            except (TypeError, ValueError):
                raise DataFormatError(f"{where} ({name.strip()}): <bndbox><{tag}> is {text!r}, not a number") from None
        if not (values[0] < values[2] and values[1] < values[3]):
            raise DataFormatError(f"{where} ({name.strip()}): <bndbox> {values} has xmax <= xmin or ymax <= ymin")
        try:
            difficult = int(obj.findtext("difficult") or 0)
        except ValueError:
            difficult = 0  # as GluonCV reads a malformed flag
        objects.append((name.strip().lower(), tuple(values), difficult))
    return objects


class COCODetection(_Detection):
    """COCO detection (``instances_*.json`` and its image folder) from local files; never downloads,
    needs no pycocotools.

    Parameters
    ----------
    root : str
        The image folder.
    annotation_file : str
        The ``instances_*.json`` file.
    transform : callable, optional
        ``transform(image, label[, masks]) -> item``.
    masks : bool
        Also give each image's instance masks, (H, W, N) uint8 0/1 aligned with the label's rows,
        decoded from polygons (OpenCV's ``fillPoly``: edges may differ from pycocotools' by a pixel)
        or from run-length encodings (uncompressed and compressed, decoded exactly).
    use_crowd : bool
        Keep ``iscrowd`` objects (GluonCV skips them by default).
    skip_empty : bool
        Leave out images without a usable object (GluonCV's default).
    as_ndarray : bool
        Images as ``mx.nd.NDArray`` or numpy arrays.

    Items are ``(image, label)`` (or ``(image, label, masks)``), ``label`` (N, 5) float32: xmin, ymin,
    xmax, ymax (GluonCV's ``x + w - 1``, clipped to the image), and the category's index among the
    file's categories sorted by id (``classes`` names them).
    """

    def __init__(self, root: str, annotation_file: str, transform: Callable[..., Any] | None = None,
                 masks: bool = False, use_crowd: bool = False, skip_empty: bool = True, as_ndarray: bool = True):
        super().__init__(transform, as_ndarray)
        self._root = os.path.expanduser(root)
        self._masks = masks
        data = _load_json(annotation_file)
        categories = sorted(_field(data, "categories", annotation_file, list), key=lambda c: c.get("id", 0))
        self.classes = tuple(str(c.get("name", c.get("id"))) for c in categories)
        index = {c["id"]: i for i, c in enumerate(categories)}
        images = {}
        for k, image in enumerate(_field(data, "images", annotation_file, list)):
            where = f"{annotation_file}: images[{k}]"
            images[_key(image, "id", where)] = (str(_key(image, "file_name", where)), int(_key(image, "height", where)),
                                                int(_key(image, "width", where)))
        objects: dict[Any, list] = {i: [] for i in images}
        for k, ann in enumerate(_field(data, "annotations", annotation_file, list)):
            where = f"{annotation_file}: annotations[{k}] (id {ann.get('id')})"
            image_id = _key(ann, "image_id", where)
            if image_id not in images:
                raise DataFormatError(f"{where}: image_id {image_id!r} is not in 'images'")
            if ann.get("iscrowd", 0) and not use_crowd:
                continue
            category = _key(ann, "category_id", where)
            if category not in index:
                raise DataFormatError(f"{where}: category_id {category!r} is not in 'categories'")
            bbox = _key(ann, "bbox", where)
            if not (isinstance(bbox, list) and len(bbox) == 4 and all(isinstance(v, (int, float)) for v in bbox)):
                raise DataFormatError(f"{where}: 'bbox' must be [x, y, width, height], got {bbox!r}")
            _, h, w = images[image_id]
            x, y, bw, bh = bbox
            x0, y0 = min(max(x, 0), w - 1), min(max(y, 0), h - 1)
            x1, y1 = min(max(x + max(bw - 1, 0), 0), w - 1), min(max(y + max(bh - 1, 0), 0), h - 1)
            if ann.get("area", bw * bh) <= 0 or x1 <= x0 or y1 <= y0:
                continue  # GluonCV drops degenerate boxes too
            objects[image_id].append(([x0, y0, x1, y1, index[category]], ann.get("segmentation") if masks else None,
                                      where))
        self._items = [(images[i], objects[i]) for i in images if objects[i] or not skip_empty]

    def __len__(self) -> int:
        return len(self._items)

    def _item(self, idx: int) -> tuple:
        (file_name, h, w), objects = self._items[idx]
        image = self._image(os.path.join(self._root, file_name))
        label = np.asarray([o[0] for o in objects], np.float32).reshape(-1, 5)
        if not self._masks:
            return image, label
        masks = np.zeros((h, w, len(objects)), np.uint8)
        for k, (_, segmentation, where) in enumerate(objects):
            masks[:, :, k] = decode_segmentation(segmentation, h, w, where)
        return image, label, masks

    def __repr__(self) -> str:
        return f"COCODetection({len(self)} images, {len(self.classes)} classes, from {self._root!r})"


def read_json(path: str, what: str) -> Any:
    """A JSON file's content; a missing file or malformed JSON is an error naming ``what``, the file and
    the line, column and offset."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} {path!r} does not exist") from None
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno} "
                              f"(offset {exc.pos}): {exc.msg}") from None


def _load_json(path: str) -> dict:
    data = read_json(path, "COCO annotation file")
    if not isinstance(data, dict):
        raise DataFormatError(f"{path}: expected a JSON object with 'images', 'annotations' and 'categories'")
    return data


def _field(data: dict, key: str, path: str, kind: type) -> Any:
    if not isinstance(data.get(key), kind):
        raise DataFormatError(f"{path}: '{key}' is missing or not a {kind.__name__}")
    return data[key]


def _key(obj: Any, key: str, where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise DataFormatError(f"{where} has no '{key}'")
    return obj[key]


def decode_segmentation(segmentation: Any, h: int, w: int, where: str = "segmentation") -> np.ndarray:
    """A COCO segmentation (polygons, uncompressed or compressed RLE) as an (h, w) uint8 0/1 mask."""
    import cv2

    if isinstance(segmentation, list):  # polygons: [[x0, y0, x1, y1, ...], ...]
        mask = np.zeros((h, w), np.uint8)
        for k, polygon in enumerate(segmentation):
            if not isinstance(polygon, list) or len(polygon) < 6 or len(polygon) % 2:
                raise DataFormatError(f"{where}: polygon {k} must list x, y pairs (at least 3 points)")
            points = np.round(np.asarray(polygon, np.float64).reshape(-1, 2)).astype(np.int32)
            cv2.fillPoly(mask, [points], 1)
        return mask
    if isinstance(segmentation, dict) and "counts" in segmentation and "size" in segmentation:
        rh, rw = segmentation["size"]
        if (rh, rw) != (h, w):
            raise DataFormatError(f"{where}: RLE size {[rh, rw]} is not the image's {[h, w]}")
        counts = segmentation["counts"]
        runs = rle_counts(counts, where) if isinstance(counts, str) else [int(c) for c in counts]
        if sum(runs) != h * w:
            raise DataFormatError(f"{where}: RLE runs cover {sum(runs)} pixels, the image has {h * w}")
        flat = np.repeat(np.arange(len(runs)) % 2, runs).astype(np.uint8)
        return flat.reshape((w, h)).T.copy()  # COCO's runs go down the columns
    raise DataFormatError(f"{where}: 'segmentation' must be polygons or an RLE dict with 'counts' and 'size'")


def rle_counts(text: str, where: str = "RLE") -> list[int]:
    """The run lengths of COCO's compressed RLE string (6-bit groups, sign-extended, runs after the
    second stored as differences from the run two before)."""
    counts: list[int] = []
    p = 0
    while p < len(text):
        value, shift, more = 0, 0, True
        while more:
            if p >= len(text):
                raise DataFormatError(f"{where}: compressed RLE ends inside a number (offset {p})")
            c = ord(text[p]) - 48
            if not 0 <= c < 64:
                raise DataFormatError(f"{where}: compressed RLE has an invalid character {text[p]!r} at offset {p}")
            value |= (c & 0x1F) << shift
            more = bool(c & 0x20)
            p += 1
            shift += 5
            if not more and c & 0x10:
                value -= 1 << shift
        if len(counts) > 2:
            value += counts[-2]
        if value < 0:
            raise DataFormatError(f"{where}: compressed RLE gives a negative run at offset {p}")
        counts.append(value)
    return counts
