"""``augplug pack``: im2rec's job, RecordIO shards from an image tree, an im2rec ``.lst``, a Pascal VOC
folder or a COCO annotation file, in parallel and atomically.

Classification records hold the class (or the ``.lst`` line's labels) in MXNet's header; detection
records hold GluonCV's ``RecordFileDetection`` label vector ``[4, B, width, height, objects...]``
with each object ``[class_id, xmin, ymin, xmax, ymax, extra...]`` in 0-1 coordinates. MXNet's
``ImageRecordIter``, ``ImageRecordDataset``, GluonCV's ``RecordFileDetection`` and
:class:`~gluon_augplug.data.streaming.RecordDataset` read what it writes.
"""
from __future__ import annotations

import collections
import contextlib
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import cv2
import numpy as np

from .._locks import acquire
from ..errors import AugplugError, InputError, short_reason
from ..io.decode import decode, encode_jpeg, image_format
from ..io.formats import MAX_IMAGE_BYTES, read_bounded
from .publish import PublishError, check_targets, journal_path, publish_together, recover, remove_stale
from ..io.recordio import RecordWriter, shard_names

LOCK_SUFFIX = ".pack-lock"  # beside each output's .rec while a pack writes it (removed when it ends)


@dataclass
class PackItem:
    """One image to pack: its key, its label (a number or a vector) and how to get its bytes."""

    key: int
    label: Any
    read: Callable[[], bytes]
    name: str
    boxes: np.ndarray | None = None  # detection: (N, 5+) pixel xmin, ymin, xmax, ymax, class, extra...


def items_from(source: str, root: str | None = None, split: str | None = None,
               classes: Any = None) -> tuple[list[PackItem], str]:
    """The items of ``source`` and what kind of records they make (``"classification"``/``"detection"``).

    ``source``: an image tree ``<class>/<image>`` (MXNet's ImageFolderDataset order), an im2rec
    ``.lst`` (paths relative to ``root``, default its folder), a VOC folder (``Annotations/``,
    ``JPEGImages/``; ``split`` names its ``ImageSets/Main`` list; ``classes`` its class names in id order, or
    ``"auto"`` for every name in its annotations sorted; default VOC's 20) or a COCO ``.json`` (images in ``root``).
    """
    if source.endswith(".lst"):
        from .streaming import read_list

        base = root or os.path.dirname(os.path.abspath(source))
        return [PackItem(index, label, _file(os.path.join(base, path)), os.path.join(base, path))
                for index, label, path in read_list(source)], "classification"
    if source.endswith(".json"):
        from .detection import COCODetection

        if root is None:
            raise InputError("pack: a COCO annotation file needs --root, the folder of its images")
        return _detection_items(COCODetection(root, source, as_ndarray=False), root, "coco"), "detection"
    if os.path.isdir(os.path.join(source, "Annotations")) and os.path.isdir(os.path.join(source, "JPEGImages")):
        from .detection import VOCDetection

        names = {} if classes is None else {"classes": classes}
        voc = VOCDetection(source, splits=[split] if split else None, as_ndarray=False, **names)
        return _detection_items(voc, source, "voc"), "detection"
    if os.path.isdir(source):
        from .streaming import ImageFolder

        tree = ImageFolder(source)
        return [PackItem(i, float(label), _file(path), path) for i, (path, label) in enumerate(tree.items)], \
            "classification"
    raise InputError(f"pack: {source!r} is not an image tree, an im2rec .lst, a VOC folder or a COCO .json file")


def _file(path: str) -> Callable[[], bytes]:
    return lambda: read_bounded(path, MAX_IMAGE_BYTES, "image file")


def _detection_items(dataset: Any, root: str, kind: str) -> list[PackItem]:
    items = []
    for i in range(len(dataset)):
        if kind == "voc":
            folder, name = dataset._items[i]
            path = os.path.join(folder, "JPEGImages", name + ".jpg")
        else:
            path = os.path.join(root, dataset._items[i][0][0])
        label = dataset._labels[i] if kind == "voc" else \
            np.asarray([o[0] for o in dataset._items[i][1]], np.float32).reshape(-1, 5)
        items.append(PackItem(i, None, _file(path), path, boxes=np.asarray(label, np.float32)))
    return items


