"""RecordIO: byte-compatible with MXNet's reader and writer, bounded and precise about corrupt files."""
from __future__ import annotations

import os
import struct
import warnings

import numpy as np
import pytest

from gluon_augplug.io.recordio import (MAGIC, RecordFile, RecordIOError, RecordWriter, encode_record, pack_header,
                                         part_range, read_index)
from gluon_augplug.data.streaming import RecordDataset
from tests.optional import mx

MAGIC_BYTES = struct.pack("<I", MAGIC)


def _payloads(cat_path) -> list[bytes]:
    jpeg = cat_path.read_bytes()
    escaped = mx.recordio.pack(mx.recordio.IRHeader(0, 2.0, 2, 0), jpeg)
    escaped += b"\0" * (-len(escaped) % 4) + MAGIC_BYTES + b"abcd" + MAGIC_BYTES + b"xy"  # split by the writer
    return [mx.recordio.pack(mx.recordio.IRHeader(0, 0.0, 0, 0), jpeg),
            mx.recordio.pack(mx.recordio.IRHeader(0, [1.5, 2.5, 3.5], 1, 0), jpeg),
            escaped, b"", MAGIC_BYTES]


@pytest.mark.pinned
def test_the_same_bytes_as_mxnets_writer_and_readable_by_mxnet(cat_path, tmp_path):
    payloads = _payloads(cat_path)
    theirs = mx.recordio.MXIndexedRecordIO(str(tmp_path / "m.idx"), str(tmp_path / "m.rec"), "w")
    for key, payload in enumerate(payloads):
        theirs.write_idx(key, payload)
    theirs.close()
    with RecordWriter(str(tmp_path / "o.rec")) as ours:
        for key, payload in enumerate(payloads):
            ours.write(key, payload)
    assert (tmp_path / "o.rec").read_bytes() == (tmp_path / "m.rec").read_bytes()
    assert (tmp_path / "o.idx").read_text() == (tmp_path / "m.idx").read_text()
    reader = mx.recordio.MXIndexedRecordIO(str(tmp_path / "o.idx"), str(tmp_path / "o.rec"), "r")
    records = RecordFile(str(tmp_path / "m.rec"))
    keys, offsets = read_index(str(tmp_path / "m.idx"), records.size)
    for key, offset, payload in zip(keys, offsets, payloads):
        assert reader.read_idx(key) == payload
        assert records.read_at(offset)[0] == payload
    # the escaped payload really was stored in parts
    assert (tmp_path / "o.rec").read_bytes().count(MAGIC_BYTES) > len(payloads)


@pytest.mark.pinned
def test_items_equal_mxnets_image_record_dataset(photo_rec):
    ours = RecordDataset(str(photo_rec))
    theirs = mx.gluon.data.vision.ImageRecordDataset(str(photo_rec))
    assert len(ours) == len(theirs) == 13
    for i in range(len(ours)):
        (a, la), (b, lb) = ours[i], theirs[i]
        assert la == lb and isinstance(la, float)
        np.testing.assert_array_equal(a, b.asnumpy())
    assert ours[-1][1] == theirs[12][1]


@pytest.mark.pinned
def test_vector_labels_come_back_as_arrays(cat_path, tmp_path):
    with RecordWriter(str(tmp_path / "v.rec")) as w:
        w.write_image(7, [1, 2, 3], cat_path.read_bytes())
    image, label = RecordDataset(str(tmp_path / "v.rec"))[0]
    assert label.dtype == np.float32 and label.tolist() == [1.0, 2.0, 3.0] and image.shape == (400, 500, 3)
    assert mx.gluon.data.vision.ImageRecordDataset(str(tmp_path / "v.rec"))[0][1].tolist() == [1.0, 2.0, 3.0]


def test_without_an_index_one_scan_builds_it_and_says_so(photo_rec, tmp_path):
    lone = tmp_path / "lone.rec"
    lone.write_bytes(photo_rec.read_bytes())
    with pytest.warns(UserWarning, match="no index .* one scan"):
        scanned = RecordDataset(str(lone))
    indexed = RecordDataset(str(photo_rec))
    assert scanned.offsets == indexed.offsets and scanned.keys == indexed.keys
    assert scanned[5][1] == indexed[5][1]


def _rec(tmp_path, cat_path, n=3) -> tuple:
    with RecordWriter(str(tmp_path / "c.rec")) as w:
        for i in range(n):
            w.write_image(i, float(i), cat_path.read_bytes())
    return tmp_path / "c.rec", tmp_path / "c.idx"


def test_a_truncated_file_names_the_record_and_offset(cat_path, tmp_path):
    rec, _ = _rec(tmp_path, cat_path)
    data = rec.read_bytes()
    rec.write_bytes(data[: len(data) - 1000])
    ds = RecordDataset(str(rec))
    second = ds.offsets[2]
    with pytest.raises(RecordIOError, match=rf"c.rec: record 2 \(key 2\) at offset {second} is truncated"):
        ds[2]
    assert ds[1][1] == 1.0  # the others still read


def test_a_bad_magic_and_an_index_pointing_into_a_record(cat_path, tmp_path):
    rec, idx = _rec(tmp_path, cat_path)
    lines = idx.read_text().splitlines()
    idx.write_text(lines[0] + "\n" + lines[1].split("\t")[0] + "\t" + str(int(lines[1].split("\t")[1]) + 8) + "\n")
    with pytest.raises(RecordIOError, match=r"no RecordIO record at offset \d+ .*the magic 0xced7230a"):
        RecordDataset(str(rec))[1]
    idx.write_text("0\t99999999\n")
    with pytest.raises(RecordIOError, match=r"c.idx: line 1: offset 99999999 of key 0 is outside the .rec file"):
        RecordDataset(str(rec))
    idx.write_text("zero\t0\n")
    with pytest.raises(RecordIOError, match=r"line 1 is 'zero\\t0', not 'key<TAB>offset'"):
        RecordDataset(str(rec))


