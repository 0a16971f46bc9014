"""One augmented epoch of real images through ``augment()`` and a Gluon DataLoader, for plugin tests."""
from __future__ import annotations

from typing import Any

import numpy as np


def augmented_epoch(spec: Any, num_workers: int, seed: int = 0, epoch: int = 0, batch_size: int = 5) -> np.ndarray:
    """The 20 CIFAR-10 images shipped with the package through ``augment(dataset, spec, seed, epoch)`` and a
    ``DataLoader`` with ``num_workers`` workers: the epoch's images stacked in order.

    gluon_augplug seeds each sample from (seed, epoch, index), so a plugin whose transforms draw only from
    the generator they are given gives the same epoch whatever ``num_workers`` is::

        assert (augmented_epoch("MySpec, ToTensor", 0) == augmented_epoch("MySpec, ToTensor", 2)).all()
    """
    from .._optional import require_mxnet
    from ..data.augment import augment
    from .samples import cifar10_samples

    mx = require_mxnet("augmented_epoch (an epoch through MXNet's DataLoader)")
    gluon = mx.gluon
    images, labels = cifar10_samples()
    dataset = gluon.data.ArrayDataset(mx.nd.array(images, dtype="uint8"), np.asarray(labels))
    loader = gluon.data.DataLoader(augment(dataset, spec, seed=seed, epoch=epoch), batch_size=batch_size,
                                   num_workers=num_workers)
    return np.concatenate([data.asnumpy() for data, _ in loader])
