"""The harness's checks of pickle, DataLoader workers, hybridize
(see :mod:`gluon_augplug.testing.conformance`)."""
from __future__ import annotations

import os
import pickle
from typing import Any

import numpy as np


from .registry import SEEDS as _SEEDS, Skip, check, mxnet_or_none
from ..context import CheckContext, same as _same


@check("pickle", per_sample=True, doc=(
    'the transform and its pipeline pickle and behave the same after'))
def check_pickle(ctx: CheckContext) -> str | None:
    try:
        clone = pickle.loads(pickle.dumps(ctx.transform()))
        pipe = pickle.loads(pickle.dumps(ctx.pipeline(seed=5)))
    except Exception as exc:
        return (f"does not pickle ({type(exc).__name__}: {exc}); DataLoader workers and checkpoints pickle "
                f"transforms: keep lambdas, locks, open files and generators out of attributes")
    if not _same(ctx.outputs(pipe), ctx.outputs(ctx.pipeline(seed=5))):
        return "a pickled copy of the pipeline gives other outputs than the original"
    if type(clone) is not type(ctx.transform()):
        return f"unpickles as {type(clone).__name__}"
    return None


def _most_varied_image(ctx: CheckContext) -> np.ndarray:
    """The sample image whose augmentations differ most across seeds (a no-op on it would hide a bug)."""
    pipes = [ctx.pipeline(seed=s) for s in _SEEDS]
    best, best_count = next(iter(ctx.images.values())), 0
    for img in ctx.images.values():
        distinct = len({ctx.augment(p, img).tobytes() for p in pipes})
        if distinct > best_count:
            best, best_count = img, distinct
    return best


class _WorkerProbe:
    """A dataset whose items are ``(augmented image, pid of the process that made it)``."""

    def __init__(self, image: np.ndarray, pipeline: Any, length: int, boxes: np.ndarray | None = None):
        self.image, self.pipeline, self.length, self.boxes = image, pipeline, length, boxes

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int):
        if self.boxes is None:
            return self.pipeline(self.image), np.int64(os.getpid())
        return self.pipeline(self.image, boxes=self.boxes)[0], np.int64(os.getpid())


@check("dataloader", per_sample=True, doc=(
    'it works in a ``gluon.data.DataLoader`` with 2 workers that draw distinct augmentations (without MXNet: in'
    ' 2 forked worker processes)'))
def check_dataloader(ctx: CheckContext, per_worker: int = 16) -> str | None:
    image = _most_varied_image(ctx)
    pipeline = ctx.pipeline(seed=0)
    ctx.augment(pipeline, image)  # the parent draws before forking, as a training script's sanity check would
    dataset = _WorkerProbe(image, pipeline, 2 * per_worker, ctx.boxes_for(image))
    by_worker: dict[int, list[np.ndarray]] = {}
    mx = mxnet_or_none()
    where = "a DataLoader with num_workers=2" if mx is not None else "2 forked worker processes"
    try:
        for data, pid in (_through_dataloader(mx, dataset) if mx is not None else _through_forked_workers(dataset)):
            by_worker.setdefault(pid, []).append(data)
    except Skip:
        raise
    except Exception as exc:
        return f"failed inside {where}: {type(exc).__name__}: {exc}"
    if not ctx.declared_random():
        return None
    if len(by_worker) < 2:
        raise Skip("one worker produced every sample; distinct streams not observable")
    first, second = list(by_worker.values())[:2]
    n = min(len(first), len(second))
    if _same(first[:n], second[:n]) and per_worker < 128:
        # a rarely applied transform (RandomGrayscale's p=0.1) can repeat 16 draws by chance: look longer
        return check_dataloader(ctx, per_worker * 8)
    if _same(first[:n], second[:n]):
        return (f"the two workers of {where} produced the same sequence of augmentations: forked workers share "
                "the global random state; draw from the rng passed to sample() (gluon_augplug reseeds it per worker)")
    return None


def _through_dataloader(mx: Any, dataset: _WorkerProbe) -> list:
    loader = mx.gluon.data.DataLoader(dataset, batch_size=1, num_workers=2)
    try:
        return [(data[0].asnumpy(), int(pid.asscalar())) for data, pid in loader]
    finally:
        del loader


def _through_forked_workers(dataset: _WorkerProbe) -> list:
    """Without MXNet: the items made by 2 forked worker processes, each its half in turn (as DataLoader
    workers take their batches), which is what any framework's worker processes are."""
    import multiprocessing

    import cv2

    if "fork" not in multiprocessing.get_all_start_methods():
        raise Skip("needs forked worker processes (MXNet's DataLoader, or fork), which this platform lacks")
    context = multiprocessing.get_context("fork")
    # OpenCV's worker threads do not survive a fork: a child can wait on them forever. Without them at the
    # fork (what DataLoader users with OpenCV do by hand), the workers run OpenCV on their own thread.
    threads = cv2.getNumThreads()
    cv2.setNumThreads(0)
    workers = []
    try:
        for w in range(2):
            receive, send = context.Pipe(duplex=False)
            process = context.Process(target=_make_items, args=(dataset, range(w, len(dataset), 2), send), daemon=True)
            process.start()
            send.close()
            workers.append((process, receive))
        items = []
        for _process, receive in workers:
            if not receive.poll(FORKED_TIMEOUT):
                raise TimeoutError(f"a worker gave no result in {FORKED_TIMEOUT} s: it waits on something that did "
                                   f"not survive the fork (a lock or a thread of the parent's)")
            outcome = receive.recv()
            if isinstance(outcome, str):
                raise RuntimeError(outcome)
            items.extend(outcome)
        return items
    finally:
        cv2.setNumThreads(threads)
        for process, receive in workers:
            receive.close()
            process.join(5)
            if process.is_alive():
                process.kill()


def _make_items(dataset: _WorkerProbe, indices: range, send: Any) -> None:
    try:
        send.send([(np.asarray(data), int(pid)) for data, pid in (dataset[i] for i in indices)])
    except Exception as exc:  # the parent names it
        send.send(f"{type(exc).__name__}: {exc}")


FORKED_TIMEOUT = 120


@check("hybridize", per_sample=True, doc=(
    'a Gluon HybridBlock gives the same output hybridized'))
def check_hybridize(ctx: CheckContext) -> str | None:
    mx = mxnet_or_none()
    if mx is None:
        raise Skip("not a Gluon HybridBlock (MXNet is not installed)")
    if not isinstance(ctx.transform(), mx.gluon.HybridBlock):
        raise Skip("not a Gluon HybridBlock")
    t = ctx.info.factory(**ctx.params)  # a fresh block: hybridizing must not touch the shared one
    inputs = [mx.nd.array(img, dtype=img.dtype) for img in ctx.raw_inputs().values()]
    mx.random.seed(0)
    eager = [t(x).asnumpy() for x in inputs]
    t.hybridize()
    mx.random.seed(0)
    hybrid = [t(x).asnumpy() for x in inputs]
    if not _same(eager, hybrid):
        return "gives other outputs once hybridized: keep Python control flow out of hybrid_forward"
    return None
