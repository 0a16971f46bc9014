"""Offline readers of the two detection layouts users have on disk: Pascal VOC and COCO.

Both give GluonCV's items, ``(image, label)`` with ``label`` an (N, 5+) float32 array
``xmin, ymin, xmax, ymax, class_id[, difficult]`` in pixels, so their output feeds
``augment(dataset, "ssd-train", targets="boxes")`` and GluonCV's ``Stack``/``Pad(pad_val=-1)``
batchify. Malformed files raise :class:`DataFormatError` naming the file and the element.
"""
from __future__ import annotations

import json
import math
import os
import xml.etree.ElementTree as ET
from typing import Any, Callable, Sequence

import numpy as np

from .. import _files
from .._optional import require_mxnet
from ..io.formats import MAX_IMAGE_PIXELS, DataFormatError
from ..io.images import read_image

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
            mx = require_mxnet(f"{type(self).__name__}(as_ndarray=True) (pass as_ndarray=False for numpy images)")

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


MAX_OBJECTS = 100_000  # boxes of one image (targets.formats.MAX_BOXES)
MAX_XML_BYTES = 16 * 2**20  # a VOC annotation is a few kB; this bounds the parse to well under a second
MAX_LIST_BYTES = 64 * 2**20
MAX_JSON_BYTES = 2**30  # COCO's instances_train2017.json is 448 MB


def _read_list(path: str) -> list[str]:
    text = _files.read_text_bounded(path, MAX_LIST_BYTES, "VOC split list", DataFormatError)
    ids = [line.strip().split()[0] for line in text.splitlines() if line.strip()]
    for number, item in enumerate(ids, 1):
        if "/" in item or "\\" in item or item in (".", ".."):  # an id names files inside the VOC folder
            raise DataFormatError(f"{path}: line {number}: {item[:60]!r} is not a VOC image id (a path?)")
    return ids


