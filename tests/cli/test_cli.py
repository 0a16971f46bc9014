"""The augplug command line: each command, its output and its exit code on bad input."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import make_distribution

AUGPLUG = shutil.which("augplug", path=str(Path(sys.executable).parent)) or "augplug"
CHAPTER = ("RandomFlipLeftRight, RandomColorJitter(brightness=0.5, contrast=0.5, saturation=0.5, hue=0.5), "
           "RandomResizedCrop(200, scale=(0.1, 1), ratio=(0.5, 2))")

PLUGIN = '''
import gluon_augplug
from gluon_augplug import Transform

class Darken(Transform):
    """Halve every pixel."""
    def __init__(self, amount: float = 0.5):
        self.amount = amount
    def apply(self, img, layout):
        return (img * self.amount).astype(img.dtype)

@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("Darken", Darken)
'''


def run(*args, env_extra=None, check_code=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLUON_AUGPLUG_")}
    env.update(env_extra or {})
    proc = subprocess.run([AUGPLUG, *args], capture_output=True, text=True, env=env, timeout=300)
    if check_code is not None:
        assert proc.returncode == check_code, (proc.returncode, proc.stdout, proc.stderr)
    return proc


@pytest.fixture
def plugin_path(tmp_path):
    root = make_distribution(tmp_path / "good", "augplug-darken", "0.4.2", {"darken": "augplug_darken_mod"},
                             {"augplug_darken_mod": PLUGIN})
    broken = make_distribution(tmp_path / "bad", "augplug-broken", "9.9", {"broken": "augplug_broken_mod"},
                               {"augplug_broken_mod": "raise ImportError('needs libfoo')\n"})
    return {"PYTHONPATH": os.pathsep.join([str(root), str(broken)])}


def test_plugins_lists_installed_plugins_with_versions(plugin_path):
    proc = run("plugins", env_extra=plugin_path, check_code=0)
    assert "darken" in proc.stdout and "augplug-darken" in proc.stdout and "0.4.2" in proc.stdout
    assert "builtin" not in proc.stdout
    assert "1 plugin(s) failed to load: broken" in proc.stderr
    assert proc.stderr.count("skipped plugin 'broken' from augplug-broken 9.9") == 1
    listing = json.loads(run("plugins", "--all", "--json", env_extra=plugin_path, check_code=0).stdout)
    by_name = {p["name"]: p for p in listing}
    assert by_name["builtin"]["transforms"] >= 33 and by_name["darken"]["transforms"] == 1
    assert by_name["darken"]["hooks"] == ["augplug_register_transforms"]
    errors = run("plugins", "--errors", env_extra=plugin_path, check_code=0).stdout
    assert "broken" in errors and "ImportError: needs libfoo" in errors


def test_strict_mode_exits_1(plugin_path):
    proc = run("transforms", env_extra={**plugin_path, "GLUON_AUGPLUG_STRICT_PLUGINS": "1"}, check_code=1)
    assert "augplug-broken" in proc.stderr and "needs libfoo" in proc.stderr
    run("--strict", "plugins", env_extra=plugin_path, check_code=1)


def test_disable_env_blocks_the_broken_plugin(plugin_path):
    proc = run("plugins", env_extra={**plugin_path, "GLUON_AUGPLUG_DISABLE_PLUGINS": "broken"}, check_code=0)
    assert proc.stderr == ""


def test_transforms_lists_names_plugins_parameters_and_docs(plugin_path):
    out = run("transforms", env_extra=plugin_path, check_code=0).stdout
    assert "RandomCrop" in out and "size, pad=None, pad_value=0, interpolation=1" in out
    assert "Darken" in out and "amount=0.5" in out and "Halve every pixel." in out
    only = json.loads(run("transforms", "--plugin", "darken", "--json", env_extra=plugin_path, check_code=0).stdout)
    assert [t["name"] for t in only] == ["Darken"]
    assert only[0]["params"] == [{"name": "amount", "required": False, "default": 0.5}]
    assert only[0]["version"] == "0.4.2" and only[0]["resolves"] is True
    proc = run("transforms", "--plugin", "darkn", env_extra=plugin_path, check_code=2)
    assert "closest: darken" in proc.stderr


def test_transforms_by_name_shows_the_whole_doc_and_each_parameter(plugin_path):
    out = run("transforms", "RandomColorJitter", "darken:Darken", "Mixup", env_extra=plugin_path, check_code=0).stdout
    assert out.startswith("builtin:RandomColorJitter  (builtin, gluon-augplug ")
    assert "blue channel alone as gray" in out and "fused=False  [one of True, False]" in out  # past the first line
    assert "largest hue shift, in turns (0: off)" in out
    assert "darken:Darken  (darken, augplug-darken 0.4.2; runs on samples)" in out and "amount=0.5" in out
    assert "builtin:Mixup  (builtin, gluon-augplug" in out and "runs on batches only" in out
    proc = run("transforms", "RandomSaturaton", check_code=2)
    assert "unknown transform 'RandomSaturaton'" in proc.stderr and "RandomSaturation" in proc.stderr
    proc = run("transforms", "--kind", "batch", "RandAugment", check_code=2)
    assert "RandAugment has no batch path" in proc.stderr


def test_presets_and_spec_commands():
    assert "cifar10-standard" in run("presets", check_code=0).stdout
    spec = json.loads(run("spec", "cifar10-standard", "--seed", "3", "--format", "json", check_code=0).stdout)
    assert spec["seed"] == 3 and spec["transforms"][0] == {"name": "RandomCrop", "params": {"size": 32, "pad": 4}}
    assert run("spec", "d2l-flip", "--format", "string", check_code=0).stdout.strip() == "RandomFlipLeftRight, ToTensor"
    proc = run("spec", "RandomFlipLeftRigt", check_code=2)
    assert "closest registered names: RandomFlipLeftRight" in proc.stderr
    proc = run("spec", "RandomCrop(32, pad=-1)", check_code=2)
    assert "pad=-1" in proc.stderr and "allowed" in proc.stderr
    proc = run("spec", "RandomCrop(32, pad=4", check_code=2)
    assert "position 21" in proc.stderr


def test_show_writes_the_chapters_grid_of_the_real_cat(cat_path, tmp_path, plugin_path):
    from PIL import Image

    out = tmp_path / "grid.png"
    proc = run("show", str(cat_path), "--pipeline", CHAPTER, "--rows", "2", "--cols", "4", "--seed", "0",
               "-o", str(out), check_code=0)
    assert "2x4 grid" in proc.stdout
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size == (4 * 200 + 5 * 4, 2 * 200 + 3 * 4)
        grid = np.asarray(im.convert("RGB"))
    cells = [grid[4 + r * 204: 204 + r * 204, 4 + c * 204: 204 + c * 204] for r in range(2) for c in range(4)]
    assert len({cell.tobytes() for cell in cells}) == 8  # eight different augmentations
    again = tmp_path / "again.png"
    run("show", str(cat_path), "--pipeline", CHAPTER, "--rows", "2", "--cols", "4", "--seed", "0", "-o", str(again),
        check_code=0)
    assert again.read_bytes() == out.read_bytes()  # the seed makes the figure reproducible
    plugin_grid = tmp_path / "dark.png"
    run("show", str(cat_path), "-p", "Darken(0.25), ToTensor", "--rows", "1", "--cols", "2", "-o", str(plugin_grid),
        env_extra=plugin_path, check_code=0)
    with Image.open(plugin_grid) as im:
        assert im.size == (2 * 500 + 3 * 4, 400 + 2 * 4)


def test_show_draws_the_boxes_and_mask_moved_with_each_copy(tmp_path):
    """The VOC cat through ssd-train with its XML boxes, and a drawn mask through a flip: the box outline
    and the tint sit where the moved targets are."""
    from PIL import Image

    from tests.conftest import SHARED_DATA

    voc = SHARED_DATA / "voc-cat"
    out = tmp_path / "ssd.png"
    proc = run("show", str(voc / "JPEGImages" / "cat1.jpg"), "-p", "ssd-train", "--boxes",
               str(voc / "Annotations" / "cat1.xml"), "--rows", "1", "--cols", "2", "--seed", "0", "-o", str(out),
               check_code=0)
    assert "with its boxes" in proc.stdout
    with Image.open(out) as im:
        assert im.size == (2 * 300 + 3 * 4, 300 + 2 * 4)  # drawn before ToTensor/Normalize, at the output size
    mask = np.zeros((400, 500), np.uint8)
    mask[100:200, 50:150] = 1
    Image.fromarray(mask).save(tmp_path / "mask.png")
    flipped = tmp_path / "flip.png"
    proc = run("show", str(voc / "JPEGImages" / "cat1.jpg"), "-p", "RandomFlipLeftRight(p=1)", "--boxes",
               "50,100,150,200,3", "--mask", str(tmp_path / "mask.png"), "--rows", "1", "--cols", "1", "-o",
               str(flipped), check_code=0)
    assert "with its boxes and mask" in proc.stdout
    from gluon_augplug.visual.targets import PALETTE

    plain = tmp_path / "plain.png"
    run("show", str(voc / "JPEGImages" / "cat1.jpg"), "-p", "RandomFlipLeftRight(p=1)", "--rows", "1", "--cols", "1",
        "-o", str(plain), check_code=0)
    with Image.open(flipped) as im, Image.open(plain) as im2:
        cell = np.asarray(im.convert("RGB")).astype(int)[4:404, 4:504]
        bare = np.asarray(im2.convert("RGB")).astype(int)[4:404, 4:504]
    outline = cell[150, 500 - 150: 500 - 146]  # the flipped box's left edge, drawn in class 3's colour
    assert (np.abs(outline - PALETTE[3]).sum(axis=1) < 10).any()
    moved = np.abs(cell[110:190, 360:440] - bare[110:190, 360:440]).sum(axis=2)  # inside the flipped mask: tinted
    before = np.abs(cell[110:190, 60:140] - bare[110:190, 60:140]).sum(axis=2)  # where it was before the flip: not
    assert (moved > 0).mean() > 0.95 and (before == 0).all()


def test_show_target_errors_name_the_problem(cat_path, tmp_path):
    out = tmp_path / "x.png"
    proc = run("show", str(cat_path), "-p", "RandomFlipLeftRight", "--boxes", "1,2,three", "-o", str(out), check_code=2)
    assert "not boxes like '35,88,470,318;35,158,110,250'" in proc.stderr
    from PIL import Image

    Image.fromarray(np.zeros((10, 10), np.uint8)).save(tmp_path / "small.png")
    proc = run("show", str(cat_path), "-p", "RandomFlipLeftRight", "--mask", str(tmp_path / "small.png"), "-o",
               str(out), check_code=2)
    assert "small.png is 10x10, the image 500x400" in proc.stderr


def test_show_bad_input_exit_codes(cat_path, tmp_path):
    out = tmp_path / "x.png"
    proc = run("show", str(tmp_path / "nope.jpg"), "-p", "ToTensor", "-o", str(out), check_code=2)
    assert "nope.jpg" in proc.stderr and "does not exist" in proc.stderr
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(cat_path.read_bytes()[:5000])
    proc = run("show", str(truncated), "-p", "ToTensor", "-o", str(out), check_code=2)
    assert "truncated.jpg" in proc.stderr and "truncated" in proc.stderr
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    proc = run("show", str(text), "-p", "ToTensor", "-o", str(out), check_code=2)
    assert "is not an image in a supported format" in proc.stderr
    run("show", str(cat_path), "-p", "NoSuchThing", "-o", str(out), check_code=2)
    run("show", str(cat_path), "-p", "ToTensor", "--rows", "0", "-o", str(out), check_code=2)
    assert not out.exists()
    proc = run("nonsense-command", check_code=2)
    assert "invalid choice" in proc.stderr


def test_python_dash_m_entry_point():
    proc = subprocess.run([sys.executable, "-m", "gluon_augplug", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("gluon-augplug ")


def test_show_refuses_bad_inputs_and_outputs_with_one_line(cat_path, tmp_path):
    proc = run("show", str(tmp_path), "-p", "d2l-flip", "-o", str(tmp_path / "g.png"), check_code=2)
    assert "is a folder, not an image file" in proc.stderr
    proc = run("show", str(cat_path), "-p", "d2l-flip", "-o", "/nonexistent-augplug/deep/a.png", check_code=2)
    assert "does not exist" in proc.stderr and not os.path.exists("/nonexistent-augplug")
    proc = run("show", str(cat_path), "-p", "d2l-flip", "-o", str(tmp_path / "grid.tiff"), check_code=2)
    assert "name it .png, .jpg, .bmp or .webp" in proc.stderr
    proc = run("show", str(cat_path), "-p", "d2l-flip", "--rows", "200", "--cols", "200",
               "-o", str(tmp_path / "big.png"), check_code=2)
    assert "--rows must be in [1, 64]" in proc.stderr
    proc = run("show", str(cat_path), "-p", "Resize(4000), ToTensor", "--rows", "8", "--cols", "8",
               "-o", str(tmp_path / "big.png"), check_code=2)
    assert "would need more than 1024 MB" in proc.stderr
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


@pytest.mark.parametrize("suffix, magic", [(".jpg", b"\xff\xd8\xff"), (".png", b"\x89PNG"), (".bmp", b"BM")])
def test_show_writes_the_format_its_suffix_names(cat_path, tmp_path, suffix, magic):
    out = tmp_path / f"grid{suffix}"
    run("show", str(cat_path), "-p", "d2l-flip", "--rows", "1", "--cols", "2", "-o", str(out), check_code=0)
    assert out.read_bytes().startswith(magic)


def test_negative_seeds_are_bad_input(cat_path, tmp_path):
    proc = run("show", str(cat_path), "-p", "RandomFlipLeftRight", "--seed", "-1", "-o", str(tmp_path / "o.png"),
               check_code=2)
    assert "seed must be a non-negative integer" in proc.stderr
    run("spec", "ToTensor", "--seed", "-1", check_code=2)


def test_an_internal_error_is_a_traceback_not_the_users_fault(monkeypatch, capsys):
    """Exit 2 ("bad input") is for our own error classes; a plain ValueError or LookupError is a bug."""
    from gluon_augplug.cli import main as cli

    def broken(args):
        raise KeyError("internal")

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    for action in parser._subparsers._group_actions[0].choices.values():
        action.set_defaults(func=broken)
    with pytest.raises(KeyError, match="internal"):
        cli.main(["presets"])
    for action in parser._subparsers._group_actions[0].choices.values():
        action.set_defaults(func=lambda args: (_ for _ in ()).throw(ValueError("a bug")))
    with pytest.raises(ValueError, match="a bug"):
        cli.main(["presets"])
    assert "bad input" not in capsys.readouterr().err


def test_a_reader_that_stops_early_is_not_an_error():
    """`augplug transforms --markdown | head -2`: the closed pipe ends the command quietly."""
    proc = subprocess.Popen([sys.executable, "-m", "gluon_augplug", "transforms", "--markdown"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # before the command writes anything (it is still importing): its writes fail, surely
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0 and "error" not in err.lower(), err


def test_check_takes_a_transform_name_or_plugin_colon_name(plugin_path):
    proc = run("check", "Darken", env_extra=plugin_path, check_code=1)  # it takes amount='x': validates fails
    assert "conformance report for plugin 'darken:Darken'" in proc.stdout and "PASS  Darken  seeded" in proc.stdout
    assert "FAIL  Darken  validates" in proc.stdout and "RandomCrop" not in proc.stdout  # that transform only
    proc = run("check", "builtin:RandomIoUCrop", "--checks", "builds,targets", check_code=0)
    assert "PASS  RandomIoUCrop  targets" in proc.stdout
    proc = run("check", "Darkn", env_extra=plugin_path, check_code=2)
    assert "no installed plugin or transform named 'Darkn'; closest: Darken" in proc.stderr
