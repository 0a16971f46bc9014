"""What schedules cost: the same pipeline with a constant parameter (A) and with that parameter on a schedule (B):
``linear``, which changes every iteration (the worst case: every batch resolves a new pipeline), and ``steps``,
which changes once in the run. Goal < 3%.

Both sides run the same work per image (Normalize's mean, which costs the same whatever its value), through
the path ``augplug train`` takes: items by a :class:`SampleIndex` of their batch's (epoch, iteration), and the
batch pipeline resolved per batch. Timed alternately (A B A B ...) in one process over whole epochs of real
CIFAR-10 images, the median of the pair ratios with their range.

    python benchmarks/schedules.py [--quick]      # the table, then one JSON object (--quick: 256 images, 2 pairs)
"""
import argparse
import json
import statistics
import time
from pathlib import Path

GOAL = 3.0  # percent
PER_SAMPLE = "RandomCrop(32, pad=4), RandomFlipLeftRight, ToTensor, Normalize({mean}, 0.25)"
BATCH = "RandomFlipLeftRight, RandomBrightness({brightness}), Mixup(0.2)"


def _images(shared, count):
    import numpy as np

    from gluon_augplug.data.datasets import open_dataset

    split = open_dataset(str(Path(shared) / "cifar10-jpg.tar.gz"), "train", count)  # stratified, decoded
    items = [split[i] for i in range(len(split))]
    return np.stack([image for image, _ in items]), np.array([label for _, label in items], np.int64)


def _per_sample(spec, images, labels, batch):
    """One epoch's function of the per-sample path: a data set built once (as a run builds it), its items
    fetched by SampleIndex batch after batch."""
    from gluon_augplug import augment
    from gluon_augplug.data.tagged import TimedBatches

    data = augment(list(zip(images, labels.tolist())), spec, seed=0)
    timed = TimedBatches([list(range(k, min(k + batch, len(images)))) for k in range(0, len(images), batch)])

    def epoch(e):
        timed.start(e)
        tick = time.perf_counter()
        for indices in timed:
            [data[i] for i in indices]
        return time.perf_counter() - tick

    return epoch


def _batch(spec, images, labels, batch):
    """One epoch's function of the batch path: the batch pipeline resolved for each batch, as the loop does."""
    import numpy as np

    from gluon_augplug.batch import build_batch_pipeline

    pipeline = build_batch_pipeline(spec)
    steps = -(-len(images) // batch)

    def epoch(e):
        tick = time.perf_counter()
        for step in range(steps):
            x, y = images[step * batch:(step + 1) * batch], labels[step * batch:(step + 1) * batch]
            pipeline.at(e, step, steps)(x, y, classes=10, rng=np.random.default_rng((e, step)))
        return time.perf_counter() - tick

    return epoch


SCHEDULES = (("per iteration", "linear(0.5, 0.4, 0, 10)", "linear(0.3, 0.1, 0, 10)"),
             ("per epoch", "steps(0.5, (5, 0.45))", "steps(0.3, (5, 0.2))"))


def measure(shared, quick=False):
    count, pairs, batch = (256, 2, 64) if quick else (5000, 9, 128)
    images, labels = _images(shared, count)
    rows = []
    for path, make, spec in (("per-sample", _per_sample, PER_SAMPLE), ("batch", _batch, BATCH)):
        constant = make(spec.format(mean=0.5, brightness=0.3), images, labels, batch)
        constant(0)  # warm-up: imports, caches, the steps that never change
        for changes, mean, brightness in SCHEDULES:
            scheduled_spec = spec.format(mean=mean, brightness=brightness)
            scheduled = make(scheduled_spec, images, labels, batch)
            scheduled(0)
            ratios, a_times, b_times = [], [], []
            for k in range(1, pairs + 1):  # a new epoch each pair; the order alternates (A B, then B A)
                if k % 2:
                    a, b = constant(k), scheduled(k)
                else:
                    b, a = scheduled(k), constant(k)
                ratios.append(b / a)
                a_times.append(a)
                b_times.append(b)
            rows.append({"path": path, "changes": changes, "images": len(images), "batch": batch, "pairs": pairs,
                         "constant_img_per_s": len(images) / statistics.median(a_times),
                         "scheduled_img_per_s": len(images) / statistics.median(b_times),
                         "cost_pct": 100 * (statistics.median(ratios) - 1), "cost_min_pct": 100 * (min(ratios) - 1),
                         "cost_max_pct": 100 * (max(ratios) - 1), "spec": scheduled_spec})
    return {"rows": rows}


def report(result):
    lines = ["## Schedules: what a scheduled parameter costs", "",
             "Each pair runs an epoch with the parameter constant (A) and one with it on a schedule (B), in "
             "alternating order: a `linear` schedule changes every iteration (every batch resolves a new "
             "pipeline: the worst case), a `steps` schedule once in the run. The same work per image on real "
             "CIFAR-10 (the cheapest recipe: the largest share for the schedule); the cost is the median of the "
             "pair ratios B/A, minus one, with the pairs' range.", "",
             "| path | value changes | scheduled spec | images (batch) | constant img/s | scheduled img/s | cost |",
             "|---|---|---|---:|---:|---:|---|"]
    for r in result["rows"]:
        cost = f"{r['cost_pct']:+.1f}% ({r['cost_min_pct']:+.1f} to {r['cost_max_pct']:+.1f}, {r['pairs']} pairs)"
        lines.append(f"| {r['path']} | {r['changes']} | `{r['spec']}` | {r['images']} ({r['batch']}) | "
                     f"{r['constant_img_per_s']:,.0f} | {r['scheduled_img_per_s']:,.0f} | {cost} |")
    return "\n".join(lines)


def targets(result):
    return [f"schedules, {r['path']} path, value changing {r['changes']}: add {r['cost_pct']:.1f}% (target < "
            f"{GOAL:.0f}%): "
            f"{'met' if r['cost_pct'] < GOAL else 'MISSED'}" for r in result.get("rows", [])]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", default=str(Path(__file__).resolve().parent.parent.parent / "shared" / "data"))
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    result = measure(Path(args.shared), args.quick)
    print(report(result))
    print("\n".join(targets(result)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
