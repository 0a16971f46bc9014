"""Broken: a plain callable with its own generator, copied into every forked DataLoader worker."""
import numpy as np

import gluon_augplug


class Jitter:
    """Add uniform noise from a generator seeded at construction."""

    random = True

    def __init__(self, amount: int = 20):
        if not isinstance(amount, int) or amount < 0:
            raise ValueError(f"amount must be a non-negative int, got {amount!r}")
        self.amount = amount
        self.generator = np.random.default_rng(1234)

    def __call__(self, img):
        noise = self.generator.integers(-self.amount, self.amount + 1, size=img.shape)
        if hasattr(img, "asnumpy"):
            import mxnet as mx

            return mx.nd.array(np.clip(img.asnumpy() + noise, 0, 255), dtype=img.dtype)
        return np.clip(img + noise, 0, 255).astype(img.dtype)


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("Jitter", Jitter)
