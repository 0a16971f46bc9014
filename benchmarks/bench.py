"""The benchmark: ours against MXNet, GluonCV, albumentations and imgaug, measured in one run.

    make bench            # sets up the anchor environments if missing, then runs this
    python benchmarks/bench.py [--quick] [--out runs/bench]

Prints tables of images/second and ratios, checks the performance targets, and writes
``results.json`` and ``results.md``. Each figure is the median of several repeats on the same
inputs (real CIFAR-10 images, the cat photo, 224x224 crops of it). albumentations 2.x needs
numpy>=1.24 and imgaug 0.4 numpy<1.24, so each runs in its own environment (``.bench/``);
libraries whose environment is missing are left out and said so.
"""
import argparse
import json
import time
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
LIBRARIES = {  # library -> interpreter
    "ours": sys.executable, "mxnet": sys.executable, "gluoncv": sys.executable,
    "albumentations": str(ROOT / ".bench" / "albumentations" / "bin" / "python"),
    "imgaug": str(ROOT / ".bench" / "imgaug" / "bin" / "python"),
}
ANCHORS = ("mxnet", "gluoncv", "albumentations", "imgaug")


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


def run_json(cmd, timeout=1800):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: {' | '.join(tail)}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


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


def best(rows, library, pipeline, size, prefix):
    rates = [r["img_per_s"] for r in rows.get(library, []) if r["pipeline"] == pipeline and r["size"] == size
             and r["mode"].startswith(prefix)]
    return max(rates) if rates else None


def detection_rates(rows, size):
    """The SSD recipe's rates at ``size``: ours with boxes, ours replayed with and without boxes, GluonCV's,
    albumentations'."""
    return {"ours": best(rows, "ours", "ssd", size, "per-sample boxes"),
            "replay": best(rows, "ours", "ssd", size, "per-sample replay boxes"),
            "image only": best(rows, "ours", "ssd", size, "per-sample replay image only"),
            "gluoncv": best(rows, "gluoncv", "ssd", size, ""), "albumentations": best(rows, "albumentations", "ssd", size, "")}


def fmt(x):
    return "-" if x is None else (f"{x / 1000:.1f}k" if x >= 1000 else f"{x:.0f}")


def ratio(a, b):
    return "-" if not a or not b else f"{a / b:.1f}x"


