"""The benchmark scripts stay runnable (a smoke run, no timing assertions: speed lives in benchmarks/)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import shared_file

ROOT = Path(__file__).resolve().parents[2]


def benchmark(name: str):
    """The module ``benchmarks/NAME.py`` (the scripts import one another as siblings, so their folder leads
    sys.path while it loads)."""
    import importlib

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.pop(0)


@pytest.mark.pinned
def test_anchor_timings_for_our_library_and_mxnet(tmp_path, cifar_test_images, cat):
    inputs = tmp_path / "inputs.npz"
    boxes = np.array([[35, 88, 470, 318, 0], [35, 158, 110, 250, 1]], np.float64)  # the VOC cat's
    np.savez(inputs, cifar32=cifar_test_images[0][:64], cat=cat[None], img224=np.stack([cat[:224, :224]] * 4),
             det_cat=cat[None], det_cat_boxes=boxes, det300=cat[None, :300, :300], det300_boxes=boxes * 0.6)
    for library in ("ours", "mxnet", "gluoncv"):
        proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "anchors.py"), "--library", library,
                               "--inputs", str(inputs), "--repeats", "1", "--scale", "0.01"],
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        modes = {(r["pipeline"], r["size"], r["mode"]) for r in result["rows"]}
        assert all(r["img_per_s"] > 0 for r in result["rows"])
        if library == "ours":
            assert ("cifar", "32x32", "batch numpy 128") in modes and ("color", "224x224", "per-sample NDArray") in modes
            assert {("ssd", "300x300", "per-sample boxes"), ("ssd", "300x300", "per-sample replay image only")} <= modes
            assert {("seg-train", "500x400 cat + mask", m) for m in ("per-sample mask", "per-sample replay mask",
                                                                      "per-sample replay image only")} <= modes
            pose = "500x400 cat + box + 17 joints"
            assert {("simple-pose-train", pose, m) for m in ("per-sample joints", "per-sample replay joints",
                                                             "per-sample replay image only")} <= modes
        if library == "gluoncv":
            assert ("simple-pose-train", "500x400 cat + box + 17 joints", "per-sample joints") in modes
            assert ("ssd", "500x400 cat", "per-sample boxes") in modes
            assert ("seg-train", "500x400 cat + mask", "per-sample mask") in modes


@pytest.mark.pinned
def test_loader_benchmark_reports_rate_and_memory():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "loader.py"), "--which", "ours-batch",
                           "--workers", "2", "--epochs", "1", "--data", str(shared_file("cifar10-jpg.tar.gz"))],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["img_per_s"] > 0 and result["peak_rss_mb"] > 0 and result["peak_worker_rss_mb"] > 0


def test_report_marks_missed_targets():
    bench = benchmark("bench")
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


def test_report_has_the_detection_row_and_its_targets():
    bench = benchmark("bench")
    ssd = lambda mode, rate: {"pipeline": "ssd", "size": "300x300", "mode": mode, "img_per_s": rate}  # noqa: E731
    results = {"machine": "test", "loader": {}, "libraries": {
        "ours": {"rows": [ssd("per-sample boxes", 500.0), ssd("per-sample replay boxes", 600.0),
                          ssd("per-sample replay image only", 690.0)]},
        "gluoncv": {"rows": [ssd("per-sample boxes", 100.0)]}, "albumentations": {"rows": [ssd("per-sample boxes", 550.0)]}}}
    text = bench.report(results)
    assert "| 300x300 | 500 | 100 | 550 | 5.0x | 0.9x | +15% |" in text
    assert "SSD recipe with boxes, 300x300, vs GluonCV: 5.0x (target 3x): met" in text
    assert "SSD recipe with boxes, 300x300, vs albumentations: 0.9x (target 1x): MISSED by 9%" in text
    assert "SSD recipe, 300x300: boxes add 15% to the image-only time (target < 10%): MISSED" in text


def test_report_has_the_segmentation_row_and_its_targets():
    bench = benchmark("bench")
    seg = lambda mode, rate: {"pipeline": "seg-train", "size": "500x400 cat + mask", "mode": mode,  # noqa: E731
                              "img_per_s": rate}
    results = {"machine": "test", "loader": {}, "libraries": {
        "ours": {"rows": [seg("per-sample mask", 400.0), seg("per-sample replay mask", 500.0),
                          seg("per-sample replay image only", 700.0)]},
        "gluoncv": {"rows": [seg("per-sample mask", 80.0)]}, "albumentations": {"rows": [seg("per-sample mask", 500.0)]}}}
    text = bench.report(results)
    assert "| 500x400 cat + mask | 400 | 80 | 500 | 5.0x | 0.8x | +40% |" in text
    assert "seg-train with mask vs GluonCV: 5.0x (target 3x): met" in text
    assert "seg-train with mask vs albumentations: 0.8x (target 1x): MISSED by 20%" in text
    assert "seg-train: the mask adds 40% to the image-only time (target < 10%): MISSED" in text


def test_report_has_the_pose_row_and_its_targets():
    bench = benchmark("bench")
    size = "500x400 cat + box + 17 joints"
    pose = lambda mode, rate: {"pipeline": "simple-pose-train", "size": size, "mode": mode,  # noqa: E731
                               "img_per_s": rate}
    results = {"machine": "test", "loader": {}, "libraries": {
        "ours": {"rows": [pose("per-sample joints", 1200.0), pose("per-sample replay joints", 1500.0),
                          pose("per-sample replay image only", 1575.0)]},
        "gluoncv": {"rows": [pose("per-sample joints", 500.0)]},
        "albumentations": {"rows": [pose("per-sample joints", 600.0)]}}}
    text = bench.report(results)
    assert f"| {size} | 1.2k | 500 | 600 | 2.4x | 2.0x | +5% |" in text
    assert "simple-pose-train with joints vs GluonCV: 2.4x (target 3x): MISSED by 20%" in text
    assert "simple-pose-train with joints vs albumentations: 2.0x (target 1x): met" in text
    assert "simple-pose-train: the box and joints add 5% to the image-only time (target < 10%): met" in text


@pytest.mark.pinned
def test_adapter_benchmark_times_each_library_directly_and_through_its_plugin(tmp_path, cifar_test_images, cat):
    inputs = tmp_path / "inputs.npz"
    np.savez(inputs, cifar32=cifar_test_images[0][:16], img224=np.stack([cat[:224, :224]] * 4))
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "adapters.py"), "--inputs", str(inputs),
                           "--repeats", "1", "--scale", "0.01"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {(r["library"], r["size"]) for r in result["rows"]} == {
        ("albumentations", "32x32"), ("albumentations", "224x224"), ("imgaug", "32x32"), ("imgaug", "224x224")}
    assert all(r["direct"] > 0 and r["adapter"] > 0 for r in result["rows"])
    bench = benchmark("bench")
    rows = [dict(result["rows"][0], direct=1000.0, adapter=950.0), dict(result["rows"][1], direct=1000.0, adapter=500.0)]
    text = bench.report({"machine": "test", "loader": {}, "libraries": {}, "adapters": {"rows": rows, "versions": {}}})
    assert "| albumentations | CIFAR recipe: pad, crop, flip | 32x32 | 1.0k | 950 | +53 us (+5%) |" in text
    assert "costs 5% over the library called directly (target < 10%): met" in text
    assert "costs 100% over the library called directly (target < 10%): MISSED" in text


@pytest.mark.pinned
def test_recordio_rows_run_and_the_report_says_which_targets_are_missed(tmp_path):
    recordio = benchmark("recordio")
    data = recordio.build_records(tmp_path, 40, shared_file("cat1.jpg").parent)
    rows = {}
    for which, rec in (("ours", data["rec"]), ("imagerecorditer", data["rec"]), ("gluoncv", data["rec"]),
                       ("decode", data["rec"]), ("ours-boxes", data["det"]), ("gluoncv-boxes", data["det"])):
        rows[f"{which}-1"] = recordio.run_row(which, rec, 1, 1)
        assert rows[f"{which}-1"].get("img_per_s", 0) > 0 and rows[f"{which}-1"]["peak_rss_mb"] > 0, rows
    memory = recordio.run_row("memory", data["rec"], 1, 1)
    assert memory["peak_rss_mb"] >= memory["rss_before_mb"] > 0
    rows["memory-1"] = {**memory, "file_gb": 0.001}
    rows["ours-1"]["img_per_s"] = 1.5 * rows["imagerecorditer-1"]["img_per_s"]
    text = recordio.report({"data": data, "rows": rows})
    assert "1 thread vs ImageRecordIter 1 thread: 1.50x (target 2x): MISSED by 25%" in text
    assert "2 threads vs 1 thread: not measured" in text and "the file is never held" in text


def test_make_bench_writes_the_docs_page_between_its_markers(tmp_path):
    """The benchmark page of the docs is written by `make bench` (bench.py --docs): this run's tables replace
    the old ones, the notes around them stay, and a page without the markers is refused untouched."""
    bench = benchmark("bench")
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmark\n\nintro\n\n<!-- bench:results (written by make bench) -->\nold table\n"
                    "<!-- /bench:results -->\n\nnotes on the misses\n")
    bench.write_docs_page("## Augmentation throughput\n\n| a | b |\n|---|---|\n| 1 | 2 |", page)
    text = page.read_text()
    assert "old table" not in text and "### Augmentation throughput" in text and "| 1 | 2 |" in text
    assert text.startswith("# Benchmark\n\nintro\n") and text.rstrip().endswith("notes on the misses")
    assert "Measured by `make bench` on " in text
    # the page the site builds from has the markers
    assert bench._START in bench.DOCS_PAGE.read_text() and bench._END in bench.DOCS_PAGE.read_text()
    bare = tmp_path / "bare.md"
    bare.write_text("no markers\n")
    with pytest.raises(SystemExit, match="markers"):
        bench.write_docs_page("x", bare)
    assert bare.read_text() == "no markers\n"


@pytest.mark.pinned
def test_video_rows_run_and_the_targets_are_judged(tmp_path):
    video = benchmark("video")
    clip = tmp_path / "clip.npy"
    video.make_clip(clip, shared_file("cat1.jpg").parent)
    rows = {row: video.run_row(row, str(clip), 1) for row in ("ours clip", "ours 32 single calls", "gluoncv")}
    assert all(r["clips_per_s"] > 0 and r["frames_per_s"] == 32 * r["clips_per_s"] for r in rows.values()), rows
    rows["gluoncv"]["clips_per_s"] = rows["ours clip"]["clips_per_s"] / 4  # judged, not timed: a 4x row
    results = {"rows": rows}
    assert "vs gluoncv: 4.0x (target 5x): MISSED" in "\n".join(video.targets(results))
    assert "vs albumentations: not measured" in "\n".join(video.targets(results))
    assert "| gluoncv |" in video.report(results) and "4.00x" in video.report(results)


def test_the_contract_before_and_after_rows_run():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "contract_ab.py"), "--row"], capture_output=True,
                         text=True, check=True, timeout=600).stdout
    rows = json.loads(out.strip().splitlines()[-1])
    assert len(rows) == 6 and all(rate > 0 for rate in rows.values())


@pytest.mark.pinned
def test_the_test_time_views_cost_is_measured_in_pairs_and_judged():
    tta = benchmark("tta")
    result = tta.measure(quick=True)
    rows = {r["task"]: r for r in result["rows"]}
    assert set(rows) == {"segmentation", "detection"}
    assert rows["segmentation"]["passes"] == 36 and rows["detection"]["passes"] == 4  # 6 scales, tiles, mirrors
    assert all(r["pairs"] == 2 and r["forward_ms"] > 0 and r["total_ms"] > 0 for r in rows.values())
    judged = {"rows": [dict(rows["segmentation"], cost_pct=12.5)]}  # judged, not timed: a 12.5% row
    assert "add 12.5% to the forward passes (target < 10%): MISSED" in tta.targets(judged)[0]
    assert "| segmentation |" in tta.report(result)


@pytest.mark.pinned
def test_the_cost_of_schedules_is_measured_in_pairs_and_judged():
    schedules = benchmark("schedules")
    result = schedules.measure(shared_file("cifar10-jpg.tar.gz").parent, quick=True)
    rows = {(r["path"], r["changes"]): r for r in result["rows"]}
    assert set(rows) == {(p, c) for p in ("per-sample", "batch") for c in ("per iteration", "per epoch")}
    assert all(r["pairs"] == 2 and r["constant_img_per_s"] > 0 and r["scheduled_img_per_s"] > 0 for r in rows.values())
    assert "linear(" in rows["batch", "per iteration"]["spec"] and "steps(" in rows["per-sample", "per epoch"]["spec"]
    judged = {"rows": [dict(rows["batch", "per iteration"], cost_pct=4.5)]}  # judged, not timed
    assert schedules.targets(judged) == ["schedules, batch path, value changing per iteration: add 4.5% (target < "
                                         "3%): MISSED"]
    assert "| per-sample |" in schedules.report(result)
