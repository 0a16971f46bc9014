"""The benchmark scripts stay runnable (a smoke run, no timing assertions: speed lives in benchmarks/)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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


def test_two_sides_are_timed_alternately_in_their_own_processes(tmp_path):
    """pairs.alternate: each side in a worker process pinned to the core, A B then B A, the median of the pair
    ratios with its range; a side whose environment is missing or whose workload fails is an error, not a row."""
    pairs = benchmark("pairs")
    quick = {"seconds": 0.05, "repeat": 1}
    a = pairs.Side("ours", "tests.benchmarks.workloads.busy", {**quick, "after": 0.0})
    b = pairs.Side("ours", "tests.benchmarks.workloads.busy", {**quick, "seconds": 0.1, "after": 0.0})
    with pairs.Workers(tmp_path / "logs") as workers:
        r = pairs.alternate(workers, a, b, pairs=3, seconds=0.05)
        assert r["pairs"] == 3 and r["low"] <= r["ratio"] <= r["high"], r
        assert 1.5 < r["ratio"] < 2.5, r  # the same work, half the time: about twice the rate
        assert len(workers.workers) == 1  # one process for the library on that core, both workloads in it
        missing = pairs.alternate(workers, a, pairs.Side("ours", "tests.benchmarks.workloads.fails"), pairs=2)
        assert "ValueError: this workload cannot run here" in missing["error"]
    pairs.PYTHONS["nowhere"] = str(tmp_path / "no-env" / "bin" / "python")
    try:
        with pairs.Workers() as workers:
            r = pairs.alternate(workers, a, pairs.Side("nowhere", "anchors.workload"), pairs=2)
        assert r == {"error": f"no environment at {tmp_path / 'no-env' / 'bin' / 'python'} (make bench creates it)"}
    finally:
        del pairs.PYTHONS["nowhere"]


def test_work_a_library_leaves_running_counts_in_its_own_run(tmp_path):
    """A side that goes on working after its call returned (DALI's and ImageRecordIter's prefetching) is timed
    until its process is idle: that work neither escapes its time nor runs while the other side is timed."""
    pairs = benchmark("pairs")
    with pairs.Workers() as workers:
        side = pairs.Side("ours", "tests.benchmarks.workloads.busy", {"seconds": 0.05, "after": 0.3})
        answer = workers(side).time(side, 1)
    assert answer["seconds"] >= 0.3 and answer["items"] == 1, answer


@pytest.mark.pinned
def test_the_benchmark_runs_every_comparison_or_says_why_not(tmp_path):
    """bench.py --quick: every comparison of every section is timed in pairs or reported with the reason it
    could not be (here: the anchor environments make bench creates); the page states each goal met or missed."""
    out = tmp_path / "bench"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--quick", "--out", str(out),
                           "--only", "pipelines,families,adapters,loader,recordio,video",
                           "--shared", str(shared_file("cat1.jpg").parent)],
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    bench = benchmark("bench")
    for c in results["plan"]:
        r = results["comparisons"][c["key"]]
        if "error" in r:
            assert "no environment at" in r["error"] and ".bench" in r["error"], (c["key"], r)
        else:
            assert r["pairs"] == 2 and r["a"] > 0 and r["b"] > 0 and r["low"] <= r["ratio"] <= r["high"], (c["key"], r)
    measured = [c["key"] for c in results["plan"] if "ratio" in results["comparisons"][c["key"]]]
    # the project's own environment has ours, MXNet, GluonCV and the adapters' libraries
    assert {"cifar/32x32/per-sample numpy/gluoncv", "ssd/300x300/cost", "seg-train/500x400 cat + mask/cost",
            "adapter/albumentations/CIFAR recipe: pad, crop, flip", "loader/ours-batch/2", "rec/1/iri",
            "rec/1/decode", "rec/threads", "rec/boxes", "video/gluoncv", "video/batch"} <= set(measured)
    text = (out / "results.md").read_text()
    assert text == bench.report(results) + "\n"
    goals = text.split("## Goals")[1]
    assert "ours 1 thread vs MXNet ImageRecordIter (C++) 1 thread: " in goals and "(goal >= 2x): " in goals
    assert all(line.endswith((": met", ": MISSED", ": not measured")) for line in goals.strip().splitlines()
               if line.startswith("- ") and "(goal" in line)
    assert "Memory: reading every record of a 0.25 GB .rec" in text
    # a second run compares every ratio with the first's
    again = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--quick", "--out", str(out),
                            "--only", "video", "--shared", str(shared_file("cat1.jpg").parent)],
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    second = json.loads((out / "results.json").read_text())
    assert second["rerun"]["compared"] >= 3 and (out / "results.previous.json").exists()
    assert "ratios within 10% of the run of" in (out / "results.md").read_text()


def _comparison(key, kind="speedup", goal=2.0):
    bench = benchmark("bench")
    side = bench.Side("ours", "anchors.workload")
    return bench.Comparison(key, "recordio", f"label of {key}", side, side, goal, kind)


def _results(plan, comparisons):
    return {"plan": [{k: v for k, v in c.__dict__.items() if k not in ("a", "b")} for c in plan],
            "comparisons": comparisons, "machine": "test", "date": "2026-12-07 10:00"}


def test_goals_are_judged_from_the_median_of_the_pairs():
    bench = benchmark("bench")
    plan = [_comparison("fast"), _comparison("slow"), _comparison("mask", "cost", 0.10), _comparison("heavy", "cost", 0.10),
            _comparison("info", goal=None), _comparison("absent")]
    pair = {"a": 1000.0, "b": 400.0, "pairs": 7}
    results = _results(plan, {
        "fast": {**pair, "ratio": 2.5, "low": 2.3, "high": 2.7}, "slow": {**pair, "ratio": 1.65, "low": 1.55, "high": 1.79},
        "mask": {**pair, "ratio": 1.06, "low": 1.02, "high": 1.09}, "heavy": {**pair, "ratio": 1.2, "low": 1.18, "high": 1.25},
        "info": {**pair, "ratio": 3.0, "low": 2.9, "high": 3.1}, "absent": {"error": "no environment at x"}})
    text = bench.report(results)
    assert "- label of fast: 2.50x (goal >= 2x): met" in text
    assert "- label of slow: 1.65x (goal >= 2x): MISSED" in text
    assert "- label of mask: +6% (goal < 10%): met" in text and "- label of heavy: +20% (goal < 10%): MISSED" in text
    assert "- label of absent: not measured (goal >= 2x): not measured" in text
    assert "label of info: " not in text.split("## Goals")[1]
    assert "| label of slow | 1.0k | 400 | 1.65x | 1.55-1.79, 7 pairs | >= 2x | MISSED |" in text
    assert "| label of heavy | 1.0k | 400 | +20% | +18 to +25%, 7 pairs | < 10% | MISSED |" in text


def test_the_rerun_check_names_every_ratio_that_moved_more_than_ten_percent():
    bench = benchmark("bench")
    plan = [_comparison("a"), _comparison("b"), _comparison("c")]
    first = _results(plan, {"a": {"ratio": 2.0}, "b": {"ratio": 1.0}, "c": {"error": "x"}})
    second = _results(plan, {"a": {"ratio": 2.1}, "b": {"ratio": 1.15}, "c": {"ratio": 3.0}})
    first["tta"] = {"rows": [{"task": "segmentation", "cost_pct": 3.0}]}
    second["tta"] = {"rows": [{"task": "segmentation", "cost_pct": 4.0}]}
    check = bench.rerun_check(first, second)
    assert check["compared"] == 3 and check["outside"] == ["b"]
    assert check["lines"][0].startswith("2 of 3 ratios within 10% of the run of 2026-12-07 10:00 (the largest "
                                        "change: b, 1 then 1.15, +15.0%)")
    assert check["lines"][1] == "- outside: b: 1 then 1.15 (+15.0%)"


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
