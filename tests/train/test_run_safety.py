"""Run folders are untrusted and precious: resuming never unpickles, nothing finished is overwritten,
a full disk or a killed writer loses nothing, and changed settings on resume are refused by name."""
from __future__ import annotations

import json
import os
import pickle
import resource
import signal
import subprocess
import sys

import mxnet as mx
import numpy as np
import pytest

from gluon_augplug.train.checkpoint import CheckpointError, load_checkpoint
from gluon_augplug.train.config import ConfigError, TrainConfig
from gluon_augplug.train.loop import Run, resume, train
from gluon_augplug.train.report import compare, parse_augs
from tests.cli_helpers import AUGPLUG, run as run_cli

TINY = dict(model="cifar_resnet20_v1", train_limit=40, test_limit=20, batch_size=20, epochs=1,
            test_aug="d2l-none", progress=False)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, cifar_jpg):
    """A finished one-epoch run (Adam, two devices), copied afresh by each test that changes it."""
    out = tmp_path_factory.mktemp("finished") / "run"
    train(TrainConfig(data=cifar_jpg, out=str(out), ctx="cpu:0,cpu:1", **TINY), lambda line: None)
    return out


@pytest.fixture
def run_dir(finished_run, tmp_path):
    import shutil

    target = tmp_path / "run"
    shutil.copytree(finished_run, target)
    return target


class _Payload:
    """Unpickling this creates a marker file: proof that a loader ran code from a run folder."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_optimizer_states_are_ndarray_files_and_json(run_dir):
    record = load_checkpoint(str(run_dir))
    states = record["trainer_states"]
    assert states["format"].startswith("gluon-augplug-optimizer-states") and states["arrays"].endswith(".states.nd")
    arrays = mx.nd.load(str(run_dir / states["arrays"]))  # MXNet's data-only format
    assert len(arrays) == 2 * len(states["states"]) > 0  # Adam: mean and variance per parameter
    assert states["optimizer"]["name"] == "adam" and states["optimizer"]["num_update"] == 2
    with open(run_dir / states["arrays"], "rb") as f:
        head = f.read(2)
    assert head != b"\x80\x04"[:2] and not (run_dir / "epoch-0001.states").exists()


def test_resume_never_unpickles_a_planted_states_file(run_dir, tmp_path, quiet):
    marker = tmp_path / "code-ran"
    (run_dir / "epoch-0001.states").write_bytes(pickle.dumps(_Payload(str(marker))))
    record = json.loads((run_dir / "checkpoint.json").read_text())
    record["trainer_states"] = "epoch-0001.states"  # what gluon-augplug 0.1 wrote: MXNet's pickled updater
    (run_dir / "checkpoint.json").write_text(json.dumps(record))
    with pytest.raises(CheckpointError, match="pickle format.*not loaded"):
        resume(str(run_dir), quiet, epochs=2)
    assert not marker.exists()
    proc = run_cli("train", "--resume", str(run_dir), "--epochs", "2")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and not marker.exists()


def _swap_first_array(states):
    """Point parameter 0's first Adam array at an array of another shape (s0.0 then goes unused)."""
    first = states["states"][0]
    other = next(e for e in states["states"][1:] if e[1] is not None)
    first[1]["tuple"][0] = other[1]["tuple"][0]


@pytest.mark.parametrize("tamper, message", [
    (_swap_first_array, "holds arrays the structure does not name|but parameter"),
    (lambda s: s["states"].append([9999, None]), "does not name one of the model's"),
    (lambda s: s.__setitem__("arrays", "../../etc/passwd"), "not a plain file name"),
    (lambda s: s["optimizer"].__setitem__("num_update", -1), "non-negative integer"),
    (lambda s: s["optimizer"].__setitem__("name", "sgd"), "this run's optimizer is 'adam'"),
])
def test_tampered_optimizer_states_are_refused_by_name(run_dir, quiet, tamper, message):
    record = json.loads((run_dir / "checkpoint.json").read_text())
    tamper(record["trainer_states"])
    (run_dir / "checkpoint.json").write_text(json.dumps(record))
    with pytest.raises(CheckpointError, match=message):
        resume(str(run_dir), quiet, epochs=2)


