"""Data sets for training: CIFAR-10 (binary, python, archives) and image-folder trees, in memory.

:func:`open_dataset` recognises the layout of a folder or a ``.tar``/``.tar.gz`` archive:

* ``cifar-10-batches-bin/`` (``data_batch_1.bin`` ... ``test_batch.bin``), or a folder with those files;
* ``cifar-10-batches-py/`` (pickled ``data_batch_1`` ... ``test_batch``);
* an image-folder tree ``train/<class>/*.jpg`` and ``test/<class>/*.jpg`` (or ``val/``).
"""
from __future__ import annotations

import os
import tarfile
from typing import Any, Callable, Optional

import numpy as np

from .formats import (BINARY_FILES, CIFAR10_CLASSES, IMAGE_SUFFIXES, MAX_BATCH_BYTES, MAX_IMAGE_BYTES, PYTHON_FILES,
                      DataFormatError, check_size, decode_image, parse_cifar_binary, parse_cifar_python, read_bounded,
                      stack_or_list)

try:
    from mxnet.gluon.data import Dataset as _Base
except ImportError:  # pragma: no cover
    _Base = object

SPLITS = ("train", "test")
_TEST_DIRS = ("test", "val")


class ImageDataset(_Base):  # type: ignore[misc,valid-type]
    """Images (uint8 HWC numpy arrays) and integer labels, held in memory.

    Items are ``(image, label)``; ``image`` is a numpy array, which every gluon_augplug
    pipeline takes and ``DataLoader`` batches. ``images`` is one NHWC array when all images
    share a shape, else a list of encoded images decoded on access.
    """

    def __init__(self, images: Any, labels: np.ndarray, classes: list[str], source: str,
                 decode: Callable[[bytes, str], np.ndarray] | None = None):
        self.images = images
        self.labels = np.asarray(labels, dtype=np.int32)
        self.classes = list(classes)
        self.source = source
        self._decode = decode
        if len(self.images) != len(self.labels):
            raise ValueError(f"{source}: {len(self.images)} images but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.int32]:
        image = self.images[index]
        if self._decode is not None and isinstance(image, (bytes, bytearray)):
            image = self._decode(bytes(image), f"{self.source} item {index}")
        return image, self.labels[index]

    def subset(self, indices: np.ndarray) -> "ImageDataset":
        indices = np.asarray(indices, dtype=np.int64)
        images = self.images[indices] if isinstance(self.images, np.ndarray) else [self.images[i] for i in indices]
        return ImageDataset(images, self.labels[indices], self.classes, self.source, self._decode)

    def shard(self, rank: int, num_shards: int) -> "ImageDataset":
        """Every ``num_shards``-th item from ``rank``: one worker's part in distributed training."""
        return self.subset(np.arange(rank, len(self), num_shards))

    def __repr__(self) -> str:
        return f"ImageDataset({len(self)} images, {len(self.classes)} classes, from {self.source})"


def stratified_indices(labels: np.ndarray, limit: int | None, seed: int = 0) -> np.ndarray:
    """Sorted indices of a subset of ``limit`` items with the classes in (nearly) equal shares."""
    labels = np.asarray(labels)
    if limit is None or limit >= len(labels):
        return np.arange(len(labels))
    if limit <= 0:
        raise ValueError(f"the limit must be a positive number of images, got {limit}")
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    quota = np.full(len(classes), limit // len(classes))
    quota[: limit % len(classes)] += 1
    chosen = []
    for cls, n in zip(classes, quota):
        members = np.flatnonzero(labels == cls)
        chosen.append(rng.choice(members, size=min(n, len(members)), replace=False))
    return np.sort(np.concatenate(chosen))


def open_dataset(path: str, split: str = "train", limit: int | None = None, seed: int = 0) -> ImageDataset:
    """Read one split of the data set at ``path`` (folder or archive), optionally a stratified subset.

    Raises
    ------
    FileNotFoundError, DataFormatError
        Naming the path, the file inside it and the record or offset.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if not os.path.exists(path):
        raise FileNotFoundError(f"data set {path!r} does not exist")
    choose = (lambda labels: stratified_indices(labels, limit, seed)) if limit is not None else None
    if os.path.isdir(path):
        dataset = _open_folder(path, split, choose)
    elif tarfile.is_tarfile(path) or path.endswith((".tar.gz", ".tgz", ".tar")):
        dataset = _open_archive(path, split, choose)
    else:
        raise DataFormatError(f"{path!r} is neither a folder nor a .tar/.tar.gz archive of a data set")
    return dataset


def _concat(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


Chooser = Optional[Callable[[np.ndarray], np.ndarray]]  # labels -> indices of the subset to keep


def _batches(images: np.ndarray, labels: np.ndarray, source: str, choose: Chooser) -> ImageDataset:
    dataset = ImageDataset(images, labels, list(CIFAR10_CLASSES), source)
    return dataset.subset(choose(dataset.labels)) if choose is not None else dataset


def _open_folder(path: str, split: str, choose: Chooser) -> ImageDataset:
    for sub in ("", "cifar-10-batches-bin", "cifar-10-batches-py"):
        folder = os.path.join(path, sub)
        names = set(os.listdir(folder)) if os.path.isdir(folder) else set()
        for files, parse in ((BINARY_FILES, parse_cifar_binary), (PYTHON_FILES, parse_cifar_python)):
            if set(files[split]) <= names:
                parts = []
                for f in files[split]:
                    full = os.path.join(folder, f)
                    parts.append(parse(read_bounded(full, MAX_BATCH_BYTES, "CIFAR-10 batch"), full))
                return _batches(*_concat(parts), folder, choose)
    split_dir = _split_dir(path, split)
    if split_dir is None:
        raise DataFormatError(
            f"{path!r} holds no data set: expected CIFAR-10's data_batch_*.bin/test_batch.bin, its python batches, "
            f"or an image-folder tree train/<class>/*.jpg and test/<class>/*.jpg")
    tree = _folder_tree(split_dir)
    if split != "train":
        train_dir = _split_dir(path, "train")
        if train_dir is not None:
            _same_classes(_folder_tree(train_dir), train_dir, tree, split_dir)
    classes = _cifar_order(sorted(tree))
    label_of = {cls: i for i, cls in enumerate(classes)}
    encoded, labels, names = [], [], []
    for cls in sorted(tree):
        for full in tree[cls]:
            encoded.append(read_bounded(full, MAX_IMAGE_BYTES, "image file"))
            labels.append(label_of[cls])
            names.append(full)
    return _image_tree(encoded, names, labels, classes, split_dir, choose)


def _folder_tree(split_dir: str) -> dict[str, list[str]]:
    """``{class: [image paths]}`` of ``split_dir/<class>/*``; a class folder without images is an error."""
    tree = {}
    for cls in sorted(os.listdir(split_dir)):
        folder = os.path.join(split_dir, cls)
        if not os.path.isdir(folder):
            continue
        files = [os.path.join(folder, f) for f in sorted(os.listdir(folder)) if f.lower().endswith(IMAGE_SUFFIXES)]
        if not files:
            raise DataFormatError(f"class folder {folder!r} holds no image files ({', '.join(IMAGE_SUFFIXES)}): "
                                  f"an empty class would shift every label after it; remove it or add its images")
        tree[cls] = files
    return tree


def _same_classes(train: Any, train_where: str, test: Any, test_where: str) -> None:
    """The test split must have exactly the training classes: labels are positions in the class list."""
    missing, extra = sorted(set(train) - set(test)), sorted(set(test) - set(train))
    if missing or extra:
        detail = "; ".join(part for part in (
            f"missing from the test split: {', '.join(missing[:10])}" if missing else "",
            f"not in the training split: {', '.join(extra[:10])}" if extra else "") if part)
        raise DataFormatError(f"the class folders of {test_where!r} and {train_where!r} differ ({detail}): test "
                              f"labels would not mean the training classes")


def _split_dir(path: str, split: str) -> str | None:
    for name in ((split,) if split == "train" else _TEST_DIRS):
        for root in (path, *[os.path.join(path, d) for d in sorted(os.listdir(path))]):
            candidate = os.path.join(root, name)
            if os.path.isdir(candidate):
                return candidate
    return None


def _cifar_order(classes: list[str]) -> list[str]:
    return list(CIFAR10_CLASSES) if sorted(classes) == sorted(CIFAR10_CLASSES) else classes


def _image_tree(encoded: list, names: list[str], labels: list[int], classes: list[str], source: str,
                choose: Chooser) -> ImageDataset:
    """Decode the chosen images of a tree (labels come from the folder names, so choosing is free)."""
    if not encoded:
        raise DataFormatError(f"{source}: no image files ({', '.join(IMAGE_SUFFIXES)}) under <class>/ folders")
    if choose is not None:
        keep = choose(np.asarray(labels))
        encoded, names, labels = [encoded[i] for i in keep], [names[i] for i in keep], [labels[i] for i in keep]
    images = stack_or_list(decode_image(data, name) for data, name in zip(encoded, names))
    if isinstance(images, list):  # mixed sizes: keep the (smaller) encoded files, decode on access
        return ImageDataset(encoded, np.asarray(labels), classes, source, decode=decode_image)
    return ImageDataset(images, np.asarray(labels), classes, source)


def _open_archive(path: str, split: str, choose: Chooser) -> ImageDataset:
    raw = open(path, "rb")
    try:
        try:
            tar = tarfile.open(fileobj=raw, mode="r:*")
            members = tar.getmembers()
        except (tarfile.TarError, EOFError, OSError) as exc:
            reason = " ".join(str(exc).split())  # tarfile lists one line per method it tried
            raise DataFormatError(f"archive {path!r} is truncated or corrupt near compressed offset {raw.tell()} "
                                  f"of {os.path.getsize(path)} bytes: {reason}") from None
        files = {m.name: m for m in members if m.isfile()}
        by_base = {os.path.basename(n): n for n in files}

        def read(name: str, limit: int, what: str) -> bytes:
            check_size(files[name].size, limit, f"{path}:{name}", what)  # before anything is decompressed
            try:
                return tar.extractfile(files[name]).read()
            except (tarfile.TarError, EOFError, OSError) as exc:
                raise DataFormatError(f"archive {path!r}: member {name!r} is truncated or corrupt "
                                      f"(compressed offset {raw.tell()}): {exc}") from None

        for file_names, parse in ((BINARY_FILES, parse_cifar_binary), (PYTHON_FILES, parse_cifar_python)):
            if all(f in by_base for f in file_names[split]):
                parts = [parse(read(by_base[f], MAX_BATCH_BYTES, "CIFAR-10 batch"), f"{path}:{by_base[f]}")
                         for f in file_names[split]]
                return _batches(*_concat(parts), path, choose)
        def split_tree(wanted: set) -> list:
            tree = [(n, n.split("/")) for n in sorted(files) if n.lower().endswith(IMAGE_SUFFIXES)]
            return [(n, parts) for n, parts in tree if len(parts) >= 3 and parts[-3] in wanted]

        tree = split_tree({split} if split == "train" else set(_TEST_DIRS))
        if not tree:
            raise DataFormatError(f"archive {path!r} holds no {split} data: expected CIFAR-10's batches or an "
                                  f"image-folder tree {split}/<class>/<image>")
        classes = sorted({parts[-2] for _, parts in tree})
        if split != "train":
            train_classes = {parts[-2] for _, parts in split_tree({"train"})}
            if train_classes:
                _same_classes(train_classes, f"{path}:train/", classes, f"{path}:{'/'.join(tree[0][1][:-2])}/")
        order = _cifar_order(classes)
        names = [n for n, _ in tree]
        labels = [order.index(parts[-2]) for _, parts in tree]
        keep = choose(np.asarray(labels)) if choose is not None else range(len(names))
        names, labels = [names[i] for i in keep], [labels[i] for i in keep]
        encoded = [read(n, MAX_IMAGE_BYTES, "image file") for n in names]
        return _image_tree(encoded, [f"{path}:{n}" for n in names], labels, order, path, None)
    finally:
        raw.close()
