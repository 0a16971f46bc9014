"""What a check sees of the transform under test: how to build it, on which images."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..contract import hook
from ..pipeline.build import build_pipeline
from ..plugins.registry import Registry, TransformInfo
from ..transforms.base import HWC, Transform


class CheckContext:
    """One transform under test: how to build it, on which images."""

    def __init__(self, info: TransformInfo, registry: Registry, images: dict[str, np.ndarray]):
        self.info = info
        self.registry = registry
        self.images = images
        self.params = dict(info.example)
        self._built: Any = None

    @property
    def item(self) -> dict:
        return {"name": self.info.qualified_name, "params": self.params}

    def pipeline(self, seed: int | None = 0, params: dict | None = None, kind: str = "sample"):
        """The transform in a per-sample pipeline (after ToTensor if it takes tensors) or a batch pipeline."""
        item = self.item if params is None else {"name": self.info.qualified_name, "params": params}
        if kind == "batch":
            from ..batch import build_batch_pipeline

            return build_batch_pipeline([item], seed=seed, registry=self.registry)
        return build_pipeline(self._prefix() + [item], seed=seed, registry=self.registry)

    def transform(self) -> Any:
        """The object the factory returns (composites are built by the builder: their children are specs)."""
        if self._built is None:
            if self.info.nested:
                self._built = build_pipeline([self.item], registry=self.registry)[-1]
            else:
                factory = self.info.factory if self.info.per_sample else self.info.batch_factory
                assert factory is not None
                self._built = factory(**self.params)
        return self._built

    def takes_tensors(self) -> bool:
        t = self.transform()
        return isinstance(t, Transform) and HWC not in t.accepts

    def _prefix(self) -> list:
        return ["ToTensor"] if self.takes_tensors() else []

    def raw_inputs(self) -> dict[str, np.ndarray]:
        """Inputs for calling the transform directly (tensors for tensor-only transforms)."""
        if not self.takes_tensors():
            return {k: v.copy() for k, v in self.images.items()}
        to_tensor = build_pipeline("ToTensor", registry=self.registry)
        return {k: to_tensor(v) for k, v in self.images.items()}

    def declared_random(self) -> bool:
        """The transform is random: it says so, or writes a ``sample()`` (random is then inferred) whose draws
        differ across seeds (a ``sample()`` that only computes, a centre crop's offsets, is not random)."""
        t = self.transform()
        if not hook(t, "random"):
            return False
        if isinstance(t, Transform) and type(t)._random_inferred:
            return self.random_inferred_and_drawing()
        return True

    def random_inferred_and_drawing(self) -> bool:
        return len(set(self.drawn_params())) > 1

    def drawn_params(self) -> list[str]:
        """What ``sample()`` draws on the first image for each seed (empty for a step that draws in a ``run()`` of
        its own, or that is not a Transform)."""
        from ..targets.modes import overrides
        from ..transforms.drawing import draw_params
        from .checks.registry import SEEDS

        t = self.transform()
        if not isinstance(t, Transform) or overrides(t, "run"):
            return []
        img = next(iter(self.raw_inputs().values()))
        h, w, c = img.shape if not self.takes_tensors() else (img.shape[1], img.shape[2], img.shape[0])
        shape = (int(h), int(w), int(c))
        return [repr(draw_params(t, np.random.default_rng(seed), shape, None, self.boxes_for(img))) for seed in SEEDS]

    def boxes_for(self, img: np.ndarray) -> np.ndarray | None:
        """The box a transform that samples from the boxes (``needs_targets``) is shown: the image's centre half
        (a crop around the person or the objects would otherwise see the whole image, and draw nothing); None
        for every other transform, which is called on the image alone."""
        t = self.transform()
        if not hook(t, "needs_targets"):
            return None
        h, w = img.shape[:2]
        return np.array([[w / 4, h / 4, 3 * w / 4, 3 * h / 4]], np.float32)

    def augment(self, pipeline, img: np.ndarray) -> np.ndarray:
        """The pipeline's output image for ``img`` (given :meth:`boxes_for`'s box when it takes one)."""
        boxes = self.boxes_for(img)
        if boxes is None:
            return pipeline(img)
        return pipeline(img, boxes=boxes)[0]

    def outputs(self, pipeline) -> list[np.ndarray]:
        return [self.augment(pipeline, img) for img in self.images.values()]


def same(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> bool:
    return len(a) == len(b) and all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a, b))
