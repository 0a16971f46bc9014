"""Data sets read from disk on access: RecordIO files, image-folder trees and im2rec's ``.lst`` lists.

Nothing is held in memory but the index (an offset or a path per item). Items are
``(image, label)`` as MXNet's ``ImageRecordDataset`` and ``ImageFolderDataset`` give them, with
the image a uint8 HWC RGB numpy array, or, with ``encoded=True``, an
:class:`~gluon_augplug.io.decode.EncodedImage` that a pipeline decodes as its first step
(at a reduced scale when its first crop or resize needs fewer pixels).
"""
from __future__ import annotations

import os
import struct
import warnings
from typing import Any, Sequence

import numpy as np

from ..io.decode import EncodedImage, decode
from ..io.formats import MAX_IMAGE_BYTES, DataFormatError, read_bounded
from .publish import interrupted_publish
from ..io.recordio import IR_SIZE, MAGIC, MAX_LABELS, RecordFile, RecordIOError, part_range, read_index, scan_index, unpack_header

try:
    from mxnet.gluon.data import Dataset as _Base
except ImportError:  # pragma: no cover
    _Base = object

MXNET_EXTENSIONS = (".jpg", ".jpeg", ".png")  # what MXNet's ImageFolderDataset takes
MAX_CLASSES = 1 << 20  # class labels: ImageNet-21k has 21,841; a label of 1e9 is a broken file, not a class


class _Streamed(_Base):  # type: ignore[misc,valid-type]
    """An indexed data set whose items are read on access; ``subset`` and ``shard`` are views."""

    source: str
    _no_class: float = np.nan  # the label of an item without a class (detection: a record without objects)

    def __init__(self, encoded: bool):
        self.encoded = encoded
        self._order: np.ndarray | None = None  # the items of a view, as positions in the whole set

    def _count(self) -> int:
        raise NotImplementedError

    def _read(self, position: int) -> tuple[Any, Any]:
        raise NotImplementedError

    def _all_labels(self) -> np.ndarray:
        raise NotImplementedError

    def __len__(self) -> int:
        return self._count() if self._order is None else len(self._order)

    def position(self, index: int) -> int:
        """The item's position in the whole file or tree (its record or line number)."""
        n = len(self)
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)) or not -n <= index < n:
            raise IndexError(f"{self.source}: item {index!r} is out of range for {n} items")
        index = int(index) % n
        return index if self._order is None else int(self._order[index])

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        return self._read(self.position(index))

    @property
    def labels(self) -> np.ndarray:
        """Every item's label (the first one of a vector label), without decoding any image."""
        labels = self._all_labels()
        return labels if self._order is None else labels[self._order]

    @property
    def classes(self) -> list[str]:
        """The class folders' names, or ``"0"`` ... up to the largest label (each label checked to be a class).

        Raises
        ------
        DataFormatError
            A label that is not a class number (an integer in [0, ``MAX_CLASSES``)), naming its item.
        """
        names = getattr(self, "synsets", None)
        if names:
            return list(names)
        labels = self.labels
        is_class = (labels >= 0) & (labels < MAX_CLASSES) & (labels == np.floor(labels))
        bad = np.flatnonzero(~(is_class | (labels == self._no_class)))
        if bad.size:
            item = self.describe(self.position(int(bad[0])))
            raise DataFormatError(f"{self.source}: {item} has the label {float(labels[bad[0]]):.7g}, not a class "
                                  f"number (an integer from 0 to {MAX_CLASSES - 1:,})")
        return [str(i) for i in range(int(labels.max()) + 1 if (labels >= 0).any() else 0)]

    def describe(self, position: int) -> str:
        """How a message names the item at ``position`` of the whole file or tree."""
        return f"item {position}"

    def check_class_labels(self) -> None:
        """Refuse a set whose items do not each have one class number as their label (what a classifier
        trains on): a vector label (a detection or multi-label file) is named with its item.

        Raises
        ------
        DataFormatError
            Naming the item and what its label is; see also :attr:`classes`.
        """
        vector = self._vector_labels()
        if self._order is not None:
            vector = vector[self._order]
        bad = np.flatnonzero(vector)
        if bad.size:
            item = self.describe(self.position(int(bad[0])))
            raise DataFormatError(f"{self.source}: {item} has a vector label (a detection or multi-label file?); a "
                                  f"classifier trains on one class number per image")
        self.classes  # noqa: B018 - checks every label is a class number

    def _vector_labels(self) -> np.ndarray:
        """Whether each item of the whole file or tree has a vector label."""
        return np.zeros(self._count(), bool)

    def subset(self, indices: Sequence[int]) -> "_Streamed":
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view._order = np.asarray([self.position(int(i)) for i in indices], np.int64)
        return view

    def shard(self, part_index: int, num_parts: int) -> "_Streamed":
        """Part ``part_index`` of ``num_parts`` contiguous parts (ImageRecordIter's ``part_index`` and
        ``num_parts``): across the parts every item exactly once."""
        return self.subset(part_range(len(self), part_index, num_parts))

    def _image(self, data: bytes, name: str) -> Any:
        return EncodedImage(data, name) if self.encoded else decode(data, name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} items from {self.source!r}{', encoded' if self.encoded else ''})"


