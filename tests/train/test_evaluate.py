"""Test-time views in evaluation: ``augplug train --tta`` reports each epoch's accuracy through the views beside the
plain one, and ``augplug evaluate`` on the saved run gives the very same numbers (same weights, same test subset)."""
from __future__ import annotations

import json

import pytest

from gluon_augplug.train.config import ConfigError, TrainConfig
from gluon_augplug.train.loop import train
from tests.cli_helpers import run


@pytest.fixture(scope="module")
def trained(cifar_jpg, tmp_path_factory):
    """Two epochs of the CIFAR recipe on 400 real CIFAR-10 images with --tta flip and ten crops of the padded image
    (the views of RandomCrop(32, pad=4)). One device: on several, each keeps BatchNorm running statistics of its
    own part of the batches, and the saved file holds their mean (MXNet's save_parameters), so a saved network
    evaluates slightly differently from the per-device copies the training loop evaluated."""
    out = tmp_path_factory.mktemp("tta") / "run"
    proc = run("train", "--data", cifar_jpg, "--model", "cifar_resnet20_v1", "--train-limit", "400", "--test-limit",
               "200", "--batch-size", "50", "--epochs", "2", "--ctx", "cpu:0", "--train-aug", "cifar10-standard",
               "--test-aug", "cifar10-test", "--out", str(out), "--tta", "flip",
               "--tta", "ten-crop(32, pad=4)")
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


def test_train_reports_the_views_beside_the_plain_accuracy(trained):
    out, stdout = trained
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [sorted(r["test_acc_tta"]) for r in rows] == [["flip", "ten-crop(32, pad=4)"]] * 2
    for r in rows:
        assert all(0 <= v <= 1 for v in r["test_acc_tta"].values())
        assert f"test acc {r['test_acc']:.3f} (flip {r['test_acc_tta']['flip']:.3f}, ten-crop(32, pad=4) " \
               f"{r['test_acc_tta']['ten-crop(32, pad=4)']:.3f})" in stdout


def test_evaluate_a_saved_run_gives_the_same_numbers(trained):
    out, _ = trained
    last = json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])
    proc = run("evaluate", "--params", str(out), "--tta", "flip", "--tta", "ten-crop(32, pad=4)", "--ctx",
               "cpu:0,cpu:1", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["images"] == 200
    assert result["accuracy"] == pytest.approx(last["test_acc"], abs=1e-9)
    for spec, value in last["test_acc_tta"].items():
        assert result["with_views"][spec] == pytest.approx(value, abs=1e-9), spec
    assert result["passes"] == {"flip": 2, "ten-crop(32, pad=4)": 10}
    table = run("evaluate", "--params", str(out / "epoch-0002.params"), "--tta", "five-crop(28)")
    assert table.returncode == 0, table.stderr
    assert "| views | passes | accuracy | change | ms per image |" in table.stdout
    assert "| five-crop(28) | 5 |" in table.stdout


def test_tta_is_a_run_time_setting_on_resume(trained, tmp_path):
    import shutil

    out, _ = trained
    copy = tmp_path / "run"
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns("writer.lock"))
    history = train(TrainConfig(resume=str(copy), epochs=3, tta=("vflip",), ctx="cpu:0,cpu:1", progress=False),
                    log=lambda line: None, given={"epochs", "tta", "ctx"})
    assert sorted(history[-1]["test_acc_tta"]) == ["vflip"] and len(history) == 3


def test_bad_views_are_refused_before_any_work(cifar_jpg, tmp_path):
    proc = run("train", "--data", cifar_jpg, "--train-limit", "10", "--tta", "ten-crp(32)", "--out", str(tmp_path / "r"))
    assert proc.returncode == 2 and "--tta 'ten-crp(32)'" in proc.stderr and "closest view sets: ten-crop" in proc.stderr
    assert not (tmp_path / "r").exists()
    with pytest.raises(ConfigError, match="RandomCrop draws its parameters at random"):
        train(TrainConfig(data=cifar_jpg, train_limit=10, tta=("RandomCrop(32, pad=4)",)), log=lambda line: None)
    lines = []
    with pytest.raises(ConfigError, match=r"--tta 'ten-crop\(64\)'.*an input of 32x32: the input is smaller than the"):
        train(TrainConfig(data=cifar_jpg, train_limit=10, test_limit=10, tta=("ten-crop(64)",)), log=lines.append)
    assert not any(line.startswith("epoch") for line in lines)  # refused before the first epoch
    proc = run("evaluate", "--params", str(tmp_path / "missing.params"), "--model", "cifar_resnet20_v1")
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_views_command_lists_the_sets_and_a_specs_passes():
    proc = run("views")
    assert proc.returncode == 0 and "ten-crop" in proc.stdout and "multi-eval" in proc.stdout
    proc = run("views", "multi-eval", "--size", "375x500", "--json")
    assert proc.returncode == 0, proc.stderr
    passes = json.loads(proc.stdout)["passes"]
    assert len(passes) == 36 and passes[0]["name"] == "as is" and passes[1]["name"] == "flip"
    proc = run("views", "RandomFlipLeftRight")
    assert proc.returncode == 2 and "give it a seed" in proc.stderr