def _parse_voc(path: str) -> list[tuple[str, tuple[float, float, float, float], int]]:
    """The objects of one VOC annotation: (name, (xmin, ymin, xmax, ymax), difficult)."""
    if not os.path.lexists(path):
        raise DataFormatError(f"{path}: the annotation file does not exist")
    data = _files.read_bounded(path, MAX_XML_BYTES, "VOC annotation", DataFormatError)
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data:  # VOC needs neither: no entity tricks to parse
        raise DataFormatError(f"{path}: a DOCTYPE or ENTITY declaration, which no VOC annotation has: not parsed")
    try:
        root = ET.fromstring(data)
    except (LookupError, UnicodeError, ValueError) as exc:  # an XML declaration naming an unknown or odd encoding
        raise DataFormatError(f"{path}: its declared encoding cannot be read ({exc})") from None
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
                if not math.isfinite(values[-1]) or abs(values[-1]) > 1e9:
                    raise ValueError
            except (TypeError, ValueError):
                raise DataFormatError(f"{where} ({name.strip()}): <bndbox><{tag}> is {str(text)[:40]!r}, not a finite "
                                      f"number of pixels") from None
        if not (values[0] < values[2] and values[1] < values[3]):
            raise DataFormatError(f"{where} ({name.strip()}): <bndbox> {values} has xmax <= xmin or ymax <= ymin")
        try:
            difficult = int(bool(int(obj.findtext("difficult") or 0)))  # a flag: any non-zero number is 1
        except ValueError:
            difficult = 0  # as GluonCV reads a malformed flag
        if len(objects) >= MAX_OBJECTS:
            raise DataFormatError(f"{path}: more than {MAX_OBJECTS:,} objects in one annotation")
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
        categories = _field(data, "categories", annotation_file, list)
        for k, c in enumerate(categories):
            _ident(c, "id", f"{annotation_file}: categories[{k}]")
        if len({c["id"] for c in categories}) != len(categories) or len({type(c["id"]) for c in categories}) > 1:
            raise DataFormatError(f"{annotation_file}: category ids must be distinct and of one type")
        categories = sorted(categories, key=lambda c: c["id"])
        self.classes = tuple(str(c.get("name", c["id"]))[:200] for c in categories)
        index = {c["id"]: i for i, c in enumerate(categories)}
        images = {}
        for k, image in enumerate(_field(data, "images", annotation_file, list)):
            where = f"{annotation_file}: images[{k}]"
            image_id = _ident(image, "id", where)
            if image_id in images:
                raise DataFormatError(f"{where}: id {image_id!r} is given to two images")
            images[image_id] = _image_entry(image, where)
        objects: dict[Any, list] = {i: [] for i in images}
        for k, ann in enumerate(_field(data, "annotations", annotation_file, list)):
            if not isinstance(ann, dict):
                raise DataFormatError(f"{annotation_file}: annotations[{k}] is {type(ann).__name__}, not an object")
            where = f"{annotation_file}: annotations[{k}] (id {str(ann.get('id'))[:40]})"
            image_id = _ident(ann, "image_id", where)
            if image_id not in images:
                raise DataFormatError(f"{where}: image_id {image_id!r} is not in 'images'")
            crowd = ann.get("iscrowd", 0)
            if crowd not in (0, 1) or isinstance(crowd, float):
                raise DataFormatError(f"{where}: 'iscrowd' must be 0 or 1, got {str(crowd)[:40]!r}")
            if crowd and not use_crowd:
                continue
            category = _ident(ann, "category_id", where)
            if category not in index:
                raise DataFormatError(f"{where}: category_id {category!r} is not in 'categories'")
            bbox = _key(ann, "bbox", where)
            if not (isinstance(bbox, list) and len(bbox) == 4 and all(_finite(v) for v in bbox)):
                raise DataFormatError(f"{where}: 'bbox' must be [x, y, width, height] of finite numbers, got "
                                      f"{str(bbox)[:80]}")
            area = ann.get("area", 1.0)
            if not _finite(area):
                raise DataFormatError(f"{where}: 'area' must be a finite number, got {str(area)[:40]!r}")
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
        if h * w * len(objects) > MAX_MASK_BYTES:  # checked before the masks are allocated
            raise DataFormatError(f"{objects[0][2]}: {len(objects)} instance masks of {w}x{h} need "
                                  f"{h * w * len(objects):,} bytes, more than the limit of {MAX_MASK_BYTES:,}")
        masks = np.zeros((h, w, len(objects)), np.uint8)
        for k, (_, segmentation, where) in enumerate(objects):
            masks[:, :, k] = decode_segmentation(segmentation, h, w, where)
        return image, label, masks

    def __repr__(self) -> str:
        return f"COCODetection({len(self)} images, {len(self.classes)} classes, from {self._root!r})"


def read_json(path: str, what: str, limit: int = MAX_JSON_BYTES) -> Any:
    """A JSON file's content; a missing file or malformed JSON is an error naming ``what``, the file and
    the line, column and offset."""
    if not os.path.lexists(path):
        raise FileNotFoundError(f"{what} {path!r} does not exist")
    text = _files.read_text_bounded(path, limit, what, DataFormatError)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno} "
                              f"(offset {exc.pos}): {exc.msg}") from None
    except RecursionError:
        raise DataFormatError(f"{path}: the JSON nests too deep to be a {what}") from None
    except ValueError as exc:  # Python's limit on the digits of an integer
        raise DataFormatError(f"{path}: {exc} (not a {what})") from None


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
        raise DataFormatError(f"{where} has no '{key}'" if isinstance(obj, dict) else
                              f"{where} is {type(obj).__name__}, not an object")
    return obj[key]


def _ident(obj: Any, key: str, where: str) -> Any:
    """An id field: an integer or a string (not a float, a list, null...)."""
    value = _key(obj, key, where)
    if isinstance(value, bool) or not isinstance(value, (int, str)) or (isinstance(value, str) and len(value) > 200):
        raise DataFormatError(f"{where}: '{key}' must be an integer or a short string, got {str(value)[:40]!r}")
    return value


