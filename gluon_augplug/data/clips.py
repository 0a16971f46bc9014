"""Clip data sets in GluonCV's action-recognition layout, with GluonCV's frame sampling, seeded.

A setting (list) file has one line per video: ``path num_frames label`` (UCF101's and Kinetics'
``*_rgb_split1.txt``); ``path`` is a folder of frame images (``img_00001.jpg``, ...: ``rawframes``) or,
with ``video_loader=True``, a video file. Each item is ``(clip, label)``: the sampled frames as an RGB uint8
(T, H, W, C) array, which a pipeline then augments with one draw for all frames. Sampling is GluonCV's
``VideoClsCustom``'s, number for number: TSN's segments (``num_segments``) of ``new_length`` frames
``new_step`` apart, random within each segment when training, centred for validation and test clips; dense
sampling is ``num_segments=1`` with a long ``new_length``; SlowFast's fast and slow pathways are
``slowfast=True``.

Under :func:`gluon_augplug.augment` the frame draw comes from the sample's generator (seed, index, epoch),
so an epoch of clips is the same with 0 or 2 DataLoader workers.
"""
from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from .._files import read_text_bounded
from ..errors import InputError, brief
from ..randomness import RandomSource
from ..io.formats import DataFormatError
from .video import (BACKENDS, check_frame_size, check_name_pattern, read_frames_folder, read_video, video_backend,
                    video_length)

try:
    from mxnet.gluon.data import Dataset as _Base
except ImportError:  # pragma: no cover - numpy only
    _Base = object

MAX_SETTING_BYTES = 256 << 20
MAX_CLIP_FRAMES = 4096
MAX_VIDEO_FRAMES = 10_000_000  # a setting file's num_frames: 4.6 days at 25 frames/s
MAX_CLASSES = 1 << 20


def sample_offsets(num_frames: int, num_segments: int, skip_length: int, mode: str,
                   rng: np.random.Generator) -> np.ndarray:
    """Each segment's first frame, 1-based (GluonCV's ``_sample_train_indices``/``_val_``/``_test_``):
    ``mode`` is "train" (random in each of ``num_segments`` equal parts), "val" or "test" (the parts' centres)."""
    if mode == "train":
        average = (num_frames - skip_length + 1) // num_segments
        if average > 0:
            offsets = np.arange(num_segments) * average + rng.integers(0, average, num_segments)
        elif num_frames > max(num_segments, skip_length):
            offsets = np.sort(rng.integers(0, num_frames - skip_length + 1, num_segments))
        else:
            offsets = np.zeros(num_segments, np.int64)
    else:
        enough = num_segments + skip_length - 1 if mode == "val" else skip_length - 1
        if num_frames > enough:
            tick = (num_frames - skip_length + 1) / float(num_segments)
            offsets = np.array([int(tick / 2.0 + tick * x) for x in range(num_segments)])
        else:
            offsets = np.zeros(num_segments, np.int64)
    return offsets.astype(np.int64) + 1


def frame_indices(num_frames: int, offsets: np.ndarray, skip_offsets: np.ndarray, new_length: int,
                  new_step: int) -> list[int]:
    """The 0-based frames a clip reads: from each segment's offset, ``new_length`` frames ``new_step`` apart,
    held at the last frame at the end of the video (GluonCV's loaders, exactly)."""
    out = []
    for start in offsets:
        offset = int(start)
        for i in range(new_length):
            frame = offset + int(skip_offsets[i]) if offset + int(skip_offsets[i]) <= num_frames else offset
            out.append(frame - 1)
            if offset + new_step < num_frames:
                offset += new_step
    return out


def slowfast_indices(indices: list[int], num_segments: int, new_length: int, fast_stride: int,
                     slow_stride: int) -> list[int]:
    """SlowFast's frames of each segment: every ``fast_stride``-th frame (the fast pathway), then every
    ``slow_stride``-th (the slow one), as GluonCV's slowfast loaders."""
    out = []
    for s in range(num_segments):
        segment = indices[s * new_length:(s + 1) * new_length]
        fast = [f for i, f in enumerate(segment) if (i + 1) % fast_stride == 0]
        slow = [f for i, f in enumerate(segment) if (i + 1) % slow_stride == 0]
        out += fast + slow
    return out


