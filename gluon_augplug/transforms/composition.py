"""Composite transforms: Compose, RandomApply, RandomChoice and OneOf."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ReplayError, SpecError
from .. import params as P
from ..targets.modes import TargetMode
from .base import CHW, HWC, Transform, registration_hook
from .clips import replay_frames, run_clip_step, stack_frames
from .color import RandomLighting
from .drawing import draw_params, old_run_problem
from .tensor import Normalize, ToTensor


def _weights(owner: str, name: str, value: Any) -> list[float]:
    if not isinstance(value, (list, tuple)) or not value or sum(
            P.number(owner, name, v, 0.0, None) for v in value) <= 0:
        raise P.ParameterError(owner, name, value, "None, or one weight >= 0 per transform with a positive sum")
    return [float(v) for v in value]


class _Composite(Transform):
    accepts = (HWC, CHW)
    random = True
    transforms = P.Transforms()
    example = {"transforms": ["RandomFlipLeftRight", "RandomBrightness(0.3)"]}

    # -- spec --------------------------------------------------------------------
    def spec_params(self) -> dict:
        params = super().spec_params()
        if self._spec_params is None or "transforms" not in params:  # built by hand: its children as they are
            params["transforms"] = [t.to_spec() for t in self.transforms]
        return params  # built from a spec: the children it names, those a schedule switched off included

    def __repr__(self) -> str:
        own = {k: v for k, v in self.get_params().items() if k != "transforms"}
        inner = ", ".join(repr(t) for t in self.transforms)
        extra = "".join(f", {k}={v!r}" for k, v in own.items())
        return f"{self.spec_name}([{inner}]{extra})"

    target_mode = TargetMode.CONTAINER  # moves targets through its children

    def target_problem(self, kinds):
        problems = [p for p in (child_problem(t, kinds) for t in self.transforms) if p]
        return "; ".join(problems) or None

    # -- running: one loop for images and clips (a clip is a batch of frames sharing each child's draw) -------
    def run(self, img, rng, layout, replay=None, targets=None):
        return self._run(img, rng, layout, replay, targets, False)

    def run_clip(self, clip, rng, layout, replay=None, targets=None):
        if type(self)._run is _Composite._run:  # a container of its own written before 0.4 (its run() only)
            return replay_frames(self, clip, rng, layout, replay, targets)
        return self._run(clip, rng, layout, replay, targets, True)

    def _run(self, x, rng, layout, replay, targets, clip):
        """The container's own choice (which children, if any), then :meth:`_run_sequence` on them."""
        raise NotImplementedError

    def _run_sequence(self, children, x, rng, layout, replays, targets=None, clip=False):
        records = []
        skip = 0
        for i, child in enumerate(children):
            if skip:  # the steps that a fused step below already applied
                skip -= 1
                continue
            following = children[i + 1] if i + 1 < len(children) else None
            if type(child) is RandomLighting and not clip and layout == HWC and i + 2 < len(children) \
                    and type(following) is ToTensor and type(children[i + 2]) is Normalize:
                done = _lighting_to_normalized_tensor(child, children[i + 2], x, rng, replays[i] if replays else None,
                                                      targets)
                if done is not None:  # the lighting looked up with ToTensor and Normalize: one pass, the same values
                    x, record = done
                    records += [record, {"name": following.spec_name, "params": {}},
                                {"name": children[i + 2].spec_name, "params": {}}]
                    layout, skip = CHW, 2
                    continue
            if type(child) is ToTensor and type(following) is Normalize and layout == HWC:
                fused = _to_normalized_tensor(following, x, clip)  # ToTensor + Normalize in one pass, the same values
                if fused is not None:
                    records += [{"name": child.spec_name, "params": {}}, {"name": following.spec_name, "params": {}}]
                    x, layout, skip = fused, CHW, 1
                    continue
            replay = replays[i] if replays is not None else None
            if clip:
                x, record = run_clip_step(child, x, rng, layout, replay, targets)
            elif targets is None:  # run_step, inlined on this per-image path: 0.1's run() has no targets
                x, record = child.run(x, rng, layout, replay)
            else:
                x, record = child.run(x, rng, layout, replay, targets=targets)
            layout = child.output_layout(layout)
            records.append(record)
        return x, records

    def _replay_parts(self, replay):
        if replay is None:
            return None, None
        params = self._replayed_params(replay)
        children = replay.get("children")
        if not isinstance(children, list):
            raise ReplayError(f"recorded {self.spec_name} step has no children list")
        return params, children

    def _sequence_layout(self, children, layout: str) -> str:
        for child in children:
            layout = child.output_layout(layout)
        return layout

    def _check_layout_kept(self, layout: str) -> str:
        for child in self.transforms:
            if self._sequence_layout([child], layout) != layout:
                raise SpecError(f"{self.spec_name}: {child.spec_name} changes the layout ({layout} -> "
                                f"{child.output_layout(layout)}), which a randomly applied step must not do; "
                                f"move it out of {self.spec_name}")
        return layout


class Compose(_Composite):
    """Apply ``transforms`` one after the other."""

    def _run(self, x, rng, layout, replay, targets, clip):
        _, children = self._replay_parts(replay)
        if children is not None and len(children) != len(self.transforms):
            raise ReplayError(f"recorded Compose has {len(children)} steps, this one {len(self.transforms)}")
        out, records = self._run_sequence(self.transforms, x, rng, layout, children, targets, clip)
        return out, {"name": self.spec_name, "params": {}, "children": records}

    def output_layout(self, layout: str) -> str:
        return self._sequence_layout(self.transforms, layout)


