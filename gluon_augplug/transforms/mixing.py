"""Transforms that mix the samples of a batch, and their labels: Mixup and CutMix (batches only)."""
from __future__ import annotations

import math


from .. import params as P
from .base import CHW, HWC, Transform, registration_hook


class _Mix(Transform):
    random = True
    accepts = (HWC, CHW)
    batch_only = True
    mixes_labels = True
    alpha = P.Number(1.0, 1e-6, None, doc="the mixing share is drawn from Beta(alpha, alpha)")
    p = P.Probability(1.0, "probability that a sample is mixed")

    def sample_batch(self, rng, n, shape):
        """Each sample's partner and its own share (1 where the sample is not mixed)."""
        perm = rng.permutation(n)
        share = rng.beta(self.alpha, self.alpha, size=n)
        share[rng.random(n) >= self.p] = 1.0
        return perm, share


class Mixup(_Mix):
    """Blend each sample with a random partner of the batch, lambda ~ Beta(alpha, alpha) per sample, labels alike."""

    def apply_batch(self, state, params):
        perm, share = params
        state.mix(perm, share)
        state.mix_targets(perm, share)


class CutMix(_Mix):
    """Paste a box of a random partner into each sample (box area 1 - lambda), labels by the pasted area."""

    def apply_batch(self, state, params):
        state.flush()
        perm, share = params
        h, w = state.hw
        boxes = []
        for i in range(state.n):
            cut = math.sqrt(1.0 - share[i])
            ch, cw = int(h * cut), int(w * cut)
            cy, cx = int(state.rng.integers(h)), int(state.rng.integers(w))
            y0, y1 = max(cy - ch // 2, 0), min(cy + ch // 2, h)
            x0, x1 = max(cx - cw // 2, 0), min(cx + cw // 2, w)
            boxes.append([[x0, y0, x1 - x0, y1 - y0]])
            share[i] = 1.0 - (y1 - y0) * (x1 - x0) / float(h * w)
        state.mix(perm, share, boxes)
        state.mix_targets(perm, share)


augplug_register_transforms = registration_hook(__name__)
