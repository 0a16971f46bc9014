"""Long runs: checkpoints inside an epoch, a clean stop on SIGTERM/SIGINT, kill -9, and schedules in the loop.

"Equal" here is bit for bit: the same batches, the same draws, the same weights (CPU), the same metrics
but the timings.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import mxnet as mx
import numpy as np
import pytest

from gluon_augplug.train.checkpoint import CheckpointError, load_checkpoint
from gluon_augplug.train.config import TrainConfig
from gluon_augplug.train.loop import Run, resume, train
from gluon_augplug.train.stopping import TrainingStopped
from tests.train.test_streamed import cifar_recs  # noqa: F401  (a fixture: class-folder trees of real CIFAR-10)

pytestmark = pytest.mark.pinned

AUGPLUG = shutil.which("augplug", path=str(Path(sys.executable).parent))
TINY = dict(model="cifar_resnet20_v1", train_limit=64, test_limit=20, batch_size=16, epochs=2, optimizer="sgd",
            lr=0.05, test_aug="d2l-none", progress=False, seed=3)
# a schedule that changes every iteration, a step switched on in the second epoch, and Mixup off in the last
TRAIN_AUG = ("RandomCrop(32, pad=steps(0, (1, 4))), RandomFlipLeftRight, "
             "RandomColorJitter(brightness=linear(0.0, 0.4, 0, 2)), RandomErasing(active=after(1)), ToTensor")
TIMING = {"time", "epoch_time", "samples_per_sec", "data_wait", "data_wait_share"}


def same_rows(a: list[dict], b: list[dict]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert {k: v for k, v in x.items() if k not in TIMING} == {k: v for k, v in y.items() if k not in TIMING}


def same_params(a: Path, b: Path) -> None:
    pa, pb = mx.nd.load(str(a)), mx.nd.load(str(b))
    assert set(pa) == set(pb)
    for name in pa:
        np.testing.assert_array_equal(pa[name].asnumpy(), pb[name].asnumpy(), err_msg=name)


def stop_at(epoch: int, batch: int, signum: int = signal.SIGTERM):
    """A log that sends this process ``signum`` when the loop logs ``batch`` of ``epoch`` (1-based)."""
    lines: list[str] = []

    def log(line: str) -> None:
        lines.append(line)
        if line.strip().startswith(f"epoch {epoch} batch {batch}/"):
            os.kill(os.getpid(), signum)

    return log, lines


def common_settings(data: str) -> dict:
    return dict(data=data, train_aug=TRAIN_AUG, mixup=0.2, mixup_off_epoch=1, checkpoint_every=3, log_interval=1,
                **TINY)


@pytest.fixture(scope="module")
def straight(cifar_jpg, tmp_path_factory):
    """The uninterrupted run every stopped one is compared with (DataLoader workers change nothing: per-sample
    seeds), and its folder."""
    out = tmp_path_factory.mktemp("straight")
    return train(TrainConfig(out=str(out), **common_settings(cifar_jpg)), lambda line: None), out


@pytest.mark.parametrize("workers,signum", [(0, signal.SIGTERM), (2, signal.SIGINT)])
def test_a_run_stopped_inside_an_epoch_resumes_bit_for_bit(cifar_jpg, tmp_path, workers, signum, straight):
    common = dict(common_settings(cifar_jpg), num_workers=workers)
    straight, folder = straight
    log, lines = stop_at(1, 2, signum)
    with pytest.raises(TrainingStopped) as stopped:
        train(TrainConfig(out=str(tmp_path / "b"), **common), log)
    name = signal.Signals(signum).name
    assert stopped.value.signum == signum and stopped.value.checkpoint == str(tmp_path / "b")
    assert f"{name}: stopped after batch 2/4 of epoch 1 (iteration 2); checkpoint written. Resume with: augplug " \
           f"train --resume {tmp_path / 'b'}" in lines
    record = load_checkpoint(str(tmp_path / "b"))
    assert (record["epoch"], record["batch"], record["iteration"]) == (0, 2, 2)
    assert sorted(os.listdir(tmp_path / "b")) == ["checkpoint.json", "epoch-0000.batch-0000002.params",
                                                  "epoch-0000.batch-0000002.states.nd", "metrics.jsonl"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handlers are the caller's again
    lines.clear()
    resumed = resume(str(tmp_path / "b"), log=lines.append)
    assert lines[0] == f"resumed from {tmp_path / 'b'} after epoch 0, batch 2/4 of epoch 1 (iteration 2)"
    same_rows(straight, resumed)
    same_params(folder / "epoch-0002.params", tmp_path / "b" / "epoch-0002.params")
    assert [json.loads(line)["epoch"] for line in open(tmp_path / "b" / "metrics.jsonl")] == [1, 2]


def test_decode_threads_and_three_devices_resume_bit_for_bit(cifar_recs, tmp_path):  # noqa: F811
    """Three devices: the .params file's mean of three equal weights may differ in the last bit, and each device
    has BatchNorm statistics of its own; the checkpoint keeps both exactly."""
    common = {**TINY, **dict(data=cifar_recs["train_tree"], val_data=cifar_recs["test_tree"], train_aug=TRAIN_AUG,
                             test_aug="Resize(32), ToTensor", threads=2, ctx="cpu:0,cpu:1,cpu:2", log_interval=1,
                             train_limit=None, test_limit=None)}
    straight = train(TrainConfig(out=str(tmp_path / "a"), **common), lambda line: None)
    log, _ = stop_at(2, 1)
    with pytest.raises(TrainingStopped):
        train(TrainConfig(out=str(tmp_path / "b"), **common), log)
    assert load_checkpoint(str(tmp_path / "b"))["batch"] == 1
    resumed = resume(str(tmp_path / "b"), log=lambda line: None, threads=1)  # a run-time setting
    same_rows(straight, resumed)
    same_params(tmp_path / "a" / "epoch-0002.params", tmp_path / "b" / "epoch-0002.params")
    # each device's own BatchNorm statistics come back too (the .params file holds their mean)
    assert (tmp_path / "b" / "epoch-0002.devices.nd").is_file()


def test_a_checkpoint_inside_an_epoch_that_does_not_fit_the_run_is_refused(cifar_jpg, tmp_path):
    log, _ = stop_at(1, 2)
    with pytest.raises(TrainingStopped):
        train(TrainConfig(out=str(tmp_path), **common_settings(cifar_jpg)), log)
    path = tmp_path / "checkpoint.json"
    good = json.loads(path.read_text())
    for change, message in (({"batch": 10**9}, "at batch 1000000000 of epoch 1 (iteration 2), which this run's 4 "
                                               "batches an epoch cannot reach"),
                            ({"partial": dict(good["partial"], seen=0.5)}, "'seen' a count >= 1"),
                            ({"batch": 0}, "'partial' must be null in a checkpoint at an epoch's end")):
        path.write_text(json.dumps({**good, **change}))
        with pytest.raises(CheckpointError, match=re.escape(message)):
            resume(str(tmp_path), log=lambda line: None)


def test_checkpoints_every_n_iterations_keep_the_newest(cifar_jpg, tmp_path):
    train(TrainConfig(data=cifar_jpg, out=str(tmp_path), checkpoint_every="3", keep_checkpoints=2, **TINY),
          lambda line: None)
    # iterations 3 (epoch 1, batch 3) and 6 (epoch 2, batch 2) inside the epochs; 4 and 8 at their ends
    assert sorted(f for f in os.listdir(tmp_path) if f.endswith(".params")) == [
        "epoch-0001.batch-0000002.params", "epoch-0002.params"]
    with pytest.raises(ValueError, match=r"checkpoint_every='3x' \(allowed: a number of iterations \(500\) or a "
                                         r"duration such as 90s, 30m, 2h or 1h30m\)"):
        TrainConfig(data=cifar_jpg, checkpoint_every="3x").validate()


def test_mixup_off_for_the_last_epochs_as_gluoncv(cifar_jpg):
    """GluonCV's train_imagenet.py: ``if epoch >= num_epochs - mixup_off_epoch: lam = 1`` (no mixing), epochs
    counted from 0; train_yolo3.py's --no-mixup-epochs is the same rule."""
    run = Run(TrainConfig(data=cifar_jpg, mixup=0.2, mixup_off_epoch=2, **{**TINY, "epochs": 5}), lambda line: None)
    on = [bool(run.batch_pipeline.at(epoch, 1, 4).transforms) for epoch in range(5)]
    assert on == [epoch < 5 - 2 for epoch in range(5)] == [True, True, True, False, False]
    assert run.soft_targets and run.batch_pipeline.at(4).mixes_labels  # one-hot targets after Mixup stops
    with pytest.raises(ValueError, match="no Mixup"):
        TrainConfig(data=cifar_jpg, mixup_off_epoch=3).validate()