def detection_vector(boxes: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """GluonCV's record label: ``[4, B, width, height]`` then ``[class, x0/w, y0/h, x1/w, y1/h, extra...]``."""
    h, w = hw
    rows = np.concatenate([boxes[:, 4:5], boxes[:, :4], boxes[:, 5:]], axis=1).astype(np.float32)
    rows[:, (1, 3)] /= w
    rows[:, (2, 4)] /= h
    return np.concatenate([[4, rows.shape[1], w, h], rows.ravel()]).astype(np.float32)


def encode_item(item: PackItem, resize: int, quality: int, encoding: str) -> tuple[Any, bytes]:
    """``(label, encoded image)`` of one item: resized (short side ``resize``) and re-encoded if asked or
    needed; a JPEG that needs neither is stored as it is (im2rec's ``--pass-through``)."""
    data = item.read()
    kind = image_format(data)
    wanted = "JPEG" if encoding == ".jpg" else "PNG"
    img = decode(data, item.name)  # also for bytes stored as they are: a damaged file is refused here, not in training
    h, w = img.shape[:2]
    if resize:
        scale = resize / min(h, w)
        size = (max(1, int(round(w * scale))), max(1, int(round(h * scale))))
        img = cv2.resize(img, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    label = item.label if item.boxes is None else detection_vector(item.boxes, (h, w))
    if resize and item.boxes is not None:
        label[2], label[3] = img.shape[1], img.shape[0]  # normalized boxes need no change
    if not resize and kind == wanted:
        return label, data
    if wanted == "JPEG":
        return label, encode_jpeg(img, quality)
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(img[:, :, ::-1]), [cv2.IMWRITE_PNG_COMPRESSION, 3])
    return label, buf.tobytes()


def pack(source: str, out: str, *, root: str | None = None, split: str | None = None, classes: Any = None,
         resize: int = 0,
         quality: int = 95, encoding: str = ".jpg", shuffle: bool = False, seed: int = 0, shards: int = 1,
         threads: int = 2, overwrite: bool = False, progress: bool | None = None) -> list[str]:
    """Write ``source``'s images into ``out.rec`` + ``out.idx`` (or ``shards`` of them); returns the ``.rec`` paths.

    One pack writes an output at a time (a second one is refused, naming the first). Nothing appears under
    the final names until every shard is complete, and then all of them appear together or none does
    (:mod:`.publish`): on any error (an unreadable image names its file, a full disk the file it could not
    write) the temporary files are removed and existing files are left exactly as they were.

    Raises
    ------
    InputError, DataFormatError
        A bad setting (naming its allowed range), an unknown source, an unreadable image.
    OutputBusyError
        Another pack is writing the same output.
    PublishError
        The outputs could not be written or published (a full disk, a folder in the way).
    """
    _check(resize, "resize", 0, 65535)
    _check(quality, "quality", 1, 100)
    _check(shards, "shards", 1, 4096)
    _check(threads, "threads", 1, 256)
    if encoding not in (".jpg", ".png"):
        raise InputError(f"pack: encoding must be .jpg or .png, got {encoding!r}")
    base = out[:-4] if out.endswith(".rec") else out
    names = shard_names(base, shards)
    folder = os.path.dirname(os.path.abspath(base))
    created = not os.path.isdir(folder)
    os.makedirs(folder, exist_ok=True)
    try:
        with _output_locks(names):  # one pack per output file, from its existence check to its publish
            recovered = recover(journal_path(base))
            if recovered:
                warnings.warn(f"pack: a publish of {base!r} was interrupted (the process was killed); it was "
                              f"{recovered} before this pack started", stacklevel=2)
            finals = [n + s for n in names for s in (".rec", ".idx")]
            remove_stale(finals + [journal_path(base)])
            check_targets(finals)
            existing = [f for f in finals if os.path.lexists(f)]
            if existing and not overwrite:
                raise InputError(f"pack: {existing[0]} exists; pass --overwrite to replace it")
            items, _ = items_from(source, root, split, classes)
            if not items:
                raise InputError(f"pack: {source!r} holds no images")
            order = np.random.default_rng(seed).permutation(len(items)) if shuffle else np.arange(len(items))
            writers = _write_shards(items, np.array_split(order, shards), names, resize, quality, encoding, threads,
                                    progress)
            publish_together([pair for writer in writers for pair in writer.pairs], journal_path(base))
    except BaseException:
        if created:  # a refused or failed pack leaves no folder behind it either
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        raise
    return [n + ".rec" for n in names]


@contextlib.contextmanager
def _output_locks(names: Sequence[str]) -> Iterator[None]:
    """Each shard's own lock: `OUT --shards 3` and `OUT-00000-of-00003` name one file, and share its lock."""
    with contextlib.ExitStack() as held:
        for name in names:
            held.enter_context(acquire(name + LOCK_SUFFIX, f"pack: the output {name!r}"))
        yield


def _write_shards(items: Sequence[PackItem], parts: Sequence[np.ndarray], names: Sequence[str], resize: int,
                  quality: int, encoding: str, threads: int, progress: bool | None) -> list[RecordWriter]:
    """Every shard written and synced under its temporary names; on any error none is left behind."""
    writers: list[RecordWriter] = []
    try:
        writers += [RecordWriter(n + ".rec", n + ".idx") for n in names]
        bar = _bar(len(items), progress)
        with ThreadPoolExecutor(threads, thread_name_prefix="augplug-pack") as pool:
            for writer, part in zip(writers, parts):
                for item, (label, data) in _ordered(pool, [items[i] for i in part], resize, quality, encoding,
                                                    4 * threads):
                    writer.write_image(item.key, label, data)
                    bar.update(1)
        bar.close()
        for writer in writers:  # every shard complete and on disk before any takes its final name
            writer.finish()
    except BaseException as exc:
        for writer in writers:
            writer.abort()
        if isinstance(exc, OSError) and not isinstance(exc, AugplugError):  # the disk: full, a size limit
            raise PublishError(f"pack: cannot write {exc.filename or names[0]}: {short_reason(exc)}; nothing was "
                               f"published and the temporary files were removed") from None
        raise
    return writers


def _ordered(pool: ThreadPoolExecutor, items: Sequence[PackItem], resize: int, quality: int, encoding: str,
             window: int) -> Iterator[tuple[PackItem, tuple[Any, bytes]]]:
    """Encoded items in order, at most ``window`` of them in flight (memory stays bounded)."""
    pending: collections.deque = collections.deque()
    for item in items:
        pending.append((item, pool.submit(encode_item, item, resize, quality, encoding)))
        if len(pending) >= window:
            done, future = pending.popleft()
            yield done, future.result()
    while pending:
        done, future = pending.popleft()
        yield done, future.result()


def _check(value: Any, name: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(f"pack: {name}={value!r} is invalid; allowed: an integer in [{low}, {high}]")


def _bar(total: int, progress: bool | None) -> Any:
    import sys

    from tqdm import tqdm

    return tqdm(total=total, unit="img", desc="pack", disable=not (sys.stderr.isatty() if progress is None
                                                                     else progress))


