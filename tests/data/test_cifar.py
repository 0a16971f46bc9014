"""gluon_augplug.data.CIFAR10: MXNet's CIFAR10 arguments and items, read offline."""
from __future__ import annotations

import mxnet as mx
import numpy as np
import pytest
from mxnet import gluon

from gluon_augplug import build_pipeline
from gluon_augplug.data import CIFAR10
from tests.conftest import shared_file


def write_binary(folder, name, images, labels):
    records = np.concatenate([labels.astype(np.uint8)[:, None],
                              images.transpose(0, 3, 1, 2).reshape(len(images), -1)], axis=1)
    (folder / name).write_bytes(records.tobytes())


@pytest.fixture
def cifar_bin(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    for name, n in [(f"data_batch_{i}.bin", 6) for i in range(1, 6)] + [("test_batch.bin", 4)]:
        write_binary(folder, name, rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, n))
    return tmp_path


def test_items_equal_what_mxnets_own_reader_makes_of_the_same_files(cifar_bin):
    folder = cifar_bin / "cifar-10-batches-bin"
    mx_read = mx.gluon.data.vision.CIFAR10._read_batch  # MXNet's parser, without its download logic
    parts = [mx_read(None, str(folder / f"data_batch_{i}.bin")) for i in range(1, 6)]
    images, labels = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    train = CIFAR10(root=str(cifar_bin), train=True)
    assert len(train) == 30 and len(CIFAR10(root=str(folder), train=False)) == 4
    for i in range(len(train)):
        data, label = train[i]
        assert isinstance(data, mx.nd.NDArray) and data.dtype == np.uint8 and data.shape == (32, 32, 3)
        assert isinstance(label, np.int32) and label == labels[i]
        np.testing.assert_array_equal(data.asnumpy(), images[i])


def test_transform_callback_and_transform_first_with_workers(cifar_bin):
    train = CIFAR10(root=str(cifar_bin), transform=lambda data, label: (data.astype("float32") / 255, label + 100))
    data, label = train[0]
    assert data.dtype == np.float32 and label >= 100
    augmented = CIFAR10(root=str(cifar_bin)).transform_first(build_pipeline("cifar10-gluoncv", seed=0))
    loader = gluon.data.DataLoader(augmented, batch_size=10, num_workers=2)
    batches = [(x.shape, y.shape) for x, y in loader]
    assert batches == [((10, 3, 32, 32), (10,))] * 3


def test_it_reads_the_real_cifar10_archive_and_never_downloads(tmp_path):
    test = CIFAR10(root=str(shared_file("cifar10-jpg.tar.gz")), train=False)
    assert len(test) == 10000 and test.classes[:2] == ["airplane", "automobile"]
    with pytest.raises(FileNotFoundError, match="never downloads"):
        CIFAR10(root=str(tmp_path / "nothing-here"))


def test_the_gluoncv_preset_carries_gluoncvs_numbers_exactly(cat):
    from mxnet.gluon.data.vision import transforms as T

    ours = build_pipeline("cifar10-gluoncv-test")(cat)
    theirs = T.Compose([T.ToTensor(), T.Normalize([0.4914, 0.4822, 0.4465], [0.2023, 0.1994, 0.2010])])(
        mx.nd.array(cat, dtype="uint8")).asnumpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    spec = build_pipeline("cifar10-gluoncv").to_string()
    assert spec.startswith("RandomCrop(size=32, pad=4), RandomFlipLeftRight, ToTensor, Normalize(")