def test_kill_9_between_checkpoints_resumes_from_the_last(cifar_jpg, tmp_path, straight):
    common = ["--data", cifar_jpg, "--model", "cifar_resnet20_v1", "--train-limit", "64", "--test-limit", "20",
              "--batch-size", "16", "--epochs", "2", "--optimizer", "sgd", "--lr", "0.05", "--seed", "3",
              "--no-progress", "--train-aug", TRAIN_AUG, "--test-aug", "d2l-none", "--checkpoint-every", "3",
              "--log-interval", "1", "--num-workers", "2", "--mixup", "0.2", "--mixup-off-epoch", "1"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    rows, folder = straight  # the same settings, trained without a stop in this process
    proc = subprocess.Popen([AUGPLUG, "train", *common, "--out", str(tmp_path / "b")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.strip().startswith("epoch 2 batch 1/4"):  # after the checkpoint at iteration 4, before the one at 6
            os.killpg(proc.pid, signal.SIGKILL)
            break
    assert proc.wait(timeout=60) == -signal.SIGKILL, "".join(seen)
    proc.stdout.close()
    record = load_checkpoint(str(tmp_path / "b"))
    assert (record["epoch"], record["batch"]) == (1, 0)
    resumed = subprocess.run([AUGPLUG, "train", "--resume", str(tmp_path / "b")], capture_output=True, text=True,
                             timeout=600, env=env)
    assert resumed.returncode == 0, resumed.stderr
    same_params(folder / "epoch-0002.params", tmp_path / "b" / "epoch-0002.params")
    same_rows(rows, [json.loads(line) for line in open(tmp_path / "b" / "metrics.jsonl")])


def test_sigterm_to_the_whole_group_stops_cleanly_with_workers(cifar_jpg, tmp_path):
    """Slurm signals every process of the job: DataLoader workers ignore SIGTERM, the main process stops at a
    checkpoint and exits with 128 + 15, saying how to resume."""
    out = tmp_path / "run"
    proc = subprocess.Popen([AUGPLUG, "train", "--data", cifar_jpg, "--model", "cifar_resnet20_v1", "--train-limit",
                             "64", "--test-limit", "20", "--batch-size", "16", "--epochs", "2", "--no-progress",
                             "--log-interval", "1", "--num-workers", "2", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.strip().startswith("epoch 1 batch 1/4"):
            os.killpg(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=120) == 128 + signal.SIGTERM, "".join(seen)
    text = "".join(seen)
    assert "SIGTERM: stopping after this iteration, with a checkpoint" in text
    assert f"Resume with: augplug train --resume {out}" in text
    assert load_checkpoint(str(out))["batch"] in (1, 2)


def test_a_second_signal_stops_at_once(tmp_path):
    script = textwrap.dedent("""
        import os, signal, time
        from gluon_augplug.train.stopping import StopSignals
        with StopSignals(print) as signals:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.1)
            print("first handled:", signals.name, flush=True)
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
            print("still running")
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGTERM
    assert "first handled: SIGTERM" in proc.stdout and "still running" not in proc.stdout


def test_an_input_bound_epoch_says_what_to_try():
    from gluon_augplug.train.hints import input_bound_hint

    assert input_bound_hint(TrainConfig(data="cifar.tar.gz"), 0.1) == ""
    hint = input_bound_hint(TrainConfig(data="cifar.tar.gz", num_workers=2, train_aug="cifar10-standard"), 0.4)
    assert hint.startswith("; bound by its input (40% of the time waiting for data): try --num-workers 4")
    assert "--batch-aug" in hint and "`augplug profile 'cifar10-standard' --data cifar.tar.gz`" in hint
    streamed = input_bound_hint(TrainConfig(data="train.rec", val_data="val.rec", threads=2), 0.5)
    assert "try --threads 4, --num-workers 2" in streamed