def read_setting(setting: str, root: str) -> list[tuple[str, int, int]]:
    """``(path, num_frames, label)`` per line of a setting file, paths joined to ``root``."""
    text = read_text_bounded(setting, MAX_SETTING_BYTES, "setting file", DataFormatError)
    items = []
    for number, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 3:
            raise DataFormatError(f"{setting}:{number}: expected 'path num_frames label', got {line[:80]!r}")
        try:
            frames, label = int(parts[-2]), int(parts[-1])
        except ValueError:
            raise DataFormatError(f"{setting}:{number}: num_frames and label must be integers, got "
                                  f"{parts[-2][:20]!r} {parts[-1][:20]!r}") from None
        if not (0 <= frames <= MAX_VIDEO_FRAMES and 0 <= label < MAX_CLASSES):
            raise DataFormatError(f"{setting}:{number}: num_frames must be from 0 to {MAX_VIDEO_FRAMES:,} and label from "
                                  f"0 to {MAX_CLASSES - 1:,}, got {brief(parts[-2], 24)} {brief(parts[-1], 24)}")
        path = " ".join(parts[:-2])
        if os.path.isabs(path) or ".." in path.replace("\\", "/").split("/"):
            raise DataFormatError(f"{setting}:{number}: the path {path[:80]!r} must stay inside the root folder")
        items.append((os.path.join(root, path), frames, label))
    if not items:
        raise DataFormatError(f"{setting} lists no videos")
    return items


