"""Streamed data sets: MXNet's and GluonCV's semantics for image trees, im2rec lists and records."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gluon_augplug.io.decode import EncodedImage
from gluon_augplug.io.formats import DataFormatError
from gluon_augplug.data.streaming import ImageFolder, ImageList, RecordDataset, RecordDetectionDataset, open_split
from tests.optional import mx



def _im2rec() -> Path:
    return Path(mx.__file__).parent / "tools" / "im2rec.py"


@pytest.mark.pinned
def test_an_image_tree_reads_as_mxnets_image_folder_dataset(photo_tree, tmp_path):
    (photo_tree / "notes.txt").write_text("not a class")  # skipped by both, with a warning here
    try:
        with pytest.warns(UserWarning, match="skipped 1 entries"):
            ours = ImageFolder(str(photo_tree))
        theirs = mx.gluon.data.vision.ImageFolderDataset(str(photo_tree))
    finally:
        (photo_tree / "notes.txt").unlink()
    assert ours.synsets == theirs.synsets == ["class_0", "class_1", "class_2"]
    assert len(ours) == len(theirs) == 13
    for i in range(len(ours)):
        (a, la), (b, lb) = ours[i], theirs[i]
        assert la == lb
        np.testing.assert_array_equal(a, b.asnumpy())
    assert ours.labels.tolist() == [label for _, label in theirs.items]


def test_encoded_items_decode_to_the_same_pixels(photo_tree):
    plain, encoded = ImageFolder(str(photo_tree)), ImageFolder(str(photo_tree), encoded=True)
    image, label = encoded[3]
    assert isinstance(image, EncodedImage) and image.shape == (375, 500, 3) and label == plain[3][1]
    np.testing.assert_array_equal(image.decode(), plain[3][0])
    assert "class_0/009.jpg" in image.name or "class_" in image.name


@pytest.mark.pinned
def test_im2rec_lists_and_records_read_as_mxnet_reads_them(photo_tree, tmp_path):
    prefix = tmp_path / "im2rec"
    subprocess.run([sys.executable, str(_im2rec()), "--list", "--recursive", str(prefix), str(photo_tree)], check=True,
                   capture_output=True)
    subprocess.run([sys.executable, str(_im2rec()), "--resize", "128", "--quality", "90", str(prefix), str(photo_tree)],
                   check=True, capture_output=True)
    listed = ImageList(str(prefix) + ".lst", root=str(photo_tree))
    folder = ImageFolder(str(photo_tree))
    assert len(listed) == 13
    by_path = {Path(p).relative_to(photo_tree).as_posix(): label for p, label in folder.items}
    for _, label, relative in listed.items:
        assert label == by_path[relative]  # im2rec --recursive numbers the sorted class folders as MXNet does
    np.testing.assert_array_equal(listed[0][0], folder[[p for p, _ in folder.items].index(
        str(photo_tree / listed.items[0][2]))][0])
    ours, theirs = RecordDataset(str(prefix) + ".rec"), mx.gluon.data.vision.ImageRecordDataset(str(prefix) + ".rec")
    assert len(ours) == len(theirs) == 13
    for i in (0, 6, 12):
        np.testing.assert_array_equal(ours[i][0], theirs[i][0].asnumpy())
        assert ours[i][1] == theirs[i][1]
    assert min(ours[0][0].shape[:2]) == 128


def test_a_list_with_vector_labels_and_a_bad_line(photo_tree, tmp_path):
    first = sorted((photo_tree / "class_0").iterdir())[0]
    lst = tmp_path / "multi.lst"
    lst.write_text(f"0\t1.0\t2.5\t{first}\n")
    image, label = ImageList(str(lst), root="/")[0]
    assert label.tolist() == [1.0, 2.5] and image.shape == (375, 500, 3)
    lst.write_text(f"0\t1.0\t{first}\nseven\t{first}\n")
    with pytest.raises(DataFormatError, match=r"multi.lst: line 2 is 'seven\\t.*', not 'index<TAB>label"):
        ImageList(str(lst))


@pytest.mark.pinned
def test_detection_records_read_as_gluoncvs_record_file_detection(tmp_path):
    from gluoncv.data import RecordFileDetection

    from gluon_augplug.data.pack import pack
    from tests.conftest import shared_file

    voc = shared_file("voc-cat/Annotations/cat1.xml").parents[1]
    rec = pack(str(voc), str(tmp_path / "voc"), classes="auto")[0]
    ours, theirs = RecordDetectionDataset(rec), RecordFileDetection(rec)
    (a, la), (b, lb) = ours[0], theirs[0]
    np.testing.assert_array_equal(a, b.asnumpy())
    np.testing.assert_allclose(la, lb, rtol=1e-6)
    # the VOC boxes, class ids and difficult flags (GluonCV subtracts VOC's 1-based offset)
    np.testing.assert_allclose(la, [[34, 87, 469, 317, 0, 0], [34, 157, 109, 249, 1, 0]], atol=1e-3)
    image, label = RecordDetectionDataset(rec, encoded=True)[0]
    assert isinstance(image, EncodedImage)
    np.testing.assert_allclose(label, la)


def test_open_split_picks_the_reader_and_refuses_others(photo_tree, photo_rec, tmp_path):
    assert isinstance(open_split(str(photo_rec)), RecordDataset)
    assert isinstance(open_split(str(photo_tree)), ImageFolder)
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(DataFormatError, match="not a .rec file, an im2rec .lst list or an image tree"):
        open_split(str(tmp_path / "x.txt"))


def test_subsets_and_items_out_of_range(photo_rec):
    ds = RecordDataset(str(photo_rec))
    view = ds.subset([12, 0])
    assert len(view) == 2 and view[0][1] == ds[12][1] and view.labels.tolist() == [ds.labels[12], ds.labels[0]]
    for bad in (13, -14, 2**70, 1.5):
        with pytest.raises(IndexError, match="out of range for 13 items"):
            ds[bad]


def test_checking_class_labels_reads_the_headers_once(photo_rec, monkeypatch):
    data = RecordDataset(str(photo_rec))
    passes = []
    read = RecordDataset._header_labels
    monkeypatch.setattr(RecordDataset, "_header_labels", lambda self: passes.append(1) or read(self))
    data.check_class_labels()
    assert data.classes == ["0", "1", "2"] and len(passes) == 1
