"""Atomic checkpoints: parameters, optimizer states, epoch, RNG states, specs and all arguments.

Each epoch writes ``epoch-NNNN.params`` and ``epoch-NNNN.states.nd`` (inside an epoch, with
``--checkpoint-every`` or on a stop signal: ``epoch-NNNN.batch-BBBBBBB.*``, NNNN epochs and BBBBBBB
batches of the next one done) under temporary names,
checks that they read back, renames them into place, then replaces ``checkpoint.json`` (the
commit point) the same way. A crash or a full disk at any moment leaves the previous
``checkpoint.json`` and the files it names intact; temporaries a killed writer left behind
are removed at the next start of the same run.

Nothing in a run folder is unpickled: parameters and optimizer states are MXNet NDArray
files, everything else is JSON (see :mod:`.optimizer_state`).
"""
from __future__ import annotations

import json
import math
import os
import random
import re
from typing import Any, Callable

import numpy as np

from .. import _files
from ..errors import AugplugError, short_reason

CHECKPOINT = "checkpoint.json"
MAX_COUNT = 2**40  # epochs and iterations: far past any run, and exact in a float
MAX_CHECKPOINT_BYTES = 64 * 2**20  # checkpoint.json: settings, RNG states and one history row per epoch
METRICS = "metrics.jsonl"
# held (fcntl lock) by the one process writing the folder; not a run file, and removed when it finishes
LOCK = "writer.lock"
# the files that make a folder a run: refusing to reuse such a folder protects a finished run
RUN_FILES = re.compile(r"^(checkpoint\.json|metrics\.jsonl|epoch-\d{4}(\.batch-\d{7})?\.(params|states|states\.nd|devices\.nd))$")
_TAG = re.compile(r"^epoch-(?P<epoch>\d{4})(\.batch-(?P<batch>\d{7}))?\.")
# what a checkpoint inside an epoch adds: the epoch's sums so far, so that its row comes out as if never stopped
PARTIAL_KEYS = ("loss_sum", "correct", "seen", "wait", "elapsed")
_TEMPORARY = re.compile(r"^(?P<target>.+)\.tmp-(?P<pid>\d+)$")


class CheckpointError(AugplugError, OSError):
    """A checkpoint that is missing, corrupt or does not match the run, or that could not be written."""


def atomic_write(path: str, write: Callable[[str], None], verify: Callable[[str], None] | None = None) -> None:
    """Write ``path`` through ``write(temporary)``, check it with ``verify(temporary)``, then rename it.

    Raises
    ------
    CheckpointError
        The disk is full or the file did not read back; ``path`` is untouched.
    """
    try:
        _files.atomic_write(path, write, verify)
    except (OSError, _mxnet_error()) as exc:
        raise CheckpointError(f"could not write {path}: {short_reason(exc)}; the previous checkpoint is intact") \
            from None


def _mxnet_error() -> type:
    try:
        from mxnet.base import MXNetError
    except ImportError:  # pragma: no cover
        return OSError
    return MXNetError


def _verify_ndarray_file(path: str) -> None:
    """Read an NDArray file back: a write the file system silently cut short fails here."""
    import mxnet as mx

    mx.nd.load(path)


def remove_stale_temporaries(directory: str) -> list[str]:
    """Remove ``*.tmp-PID`` files that a killed writer left in ``directory``; return their names."""
    removed = []
    if not os.path.isdir(directory):
        return removed
    for name in os.listdir(directory):
        match = _TEMPORARY.match(name)
        if match and RUN_FILES.match(match["target"]) and not _files.alive_elsewhere(int(match["pid"])):
            try:
                os.remove(os.path.join(directory, name))
                removed.append(name)
            except OSError:
                pass
    return removed


def run_files(directory: str) -> list[str]:
    """The files of a training run in ``directory`` (empty when it holds none or does not exist)."""
    if not os.path.isdir(directory):
        return []
    return sorted(name for name in os.listdir(directory) if RUN_FILES.match(name))


def write_text(text: str) -> Callable[[str], None]:
    def write(path: str) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)

    return write


