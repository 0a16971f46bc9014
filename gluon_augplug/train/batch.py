"""Batch-level augmentation on the device, after ``split_and_load``: Mixup and CutMix with their labels."""
from __future__ import annotations

import mxnet as mx
import numpy as np


def one_hot(labels: mx.nd.NDArray, classes: int, smoothing: float = 0.0) -> mx.nd.NDArray:
    """Soft targets: one-hot labels with ``smoothing`` spread over all classes."""
    on = 1.0 - smoothing + smoothing / classes
    off = smoothing / classes
    return mx.nd.one_hot(labels, classes, on_value=on, off_value=off)


def mix_batch(data: mx.nd.NDArray, targets: mx.nd.NDArray, rng: np.random.Generator, mixup: float,
              cutmix: float) -> tuple[mx.nd.NDArray, mx.nd.NDArray]:
    """Mix each sample with a partner from the same batch (a random permutation).

    With both ``mixup`` and ``cutmix`` > 0 one of them is picked per batch at random.
    ``data`` is NCHW on its device; ``targets`` are soft labels (N x classes); the
    returned targets mix in the same proportion as the pixels.
    """
    n = data.shape[0]
    if n < 2 or (mixup <= 0 and cutmix <= 0):
        return data, targets
    use_cutmix = cutmix > 0 and (mixup <= 0 or rng.random() < 0.5)
    lam = float(rng.beta(cutmix, cutmix) if use_cutmix else rng.beta(mixup, mixup))
    perm = mx.nd.array(rng.permutation(n), ctx=data.context, dtype="int64")
    partner, partner_targets = data.take(perm), targets.take(perm)
    if use_cutmix:
        h, w = data.shape[2], data.shape[3]
        cut_h, cut_w = int(h * np.sqrt(1 - lam)), int(w * np.sqrt(1 - lam))
        cy, cx = int(rng.integers(h)), int(rng.integers(w))
        y0, y1 = max(cy - cut_h // 2, 0), min(cy + cut_h // 2, h)
        x0, x1 = max(cx - cut_w // 2, 0), min(cx + cut_w // 2, w)
        mask = np.zeros((1, 1, h, w), np.float32)
        mask[..., y0:y1, x0:x1] = 1.0
        mask_nd = mx.nd.array(mask, ctx=data.context)
        data = data * (1 - mask_nd) + partner * mask_nd
        lam = 1.0 - (y1 - y0) * (x1 - x0) / float(h * w)
    else:
        data = data * lam + partner * (1 - lam)
    return data, targets * lam + partner_targets * (1 - lam)