def report(results: dict) -> str:
    rows = {lib: data.get("rows", []) for lib, data in results["libraries"].items()}
    lines = ["## Augmentation throughput (images/second, one process; median of repeats)", "",
             "| pipeline | input | ours per-sample (numpy / NDArray) | ours batch numpy 128 / 256 | "
             "ours batch NDArray 128 / 256 | MXNet | GluonCV | albumentations | imgaug |",
             "|---|---|---|---|---|---|---|---|---|"]
    keys = [("flip", "32x32"), ("cifar", "32x32"), ("color", "32x32"), ("color", "500x400 cat"),
            ("color", "224x224"), ("randaugment", "32x32")]
    names = {"flip": "chapter: flip + ToTensor", "cifar": "GluonCV CIFAR recipe",
             "color": "chapter: flip + jitter 0.5 + resized crop",
             "randaugment": "RandAugment(2, 9)"}
    for pipeline, size in keys:
        ours = {r["mode"]: r["img_per_s"] for r in rows.get("ours", []) if r["pipeline"] == pipeline and r["size"] == size}
        anchors = [fmt(best(rows, lib, pipeline, size, "")) for lib in ANCHORS]
        lines.append(f"| {names[pipeline]} | {size} | {fmt(ours.get('per-sample numpy'))} / "
                     f"{fmt(ours.get('per-sample NDArray'))} | {fmt(ours.get('batch numpy 128'))} / "
                     f"{fmt(ours.get('batch numpy 256'))} | {fmt(ours.get('batch NDArray 128'))} / "
                     f"{fmt(ours.get('batch NDArray 256'))} | " + " | ".join(anchors) + " |")
    lines += ["", "## Ratios: ours (best mode of the kind) against each anchor", "",
              "| pipeline | input | kind | vs MXNet | vs GluonCV | vs albumentations | vs imgaug |",
              "|---|---|---|---|---|---|---|"]
    for pipeline, size in keys:
        for kind, prefix in (("per-sample", "per-sample"), ("batch", "batch")):
            mine = best(rows, "ours", pipeline, size, prefix)
            if mine is None:
                continue
            lines.append(f"| {names[pipeline]} | {size} | {kind} | " + " | ".join(
                ratio(mine, best(rows, lib, pipeline, size, "")) for lib in ANCHORS) + " |")
    lines += ["", "## Detection: the SSD training recipe with boxes (per sample, images/second)", "",
              "| input | ours with boxes | GluonCV SSDDefaultTrainTransform | albumentations bbox pipeline | "
              "vs GluonCV | vs albumentations | boxes cost (same draws replayed) |", "|---|---|---|---|---|---|---|"]
    for size in ("500x400 cat", "300x300"):
        r = detection_rates(rows, size)
        mine, gcv, albu = r["ours"], r["gluoncv"], r["albumentations"]
        cost = f"{100 * (r['image only'] / r['replay'] - 1):+.0f}%" if r["replay"] and r["image only"] else "-"
        lines.append(f"| {size} | {fmt(mine)} | {fmt(gcv)} | {fmt(albu)} | {ratio(mine, gcv)} | {ratio(mine, albu)} | "
                     f"{cost} |")
    sys.path.insert(0, str(HERE))
    import pose
    import segmentation

    for family_lines in (segmentation.report(rows, best, fmt, ratio), pose.report(rows, best, fmt, ratio)):
        if family_lines:
            lines += [""] + family_lines
    adapters = results.get("adapters", {})
    if adapters.get("rows"):
        versions = adapters.get("versions", {})
        lines += ["", f"## Adapters: the library through our plugin, by name, against the library called directly "
                      f"(albumentations {versions.get('albumentations', '?')}, imgaug {versions.get('imgaug', '?')}, "
                      f"same environment; per sample, images/second)", "",
                  "| library | pipeline | input | called directly | through the adapter | adapter cost per image |",
                  "|---|---|---|---|---|---|"]
        for r in adapters["rows"]:
            cost = 1e6 * (1 / r["adapter"] - 1 / r["direct"])
            lines.append(f"| {r['library']} | {r['pipeline']} | {r['size']} | {fmt(r['direct'])} | {fmt(r['adapter'])} | "
                         f"{cost:+.0f} us ({100 * (r['direct'] / r['adapter'] - 1):+.0f}%) |")
    elif adapters.get("error"):
        lines += ["", f"Adapters: not measured ({adapters['error']})"]
    loader = results.get("loader", {})
    if loader:
        lines += ["", "## DataLoader over the real CIFAR-10 test set (10,000 images), GluonCV's CIFAR recipe", "",
                  "| loader | workers | images/s | vs MXNet's transforms | peak RSS main / worker (MB) |",
                  "|---|---|---|---|---|"]
        for key, r in sorted(loader.items()):
            if "error" in r:
                lines.append(f"| {key} | | error: {r['error']} | | |")
                continue
            mx_rate = loader.get(f"mxnet-{r['workers']}", {}).get("img_per_s")
            lines.append(f"| {r['which']} | {r['workers']} | {fmt(r['img_per_s'])} | {ratio(r['img_per_s'], mx_rate)} | "
                         f"{r['peak_rss_mb']:.0f} / {r['peak_worker_rss_mb']:.0f} |")
    if results.get("recordio"):
        sys.path.insert(0, str(HERE))
        import recordio

        lines += [""] + recordio.report(results["recordio"]).splitlines()
    if results.get("video"):
        sys.path.insert(0, str(HERE))
        import video

        lines += [""] + video.report(results["video"]).splitlines()
    if results.get("tta"):
        sys.path.insert(0, str(HERE))
        import tta

        lines += [""] + tta.report(results["tta"]).splitlines()
    if results.get("schedules"):
        sys.path.insert(0, str(HERE))
        import schedules

        lines += [""] + schedules.report(results["schedules"]).splitlines()
    s = results.get("startup", {})
    if s:
        lines += ["", f"Start-up: `import gluon_augplug` {s['import_ms']:.0f} ms; discovery of 20 installed plugins "
                      f"{s['discovery_20_plugins_ms']:.0f} ms beyond importing them ({s['imports_ms']:.0f} ms)."]
    lines += ["", "## Targets", ""] + [f"- {t}" for t in targets(results, rows)]
    lines += ["", "Versions: " + ", ".join(f"{lib} {d.get('version', '?')} (numpy {d.get('numpy', '?')})"
                                            for lib, d in results["libraries"].items() if "version" in d)
              + f"; {results['machine']}."]
    missing = [f"{lib}: {d['error']}" for lib, d in results["libraries"].items() if "error" in d]
    if missing:
        lines.append("Left out: " + "; ".join(missing))
    return "\n".join(lines)


