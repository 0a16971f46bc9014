"""A run folder has one writer: a second `augplug train --out` or `--resume` into a folder that a live run
holds is refused at once, naming it; a run killed with kill -9 leaves the folder free; nothing it wrote is
touched by the refused one."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from gluon_augplug._locks import OutputBusyError
from gluon_augplug.train.config import ConfigError, TrainConfig
from gluon_augplug.train.loop import Run, train
from gluon_augplug.train.report import compare
from tests.cli_helpers import AUGPLUG, run as run_cli
from tests.train.test_run_safety import TINY

CLI_TINY = ["--model", "cifar_resnet20_v1", "--train-limit", "40", "--test-limit", "20", "--batch-size", "20",
            "--test-aug", "d2l-none", "--no-progress"]


def _start(*args):
    return subprocess.Popen([AUGPLUG, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_holder(lock, proc, timeout=180):
    """Until ``proc`` holds ``lock`` (its pid written in it)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            if json.loads(lock.read_text() or "{}").get("pid") == proc.pid:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"{proc.args} never took {lock}")


def _refused_by(proc_result, holder_pid):
    lines = proc_result.stderr.strip().splitlines()
    assert proc_result.returncode == 2 and len(lines) == 1, proc_result.stderr
    assert "is being written by another process" in lines[0] and f"pid {holder_pid} " in lines[0], lines[0]


def test_a_second_train_into_a_live_runs_folder_is_refused_and_kill_9_frees_it(cifar_jpg, tmp_path):
    out = tmp_path / "x"
    first = _start("train", "--data", cifar_jpg, *CLI_TINY, "--epochs", "100", "--out", str(out))
    try:
        _wait_for_holder(out / "writer.lock", first)
        before = sorted(p.name for p in out.iterdir())
        second = run_cli("train", "--data", cifar_jpg, *CLI_TINY, "--epochs", "1", "--out", str(out), "--seed", "1")
        _refused_by(second, first.pid)
        overwrite = run_cli("train", "--data", cifar_jpg, *CLI_TINY, "--epochs", "1", "--out", str(out),
                            "--overwrite")
        _refused_by(overwrite, first.pid)  # --overwrite replaces a finished run, never a live one
        assert set(before) <= {p.name for p in out.iterdir()}
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate()
    again = run_cli("train", "--data", cifar_jpg, *CLI_TINY, "--epochs", "1", "--out", str(out), "--overwrite")
    assert again.returncode == 0, again.stderr
    assert not (out / "writer.lock").exists()
    assert [row["epoch"] for row in map(json.loads, (out / "metrics.jsonl").read_text().splitlines())] == [1]


def test_two_resumes_of_one_run_the_second_is_refused_and_the_first_finishes_alone(cifar_jpg, tmp_path, quiet):
    out = tmp_path / "run"
    train(TrainConfig(data=cifar_jpg, out=str(out), **TINY), quiet)
    # enough epochs that the first still trains while the two others start (each loads MXNet: seconds on a busy
    # machine; with 4 epochs a loaded CI run saw the first finish before the third command asked)
    first = _start("train", "--resume", str(out), "--epochs", "16")
    _wait_for_holder(out / "writer.lock", first)
    second = run_cli("train", "--resume", str(out), "--epochs", "16")
    _refused_by(second, first.pid)
    elsewhere = run_cli("train", "--resume", str(out), "--out", str(tmp_path / "copy"), "--epochs", "16")
    _refused_by(elsewhere, first.pid)  # its checkpoint is being rewritten: not read meanwhile
    assert not (tmp_path / "copy").exists()
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in rows] == list(range(1, 17))  # one run's epochs, each once
    assert json.loads((out / "checkpoint.json").read_text())["epoch"] == 16


def test_in_one_process_a_second_run_waits_for_the_first_to_close(cifar_jpg, tmp_path, quiet):
    cfg = TrainConfig(data=cifar_jpg, out=str(tmp_path / "run"), **TINY)
    first = Run(cfg, quiet)
    with pytest.raises(OutputBusyError, match="already being written by this process"):
        Run(cfg, quiet)
    first.close()
    assert not (tmp_path / "run").exists()  # created for a run that wrote nothing: removed again
    train(cfg, quiet)
    assert not (tmp_path / "run" / "writer.lock").exists() and (tmp_path / "run" / "checkpoint.json").exists()


def test_a_comparison_folder_is_held_while_its_runs_train(cifar_jpg, tmp_path, quiet):
    from gluon_augplug._locks import acquire

    with acquire(str(tmp_path / "writer.lock"), "the test"):
        with pytest.raises(OutputBusyError, match=r"the comparison folder .* already being written"):
            compare(TrainConfig(data=cifar_jpg, **TINY), {"none": "ToTensor"}, str(tmp_path), quiet)


def test_a_failed_set_up_releases_the_folder(cifar_jpg, tmp_path, quiet):
    cfg = TrainConfig(data=cifar_jpg, out=str(tmp_path / "run"), **{**TINY, "train_aug": "RandomFlipLeftRight"})
    with pytest.raises(ConfigError, match=r"--train-aug 'RandomFlipLeftRight' ends in HWC images, but the network "
                                          r"takes float CHW tensors: end it with ToTensor"):
        Run(cfg, quiet)
    assert not (tmp_path / "run").exists()


def test_compare_takes_every_configurations_folder_before_any_trains(cifar_jpg, tmp_path, quiet):
    from gluon_augplug._locks import acquire

    train(TrainConfig(data=cifar_jpg, out=str(tmp_path / "none"), **TINY), quiet)
    kept = (tmp_path / "none" / "checkpoint.json").read_bytes()
    (tmp_path / "flip").mkdir()
    with acquire(str(tmp_path / "flip" / "writer.lock"), "a live run"):
        with pytest.raises(OutputBusyError, match=r"the run folder .*flip' is already being written"):
            compare(TrainConfig(data=cifar_jpg, **TINY), {"none": "ToTensor", "flip": "d2l-flip"}, str(tmp_path),
                    quiet, overwrite=True)
    assert (tmp_path / "none" / "checkpoint.json").read_bytes() == kept  # --overwrite removed nothing before refusing
    assert not (tmp_path / "report.md").exists()


def test_the_report_replaces_a_link_planted_at_its_name_and_names_cannot_be_its_files(cifar_jpg, tmp_path, quiet):
    from gluon_augplug.train.report import parse_augs

    (tmp_path / "precious.txt").write_text("precious")
    out = tmp_path / "cmp"
    out.mkdir()
    os.symlink(tmp_path / "precious.txt", out / "report.md")
    compare(TrainConfig(data=cifar_jpg, **TINY), {"none": "ToTensor"}, str(out), quiet)
    assert (tmp_path / "precious.txt").read_text() == "precious"
    assert not os.path.islink(out / "report.md") and "| none | `ToTensor` |" in (out / "report.md").read_text()
    for name in ("report.md", "curves.png", "writer.lock", "grid-x"):
        with pytest.raises(ConfigError, match=f"--aug name '{name}' is the name of a file the report writes"):
            parse_augs([f"{name}=ToTensor"])