def rng_states() -> dict:
    """Python's and numpy's global RNG states, as JSON."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {"python": [random.getstate()[0], list(random.getstate()[1]), random.getstate()[2]],
            "numpy": [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)]}


def restore_rng_states(states: Any, where: str = CHECKPOINT) -> None:
    """Restore Python's and numpy's global generators from :func:`rng_states`' record.

    Raises
    ------
    CheckpointError
        The record is not such states (edited or corrupt), naming the generator.
    """
    try:
        version, internal, gauss = states["python"]
        if not (isinstance(internal, list) and len(internal) == 625 and all(
                isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**32 for v in internal)
                and internal[-1] <= 624):
            raise ValueError("624 words in [0, 2^32) and a position in [0, 624]")
        if version != 3 or not (gauss is None or (isinstance(gauss, float) and math.isfinite(gauss))):
            raise ValueError("version 3 and a finite cached gauss or null")
        random.setstate((version, tuple(internal), gauss))
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise CheckpointError(f"{where}: the saved state of Python's random generator is invalid ({exc})") from None
    try:
        kind, keys, pos, has_gauss, cached = states["numpy"]
        if not (isinstance(keys, list) and len(keys) == 624 and all(
                isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**32 for v in keys)):
            raise ValueError("624 words, each in [0, 2^32)")
        # numpy trusts the position: one past the state array reads outside it (a crash, not an error)
        if kind != "MT19937" or isinstance(pos, bool) or not isinstance(pos, int) or not 0 <= pos <= 624 \
                or has_gauss not in (0, 1) or isinstance(has_gauss, bool) \
                or not (isinstance(cached, (int, float)) and not isinstance(cached, bool) and math.isfinite(cached)):
            raise ValueError("MT19937, a position in [0, 624], has_gauss 0 or 1 and a finite cached value")
        np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise CheckpointError(f"{where}: the saved state of numpy's random generator is invalid ({exc})") from None


def save_checkpoint(out: str, net: Any, trainer: Any, state: dict, keep: int = 2, devices: dict | None = None) -> str:
    """Write the checkpoint of a finished epoch (or of ``state["batch"]`` batches into the next) atomically; keep
    the newest ``keep`` ones.

    ``trainer`` None records no optimizer states (a dist_* kvstore keeps them on the servers). ``devices``: each
    device's own copy of the parameters that differ between devices (BatchNorm's running statistics, which the
    ``.params`` file holds averaged), as ``{"DEVICE/NAME": NDArray}``; restored when the run resumes on as many
    devices, so that its evaluation sees what the uninterrupted run's did.
    """
    from .optimizer_state import save_optimizer_states

    os.makedirs(out, exist_ok=True)
    batch = state.get("batch", 0)
    tag = f"epoch-{state['epoch']:04d}" + (f".batch-{batch:07d}" if batch else "")
    params = f"{tag}.params"
    atomic_write(os.path.join(out, params), net.save_parameters, _verify_ndarray_file)
    states = None
    if trainer is not None:
        described: dict = {}

        def write_states(path: str) -> None:
            described.update(save_optimizer_states(trainer, path))

        atomic_write(os.path.join(out, f"{tag}.states.nd"), write_states, _verify_ndarray_file)
        states = {**described, "arrays": f"{tag}.states.nd"}
    device_file = None
    if devices:
        import mxnet as mx

        device_file = f"{tag}.devices.nd"
        atomic_write(os.path.join(out, device_file), lambda path: mx.nd.save(path, devices), _verify_ndarray_file)
    record = {**state, "params": params, "trainer_states": states, "devices": device_file, "rng": rng_states()}
    atomic_write(os.path.join(out, CHECKPOINT), write_text(json.dumps(record, indent=1)))
    _prune(out, keep, (state["epoch"], batch))
    return os.path.join(out, CHECKPOINT)


def _prune(out: str, keep: int, current: tuple[int, int]) -> None:
    """Keep the files of the ``keep`` newest checkpoints up to ``current``; remove the older ones, and any newer
    one (a writer killed after its files were renamed but before checkpoint.json named them)."""
    tags: dict[tuple[int, int], list[str]] = {}
    for name in os.listdir(out):
        match = _TAG.match(name)
        if match and RUN_FILES.match(name):
            tags.setdefault((int(match["epoch"]), int(match["batch"] or 0)), []).append(name)
    kept = sorted(t for t in tags if t <= current)[-max(keep, 1):]
    for tag, names in tags.items():
        if tag not in kept:
            for name in names:
                os.remove(os.path.join(out, name))


def _finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def load_checkpoint(directory: str) -> dict:
    """Read ``checkpoint.json`` of a run folder and check that the files it names are there.

    Raises
    ------
    CheckpointError
        Naming the file and, for corrupt JSON, the line, column and offset.
    """
    path = os.path.join(directory, CHECKPOINT)
    if not os.path.lexists(path):
        raise CheckpointError(f"cannot resume from {directory!r}: no readable {CHECKPOINT} (it does not exist)")
    text = _files.read_text_bounded(path, MAX_CHECKPOINT_BYTES, "checkpoint", CheckpointError)
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path} is corrupt: {exc.msg} at line {exc.lineno}, column {exc.colno} "
                              f"(offset {exc.pos})") from None
    except RecursionError:
        raise CheckpointError(f"{path} nests too deep: not a gluon_augplug checkpoint") from None
    except ValueError as exc:  # Python's limit on the digits of an integer
        raise CheckpointError(f"{path} is corrupt: {exc}") from None
    if not isinstance(record, dict):
        raise CheckpointError(f"{path} is not a gluon_augplug checkpoint (it holds no JSON object)")
    for key in ("epoch", "iteration", "params", "trainer_states", "config", "history"):
        if key not in record:
            raise CheckpointError(f"{path} lacks {key!r}: not a gluon_augplug checkpoint")
    for key in ("epoch", "iteration"):
        value = record[key]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
            raise CheckpointError(f"{path}: {key!r} must be an integer in [0, {MAX_COUNT}], got {str(value)[:40]}")
    batch = record.setdefault("batch", 0)  # checkpoints before 0.6 are all at epoch ends
    if isinstance(batch, bool) or not isinstance(batch, int) or not 0 <= batch <= MAX_COUNT:
        raise CheckpointError(f"{path}: 'batch' must be an integer in [0, {MAX_COUNT}], got {str(batch)[:40]}")
    partial = record.setdefault("partial", None)
    if batch and not (isinstance(partial, dict) and all(
            _finite_number(partial.get(k)) and partial[k] >= 0 for k in PARTIAL_KEYS)
            and isinstance(partial["seen"], int) and partial["seen"] >= 1):
        raise CheckpointError(f"{path}: a checkpoint inside an epoch (batch {batch}) needs 'partial' with the "
                              f"epoch's sums so far ({', '.join(PARTIAL_KEYS)}: numbers >= 0, 'seen' a count >= 1)")
    if not batch and partial is not None:
        raise CheckpointError(f"{path}: 'partial' must be null in a checkpoint at an epoch's end")
    if not isinstance(record["history"], list) or len(record["history"]) != record["epoch"] \
            or not all(isinstance(row, dict) for row in record["history"]):
        raise CheckpointError(f"{path}: 'history' must hold one record per finished epoch ({record['epoch']})")
    if not isinstance(record["config"], dict):
        raise CheckpointError(f"{path}: 'config' must be an object")
    states = record["trainer_states"]
    if isinstance(states, str):
        raise CheckpointError(
            f"{path} names optimizer states in MXNet's pickle format ({states!r}), written by gluon-augplug 0.1; "
            f"loading them could run code hidden in the file, so they are not loaded. Start a new run "
            f"(the weights in {record['params']!r} are an NDArray file, safe to load with net.load_parameters)")
    files = [record["params"]] + ([states.get("arrays")] if isinstance(states, dict) else []) + \
        ([record["devices"]] if record.setdefault("devices", None) is not None else [])
    if states is not None and not isinstance(states, dict):
        raise CheckpointError(f"{path}: 'trainer_states' must be an object or null")
    for name in files:
        if not isinstance(name, str) or not name or os.path.basename(name) != name:
            raise CheckpointError(f"{path} names the file {str(name)[:80]!r}, which is not a plain file name in "
                                  f"the run folder")
        if not os.path.isfile(os.path.join(directory, name)):
            raise CheckpointError(f"{path} names {name!r}, which is missing from {directory!r}")
    record["directory"] = directory
    return record
