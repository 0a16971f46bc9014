"""The one list of the harness's checks: each check registers itself, in order, with its documentation."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

SEEDS = range(8)


class Skip(Exception):
    """A check that does not apply to this transform."""


NDARRAY_HALF_SKIPPED = ("its numpy half passed; its NDArray half needs MXNet, which is not installed "
                        "(pip install 'gluon-augplug[cpu]')")


def mxnet_or_none() -> Any:
    """``mxnet`` where it is installed, else None: the harness runs its numpy checks without MXNet and says
    which halves it left out."""
    from ..._optional import mxnet_installed

    if not mxnet_installed():
        return None
    import mxnet

    return mxnet


@dataclass(frozen=True)
class Check:
    name: str
    function: Callable[[Any], "str | None"]
    per_sample: bool  # a check of the per-sample path: a batch-only transform (Mixup) skips it
    doc: str


REGISTRY: dict[str, Check] = {}


def check(name: str, *, per_sample: bool, doc: str) -> Callable:
    """Register the decorated ``function(ctx) -> None | message`` (raise :class:`Skip` when it does not apply)
    as check ``name``; checks run in the order their modules register them."""
    def register(function: Callable) -> Callable:
        if name in REGISTRY:
            raise ValueError(f"check {name!r} registered twice")
        REGISTRY[name] = Check(name, function, per_sample, doc)
        return function

    return register