def targets(results, rows):
    def check(label, value, goal):
        if value is None:
            return f"{label}: not measured"
        state = "met" if value >= goal else f"MISSED by {100 * (1 - value / goal):.0f}%"
        return f"{label}: {value:.1f}x (target {goal}x): {state}"

    out = []
    per_sample = best(rows, "ours", "cifar", "32x32", "per-sample")
    batch = best(rows, "ours", "cifar", "32x32", "batch")
    gluoncv, albu = best(rows, "gluoncv", "cifar", "32x32", ""), best(rows, "albumentations", "cifar", "32x32", "")
    out.append(check("per-sample CIFAR recipe vs GluonCV", per_sample / gluoncv if per_sample and gluoncv else None, 8))
    out.append(check("per-sample CIFAR recipe vs albumentations", per_sample / albu if per_sample and albu else None, 1))
    out.append(check("batch CIFAR recipe vs albumentations per-sample", batch / albu if batch and albu else None, 10))
    color = best(rows, "ours", "color", "224x224", "")
    mxc, albc = best(rows, "mxnet", "color", "224x224", ""), best(rows, "albumentations", "color", "224x224", "")
    out.append(check("224x224 colour pipeline vs MXNet", color / mxc if color and mxc else None, 5))
    out.append(check("224x224 colour pipeline vs albumentations", color / albc if color and albc else None, 1))
    per_sample_nd = best(rows, "ours", "cifar", "32x32", "per-sample NDArray")
    out.append(check("per-sample CIFAR recipe, NDArray in and out, vs GluonCV",
                     per_sample_nd / gluoncv if per_sample_nd and gluoncv else None, 8))
    for row in ("flip", "color"):
        for kind in ("per-sample", "batch"):
            mine, theirs = best(rows, "ours", row, "32x32", kind), best(rows, "albumentations", row, "32x32", "")
            out.append(check(f"{kind} {row} 32x32 vs albumentations", mine / theirs if mine and theirs else None, 1))
    for size in ("500x400 cat", "300x300"):
        r = detection_rates(rows, size)
        mine, gcv, albu, replay, image_only = r["ours"], r["gluoncv"], r["albumentations"], r["replay"], r["image only"]
        out.append(check(f"SSD recipe with boxes, {size}, vs GluonCV", mine / gcv if mine and gcv else None, 3))
        out.append(check(f"SSD recipe with boxes, {size}, vs albumentations", mine / albu if mine and albu else None, 1))
        if replay and image_only:
            cost = 100 * (image_only / replay - 1)
            out.append(f"SSD recipe, {size}: boxes add {cost:.0f}% to the image-only time (target < 10%): "
                       f"{'met' if cost < 10 else 'MISSED'}")
    sys.path.insert(0, str(HERE))
    import pose
    import segmentation

    out += segmentation.targets(rows, best, check) + pose.targets(rows, best, check)
    for r in results.get("adapters", {}).get("rows", []):
        cost = 100 * (r["direct"] / r["adapter"] - 1)
        out.append(f"{r['library']} adapter, {r['pipeline']} {r['size']}: costs {cost:.0f}% over the library called "
                   f"directly (target < 10%): {'met' if cost < 10 else 'MISSED'}")
    loader = results.get("loader", {})
    for w in (0, 2):
        mine = max((loader.get(f"{k}-{w}", {}).get("img_per_s") or 0) for k in ("ours", "ours-threads",
                                                                              "ours-batch")) or None
        theirs = loader.get(f"mxnet-{w}", {}).get("img_per_s")
        out.append(check(f"DataLoader, {w} workers, vs MXNet's transforms", mine / theirs if mine and theirs else None, 5))
        nd = loader.get(f"ours-nd-{w}", {}).get("img_per_s")
        floor = loader.get(f"noop-nd-{w}", {}).get("img_per_s")
        out.append(check(f"DataLoader, {w} workers, NDArray in and out through transform_first, vs GluonCV's recipe",
                         nd / theirs if nd and theirs else None, 8)
                   + (f" (a transform that does nothing: {floor / theirs:.1f}x)" if floor and theirs else ""))
    if results.get("video"):
        sys.path.insert(0, str(HERE))
        import video

        out += video.targets(results["video"])
    if results.get("tta"):
        sys.path.insert(0, str(HERE))
        import tta

        out += tta.targets(results["tta"])
    if results.get("schedules"):
        sys.path.insert(0, str(HERE))
        import schedules

        out += schedules.targets(results["schedules"])
    s = results.get("startup", {})
    if s:
        out.append(f"import gluon_augplug: {s['import_ms']:.1f} ms (target < 50 ms): "
                   f"{'met' if s['import_ms'] < 50 else 'MISSED'}")
        out.append(f"discovery of 20 plugins beyond their imports: {s['discovery_20_plugins_ms']:.0f} ms (target < 300 ms): "
                   f"{'met' if s['discovery_20_plugins_ms'] < 300 else 'MISSED'}")
    return out


