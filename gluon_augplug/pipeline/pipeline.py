"""The Pipeline: one callable over a list of transforms, with its own seedable random source."""
from __future__ import annotations

import json
from typing import Any, Iterator, Sequence

import numpy as np

from ..errors import ReplayError
from ..transforms.base import HWC, RandomSource, Record, Transform, check_image, like_input, to_numpy
from ..transforms.composition import Compose


class Pipeline:
    """A built augmentation pipeline: ``pipeline(image) -> image``.

    Takes one HWC ``mx.nd.NDArray`` (returned on the same context) or numpy array
    (returned as numpy), converting once at each end: every step works on numpy.
    Build one with :func:`gluon_augplug.build_pipeline`.

    Parameters
    ----------
    transforms : sequence of Transform
    seed : int, optional
        Seed of the pipeline's random source; ``None`` draws fresh entropy.

    Notes
    -----
    Threads: a pipeline may be shared by threads (nothing is corrupted), but a seeded pipeline
    whose calls draw from its own stream is reproducible only when called from one thread: under
    threads, which call gets which numbers depends on scheduling. For reproducible results under
    threads pass ``rng=`` per call (e.g. ``np.random.default_rng((seed, index))``) or use
    :func:`gluon_augplug.augment`, whose samples are seeded by index. DataLoader worker
    processes each get a distinct stream (see :class:`RandomSource`).

    What a seed guarantees, by how the pipeline is used:

    * ``dataset.transform_first(pipeline)`` with ``num_workers=0``: the same epochs, run after run.
    * the same with ``num_workers > 0``: each worker draws a distinct stream, but which worker
      augments which sample depends on scheduling, so an epoch is not reproducible, and differs
      between 0 and 2 workers.
    * ``gluon_augplug.augment(dataset, pipeline, seed=s)``: every sample of every epoch is decided
      by (seed, index, epoch): the same whatever ``num_workers`` is, and resumable mid-epoch.
    """

    def __init__(self, transforms: Sequence[Transform], seed: int | None = None):
        self._root = Compose(list(transforms))
        self._root.output_layout(HWC)  # order errors (Normalize before ToTensor...) surface here
        self.seed = seed
        self._source = RandomSource(seed)

    # -- applying ------------------------------------------------------------------
    def __call__(self, img: Any, rng: np.random.Generator | None = None) -> Any:
        return self._run(img, rng, None)[0]

    def apply_with_params(self, img: Any, rng: np.random.Generator | None = None) -> tuple[Any, Record]:
        """Transform ``img`` and return ``(output, record)``; ``record`` holds every parameter applied."""
        return self._run(img, rng, None)

    def replay(self, img: Any, record: Record) -> Any:
        """Apply exactly the parameters in ``record`` (from :meth:`apply_with_params`) to ``img``.

        Useful for an image and its mask, or to reproduce one augmented sample.
        Size-dependent parameters (crop boxes) are in pixels of the recorded image.
        """
        if not isinstance(record, dict) or "children" not in record:
            raise ReplayError("expected the record returned by Pipeline.apply_with_params")
        return self._run(img, None, record)[0]

    def _run(self, img: Any, rng: np.random.Generator | None, replay: Record | None) -> tuple[Any, Record]:
        arr = to_numpy(img)
        check_image(arr, HWC, "pipeline input")
        out, record = self._root.run(arr, rng if rng is not None else self._source.generator(), HWC, replay)
        if out is img:
            out = out.copy()
        return like_input(out, img), record

    def reseed(self, seed: int | None) -> "Pipeline":
        """Restart the random stream from ``seed``; returns self."""
        self.seed = seed
        self._source.reseed(seed)
        return self

    # -- describing ------------------------------------------------------------------
    @property
    def transforms(self) -> list[Transform]:
        return list(self._root.transforms)

    def to_spec(self) -> dict:
        """A spec that rebuilds an identical pipeline: ``{"seed": ..., "transforms": [...]}``."""
        return {"seed": self.seed, "transforms": [t.to_spec() for t in self._root.transforms]}

    def to_string(self) -> str:
        """The pipeline as a spec string (without its seed)."""
        return ", ".join(_render(item) for item in self.to_spec()["transforms"])

    def save(self, path: str) -> None:
        """Write :meth:`to_spec` as YAML (``.yaml``/``.yml``) or JSON (anything else), atomically."""
        from .._files import atomic_write

        spec = self.to_spec()

        def write(tmp: str) -> None:
            with open(tmp, "w", encoding="utf-8") as f:
                if str(path).lower().endswith((".yaml", ".yml")):
                    import yaml

                    yaml.safe_dump(spec, f, sort_keys=False)
                else:
                    json.dump(spec, f, indent=2)
                    f.write("\n")

        atomic_write(str(path), write)

    def output_layout(self) -> str:
        return self._root.output_layout(HWC)

    def __len__(self) -> int:
        return len(self._root.transforms)

    def __iter__(self) -> Iterator[Transform]:
        return iter(self._root.transforms)

    def __getitem__(self, index: int) -> Transform:
        return self._root.transforms[index]

    def __repr__(self) -> str:
        return f"Pipeline({self.to_string()!r}, seed={self.seed!r})"


def _render(item: Any) -> str:
    if isinstance(item, dict) and "name" in item:
        params = item.get("params") or {}
        if not params:
            return item["name"]
        return f"{item['name']}({', '.join(f'{k}={_render(v)}' for k, v in params.items())})"
    if isinstance(item, list):
        return "[" + ", ".join(_render(v) for v in item) + "]"
    return repr(item)