def test_truncated_parameters_are_a_one_line_error(run_dir):
    params = run_dir / "epoch-0001.params"
    params.write_bytes(params.read_bytes()[:5000])
    proc = run_cli("train", "--resume", str(run_dir), "--epochs", "2")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "epoch-0001.params is truncated, tampered with" in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_out_folder_with_a_run_is_refused_unless_overwrite(run_dir, cifar_jpg):
    before = {p.name: p.read_bytes() for p in run_dir.iterdir()}
    args = ["train", "--data", cifar_jpg, "--model", "cifar_resnet20_v1", "--train-limit", "20", "--test-limit", "10",
            "--batch-size", "10", "--epochs", "1", "--out", str(run_dir)]
    proc = run_cli(*args)
    assert proc.returncode == 2 and "already holds a training run" in proc.stderr and "--overwrite" in proc.stderr
    assert {p.name: p.read_bytes() for p in run_dir.iterdir()} == before  # nothing lost
    proc = run_cli(*args, "--overwrite")
    assert proc.returncode == 0, proc.stderr
    assert load_checkpoint(str(run_dir))["config"]["train_limit"] == 20


def test_resume_into_another_folder_holding_a_run_is_refused(run_dir, finished_run, quiet):
    with pytest.raises(ConfigError, match="already holds a training run"):
        resume(str(run_dir), quiet, epochs=2, out=str(finished_run))


def test_resume_applies_given_run_time_settings_even_when_they_equal_a_default(run_dir, quiet):
    assert TrainConfig().epochs == 10
    run = Run(TrainConfig(resume=str(run_dir), epochs=10), quiet, given={"epochs"})
    assert run.cfg.epochs == 10 and run.out == str(run_dir)


def test_resume_on_the_command_line_takes_epochs_equal_to_the_default(run_dir):
    proc = run_cli("train", "--resume", str(run_dir), "--epochs", "10", "--lr", "0.001", "--progress")
    # --lr equal to the saved value is not a change; --epochs 10 (the default) is applied
    assert proc.returncode == 0, proc.stderr
    assert "epoch 10, loss" in proc.stdout


@pytest.mark.parametrize("option, value, expected", [
    ("--lr", "0.1", "lr 0.1 (the run has 0.001)"), ("--optimizer", "sgd", "optimizer 'sgd' (the run has 'adam')"),
    ("--train-aug", "ToTensor", "train_aug 'ToTensor' (the run has 'd2l-flip')"),
    ("--model", "cifar_resnet56_v1", "model 'cifar_resnet56_v1' (the run has 'cifar_resnet20_v1')")])
def test_changed_settings_on_resume_are_refused_by_name(run_dir, option, value, expected):
    before = (run_dir / "checkpoint.json").read_text()
    proc = run_cli("train", "--resume", str(run_dir), "--epochs", "2", option, value)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert expected in proc.stderr
    assert (run_dir / "checkpoint.json").read_text() == before


def test_changed_data_on_resume_is_refused(run_dir, tmp_path, quiet):
    with pytest.raises(ConfigError, match="data '/elsewhere'"):
        Run(TrainConfig(resume=str(run_dir), data="/elsewhere"), quiet, given={"data"})


def test_temporaries_of_a_killed_writer_are_removed_at_the_next_start(run_dir, quiet):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    for name in (f"epoch-0002.params.tmp-{dead}", f"checkpoint.json.tmp-{dead}", f"metrics.jsonl.tmp-{dead}"):
        (run_dir / name).write_bytes(b"half")
    (run_dir / "notes.txt.tmp-1").write_text("not ours")
    lines = []
    resume(str(run_dir), lines.append, epochs=2)
    assert not [p for p in run_dir.iterdir() if ".tmp-" in p.name and p.name != "notes.txt.tmp-1"]
    assert (run_dir / "notes.txt.tmp-1").exists()
    assert any("removed 3 temporary file(s)" in line for line in lines)


def _small_file_limit():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))


def test_a_full_disk_during_a_checkpoint_keeps_the_previous_one(run_dir):
    before = load_checkpoint(str(run_dir))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLUON_AUGPLUG_")}
    proc = subprocess.run([AUGPLUG, "train", "--resume", str(run_dir), "--epochs", "2"], capture_output=True,
                          text=True, timeout=600, env=env, preexec_fn=_small_file_limit)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "could not write" in proc.stderr and "the previous checkpoint is intact" in proc.stderr
    after = load_checkpoint(str(run_dir))
    assert after["epoch"] == before["epoch"] == 1
    assert not [p for p in run_dir.iterdir() if ".tmp-" in p.name]
    resume(str(run_dir), lambda line: None, epochs=2)  # and the run goes on once there is room
    assert load_checkpoint(str(run_dir))["epoch"] == 2


