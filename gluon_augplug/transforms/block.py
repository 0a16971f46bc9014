"""A Gluon HybridBlock base for image transforms that also takes numpy images (the plugin contract)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .._optional import require_mxnet

mx = require_mxnet("gluon_augplug.transforms.block (transforms as Gluon blocks)")


class ImageHybridBlock(mx.gluon.HybridBlock):
    """Subclass this instead of ``HybridBlock`` for a transform written with MXNet operators.

    ``hybrid_forward(F, x)`` gets an HWC NDArray or Symbol as usual; calling the block with a
    numpy image converts it once and returns numpy, so the block meets the plugin contract
    (NDArray in -> NDArray out, numpy in -> numpy out) and works in any gluon_augplug pipeline.
    """

    def __call__(self, x: Any, *args: Any) -> Any:
        if isinstance(x, np.ndarray):
            return super().__call__(mx.nd.array(x, dtype=x.dtype), *args).asnumpy()
        return super().__call__(x, *args)
