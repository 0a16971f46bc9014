"""Views of an input for test-time augmentation: a tree of geometric maps, built by name or from a spec.

A :class:`View` is one node: its ``geometry(in_hw)`` gives the 3x3 forward map (pixel edges, the one geometry of
every transform) from its parent's frame to its own, and the size of its own frame. A leaf is one forward pass
of the network; an inner node merges its children's outputs in its own frame (``reduce``), which is how
GluonCV's ``MultiEvalModel`` averages the tiles of one scale before resizing their scores back.

Named view sets (:func:`get_views`, ``augplug views``): ``identity``, ``flip``, ``vflip``, ``five-crop``,
``ten-crop``, ``three-crop``, ``multi-scale``, ``multi-eval``, ``sliding-window``, ``random``. Any deterministic
pipeline of built-in or plugin transforms is a view too (:func:`spec_view`): its steps' ``geometry()`` maps,
composed.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ..contract import hook
from ..errors import AugplugError, SpecSyntaxError, UnknownTransformError, brief, closest_names
from ..targets.geometry import flip_matrix, scale_matrix
from ..targets.modes import TargetMode, overrides, target_mode

Geometry = Callable[[tuple], tuple]  # in_hw -> (3x3 forward map, out_hw)
REDUCES = ("mean", "sum", "max", "gmean", "first", "exp-sum")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ViewError(AugplugError, ValueError):
    """A view that cannot be built or undone: an unknown name, a bad parameter, a random step without a seed, a
    step that moves pixels without a map, an input smaller than a crop."""


@dataclass
class View:
    """One node of a view tree.

    Parameters
    ----------
    name : str
        What it is, for listings and errors (``"flip"``, ``"crop top-left 224x224"``).
    geometry : callable
        ``geometry(in_hw) -> (matrix, out_hw)``: the 3x3 forward map (pixel edges) from the parent's frame to this
        view's, and this view's size.
    children : sequence of View, or callable
        The views of this view (or ``children(hw)`` for views that depend on the size: a sliding window's tiles).
        None: a leaf, one forward pass.
    reduce : str, optional
        How the children's outputs merge in this view's frame: ``mean``, ``sum``, ``max``, ``gmean``, ``first``
        or ``exp-sum`` (GluonCV's flip inference: summed logits, exponentiated). None: the wrapper's ``merge``.
    fill : float or sequence, optional
        The value of pixels the map brings from outside the input (one per channel allowed); None: the
        wrapper's ``pad_value``.
    """

    name: str
    geometry: Geometry
    children: Any = None
    reduce: str | None = None
    fill: Any = None
    raw_outputs: bool = False  # the tree reproduces code that merges raw logits (no activation first)
    meta: dict = field(default_factory=dict)

    def children_for(self, hw: tuple[int, int]) -> list["View"]:
        if self.children is None:
            return []
        return list(self.children(hw) if callable(self.children) else self.children)

    def leaves(self, hw: tuple[int, int]) -> list[tuple["View", np.ndarray, tuple[int, int]]]:
        """Every leaf under this node for an input of ``hw``: (leaf, the composed map from this node's parent's
        frame, the leaf's size)."""
        matrix, out_hw = self.geometry(hw)
        kids = self.children_for(out_hw)
        if not kids:
            return [(self, np.asarray(matrix, np.float64), out_hw)]
        return [(leaf, m @ matrix, o) for kid in kids for leaf, m, o in kid.leaves(out_hw)]

    def describe(self, hw: tuple[int, int] | None = None) -> str:
        """The tree as indented lines (sizes too, for an input of ``hw``)."""
        lines: list[str] = []

        def walk(node: View, depth: int, at: tuple[int, int] | None) -> None:
            size = ""
            out = None
            if at is not None:
                _, out = node.geometry(at)
                size = f" -> {out[0]}x{out[1]}"
            how = f" [{node.reduce}]" if node.children is not None and node.reduce else ""
            lines.append(f"{'  ' * depth}{node.name}{size}{how}")
            for kid in node.children_for(out) if out is not None else (
                    node.children if isinstance(node.children, (list, tuple)) else []):
                walk(kid, depth + 1, out)

        walk(self, 0, hw)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"View({self.name!r})"


# -- maps ------------------------------------------------------------------------------------------------------
def _identity(hw: tuple) -> tuple:
    return np.eye(3), (int(hw[0]), int(hw[1]))


def _shift(x0: float, y0: float) -> np.ndarray:
    return np.array([[1.0, 0, -x0], [0, 1.0, -y0], [0, 0, 1.0]])


def identity(name: str = "identity", children: Any = None, reduce: str | None = None, **kw: Any) -> View:
    """The input as it is (a leaf, or the root of a set of views)."""
    return View(name, _identity, children, reduce, **kw)


def hflip() -> View:
    """A horizontal mirror."""
    return View("flip", lambda hw: (flip_matrix(hw, True), (int(hw[0]), int(hw[1]))))


def vflip() -> View:
    """A vertical mirror."""
    return View("vflip", lambda hw: (flip_matrix(hw, False), (int(hw[0]), int(hw[1]))))


def _size(size: Any, what: str) -> tuple[int, int]:
    """(height, width) from one number or a pair (as the crops of GluonCV take them: (width, height))."""
    values = [size] if isinstance(size, (int, float, np.integer)) else list(size) if isinstance(size, (list, tuple)) \
        else None
    if not values or len(values) > 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                                and 0 < v <= 65536 for v in values):
        raise ViewError(f"{what}: size must be a whole number of pixels 1-65536 or (width, height), got {size!r}")
    w, h = (values[0], values[0]) if len(values) == 1 else values
    return int(h), int(w)


CORNERS = ("center", "top-left", "bottom-left", "top-right", "bottom-right")


def _pad(pad: Any, what: str) -> int:
    if isinstance(pad, bool) or not isinstance(pad, (int, np.integer)) or not 0 <= pad <= 4096:
        raise ViewError(f"{what}: pad must be a whole number of pixels 0-4096, got {pad!r}")
    return int(pad)


def crop(where: str, size: Any, pad: int = 0) -> View:
    """A crop of ``size`` at ``where`` (``center``, ``top-left``, ``bottom-left``, ``top-right``, ``bottom-right``),
    at GluonCV's ``ten_crop`` offsets, of the input padded by ``pad`` pixels on every side (CIFAR's ``RandomCrop(32,
    pad=4)`` seen at its corners)."""
    oh, ow = _size(size, "crop")
    pad = _pad(pad, "crop")
    if where not in CORNERS:
        raise ViewError(f"crop: where must be one of {', '.join(CORNERS)}, got {where!r}")

    def geometry(hw: tuple) -> tuple:
        h, w = int(hw[0]) + 2 * pad, int(hw[1]) + 2 * pad
        if h < oh or w < ow:
            padded = f" (padded by {pad})" if pad else ""
            raise ViewError(f"crop {where} {ow}x{oh} (width x height) of an input of {w}x{h}{padded}: the input is "
                            f"smaller than the crop; resize it first (e.g. --test-aug 'Resize({max(oh, ow)}), ...')")
        y0 = {"center": (h - oh) // 2, "top-left": 0, "top-right": 0}.get(where, h - oh)
        x0 = {"center": (w - ow) // 2, "top-left": 0, "bottom-left": 0}.get(where, w - ow)
        return _shift(x0 - pad, y0 - pad), (oh, ow)

    return View(f"crop {where} {ow}x{oh}" + (f" of the input padded by {pad}" if pad else ""), geometry)


def _flipped(view: View) -> View:
    def geometry(hw: tuple) -> tuple:
        matrix, out_hw = view.geometry(hw)
        return flip_matrix(out_hw, True) @ matrix, out_hw

    return View(f"{view.name} flipped", geometry)


def five_crop(size: Any = 224, pad: int = 0) -> View:
    """The centre and the four corners (GluonCV's ``ten_crop`` order without the mirrors), of the input padded by
    ``pad``."""
    return identity("five-crop", [crop(w, size, pad) for w in CORNERS])


def ten_crop(size: Any = 224, pad: int = 0) -> View:
    """GluonCV's ``ten_crop`` / ``VideoTenCrop``: centre, top-left, bottom-left, top-right, bottom-right, then the
    same five mirrored (of the input padded by ``pad``). A pair is (width, height), as the image ``ten_crop`` takes
    it (``VideoTenCrop`` reads (height, width))."""
    crops = [crop(w, size, pad) for w in CORNERS]
    return identity("ten-crop", crops + [_flipped(c) for c in crops])


def three_crop(size: Any = 224) -> View:
    """GluonCV's ``VideoThreeCrop``: three crops along the long side (left, right, middle; or top, bottom,
    middle). The short side must equal the crop's. A pair is (height, width), as ``VideoThreeCrop`` takes it."""
    tw, th = _size(size, "three-crop")  # (height, width), as VideoThreeCrop reads its size

    def at(k: int) -> View:
        def geometry(hw: tuple) -> tuple:
            h, w = int(hw[0]), int(hw[1])
            if th == h and tw <= w:
                step = (w - tw) // 2
                return _shift((0, 2 * step, step)[k], 0), (th, tw)
            if tw == w and th <= h:
                step = (h - th) // 2
                return _shift(0, (0, 2 * step, step)[k]), (th, tw)
            raise ViewError(f"three-crop {tw}x{th} of an input of {w}x{h}: its short side must equal the crop's "
                            f"(resize the short side to {min(th, tw)} first, as GluonCV's VideoThreeCrop needs)")
        return View(f"crop {('start', 'end', 'middle')[k]} {tw}x{th}", geometry)

    return identity("three-crop", [at(k) for k in range(3)])


def _check_scales(scales: Any) -> list[float]:
    values = list(scales) if isinstance(scales, (list, tuple)) else [scales]
    if not values or not all(isinstance(s, (int, float)) and not isinstance(s, bool) and 0 < s <= 16 for s in values):
        raise ViewError(f"scales: a list of numbers in (0, 16], got {scales!r}")
    return [float(s) for s in values]


def _tile_map(x0: int, y0: int, crop_size: int) -> Geometry:
    def geometry(hw: tuple) -> tuple:
        return _shift(x0, y0), (crop_size, crop_size)
    return geometry


def _tiles(crop_size: int, stride: int, leaves: Callable[[], Any], reduce: str | None) -> Callable[[tuple], list]:
    """The sliding window over a frame of at least ``crop_size`` on each side: GluonCV's grid (stride ``stride``,
    the last tile at the edge cut by the frame and padded back to the crop)."""
    def tiles(hw: tuple) -> list:
        ph, pw = int(hw[0]), int(hw[1])
        rows = int(math.ceil(1.0 * (ph - crop_size) / stride)) + 1
        cols = int(math.ceil(1.0 * (pw - crop_size) / stride)) + 1
        out = []
        for i in range(rows):
            for j in range(cols):
                y0, x0 = i * stride, j * stride
                out.append(View(f"tile ({y0}, {x0}) {crop_size}x{crop_size}", _tile_map(x0, y0, crop_size),
                                leaves(), reduce))
        return out
    return tiles


def _flip_leaves(flip: bool) -> list:
    return [identity("as is"), hflip()] if flip else [identity("as is")]


def _window_stride(name: str, crop_size: Any, stride_rate: Any, flip: Any) -> int:
    """The sliding window's stride in pixels, its settings checked."""
    if not isinstance(crop_size, int) or isinstance(crop_size, bool) or not 1 <= crop_size <= 65536:
        raise ViewError(f"{name}: crop_size must be a whole number of pixels 1-65536, got {crop_size!r}")
    if isinstance(stride_rate, bool) or not isinstance(stride_rate, (int, float)) or not 0 < stride_rate <= 1:
        raise ViewError(f"{name}: stride_rate must be in (0, 1], got {stride_rate!r}")
    if not isinstance(flip, bool):
        raise ViewError(f"{name}: flip must be True or False, got {flip!r}")
    return max(1, int(crop_size * stride_rate))


def _scaled(base_size: int, crop_size: int, scale: float, stride: int, flip: bool, gluoncv: bool) -> View:
    """One scale of MultiEvalModel: the long side resized to ceil(base_size * scale), padded to the crop, then one
    pass (with its mirror) or a sliding window of crops."""
    long_size = int(math.ceil(base_size * scale))
    pair = "exp-sum" if gluoncv else None

    def geometry(hw: tuple) -> tuple:
        h, w = int(hw[0]), int(hw[1])
        if h > w:
            height, width = long_size, int(1.0 * w * long_size / h + 0.5)
        else:
            width, height = long_size, int(1.0 * h * long_size / w + 0.5)
        if min(height, width) < 1:
            raise ViewError(f"scale {scale:g} of an input of {w}x{h} (width x height): its short side rounds to "
                            f"{min(height, width)} pixels at a long side of {long_size}; use larger scales or "
                            f"base_size")
        return scale_matrix((h, w), (height, width)), (max(height, crop_size), max(width, crop_size))

    if long_size <= crop_size:
        return View(f"scale {scale:g} (long side {long_size})", geometry, _flip_leaves(flip), pair)
    return View(f"scale {scale:g} (long side {long_size})", geometry,
                _tiles(crop_size, stride, lambda: _flip_leaves(flip), pair), "mean")


def multi_scale(base_size: int = 520, crop_size: int = 480, scales: Any = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75),
                flip: bool = True, stride_rate: float = 2.0 / 3.0, mean: Any = None, std: Any = None) -> View:
    """GluonCV's segmentation evaluation views: each scale's long side at ``ceil(base_size * scale)``, padded to
    ``crop_size``, tiled by a sliding window with stride ``stride_rate * crop_size`` when larger, each tile and its
    mirror; merged by the wrapper's ``merge`` (the mean of probabilities by default). The padding is the wrapper's
    ``pad_value``, or with ``mean`` and ``std`` (the input's normalization) a black pixel, ``-mean / std``, as
    GluonCV pads."""
    return _multi(base_size, crop_size, scales, flip, stride_rate, mean, std, gluoncv=False)


def multi_eval(base_size: int = 520, crop_size: int = 480, scales: Any = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75),
               flip: bool = True, stride_rate: float = 2.0 / 3.0, mean: Any = IMAGENET_MEAN,
               std: Any = IMAGENET_STD) -> View:
    """``multi-scale`` with ``MultiEvalModel``'s arithmetic, for results equal to GluonCV's: a tile's logits and
    its mirror's summed and exponentiated, the tiles averaged, the scales' scores summed (not probabilities:
    the network's raw outputs)."""
    return _multi(base_size, crop_size, scales, flip, stride_rate, mean, std, gluoncv=True)


def _multi(base_size: Any, crop_size: Any, scales: Any, flip: Any, stride_rate: Any, mean: Any, std: Any,
           gluoncv: bool) -> View:
    name = "multi-eval" if gluoncv else "multi-scale"
    if not isinstance(base_size, int) or isinstance(base_size, bool) or not 1 <= base_size <= 65536:
        raise ViewError(f"{name}: base_size must be a whole number of pixels 1-65536, got {base_size!r}")
    stride = _window_stride(name, crop_size, stride_rate, flip)
    fill = None
    if mean is not None or std is not None:
        mean_a, std_a = np.asarray(mean, np.float64), np.asarray(std, np.float64)
        if mean is None or std is None or mean_a.shape != std_a.shape or mean_a.ndim != 1 or (std_a <= 0).any():
            raise ViewError(f"{name}: mean and std must both be given, of one length (one per channel), std > 0")
        fill = tuple(-mean_a / std_a)
    nodes = [_scaled(base_size, crop_size, s, stride, bool(flip), gluoncv) for s in _check_scales(scales)]
    return identity(name, nodes, "sum" if gluoncv else None, fill=fill, raw_outputs=gluoncv)


def sliding_window(crop_size: int = 480, stride_rate: float = 2.0 / 3.0, flip: bool = False, pad_value: Any = None) -> View:
    """Tiles of ``crop_size`` over an input larger than the crop (stride ``stride_rate * crop_size``; an input
    smaller on a side is padded to it), averaged where they overlap."""
    stride = _window_stride("sliding-window", crop_size, stride_rate, flip)

    def padded(hw: tuple) -> tuple:
        return np.eye(3), (max(int(hw[0]), crop_size), max(int(hw[1]), crop_size))

    window = View("padded to the crop", padded, _tiles(crop_size, stride, lambda: _flip_leaves(bool(flip)), None),
                  "mean", fill=pad_value)
    return identity("sliding-window", [window], fill=pad_value)


# -- views from pipelines ------------------------------------------------------------------------------------------
def _leaf_transforms(transform: Any) -> list:
    children = getattr(transform, "transforms", None)
    if isinstance(children, (list, tuple)) and type(transform).__name__ != "Pipeline":
        return [t for child in children for t in _leaf_transforms(child)]
    return [transform]


def _undoable(step: Any) -> str | None:
    """Why a step cannot be part of a view, or None."""
    name = getattr(step, "spec_name", type(step).__name__)
    mode = target_mode(step)
    if mode is TargetMode.PIXEL:
        return (f"{name} changes pixel values, not positions: views run on the network's input tensors and only move "
                f"pixels; put it in the evaluation transform (--test-aug) instead")
    if mode is not TargetMode.GEOMETRIC or not overrides(step, "geometry"):
        return (f"{name} moves pixels without a geometry() map (target mode {mode.value}), so its outputs cannot be "
                f"mapped back; only steps with a 3x3 geometry() can be views")
    if not hook(step, "pixels_follow_geometry"):
        return (f"{name} changes more than its geometry() map says (colour operations or a fill: "
                f"pixels_follow_geometry is False), and a view only moves pixels")
    return None


class _MapRecorder:
    """A stand-in for the target state that composes each step's ``geometry()`` instead of moving targets."""

    def __init__(self, hw: tuple[int, int]):
        self.hw = (int(hw[0]), int(hw[1]))
        self.matrix = np.eye(3)

    def kinds(self) -> list:
        return []

    def view(self) -> np.ndarray:
        return np.zeros((0, 4))

    def flush(self) -> None:
        pass

    boxes = None
    keypoints = None
    masks = None
    polygons = None

    def step(self, transform: Any, params: dict, in_hw: tuple, out_hw: tuple, matrix: Any = None) -> None:
        problem = _undoable(transform)
        if problem:
            raise ViewError(f"this view cannot be undone: {problem}")
        forward = np.asarray(transform.geometry(params, tuple(in_hw), tuple(out_hw)) if matrix is None else matrix,
                             np.float64)
        name = getattr(transform, "spec_name", type(transform).__name__)
        if forward.shape != (3, 3) or not np.all(np.isfinite(forward)):
            raise ViewError(f"this view cannot be undone: {name}'s geometry() gave {np.round(forward, 4).tolist()}, not "
                            f"a finite 3x3 map")
        if not np.allclose(forward[2], (0.0, 0.0, 1.0)):
            raise ViewError(f"this view cannot be undone: {name}'s geometry() is projective (last row "
                            f"{np.round(forward[2], 4).tolist()}); views undo affine maps only")
        if abs(forward[0, 0] * forward[1, 1] - forward[0, 1] * forward[1, 0]) < 1e-9:
            raise ViewError(f"this view cannot be undone: {name}'s geometry() is singular (it collapses the image "
                            f"onto a line: {np.round(forward[:2], 4).tolist()})")
        self.matrix = forward @ self.matrix
        self.hw = (int(out_hw[0]), int(out_hw[1]))


def _pipeline_map(pipeline: Any, hw: tuple, rng: np.random.Generator) -> tuple[np.ndarray, tuple[int, int]]:
    from ..transforms.arrays import HWC

    dummy = np.zeros((int(hw[0]), int(hw[1]), 3), np.uint8)
    recorder = _MapRecorder(hw)
    out, _ = pipeline._root.run(dummy, rng, HWC, None, targets=recorder)
    return recorder.matrix, (int(out.shape[0]), int(out.shape[1]))


def _as_pipeline(spec: Any) -> Any:
    from ..pipeline.build import build_pipeline
    from ..pipeline.pipeline import Pipeline

    return spec if isinstance(spec, Pipeline) else build_pipeline(spec)


def _random_steps(pipeline: Any) -> list[str]:
    out = []
    for step in pipeline.transforms:
        if type(step).__name__ in ("RandomApply", "RandomChoice", "OneOf") or any(
                getattr(leaf, "random", False) for leaf in _leaf_transforms(step)):
            out.append(getattr(step, "spec_name", type(step).__name__))
    return out


def _check_pipeline(pipeline: Any, what: str) -> None:
    for leaf in _leaf_transforms(pipeline._root):
        problem = _undoable(leaf)
        if problem:
            raise ViewError(f"{what}: {problem}")


def spec_view(spec: Any, seed: int | None = None, name: str | None = None) -> View:
    """A pipeline of geometric transforms (a spec string, a file, a :class:`~gluon_augplug.Pipeline`; built-in or
    plugin transforms) as one view: its steps' ``geometry()`` maps composed.

    A random step needs ``seed`` (the view is then that one draw, for every input size); without one the view is
    refused, as is a step that changes colours or moves pixels without a map.
    """
    pipeline = _as_pipeline(spec)
    label = repr(name) if name else brief(pipeline.to_string(), 80)
    _check_pipeline(pipeline, f"view {label}")
    random_steps = _random_steps(pipeline)
    unseeded = bool(random_steps) and seed is None
    refused = (f"view {label}: {', '.join(random_steps)} draws its parameters at random, so the view could not be "
               f"undone the same way twice; give it a seed (random(spec=..., n=..., seed=...) in a spec) or use a "
               f"deterministic step (CenterCrop, not RandomCrop)")
    if unseeded and _draws_vary(pipeline, _PROBE_SIZES):
        raise ViewError(refused)
    cache: dict = {}

    def geometry(hw: tuple) -> tuple:
        key = (int(hw[0]), int(hw[1]))
        if key not in cache:
            if unseeded and _draws_vary(pipeline, [key]):  # constant at the probed sizes, not at this one
                raise ViewError(f"{refused} (its draws differ at {key[0]}x{key[1]})")
            cache[key] = _pipeline_map(pipeline, key, np.random.default_rng(0 if seed is None else seed))
        return cache[key]

    return View(name or pipeline.to_string(), geometry, meta={"spec": pipeline.to_string(), "seed": seed})


# sizes at which an unseeded random step must draw the same map every time to count as a view: small, large,
# square, both orientations, odd (a crop of 480 draws nothing at 256 but does at 520x700)
_PROBE_SIZES = ((256, 256), (97, 131), (131, 97), (520, 700), (1080, 810))


def _draws_vary(pipeline: Any, sizes: Any) -> bool:
    """Whether the pipeline's map differs between draws at any of ``sizes`` (a size it refuses is skipped)."""
    for hw in sizes:
        seen = set()
        for k in range(4):
            try:
                matrix, out_hw = _pipeline_map(pipeline, hw, np.random.default_rng(1000 + k))
            except ViewError:
                raise
            except Exception:  # this size does not suit the spec (a crop larger than it, upscale=False)
                break
            seen.add((tuple(np.round(matrix, 9).ravel().tolist()), out_hw))
        if len(seen) > 1:
            return True
    return False


def random_views(spec: Any, n: int = 8, seed: int = 0, include_identity: bool = False) -> View:
    """``n`` seeded draws of a training-style spec of geometric transforms (``"RandomResizedCrop(224),
    RandomFlipLeftRight"``), each one view; the spread of the predictions across them estimates the
    uncertainty. The same draws for every batch of one input size."""
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 1024:
        raise ViewError(f"random: n must be a whole number 1-1024, got {n!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ViewError(f"random: seed must be a whole number >= 0, got {seed!r}")
    pipeline = _as_pipeline(spec)
    _check_pipeline(pipeline, "random views")
    from ..randomness import derived_seed

    draws = [spec_view(pipeline, seed=derived_seed(seed, "tta-view", k), name=f"draw {k}") for k in range(n)]
    return identity(f"random ({n} draws of {brief(pipeline.to_string(), 60)})",
                    ([identity("as is")] if include_identity else []) + draws)


# -- the named sets ----------------------------------------------------------------------------------------------
VIEW_SETS: dict[str, Callable[..., View]] = {
    "identity": lambda: identity("identity", [identity("as is")]),
    "flip": lambda: identity("flip", [identity("as is"), hflip()]),
    "vflip": lambda: identity("vflip", [identity("as is"), vflip()]),
    "five-crop": five_crop,
    "ten-crop": ten_crop,
    "three-crop": three_crop,
    "multi-scale": multi_scale,
    "multi-eval": multi_eval,
    "sliding-window": sliding_window,
    "random": random_views,
}
VIEW_SET_DOCS: dict[str, str] = {
    "identity": "the input as it is (one pass: the baseline)",
    "flip": "the input and its horizontal mirror",
    "vflip": "the input and its vertical mirror",
    "five-crop": "five-crop(size, pad=0): the centre and the four corners (GluonCV's order), of the input padded by pad",
    "ten-crop": "ten-crop(size, pad=0): five-crop and its mirrors, in GluonCV's ten_crop / VideoTenCrop order",
    "three-crop": "three-crop(size): GluonCV's VideoThreeCrop, three crops along the long side",
    "multi-scale": "multi-scale(base_size=520, crop_size=480, scales=[0.5..1.75], flip=true): MultiEvalModel's views, "
                   "probabilities averaged",
    "multi-eval": "multi-eval(...): multi-scale with MultiEvalModel's own arithmetic (equal to GluonCV's)",
    "sliding-window": "sliding-window(crop_size=480, stride_rate=0.667, flip=false): tiles over a large input",
    "random": "random(spec='...', n=8, seed=0): n seeded draws of a training-style spec",
}


def _plain(name: str, key: Any, value: Any) -> Any:
    """A spec value as a view set takes it: ``true``/``false`` as booleans; a bare name is refused (a spec
    given to ``random`` is quoted)."""
    from ..pipeline.spec import Node

    if isinstance(value, Node):
        if value.name.lower() in ("true", "false") and not value.args and not value.params:
            return value.name.lower() == "true"
        raise ViewError(f"view set {name}: parameter {key} is {value.name!r}, a bare name; quote a spec "
                        f"(spec='RandomFlipLeftRight, ...') or give a number, list or True/False")
    if isinstance(value, list):
        return [_plain(name, key, v) for v in value]
    return value


def _call(name: str, factory: Callable[..., View], args: list, params: dict) -> View:
    import inspect

    args = [_plain(name, i + 1, a) for i, a in enumerate(args)]
    params = {k: _plain(name, k, v) for k, v in params.items()}

    try:
        inspect.signature(factory).bind(*args, **params)
    except TypeError as exc:
        accepted = ", ".join(inspect.signature(factory).parameters) or "no parameters"
        raise ViewError(f"view set {name}: {exc} (it takes {accepted})") from None
    return factory(*args, **params)


_HYPHEN = re.compile(r"(?<=[A-Za-z])-(?=[A-Za-z])")
_LEADING_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:-[A-Za-z][A-Za-z0-9_]*)*")


def get_views(views: Any) -> View:
    """The view tree of ``views``.

    Parameters
    ----------
    views : str, View, Pipeline or list of them
        A view set by name, with parameters in the spec grammar (``"flip"``, ``"ten-crop(224)"``,
        ``"multi-scale(scales=[0.75, 1.0, 1.25])"``, ``"random(spec='RandomResizedCrop(224)', n=8, seed=0)"``); a
        spec of deterministic geometric transforms as one view (``"Resize(40), CenterCrop(32)"``); or a list of
        these, merged together.

    Raises
    ------
    ViewError
        An unknown name (with the closest view sets and transforms), a bad parameter, a view that cannot be undone.
    """
    if isinstance(views, View):
        return views
    if isinstance(views, (list, tuple)):
        if not views:
            raise ViewError("views: an empty list; give at least one view set or spec")
        return identity("views", [get_views(v) for v in views])
    if not isinstance(views, str):
        try:
            return spec_view(views)
        except ViewError:
            raise
        except Exception as exc:
            raise ViewError(f"views: expected a view set name, a spec or a View, got {type(views).__name__} "
                            f"({exc})") from None
    from ..pipeline.spec import parse_spec_string

    text = views.strip()
    lead = _LEADING_NAME.match(text)
    normalized = _HYPHEN.sub("_", lead.group(0)) + text[lead.end():] if lead else text
    try:
        nodes = parse_spec_string(normalized, echo=False)
    except Exception:
        nodes = []
    if len(nodes) == 1 and nodes[0].name.replace("_", "-").lower() in VIEW_SETS:
        name = nodes[0].name.replace("_", "-").lower()
        try:
            return _call(name, VIEW_SETS[name], nodes[0].args, nodes[0].params)
        except ViewError:
            raise
        except AugplugError as exc:  # random(spec=...)'s spec: an unknown transform, an unreadable file
            raise ViewError(f"view set {name}: {exc}") from None
    try:
        return spec_view(text)
    except (UnknownTransformError, SpecSyntaxError) as exc:
        typed = nodes[0].name.replace("_", "-") if nodes else getattr(exc, "name", text)
        close = closest_names(typed, VIEW_SETS)
        hint = f"; closest view sets: {', '.join(close)}" if close else ""
        suggestions = getattr(exc, "suggestions", None)
        if suggestions:
            hint += f"; closest transforms: {', '.join(suggestions)}"
        raise ViewError(f"unknown view set or transform {brief(typed, 80)}{hint} (`augplug views` lists the view "
                        f"sets; a spec of geometric transforms is one view)") from None
    except ViewError:
        raise
    except AugplugError as exc:  # a bad parameter, an unreadable spec file: its own message, as a view's error
        raise ViewError(f"view {brief(text, 80)}: {exc}") from None


def black_of(pipeline: Any) -> tuple:
    """A black pixel as the network sees it after ``pipeline`` (an evaluation transform: ToTensor, Normalize gives
    ``-mean / std``), one value per channel: what views pad with, as training crops pad images with black
    (``RandomCrop(32, pad=4)``) and GluonCV's ``MultiEvalModel`` pads its inputs."""
    pipeline = _as_pipeline(pipeline)
    out = pipeline(np.zeros((8, 8, 3), np.uint8))
    values = np.asarray(out.asnumpy() if hasattr(out, "asnumpy") else out, np.float64)
    if values.ndim != 3:
        raise ViewError(f"black_of: {brief(pipeline.to_string(), 80)} makes {values.ndim}-D images, not CHW tensors")
    channels_first = pipeline.output_layout() == "CHW"
    return tuple(float(v) for v in (values[:, 0, 0] if channels_first else values[0, 0, :]))


def view_names() -> list[str]:
    """The named view sets."""
    return sorted(VIEW_SETS)


def leaf_count(views: Any, hw: tuple[int, int]) -> int:
    """How many forward passes ``views`` makes for an input of ``hw``."""
    return len(get_views(views).leaves(hw))


__all__: Sequence[str] = ["View", "ViewError", "black_of", "get_views", "spec_view", "random_views", "view_names", "leaf_count",
                          "crop", "hflip", "vflip", "identity", "five_crop", "ten_crop", "three_crop", "multi_scale",
                          "multi_eval", "sliding_window", "VIEW_SETS", "VIEW_SET_DOCS"]
