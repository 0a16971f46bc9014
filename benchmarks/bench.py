"""The benchmark: ours against MXNet, GluonCV, albumentations, imgaug and DALI, every ratio from pairs.

    make bench            # sets up the anchor environments if missing, then runs this
    python benchmarks/bench.py [--quick] [--only recordio,video] [--out runs/bench] [--docs]

Each comparison times its two sides alternately (A B, B A, ...) in one window, each side in a worker process
of its library's environment (pairs.py, worker.py), both pinned to the same core(s); a ratio is the median of
the pair ratios, reported with their range and count. Checks every goal, writes ``results.json`` and
``results.md`` and, if the folder holds an earlier run's ``results.json``, says whether every ratio is within
10% of that run's (``make bench`` twice in a row is the rerun check). Inputs are real: CIFAR-10 images, the
cat photo, 224x224 crops of it, a RecordIO file of photographs, a clip made from the cat.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from pairs import ONE_CORE, PYTHONS, TWO_CORES, Side, Workers, alternate  # noqa: E402

RERUN_TOLERANCE = 0.10  # two runs in a row: every ratio within 10% of the other's
# sections whose runs are whole epochs of loaders (a pair's two runs seconds apart, the spread wider): more pairs
MORE_PAIRS = {"loader": 15, "recordio": 15}


def prepare_inputs(path: Path, shared: Path) -> None:
    import cv2
    import numpy as np

    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import load_cifar_jpg  # the same reader the tests use: real CIFAR-10 images

    from gluon_augplug.io.images import read_image

    images, _ = load_cifar_jpg("test", 100)
    cat = read_image(str(shared / "cat1.jpg"))
    rng = np.random.default_rng(0)
    crops = []
    for _ in range(64):
        y, x = rng.integers(0, 100), rng.integers(0, 200)
        crops.append(cv2.resize(cat[y:y + 300, x:x + 300], (224, 224), interpolation=cv2.INTER_AREA))
    # the VOC cat and its two boxes (cat, head), as is and resized to SSD's 300x300
    import xml.etree.ElementTree as ET

    voc = shared / "voc-cat"
    boxes = np.array([[float(o.find("bndbox").findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")] + [i]
                      for i, o in enumerate(ET.parse(voc / "Annotations" / "cat1.xml").getroot().iter("object"))])
    voc_cat = read_image(str(voc / "JPEGImages" / "cat1.jpg"))
    h, w = voc_cat.shape[:2]
    boxes300 = boxes * np.array([300 / w, 300 / h, 300 / w, 300 / h, 1.0])
    img300 = cv2.resize(voc_cat, (300, 300), interpolation=cv2.INTER_AREA)
    np.savez(path, cifar32=images, cat=cat[None], img224=np.stack(crops), det_cat=voc_cat[None], det_cat_boxes=boxes,
             det300=img300[None], det300_boxes=boxes300)


def startup(repeats: int = 7) -> dict:
    """Start-up costs, timed inside fresh interpreters (no subtraction of a noisy baseline, so never negative)."""
    def timed(code, env=None):
        runs = []
        for _ in range(repeats):
            proc = subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True, text=True)
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        return {key: statistics.median(r[key] for r in runs) for key in runs[0]}

    clock = "import json, time; t0 = time.perf_counter()\n"
    result = {"import_ms": timed(clock + "import gluon_augplug\n"
                                 "print(json.dumps({'ms': 1000 * (time.perf_counter() - t0)}))")["ms"]}
    with tempfile.TemporaryDirectory() as tmp:  # 20 installed plugins, one transform each
        for i in range(20):
            info = Path(tmp) / f"augplug_bench_{i}-1.0.dist-info"
            info.mkdir()
            (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: augplug-bench-{i}\nVersion: 1.0\n")
            (info / "entry_points.txt").write_text(f"[gluon_augplug]\nbench{i} = augplug_bench_{i}\n")
            (Path(tmp) / f"augplug_bench_{i}.py").write_text(
                "import gluon_augplug\n@gluon_augplug.hookimpl\ndef augplug_register_transforms(register):\n"
                f"    register('Bench{i}', lambda: (lambda img: img))\n")
        # only these 20: installed adapters (albumentations, imgaug) would add their libraries' imports
        env = {**os.environ, "PYTHONPATH": tmp, "GLUON_AUGPLUG_LOAD_PLUGINS": ",".join(f"bench{i}" for i in range(20))}
        code = (clock + "import importlib, pluggy\n"
                "from gluon_augplug.plugins.manager import BUILTIN_PLUGINS, PluginSystem\n"
                "for m in BUILTIN_PLUGINS[0][1]: importlib.import_module(m)\n"
                + "".join(f"import augplug_bench_{i}\n" for i in range(20)) +
                "t1 = time.perf_counter()\ns = PluginSystem()\n"
                "assert sum(r.status == 'loaded' for r in s.records.values() if r.name.startswith('bench')) == 20\n"
                "t2 = time.perf_counter()\n"
                "print(json.dumps({'imports': 1000 * (t1 - t0), 'discovery': 1000 * (t2 - t1)}))")
        times = timed(code, env)
    result.update({"discovery_20_plugins_ms": times["discovery"], "imports_ms": times["imports"]})
    return result


DOCS_PAGE = ROOT / "docs" / "benchmarks.md"
_START, _END = "<!-- bench:results", "<!-- /bench:results -->"


def write_docs_page(text: str, page: Path) -> Path:
    """Put ``text`` (this run's tables, headings one level down) between the page's markers; the notes around
    them are kept. Written through a temporary file, so a failed run leaves the page as it was."""
    tables = "\n".join("#" + line if line.startswith("## ") else line for line in text.splitlines())
    stamp = f"Measured by `make bench` on {time.strftime('%Y-%m-%d')}.\n\n"
    return write_between(page, _START, _END, stamp + tables.strip())


@dataclass
class Comparison:
    """Two sides timed in pairs. ``kind`` says how the median ratio ``rate(a) / rate(b)`` is judged:
    ``speedup`` (at least ``goal`` times), ``cost`` (A is the work without the extra, B with it: the extra
    costs ``ratio - 1``, goal below ``goal``) or ``None`` (reported, no goal)."""

    key: str
    section: str
    label: str
    a: Side
    b: Side
    goal: float | None = None
    kind: str = "speedup"
    unit: str = "img/s"


SECTIONS = {
    "pipelines": "Augmentation pipelines: ours against each library (per sample or a numpy batch of 128; one core)",
    "families": "Task families with their targets (per sample, the VOC cat; one core)",
    "adapters": "Adapters: the library through our plugin by name against the library called directly "
                "(albumentations 1.3.1 and imgaug 0.4.0 in the project's environment; one core)",
    "loader": "gluon.data.DataLoader over 2,560 real CIFAR-10 test images, GluonCV's CIFAR recipe, batch 128 "
              "(0 workers: one core; 2 workers: two cores)",
    "recordio": "ImageNet recipe from RecordIO (photographs ~500x375, batch 32; 1 thread: one core, 2 threads: two "
                "cores, every thread of the process counted on them)",
    "video": "Video clips: TSN's multi-scale crop + flip + normalize, a 32-frame 340x256 clip to 224 (one core)",
}
NAMES = {"flip": "chapter: flip + ToTensor", "cifar": "GluonCV CIFAR recipe",
         "color": "chapter: flip + jitter 0.5 + resized crop", "randaugment": "RandAugment(2, 9)"}


def comparisons(inputs: Path, rec: dict, clip: Path, cifar: Path) -> list:
    """Every comparison the page reports, in its order."""
    def side(library, pipeline, size, mode="per-sample numpy", process=None):
        return Side(process or library, "anchors.workload", {"library": library, "pipeline": pipeline, "size": size,
                                                             "mode": mode, "inputs": str(inputs)})

    def nd(library, pipeline, size):
        return side(library, pipeline, size, "per-sample NDArray")

    out = []
    anchor_mode = {"mxnet": "per-sample NDArray", "gluoncv": "per-sample NDArray"}

    def pipelines(pipeline, size, ours_mode, anchor, goal=None):
        kind = "batch of 128" if ours_mode.startswith("batch") else ("per sample, NDArray" if "NDArray" in ours_mode
                                                                     else "per sample")
        out.append(Comparison(f"{pipeline}/{size}/{ours_mode}/{anchor}", "pipelines",
                              f"{NAMES[pipeline]}, {size}: ours {kind} vs {anchor}",
                              side("ours", pipeline, size, ours_mode), side(anchor, pipeline, size,
                                                                             anchor_mode.get(anchor, "per-sample numpy")),
                              goal))

    ps, batch, ps_nd = "per-sample numpy", "batch numpy 128", "per-sample NDArray"
    pipelines("flip", "32x32", ps, "mxnet")
    pipelines("flip", "32x32", ps, "albumentations", 1)
    pipelines("flip", "32x32", batch, "albumentations", 1)
    pipelines("cifar", "32x32", ps, "gluoncv", 8)
    pipelines("cifar", "32x32", ps_nd, "gluoncv", 8)
    pipelines("cifar", "32x32", ps, "albumentations", 1)
    pipelines("cifar", "32x32", batch, "albumentations", 10)
    pipelines("cifar", "32x32", ps, "imgaug")
    pipelines("color", "32x32", ps, "albumentations", 1)
    pipelines("color", "32x32", batch, "albumentations", 1)
    pipelines("color", "32x32", ps, "mxnet")
    pipelines("color", "500x400 cat", ps, "mxnet")
    pipelines("color", "500x400 cat", ps, "albumentations")
    pipelines("color", "224x224", ps, "mxnet", 5)
    pipelines("color", "224x224", ps, "albumentations", 1)
    pipelines("randaugment", "32x32", ps, "imgaug")

    families = (("ssd", "500x400 cat", "SSD recipe with boxes", "boxes", "the boxes"),
                ("ssd", "300x300", "SSD recipe with boxes", "boxes", "the boxes"),
                ("seg-train", "500x400 cat + mask", "seg-train with its mask", "mask", "the mask"),
                ("simple-pose-train", "500x400 cat + box + 17 joints", "simple-pose-train with box and 17 joints",
                 "joints", "the box and joints"))
    for pipeline, size, what, mode, extra in families:
        mine = side("ours", pipeline, size, f"per-sample {mode}")
        for anchor, goal in (("gluoncv", 3), ("albumentations", 1)):
            out.append(Comparison(f"{pipeline}/{size}/{anchor}", "families", f"{what}, {size}: ours vs {anchor}", mine,
                                  side(anchor, pipeline, size, f"per-sample {mode}"), goal))
        out.append(Comparison(f"{pipeline}/{size}/cost", "families",
                              f"{what}, {size}: the cost of {extra} (the same draws replayed without and with them)",
                              side("ours", pipeline, size, "per-sample replay image only"),
                              side("ours", pipeline, size, f"per-sample replay {mode}"), 0.10, "cost"))

    sys.path.insert(0, str(HERE))
    import adapters

    for library, pipeline, size in adapters.pipelines():
        args = {"library": library, "pipeline": pipeline, "inputs": str(inputs)}
        out.append(Comparison(f"adapter/{library}/{pipeline}", "adapters", f"{library} adapter, {pipeline}, {size}",
                              Side("adapters", "adapters.workload", {**args, "side": "direct"}),
                              Side("adapters", "adapters.workload", {**args, "side": "adapter"}), 0.10, "cost"))

    def loader(which, workers):
        return Side("mxnet" if which == "mxnet" else "ours", "loader.workload",
                    {"which": which, "workers": workers, "data": str(cifar)}, TWO_CORES if workers else ONE_CORE)

    names = {"ours-batch": "ours, batch pipeline in batchify_fn", "ours": "ours, per sample",
             "ours-nd": "ours, NDArray in and out through transform_first",
             "noop-nd": "a transform that does nothing, NDArray through transform_first (MXNet's floor)"}
    for which, goal in (("ours-batch", 5), ("ours", None), ("ours-nd", 8), ("noop-nd", None)):
        for workers in (0, 2):
            out.append(Comparison(f"loader/{which}/{workers}", "loader",
                                  f"{names[which]}, {workers} workers vs MXNet/GluonCV transforms", loader(which, workers),
                                  loader("mxnet", workers), goal))

    def record(which, threads, path=None, cores=None):
        args = {"which": which, "rec": path or rec["rec"], "threads": threads}  # whole epochs: see recordio.workload
        return Side({"imagerecorditer": "mxnet", "gluoncv": "gluoncv", "gluoncv-boxes": "gluoncv",
                     "dali": "dali"}.get(which, "ours"), "recordio.workload", args,
                    cores or (TWO_CORES if threads == 2 else ONE_CORE))

    ours1, ours2 = record("ours", 1), record("ours", 2)
    out += [Comparison("rec/1/iri", "recordio", "ours 1 thread vs MXNet ImageRecordIter (C++) 1 thread", ours1,
                       record("imagerecorditer", 1), 2),
            Comparison("rec/1/iri/unpinned", "recordio", "ours 1 thread vs ImageRecordIter 1 thread, neither pinned "
                       "(each free to use both cores: ImageRecordIter's decoding and prefetch threads then run beside "
                       "its one preprocessing thread)", record("ours", 1, cores=TWO_CORES),
                       record("imagerecorditer", 1, cores=TWO_CORES)),
            Comparison("rec/2/iri", "recordio", "ours 2 threads vs ImageRecordIter 2 threads", ours2,
                       record("imagerecorditer", 2), 2),
            Comparison("rec/1/decode", "recordio", "ours 1 thread vs the limit: libjpeg-turbo decoding alone "
                       "(simplejpeg) 1 thread", ours1, record("decode", 1), 0.8),
            Comparison("rec/threads", "recordio", "ours 2 threads (two cores) vs ours 1 thread (one core)", ours2,
                       ours1, 1.7),
            Comparison("rec/1/dali", "recordio", "ours 1 thread vs DALI 2.4's CPU pipeline 1 thread", ours1,
                       record("dali", 1), 2),
            Comparison("rec/2/dali", "recordio", "ours 2 threads vs DALI's CPU pipeline 2 threads", ours2,
                       record("dali", 2), 2),
            Comparison("rec/1/gluoncv", "recordio", "ours 1 thread vs GluonCV's Python path (ImageRecordDataset, "
                       "MXNet transforms, DataLoader)", ours1, record("gluoncv", 1)),
            Comparison("rec/boxes", "recordio", "SSD recipe with boxes: ours (RecordDetectionDataset, ssd-train) vs "
                       "GluonCV (RecordFileDetection, SSDDefaultTrainTransform)", record("ours-boxes", 1, path=rec["det"]),
                       record("gluoncv-boxes", 1, path=rec["det"]), 3)]

    def clip_side(row):
        library = {"gluoncv": "gluoncv", "albumentations": "albumentations"}.get(row, "ours")
        return Side(library, "video.workload", {"row": row, "clip": str(clip)})

    mine = clip_side("ours clip")
    out += [Comparison("video/gluoncv", "video", "ours (a clip) vs GluonCV's VideoGroupTrainTransform", mine,
                       clip_side("gluoncv"), 5, unit="clips/s"),
            Comparison("video/albumentations", "video", "ours vs albumentations (images=)", mine,
                       clip_side("albumentations"), 1.5, unit="clips/s"),
            Comparison("video/single", "video", "ours, the clip in one call vs its 32 frames one call each "
                       "(goal: at most 1.3x their time)", mine, clip_side("ours 32 single calls"), 1 / 1.3,
                       unit="clips/s"),
            Comparison("video/batch", "video", "ours, a batch of 8 clips vs 8 clips one call each, stacked into the "
                       "batch (as a DataLoader's batchify does): per clip", clip_side("ours batch of 8 clips"),
                       clip_side("ours 8 clips stacked"), 1, unit="clips/s"),
            Comparison("video/batch-unstacked", "video", "ours, a batch of 8 clips vs a clip per call, never stacked "
                       "(the batch's 154 MB array is new memory each time; one clip's 19 MB is reused)",
                       clip_side("ours batch of 8 clips"), mine, unit="clips/s")]
    return out


def judge(c: Comparison, r: dict) -> tuple:
    """(the figure as the page writes it, ``met``/``MISSED``/``None``)."""
    if "error" in r:
        return "not measured", None
    if c.kind == "cost":
        cost = r["ratio"] - 1
        text = f"{100 * cost:+.0f}%"
        return text, None if c.goal is None else ("met" if cost < c.goal else "MISSED")
    text = f"{r['ratio']:.2f}x"
    return text, None if c.goal is None else ("met" if r["ratio"] >= c.goal else "MISSED")


def goal_text(c: Comparison) -> str:
    if c.goal is None:
        return "-"
    return f"< {100 * c.goal:.0f}%" if c.kind == "cost" else f">= {c.goal:.2g}x"


def spread(c: Comparison, r: dict) -> str:
    if c.kind == "cost":
        return f"{100 * (r['low'] - 1):+.0f} to {100 * (r['high'] - 1):+.0f}%, {r['pairs']} pairs"
    return f"{r['low']:.2f}-{r['high']:.2f}, {r['pairs']} pairs"


def fmt(x):
    return "-" if x is None else (f"{x / 1000:.1f}k" if x >= 1000 else f"{x:.0f}" if x >= 10 else f"{x:.1f}")


def report(results: dict) -> str:
    by_key = results["comparisons"]
    lines = []
    for section, title in SECTIONS.items():
        rows = [c for c in results["plan"] if c["section"] == section]
        if not rows:
            continue
        lines += [f"## {title}", "", "| comparison | A | B | A/B: median | pairs: range | goal | |",
                  "|---|---:|---:|---:|---|---|---|"]
        for c in rows:
            comp, r = Comparison(**{**c, "a": None, "b": None}), by_key[c["key"]]
            if "error" in r:
                lines.append(f"| {c['label']} | | | not measured: {r['error'][:160]} | | {goal_text(comp)} | |")
                continue
            figure, state = judge(comp, r)
            lines.append(f"| {c['label']} | {fmt(r['a'])} | {fmt(r['b'])} | {figure} | {spread(comp, r)} | "
                         f"{goal_text(comp)} | {state or ''} |")
        lines.append("")
    memory = results.get("memory", {})
    if "peak_rss_mb" in memory:
        lines += [f"Memory: reading every record of a {memory['file_gb']:.2f} GB .rec by offset in shuffled order "
                  f"({memory['img_per_s']:.0f} records/s), peak RSS {memory['peak_rss_mb']:.0f} MB against "
                  f"{memory['rss_before_mb']:.0f} MB once its index was read: the file is never held.", ""]
    for module in ("tta", "schedules"):
        if results.get(module):
            lines += __import__(module).report(results[module]).splitlines() + [""]
    s = results.get("startup", {})
    if s:
        lines += [f"Start-up: `import gluon_augplug` {s['import_ms']:.0f} ms; discovery of 20 installed plugins "
                  f"{s['discovery_20_plugins_ms']:.0f} ms beyond importing them ({s['imports_ms']:.0f} ms).", ""]
    lines += ["## Goals", ""] + [f"- {t}" for t in goals(results)]
    rerun = results.get("rerun")
    if rerun:
        lines += ["", "## Against the previous run", ""] + rerun["lines"]
    lines += ["", "Versions: " + ", ".join(f"{lib} {v}" for lib, v in results.get("versions", {}).items())
              + f"; {results['machine']}."]
    return "\n".join(lines)


def goals(results: dict) -> list:
    out = []
    for c in results["plan"]:
        comp = Comparison(**{**c, "a": None, "b": None})
        if comp.goal is None:
            continue
        figure, state = judge(comp, results["comparisons"][c["key"]])
        out.append(f"{c['label']}: {figure} (goal {goal_text(comp)}): {state or 'not measured'}")
    for module in ("tta", "schedules"):
        if results.get(module):
            out += __import__(module).targets(results[module])
    s = results.get("startup", {})
    if s:
        out.append(f"import gluon_augplug: {s['import_ms']:.1f} ms (goal < 50 ms): {'met' if s['import_ms'] < 50 else 'MISSED'}")
        out.append(f"discovery of 20 plugins beyond their imports: {s['discovery_20_plugins_ms']:.0f} ms (goal < 300 ms): "
                   f"{'met' if s['discovery_20_plugins_ms'] < 300 else 'MISSED'}")
    return out


def ratios_of(results: dict) -> dict:
    """Every ratio of a run by key: the pairs' medians, and the paired costs of tta.py and schedules.py as B/A."""
    out = {k: r["ratio"] for k, r in results.get("comparisons", {}).items() if "ratio" in r}
    for r in results.get("tta", {}).get("rows", []):
        out[f"tta/{r['task']}"] = 1 + r["cost_pct"] / 100
    for r in results.get("schedules", {}).get("rows", []):
        out[f"schedules/{r['path']}/{r['changes']}"] = 1 + r["cost_pct"] / 100
    return out


def rerun_check(previous: dict, current: dict, tolerance: float = RERUN_TOLERANCE) -> dict:
    """Each ratio of ``current`` against the same one of ``previous``: within ``tolerance`` of it or not."""
    before, now = ratios_of(previous), ratios_of(current)
    shared = [k for k in now if k in before]
    off = [(k, before[k], now[k]) for k in shared if abs(now[k] / before[k] - 1) > tolerance]
    worst = max(shared, key=lambda k: abs(now[k] / before[k] - 1), default=None)
    lines = [f"{len(shared) - len(off)} of {len(shared)} ratios within {100 * tolerance:.0f}% of the run of "
             f"{previous.get('date', '?')}" + (f" (the largest change: {worst}, {before[worst]:.3g} then "
                                               f"{now[worst]:.3g}, {100 * (now[worst] / before[worst] - 1):+.1f}%)"
                                               if worst else "") + "."]
    lines += [f"- outside: {k}: {a:.3g} then {b:.3g} ({100 * (b / a - 1):+.1f}%)" for k, a, b in off]
    return {"compared": len(shared), "outside": [k for k, _, _ in off], "lines": lines}


def versions() -> dict:
    out = {}
    for library in ("ours", "mxnet", "gluoncv", "albumentations", "imgaug", "dali"):
        if not Path(PYTHONS[library]).exists():
            out[library] = "(no environment: left out)"
            continue
        code = ("import importlib, json, numpy; m = importlib.import_module(%r); "
                "print(json.dumps([getattr(m, '__version__', '?'), numpy.__version__]))"
                % {"ours": "gluon_augplug", "dali": "nvidia.dali"}.get(library, library))
        proc = subprocess.run([PYTHONS[library], "-c", code], capture_output=True, text=True, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        if proc.returncode:
            out[library] = "(does not import)"
            continue
        version, numpy_version = json.loads(proc.stdout.strip().splitlines()[-1])
        out[library] = f"{version} (numpy {numpy_version})"
    return out


README = ROOT / "README.md"
_HEAD_START, _HEAD_END = "<!-- bench:headline", "<!-- /bench:headline -->"
HEADLINE = ("cifar/32x32/per-sample numpy/gluoncv", "cifar/32x32/per-sample numpy/albumentations",
            "cifar/32x32/batch numpy 128/albumentations", "color/224x224/per-sample numpy/mxnet",
            "ssd/500x400 cat/gluoncv", "seg-train/500x400 cat + mask/gluoncv",
            "simple-pose-train/500x400 cat + box + 17 joints/gluoncv", "rec/1/iri", "rec/1/decode", "rec/threads",
            "rec/1/dali", "loader/ours-batch/2", "video/gluoncv", "video/batch",
            "seg-train/500x400 cat + mask/cost", "simple-pose-train/500x400 cat + box + 17 joints/cost",
            "adapter/albumentations/colour: flip, jitter 0.5, resized crop")


def headline(results: dict) -> list:
    """The README's table: a few of the goals, as the run judged them."""
    plan = {c["key"]: c for c in results["plan"]}
    lines = ["| comparison (A vs B, pinned to the same cores, timed in pairs) | A/B: median | pairs: range | goal | |",
             "|---|---:|---|---|---|"]
    for key in HEADLINE:
        if key not in plan:
            continue
        comp, r = Comparison(**{**plan[key], "a": None, "b": None}), results["comparisons"][key]
        figure, state = judge(comp, r)
        lines.append(f"| {comp.label} | {figure} | {spread(comp, r) if 'error' not in r else ''} | {goal_text(comp)} | "
                     f"{state or ''} |")
    return lines


def write_between(page: Path, start_marker: str, end_marker: str, text: str) -> Path:
    """Replace what is between the two marker lines of ``page`` (through a temporary file: a failed run leaves
    the page as it was)."""
    doc = page.read_text()
    start, end = doc.find(start_marker), doc.find(end_marker)
    if start < 0 or end < start:
        raise SystemExit(f"{page}: the markers {start_marker} ... {end_marker} are missing")
    start = doc.index("\n", start) + 1
    tmp = page.with_suffix(page.suffix + ".tmp")
    tmp.write_text(doc[:start] + text.strip() + "\n" + doc[end:])
    os.replace(tmp, page)
    return page


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "runs" / "bench"))
    p.add_argument("--shared", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--quick", action="store_true", help="2 short pairs a comparison, small inputs (a smoke run)")
    p.add_argument("--only", default="", help="comma-separated sections (" + ", ".join(SECTIONS)
                   + ", tta, schedules, startup); default all")
    p.add_argument("--pairs", type=int, default=9)
    p.add_argument("--seconds", type=float, default=0.4, help="each side's run in a pair (about)")
    p.add_argument("--docs", action="store_true", help=f"also write the tables into {DOCS_PAGE.relative_to(ROOT)}")
    args = p.parse_args()
    only = set(filter(None, args.only.split(",")))
    wanted = lambda name: not only or name in only  # noqa: E731
    pairs, seconds = (2, 0.05) if args.quick else (args.pairs, args.seconds)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    inputs = out / "inputs.npz"
    shared = Path(args.shared)
    prepare_inputs(inputs, shared)
    import recordio
    import video

    (out / "recordio").mkdir(exist_ok=True)
    rec = recordio.build_records(out / "recordio", 120 if args.quick else 600, shared)
    clip = out / "clip.npy"
    video.make_clip(clip, shared)
    plan = [c for c in comparisons(inputs, rec, clip, shared / "cifar10-jpg.tar.gz") if wanted(c.section)]
    results = {"date": time.strftime("%Y-%m-%d %H:%M"), "pairs": pairs, "seconds": seconds,
               "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
               "plan": [{k: v for k, v in c.__dict__.items() if k not in ("a", "b")} for c in plan],
               "comparisons": {}, "records": {k: v for k, v in rec.items() if k in ("records", "mean_kb")}}
    started = time.perf_counter()
    with Workers(out / "logs") as workers:
        section = None
        for i, c in enumerate(plan, 1):
            if c.section != section:  # a section's processes end with it: fewer idle interpreters
                workers.close()
                section = c.section
            r = alternate(workers, c.a, c.b, pairs if args.quick else max(pairs, MORE_PAIRS.get(c.section, 0)), seconds)
            results["comparisons"][c.key] = r
            figure = judge(c, r)[0] if "error" not in r else f"error: {r['error']}"
            print(f"[{i}/{len(plan)} {time.perf_counter() - started:5.0f}s] {c.label}: {figure}", flush=True)
        results["versions"] = versions()
    if wanted("recordio"):
        results["memory"] = recordio.memory(rec["rec"], out / "recordio", 0.25 if args.quick else 1.0)
    if wanted("tta"):
        print("test-time views ...", flush=True)
        results["tta"] = __import__("tta").measure(args.quick)
    if wanted("schedules"):
        print("schedules ...", flush=True)
        results["schedules"] = __import__("schedules").measure(shared, args.quick)
    if wanted("startup"):
        results["startup"] = startup(3 if args.quick else 7)
    previous = out / "results.json"
    if previous.exists():
        results["rerun"] = rerun_check(json.loads(previous.read_text()), results)
        os.replace(previous, out / "results.previous.json")
    text = report(results)
    print(text)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    (out / "results.md").write_text(text + "\n")
    page = write_docs_page(text, DOCS_PAGE) if args.docs else None
    if args.docs and not only:  # the README's few figures come from a whole run only
        write_between(README, _HEAD_START, _HEAD_END, "\n".join(
            [f"Measured by `make bench` on {time.strftime('%Y-%m-%d')} ({results['machine']}):", ""] + headline(results)))
    print(f"\nwritten: {out / 'results.json'}, {out / 'results.md'}" + (f", {page}" if page else "")
          + f" ({(time.perf_counter() - started) / 60:.1f} min)")


if __name__ == "__main__":
    main()
