"""Optimizer states in a format that cannot run code: MXNet's NDArray file plus JSON.

MXNet's ``Trainer.save_states``/``load_states`` pickle the updater (its states and the
optimizer object), so loading a crafted ``.states`` file runs arbitrary code. A run folder
may come from someone else (shared storage, a downloaded run), so gluon_augplug writes:

* the state arrays with ``mx.nd.save`` (MXNet's binary NDArray format: data only);
* their structure (which parameter index holds which arrays, in which tuple) and the
  optimizer's counters (``num_update``, per-device update counts) as JSON, stored in
  ``checkpoint.json``.

Loading checks every array against the parameter it belongs to (shape and dtype) and
refuses anything that does not match.
"""
from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from ..errors import AugplugError, short_reason

FORMAT = "gluon-augplug-optimizer-states-1"


class OptimizerStateError(AugplugError, ValueError):
    """Saved optimizer states that do not match the model or cannot be read."""


def _updater(trainer: Any):
    """The live updater of ``trainer``: the kvstore's (update_on_kvstore) or the first local one."""
    if not trainer._kv_initialized:
        trainer._init_kvstore()
    if trainer._params_to_init:
        trainer._init_params()
    if trainer._update_on_kvstore:
        updater = getattr(trainer._kvstore, "_updater", None)
        if updater is None:
            raise OptimizerStateError("this kvstore keeps its optimizer states on servers; they cannot be saved")
        return [updater]
    return list(trainer._updaters)


def _encode(state: Any, key: str, arrays: dict) -> Any:
    import mxnet as mx

    if state is None:
        return None
    if isinstance(state, mx.nd.NDArray):
        arrays[key] = state.as_in_context(mx.cpu())
        return {"array": key}
    if isinstance(state, (tuple, list)):
        kind = "tuple" if isinstance(state, tuple) else "list"
        return {kind: [_encode(s, f"{key}.{i}", arrays) for i, s in enumerate(state)]}
    raise OptimizerStateError(f"optimizer state of type {type(state).__name__} cannot be saved safely")


def save_optimizer_states(trainer: Any, path: str) -> dict:
    """Write the trainer's state arrays to ``path`` (NDArray format); return the JSON description."""
    import mxnet as mx

    updater = _updater(trainer)[0]
    arrays: dict = {}
    structure = [[_key_json(index), _encode(state, f"s{n}", arrays)]
                 for n, (index, state) in enumerate(sorted(updater.states.items(), key=lambda kv: str(kv[0])))]
    opt = updater.optimizer
    counts = {str(device): [[_key_json(i), int(c)] for i, c in table.items()]
              for device, table in opt._all_index_update_counts.items()}
    mx.nd.save(path, arrays)
    return {"format": FORMAT, "arrays": os.path.basename(path), "states": structure,
            "optimizer": {"name": type(opt).__name__.lower(), "num_update": int(opt.num_update),
                          "begin_num_update": int(opt.begin_num_update), "update_counts": counts}}


def _key_json(index: Any) -> Any:
    if isinstance(index, bool) or not isinstance(index, (int, str)):
        raise OptimizerStateError(f"optimizer state index {index!r} is neither an integer nor a name")
    return index