@pytest.mark.parametrize("args, message", [
    (["--ctx", "cpu:0,cpu:0"], "lists cpu(0) twice"),
    (["--gpus", "0"], "MXNet sees"),
    (["--ctx", "gpu:0"], "MXNet sees"),
    (["--ctx", "cpu:0,cpu:1", "--batch-size", "1"], "smaller than the 2 devices"),
    (["--lr", "nan"], "lr=nan (must be a finite number)"),
    (["--wd", "inf"], "wd=inf"),
    (["--mixup", "nan"], "mixup=nan"),
    (["--momentum", "nan"], "momentum=nan"),
    (["--warmup-epochs", "inf"], "warmup_epochs=inf"),
])
def test_bad_devices_and_settings_are_one_line_errors(cifar_jpg, tmp_path, args, message):
    if "MXNet sees" in message and mx.context.num_gpus() > 0:
        pytest.skip("this machine has a GPU")
    proc = run_cli("train", "--data", cifar_jpg, "--train-limit", "10", "--epochs", "1", *args)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("items, message", [
    (["/abs=ToTensor"], "must be a plain name"), (["../../x=ToTensor"], "must be a plain name"),
    (["a/b=ToTensor"], "must be a plain name"), ([".hidden=ToTensor"], "must be a plain name"),
    (["flip=d2l-flip", "flip=ToTensor"], "given twice"),
])
def test_compare_names_are_plain_and_unique(items, message):
    with pytest.raises(ConfigError, match=message):
        parse_augs(items)


def test_compare_refuses_an_out_folder_holding_its_runs(run_dir, cifar_jpg, tmp_path, quiet):
    out = tmp_path / "cmp"
    out.mkdir()
    os.rename(run_dir, out / "flip")
    base = TrainConfig(data=cifar_jpg, **TINY)
    with pytest.raises(ConfigError, match="already holds the run"):
        compare(base, {"flip": "d2l-flip", "none": "ToTensor"}, str(out), quiet)
    assert not (out / "none").exists()
    proc = run_cli("compare", "--data", cifar_jpg, "--aug", "/tmp/x=ToTensor", "--out", str(out))
    assert proc.returncode == 2 and "plain name" in proc.stderr and "Traceback" not in proc.stderr


def test_resumed_run_equals_an_uninterrupted_one_with_the_new_state_format(cifar_jpg, tmp_path, quiet):
    common = dict(data=cifar_jpg, **{**TINY, "epochs": 2}, optimizer="nag", lr=0.05, ctx="cpu:0,cpu:1")
    straight = train(TrainConfig(out=str(tmp_path / "a"), **common), quiet)
    train(TrainConfig(out=str(tmp_path / "b"), **{**common, "epochs": 1}), quiet)
    resumed = resume(str(tmp_path / "b"), quiet, epochs=2)
    assert [r["loss"] for r in straight] == [r["loss"] for r in resumed]
    pa, pb = (mx.nd.load(str(tmp_path / d / "epoch-0002.params")) for d in "ab")
    for name in pa:
        if "running" not in name:
            np.testing.assert_array_equal(pa[name].asnumpy(), pb[name].asnumpy())


@pytest.mark.parametrize("key, value, message", [
    ("epoch", 1e30, r"'epoch' must be an integer in \[0, "), ("epoch", "1", "'epoch' must be an integer"),
    ("epoch", float("nan"), "'epoch' must be an integer"), ("iteration", 10**400, "'iteration' must be an integer"),
    ("history", [1], "'history' must hold one record per finished epoch"),
])
def test_tampered_counters_in_checkpoint_json_are_refused(run_dir, key, value, message):
    record = json.loads((run_dir / "checkpoint.json").read_text())
    record[key] = value
    (run_dir / "checkpoint.json").write_text(json.dumps(record))
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(str(run_dir))


def test_deeply_nested_checkpoint_json_and_states_are_refused(run_dir, quiet):
    (run_dir / "checkpoint.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CheckpointError, match="nests too deep"):
        load_checkpoint(str(run_dir))


def test_a_malformed_numpy_random_state_is_refused(run_dir, quiet):
    record = json.loads((run_dir / "checkpoint.json").read_text())
    record["rng"]["numpy"] = ["MT19937", [1, 2], 0, 0, 0.0]
    (run_dir / "checkpoint.json").write_text(json.dumps(record))
    with pytest.raises(CheckpointError, match="random-number states are malformed"):
        resume(str(run_dir), quiet, epochs=2)


@pytest.mark.parametrize("args, message", [
    (["--ctx", "cpu:99999999999999999999"], "device numbers go up to 255"),
    (["--gpus", "4294967296"], "at most 255"),
    (["--kvstore", "dist_sync"], "run it under 'augplug launch"),
])
def test_device_numbers_and_dist_kvstores_are_checked_before_mxnet_sees_them(cifar_jpg, args, message):
    proc = run_cli("train", "--data", cifar_jpg, "--train-limit", "10", "--epochs", "1", *args)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert message in proc.stderr
