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

from ..io.decode import decode_image
from ..io.formats import (BINARY_FILES, CIFAR10_CLASSES, IMAGE_SUFFIXES, MAX_BATCH_BYTES, MAX_IMAGE_BYTES, PYTHON_FILES,
                      DataFormatError, check_size, parse_cifar_binary, parse_cifar_python, read_bounded,
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
        return _read_split(_Folder(path), split, choose)
    if not os.path.isfile(path):  # a FIFO would block the reads below forever, a device never end
        raise DataFormatError(f"{path!r} is not a regular file (a device, a pipe?): not a data set")
    if tarfile.is_tarfile(path) or path.endswith((".tar.gz", ".tgz", ".tar")):
        with _Archive(path) as archive:
            return _read_split(archive, split, choose)
    raise DataFormatError(f"{path!r} is neither a folder nor a .tar/.tar.gz archive of a data set")


Chooser = Optional[Callable[[np.ndarray], np.ndarray]]  # labels -> indices of the subset to keep


class _Folder:
    """The files of a folder, by path relative to it (``a/b.jpg``), as an archive lists its members."""

    MAX_DEPTH = 4  # root/[data set]/split/class/image: deep enough, and a home folder is not walked whole

    def __init__(self, root: str):
        self.root = root
        self.files: list[str] = []
        self.dirs: list[str] = []
        for top, dirs, files in os.walk(root):
            rel = os.path.relpath(top, root).replace(os.sep, "/")
            depth = 0 if rel == "." else rel.count("/") + 1
            dirs[:] = sorted(dirs) if depth < self.MAX_DEPTH - 1 else []
            prefix = "" if rel == "." else rel + "/"
            self.dirs += [prefix + d for d in dirs]
            self.files += [prefix + f for f in sorted(files)]

    def where(self, name: str) -> str:
        return os.path.join(self.root, *name.split("/")) if name else self.root

    def read(self, name: str, limit: int, what: str) -> bytes:
        return read_bounded(self.where(name), limit, what)


class _Archive:
    """The regular-file members of a ``.tar``/``.tar.gz`` archive; sizes are checked before decompressing."""

    def __init__(self, path: str):
        self.path = path
        self._raw = open(path, "rb")
        try:
            self._tar = tarfile.open(fileobj=self._raw, mode="r:*")
            members = self._tar.getmembers()
        except (tarfile.TarError, EOFError, OSError) as exc:
            reason = " ".join(str(exc).split())  # tarfile lists one line per method it tried
            offset = self._raw.tell()
            self._raw.close()
            raise DataFormatError(f"archive {path!r} is truncated or corrupt near compressed offset {offset} "
                                  f"of {os.path.getsize(path)} bytes: {reason}") from None
        self._members = {m.name: m for m in members if m.isfile()}
        self.files = sorted(self._members)
        self.dirs = sorted({m.name for m in members if m.isdir()} |
                           {n.rsplit("/", i)[0] for n in self.files for i in range(1, n.count("/") + 1)})

    def where(self, name: str) -> str:
        return f"{self.path}:{name}" if name else self.path

    def read(self, name: str, limit: int, what: str) -> bytes:
        check_size(self._members[name].size, limit, self.where(name), what)  # before anything is decompressed
        try:
            return self._tar.extractfile(self._members[name]).read()
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise DataFormatError(f"archive {self.path!r}: member {name!r} is truncated or corrupt "
                                  f"(compressed offset {self._raw.tell()}): {exc}") from None

    def __enter__(self) -> "_Archive":
        return self

    def __exit__(self, *exc: Any) -> None:
        self._raw.close()


_BATCH_FORMATS = ((BINARY_FILES, parse_cifar_binary), (PYTHON_FILES, parse_cifar_python))


def _read_split(container: Any, split: str, choose: Chooser) -> ImageDataset:
    """One split from a folder or an archive: CIFAR-10 batches if it holds them, else an image-folder tree."""
    in_dir: dict[str, set[str]] = {}
    for name in container.files:
        folder, _, base = name.rpartition("/")
        in_dir.setdefault(folder, set()).add(base)
    for files, parse in _BATCH_FORMATS:
        for folder in sorted(in_dir, key=lambda d: (d.count("/"), d)):  # the shallowest folder that has them
            if set(files[split]) <= in_dir[folder]:
                names = [f"{folder}/{f}" if folder else f for f in files[split]]
                parts = [parse(container.read(n, MAX_BATCH_BYTES, "CIFAR-10 batch"), container.where(n)) for n in names]
                images, labels = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
                dataset = ImageDataset(images, labels, list(CIFAR10_CLASSES), container.where(folder))
                return dataset.subset(choose(dataset.labels)) if choose is not None else dataset
    tree, split_dir = _tree(container, {split} if split == "train" else set(_TEST_DIRS))
    if not tree:
        raise DataFormatError(
            f"{container.where('')!r} holds no {'data set' if not container.files else split + ' data'}: "
            f"expected CIFAR-10's data_batch_*.bin/test_batch.bin, "
            f"its python batches, or an image-folder tree train/<class>/*.jpg and test/<class>/*.jpg")
    if split != "train":
        train_tree, train_dir = _tree(container, {"train"})
        if train_tree:
            _same_classes(train_tree, container.where(train_dir), tree, container.where(split_dir))
    classes = _cifar_order(sorted(tree))
    label_of = {cls: i for i, cls in enumerate(classes)}
    names = [name for cls in sorted(tree) for name in tree[cls]]
    labels = [label_of[cls] for cls in sorted(tree) for _ in tree[cls]]
    if choose is not None:  # labels come from the folder names, so choosing before reading is free
        keep = choose(np.asarray(labels))
        names, labels = [names[i] for i in keep], [labels[i] for i in keep]
    encoded = [container.read(n, MAX_IMAGE_BYTES, "image file") for n in names]
    where = [container.where(n) for n in names]
    images = stack_or_list(decode_image(data, name) for data, name in zip(encoded, where))
    if isinstance(images, list):  # mixed sizes: keep the (smaller) encoded files, decode on access
        return ImageDataset(encoded, np.asarray(labels), classes, container.where(split_dir), decode=decode_image)
    return ImageDataset(images, np.asarray(labels), classes, container.where(split_dir))


def _tree(container: Any, wanted: set[str]) -> tuple[dict[str, list[str]], str]:
    """``{class: [image names]}`` of the first ``<split>/<class>/<image>`` tree whose split is ``wanted``, and the
    split folder; a class folder without images is an error (it would shift every label after it)."""
    splits = sorted((d for d in container.dirs if d.rpartition("/")[2] in wanted), key=lambda d: (d.count("/"), d))
    if not splits:
        return {}, ""
    split_dir = splits[0]
    tree: dict[str, list[str]] = {}
    for d in container.dirs:
        if d.rpartition("/")[0] == split_dir:
            tree[d.rpartition("/")[2]] = []
    for name in container.files:
        folder, _, base = name.rpartition("/")
        parent, _, cls = folder.rpartition("/")
        if parent == split_dir and base.lower().endswith(IMAGE_SUFFIXES):
            tree.setdefault(cls, []).append(name)
    for cls, files in tree.items():
        if not files:
            raise DataFormatError(f"class folder {container.where(split_dir + '/' + cls)!r} holds no image files "
                                  f"({', '.join(IMAGE_SUFFIXES)}): an empty class would shift every label after "
                                  f"it; remove it or add its images")
    return tree, split_dir


def _same_classes(train: Any, train_where: str, test: Any, test_where: str) -> None:
    """The test split must have exactly the training classes: labels are positions in the class list."""
    missing, extra = sorted(set(train) - set(test)), sorted(set(test) - set(train))
    if missing or extra:
        detail = "; ".join(part for part in (
            f"missing from the test split: {', '.join(missing[:10])}" if missing else "",
            f"not in the training split: {', '.join(extra[:10])}" if extra else "") if part)
        raise DataFormatError(f"the class folders of {test_where!r} and {train_where!r} differ ({detail}): test "
                              f"labels would not mean the training classes")


def _cifar_order(classes: list[str]) -> list[str]:
    return list(CIFAR10_CLASSES) if sorted(classes) == sorted(CIFAR10_CLASSES) else classes
