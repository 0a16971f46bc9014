"""Classification accuracy with and without test-time views, side by side: ``augplug train --tta`` at each epoch's
test step, and ``augplug evaluate`` on a saved network."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from .._optional import require_mxnet
from ..errors import AugplugError, brief
from ..tta import TTA, ViewError, black_of, get_views
from .config import ConfigError

mx = require_mxnet("gluon_augplug.train (evaluation with test-time views)")
gluon = mx.gluon


def check_views(specs: Sequence[str], option: str = "--tta", hw: Any = None) -> list[str]:
    """The view specs of ``--tta``, each built once to refuse a bad one before any work (:class:`ConfigError`
    naming it and why); with ``hw``, the test images' (height, width), also the views of that size (a crop
    larger than the images)."""
    if isinstance(specs, str):
        specs = [specs]
    out = []
    for spec in specs:
        if not isinstance(spec, str) or not spec.strip():
            raise ConfigError(f"{option} {spec!r}: expected a view set or spec such as flip or 'ten-crop(32, pad=4)'")
        try:
            views = get_views(spec)
            if hw is not None:
                views.leaves((int(hw[0]), int(hw[1])))
        except ViewError as exc:
            raise ConfigError(f"{option} {brief(spec, 80)}: {exc}") from None
        out.append(spec)
    return out


@dataclass
class ViewsAccuracy:
    """Accuracy of one network on one split: as it is and through each set of views."""

    accuracy: float
    with_views: dict = field(default_factory=dict)  # spec -> accuracy
    passes: dict = field(default_factory=dict)  # spec -> forward passes per image
    images: int = 0
    seconds: dict = field(default_factory=dict)  # "none" and each spec -> seconds spent

    def line(self) -> str:
        """``test acc 0.842 (flip 0.851, ten-crop(32, pad=4) 0.860)``"""
        extra = ", ".join(f"{spec} {acc:.3f}" for spec, acc in self.with_views.items())
        return f"test acc {self.accuracy:.3f}" + (f" ({extra})" if extra else "")


def accuracy_with_views(net: Callable, loader: Any, split: Callable, specs: Sequence[str] = (),
                        pad_value: Any = 0.0) -> ViewsAccuracy:
    """One pass over ``loader``: the accuracy of ``net`` alone and with each spec's views, on the same batches.

    Parameters
    ----------
    net : HybridBlock or callable
        Class scores of a batch (N, K).
    loader : iterable of (data, label)
    split : callable
        ``split(data, label) -> (datas, labels)`` over the devices (``split_and_load``).
    specs : sequence of str
        View sets or specs (:func:`gluon_augplug.tta.get_views`), merged by the mean of probabilities.
    pad_value : float or sequence
        What a view puts where it brings pixels from outside the image (:func:`black_of`: a black pixel after the
        test augmentation, as the training crops pad).
    """
    wrappers = {spec: TTA(net, spec, pad_value=pad_value) for spec in specs}
    correct = {spec: 0.0 for spec in ["none", *wrappers]}
    seconds = {spec: 0.0 for spec in correct}
    passes: dict = {}
    seen = 0
    for data, label in loader:
        datas, labels = split(data, label)
        for x, y in zip(datas, labels):
            tick = time.perf_counter()
            correct["none"] += float((net(x).argmax(axis=1) == y).sum().asscalar())
            seconds["none"] += time.perf_counter() - tick
            for spec, wrapper in wrappers.items():
                tick = time.perf_counter()
                result = wrapper.predict(x)
                correct[spec] += float((result.output.argmax(axis=1) == y).sum().asscalar())
                seconds[spec] += time.perf_counter() - tick
                passes[spec] = result.views
        seen += int(data.shape[0])
    seen = max(seen, 1)
    return ViewsAccuracy(correct["none"] / seen, {s: correct[s] / seen for s in wrappers}, passes, seen, seconds)


def _net_from_run(params: str) -> tuple[dict, str]:
    """The saved settings of the run that wrote ``params`` (a run folder, or a file in one), and the file."""
    from .checkpoint import load_checkpoint

    folder = params if os.path.isdir(params) else os.path.dirname(os.path.abspath(params))
    record: dict = {}
    if os.path.isfile(os.path.join(folder, "checkpoint.json")):
        record = load_checkpoint(folder)
    if os.path.isdir(params):
        if not record:
            raise ConfigError(f"--params {params!r} is a folder without checkpoint.json: give the .params file "
                              f"(and --model, --classes)")
        params = os.path.join(folder, record["params"])
    if not os.path.isfile(params):
        raise ConfigError(f"--params {params!r}: no such file")
    return record.get("config", {}), params


def evaluate_saved(params: str, data: str | None = None, val_data: str | None = None, model: str | None = None,
                   classes: int | None = None, test_aug: Any = None, test_limit: int | None = None,
                   batch_size: int | None = None, ctx: Any = None, specs: Sequence[str] = ("flip",), seed: int | None = None,
                   log: Callable[[str], None] = print) -> ViewsAccuracy:
    """The accuracy of a saved network with and without views (``augplug evaluate``).

    ``params`` is a ``.params`` file or a run folder of ``augplug train``; what is not given (model, test
    augmentation, data, the test subset and its seed, the batch size) comes from that run's ``checkpoint.json`` when there is one;
    the class count from the weights. Views pad with a black pixel as the test augmentation makes it
    (:func:`black_of`).
    """
    from ..data.augment import augment
    from ..data.batchify import checked_batchify
    from ..data.datasets import open_dataset, stratified_indices
    from ..data.loader import BatchLoader
    from ..data.streaming import open_split
    from ..pipeline.build import build_pipeline
    from ..randomness import derived_seed
    from .models import get_model

    specs = check_views(list(specs))
    saved, params = _net_from_run(params)
    model = model or saved.get("model")
    data = data or saved.get("data")
    val_data = val_data if val_data is not None else saved.get("val_data")
    test_aug = test_aug if test_aug is not None else saved.get("test_aug", "d2l-none")
    test_limit = test_limit if test_limit is not None else saved.get("test_limit")
    seed = seed if seed is not None else saved.get("seed", 0)
    batch_size = batch_size or saved.get("batch_size") or 128
    if not model:
        raise ConfigError("--model is needed: the .params file is not in a run folder with checkpoint.json")
    if not data and not val_data:
        raise ConfigError("--data is needed: the .params file is not in a run folder that names its data")
    if val_data:
        split = open_split(val_data, encoded=True)
        split.check_class_labels()
        if test_limit is not None:
            split = split.subset(stratified_indices(split.labels, test_limit, derived_seed(seed, "dataset", 1)))
    else:
        split = open_dataset(data, "test", test_limit, seed=derived_seed(seed, "dataset", 1))
    pipeline = build_pipeline(test_aug)
    if pipeline.output_layout() != "CHW":
        raise ConfigError(f"--test-aug {brief(pipeline.to_string(), 80)} ends in {pipeline.output_layout()} images; "
                          f"the network takes float CHW tensors: end it with ToTensor (and Normalize)")
    test_set = augment(split, pipeline, seed=derived_seed(seed, "test-augment"))
    check_views(specs, hw=test_image_hw(test_set))
    if val_data:
        loader: Any = BatchLoader(test_set, batch_size)
    else:
        loader = gluon.data.DataLoader(test_set, batch_size, shuffle=False, last_batch="keep",
                                       batchify_fn=checked_batchify(0, "the test set"))
    contexts = _contexts(ctx)
    n_classes = classes or _classes_in(params) or len(split.classes)
    net = get_model(model, classes=n_classes)
    try:
        net.load_parameters(params, ctx=contexts)
    except (AssertionError, mx.base.MXNetError, ValueError) as exc:
        raise AugplugError(f"{params}: not the weights of {model} with {n_classes} classes ({brief(str(exc), 200)}); "
                           f"give --model and --classes as it was trained") from None
    net.hybridize()

    def split_batch(x: Any, y: Any) -> tuple[list, list]:
        parts = contexts[: max(1, min(len(contexts), x.shape[0]))]
        return (gluon.utils.split_and_load(x, parts, even_split=False),
                gluon.utils.split_and_load(y.astype("float32"), parts, even_split=False))

    log(f"evaluating {model} ({os.path.basename(params)}) on {len(test_set)} images of "
        f"{val_data or data} on {', '.join(map(str, contexts))}; test aug: {pipeline.to_string()}")
    result = accuracy_with_views(net, loader, split_batch, specs, pad_value=black_of(pipeline))
    log(result.line())
    return result


def test_image_hw(test_set: Any) -> tuple[int, int] | None:
    """The (height, width) of the first test image as the network gets it (None for an empty set)."""
    if not len(test_set):
        return None
    image = test_set[0][0]
    return int(image.shape[-2]), int(image.shape[-1])


def _classes_in(params: str) -> int | None:
    """The class count of a saved classifier: the rows of its last 2-D weight (the output layer)."""
    try:
        arrays = mx.nd.load(params)
    except mx.base.MXNetError as exc:
        raise AugplugError(f"{params} is not an MXNet parameter file ({brief(str(exc), 160)})") from None
    weights = [v for k, v in (arrays.items() if isinstance(arrays, dict) else []) if k.endswith("weight") and v.ndim == 2]
    return int(weights[-1].shape[0]) if weights else None


def _contexts(ctx: Any) -> list:
    if ctx is None:
        return [mx.cpu()]
    if isinstance(ctx, (list, tuple)):
        return list(ctx)
    out = []
    for part in str(ctx).split(","):
        kind, _, index = part.strip().partition(":")
        if kind not in ("cpu", "gpu") or not (index or "0").isdigit():
            raise ConfigError(f"--ctx {ctx!r}: expected devices such as cpu:0,cpu:1 or gpu:0")
        out.append(getattr(mx, kind)(int(index or 0)))
    return out


def table(result: ViewsAccuracy) -> str:
    """A markdown table: views, forward passes per image, accuracy, change, time per image."""
    rows = ["| views | passes | accuracy | change | ms per image |", "|---|---:|---:|---:|---:|"]
    per_image = 1000.0 / max(result.images, 1)
    rows.append(f"| none | 1 | {result.accuracy:.4f} | | {result.seconds.get('none', 0) * per_image:.2f} |")
    for spec, acc in result.with_views.items():
        rows.append(f"| {spec} | {result.passes.get(spec, '?')} | {acc:.4f} | {acc - result.accuracy:+.4f} | "
                    f"{result.seconds.get(spec, 0) * per_image:.2f} |")
    return "\n".join(rows)
