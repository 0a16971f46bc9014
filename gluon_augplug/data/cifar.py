"""``CIFAR10``: a drop-in for ``mxnet.gluon.data.vision.CIFAR10`` that reads a local copy, offline.

MXNet's class checks each file's sha1 sum and downloads the archive when a sum differs (or when
the files sit in a subfolder), so it cannot read a user's own copy without the network. This one
takes the same arguments and gives the same items (an HWC uint8 NDArray and an int32 label, the
``transform(data, label)`` callback, ``transform_first``), from any layout :func:`open_dataset`
reads: the binary or python batches, in a folder or a ``.tar.gz``, or an image-folder tree.
"""
from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np

from .._optional import require_mxnet
from .datasets import open_dataset

try:
    from mxnet.gluon.data import Dataset as _Base
except ImportError:  # pragma: no cover
    _Base = object


def _mxnet_default_root() -> str:
    base = require_mxnet("gluon_augplug.data.CIFAR10 (MXNet's dataset: open_dataset reads CIFAR-10 without it)").base

    return os.path.join(base.data_dir(), "datasets", "cifar10")


class CIFAR10(_Base):  # type: ignore[misc,valid-type]
    """CIFAR-10 from a local folder or archive; never downloads.

    Parameters
    ----------
    root : str, optional
        A folder holding ``data_batch_1.bin`` ... ``test_batch.bin`` (directly or in
        ``cifar-10-batches-bin/``), the python batches, an image-folder tree, or a ``.tar.gz`` of
        any of them. Default: MXNet's ``$MXNET_HOME/datasets/cifar10``.
    train : bool
        The training set (50,000 images) or the test set (10,000).
    transform : callable, optional
        ``transform(data, label) -> (data, label)`` for each item, as MXNet's datasets take it.

    Raises
    ------
    FileNotFoundError
        Nothing at ``root`` (the message says that this class does not download).
    DataFormatError
        A corrupt file, named with the record and offset.
    """

    def __init__(self, root: str | None = None, train: bool = True,
                 transform: Callable[[Any, Any], Any] | None = None):
        mx = require_mxnet("gluon_augplug.data.CIFAR10 (MXNet's dataset: open_dataset reads CIFAR-10 without it)")
        root = os.path.expanduser(root) if root is not None else _mxnet_default_root()
        if not os.path.exists(root):
            raise FileNotFoundError(f"no CIFAR-10 at {root!r}: gluon_augplug.data.CIFAR10 reads a local copy and "
                                    f"never downloads; pass root= a folder with data_batch_*.bin (or the .tar.gz)")
        dataset = open_dataset(root, "train" if train else "test")
        self._train = train
        self._root = root
        self._transform = transform
        self.classes = list(dataset.classes)
        # one array, as MXNet's class: an mxnet.numpy array under npx.set_np() (D2L's code), else an NDArray
        array = mx.np.array if mx.util.is_np_array() else mx.nd.array
        self._data = array(np.asarray(dataset.images), dtype="uint8")
        self._label = np.asarray(dataset.labels, dtype=np.int32)

    def __len__(self) -> int:
        return len(self._label)

    def __getitem__(self, idx: int) -> Any:
        if self._transform is not None:
            return self._transform(self._data[idx], self._label[idx])
        return self._data[idx], self._label[idx]

    def __repr__(self) -> str:
        return f"CIFAR10({len(self)} {'training' if self._train else 'test'} images from {self._root!r})"
