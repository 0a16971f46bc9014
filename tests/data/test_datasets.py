"""Data-set readers: every format (written by the tests in the official layouts), archives, subsets, errors."""
from __future__ import annotations

import os
import pickle
import tarfile

import numpy as np
import pytest

from gluon_augplug.data.datasets import open_dataset, stratified_indices
from gluon_augplug.io.formats import DataFormatError

# records per batch file: data_batch_1..5 hold 6 images each (30 train), test_batch 10 (one per class)
FILE_SLICES = [slice(k * 6, (k + 1) * 6) for k in range(5)] + [slice(30, 40)]


@pytest.fixture(scope="module")
def source(cifar_test_images):
    images, labels = cifar_test_images  # 100 per class, sorted by class
    order = [c * 100 + j for j in range(4) for c in range(10)]  # class 0..9, then again: 40 images
    return images[order].copy(), labels[order].copy()


def write_binary(folder, images, labels):
    os.makedirs(folder, exist_ok=True)
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    for sl, name in zip(FILE_SLICES, names):
        records = np.concatenate([labels[sl, None].astype(np.uint8),
                                  images[sl].transpose(0, 3, 1, 2).reshape(-1, 3072)], axis=1)
        with open(os.path.join(folder, name), "wb") as f:
            f.write(records.tobytes())
    with open(os.path.join(folder, "batches.meta.txt"), "w") as f:
        f.write("\n".join(["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]))


def write_python(folder, images, labels):
    os.makedirs(folder, exist_ok=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for sl, name in zip(FILE_SLICES, names):
        batch = {b"batch_label": name.encode(), b"labels": labels[sl].tolist(),
                 b"data": images[sl].transpose(0, 3, 1, 2).reshape(-1, 3072),
                 b"filenames": [b"x.png"] * (sl.stop - sl.start)}
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump(batch, f)


def write_tree(folder, images, labels, classes, fmt="PNG"):
    from PIL import Image

    for split, sl in (("train", slice(0, 30)), ("test", slice(30, 40))):
        for i, (img, label) in enumerate(zip(images[sl], labels[sl])):
            d = os.path.join(folder, split, classes[label])
            os.makedirs(d, exist_ok=True)
            Image.fromarray(img).save(os.path.join(d, f"{i:04d}.{fmt.lower()}"), fmt)


def tar_of(folder, path):
    with tarfile.open(path, "w:gz") as tar:
        tar.add(folder, arcname=os.path.basename(folder))
    return path


CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def check(dataset, images, labels, sl, ordered=True):
    assert len(dataset) == sl.stop - sl.start
    got = [dataset[i] for i in range(len(dataset))]
    if ordered:
        np.testing.assert_array_equal(np.stack([g[0] for g in got]), images[sl])
        np.testing.assert_array_equal([g[1] for g in got], labels[sl])
    else:  # a folder tree is read class by class: compare as multisets
        key = lambda im, lab: (int(lab), im.tobytes())  # noqa: E731
        assert sorted(key(*g) for g in got) == sorted(key(im, lab) for im, lab in zip(images[sl], labels[sl]))
    assert dataset.classes == CLASSES


@pytest.mark.parametrize("layout", ["binary", "python", "tree"])
@pytest.mark.parametrize("packed", [False, True])
def test_every_format_from_a_folder_and_from_an_archive(layout, packed, source, tmp_path):
    images, labels = source
    if layout == "binary":
        folder = tmp_path / "cifar-10-batches-bin"
        write_binary(folder, images, labels)
    elif layout == "python":
        folder = tmp_path / "cifar-10-batches-py"
        write_python(folder, images, labels)
    else:
        folder = tmp_path / "cifar10-png"
        write_tree(folder, images, labels, CLASSES)
    path = tar_of(str(folder), str(tmp_path / "data.tar.gz")) if packed else str(tmp_path if layout != "tree" else folder)
    ordered = layout != "tree"
    check(open_dataset(path, "train"), images, labels, slice(0, 30), ordered)
    check(open_dataset(path, "test"), images, labels, slice(30, 40), ordered)


def test_real_jpeg_archive_stratified_subset():
    from tests.conftest import shared_file

    ds = open_dataset(str(shared_file("cifar10-jpg.tar.gz")), "train", limit=250, seed=1)
    assert len(ds) == 250 and ds.images.shape == (250, 32, 32, 3) and ds.images.dtype == np.uint8
    assert np.bincount(ds.labels).tolist() == [25] * 10
    again = open_dataset(str(shared_file("cifar10-jpg.tar.gz")), "train", limit=250, seed=1)
    np.testing.assert_array_equal(ds.images, again.images)


def test_stratified_indices():
    labels = np.repeat(np.arange(4), [10, 20, 30, 40])
    idx = stratified_indices(labels, 10, seed=0)
    assert len(idx) == 10 and np.bincount(labels[idx]).tolist() == [3, 3, 2, 2]
    assert list(stratified_indices(labels, None)) == list(range(100))
    with pytest.raises(ValueError):
        stratified_indices(labels, 0)


def test_mixed_size_trees_are_kept_encoded_and_decoded_on_access(tmp_path, cat):
    from PIL import Image

    for split in ("train", "test"):
        for cls, img in (("a", cat), ("b", cat[:100, :120])):
            os.makedirs(tmp_path / split / cls)
            Image.fromarray(np.ascontiguousarray(img)).save(tmp_path / split / cls / "0.png")
    ds = open_dataset(str(tmp_path), "train")
    assert isinstance(ds.images, list) and isinstance(ds.images[0], bytes)
    assert ds[0][0].shape == (400, 500, 3) and ds[1][0].shape == (100, 120, 3) and ds.classes == ["a", "b"]


def test_truncated_binary_names_file_record_and_offset(source, tmp_path):
    images, labels = source
    write_binary(tmp_path, images, labels)
    path = tmp_path / "data_batch_3.bin"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataFormatError) as info:
        open_dataset(str(tmp_path), "train")
    text = str(info.value)
    assert "data_batch_3.bin" in text and "record 5" in text and f"offset {5 * 3073}" in text


def test_bad_label_byte_names_the_record(source, tmp_path):
    images, labels = source
    write_binary(tmp_path, images, labels)
    path = tmp_path / "test_batch.bin"
    data = bytearray(path.read_bytes())
    data[2 * 3073] = 200
    path.write_bytes(bytes(data))
    with pytest.raises(DataFormatError, match=r"test_batch.bin: record 2 \(offset 6146\) has label 200"):
        open_dataset(str(tmp_path), "test")


def test_truncated_or_malicious_pickles(source, tmp_path):
    images, labels = source
    write_python(tmp_path, images, labels)
    path = tmp_path / "data_batch_2"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(DataFormatError, match=r"data_batch_2 is truncated or corrupt.*offset"):
        open_dataset(str(tmp_path), "train")
    write_python(tmp_path, images, labels)

    class Evil:
        def __reduce__(self):
            return (os.system, ("touch pwned",))

    (tmp_path / "test_batch").write_bytes(pickle.dumps({b"data": Evil(), b"labels": []}))
    with pytest.raises(DataFormatError, match="refusing to load"):
        open_dataset(str(tmp_path), "test")
    assert not (tmp_path / "pwned").exists()


def test_truncated_archive_names_the_offset(source, tmp_path):
    images, labels = source
    folder = tmp_path / "cifar-10-batches-bin"
    write_binary(folder, images, labels)
    archive = tar_of(str(folder), str(tmp_path / "d.tar.gz"))
    data = open(archive, "rb").read()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFormatError, match=r"cut.tar.gz.*(truncated|corrupt).*offset \d+"):
        open_dataset(str(cut), "train")


def test_truncated_jpeg_in_a_tree_names_the_file(source, tmp_path):
    images, labels = source
    write_tree(tmp_path / "tree", images, labels, CLASSES, fmt="JPEG")
    victim = sorted((tmp_path / "tree" / "train" / "cat").iterdir())[0]
    victim.write_bytes(victim.read_bytes()[:200])
    with pytest.raises(DataFormatError, match=rf"{victim.name} \(JPEG, 200 bytes\) is corrupt"):
        open_dataset(str(tmp_path / "tree"), "train")


def test_not_a_dataset(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        open_dataset(str(tmp_path / "missing"), "train")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFormatError, match="holds no data set"):
        open_dataset(str(tmp_path / "empty"), "train")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataFormatError, match="neither a folder nor"):
        open_dataset(str(tmp_path / "notes.txt"), "train")
    with pytest.raises(ValueError, match="split"):
        open_dataset(str(tmp_path), "validation")