class RecordDataset(_Streamed):
    """Images and labels of a RecordIO file, as ``mxnet.gluon.data.vision.ImageRecordDataset`` reads them.

    Items are ``(image, label)``: ``label`` a float, or a float32 array for records whose header has
    ``flag > 0`` (vector labels, detection).

    Parameters
    ----------
    path : str
        The ``.rec`` file; its index is ``path`` with ``.idx`` (im2rec's layout).
    index : str, optional
        Another ``.idx`` file. Without one (and without ``path``'s ``.idx``) the index is built by one
        scan of the file, and a warning says so.
    encoded : bool
        Items hold :class:`EncodedImage` for a pipeline to decode (fused with its first crop).
    skip_corrupt : bool
        A corrupt record is replaced by the next readable one, counted in :attr:`skipped` and warned
        about, instead of raising :class:`RecordIOError` (each worker process counts its own). With
        ``encoded=True`` the record and the image header are checked here; a JPEG damaged past its
        header is found when the pipeline decodes it, an error naming the record.
    """

    def __init__(self, path: str, index: str | None = None, encoded: bool = False, skip_corrupt: bool = False):
        super().__init__(encoded)
        self.source = path
        journal = interrupted_publish(path)
        if journal:
            raise RecordIOError(f"{path}: augplug pack was stopped while publishing it (its journal {journal!r} is "
                                f"still there), so its .rec and .idx may be from different packs: run that pack "
                                f"again, which first completes or undoes that publish")
        self.records = RecordFile(path)
        self.skip_corrupt = skip_corrupt
        self.skipped: list[str] = []
        self._labels: np.ndarray | None = None
        self._vector: np.ndarray | None = None
        index = index or os.path.splitext(path)[0] + ".idx"
        if os.path.exists(index):
            self.keys, self.offsets = read_index(index, self.records.size)
        else:
            warnings.warn(f"{path}: no index {index!r}; building it by one scan of the file (write one with "
                          f"`augplug pack` or im2rec to skip this)", stacklevel=2)
            self.keys, self.offsets = scan_index(self.records)
        if not self.offsets:  # a 0-byte .rec or an empty .idx: refused here, not as a division by zero later
            found = f"its index {index!r} lists" if os.path.exists(index) else "a scan of it found"
            raise RecordIOError(f"{path} holds no records (a {self.records.size:,}-byte file; {found} none)")

    def describe(self, position: int) -> str:
        return f"record {position} (key {self.keys[position]}, offset {self.offsets[position]})"

    def _count(self) -> int:
        return len(self.offsets)

    def record(self, position: int) -> tuple[Any, bytes, str]:
        """``(label, encoded image, name)`` of the record at ``position`` in the index."""
        offset = self.offsets[position]
        name = f"{self.source} {self.describe(position)}"
        payload, _ = self.records.read_at(offset, f"record {position} (key {self.keys[position]})")
        _, label, _, start = unpack_header(payload, self.source, offset, f"record {position} (key {self.keys[position]})")
        return label, payload[start:], name

    def _read(self, position: int) -> tuple[Any, Any]:
        for attempt in range(len(self.offsets)):
            at = (position + attempt) % len(self.offsets)
            try:
                label, data, name = self.record(at)
                image = self._image(data, name)
                if self.encoded and self.skip_corrupt:
                    image.size()  # the header at least: a damaged body surfaces in the pipeline, naming the record
                return image, self._label(label, image, name)
            except DataFormatError as exc:
                if not self.skip_corrupt:
                    raise
                self.skipped.append(str(exc))
                warnings.warn(f"skipped a corrupt record ({len(self.skipped)} so far): {exc}", stacklevel=3)
        raise RecordIOError(f"{self.source}: no readable record (every one of {len(self.offsets)} is corrupt)")

    def _label(self, label: Any, image: Any, name: str) -> Any:
        return label

    def _header_labels(self) -> list[np.ndarray]:
        """Every record's label vector (a float as a 1-vector), read from the headers alone."""
        fd, out, flags = self.records._descriptor(), [], []
        for i, offset in enumerate(self.offsets):
            head = os.pread(fd, 8 + IR_SIZE, offset)
            if len(head) < 8 + IR_SIZE or struct.unpack_from("<I", head)[0] != MAGIC:
                raise RecordIOError(f"{self.source}: no readable record {i} at offset {offset} (truncated, or not "
                                    f"the magic 0xced7230a)")
            flag = struct.unpack_from("<I", head, 8)[0]
            # the header and its labels alone, parsed (and bounded) as a whole record's would be
            payload = head[8:] + (os.pread(fd, 4 * min(flag, MAX_LABELS), offset + 8 + IR_SIZE) if flag else b"")
            out.append(np.ravel(np.asarray(unpack_header(payload, self.source, offset, f"record {i}")[1], np.float32)))
            flags.append(flag)
        self._vector = np.asarray(flags) > 0
        return out

    def _vector_labels(self) -> np.ndarray:
        if self._vector is None:
            self._all_labels()  # the one pass over the headers fills both (check_class_labels asks for both)
        if self._vector is None:  # the labels were read before, without it
            self._header_labels()
        assert self._vector is not None
        return self._vector

    def _all_labels(self) -> np.ndarray:
        if self._labels is None:
            self._labels = np.asarray([v[0] if v.size else -1 for v in self._header_labels()], np.float32)
        return self._labels


