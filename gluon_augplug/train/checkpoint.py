"""Atomic checkpoints: parameters, trainer states, epoch, RNG states, specs and all arguments.

Each epoch writes ``epoch-NNNN.params`` and ``epoch-NNNN.states`` under temporary names,
renames them into place, then replaces ``checkpoint.json`` (the commit point) the same way.
A crash at any moment leaves the previous ``checkpoint.json`` and the files it names intact.
"""
from __future__ import annotations

import json
import os
import random
from typing import Any, Callable

import numpy as np

from ..errors import AugplugError

CHECKPOINT = "checkpoint.json"


class CheckpointError(AugplugError, OSError):
    """A checkpoint that is missing, corrupt or does not match the run."""


def _atomic_write(path: str, write: Callable[[str], None]) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _write_text(text: str) -> Callable[[str], None]:
    def write(path: str) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)

    return write


def rng_states() -> dict:
    """Python's and numpy's global RNG states, as JSON."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {"python": [random.getstate()[0], list(random.getstate()[1]), random.getstate()[2]],
            "numpy": [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)]}


def restore_rng_states(states: dict) -> None:
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = states["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))


def save_checkpoint(out: str, net: Any, trainer: Any, state: dict, keep: int = 2) -> str:
    """Write the checkpoint of a finished epoch atomically; keep the newest ``keep`` ones.

    ``trainer`` None records no optimizer states (a dist_* kvstore keeps them on the servers).
    """
    os.makedirs(out, exist_ok=True)
    tag = f"epoch-{state['epoch']:04d}"
    params, states = f"{tag}.params", (f"{tag}.states" if trainer is not None else None)
    _atomic_write(os.path.join(out, params), net.save_parameters)
    if trainer is not None:
        _atomic_write(os.path.join(out, states), trainer.save_states)
    record = {**state, "params": params, "trainer_states": states, "rng": rng_states()}
    _atomic_write(os.path.join(out, CHECKPOINT), _write_text(json.dumps(record, indent=1)))
    _prune(out, keep, state["epoch"])
    return os.path.join(out, CHECKPOINT)


def _prune(out: str, keep: int, newest: int) -> None:
    for name in os.listdir(out):
        if name.startswith("epoch-") and name.endswith((".params", ".states")):
            epoch = int(name[6:10])
            if epoch <= newest - max(keep, 1):
                os.remove(os.path.join(out, name))


def load_checkpoint(directory: str) -> dict:
    """Read ``checkpoint.json`` of a run folder and check that the files it names are there.

    Raises
    ------
    CheckpointError
        Naming the file and, for corrupt JSON, the line, column and offset.
    """
    path = os.path.join(directory, CHECKPOINT)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise CheckpointError(f"cannot resume from {directory!r}: no readable {CHECKPOINT} ({exc.strerror})") from None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path} is corrupt: {exc.msg} at line {exc.lineno}, column {exc.colno} "
                              f"(offset {exc.pos})") from None
    for key in ("epoch", "iteration", "params", "trainer_states", "config", "history"):
        if key not in record:
            raise CheckpointError(f"{path} lacks {key!r}: not a gluon_augplug checkpoint")
    for key in ("params", "trainer_states"):
        if record[key] is not None and not os.path.isfile(os.path.join(directory, record[key])):
            raise CheckpointError(f"{path} names {record[key]!r}, which is missing from {directory!r}")
    record["directory"] = directory
    return record