def _finite(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and abs(value) < 1e15


MAX_SIDE = 65_535  # of an image COCO declares
MAX_VERTICES = 100_000  # of one annotation's polygons (COCO's largest have a few thousand)
MAX_RLE_CHARACTERS = 2_000_000  # one compressed RLE (COCO's are a few kB; decoding is ~0.5 us a character)
MAX_MASK_BYTES = 256 * 2**20  # one image's instance masks (each step may copy them)


def _image_entry(image: Any, where: str) -> tuple[str, int, int]:
    """(file name, height, width) of one of COCO's ``images``, every field checked."""
    name = _key(image, "file_name", where)
    if not isinstance(name, str) or not name or os.path.isabs(name) or ".." in name.replace("\\", "/").split("/"):
        raise DataFormatError(f"{where}: 'file_name' must be a relative path inside the image folder, got "
                              f"{str(name)[:80]!r}")
    sides = []
    for side in ("height", "width"):
        value = _key(image, side, where)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SIDE:
            raise DataFormatError(f"{where}: '{side}' must be an integer in [1, {MAX_SIDE}], got {str(value)[:40]!r}")
        sides.append(value)
    if sides[0] * sides[1] > MAX_IMAGE_PIXELS:
        raise DataFormatError(f"{where}: {sides[1]}x{sides[0]} is more than the limit of {MAX_IMAGE_PIXELS:,} pixels")
    return name, sides[0], sides[1]


def decode_segmentation(segmentation: Any, h: int, w: int, where: str = "segmentation") -> np.ndarray:
    """A COCO segmentation (polygons, uncompressed or compressed RLE) as an (h, w) uint8 0/1 mask."""
    import cv2

    if isinstance(segmentation, list):  # polygons: [[x0, y0, x1, y1, ...], ...]
        mask = np.zeros((h, w), np.uint8)
        vertices = sum(len(p) // 2 for p in segmentation if isinstance(p, list))
        if len(segmentation) > 10_000 or vertices > MAX_VERTICES:  # fillPoly's cost grows with rows x edges
            raise DataFormatError(f"{where}: {len(segmentation):,} polygons of {vertices:,} points, more than the "
                                  f"limit of 10,000 polygons and {MAX_VERTICES:,} points")
        for k, polygon in enumerate(segmentation):
            if not isinstance(polygon, list) or len(polygon) < 6 or len(polygon) % 2 or len(polygon) > 2_000_000:
                raise DataFormatError(f"{where}: polygon {k} must list x, y pairs (at least 3 points, at most 10^6)")
            if not all(_finite(v) for v in polygon):
                raise DataFormatError(f"{where}: polygon {k} holds a value that is not a finite number")
            points = np.round(np.clip(np.asarray(polygon, np.float64), -4 * MAX_SIDE, 4 * MAX_SIDE).reshape(-1, 2))
            cv2.fillPoly(mask, [points.astype(np.int32)], 1)
        return mask
    if isinstance(segmentation, dict) and "counts" in segmentation and "size" in segmentation:
        size = segmentation["size"]
        if not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                                   for v in size)):
            raise DataFormatError(f"{where}: RLE 'size' must be [height, width], got {str(size)[:40]}")
        if tuple(size) != (h, w):
            raise DataFormatError(f"{where}: RLE size {size} is not the image's {[h, w]}")
        counts = segmentation["counts"]
        if isinstance(counts, str):
            limit = min(7 * (h * w + 1), MAX_RLE_CHARACTERS)  # at most h*w+1 runs of at most 7 characters
            if len(counts) > limit:
                raise DataFormatError(f"{where}: compressed RLE of {len(counts):,} characters is longer than the limit "
                                      f"of {limit:,} for a {w}x{h} image")
            runs = rle_counts(counts, where)
        elif isinstance(counts, list) and len(counts) <= h * w + 1 and all(
                isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= h * w for c in counts):
            runs = counts
        else:
            raise DataFormatError(f"{where}: RLE 'counts' must be a string or a list of at most {h * w + 1:,} "
                                  f"integers in [0, {h * w:,}]")
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
            if more and shift >= 35:  # 7 groups hold any run of an image within the pixel limit
                raise DataFormatError(f"{where}: compressed RLE has a number of more than 7 characters at offset {p}")
            if not more and c & 0x10:
                value -= 1 << shift
        if len(counts) > 2:
            value += counts[-2]
        if value < 0:
            raise DataFormatError(f"{where}: compressed RLE gives a negative run at offset {p}")
        counts.append(value)
    return counts
