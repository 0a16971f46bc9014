"""Data that lies: class folders that differ between splits, labels of the wrong type, files and archives
that expand without bound, images of mixed sizes. Each is an error naming the file or folder."""
from __future__ import annotations

import io
import os
import pickle
import tarfile

import numpy as np
import pytest

from gluon_augplug.data.datasets import open_dataset
from gluon_augplug.io.decode import decode_image
from gluon_augplug.io.formats import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, DataFormatError
from gluon_augplug.io.images import ImageReadError, read_image
from gluon_augplug.errors import InputError
from tests.data.test_datasets import CLASSES, source, tar_of, write_python, write_tree  # noqa: F401

TINY = dict(model="cifar_resnet20_v1", epochs=1, batch_size=4, test_aug="ToTensor", progress=False)


@pytest.fixture
def tree(source, tmp_path):  # noqa: F811
    images, labels = source
    write_tree(tmp_path / "tree", images, labels, CLASSES)
    return tmp_path / "tree"


def test_a_test_split_missing_a_class_is_an_error_naming_both_folders(tree):
    for f in (tree / "test" / "truck").iterdir():
        f.unlink()
    (tree / "test" / "truck").rmdir()
    with pytest.raises(DataFormatError, match=r"class folders of .*test.* and .*train.* differ \(missing from "
                                              r"the test split: truck\)"):
        open_dataset(str(tree), "test")
    open_dataset(str(tree), "train")  # the training split alone is fine


def test_an_extra_test_class_is_an_error(tree):
    (tree / "test" / "zebra").mkdir()
    (tree / "test" / "zebra" / "0.png").write_bytes((tree / "test" / "cat" / os.listdir(tree / "test" / "cat")[0])
                                                    .read_bytes())
    with pytest.raises(DataFormatError, match="not in the training split: zebra"):
        open_dataset(str(tree), "test")


def test_an_empty_class_folder_is_an_error_not_a_class(tree):
    (tree / "train" / "unicorn").mkdir()
    with pytest.raises(DataFormatError, match=r"unicorn' holds no image files"):
        open_dataset(str(tree), "train")


def test_archives_compare_the_splits_too(tree, tmp_path):
    import shutil

    shutil.rmtree(tree / "test" / "ship")
    archive = tar_of(str(tree), str(tmp_path / "t.tar.gz"))
    with pytest.raises(DataFormatError, match="missing from the test split: ship"):
        open_dataset(archive, "test")


@pytest.mark.parametrize("labels, message", [
    ([0, 1.5, 2, 3], r"record 1 has label 1.5 \(float\), not an integer"),
    ([0, 1, 2**70, 3], r"record 2 has label 1180591620717411303424, not a CIFAR-10 class"),
    ([0, 1, -1, 3], "record 2 has label -1"),
    (np.array([0, 1, 2, 3], dtype=np.float32), r"record 0 has label 0.0 \(float32\)"),
    ([0, True, 2, 3], r"record 1 has label True \(bool\)"),
])
def test_python_batch_labels_must_be_integers_in_range(source, tmp_path, labels, message):  # noqa: F811
    images, _ = source
    write_python(tmp_path, images, np.arange(40) % 10)
    batch = {b"data": images[:4].transpose(0, 3, 1, 2).reshape(-1, 3072), b"labels": labels}
    (tmp_path / "test_batch").write_bytes(pickle.dumps(batch))
    with pytest.raises(DataFormatError, match=message):
        open_dataset(str(tmp_path), "test")


class _Zeros(io.RawIOBase):
    """``size`` zero bytes, produced on demand (so the test itself never holds them)."""

    def __init__(self, size):
        self.left = size

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


def test_an_archive_member_larger_than_its_format_is_refused_before_decompression(tmp_path):
    archive = tmp_path / "bomb.tar.gz"
    size = MAX_IMAGE_BYTES + 1
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        for split in ("train", "test"):
            info = tarfile.TarInfo(f"data/{split}/cat/0.jpg")
            info.size = size
            tar.addfile(info, io.BufferedReader(_Zeros(size)))
    assert archive.stat().st_size < size // 100  # it expands a hundredfold
    with pytest.raises(DataFormatError, match=rf"bomb.tar.gz:data/train/cat/0.jpg holds {size:,} bytes.*not read"):
        open_dataset(str(archive), "train")


def test_a_link_to_a_device_is_not_read(tree):
    link = tree / "train" / "cat" / "zzz.jpg"
    os.symlink("/dev/zero", link)
    with pytest.raises(DataFormatError, match="zzz.jpg is not a regular file"):
        open_dataset(str(tree), "train")
    with pytest.raises(ImageReadError, match="not a regular file"):
        read_image(str(link))


def test_a_decompression_bomb_image_is_refused_by_its_header(tmp_path):
    from PIL import Image

    path = tmp_path / "bomb.png"
    Image.new("1", (20_000, 5_000)).save(path)  # 100M pixels in a few kilobytes
    assert path.stat().st_size < 200_000 and 20_000 * 5_000 > MAX_IMAGE_PIXELS
    with pytest.raises(DataFormatError, match=r"20000x5000 = 100,000,000 pixels, more than the limit"):
        decode_image(path.read_bytes(), str(path))
    with pytest.raises(ImageReadError, match="more than the limit"):
        read_image(str(path))


def test_read_image_on_a_folder_says_so(tmp_path):
    with pytest.raises(ImageReadError, match="is a folder, not an image file"):
        read_image(str(tmp_path))


@pytest.mark.pinned
@pytest.mark.parametrize("workers", [0, 2])
def test_mixed_image_sizes_in_training_are_a_clear_error(tmp_path, cat, workers):
    from PIL import Image

    from gluon_augplug.train.config import TrainConfig
    from gluon_augplug.train.loop import train

    for split in ("train", "test"):
        for cls, img in (("a", cat[:40, :40]), ("b", cat[:30, :50])):
            for k in range(2):
                os.makedirs(tmp_path / split / cls, exist_ok=True)
                Image.fromarray(np.ascontiguousarray(img)).save(tmp_path / split / cls / f"{k}.png")
    cfg = TrainConfig(data=str(tmp_path), train_aug="RandomFlipLeftRight, ToTensor", num_workers=workers, **TINY)
    quiet = [].append
    with pytest.raises(InputError, match=r"different shapes \(\(3, 30, 50\), \(3, 40, 40\)\).*add a Resize"):
        train(cfg, quiet)
    train(TrainConfig(**{**cfg.__dict__, "train_aug": "Resize(32), ToTensor", "test_aug": "Resize(32), ToTensor"}),
          quiet)  # with a fixed size it trains


def test_formats_that_need_external_programs_are_not_decoded(tmp_path):
    eps = tmp_path / "x.eps"
    eps.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    with pytest.raises(ImageReadError, match="not an image in a supported format"):
        read_image(str(eps))
    with pytest.raises(DataFormatError, match="not an image in a supported format"):
        decode_image(eps.read_bytes(), str(eps))
