"""What the task-family benchmark scripts (segmentation.py, pose.py) share: timing, the targets' wording, and
running one alone across the libraries' environments."""
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CAT = HERE.parent.parent / "shared" / "data" / "voc-cat" / "JPEGImages" / "cat1.jpg"


def median_rate(fn, n, repeats):
    """Calls per second of ``fn`` (which makes ``n`` calls), the median of ``repeats`` runs."""
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(n / (time.perf_counter() - start))
    return statistics.median(out)


def timed_rows(pipeline, size, calls, repeats, n):
    """One row per mode of ``calls`` (mode -> a no-argument call), each warmed up, then timed."""
    rows = []
    for mode, call in calls.items():
        for _ in range(5):
            call()

        def run():
            for _ in range(n):
                call()

        rows.append({"pipeline": pipeline, "size": size, "mode": mode, "img_per_s": median_rate(run, n, repeats)})
    return rows


def check(label, value, goal):
    """bench.py's wording of a target."""
    if value is None:
        return f"{label}: not measured"
    return f"{label}: {value:.1f}x (target {goal}x): {'met' if value >= goal else f'MISSED by {100 * (1 - value / goal):.0f}%'}"


def main(script, rows_of, report, targets, argv):
    """``SCRIPT LIBRARY``: that library's rows as JSON, in this interpreter (on the VOC cat). ``SCRIPT``: every
    library in its own environment, one after the other, then the table and the targets (``make bench`` has the
    same rows among the others)."""
    if argv:
        import cv2  # every benchmark environment has OpenCV; not all have our package

        image = cv2.imread(str(CAT))[:, :, ::-1].copy()
        print(json.dumps(rows_of(argv[0], {"det_cat": image[None]}, 5, 1.0, median_rate)))
        return 0
    sys.path.insert(0, str(HERE))
    import bench

    rows = {}
    for library in ("ours", "gluoncv", "albumentations"):
        python = bench.LIBRARIES[library]
        if not Path(python).exists():
            print(f"{library}: no environment at {python} (make bench sets it up); left out")
            continue
        proc = subprocess.run([python, str(HERE / script), library], capture_output=True, text=True)
        if proc.returncode:
            print(f"{library}: failed: {proc.stderr.strip().splitlines()[-1:]}")
            continue
        rows[library] = json.loads(proc.stdout.strip().splitlines()[-1])
    print("\n".join(report(rows, bench.best, bench.fmt, bench.ratio)))
    print("\n".join(f"- {t}" for t in targets(rows, bench.best, check)))
    return 0
