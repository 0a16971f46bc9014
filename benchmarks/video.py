"""TSN's clip augmentation: ours against GluonCV's VideoGroupTrainTransform and albumentations 2.0.8 (``images=``),
and our clip path against 32 single-image calls, on one real clip (the cat at GluonCV's 340x256 frame size, panned
4 pixels a frame, 32 frames), each library in its own interpreter.

    python benchmarks/video.py [--quick]     # prints one JSON object
    python benchmarks/video.py --row NAME --clip clip.npy --repeats 5
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
ALBUMENTATIONS = ROOT / ".bench" / "albumentations" / "bin" / "python"
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
TSN = f"MultiScaleCrop(224), RandomFlipLeftRight, ToTensor, Normalize(mean={list(MEAN)}, std={list(STD)})"
ROWS = ("ours clip", "ours 32 single calls", "ours batch of 8 clips", "gluoncv", "albumentations")


def make_clip(path: Path, shared: Path) -> None:
    import cv2
    import numpy as np

    cat = cv2.cvtColor(cv2.imread(str(shared / "cat1.jpg")), cv2.COLOR_BGR2RGB)
    base = cv2.resize(cat, (340 + 4 * 31, 256), interpolation=cv2.INTER_AREA)
    np.save(path, np.stack([base[:, 4 * t:4 * t + 340] for t in range(32)]))


def calls(row: str, clip):
    """The function that augments ``clip`` once the way ``row`` does."""
    import numpy as np

    if row.startswith("ours"):
        from gluon_augplug import build_pipeline

        pipe = build_pipeline(TSN, seed=0)
        if row == "ours clip":
            return lambda: pipe(clip), 1
        if row == "ours 32 single calls":
            frames = list(clip)
            return (lambda: [pipe(f) for f in frames]), 1
        from gluon_augplug.batch import build_batch_pipeline

        batch = build_batch_pipeline(TSN.replace(", ToTensor", ""), seed=0)
        clips = np.stack([clip] * 8)
        return (lambda: batch(clips, clip_layout="BTCHW")), 8
    if row == "gluoncv":
        from gluoncv.data.transforms.video import VideoGroupTrainTransform

        transform = VideoGroupTrainTransform((224, 224), [1.0, 0.875, 0.75, 0.66], MEAN, STD)
        frames = list(clip)
        return (lambda: np.stack(transform(frames))), 1
    import albumentations as A  # the closest pipeline: no corner-grid crop, a random resized crop of TSN's scales

    compose = A.Compose([A.RandomResizedCrop(size=(224, 224), scale=(0.66 ** 2, 1.0), ratio=(0.75, 1.333)),
                         A.HorizontalFlip(), A.Normalize(mean=MEAN, std=STD)])
    return (lambda: np.ascontiguousarray(compose(images=clip)["images"].transpose(0, 3, 1, 2))), 1


def run_row(row: str, clip_path: str, repeats: int) -> dict:
    import numpy as np

    clip = np.load(clip_path)
    fn, clips = calls(row, clip)
    fn()  # warm up (imports, first allocations)
    n = max(1, int(round(8 / clips)))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - start) / (n * clips))
    return {"row": row, "clips_per_s": 1.0 / statistics.median(times), "frames_per_s": 32.0 / statistics.median(times)}


def measure(shared: Path, quick: bool = False) -> dict:
    repeats = "2" if quick else "5"
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.npy"
        make_clip(clip, shared)
        for row in ROWS:
            python = str(ALBUMENTATIONS) if row == "albumentations" else sys.executable
            if not Path(python).exists():
                rows[row] = {"error": f"no environment at {python} (make bench creates it)"}
                continue
            proc = subprocess.run([python, __file__, "--row", row, "--clip", str(clip), "--repeats", repeats],
                                  capture_output=True, text=True, timeout=1800)
            rows[row] = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else \
                {"error": proc.stderr.strip().splitlines()[-1][:300] if proc.stderr.strip() else "failed"}
    return {"rows": rows}


def rate(video: dict, row: str):
    return video.get("rows", {}).get(row, {}).get("clips_per_s")


def report(video: dict) -> str:
    """The table of the video rows (clips/second and frames/second, ratios against the anchors)."""
    ours = rate(video, "ours clip")
    lines = ["### Video clips: TSN's multi-scale crop + flip + normalize, a 32-frame 340x256 clip to 224", "",
             "| row | clips/s | frames/s | ours (clip) vs |", "|---|---:|---:|---:|"]
    for row in ROWS:
        r = video.get("rows", {}).get(row)
        if not r:
            continue
        if "error" in r:
            lines.append(f"| {row} | error: {r['error']} | | |")
            continue
        vs = f"{ours / r['clips_per_s']:.2f}x" if ours and row != "ours clip" else ""
        lines.append(f"| {row} | {r['clips_per_s']:.1f} | {r['frames_per_s']:.0f} | {vs} |")
    return "\n".join(lines)


def targets(video: dict) -> list:
    ours, single = rate(video, "ours clip"), rate(video, "ours 32 single calls")
    out = []
    for row, goal in (("gluoncv", 5), ("albumentations", 1.5)):
        theirs = rate(video, row)
        if ours and theirs:
            out.append(f"32-frame clip, TSN recipe, vs {row}: {ours / theirs:.1f}x (target {goal}x): "
                       f"{'met' if ours / theirs >= goal else 'MISSED'}")
        else:
            out.append(f"32-frame clip, TSN recipe, vs {row}: not measured")
    if ours and single:
        cost = single / ours  # the clip's time over the 32 single calls' time
        out.append(f"a 32-frame clip costs {cost:.2f}x the time of 32 single-image calls (target <= 1.3x): "
                   f"{'met' if cost <= 1.3 else 'MISSED'}")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--row", choices=ROWS)
    p.add_argument("--clip")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--shared", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    if args.row:
        print(json.dumps(run_row(args.row, args.clip, args.repeats)))
    else:
        print(json.dumps(measure(Path(args.shared), args.quick), indent=1))


if __name__ == "__main__":
    main()
