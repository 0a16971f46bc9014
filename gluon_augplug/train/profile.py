"""Where an input pipeline's time goes: each step's cost per image on real images, and what one core and all
cores can feed (``augplug profile SPEC --data PATH``).

Each top-level step is timed where the pipeline calls it. What the pipeline does around its steps (decoding
an encoded image, with the first crop when the two are fused; ToTensor and Normalize when they run as one
pass; converting the input) is the remainder of the whole call's time, and is shown as one row named after
what it holds. The all-cores figure is measured, not extrapolated: one process per core, each running the
pipeline over the same images at once.
"""
from __future__ import annotations

import math
import multiprocessing
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import AugplugError
from ..io.decode import EncodedImage
from ..pipeline.build import build_pipeline
from ..pipeline.pipeline import Pipeline

MAX_IMAGES = 100_000
SECONDS_PER_CORE = 1.0  # how long each process of the all-cores measurement runs


@dataclass
class Profile:
    """Per-image costs (seconds) by step, in pipeline order, and the measured throughputs (images/s)."""

    spec: str
    source: str
    images: int
    rows: list[tuple[str, float]] = field(default_factory=list)
    per_core: float = 0.0
    all_cores: float = 0.0
    cores: int = 1

    @property
    def total(self) -> float:
        return sum(cost for _, cost in self.rows)

    def cores_for(self, rate: float) -> int:
        """Cores of this machine's speed that ``rate`` images/s takes (measured all-cores scaling)."""
        per = self.all_cores / self.cores if self.all_cores else self.per_core
        return max(1, math.ceil(rate / per)) if per else 0

    def table(self, target: float | None = None) -> str:
        width = max([len(name) for name, _ in self.rows] + [20])
        lines = [f"augplug profile: {self.spec}", f"on {self.images} images of {self.source}", "",
                 f"{'step':<{width}}  ms/image   share"]
        for name, cost in self.rows:
            lines.append(f"{name:<{width}}  {1e3 * cost:8.3f}  {100 * cost / max(self.total, 1e-12):5.1f}%")
        lines.append(f"{'total':<{width}}  {1e3 * self.total:8.3f}  100.0%")
        lines += ["", f"one core: {self.per_core:,.0f} images/s; {self.cores} cores (measured, {self.cores} "
                      f"processes at once): {self.all_cores:,.0f} images/s"]
        if target:
            lines.append(f"to feed {target:,.0f} images/s: about {self.cores_for(target)} cores like these")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {"spec": self.spec, "source": self.source, "images": self.images,
                "steps": [{"step": n, "seconds_per_image": c, "share": c / max(self.total, 1e-12)} for n, c in self.rows],
                "seconds_per_image": self.total, "images_per_second_one_core": self.per_core,
                "images_per_second_all_cores": self.all_cores, "cores": self.cores}


