"""The example third-party plugin, as a user gets it: pip install, discover, use, check, uninstall."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_DIR = ROOT / "examples" / "gluon-augplug-gridmask"
BIN = Path(sys.executable).parent


def run(*cmd, check=True, **kw):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLUON_AUGPLUG_")}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def installed_plugins():
    return {p["name"]: p for p in json.loads(run(BIN / "augplug", "plugins", "--json").stdout)}


@pytest.mark.slow
def test_pip_install_use_check_and_uninstall(cat_path, tmp_path):
    if "gridmask" in installed_plugins():  # left over from an interrupted run of this test
        run(sys.executable, "-m", "pip", "uninstall", "--quiet", "--yes", "gluon-augplug-gridmask")
    assert "gridmask" not in installed_plugins()
    run(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--disable-pip-version-check",
        str(PLUGIN_DIR))
    try:
        plugin = installed_plugins()["gridmask"]
        assert (plugin["distribution"], plugin["version"], plugin["status"]) == ("gluon-augplug-gridmask", "0.2.0",
                                                                                   "loaded")
        listing = run(BIN / "augplug", "transforms", "--plugin", "gridmask").stdout
        assert "GridMask" in listing and "d_range=(8, 16)" in listing

        code = ("import sys, numpy as np; from gluon_augplug import build_pipeline; "
                "from gluon_augplug.io.images import read_image; "
                "img = read_image(sys.argv[1]); "
                "out = build_pipeline('GridMask(d_range=(40, 60), ratio=0.5, p=1.0), ToTensor', seed=0)(img); "
                "assert out.shape == (3, 400, 500); print((out == 0).all(axis=0).mean())")
        dropped = float(run(sys.executable, "-c", code, str(cat_path)).stdout)
        assert 0.15 < dropped < 0.40

        grid = tmp_path / "gridmask.png"
        run(BIN / "augplug", "show", str(cat_path), "-p", "cifar10-gridmask", "--rows", "1", "--cols", "2",
            "-o", str(grid))
        assert grid.stat().st_size > 0

        report = run(BIN / "augplug", "check", "gridmask").stdout
        assert "FAIL" not in report and "PASS  GridMask  dataloader" in report

        own_tests = run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(PLUGIN_DIR / "tests"),
                        cwd=tmp_path)
        assert " passed" in own_tests.stdout and "failed" not in own_tests.stdout
    finally:
        run(sys.executable, "-m", "pip", "uninstall", "--quiet", "--yes", "gluon-augplug-gridmask")
    assert "gridmask" not in installed_plugins()
    gone = run(BIN / "augplug", "spec", "GridMask", check=False)
    assert gone.returncode == 2 and "unknown transform 'GridMask'" in gone.stderr
