"""augplug train / compare on the command line, and the comparison report."""
from __future__ import annotations

from gluon_augplug.train.config import TrainConfig
from gluon_augplug.train.report import compare
from tests.cli_helpers import AUGPLUG, run  # noqa: F401 (AUGPLUG: for the modules that import it from here)


def test_compare_writes_report_curves_and_grids(cifar_jpg, tmp_path, quiet):
    base = TrainConfig(data=cifar_jpg, model="cifar_resnet20_v1", train_limit=40, test_limit=20, batch_size=20,
                       epochs=2, progress=False)
    results = compare(base, {"flip": "d2l-flip", "none": "ToTensor"}, str(tmp_path), quiet)
    report = (tmp_path / "report.md").read_text()
    assert "| flip | `RandomFlipLeftRight, ToTensor` |" in report and "| none | `ToTensor` |" in report
    assert "data wait" in report and "![accuracy per epoch](curves.png)" in report
    for name in ("curves.png", "grid-flip.png", "grid-none.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # same seed, same initial weights: the un-augmented run differs only through the augmentation
    assert results["flip"]["history"][0]["loss"] != results["none"]["history"][0]["loss"]
    assert len(results["flip"]["history"]) == 2


def test_train_command_and_resume(cifar_jpg, tmp_path):
    out = tmp_path / "run"
    args = ["--data", cifar_jpg, "--model", "cifar_resnet20_v1", "--train-limit", "40", "--test-limit", "20",
            "--batch-size", "20", "--ctx", "cpu:0,cpu:1", "--train-aug", "cifar10-standard",
            "--test-aug", "cifar10-test", "--out", str(out)]
    proc = run("train", *args, "--epochs", "1", "--log-interval", "1")
    assert proc.returncode == 0, proc.stderr
    assert "epoch 1 batch 2/2" in proc.stdout and "epoch 1, loss" in proc.stdout
    proc = run("train", "--resume", str(out), "--out", str(out), "--epochs", "2")
    assert proc.returncode == 0, proc.stderr
    assert "resumed from" in proc.stdout and "epoch 2, loss" in proc.stdout and "epoch 1, loss" not in proc.stdout
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 2


def test_train_command_bad_input_exit_2(cifar_jpg, tmp_path):
    proc = run("train", "--data", str(tmp_path / "missing"), "--epochs", "1")
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    proc = run("train", "--data", cifar_jpg, "--model", "resnet_18", "--train-limit", "10")
    assert proc.returncode == 2 and "unknown model 'resnet_18'" in proc.stderr
    proc = run("train", "--data", cifar_jpg, "--train-aug", "RandomFlip", "--train-limit", "10")
    assert proc.returncode == 2 and "RandomFlipLeftRight" in proc.stderr
    proc = run("train", "--resume", str(tmp_path))
    assert proc.returncode == 2 and "checkpoint.json" in proc.stderr
    proc = run("compare", "--data", cifar_jpg, "--aug", "broken", "--out", str(tmp_path / "c"))
    assert proc.returncode == 2 and "NAME=SPEC" in proc.stderr
