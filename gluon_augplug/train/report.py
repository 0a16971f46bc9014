"""D2L's with/without-augmentation experiment: one run per named augmentation, then a report.

Writes ``report.md`` (a table per configuration), ``curves.png`` (train/test accuracy per
epoch) and ``grid-<name>.png`` (augmented training samples of each configuration).
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import re
from typing import Callable, Iterable

import numpy as np

from ..visual.grid import make_grid, save_png
from ..pipeline.build import build_pipeline
from .. import _files
from .._locks import acquire
from .checkpoint import LOCK, run_files, write_text
from .config import ConfigError, TrainConfig
from .loop import Run

# a configuration's name becomes a folder under --out: a plain name, never a path
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_REPORT_FILES = ("report.md", "curves.png", LOCK)


def parse_aug(text: str) -> tuple[str, str]:
    """``name=spec`` (``flip="RandomFlipLeftRight, ToTensor"``) -> (name, spec).

    Raises
    ------
    ConfigError
        No ``=``, an empty part, or a name that is not a plain folder name.
    """
    name, sep, spec = text.partition("=")
    name, spec = name.strip(), spec.strip()
    if not sep or not name or not spec:
        raise ConfigError(f"--aug takes NAME=SPEC (e.g. flip='RandomFlipLeftRight, ToTensor'), got {text[:200]!r}")
    if not _NAME.match(name):
        raise ConfigError(f"--aug name {name[:80]!r} must be a plain name of letters, digits, '_', '-' or '.' "
                          f"(at most 64, starting with a letter or digit): it names a folder under --out")
    if name in _REPORT_FILES or name.startswith("grid-"):
        raise ConfigError(f"--aug name {name!r} is the name of a file the report writes under --out "
                          f"({', '.join(_REPORT_FILES)}, grid-NAME.png): pick another")
    return name, spec


def parse_augs(texts: Iterable[str]) -> dict[str, str]:
    """Several ``NAME=SPEC`` items; a repeated name is an error, not a silently dropped configuration."""
    augs: dict[str, str] = {}
    for text in texts:
        name, spec = parse_aug(text)
        if name in augs:
            raise ConfigError(f"--aug name {name!r} is given twice ({augs[name]!r} and {spec!r}): "
                              f"each configuration needs its own name")
        augs[name] = spec
    return augs


def compare(base: TrainConfig, augs: dict[str, str], out: str, log: Callable[[str], None] = print,
            overwrite: bool = False) -> dict:
    """Train ``base`` once per augmentation (everything else equal: seed, initial weights, data).

    A configuration whose folder ``out/NAME`` already holds a run is refused before any
    training starts, unless ``overwrite``.
    """
    if not augs:
        raise ConfigError("compare needs at least one --aug NAME=SPEC")
    for name in augs:
        if not _NAME.match(name):
            raise ConfigError(f"configuration name {name[:80]!r} must be a plain name (it names a folder)")
    for spec in augs.values():
        build_pipeline(spec)  # every spec is checked before hours of training start
    os.makedirs(out, exist_ok=True)
    created = [os.path.join(out, name) for name in augs if not os.path.isdir(os.path.join(out, name))]
    try:
        return _compare_locked(base, augs, out, log, overwrite)
    except BaseException:
        for folder in created:  # made to hold a lock: a refused or failed comparison leaves no empty folder
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        raise


def _compare_locked(base: TrainConfig, augs: dict[str, str], out: str, log: Callable[[str], None],
                    overwrite: bool) -> dict:
    with contextlib.ExitStack() as held:  # the report and every configuration's folder: one writer each
        held.enter_context(acquire(os.path.join(out, LOCK), f"the comparison folder {out!r}"))
        locks = {}
        for name in augs:
            folder = os.path.join(out, name)
            os.makedirs(folder, exist_ok=True)
            locks[name] = held.enter_context(acquire(os.path.join(folder, LOCK), f"the run folder {folder!r}"))
        taken = [name for name in augs if run_files(os.path.join(out, name))]
        if taken and not overwrite:
            raise ConfigError(f"{out!r} already holds the run(s) {', '.join(taken)}; pick another --out or "
                              f"replace them with --overwrite")
        results = {}
        for name, spec in augs.items():
            log(f"== {name}: {spec}")
            run = Run(dataclasses.replace(base, train_aug=spec, out=os.path.join(out, name), resume=None,
                                          overwrite=overwrite), log, lock=locks[name])
            try:
                results[name] = {"spec": run.train_pipeline.to_string(), "history": run.fit()}
                save_png(os.path.join(out, f"grid-{name}.png"), sample_grid(run))
            finally:
                run.close()
        write_report(base, results, out)
        plot_curves(results, os.path.join(out, "curves.png"))
    log(f"report: {os.path.join(out, 'report.md')}")
    return results


def sample_grid(run: Run, rows: int = 2, cols: int = 8, scale: int = 3) -> np.ndarray:
    """The chapter's figure for a data set: training images from across the set (so every class shows),
    augmented as the run saw them in its last epoch."""
    picks = np.linspace(0, len(run.train_set) - 1, rows * cols).astype(int)
    images = [run.train_set[int(i)][0] for i in picks]
    images = [np.asarray(im.asnumpy() if hasattr(im, "asnumpy") else im) for im in images]
    grid = make_grid(images, rows, cols, gap=2)
    return np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)


def summary(history: list[dict]) -> dict:
    best = max(history, key=lambda r: r["test_acc"])
    total = sum(r["time"] for r in history)
    return {
        "final_test_acc": history[-1]["test_acc"], "best_test_acc": best["test_acc"], "best_epoch": best["epoch"],
        "train_acc": history[-1]["train_acc"], "loss": history[-1]["loss"], "time": total,
        "samples_per_sec": sum(r["samples"] for r in history) / total,
        "data_wait_share": sum(r["data_wait"] for r in history) / total,
    }


def write_report(base: TrainConfig, results: dict, out: str) -> None:
    lines = [
        "# Training with and without image augmentation",
        "",
        f"Model `{base.model}`, optimizer {base.optimizer} (lr {base.lr}), batch {base.batch_size}, "
        f"{base.epochs} epochs, seed {base.seed}, data `{base.data}`"
        + (f" (stratified subset: {base.train_limit} training images)" if base.train_limit else "")
        + (f", {base.test_limit} test images" if base.test_limit else "") + ".",
        "Every configuration starts from the same initial weights and sees the same images in the same order.",
        "",
        "| configuration | train augmentation | final test acc | best test acc (epoch) | train acc | loss | "
        "time (s) | samples/s | data wait |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, result in results.items():
        s = summary(result["history"])
        lines.append(f"| {name} | `{result['spec']}` | {s['final_test_acc']:.3f} | {s['best_test_acc']:.3f} "
                     f"({s['best_epoch']}) | {s['train_acc']:.3f} | {s['loss']:.3f} | {s['time']:.0f} | "
                     f"{s['samples_per_sec']:.0f} | {100 * s['data_wait_share']:.1f}% |")
    lines += ["", "![accuracy per epoch](curves.png)", ""]
    lines += [f"![{name}](grid-{name}.png)" for name in results]
    # atomically: a reader never sees half a report, and a link planted at its name is replaced, not written through
    _files.atomic_write(os.path.join(out, "report.md"), write_text("\n".join(lines) + "\n"))


def plot_curves(results: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for name, result in results.items():
        epochs = [r["epoch"] for r in result["history"]]
        line, = axes[0].plot(epochs, [r["train_acc"] for r in result["history"]], marker="o", label=name)
        axes[1].plot(epochs, [r["test_acc"] for r in result["history"]], marker="o", color=line.get_color(),
                     label=name)
    for ax, title in zip(axes, ("train accuracy", "test accuracy")):
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    _files.atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100, format="png"))
    plt.close(fig)
