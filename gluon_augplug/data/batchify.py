"""Batching augmented samples: images of different sizes are a clear error, not a numpy broadcast message."""
from __future__ import annotations

from typing import Any, Callable, Sequence

from .._optional import require_mxnet
from ..errors import InputError


class SameShapeBatchify:
    """Check that the samples of a batch share one image shape, then hand them to ``inner``.

    Parameters
    ----------
    inner : callable
        MXNet's ``default_batchify_fn`` (or ``default_mp_batchify_fn`` in worker processes).
    where : str
        What the batch comes from, for the message (``"the training set"``).
    """

    def __init__(self, inner: Callable[[Sequence[Any]], Any], where: str = "the data set"):
        self.inner = inner
        self.where = where

    def __call__(self, samples: Sequence[Any]) -> Any:
        shapes = [tuple(getattr(s[0] if isinstance(s, (tuple, list)) else s, "shape", ())) for s in samples]
        if len(set(shapes)) > 1:
            distinct = sorted(set(shapes))
            raise InputError(f"the images of one batch from {self.where} have different shapes "
                             f"({', '.join(map(str, distinct[:4]))}{', ...' if len(distinct) > 4 else ''}): a batch "
                             f"needs one size; add a Resize or a crop to the augmentation, e.g. "
                             f"'Resize(32), ToTensor' or 'RandomResizedCrop(224), ToTensor'")
        return self.inner(samples)


def checked_batchify(num_workers: int, where: str) -> SameShapeBatchify:
    """The batchify function MXNet's DataLoader would pick for ``num_workers``, with the shape check."""
    require_mxnet("checked_batchify (MXNet's DataLoader batchify)")
    from mxnet.gluon.data.dataloader import default_batchify_fn, default_mp_batchify_fn

    return SameShapeBatchify(default_mp_batchify_fn if num_workers > 0 else default_batchify_fn, where)
