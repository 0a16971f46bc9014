"""The core without MXNet: every module of the package imports with MXNet and GluonCV unavailable but the few
that run on MXNet, and those (and the commands and classes that need it) fail with one message naming the extra
to install. Runs in both environments: here MXNet is hidden from a subprocess, in `make test-core` it is absent."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from gluon_augplug._optional import MXNET_ONLY_MODULES
from gluon_augplug.errors import MXNET_INSTALL_HINT, MXNetMissingError
from tests.cli_helpers import AUGPLUG

HIDE_MXNET = "import sys; sys.modules['mxnet'] = None; sys.modules['gluoncv'] = None\n"

IMPORT_EVERY_MODULE = HIDE_MXNET + """
import importlib, json, pkgutil
import gluon_augplug
result = {}
for m in pkgutil.walk_packages(gluon_augplug.__path__, "gluon_augplug."):
    if m.name == "gluon_augplug.__main__":
        continue
    try:
        importlib.import_module(m.name)
        result[m.name] = None
    except Exception as exc:
        result[m.name] = [type(exc).__name__, str(exc)]
print(json.dumps(result))
"""


def _without_mxnet(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_every_module_but_the_mxnet_ones_imports_without_mxnet():
    proc = _without_mxnet(IMPORT_EVERY_MODULE)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert len(result) > 80  # the walk found the package
    failed = {name: problem for name, problem in result.items() if problem is not None}
    assert sorted(failed) == sorted(MXNET_ONLY_MODULES), failed
    for name, (kind, message) in failed.items():
        assert kind == "MXNetMissingError" and MXNET_INSTALL_HINT in message, (name, message)


def test_the_core_runs_on_numpy_without_mxnet(cat):
    code = HIDE_MXNET + """
import numpy as np
from gluon_augplug import build_pipeline
from gluon_augplug.io.images import read_image
img = read_image(sys.argv[1])
out = build_pipeline("imagenet-standard", seed=0)(img)
det = build_pipeline("ssd-train", seed=0, targets="boxes")
boxes = np.array([[50.0, 40.0, 300.0, 350.0, 7.0]])
image, moved = det(img, boxes=boxes)
clip = build_pipeline("tsn-train", seed=0).apply_clip(np.stack([img] * 3))
print(type(out).__module__, out.shape, out.dtype, moved.shape[1], np.asarray(clip.image).shape[0])
"""
    from tests.conftest import shared_file

    proc = subprocess.run([sys.executable, "-c", code, str(shared_file("cat1.jpg"))], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["numpy", "(3,", "224,", "224)", "float32", "5", "3"]


@pytest.mark.parametrize("command", [["train", "--data", "x", "--epochs", "1", "--out"],
                                     ["compare", "--data", "x", "--aug", "a=ToTensor", "--out"],
                                     ["evaluate", "--params", "x.params", "--data"]])
def test_mxnet_commands_say_which_extra_to_install(command, tmp_path):
    runner = HIDE_MXNET + "from gluon_augplug.cli.main import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-c", runner, *command, str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == f"augplug: error: augplug {command[0]} needs MXNet, which is not installed here: " \
                                  f"{MXNET_INSTALL_HINT}"
    assert AUGPLUG  # the installed command exists (the subprocess above is its entry point)


def test_batchloader_gives_numpy_batches_without_mxnet():
    code = HIDE_MXNET + """
import numpy as np
from gluon_augplug.data.loader import BatchLoader
from gluon_augplug.errors import MXNetMissingError
items = [(np.full((4, 4, 3), i, np.uint8), i) for i in range(10)]
np.random.seed(0)
loader = BatchLoader(items, batch_size=4, shuffle=True, threads=2, as_ndarray=False, last_batch="discard")
batches = [(x.shape, [int(v) for v in y]) for x, y in loader]
print(batches)
for kwargs in ({"as_ndarray": True}, {"as_ndarray": False, "num_workers": 2}):
    try:
        BatchLoader(items, batch_size=4, **kwargs)
    except MXNetMissingError as exc:
        print(str(exc).split(" needs MXNet")[0])
"""
    proc = _without_mxnet(code)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    np.random.seed(0)
    order = np.random.permutation(10)
    assert lines[0] == repr([((4, 4, 4, 3), [int(v) for v in order[:4]]), ((4, 4, 4, 3), [int(v) for v in order[4:8]])])
    assert lines[1:] == ["BatchLoader(as_ndarray=True) (pass as_ndarray=False for numpy batches)",
                         "BatchLoader(num_workers>0) (process workers; threads=N needs no MXNet)"]


def test_the_error_is_an_import_error_too():
    error = MXNetMissingError("something")
    assert isinstance(error, ImportError) and error.name == "mxnet"
    assert str(error) == f"something needs MXNet, which is not installed here: {MXNET_INSTALL_HINT}"


def test_the_harness_epoch_helper_names_the_extra_too():
    proc = _without_mxnet(HIDE_MXNET + """
from gluon_augplug.testing import augmented_epoch
from gluon_augplug.errors import MXNetMissingError
try:
    augmented_epoch("ToTensor", 0)
except MXNetMissingError as exc:
    print(str(exc).split(" needs MXNet")[0])
""")
    assert proc.returncode == 0 and proc.stdout.strip() == "augmented_epoch (an epoch through MXNet's DataLoader)", \
        proc.stderr
