"""A scheduled pipeline's plan: its spec with the schedules, and the pipeline it is at any (epoch, iteration).

:meth:`Plan.at` builds the steps whose scheduled values changed since they were last built (each step
is cached by its own values), so a schedule that changes every iteration rebuilds one step per batch,
and asking again at the same clock (every other sample of a batch) costs one comparison.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from ..errors import ParameterError, SpecError
from .schedule import Clock, Schedule, clock_at, key_at, schedules_in

_CACHED = 64  # resolved pipelines kept (and step versions per step)


class Plan:
    """The steps of a spec that holds schedules (``active=`` included), and the pipelines it resolves to.

    Parameters
    ----------
    specs : list of dict
        Every step's spec, switched-off ones included, with the schedules in their one-key form.
    kind : str
        "sample" (:class:`~gluon_augplug.pipeline.pipeline.Pipeline`) or "batch"
        (:class:`~gluon_augplug.batch.BatchPipeline`).
    seed, targets, registry
        Given to each resolved pipeline; ``targets`` are the pipeline's target options.
    build : callable
        :func:`~gluon_augplug.pipeline.build.build_scheduled`, which builds the steps at a clock.
    every : list, optional
        Every step built at epoch 0, the switched-off ones too (built again on first use when not given).
    pipeline_class : type
        What a batch plan resolves to (:class:`~gluon_augplug.batch.BatchPipeline`).
    mixes_labels : bool
        A batch plan with a step that mixes labels at some epoch: each resolved batch pipeline gives soft
        targets, mixed or not, so the loss keeps one form for the whole run.
    """

    def __init__(self, specs: list, kind: str, seed: int | None, targets: Any = None, registry: Any = None,
                 mixes_labels: bool = False, pipeline_class: Any = None, build: Any = None, every: list | None = None):
        self.specs, self.kind, self.seed, self.targets = specs, kind, seed, targets
        self.registry, self.mixes_labels = registry, mixes_labels
        self.pipeline_class = pipeline_class  # BatchPipeline for a batch plan (given by the batch layer above)
        self.build = build  # build.build_scheduled (given by its module: the two do not import each other)
        self._set_up()
        self._every: list | None = every  # every step built at epoch 0, when the builder has them already

    def _set_up(self) -> None:
        self.steps = [(spec, schedules_in(spec)) for spec in self.specs]
        self.schedules: list[Schedule] = [s for _, found in self.steps for s in found]
        self._versions: list[OrderedDict] = [OrderedDict() for _ in self.steps]
        self._pipelines: OrderedDict = OrderedDict()
        self._last: tuple | None = None
        self._every = None
        self._recipes: dict = {}  # step -> rebuild(clock), for steps whose scheduled values are plain parameters
        self._lock = threading.Lock()

    def at(self, clock: Clock) -> Any:
        """The pipeline at ``clock``: every schedule at its value then, the steps switched off then left out."""
        return self.resolve(clock.epoch, clock.step, clock.steps)

    def resolve(self, epoch: int, step: int = 0, steps: int = 0) -> Any:
        """:meth:`at` from the clock's three numbers (a data set's items ask it once each: the other samples of a
        batch cost one comparison, and no Clock is made for them)."""
        last = self._last
        if last is not None and last[0] == (epoch, step, steps):
            return last[1]
        clock = Clock(epoch, step, steps)
        key = key_at(self.schedules, clock)
        with self._lock:
            pipeline = self._pipelines.get(key)
            if pipeline is None:
                pipeline = self._make([t for k, step in enumerate(self.steps) for t in self._step(k, step, clock)])
                _remember(self._pipelines, key, pipeline)
            self._last = ((epoch, step, steps), pipeline)
        return pipeline

    def _step(self, k: int, step: tuple, clock: Clock) -> list:
        spec, found = step
        key = key_at(found, clock)
        built = self._versions[k].get(key)
        if built is None:
            rebuild = self._recipes.get(k)
            if rebuild is not None:  # the step's factory with the new values: no parsing, lookup or checks
                built = [rebuild(clock)]
            else:
                recipes: list = []
                built = self.build([spec], self.kind, self.registry, clock=clock, recipes=recipes)[0]
                if len(built) == 1 and any(t is built[0] for t, _ in recipes):
                    self._recipes[k] = next(r for t, r in recipes if t is built[0])
            _remember(self._versions[k], key, built)
        return built

    def _make(self, transforms: list) -> Any:
        if self.kind == "batch":
            batch = self.pipeline_class(transforms, self.seed, targets=self.targets)
            batch.mixes_labels = batch.mixes_labels or self.mixes_labels
            return batch
        from .pipeline import Pipeline

        pipeline = Pipeline(transforms, self.seed)
        pipeline.target_options = self.targets if self.targets is not None else pipeline.target_options
        return pipeline

    def check(self) -> None:
        """Build the pipeline at every epoch where a schedule reaches one of its values (its ends and steps), and
        halfway between two such epochs: a value the transform refuses with the others it is built with
        (``magnitude`` above ``num_magnitude_bins``) is an error now, naming the epoch, not hours into the run."""
        points = sorted({t for s in self.schedules for t in s.points()})
        times = sorted(set(points) | {(a + b) / 2 for a, b in zip(points, points[1:])})
        for t in times:
            try:
                self.at(clock_at(t))
            except ParameterError as exc:
                raise ParameterError(exc.transform, exc.param, exc.value,
                                     f"{exc.allowed} (the value its schedule takes at epoch {t:g})") from None
            except SpecError as exc:
                raise SpecError(f"at epoch {t:g} of its schedules: {exc}") from None

    def every_step(self) -> list:
        """Every step built (at epoch 0's values), those switched off then too: what target checks look at."""
        if self._every is None:
            self._every = self.build(self.specs, self.kind, self.registry)[3]
        return self._every

    def __getstate__(self) -> dict:  # worker processes get the spec; they rebuild what they need
        return {k: self.__dict__[k] for k in ("specs", "kind", "seed", "targets", "registry", "mixes_labels",
                                              "pipeline_class", "build")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._set_up()


def _remember(cache: OrderedDict, key: Any, value: Any) -> None:
    cache[key] = value
    if len(cache) > _CACHED:
        cache.popitem(last=False)