def test_huge_declared_lengths_and_label_counts_are_refused_before_reading(tmp_path):
    rec = tmp_path / "h.rec"
    rec.write_bytes(struct.pack("<II", MAGIC, (1 << 29) - 1) + b"\0" * 64)
    with pytest.raises(RecordIOError, match="declares 536,870,911 bytes, more than the limit"):
        RecordFile(str(rec)).read_at(0)
    payload = struct.pack("<IfQQ", 10**9, 0.0, 0, 0) + b"\xff\xd8\xff"
    rec.write_bytes(encode_record(payload))
    (tmp_path / "h.idx").write_text("0\t0\n")
    with pytest.raises(RecordIOError, match=r"offset 0 claims 1,000,000,000 labels"):
        RecordDataset(str(rec))[0]


def test_a_corrupt_record_is_skipped_counted_and_reported_when_asked(cat_path, tmp_path):
    rec, _ = _rec(tmp_path, cat_path)
    data = bytearray(rec.read_bytes())
    ds = RecordDataset(str(rec))
    start = ds.offsets[1] + 8 + 24
    data[start + 600: start + 30000] = b"\0" * (30000 - 600)  # the JPEG body of record 1 destroyed
    rec.write_bytes(bytes(data))
    with pytest.raises(Exception, match=r"record 1 \(key 1, offset \d+\) \(JPEG, \d+ bytes\) is corrupt"):
        RecordDataset(str(rec))[1]
    tolerant = RecordDataset(str(rec), skip_corrupt=True)
    with pytest.warns(UserWarning, match="skipped a corrupt record"):
        _, label = tolerant[1]
    assert label == 2.0 and len(tolerant.skipped) == 1 and "record 1" in tolerant.skipped[0]


class _WhoReads:  # a map-style data set, as DataLoader takes one
    """Items: (label, the reading process, the process the record file's descriptor was opened in)."""

    def __init__(self, ds):
        self.ds = ds

    def __len__(self):
        return len(self.ds)

    def __getitem__(self, i):
        label = self.ds[i][1]
        return np.array([label, os.getpid(), self.ds.records._pid], np.float64)


@pytest.mark.pinned
def test_records_are_read_by_offset_in_each_worker_process(photo_rec):
    ds = RecordDataset(str(photo_rec))
    ds[0]  # the parent opened its descriptor before the workers fork
    rows = np.concatenate([b.asnumpy() for b in mx.gluon.data.DataLoader(_WhoReads(ds), batch_size=4,
                                                                          num_workers=2)])
    np.testing.assert_array_equal(rows[:, 0], ds.labels)
    assert (rows[:, 1] == rows[:, 2]).all() and os.getpid() not in rows[:, 1]  # each worker its own descriptor


def test_parts_hold_every_record_exactly_once_as_dmlc_core_splits_them():
    for n in (0, 1, 13, 100):
        for parts in (1, 2, 3, 7):
            ranges = [part_range(n, i, parts) for i in range(parts)]
            assert sorted(i for r in ranges for i in r) == list(range(n))
    # IndexedRecordIOSplitter: parts of ceil(n / parts) records
    assert [len(part_range(41, i, 2)) for i in range(2)] == [21, 20]
    assert [len(part_range(5, i, 4)) for i in range(4)] == [2, 2, 1, 0]
    with pytest.raises(ValueError, match="part_index must be in"):
        part_range(10, 2, 2)


def test_shards_of_a_dataset_partition_it(photo_rec):
    ds = RecordDataset(str(photo_rec))
    shards = [ds.shard(i, 3) for i in range(3)]
    assert [len(s) for s in shards] == [5, 5, 3]
    assert sorted(float(x) for s in shards for x in s.labels) == sorted(ds.labels.tolist())
    np.testing.assert_array_equal(shards[2][0][0], ds[10][0])


def test_labels_come_from_the_headers_alone(photo_rec, tmp_path):
    ds = RecordDataset(str(photo_rec))
    assert ds.labels.tolist() == [ds[i][1] for i in range(len(ds))]
    data = bytearray(photo_rec.read_bytes())
    data[ds.offsets[4]:ds.offsets[4] + 4] = b"JUNK"
    (tmp_path / "j.rec").write_bytes(bytes(data))
    (tmp_path / "j.idx").write_text(photo_rec.with_suffix(".idx").read_text())
    with pytest.raises(RecordIOError, match=rf"no readable record 4 at offset {ds.offsets[4]}"):
        RecordDataset(str(tmp_path / "j.rec")).labels  # noqa: B018 (reading it is the test)


def test_the_writer_leaves_nothing_under_the_final_names_on_error(tmp_path):
    (tmp_path / "keep.rec").write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with RecordWriter(str(tmp_path / "keep.rec")) as w:
            w.write(0, pack_header(1.0, 0) + b"x")
            raise RuntimeError("stop")
    assert (tmp_path / "keep.rec").read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["keep.rec"]


def test_one_record_is_read_not_the_file(cat_path, tmp_path):
    rec, _ = _rec(tmp_path, cat_path, n=50)
    records = RecordFile(str(rec))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        payload, following = records.read_at(0)
    assert len(payload) == 24 + cat_path.stat().st_size and following < records.size / 40