class RecordDetectionDataset(RecordDataset):
    """Detection records in GluonCV's ``RecordFileDetection`` layout: items ``(image, label)`` with
    ``label`` (N, 5+) float32 ``xmin, ymin, xmax, ymax, class_id, extra...`` in pixels.

    A record's label vector is ``[A, B, header extras..., objects...]``: ``A`` the header's length,
    ``B`` (>= 5) the width of each object ``[class_id, xmin, ymin, xmax, ymax, extra...]``, coordinates
    in 0-1 when ``coord_normalized`` (scaled by the image's size here, which an encoded image reads from
    its header).
    """

    _no_class = -1.0

    def __init__(self, path: str, index: str | None = None, coord_normalized: bool = True, encoded: bool = False,
                 skip_corrupt: bool = False):
        super().__init__(path, index, encoded, skip_corrupt)
        self.coord_normalized = coord_normalized

    def _label(self, label: Any, image: Any, name: str) -> Any:
        h, w = image.size() if isinstance(image, EncodedImage) else image.shape[:2]
        return detection_label(label, name, (h, w) if self.coord_normalized else None)

    def _all_labels(self) -> np.ndarray:
        """The class of each record's first object (-1 for a record without objects)."""
        if self._labels is None:
            labels = []
            for vector in self._header_labels():
                header = int(vector[0]) if vector.size >= 2 and vector[0] == int(vector[0]) else 0
                labels.append(vector[header] if 2 <= header < vector.size else -1)
            self._labels = np.asarray(labels, np.float32)
        return self._labels


def detection_label(label: Any, name: str, hw: tuple[int, int] | None) -> np.ndarray:
    """GluonCV's detection rows from a record's label vector (see :class:`RecordDetectionDataset`)."""
    flat = np.asarray(label, np.float32).ravel()
    if flat.size < 2:
        raise RecordIOError(f"{name}: a detection record needs the label vector [A, B, objects...], got "
                            f"{flat.size} value(s)")
    header, width = flat[0], flat[1]
    if not (header == int(header) and 2 <= header <= flat.size and width == int(width) and 5 <= width <= 1024):
        raise RecordIOError(f"{name}: label header A={header:g}, B={width:g} is invalid (A: 2 to the label's length "
                            f"{flat.size}; B: the object width, 5 to 1024)")
    header, width = int(header), int(width)
    body = flat[header:]
    if body.size % width:
        raise RecordIOError(f"{name}: {body.size} object values after a {header}-value header are not whole "
                            f"objects of width {width}")
    rows = body.reshape(-1, width).copy()
    out = np.concatenate([rows[:, 1:5], rows[:, :1], rows[:, 5:]], axis=1)
    if hw is not None:
        out[:, (0, 2)] *= hw[1]
        out[:, (1, 3)] *= hw[0]
    return out


