"""MXNet's RecordIO (``.rec`` + ``.idx``, as ``im2rec`` writes them), read by offset and written atomically.

The format (dmlc-core's ``recordio``): each record is a 4-byte magic ``0xced7230a``, a 4-byte
word ``cflag << 29 | length``, then ``length`` bytes padded to a multiple of 4. A payload that
holds the magic at a 4-byte aligned position is stored in parts (cflag 1 = first, 2 = middle,
3 = last; 0 = whole) and the magic is put back between them when read. An image record's payload
is MXNet's ``IRHeader`` (``flag`` uint32, ``label`` float32, ``id`` and ``id2`` uint64), then
``flag`` float32 labels when ``flag > 0``, then the encoded image. The ``.idx`` file lists
``key<TAB>offset`` lines.

Nothing is loaded whole: a :class:`RecordFile` reads one record with ``os.pread`` from a file
descriptor that each process opens for itself (a DataLoader worker forked from the parent gets
its own), so memory stays bounded whatever the size of the file.
"""
from __future__ import annotations

import contextlib
import os
import struct
import threading
import warnings
from typing import Any, Iterator, Sequence

import numpy as np

from ..errors import brief
from .formats import DataFormatError

MAGIC = 0xCED7230A
_MAGIC_BYTES = struct.pack("<I", MAGIC)
_LENGTH_MASK = (1 << 29) - 1
MAX_RECORD_BYTES = 64 * 2**20  # one encoded image with its header; dmlc-core's own limit is 2**29
MAX_LABELS = 1 << 20  # float32 labels in one header (4 MB): detection records hold a few hundred
MAX_LABEL_MAGNITUDE = 1 << 24  # the largest integer a float32 holds exactly: past it a class number is not one
_IR_FORMAT = "<IfQQ"
IR_SIZE = struct.calcsize(_IR_FORMAT)
_OPENING = threading.Lock()  # threads of one process open a file's descriptor once


class RecordIOError(DataFormatError):
    """A ``.rec`` or ``.idx`` file that is truncated, corrupt or not RecordIO; the message names the file,
    the record and the offset."""


def _aligned(n: int) -> int:
    return (n + 3) & ~3


