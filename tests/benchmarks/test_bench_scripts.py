"""The benchmark scripts stay runnable (a smoke run, no timing assertions: speed lives in benchmarks/)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.conftest import shared_file

ROOT = Path(__file__).resolve().parents[2]


def test_anchor_timings_for_our_library_and_mxnet(tmp_path, cifar_test_images, cat):
    inputs = tmp_path / "inputs.npz"
    np.savez(inputs, cifar32=cifar_test_images[0][:64], cat=cat[None], img224=np.stack([cat[:224, :224]] * 4))
    for library in ("ours", "mxnet"):
        proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "anchors.py"), "--library", library,
                               "--inputs", str(inputs), "--repeats", "1", "--scale", "0.01"],
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        modes = {(r["pipeline"], r["size"], r["mode"]) for r in result["rows"]}
        assert all(r["img_per_s"] > 0 for r in result["rows"])
        if library == "ours":
            assert ("cifar", "32x32", "batch numpy 128") in modes and ("color", "224x224", "per-sample NDArray") in modes


def test_loader_benchmark_reports_rate_and_memory():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "loader.py"), "--which", "ours-batch",
                           "--workers", "2", "--epochs", "1", "--data", str(shared_file("cifar10-jpg.tar.gz"))],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["img_per_s"] > 0 and result["peak_rss_mb"] > 0 and result["peak_worker_rss_mb"] > 0


def test_report_marks_missed_targets():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench
    finally:
        sys.path.pop(0)
    rows = [{"pipeline": "cifar", "size": "32x32", "mode": "per-sample numpy", "img_per_s": 40000.0},
            {"pipeline": "cifar", "size": "32x32", "mode": "batch numpy 128", "img_per_s": 60000.0}]
    results = {"machine": "test", "libraries": {"ours": {"rows": rows, "version": "x", "numpy": "y"},
                                                "gluoncv": {"rows": [dict(rows[0], img_per_s=4000.0)]},
                                                "albumentations": {"rows": [dict(rows[0], img_per_s=10000.0)]},
                                                "imgaug": {"error": "no environment"}}, "loader": {}}
    text = bench.report(results)
    assert "per-sample CIFAR recipe vs GluonCV: 10.0x (target 8x): met" in text
    assert "batch CIFAR recipe vs albumentations per-sample: 6.0x (target 10x): MISSED by 40%" in text
    assert "Left out: imgaug: no environment" in text