class ImageFolder(_Streamed):
    """An image tree ``root/<class>/<image>`` read on access, with the semantics of MXNet's
    ``ImageFolderDataset``: class folders sorted by name give labels 0, 1, ...; files sorted, those
    whose suffix is not in ``extensions`` (and entries that are not folders at the top) skipped with a
    warning. ImageNet's ``train/<wnid>/*.JPEG`` is such a tree.
    """

    def __init__(self, root: str, encoded: bool = False, extensions: Sequence[str] = MXNET_EXTENSIONS):
        super().__init__(encoded)
        self.source = root
        if not os.path.isdir(root):
            raise DataFormatError(f"image tree {root!r} is not a folder")
        self.synsets: list[str] = []
        self.items: list[tuple[str, int]] = []
        skipped = 0
        for folder in sorted(os.listdir(root)):
            path = os.path.join(root, folder)
            if not os.path.isdir(path):
                skipped += 1
                continue
            label = len(self.synsets)
            self.synsets.append(folder)
            for filename in sorted(os.listdir(path)):
                if os.path.splitext(filename)[1].lower() in extensions:
                    self.items.append((os.path.join(path, filename), label))
                else:
                    skipped += 1
        if skipped:
            warnings.warn(f"{root}: skipped {skipped} entries that are not class folders or "
                          f"{'/'.join(extensions)} images", stacklevel=2)
        if not self.items:
            raise DataFormatError(f"image tree {root!r} holds no {'/'.join(extensions)} images in class folders")

    def _count(self) -> int:
        return len(self.items)

    def _read(self, position: int) -> tuple[Any, Any]:
        path, label = self.items[position]
        return self._image(read_bounded(path, MAX_IMAGE_BYTES, "image file"), repr(path)), label

    def _all_labels(self) -> np.ndarray:
        return np.asarray([label for _, label in self.items], np.int32)


class ImageList(_Streamed):
    """The images of an im2rec ``.lst`` file (``index<TAB>label[<TAB>label...]<TAB>path``), paths relative
    to ``root`` (default: the list's folder). Items ``(image, label)``: a float, or a float32 array for
    lines with several labels."""

    def __init__(self, path: str, root: str | None = None, encoded: bool = False):
        super().__init__(encoded)
        self.source = path
        self.root = os.path.dirname(os.path.abspath(path)) if root is None else root
        self.items = read_list(path)

    def _count(self) -> int:
        return len(self.items)

    def _vector_labels(self) -> np.ndarray:
        return np.asarray([np.ndim(label) > 0 for _, label, _ in self.items], bool)

    def describe(self, position: int) -> str:
        index, _, relative = self.items[position]
        return f"item {position} (index {index}, {relative[:80]!r})"

    def _read(self, position: int) -> tuple[Any, Any]:
        _, label, relative = self.items[position]
        path = os.path.join(self.root, relative)
        return self._image(read_bounded(path, MAX_IMAGE_BYTES, "image file"), repr(path)), label

    def _all_labels(self) -> np.ndarray:
        return np.asarray([np.ravel(label)[0] for _, label, _ in self.items], np.float32)


def read_list(path: str) -> list[tuple[int, Any, str]]:
    """``(index, label, relative path)`` of every line of an im2rec ``.lst`` file."""
    data = read_bounded(path, 1 << 30, "image list")
    items = []
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        fields = line.rstrip("\r\n").split("\t")
        try:
            if len(fields) < 3:
                raise ValueError
            index, values = int(fields[0]), [float(v) for v in fields[1:-1]]
        except ValueError:
            raise DataFormatError(f"{path}: line {number} is {line[:80]!r}, not "
                                  f"'index<TAB>label[<TAB>label...]<TAB>path'") from None
        if not all(np.isfinite(values)):
            raise DataFormatError(f"{path}: line {number} has a label that is not a finite number")
        label: Any = values[0] if len(values) == 1 else np.asarray(values, np.float32)
        items.append((index, label, fields[-1]))
    if not items:
        raise DataFormatError(f"{path}: the image list holds no lines")
    return items


def open_split(path: str, encoded: bool = True, detection: bool = False) -> _Streamed:
    """One split streamed from disk: a ``.rec`` file, an im2rec ``.lst`` list, or a ``<class>/<image>`` tree.

    Raises
    ------
    DataFormatError
        ``path`` is none of those, or is corrupt (naming the file, the record and the offset).
    """
    if path.endswith(".rec"):
        return (RecordDetectionDataset if detection else RecordDataset)(path, encoded=encoded)
    if path.endswith(".lst"):
        return ImageList(path, encoded=encoded)
    if os.path.isdir(path):
        return ImageFolder(path, encoded=encoded)
    raise DataFormatError(f"{path!r} is not a .rec file, an im2rec .lst list or an image tree <class>/<image>")