class RecordFile:
    """Random access to the records of a ``.rec`` file by byte offset, fork-safe.

    Parameters
    ----------
    path : str
        The ``.rec`` file (opened lazily, once per process).
    """

    def __init__(self, path: str):
        self.path = path
        if not os.path.isfile(path):
            raise RecordIOError(f"RecordIO file {path!r} does not exist or is not a regular file")
        self.size = os.path.getsize(path)
        self._fd: int | None = None
        self._pid = -1

    def _descriptor(self) -> int:
        if self._pid != os.getpid():  # first use in this process (a forked worker does not share the parent's)
            with _OPENING:
                if self._pid != os.getpid():
                    self._fd = os.open(self.path, os.O_RDONLY)
                    self._pid = os.getpid()
        assert self._fd is not None
        return self._fd

    def read_at(self, offset: int, what: str = "record") -> tuple[bytes, int]:
        """The payload of the record that starts at ``offset`` and the offset just after it.

        Raises
        ------
        RecordIOError
            No magic at ``offset``, a length past the end of the file or above ``MAX_RECORD_BYTES``,
            or a multi-part record whose parts do not follow each other.
        """
        fd = self._descriptor()
        parts: list[bytes] = []
        position, total = offset, 0
        while True:
            head = os.pread(fd, 8, position)
            if len(head) < 8:
                raise RecordIOError(f"{self.path}: {what} at offset {position} is truncated: the file ends "
                                    f"{self.size - position} bytes after it starts (a record header is 8 bytes)")
            magic, word = struct.unpack("<II", head)
            if magic != MAGIC:
                raise RecordIOError(f"{self.path}: no RecordIO record at offset {position} ({what}): found "
                                    f"{magic:#010x} where the magic {MAGIC:#010x} should be (a corrupt file, or an "
                                    f".idx that does not belong to it)")
            cflag, length = word >> 29, word & _LENGTH_MASK
            total += length
            if total > MAX_RECORD_BYTES:
                raise RecordIOError(f"{self.path}: {what} at offset {offset} declares {total:,} bytes, more than the "
                                    f"limit of {MAX_RECORD_BYTES:,} for one record: not read")
            if position + 8 + length > self.size:
                raise RecordIOError(f"{self.path}: {what} at offset {position} is truncated: it declares {length:,} "
                                    f"bytes but the file ends after {self.size - position - 8:,}")
            if (cflag in (2, 3)) != bool(parts):
                raise RecordIOError(f"{self.path}: {what} at offset {position} has part flag {cflag}, which "
                                    f"{'cannot continue' if cflag in (0, 1) else 'cannot start'} a record")
            parts.append(os.pread(fd, length, position + 8))
            position += 8 + _aligned(length)
            if cflag in (0, 3):
                return _MAGIC_BYTES.join(parts), position

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        """``(offset, payload)`` of every record, in file order (one scan)."""
        offset = 0
        while offset < self.size:
            payload, following = self.read_at(offset, "record")
            yield offset, payload
            offset = following

    def close(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd, self._pid = None, -1

    def __getstate__(self) -> dict:  # a descriptor does not cross a pickle; the copy opens its own
        state = self.__dict__.copy()
        state["_fd"], state["_pid"] = None, -1
        return state

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


def read_index(path: str, rec_size: int) -> tuple[list[int], list[int]]:
    """``(keys, offsets)`` of an ``.idx`` file, in its line order (MXNet's ``MXIndexedRecordIO`` order).

    Raises
    ------
    RecordIOError
        A line that is not ``key<TAB>offset``, or an offset outside the ``.rec`` file.
    """
    from .formats import read_bounded

    data = read_bounded(path, 1 << 31, "RecordIO index")
    keys: list = []
    offsets: list = []
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split()
        try:
            key, offset = int(fields[0]), int(fields[1])
            if len(fields) != 2:
                raise ValueError
        except (ValueError, IndexError):
            raise RecordIOError(f"{path}: line {number} is {line[:60]!r}, not 'key<TAB>offset'") from None
        if not 0 <= offset < rec_size or offset % 4:
            raise RecordIOError(f"{path}: line {number}: offset {offset} of key {key} is outside the .rec file "
                                f"({rec_size} bytes) or not a multiple of 4")
        keys.append(key)
        offsets.append(offset)
    return keys, offsets


def scan_index(records: RecordFile) -> tuple[list[int], list[int]]:
    """The index of a ``.rec`` without its ``.idx``, by one scan: keys are the headers' ``id`` fields."""
    keys: list = []
    offsets: list = []
    for offset, payload in records:
        keys.append(unpack_header(payload, records.path, offset, f"record {len(keys)}")[2]
                    if len(payload) >= IR_SIZE else len(keys))
        offsets.append(offset)
    return keys, offsets


def unpack_header(payload: bytes, path: str, offset: int, record: str = "record") -> tuple[int, Any, int, int]:
    """``(flag, label, id, position of the image)`` of an image record: ``label`` a float, or a float32
    array of ``flag`` labels.

    Raises
    ------
    RecordIOError
        A header shorter than MXNet's, more labels than the record holds, or a label that is not a finite
        number within ``MAX_LABEL_MAGNITUDE`` (naming the file, ``record``, its offset and the value).
    """
    if len(payload) < IR_SIZE:
        raise RecordIOError(f"{path}: {record} at offset {offset} holds {len(payload)} bytes, fewer than the "
                            f"{IR_SIZE}-byte image record header")
    flag, label, key, _ = struct.unpack_from(_IR_FORMAT, payload)
    if flag == 0:
        if not -MAX_LABEL_MAGNITUDE <= label <= MAX_LABEL_MAGNITUDE:  # NaN fails too; Python floats: every read
            _check_labels(np.float32(label), path, offset, record)
        return 0, float(label), key, IR_SIZE
    if flag > MAX_LABELS or IR_SIZE + 4 * flag > len(payload):
        raise RecordIOError(f"{path}: {record} at offset {offset} claims {flag:,} labels, more than its "
                            f"{len(payload):,} bytes hold" + (f" (limit {MAX_LABELS:,})" if flag > MAX_LABELS else ""))
    labels = np.frombuffer(payload, np.float32, flag, IR_SIZE).copy()
    # a few labels (a detection record's): a sum of Python floats within the bound clears them all at once (NaN
    # fails the comparison); anything else gets the exact check, which raises only for a label out of bounds
    if flag > 256 or not sum(map(abs, labels.tolist())) <= MAX_LABEL_MAGNITUDE:
        _check_labels(labels, path, offset, record)
    return flag, labels, key, IR_SIZE + 4 * flag


def _check_labels(labels: Any, path: str, offset: int, record: str) -> None:
    values = np.ravel(labels)
    bad = np.flatnonzero(~(np.abs(values) <= MAX_LABEL_MAGNITUDE))  # NaN compares false: caught here too
    if bad.size:
        where = f" (label {int(bad[0])} of {values.size})" if values.size > 1 else ""
        raise RecordIOError(f"{path}: {record} at offset {offset} has the label {float(values[bad[0]]):.7g}{where}: a "
                            f"label must be a finite number of magnitude at most {MAX_LABEL_MAGNITUDE:,} (a class, a "
                            f"box coordinate or a pixel size)")


def pack_header(label: Any, key: int) -> bytes:
    """MXNet's ``recordio.pack`` header: a number as the label field, a sequence as ``flag`` float32 labels.

    Raises
    ------
    RecordIOError
        A label that is not a number or a sequence of them, or one the readers would refuse (not finite, past
        ``MAX_LABEL_MAGNITUDE``, more than ``MAX_LABELS`` of them), or a key that is not an integer in [0, 2^64).
    """
    if isinstance(key, (bool, np.bool_)) or not isinstance(key, (int, np.integer)) or not 0 <= key < 2**64:
        raise RecordIOError(f"a record key must be an integer in [0, 2^64), got {brief(key, 40)}")
    try:
        with warnings.catch_warnings():  # numpy 1.x warns of a ragged list before making it an object array
            warnings.simplefilter("ignore")
            array = np.asarray(label)
    except (TypeError, ValueError, OverflowError):  # a ragged list, numpy 2
        array = np.asarray(None)
    if array.dtype.kind not in "biuf" or array.size == 0:  # strings, objects, dates, complex numbers, []
        raise RecordIOError(f"record key {key}: the label {brief(label, 60)} is not a number or a non-empty "
                            f"sequence of numbers") from None
    values = array.astype(np.float64).ravel()
    bad = np.flatnonzero(~(np.abs(values) <= MAX_LABEL_MAGNITUDE))
    if bad.size or values.size > MAX_LABELS:
        shown = f"the label {float(values[bad[0]]):.7g}" if bad.size else f"{values.size:,} labels"
        raise RecordIOError(f"record key {key}: {shown} would not read back: labels are finite numbers of magnitude "
                            f"at most {MAX_LABEL_MAGNITUDE:,}, at most {MAX_LABELS:,} of them")
    if array.ndim == 0:  # a number (0-d arrays and numpy scalars included) goes in the header's own field
        return struct.pack(_IR_FORMAT, 0, float(values[0]), key, 0)
    labels = values.astype(np.float32)
    return struct.pack(_IR_FORMAT, labels.size, 0.0, key, 0) + labels.tobytes()


def encode_record(payload: bytes) -> bytes:
    """One record as dmlc-core writes it: split where the payload holds the magic at an aligned position."""
    if len(payload) > _LENGTH_MASK:
        raise RecordIOError(f"a record of {len(payload):,} bytes is larger than RecordIO's limit of {_LENGTH_MASK:,}")
    cuts = []
    whole = len(payload) & ~3
    start = payload.find(_MAGIC_BYTES)
    while 0 <= start < whole:
        if start % 4 == 0:
            cuts.append(start)
            start = payload.find(_MAGIC_BYTES, start + 4)
        else:
            start = payload.find(_MAGIC_BYTES, start + 1)
    out, begin = [], 0
    for cut in cuts:
        out += [_MAGIC_BYTES, struct.pack("<I", (1 if begin == 0 else 2) << 29 | (cut - begin)), payload[begin:cut]]
        begin = cut + 4
    rest = len(payload) - begin
    out += [_MAGIC_BYTES, struct.pack("<I", (3 if cuts else 0) << 29 | rest), payload[begin:],
            b"\0" * (_aligned(rest) - rest)]
    return b"".join(out)


@contextlib.contextmanager
def _naming_errors(path: str) -> Iterator[None]:
    """An ``OSError`` of the disk (full, a file-size limit) that names ``path``, which a write's does not."""
    try:
        yield
    except OSError as exc:
        if exc.filename:
            raise
        raise OSError(exc.errno, exc.strerror or str(exc), path) from None


class RecordWriter:
    """Write a ``.rec`` and its ``.idx`` under temporary names, renamed into place by :meth:`commit`.

    Until :meth:`commit` nothing exists under the final names; :meth:`abort` (or leaving a ``with``
    block by an exception) removes the temporary files.
    """

    def __init__(self, rec_path: str, idx_path: str | None = None):
        self.rec_path = rec_path
        self.idx_path = idx_path or os.path.splitext(rec_path)[0] + ".idx"
        suffix = f".tmp-{os.getpid()}"
        self._tmp = (self.rec_path + suffix, self.idx_path + suffix)
        self._rec = open(self._tmp[0], "wb")
        try:
            self._idx = open(self._tmp[1], "w", encoding="ascii")
        except BaseException:
            self._rec.close()
            os.remove(self._tmp[0])
            raise
        self.count = 0

    def write(self, key: int, payload: bytes) -> None:
        """Append one record. An error of the disk (full, a file-size limit) is an ``OSError`` naming the file."""
        record = encode_record(payload)
        with _naming_errors(self._tmp[0]):
            offset = self._rec.tell()
            self._rec.write(record)
        with _naming_errors(self._tmp[1]):
            self._idx.write(f"{key}\t{offset}\n")
        self.count += 1

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """``(temporary, final)`` of the index and the records, in the order :meth:`publish` renames them."""
        return [(self._tmp[1], self.idx_path), (self._tmp[0], self.rec_path)]

    def write_image(self, key: int, label: Any, encoded: bytes) -> None:
        """An image record: MXNet's header with ``label`` (a number or a sequence) and ``key`` as its id."""
        try:
            header = pack_header(label, key)
        except RecordIOError as exc:
            raise RecordIOError(f"{self.rec_path}: {exc}") from None
        self.write(key, header + encoded)

    def finish(self) -> None:
        """Flush and sync both temporary files (the step that may fail on a full disk)."""
        for f, tmp in zip((self._rec, self._idx), self._tmp):
            with _naming_errors(tmp):
                f.flush()
                os.fsync(f.fileno())
                f.close()

    def publish(self) -> None:
        """Rename both finished files into place: the index first, so a new ``.rec`` never has an old index
        beside it (an old ``.rec`` may, for the instant between the renames)."""
        os.replace(self._tmp[1], self.idx_path)
        os.replace(self._tmp[0], self.rec_path)

    def commit(self) -> None:
        self.finish()
        self.publish()

    def abort(self) -> None:
        """Close and remove both temporary files, whatever closing raises (a close flushes: on a full disk it
        fails again, and the files must go all the same)."""
        for f, tmp in zip((self._rec, self._idx), self._tmp):
            try:
                f.close()
            except OSError:
                pass
            try:
                os.remove(tmp)
            except FileNotFoundError:
                pass

    def __enter__(self) -> "RecordWriter":
        return self

    def __exit__(self, kind: Any, *rest: Any) -> None:
        if kind is None:
            self.commit()
        else:
            self.abort()


def part_range(length: int, part_index: int, num_parts: int) -> range:
    """The records of part ``part_index`` of ``num_parts`` contiguous parts, as ImageRecordIter's
    ``num_parts``/``part_index`` split an indexed file (dmlc-core's ``IndexedRecordIOSplitter``: parts of
    ``ceil(length / num_parts)`` records, the last ones shorter or empty): every record in exactly one part."""
    if not (isinstance(num_parts, int) and num_parts >= 1 and isinstance(part_index, int)
            and 0 <= part_index < num_parts):
        raise ValueError(f"part_index must be in [0, num_parts) and num_parts >= 1, got part {part_index!r} of "
                         f"{num_parts!r}")
    step = -(-length // num_parts)
    return range(min(part_index * step, length), min((part_index + 1) * step, length))


def shard_names(base: str, shards: int) -> Sequence[str]:
    """``base.rec`` for one shard, else ``base-00000-of-00004.rec`` ... (without the suffix)."""
    if shards == 1:
        return [base]
    return [f"{base}-{i:05d}-of-{shards:05d}" for i in range(shards)]
