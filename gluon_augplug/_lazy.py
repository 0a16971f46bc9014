"""MXNet imported on first use, so that registering MXNet-based transforms costs nothing."""
from __future__ import annotations

import importlib
from typing import Any


class _LazyModule:
    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


mxnet = _LazyModule("mxnet")
