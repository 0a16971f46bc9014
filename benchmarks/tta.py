"""What test-time augmentation costs beyond the network's own forward passes: the views' warps, the predictions
mapped back and merged, as a share of the forward time (goal < 10%).

Two sides, timed alternately (A B A B ...) in one process, the median of the pair ratios: A is the wrapper on a
batch (everything), B the same network on the very batches the views made (recorded from one run of A), nothing
else. Random-weight GluonCV networks on the CPU (no downloads here), at reduced sizes:

* segmentation: FCN (ResNet-50) through ``multi-eval`` (MultiEvalModel's 6 scales, tiles and mirrors) with
  base_size 130 and crop_size 120 on a 120x160 image (a quarter of GluonCV's 520/480);
* detection: CenterNet (ResNet-18) on a 256x256 image through ``flip`` and two resizes, its 100 boxes a view mapped
  back and merged by ``box_nms``.

    python benchmarks/tta.py [--quick]      # the tables, then one JSON object (--quick: half the size, 2 pairs)
"""
import argparse
import json
import statistics
import time
import warnings

GOAL = 10.0  # percent


def _setups(quick):
    import mxnet as mx
    from gluoncv import model_zoo

    base, crop, image, det = (66, 60, (60, 80), 128) if quick else (130, 120, (120, 160), 256)  # quick: a smoke run
    mx.random.seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fcn = model_zoo.FCN(5, backbone="resnet50", pretrained_base=False, base_size=base, crop_size=crop, aux=False)
        fcn.initialize(mx.init.Xavier(magnitude=2))
        centernet = model_zoo.center_net_resnet18_v1b_voc(pretrained_base=False)
        centernet.initialize(mx.init.Xavier(magnitude=2))
    fcn.hybridize(static_alloc=True)
    centernet.hybridize(static_alloc=True)
    from gluon_augplug.tta import TTA, multi_eval

    segmentation = TTA(fcn.evaluate, multi_eval(base_size=base, crop_size=crop), task="segmentation")
    detection = TTA(centernet, ["flip", f"Resize({det * 5 // 4})", f"Resize({det * 3 // 4})"], task="detection")
    return [
        ("segmentation", f"FCN-ResNet50, multi-eval, {image[0]}x{image[1]}", segmentation, fcn.evaluate,
         mx.nd.random.normal(shape=(1, 3) + image)),
        ("detection", f"CenterNet-ResNet18, flip + 2 resizes, {det}x{det}", detection, centernet,
         mx.nd.random.normal(shape=(2, 3, det, det))),
    ]


def _wait(out):
    for y in out if isinstance(out, (list, tuple)) else [out]:
        y.wait_to_read()


def measure(quick=False):
    pairs = 2 if quick else 7
    rows = []
    for task, what, wrapper, model, x in _setups(quick):
        batches = []

        def recording(batch, model=model):
            batches.append(batch.copy())
            return model(batch)

        wrapper.model = recording
        _wait(wrapper(x))  # records the view batches; warms both up
        wrapper.model = model
        for b in batches:
            _wait(model(b))

        def run_all():
            tick = time.perf_counter()
            _wait(wrapper(x))
            return time.perf_counter() - tick

        def forward_only():  # queued as the wrapper queues them (MXNet's engine runs them asynchronously)
            tick = time.perf_counter()
            outs = [model(b) for b in batches]
            for out in outs:
                _wait(out)
            return time.perf_counter() - tick

        ratios, totals, forwards, beyond = [], [], [], []
        for _ in range(pairs):
            a, b = run_all(), forward_only()
            ratios.append(a / b)
            totals.append(a)
            forwards.append(b)
            beyond.append(a - b)
        cost = 100 * (statistics.median(ratios) - 1)
        rows.append({"task": task, "what": what, "passes": len(batches), "pairs": pairs,
                     "total_ms": 1000 * statistics.median(totals), "forward_ms": 1000 * statistics.median(forwards),
                     "beyond_ms": 1000 * statistics.median(beyond),
                     "cost_pct": cost, "cost_min_pct": 100 * (min(ratios) - 1),
                     "cost_max_pct": 100 * (max(ratios) - 1)})
    return {"rows": rows}


def report(result):
    lines = ["## Test-time augmentation: the cost beyond the network's forward passes", "",
             "Each pair times the wrapper (views, forward passes, mapping back, merging) and then the same network on "
             "the same view batches alone; the cost is the median of the pair ratios, minus one, with the pairs' "
             "range (random weights, CPU). Segmentation: MultiEvalModel's 6 scales, tiles and mirrors at a quarter of "
             "GluonCV's size; detection: 100 boxes a view moved back and merged by box_nms.", "",
             "| task | network, views, input | passes | forward passes (ms) | beyond them (ms) | cost |",
             "|---|---|---:|---:|---:|---|"]
    for r in result["rows"]:
        cost = f"{r['cost_pct']:.1f}% ({r['cost_min_pct']:.1f} to {r['cost_max_pct']:.1f}, {r['pairs']} pairs)"
        lines.append(f"| {r['task']} | {r['what']} | {r['passes']} | {r['forward_ms']:.0f} | {r['beyond_ms']:.0f} | "
                     f"{cost} |")
    return "\n".join(lines)


def targets(result):
    return [f"test-time views, {r['task']}: add {r['cost_pct']:.1f}% to the forward passes (target < {GOAL:.0f}%): "
            f"{'met' if r['cost_pct'] < GOAL else 'MISSED'}" for r in result.get("rows", [])]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    result = measure(args.quick)
    print(report(result))
    print("\n".join(targets(result)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
