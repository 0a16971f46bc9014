"""The command line of long runs: spec and show at given epochs, profile, and the training flags' errors."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests.cli.test_cli import run

SCHEDULED = ("RandomResizedCrop(steps(64, (30, 96))), RandomColorJitter(brightness=linear(0.0, 0.4, 0, 10)), "
             "RandomErasing(active=after(5)), ToTensor")


def test_spec_at_epochs_prints_the_pipeline_each_epoch_runs():
    out = run("spec", SCHEDULED, "--at-epochs", "0,5,30", check_code=0).stdout.splitlines()
    assert out == ["epoch 0: RandomResizedCrop(size=64), RandomColorJitter(brightness=0.0), ToTensor",
                   "epoch 5: RandomResizedCrop(size=64), RandomColorJitter(brightness=0.2), RandomErasing, ToTensor",
                   "epoch 30: RandomResizedCrop(size=96), RandomColorJitter(brightness=0.4), RandomErasing, ToTensor"]
    rows = json.loads(run("spec", SCHEDULED, "--at-epochs", "30", "--format", "json", check_code=0).stdout)
    assert rows[0]["epoch"] == 30 and rows[0]["transforms"][0] == {"name": "RandomResizedCrop", "params": {"size": 96}}
    assert "(no schedules" in run("spec", "ToTensor", "--at-epochs", "3", check_code=0).stdout
    # without --at-epochs the schedules are kept, in the file form
    spec = json.loads(run("spec", SCHEDULED, "--format", "json", check_code=0).stdout)
    assert spec["transforms"][0]["params"] == {"size": {"steps": [64, [30, 96]]}}
    proc = run("spec", SCHEDULED, "--at-epochs", "0,x", check_code=2)
    assert "expected up to 100 comma-separated epochs" in proc.stderr


def test_show_draws_a_row_per_epoch(cat_path, tmp_path):
    from PIL import Image

    out = tmp_path / "epochs.png"
    proc = run("show", str(cat_path), "-p", "RandomResizedCrop(steps(48, (30, 96))), ToTensor", "--at-epochs", "0,30",
               "--cols", "3", "--seed", "1", "-o", str(out), check_code=0)
    assert "2x3 grid (a row per epoch: 0, 30)" in proc.stdout
    with Image.open(out) as im:
        grid = np.asarray(im.convert("RGB"))
    assert grid.shape[0] == (48 + 2 * 4) + 4 + (96 + 2 * 4)  # the rows' own heights, 4 pixels apart
    assert grid.shape[1] == 3 * 96 + 4 * 4  # the wider row's width: progressive resizing


def test_show_at_epochs_with_boxes_keeps_the_schedules(cat_path, tmp_path):
    from PIL import Image

    out = tmp_path / "boxes.png"
    proc = run("show", str(cat_path), "-p", "RandomResizedCrop(steps(48, (30, 96))), ToTensor", "--at-epochs", "0,30",
               "--cols", "2", "--boxes", "35,88,470,318", "-o", str(out), check_code=0)
    assert "with its boxes" in proc.stdout
    with Image.open(out) as im:
        assert im.size[1] == (48 + 2 * 4) + 4 + (96 + 2 * 4)  # the second row drawn at epoch 30's size


def test_profile_names_each_step_and_the_throughputs(cat_path):
    proc = run("profile", "RandomResizedCrop(224), RandomFlipLeftRight, ToTensor", "--data", str(cat_path),
               "--images", "20", "--repeat", "1", "--cores", "2", "--json", check_code=0)
    result = json.loads(proc.stdout)
    steps = [s["step"] for s in result["steps"]]
    assert steps[0].startswith("decode") and steps[1:] == ["RandomResizedCrop", "RandomFlipLeftRight", "ToTensor"]
    assert abs(sum(s["share"] for s in result["steps"]) - 1) < 1e-9
    assert result["images_per_second_one_core"] > 0 and result["images_per_second_all_cores"] > 0
    assert result["cores"] == 2 and result["images"] == 20
    text = run("profile", "RandomFlipLeftRight", "--data", str(cat_path), "--images", "10", "--repeat", "1",
               "--cores", "1", "--target", "20000", check_code=0).stdout
    assert "ms/image" in text and "to feed 20,000 images/s: about" in text


def test_profile_refuses_bad_input_naming_it(cat_path, tmp_path):
    proc = run("profile", "RandomFlipLeftRigt", "--data", str(tmp_path / "missing"), check_code=2)
    assert "closest registered names: RandomFlipLeftRight" in proc.stderr  # the spec first, before any image
    proc = run("profile", "RandomFlipLeftRight", "--data", str(tmp_path / "missing"), check_code=2)
    assert "missing" in proc.stderr
    proc = run("profile", "RandomFlipLeftRight", "--data", str(cat_path), "--images", "0", check_code=2)
    assert "expected a number in (0, 100000]" in proc.stderr


@pytest.mark.pinned
@pytest.mark.parametrize("args, message", [
    (["--mixup-off-epoch", "3"], "turns Mixup off for the last epochs, but there is no Mixup"),
    (["--no-mixup-epochs", "3"], "turns Mixup off for the last epochs, but there is no Mixup"),
    (["--checkpoint-every", "3x"], "checkpoint_every='3x' (allowed: a number of iterations (500) or a duration"),
    (["--checkpoint-every", "0"], "iterations must be in [1, 1000000000]"),
])
def test_train_flags_of_long_runs_are_checked(args, message):
    proc = run("train", "--data", "data/cifar10-jpg.tar.gz", *args, check_code=2)
    assert message in proc.stderr
