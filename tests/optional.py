"""MXNet for the tests that compare with it, imported when a test first uses it: a module of mostly core tests
then runs in `make test-core` (no MXNet), where its tests that use MXNet are marked pinned."""
from __future__ import annotations

import pytest

from gluon_augplug._lazy import _LazyModule
from tests.conftest import CORE_ONLY

mx = _LazyModule("mxnet")
gluon = _LazyModule("mxnet.gluon")
# the two batch backends: numpy everywhere, NDArrays where MXNet is (`make test` runs both)
BACKENDS = ["numpy", pytest.param("ndarray", marks=pytest.mark.pinned)]
# whether a test's NDArray half runs: always in `make test` (where a missing MXNet fails it), never in test-core
NDARRAYS = not CORE_ONLY
