"""Training from RecordIO and image trees: augplug train --data train.rec --val-data val.rec on two CPU
devices, exact resume, GluonCV's ImageNet model names, and dist workers each reading their own part."""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from gluon_augplug.data.pack import pack
from tests.conftest import load_cifar_jpg

pytestmark = pytest.mark.pinned  # the scripts and the comparisons run on MXNet (and GluonCV)

AUGPLUG = shutil.which("augplug", path=str(Path(sys.executable).parent))
AUG = ["--train-aug", "RandomResizedCrop(32, scale=(0.5, 1)), RandomFlipLeftRight, ToTensor", "--test-aug", "ToTensor"]


@pytest.fixture(scope="module")
def cifar_recs(tmp_path_factory) -> dict:
    """Real CIFAR-10 images as class-folder trees (41 training, 20 test) and their .rec files."""
    root = tmp_path_factory.mktemp("cifar-rec")
    out = {}
    for split, per_class, extra in (("train", 4, 1), ("test", 2, 0)):
        images, labels = load_cifar_jpg(split, per_class + extra)
        quota = {c: per_class + (extra if c == 0 else 0) for c in range(10)}  # 41 = 4 per class + one more airplane
        keep = []
        for k, label in enumerate(labels):
            if quota[int(label)]:
                quota[int(label)] -= 1
                keep.append(k)
        for k in keep:
            folder = root / split / f"{labels[k]}"
            folder.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(folder / f"{k:04d}.jpg"), images[k][:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
        out[split + "_tree"] = str(root / split)
        out[split] = pack(str(root / split), str(root / f"{split}"), shuffle=True, seed=1)[0]
    return out


def run(*args):
    return subprocess.run([AUGPLUG, *args], capture_output=True, text=True, timeout=600)


def test_train_from_records_on_two_devices_and_resume_exactly(cifar_recs, tmp_path):
    common = ["--data", cifar_recs["train"], "--val-data", cifar_recs["test"], "--model", "cifar_resnet20_v1",
              "--batch-size", "16", "--ctx", "cpu:0,cpu:1", "--threads", "2", "--optimizer", "sgd", "--lr", "0.05",
              "--no-progress", *AUG]
    whole = run("train", *common, "--epochs", "2", "--out", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    assert "training cifar_resnet20_v1 on 41 images (20 test) on cpu(0), cpu(1)" in whole.stdout
    first = run("train", *common, "--epochs", "1", "--out", str(tmp_path / "part"))
    assert first.returncode == 0, first.stderr
    resumed = run("train", "--resume", str(tmp_path / "part"), "--epochs", "2", "--threads", "1")
    assert resumed.returncode == 0, resumed.stderr
    rows = [[json.loads(line) for line in (tmp_path / name / "metrics.jsonl").read_text().splitlines()]
            for name in ("whole", "part")]
    for a, b in zip(*rows):  # the same epochs: 2 threads then 1 thread after the resume
        assert (a["loss"], a["train_acc"], a["test_acc"]) == (b["loss"], b["train_acc"], b["test_acc"])


def test_image_trees_train_too_and_a_lone_rec_is_refused(cifar_recs, tmp_path):
    proc = run("train", "--data", cifar_recs["train_tree"], "--val-data", cifar_recs["test_tree"], "--model",
               "mobilenetv2_0.25", "--batch-size", "41", "--epochs", "1", "--no-progress", *AUG)
    assert proc.returncode == 0, proc.stderr
    assert "training mobilenetv2_0.25 on 41 images (20 test)" in proc.stdout
    proc = run("train", "--data", cifar_recs["train"], "--epochs", "1")
    assert proc.returncode == 2 and "give the evaluation split too (--val-data" in proc.stderr


def test_trees_whose_class_folders_differ_are_refused(cifar_recs, tmp_path):
    import shutil as sh

    val = tmp_path / "val"
    sh.copytree(cifar_recs["test_tree"], val)
    sh.rmtree(val / "3")
    proc = run("train", "--data", cifar_recs["train_tree"], "--val-data", str(val), "--epochs", "1", *AUG)
    assert proc.returncode == 2
    assert "class folders of --val-data" in proc.stderr and "missing from the evaluation split: 3" in proc.stderr


@pytest.mark.slow
def test_dist_workers_each_read_their_own_part_of_the_records(cifar_recs, tmp_path):
    from gluon_augplug.train.launch import launch

    log = io.StringIO()
    code = launch([AUGPLUG, "train", "--data", cifar_recs["train"], "--val-data", cifar_recs["test"], "--model",
                   "cifar_resnet20_v1", "--batch-size", "8", "--epochs", "1", "--kvstore", "dist_sync", "--optimizer",
                   "sgd", "--no-progress", "--out", str(tmp_path / "dist"), *AUG], workers=2, servers=1, timeout=400,
                  stream=log)
    assert code == 0, log.getvalue()
    states = [json.loads((tmp_path / "dist" / f"worker-{r}" / "checkpoint.json").read_text()) for r in (0, 1)]
    # dmlc-core's split of 41 records (21 and 20), each worker 3 full batches of 8 (ImageRecordIter's round_batch)
    assert [s["history"][0]["samples"] for s in states] == [24, 24]


def test_the_imagenet_preset_is_gluoncvs_train_imagenet_recipe():
    from gluon_augplug import build_pipeline

    steps = [(t.spec_name, t.get_params()) for t in build_pipeline("imagenet-standard")]
    assert [name for name, _ in steps] == ["RandomResizedCrop", "RandomFlipLeftRight", "RandomColorJitter",
                                           "RandomLighting", "ToTensor", "Normalize"]
    assert steps[0][1] == {"size": 224} and steps[3][1] == {"alpha": 0.1}
    assert steps[2][1] == {"brightness": 0.4, "contrast": 0.4, "saturation": 0.4}