def load_optimizer_states(trainer: Any, description: Any, directory: str) -> None:
    """Restore states saved by :func:`save_optimizer_states` into ``trainer``.

    Raises
    ------
    OptimizerStateError
        The description or the arrays do not match this trainer's parameters (naming what).
    """
    import mxnet as mx

    if not isinstance(description, dict) or description.get("format") != FORMAT:
        raise OptimizerStateError(f"optimizer states are not in the format {FORMAT!r}")
    name = description.get("arrays")
    if not isinstance(name, str) or os.path.basename(name) != name or not name:
        raise OptimizerStateError(f"optimizer states name the file {name!r}, which is not a plain file name")
    path = os.path.join(directory, name)
    try:
        arrays = mx.nd.load(path)
    except mx.base.MXNetError as exc:
        raise OptimizerStateError(f"{path} is not a readable NDArray file: {short_reason(exc)}") from None
    if not isinstance(arrays, dict):
        raise OptimizerStateError(f"{path} holds unnamed arrays, not optimizer states")
    params = list(trainer._params)
    used: set = set()

    def decode(node: Any, index: Any, where: str, depth: int = 0) -> Any:
        if node is None:
            return None
        if depth > 8:
            raise OptimizerStateError(f"{where}: the state structure nests too deep")
        if isinstance(node, dict) and len(node) == 1:
            (kind, value), = node.items()
            if kind == "array" and isinstance(value, str):
                if value not in arrays:
                    raise OptimizerStateError(f"{where}: array {value!r} is missing from {path}")
                array = arrays[value]
                param = params[index]
                have, want = np.dtype(array.dtype), np.dtype(param.dtype)
                if array.shape != param.shape or have != want:
                    raise OptimizerStateError(f"{where}: array {value!r} is {have}{array.shape}, but "
                                              f"parameter {param.name} is {want}{param.shape}")
                used.add(value)
                return array
            if kind in ("tuple", "list") and isinstance(value, list):
                items = [decode(v, index, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
                return tuple(items) if kind == "tuple" else items
        raise OptimizerStateError(f"{where}: unexpected entry in the optimizer state structure")

    states = {}
    entries = description.get("states")
    if not isinstance(entries, list):
        raise OptimizerStateError("optimizer states lack their structure")
    for entry in entries:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], int)
                and not isinstance(entry[0], bool) and 0 <= entry[0] < len(params)):
            raise OptimizerStateError(f"optimizer state entry {str(entry)[:60]} does not name one of the model's "
                                      f"{len(params)} parameters")
        if entry[0] in states:
            raise OptimizerStateError(f"parameter index {entry[0]} has two optimizer states")
        states[entry[0]] = decode(entry[1], entry[0], f"optimizer state of parameter {params[entry[0]].name}")
    unused = set(arrays) - used
    if unused:
        raise OptimizerStateError(f"{path} holds arrays the structure does not name: {sorted(unused)[:5]}")
    opt_info = description.get("optimizer")
    if not isinstance(opt_info, dict):
        raise OptimizerStateError("optimizer states lack the optimizer's counters")
    counts = _counts(opt_info, len(params))
    for updater in _updater(trainer):
        optimizer = updater.optimizer
        saved_name = opt_info.get("name")
        if saved_name != type(optimizer).__name__.lower():
            raise OptimizerStateError(f"the states are {saved_name!r}'s, but this run's optimizer is "
                                      f"{type(optimizer).__name__.lower()!r}")
        updater.states = dict(states)
        updater.states_synced = dict.fromkeys(states, False)  # moved to each weight's device at the next update
        optimizer.num_update = counts["num_update"]
        optimizer.begin_num_update = counts["begin_num_update"]
        optimizer._all_index_update_counts = {d: dict(t) for d, t in counts["update_counts"].items()}
        optimizer._index_update_count = optimizer._all_index_update_counts.setdefault(0, {})


def _counts(info: dict, n_params: int) -> dict:
    def integer(value: Any, what: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**40:
            raise OptimizerStateError(f"optimizer {what} must be a non-negative integer (at most 2^40), got "
                                      f"{str(value)[:40]}")
        return value

    tables = info.get("update_counts")
    if not isinstance(tables, dict):
        raise OptimizerStateError("optimizer update counts are missing")
    result = {}
    for device, rows in tables.items():
        if not (isinstance(device, str) and re.fullmatch("[0-9]{1,3}", device)) or not isinstance(rows, list):
            raise OptimizerStateError(f"optimizer update counts of device {device[:20]!r} are malformed")
        table = {}
        for row in rows:
            if not (isinstance(row, list) and len(row) == 2 and isinstance(row[0], int) and 0 <= row[0] < n_params):
                raise OptimizerStateError(f"optimizer update count {str(row)[:40]} names no parameter")
            table[row[0]] = integer(row[1], "update count")
        result[int(device)] = table
    num_update = integer(info.get("num_update"), "num_update")
    begin = integer(info.get("begin_num_update"), "begin_num_update")
    return {"num_update": num_update, "begin_num_update": begin, "update_counts": result}