class RandomApply(_Composite):
    """Apply ``transforms`` (in order) with probability ``p``, else pass the image through."""

    transforms = P.Transforms()
    p = P.Probability(0.5, "probability of applying the transforms")

    def _run(self, x, rng, layout, replay, targets, clip):
        params, children = self._replay_parts(replay)
        applied = bool(rng.random() < self.p) if params is None else bool(params.get("apply"))
        records = []
        if applied:
            x, records = self._run_sequence(self.transforms, x, rng, layout, children, targets, clip)
        return x, {"name": self.spec_name, "params": {"apply": applied}, "children": records}

    def output_layout(self, layout: str) -> str:
        return self._check_layout_kept(layout)


class RandomChoice(_Composite):
    """Apply one of ``transforms``, picked with probabilities ``p`` (default: uniform)."""

    transforms = P.Transforms()
    p = P.Custom(None, _weights, "None, or one weight >= 0 per transform with a positive sum",
                 "the probability of picking each transform (default: uniform)", type_name="weights", optional=True)

    def setup(self):
        if not self.transforms:
            raise self.invalid("transforms", "at least one transform")
        if self.p is not None and len(self.p) != len(self.transforms):
            raise self.invalid("p", f"None or {len(self.transforms)} weights >= 0 with a positive sum")

    def _weights(self):
        if self.p is None:
            return None
        total = float(sum(self.p))
        return [float(v) / total for v in self.p]

    def _pick(self, rng) -> int:
        return int(rng.choice(len(self.transforms), p=self._weights()))

    def _run(self, x, rng, layout, replay, targets, clip):
        params, children = self._replay_parts(replay)
        index = self._pick(rng) if params is None else params.get("index")
        records = []
        if index is not None:
            x, records = self._run_sequence([self.transforms[index]], x, rng, layout, children, targets, clip)
        return x, {"name": self.spec_name, "params": {"index": index}, "children": records}

    def output_layout(self, layout: str) -> str:
        return self._check_layout_kept(layout)


class OneOf(RandomChoice):
    """With probability ``p`` (albumentations' default 0.5), apply one of ``transforms`` picked uniformly."""

    transforms = P.Transforms()
    p = P.Probability(0.5, "probability of applying one of the transforms")

    def setup(self):
        if not self.transforms:
            raise self.invalid("transforms", "at least one transform")

    def _weights(self):
        return None

    def _pick(self, rng):
        return int(rng.integers(0, len(self.transforms))) if rng.random() < self.p else None


def _lighting_to_normalized_tensor(lighting: RandomLighting, normalize: Normalize, x, rng, replay, targets):
    """RandomLighting, ToTensor, Normalize on a uint8 RGB image as one look-up per channel: ``(tensor, the
    lighting's record)``, its draw made as :meth:`Transform.run` makes it; None where that does not apply."""
    if not (isinstance(x, np.ndarray) and x.dtype == np.uint8 and x.ndim == 3 and x.shape[2] == 3
            and x.flags.c_contiguous and normalize.fits(3)):
        return None  # checked before the draw: a refusal after it would draw twice
    params = draw_params(lighting, rng, x.shape, replay, targets)
    out = normalize.from_pixels(x, before=lighting.value_tables(**params))
    hw = list(x.shape[:2])
    if targets is not None:
        targets.step(lighting, params, x.shape[:2], x.shape[:2])
    return out, {"name": lighting.spec_name, "params": params, "in_hw": hw, "out_hw": hw}


def _to_normalized_tensor(normalize: Normalize, x, clip: bool):
    """HWC pixels (an image, or every frame of a clip) straight to the normalized CHW tensor, or None where
    :meth:`Normalize.from_pixels` cannot (then ToTensor and Normalize run one after the other)."""
    first = normalize.from_pixels(x[0] if clip else x)
    if first is None or not clip:
        return first
    out = stack_frames(first, len(x))
    for k in range(1, len(x)):
        normalize.from_pixels(x[k], out=out[k])
    return out


def child_problem(transform: Any, kinds: tuple) -> str | None:
    """Why ``transform`` (a built-in or a plugin's, of any age) cannot move ``kinds`` of targets, or None."""
    problem = getattr(transform, "target_problem", None)
    if problem is None:
        from ..targets.modes import undeclared

        return undeclared(transform)
    found = asked_problem(problem, kinds)
    if found:
        return found
    return old_run_problem(transform)


def asked_problem(target_problem: Any, kinds: tuple) -> str | None:
    """``target_problem(kinds)`` asked so that a plugin's override from before polygons were a kind can answer.

    Polygons move as keypoints do: first the question every override understands (polygons as keypoints), then
    polygons alone, which a step may refuse (a tile shuffle tears an outline apart); an override that does not
    know the kind (a KeyError, a ValueError) lets them move as its keypoints."""
    found = target_problem(tuple(sorted({"keypoints" if k == "polygons" else k for k in kinds})))
    if not found and "polygons" in kinds:
        try:
            found = target_problem(("polygons",))
        except (KeyError, ValueError):
            found = None
    return found or None


augplug_register_transforms = registration_hook(__name__)
