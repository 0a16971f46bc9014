"""``augplug gallery``: a static HTML catalog of every installed transform and preset.

For each transform: a grid of the cat photo augmented at its example parameters (the seed shown),
strips of a clip made of the cat (a row per draw: every frame of a copy gets that copy's one draw),
and where it moves targets a grid of the VOC cat with its boxes moved; its parameters with their
allowed values and defaults; its plugin, distribution and version; the one-line spec to copy. One
``index.html`` with its images beside it, readable from disk (no server, no network).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..targets.modes import TargetMode, target_mode
from ..plugins.registry import ParamInfo, PresetInfo, Registry, TransformInfo
from .gallery_page import render_page

ROWS, COLS = 2, 4
CLIP_COPIES = 2
TAIL_STEPS = ("ToTensor", "Normalize")  # shown before these: a normalized tensor is not a picture


@dataclass
class Entry:
    """One card of the gallery."""

    name: str
    plugin: str
    kind: str  # "transform" | "preset"
    spec: str
    doc: str = ""
    summary: str = ""
    distribution: str | None = None
    version: str | None = None
    params: list[dict] = field(default_factory=list)
    images: list[tuple[str, str]] = field(default_factory=list)  # (relative path, caption)
    notes: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class Scene:
    """The pictures every entry is drawn on: the cat, and optionally the VOC cat with its boxes."""

    image: np.ndarray
    voc_image: np.ndarray | None = None
    voc_boxes: np.ndarray | None = None
    voc_names: list[str] | None = None
    clip: np.ndarray | None = None  # (T, H, W, 3): each transform is also shown on it, one draw per copy


def panned_clip(image: np.ndarray, frames: int = 4, short: int = 224) -> np.ndarray:
    """A clip made of ``image``: resized to a ``short`` short side and panned a few pixels each frame."""
    import cv2

    h, w = image.shape[:2]
    size = (int(w * short / h), short) if h <= w else (short, int(h * short / w))
    base = cv2.resize(np.ascontiguousarray(image), size, interpolation=cv2.INTER_AREA)
    step = max(1, base.shape[1] // 40)
    width = base.shape[1] - step * (frames - 1)
    return np.stack([base[:, step * t:step * t + width] for t in range(frames)])


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "item"


def _param_rows(params: Sequence[ParamInfo]) -> list[dict]:
    rows = []
    for p in params:
        if p.kind in ("VAR_POSITIONAL", "VAR_KEYWORD"):
            continue
        declaration = p.declaration
        rows.append({
            "name": p.name,
            "default": "required" if p.required else repr(p.default),
            "allowed": declaration.describe_allowed() if declaration is not None else "",
            "doc": getattr(declaration, "doc", "") or "",
        })
    return rows


def _spec_text(info: TransformInfo, registry: Registry) -> str:
    from ..pipeline.spec import render_spec as _render

    name = info.name if registry.resolves_to(info) else info.qualified_name
    return _render({"name": name, "params": dict(info.example)})


def _shown(pipeline: Any, seed: int, targets: Any = None, strip: bool = True) -> tuple[Any, list[str]]:
    """The pipeline without its trailing ToTensor/Normalize (and which steps were left out)."""
    from ..pipeline.build import build_pipeline

    steps = list(pipeline.transforms)
    dropped = []
    while strip and len(steps) > 1 and type(steps[-1]).__name__ in TAIL_STEPS:
        dropped.insert(0, type(steps.pop()).__name__)
    if not dropped and targets is None:
        return pipeline, dropped
    return build_pipeline(steps, seed=seed, targets=targets), dropped


def _draw(entry: Entry, spec: Any, scene: Scene, seed: int, out_dir: Path, moves_targets: bool,
          registry: Registry, save: Callable[[str, np.ndarray], None], strip: bool = True) -> None:
    from ..pipeline.build import build_pipeline
    from .grid import augmentation_grid

    pipeline, dropped = _shown(build_pipeline(spec, seed=seed, registry=registry), seed, strip=strip)
    tail = f", shown before {', '.join(dropped)}" if dropped else ""
    if not pipeline.clips_only:
        grid = augmentation_grid(scene.image, pipeline, ROWS, COLS)
        path = f"images/{_slug(entry.plugin)}/{_slug(entry.name)}.jpg"
        save(str(out_dir / path), grid)
        entry.images.append((path, f"{ROWS * COLS} draws, seed {seed}{tail}"))
    if scene.clip is not None:
        from .grid import clip_strips

        strips = clip_strips(scene.clip, pipeline.reseed(seed), CLIP_COPIES)
        path = f"images/{_slug(entry.plugin)}/{_slug(entry.name)}-clip.jpg"
        save(str(out_dir / path), strips)
        entry.images.append((path, f"a {len(scene.clip)}-frame clip, {CLIP_COPIES} draws (a row each: one draw for "
                                   f"all its frames), seed {seed}{tail}"))
    if moves_targets and scene.voc_image is not None:
        targeted, _ = _shown(build_pipeline(spec, seed=seed, registry=registry, targets=["boxes"]), seed,
                             targets=["boxes"], strip=strip)
        grid = augmentation_grid(scene.voc_image, targeted, ROWS, COLS, scene.voc_boxes, None, scene.voc_names)
        path = f"images/{_slug(entry.plugin)}/{_slug(entry.name)}-boxes.jpg"
        save(str(out_dir / path), grid)
        entry.images.append((path, f"the VOC cat's boxes moved with it, seed {seed}"))


def _built(info: TransformInfo) -> Any:
    try:
        return info.factory(**info.example) if info.per_sample and not info.nested else None
    except Exception:
        return None


def _moves_boxes(built: Any) -> tuple[bool, str | None]:
    """It moves pixels and can move boxes; or why not (a note for the card)."""
    from ..transforms.base import Transform

    if not isinstance(built, Transform) or target_mode(built) is not TargetMode.GEOMETRIC:
        return False, None
    problem = built.target_problem(("boxes",))
    return problem is None, problem


def transform_entry(info: TransformInfo, registry: Registry, scene: Scene, seed: int, out_dir: Path,
                    save: Callable[[str, np.ndarray], None]) -> Entry:
    from ..plugins.registry import first_doc_line

    doc = (info.factory.__doc__ or "").strip()
    entry = Entry(info.name, info.plugin, "transform", _spec_text(info, registry),
                  doc=doc.split("\n\n")[0].strip() if doc else info.doc, summary=info.doc or first_doc_line(info.factory),
                  distribution=info.distribution, version=info.version, params=_param_rows(info.params))
    if not registry.resolves_to(info):
        entry.notes.append(f"another plugin registers {info.name}: use the qualified name {info.qualified_name}")
    if not info.usable_in("sample"):
        entry.notes.append("works on whole batches only (Mixup, CutMix): used in batch specs, no per-image grid")
        return entry
    from ..transforms.base import HWC, Transform

    built = _built(info)
    moves, problem = _moves_boxes(built)
    if problem:
        entry.notes.append(problem)
    item = [{"name": info.qualified_name, "params": dict(info.example)}]
    if isinstance(built, Transform) and HWC not in built.accepts:  # a tensor transform: after ToTensor
        item.insert(0, "ToTensor")
        entry.spec = f"ToTensor, {entry.spec}"
        entry.notes.append("works on tensors: drawn after ToTensor, rescaled to be seen")
    try:
        _draw(entry, item, scene, seed, out_dir, moves, registry, save, strip=False)
    except Exception as exc:  # shown on its card and counted by the command: never silently left out
        entry.error = f"{type(exc).__name__}: {exc}"
    return entry


def preset_entry(preset: PresetInfo, registry: Registry, scene: Scene, seed: int, out_dir: Path,
                 save: Callable[[str, np.ndarray], None]) -> Entry:
    from ..pipeline.build import build_pipeline

    entry = Entry(preset.name, preset.plugin, "preset", preset.name, doc=preset.doc, summary=preset.doc)
    try:
        pipeline = build_pipeline(preset.name, registry=registry)
        entry.notes.append(f"expands to: {pipeline.to_string()}")
        moves = False
        try:
            pipeline.check_targets(["boxes"])
            moves = any(target_mode(t) is TargetMode.GEOMETRIC for t in pipeline.transforms)
        except Exception:
            pass
        _draw(entry, preset.name, scene, seed, out_dir, moves, registry, save)
    except Exception as exc:
        entry.error = f"{type(exc).__name__}: {exc}"
    return entry


def build_gallery(out_dir: str, scene: Scene, registry: Registry, records: dict, seed: int = 0,
                  plugins: Sequence[str] | None = None, progress: Callable[[str], None] | None = None) -> dict:
    """Write ``out_dir/index.html`` and its images; return counts (entries, errors, seconds).

    Parameters
    ----------
    scene : Scene
        The cat photo, and the VOC cat with its boxes for the transforms that move targets.
    registry : Registry
        The transforms and presets to show.
    records : dict
        ``{plugin name: PluginRecord}`` (distribution and version of each plugin).
    plugins : sequence of str, optional
        Only these plugins' sections.
    """
    from .grid import save_image

    start = time.time()
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)

    def save(path: str, rgb: np.ndarray) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        save_image(path, rgb, quality=82)

    sections: dict[str, list[Entry]] = {}
    for info in registry.transforms(kind=None):
        if plugins and info.plugin not in plugins:
            continue
        if progress:
            progress(f"{info.qualified_name}")
        sections.setdefault(info.plugin, []).append(transform_entry(info, registry, scene, seed, out, save))
    for preset in registry.presets():
        if plugins and preset.plugin not in plugins:
            continue
        sections.setdefault(preset.plugin, []).append(preset_entry(preset, registry, scene, seed, out, save))
    order = sorted(sections, key=lambda p: (p != "builtin", p))
    described = []
    for plugin in order:
        record = records.get(plugin)
        described.append({
            "plugin": plugin,
            "distribution": getattr(record, "distribution", None) or ("gluon-augplug" if plugin == "builtin" else None),
            "version": getattr(record, "version", None),
            "entries": sections[plugin],
        })
    errors = [e for entries in sections.values() for e in entries if e.error]
    page = render_page(described, seed=seed, has_boxes=scene.voc_image is not None, draws=ROWS * COLS)
    (out / "index.html").write_text(page, encoding="utf-8")
    return {"entries": sum(len(v) for v in sections.values()), "errors": errors, "seconds": time.time() - start,
            "path": str(out / "index.html")}