DOCS_PAGE = ROOT / "docs" / "benchmarks.md"
_START, _END = "<!-- bench:results", "<!-- /bench:results -->"


def write_docs_page(text: str, page: Path) -> Path:
    """Put ``text`` (this run's tables, headings one level down) between the page's markers; the notes around
    them are kept. Written through a temporary file, so a failed run leaves the page as it was."""
    doc = page.read_text()
    start, end = doc.find(_START), doc.find(_END)
    if start < 0 or end < start:
        raise SystemExit(f"{page}: the markers {_START} ... {_END} are missing")
    start = doc.index("\n", start) + 1
    tables = "\n".join("#" + line if line.startswith("## ") else line for line in text.splitlines())
    stamp = f"Measured by `make bench` on {time.strftime('%Y-%m-%d')}.\n\n"
    tmp = page.with_suffix(".md.tmp")
    tmp.write_text(doc[:start] + stamp + tables.strip() + "\n" + doc[end:])
    os.replace(tmp, page)
    return page


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "runs" / "bench"))
    p.add_argument("--shared", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--quick", action="store_true", help="fewer images and repeats (a smoke run)")
    p.add_argument("--docs", action="store_true", help=f"also write the tables into {DOCS_PAGE.relative_to(ROOT)}")
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    inputs = out / "inputs.npz"
    prepare_inputs(inputs, Path(args.shared))
    repeats, scale = ("2", "0.2") if args.quick else ("5", "1.0")
    results = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
               "libraries": {}, "loader": {}}
    for lib, interpreter in LIBRARIES.items():
        if not Path(interpreter).exists():
            results["libraries"][lib] = {"error": f"no environment at {interpreter} (make bench creates it)"}
            continue
        print(f"timing {lib} ...", flush=True)
        results["libraries"][lib] = run_json([interpreter, str(HERE / "anchors.py"), "--library", lib, "--inputs",
                                              str(inputs), "--repeats", repeats, "--scale", scale])
    print("adapters (albumentations 1.3 and imgaug 0.4 in this environment) ...", flush=True)
    results["adapters"] = run_json([sys.executable, str(HERE / "adapters.py"), "--inputs", str(inputs),
                                    "--repeats", repeats, "--scale", scale])
    for which in ("ours", "ours-threads", "ours-nd", "noop-nd", "ours-batch", "mxnet"):
        for workers in (0, 2):
            print(f"DataLoader {which}, {workers} workers ...", flush=True)
            results["loader"][f"{which}-{workers}"] = run_json(
                [sys.executable, str(HERE / "loader.py"), "--which", which, "--workers", str(workers),
                 "--data", str(Path(args.shared) / "cifar10-jpg.tar.gz"), "--epochs", "2" if args.quick else "3"])
    print("ImageNet recipe from RecordIO ...", flush=True)
    sys.path.insert(0, str(HERE))
    import recordio

    results["recordio"] = recordio.measure(out / "recordio", Path(args.shared), args.quick)
    print("video clips ...", flush=True)
    import video

    results["video"] = video.measure(Path(args.shared), args.quick)
    print("test-time views ...", flush=True)
    import tta

    results["tta"] = tta.measure(args.quick)
    print("schedules ...", flush=True)
    import schedules

    results["schedules"] = schedules.measure(Path(args.shared), args.quick)
    print("start-up ...", flush=True)
    results["startup"] = startup(3 if args.quick else 7)
    text = report(results)
    print(text)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    (out / "results.md").write_text(text + "\n")
    page = write_docs_page(text, DOCS_PAGE) if args.docs else None
    print(f"\nwritten: {out / 'results.json'}, {out / 'results.md'}" + (f", {page}" if page else ""))


if __name__ == "__main__":
    main()