class ClipDataset(_Base):  # type: ignore[misc,valid-type]
    """Clips of the videos a GluonCV setting file lists: items ``(clip, label)``, clip RGB uint8 (T, H, W, C).

    Parameters (GluonCV's ``VideoClsCustom`` names and meanings)
    ----------
    setting : str
        The list file: ``path num_frames label`` per line.
    root : str
        The folder the paths are in.
    train : bool
        Random segment offsets (else centred: validation).
    test_mode : bool
        Test-time clips: ``num_segments`` evenly spaced clips (10 for the usual 3D-network test).
    num_segments, new_length, new_step : int
        Segments per video (TSN), frames per segment, and the step between them: T = num_segments * new_length.
    new_width, new_height : int
        Resize every frame to this size when reading (0: keep; GluonCV's UCF101/Kinetics use 340x256).
    temporal_jitter : bool
        Jitter each frame within its step.
    video_loader : bool
        The paths are video files (``video_ext`` added when a path has no extension), decoded with ``backend``.
    backend : str
        "auto" (decord if installed, else PyAV), "decord" or "av".
    name_pattern : str
        Frame image names in a frame folder (1-based).
    slowfast, slow_temporal_stride, fast_temporal_stride
        SlowFast's two pathways: fast frames then slow frames of each segment.
    seed : int, optional
        Seed of the frame sampling outside :func:`gluon_augplug.augment` (which seeds it per sample itself).
    """

    def __init__(self, setting: str, root: str = "", train: bool = True, test_mode: bool = False,
                 num_segments: int = 1, new_length: int = 1, new_step: int = 1, new_width: int = 340,
                 new_height: int = 256, temporal_jitter: bool = False, video_loader: bool = False,
                 backend: str = "auto", video_ext: str = "mp4", name_pattern: str = "img_%05d.jpg",
                 slowfast: bool = False, slow_temporal_stride: int = 16, fast_temporal_stride: int = 2,
                 seed: int | None = None):
        for name, value, lo, hi in (("num_segments", num_segments, 1, MAX_CLIP_FRAMES),
                                    ("new_length", new_length, 1, MAX_CLIP_FRAMES),
                                    ("new_step", new_step, 1, MAX_CLIP_FRAMES),
                                    ("slow_temporal_stride", slow_temporal_stride, 1, MAX_CLIP_FRAMES),
                                    ("fast_temporal_stride", fast_temporal_stride, 1, MAX_CLIP_FRAMES)):
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise InputError(f"ClipDataset: {name} must be an integer from {lo} to {hi}, got {brief(value, 40)}")
        if num_segments * new_length > MAX_CLIP_FRAMES:
            raise InputError(f"ClipDataset: num_segments * new_length must be at most {MAX_CLIP_FRAMES}, got "
                             f"{num_segments * new_length}")
        if slowfast and (slow_temporal_stride % fast_temporal_stride or new_step != 1 or temporal_jitter
                         or new_length < slow_temporal_stride):
            raise InputError("ClipDataset: slowfast needs slow_temporal_stride a multiple of fast_temporal_stride, "
                             "new_length at least slow_temporal_stride (each pathway one frame or more), new_step=1 "
                             "and no temporal_jitter (as GluonCV's)")
        for what, path in (("setting", setting), ("root", root)):
            if not isinstance(path, (str, os.PathLike)):
                raise InputError(f"ClipDataset: {what} must be a path, got {type(path).__name__}")
        check_frame_size((new_width, new_height), "ClipDataset")
        check_name_pattern(name_pattern, "ClipDataset")
        if backend not in ("auto", *BACKENDS):
            raise InputError(f"ClipDataset: backend must be one of auto, {', '.join(BACKENDS)}, got {brief(backend, 40)}")
        if not (isinstance(video_ext, str) and re.fullmatch(r"[A-Za-z0-9]{1,10}", video_ext)):
            raise InputError(f"ClipDataset: video_ext must be a file extension such as mp4 (letters and digits), got "
                             f"{brief(video_ext, 40)}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**128):
            raise InputError(f"ClipDataset: seed must be None or an integer in [0, 2**128), got {brief(seed, 40)}")
        self.items = read_setting(setting, root)
        self.train, self.test_mode = bool(train), bool(test_mode)
        self.num_segments, self.new_length, self.new_step = num_segments, new_length, new_step
        self.skip_length = new_length * new_step
        self.new_wh = (new_width, new_height) if new_width > 0 and new_height > 0 else None
        self.temporal_jitter = bool(temporal_jitter)
        self.video_loader, self.video_ext, self.name_pattern = bool(video_loader), video_ext, name_pattern
        self.backend = video_backend(backend) if video_loader else None
        self.slowfast, self.slow_stride, self.fast_stride = bool(slowfast), slow_temporal_stride, fast_temporal_stride
        self._source = RandomSource(seed)

    @property
    def mode(self) -> str:
        """"train", "val" or "test": which of GluonCV's samplings the items use."""
        return "test" if self.test_mode else ("train" if self.train else "val")

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[np.ndarray, int]:
        return self.sample_item(index, self._source.generator())

    def frames_of(self, index: int, rng: np.random.Generator) -> tuple[str, list[int]]:
        """The file or folder of item ``index`` and the 0-based frames its clip reads (drawn from ``rng``)."""
        path, duration, _ = self.items[index]
        if self.video_loader:
            if "." not in os.path.basename(path):
                path = f"{path}.{self.video_ext}"
            duration = video_length(path, self.backend)  # the file's own length, as GluonCV's decord loader
        if duration < 1:
            raise DataFormatError(f"{path!r}: the setting file gives it no frames")
        offsets = sample_offsets(duration, self.num_segments, self.skip_length, self.mode, rng)
        steps = self.skip_length // self.new_step
        skips = rng.integers(0, self.new_step, steps) if self.temporal_jitter else np.zeros(steps, np.int64)
        indices = frame_indices(duration, offsets, skips, self.new_length, self.new_step)
        if self.slowfast:
            indices = slowfast_indices(indices, self.num_segments, self.new_length, self.fast_stride, self.slow_stride)
        return path, indices

    def sample_item(self, index: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
        """Item ``index`` with its frames drawn from ``rng`` (what :func:`~gluon_augplug.augment` calls)."""
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)) \
                or not -len(self) <= index < len(self):
            raise IndexError(f"ClipDataset: item {str(index)[:40]} is out of range for {len(self)} videos")
        path, indices = self.frames_of(int(index), rng)
        if self.video_loader:
            clip = read_video(path, indices, self.backend, self.new_wh)
        else:
            clip = read_frames_folder(path, indices, self.name_pattern, self.new_wh)
        return clip, self.items[int(index)][2]


def clip_layout(clip: Any, layout: str) -> Any:
    """A (T, C, H, W) clip (what a pipeline ending in ToTensor gives) in ``layout``: "TCHW" (unchanged: TSN's
    frames), "CTHW" (3-D networks: I3D, SlowFast, R2+1D)."""
    if layout == "TCHW":
        return clip
    if layout == "CTHW":
        return np.ascontiguousarray(np.asarray(clip).transpose(1, 0, 2, 3)) if isinstance(clip, np.ndarray) \
            else clip.transpose((1, 0, 2, 3))
    raise InputError(f"clip layout must be TCHW or CTHW, got {str(layout)[:40]!r}")


__all__ = ["ClipDataset", "sample_offsets", "frame_indices", "slowfast_indices", "read_setting", "clip_layout"]
