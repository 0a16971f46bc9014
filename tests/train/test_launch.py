"""Distributed training on loopback: augplug launch with 2 workers and 1 server, dist_sync kvstore."""
from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path

import mxnet as mx
import numpy as np
import pytest

from gluon_augplug.train.launch import launch

AUGPLUG = shutil.which("augplug", path=str(Path(sys.executable).parent))


@pytest.mark.slow
def test_two_workers_end_with_identical_parameters(cifar_jpg, tmp_path):
    out = tmp_path / "dist"
    log = io.StringIO()
    code = launch([AUGPLUG, "train", "--data", cifar_jpg, "--model", "cifar_resnet20_v1", "--train-limit", "64",
                   "--test-limit", "20", "--batch-size", "16", "--epochs", "1", "--kvstore", "dist_sync",
                   "--optimizer", "sgd", "--lr", "0.1", "--no-progress", "--out", str(out)],
                  workers=2, servers=1, timeout=400, stream=log)
    text = log.getvalue()
    assert code == 0, text
    assert "[worker 0] epoch 1, loss" in text and "[worker 1] epoch 1, loss" in text
    params = [mx.nd.load(str(out / f"worker-{r}" / "epoch-0001.params")) for r in (0, 1)]
    trainable = [k for k in params[0] if "running" not in k]  # BatchNorm statistics stay local to each worker
    assert trainable
    for name in trainable:
        np.testing.assert_array_equal(params[0][name].asnumpy(), params[1][name].asnumpy(), err_msg=text[-4000:])
    states = [json.loads((out / f"worker-{r}" / "checkpoint.json").read_text()) for r in (0, 1)]
    assert [s["rank"] for s in states] == [0, 1] and all(s["workers"] == 2 for s in states)
    # each worker trained on its own shard: half the images each
    assert [s["history"][0]["samples"] for s in states] == [32, 32]


def test_a_failing_worker_fails_the_job(tmp_path):
    log = io.StringIO()
    code = launch([sys.executable, "-c", "import sys; sys.exit(3)"], workers=1, servers=1, timeout=120, stream=log)
    assert code == 3


def test_launch_arguments():
    with pytest.raises(ValueError, match="at least one worker"):
        launch(["true"], workers=0)
    with pytest.raises(ValueError, match="worker command"):
        launch([], workers=1)
