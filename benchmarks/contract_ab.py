"""The rows the contract's rework touches, timed against an earlier commit: A B A B in one window.

    python benchmarks/contract_ab.py --before 7462d0e [--pairs 7]

Checks REV out into a temporary worktree, then runs this script's ``--row`` mode alternately with that tree and
with this one on the import path (each in its own process), and prints the median of the pairs' ratios with their
spread, as docs/benchmarks.md's "before and after" table.
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NORM = "Normalize((0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261))"
CIFAR = f"RandomCrop(32, pad=4), RandomFlipLeftRight, ToTensor, {NORM}"
COLOR = ("RandomFlipLeftRight, RandomColorJitter(0.5, 0.5, 0.5, 0.5), RandomResizedCrop(224, scale=(0.1, 1), "
         "ratio=(0.5, 2)), ToTensor")
TSN = ("MultiScaleCrop(224), RandomFlipLeftRight, ToTensor, Normalize(mean=[0.485, 0.456, 0.406], "
       "std=[0.229, 0.224, 0.225])")


def rows(shared: Path):
    import cv2
    import numpy as np

    from gluon_augplug import build_pipeline
    from gluon_augplug.batch import build_batch_pipeline

    cat = cv2.cvtColor(cv2.imread(str(shared / "cat1.jpg")), cv2.COLOR_BGR2RGB)
    rng = np.random.default_rng(0)
    small = np.stack([cv2.resize(cat[y:y + 200, x:x + 200], (32, 32), interpolation=cv2.INTER_AREA)
                      for y, x in zip(rng.integers(0, 200, 256), rng.integers(0, 300, 256))])
    big = np.stack([cv2.resize(cat[y:y + 300, x:x + 300], (256, 256))
                    for y, x in zip(rng.integers(0, 100, 32), rng.integers(0, 200, 32))])
    base = cv2.resize(cat, (340 + 4 * 31, 256), interpolation=cv2.INTER_AREA)
    clip = np.stack([base[:, 4 * t:4 * t + 340] for t in range(32)])
    per_sample = build_pipeline(CIFAR, seed=0)
    yield "per-sample CIFAR recipe (img/s)", (lambda: [per_sample(im) for im in small]), len(small)
    batch = build_batch_pipeline(CIFAR.replace(", ToTensor", ""), seed=0)
    yield "batch CIFAR recipe, 128 a batch (img/s)", (lambda: (batch(small[:128]), batch(small[128:]))), len(small)
    color = build_pipeline(COLOR, seed=0)
    yield "per-sample colour recipe at 224 (img/s)", (lambda: [color(im) for im in big]), len(big)
    color_batch = build_batch_pipeline(COLOR.replace(", ToTensor", ""), seed=0)
    yield "batch colour recipe at 224 (img/s)", (lambda: color_batch(big)), len(big)
    tsn = build_pipeline(TSN, seed=0)
    yield "clip, per sample (clips/s)", (lambda: tsn(clip)), 1
    tsn_batch = build_batch_pipeline(TSN.replace(", ToTensor", ""), seed=0)
    clips = np.stack([clip] * 8)
    yield "batch of 8 clips (clips/s)", (lambda: tsn_batch(clips, clip_layout="BTCHW")), 8


def measure(shared: Path) -> dict:
    out = {}
    for name, fn, n in rows(shared):
        fn()  # warm up
        times = []
        for _ in range(5):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        out[name] = n / statistics.median(times)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before", help="the commit to compare with")
    p.add_argument("--pairs", type=int, default=7)
    p.add_argument("--shared", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--row", action="store_true", help="time this tree's rows once and print JSON (internal)")
    args = p.parse_args()
    if args.row:
        print(json.dumps(measure(Path(args.shared))))
        return
    if not args.before:
        p.error("--before REV is required")
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(old), args.before], check=True)
        try:
            sides = {"before": old, "after": ROOT}
            results: dict = {side: [] for side in sides}
            for _ in range(args.pairs):
                for side, path in sides.items():
                    proc = subprocess.run([sys.executable, __file__, "--row", "--shared", args.shared],
                                          capture_output=True, text=True, check=True, cwd=tmp,
                                          env={"PYTHONPATH": str(path), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"})
                    results[side].append(json.loads(proc.stdout.strip().splitlines()[-1]))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False)
    print(f"| row | before | after | after / before (median of {args.pairs} A B pairs) | spread |")
    print("|---|---:|---:|---:|---|")
    for row in results["before"][0]:
        ratios = [a[row] / b[row] for a, b in zip(results["after"], results["before"])]
        before = statistics.median(r[row] for r in results["before"])
        after = statistics.median(r[row] for r in results["after"])
        print(f"| {row} | {before:.0f} | {after:.0f} | {statistics.median(ratios):.2f}x | "
              f"{min(ratios):.2f}-{max(ratios):.2f} |")


if __name__ == "__main__":
    main()
