"""End-to-end: images/second a gluon.data.DataLoader delivers over the real CIFAR-10 test set
(10,000 images from ../shared/data), and the peak memory of the process and its workers.

    python benchmarks/loader.py --which ours|ours-threads|ours-batch|mxnet --workers 2
"""
import argparse
import json
import resource
import statistics
import time

import mxnet as mx
from mxnet import gluon

from gluon_augplug import augment
from gluon_augplug.batch import build_batch_pipeline
from gluon_augplug.batch.batchify import AugmentBatchify
from gluon_augplug.data.datasets import open_dataset

from gluon_augplug.constants import CIFAR10_MEAN as MEAN, CIFAR10_STD as STD


def _unchanged(image):
    return image


def loader_for(which, dataset, workers, batch_size):
    if which == "ours":  # per-sample, seeded per sample
        return gluon.data.DataLoader(augment(dataset, "cifar10-standard", seed=0), batch_size, shuffle=True,
                                     num_workers=workers)
    if which == "ours-threads":  # the same, batched by BatchLoader: 2 threads per process, one stack per batch
        from gluon_augplug.data.loader import BatchLoader

        return BatchLoader(augment(dataset, "cifar10-standard", seed=0), batch_size, shuffle=True, threads=2,
                           num_workers=workers)
    if which == "ours-nd":  # as D2L/GluonCV users call it: NDArray images, transform_first, NDArray out
        from gluon_augplug import build_pipeline

        nd = gluon.data.ArrayDataset(mx.nd.array(dataset.images, dtype="uint8"), dataset.labels)
        return gluon.data.DataLoader(nd.transform_first(build_pipeline("cifar10-standard", seed=0)), batch_size,
                                     shuffle=True, num_workers=workers)
    if which == "noop-nd":  # MXNet's own floor: transform_first with a transform that does nothing
        nd = gluon.data.ArrayDataset(mx.nd.array(dataset.images, dtype="uint8"), dataset.labels)
        return gluon.data.DataLoader(nd.transform_first(_unchanged), batch_size, shuffle=True, num_workers=workers)
    if which == "ours-batch":  # the batch version of the same recipe, in the workers' batchify
        pipeline = build_batch_pipeline(f"RandomCrop(32, pad=4), RandomFlipLeftRight, Normalize({MEAN}, {STD})")
        return gluon.data.DataLoader(dataset, batch_size, shuffle=True, num_workers=workers,
                                     batchify_fn=AugmentBatchify(pipeline))
    # GluonCV's recipe as users write it today: MXNet/GluonCV transforms on NDArray images
    from gluoncv.data import transforms as gcv_transforms
    from mxnet.gluon.data.vision import transforms as T

    pipeline = T.Compose([gcv_transforms.RandomCrop(32, pad=4), T.RandomFlipLeftRight(), T.ToTensor(),
                          T.Normalize(MEAN, STD)])
    nd = gluon.data.ArrayDataset(mx.nd.array(dataset.images, dtype="uint8"), dataset.labels)
    return gluon.data.DataLoader(nd.transform_first(pipeline), batch_size, shuffle=True, num_workers=workers)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--which", choices=["ours", "ours-threads", "ours-nd", "noop-nd", "ours-batch", "mxnet"], required=True)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--data", default="../shared/data/cifar10-jpg.tar.gz")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=128)
    args = p.parse_args()
    dataset = open_dataset(args.data, "test")
    loader = loader_for(args.which, dataset, args.workers, args.batch_size)
    rates = []
    for _ in range(args.epochs):
        start, seen = time.perf_counter(), 0
        for data, _ in loader:
            data.wait_to_read()
            seen += data.shape[0]
        rates.append(seen / (time.perf_counter() - start))
    del loader  # ends the worker pool, so that its peak memory is counted below
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"which": args.which, "workers": args.workers, "img_per_s": statistics.median(rates[1:] or rates),
                      "peak_rss_mb": self_mb, "peak_worker_rss_mb": child_mb}))


if __name__ == "__main__":
    main()