def load_images(path: str, count: int, seed: int = 0) -> tuple[list, str]:
    """``count`` images of ``path`` spread over it, as the training loop reads them: encoded (JPEG...) from a
    .rec, .lst or class-folder tree or an image file, decoded arrays from a CIFAR-10 folder or archive."""
    from ..data.datasets import open_dataset
    from ..data.streaming import open_split
    from ..train.config import streamed

    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_IMAGES:
        raise AugplugError(f"--images must be in [1, {MAX_IMAGES}], got {count!r}")
    if os.path.isfile(path) and not streamed(path) and not path.endswith((".tar", ".tar.gz", ".tgz")):
        with open(path, "rb") as f:
            data = f.read()
        return [EncodedImage(data, path)] * count, f"{path} (one image, {count} times)"
    if streamed(path):
        split = open_split(path, encoded=True)
    else:
        try:
            split = open_dataset(path, "train")
        except (AugplugError, OSError, ValueError):
            if not os.path.isdir(path):
                raise
            split = open_split(path, encoded=True)
    n = len(split)
    if not n:
        raise AugplugError(f"{path!r} holds no images")
    picks = np.linspace(0, n - 1, min(count, n)).astype(int).tolist()
    images = [split[int(i)][0] for i in picks]
    kind = "encoded" if isinstance(images[0], EncodedImage) else "decoded arrays"
    return (images * -(-count // len(images)))[:count], f"{path} ({n} images, {kind})"


def profile(spec: Any, images: list, seed: int = 0, repeat: int = 2, cores: int | None = None,
            source: str = "") -> Profile:
    """Time ``spec`` (a spec or Pipeline) on ``images``: each step's cost per image, one core's and all cores'
    throughput. ``repeat`` passes over the images are timed, after a warm-up on a tenth of them."""
    pipeline = spec if isinstance(spec, Pipeline) else build_pipeline(spec)
    steps = pipeline.transforms
    spent = [0.0] * len(steps)
    calls = [0] * len(steps)
    originals = []
    for k, step in enumerate(steps):
        originals.append(step.__dict__.get("run"))
        step.run = _timed(step.run, spent, calls, k)  # type: ignore[method-assign]  # on the instance, removed below
    try:
        _run_all(pipeline, images[: max(1, len(images) // 10)], seed)  # warm-up: caches, lazy imports, pools
        spent[:], calls[:] = [0.0] * len(steps), [0] * len(steps)
        start = time.perf_counter()
        for _ in range(max(repeat, 1)):
            _run_all(pipeline, images, seed)
        total = time.perf_counter() - start
        n = len(images) * max(repeat, 1)
    finally:
        for step, original in zip(steps, originals):
            if original is None:
                del step.run
            else:
                step.run = original  # type: ignore[method-assign]
    rows = [(_remainder_name(pipeline, images, calls, n), max(total - sum(spent), 0.0) / n)]
    rows += [(step.spec_name, spent[k] / n) for k, step in enumerate(steps) if calls[k]]
    result = Profile(pipeline.to_string(), source or f"{len(images)} images", len(images), rows)
    start = time.perf_counter()  # one core, untimed steps: what a worker reaches
    _run_all(pipeline, images, seed)
    result.per_core = len(images) / max(time.perf_counter() - start, 1e-12)
    result.cores = cores or os.cpu_count() or 1
    result.all_cores = _all_cores(pipeline, images, seed, result.cores, result.per_core)
    return result


def _timed(run: Any, spent: list, calls: list, k: int) -> Any:
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return run(*args, **kwargs)
        finally:
            spent[k] += time.perf_counter() - start
            calls[k] += 1

    return timed


def _run_all(pipeline: Pipeline, images: list, seed: int) -> None:
    for i, image in enumerate(images):
        pipeline(image, np.random.default_rng((seed, i)))


def _remainder_name(pipeline: Pipeline, images: list, calls: list, n: int) -> str:
    """What the time outside the timed steps holds, in words."""
    steps = pipeline.transforms
    parts = []
    if images and isinstance(images[0], EncodedImage):
        first = steps[0] if steps else None
        fused = n - calls[0] if first is not None else 0  # the fused path runs the first step itself
        name = first.spec_name if first is not None else ""
        parts.append(f"decode + {name} (fused: reduced-scale decode for {100 * fused / n:.0f}% of the images)"
                     if fused else f"decode ({images[0].format or 'image'})")
    untimed = [s.spec_name for k, (s, c) in enumerate(zip(steps, calls)) if not c and not (k == 0 and parts)]
    if untimed:
        parts.append(" + ".join(untimed) + " (run as one pass)")
    parts.append("input checks")
    return ", ".join(parts)


def _all_cores(pipeline: Pipeline, images: list, seed: int, cores: int, per_core: float) -> float:
    """Images/s with ``cores`` processes running the pipeline over the images at once (fork: no pickling),
    each for about a second."""
    if cores <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return per_core
    context = multiprocessing.get_context("fork")
    global _SHARED
    passes = max(1, math.ceil(SECONDS_PER_CORE * per_core / len(images)))
    _SHARED = (pipeline, images * passes, seed)
    try:
        with context.Pool(cores) as pool:
            pool.map(_warm, range(cores))
            start = time.perf_counter()
            pool.map(_work, range(cores))
            elapsed = time.perf_counter() - start
    finally:
        _SHARED = None
    return cores * len(images) * passes / max(elapsed, 1e-12)


_SHARED: Any = None


def _warm(_: int) -> None:
    pipeline, images, seed = _SHARED
    _run_all(pipeline, images[: max(1, len(images) // 10)], seed)


def _work(_: int) -> None:
    pipeline, images, seed = _SHARED
    _run_all(pipeline, images, seed)
