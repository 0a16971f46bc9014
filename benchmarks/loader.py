"""End-to-end: images/second a gluon.data.DataLoader delivers over real CIFAR-10 test images (from
../shared/data), as workloads for worker.py (bench.py pairs each loader with MXNet's on the same images).
"""
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


def workload(which, workers, data, limit=2560, batch_size=128):
    """An epoch of ``which``'s DataLoader over ``limit`` images (every class) of the CIFAR-10 test set in ``data``,
    as a call that returns the images it delivered (worker.py times it; the worker pool lives across epochs)."""
    dataset = open_dataset(data, "test", limit=limit)  # a stratified subset: every class in it
    loader = loader_for(which, dataset, workers, batch_size)

    def epoch():
        seen = 0
        for batch, _ in loader:
            batch.wait_to_read()
            seen += batch.shape[0]
        return seen

    return epoch

