"""Reading frames: from a folder of frame images (UCF101's ``rawframes``) or a video file (decord or PyAV).

Every reader returns RGB uint8 (T, H, W, C) numpy arrays of the frames asked for, by 0-based index, and
raises :class:`~gluon_augplug.io.formats.DataFormatError` naming the file (and the frame) when a file is
missing, not a video, or shorter than asked.
"""
from __future__ import annotations

import os
import re
from typing import Any, Sequence

import cv2
import numpy as np

from ..errors import InputError, brief
from ..io.decode import decode_image
from ..io.formats import MAX_IMAGE_BYTES, DataFormatError, read_bounded

BACKENDS = ("decord", "av")
MAX_VIDEO_BYTES = 4 << 30
MAX_FRAME_SIDE = 16384  # new_width/new_height: 16K video; past it OpenCV's resize asserts


def check_frame_size(new_wh: tuple[int, int] | None, where: str = "video reader") -> None:
    """Refuse a resize target outside [0, ``MAX_FRAME_SIDE``] per side (0: keep the frame's size).

    Raises
    ------
    InputError
        Naming the side, its value and the allowed range.
    """
    if new_wh is None:
        return
    if not isinstance(new_wh, (tuple, list)) or len(new_wh) != 2:
        raise InputError(f"{where}: new_wh must be a (width, height) pair or None, got {brief(new_wh, 40)}")
    for name, value in zip(("new_width", "new_height"), new_wh):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= MAX_FRAME_SIDE:
            raise InputError(f"{where}: {name} must be an integer from 0 (keep) to {MAX_FRAME_SIDE}, got "
                             f"{brief(value, 40)}")


_PATTERN = re.compile(r"(?:[^%]|%%)*%0?[1-9]?[0-9]?[diu](?:[^%]|%%)*")


def check_name_pattern(name_pattern: str, where: str = "video reader") -> None:
    """Refuse a frame-name pattern that is not a relative file name with exactly one integer field of at most
    99 characters (``img_%05d.jpg``; ``%%`` for a percent sign).

    Raises
    ------
    InputError
        Naming the pattern and what is wrong with it.
    """
    problem = None
    if not isinstance(name_pattern, str):
        problem = f"a string, got {type(name_pattern).__name__}"
    elif len(name_pattern) > 255 or not _PATTERN.fullmatch(name_pattern):
        problem = "a file name with one integer field such as %05d (width at most 99) and no other % but %%"
    else:
        name = name_pattern % 1
        parts = name.replace("\\", "/").split("/")
        if os.path.isabs(name) or name.startswith(("/", "\\")) or ".." in parts or "\0" in name:
            problem = "a file name inside the frame folder (not an absolute path, no '..')"
    if problem:
        raise InputError(f"{where}: name_pattern {brief(name_pattern, 60)} must be {problem}")


def check_indices(indices: Any, where: str) -> list[int]:
    """The frame numbers asked for, as a non-empty list of non-negative integers.

    Raises
    ------
    InputError
        Naming what is not such a list.
    """
    try:
        values = list(indices)
    except TypeError:
        raise InputError(f"{where}: indices must be a sequence of frame numbers, got {type(indices).__name__}") from None
    bad = next((v for v in values if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer))
                or not 0 <= v < 2**31), None)
    if not values or bad is not None:
        raise InputError(f"{where}: indices must be non-negative integer frame numbers (at least one), got "
                         f"{brief(bad if values else values, 40)}")
    return [int(v) for v in values]


def _resized(frame: np.ndarray, new_wh: tuple[int, int] | None) -> np.ndarray:
    if new_wh and new_wh[0] > 0 and new_wh[1] > 0 and (frame.shape[1], frame.shape[0]) != tuple(new_wh):
        return cv2.resize(frame, tuple(new_wh))  # bilinear, as GluonCV's loaders
    return frame


def read_frames_folder(folder: str, indices: Sequence[int], name_pattern: str = "img_%05d.jpg",
                       new_wh: tuple[int, int] | None = None) -> np.ndarray:
    """Frames ``indices`` (0-based) of a folder of frame images named ``name_pattern % (index + 1)``, as GluonCV's
    ``rawframes`` (``img_00001.jpg`` is frame 0), each resized to ``new_wh`` (width, height) if given."""
    check_name_pattern(name_pattern, "read_frames_folder")
    check_frame_size(new_wh, "read_frames_folder")
    indices = check_indices(indices, "read_frames_folder")
    if not isinstance(folder, str) or not os.path.isdir(folder):
        raise DataFormatError(f"frame folder {folder!r} does not exist")
    cache: dict = {}
    frames = []
    for index in indices:
        if index not in cache:
            path = os.path.join(folder, name_pattern % (int(index) + 1))
            if not os.path.isfile(path):
                raise DataFormatError(f"frame {int(index) + 1} of {folder!r} is missing: no file {path!r}")
            cache[index] = _resized(decode_image(read_bounded(path, MAX_IMAGE_BYTES, "frame image"), repr(path)), new_wh)
        frames.append(cache[index])
    return _stack(frames, folder)


def _stack(frames: list, where: str) -> np.ndarray:
    shapes = {f.shape for f in frames}
    if len(shapes) > 1:
        raise DataFormatError(f"{where!r}: frames of different sizes ({', '.join(map(str, sorted(shapes)))}): give "
                              f"new_width and new_height to resize them to one")
    return np.stack(frames)


def video_backend(backend: str | None = None) -> str:
    """The video decoder to use: ``backend`` if given (checked to be importable), else decord (GluonCV's), else
    PyAV."""
    names = BACKENDS if backend in (None, "auto") else (backend,)
    if backend not in (None, "auto") and backend not in BACKENDS:
        raise DataFormatError(f"video backend must be one of auto, {', '.join(BACKENDS)}, got {str(backend)[:40]!r}")
    for name in names:
        try:
            __import__(name)
            return name
        except ImportError:
            continue
    raise DataFormatError(f"reading video files needs {' or '.join(names)}: pip install "
                          f"{'decord' if names[0] == 'decord' else 'av'} (or the gluon-augplug[video] extra)")


def video_length(path: str, backend: str | None = None) -> int:
    """The number of frames of a video file."""
    name = video_backend(backend)
    _check_file(path)
    if name == "decord":
        return len(_decord_reader(path, None))
    with _av_open(path) as container:
        stream = container.streams.video[0]
        if stream.frames:
            return int(stream.frames)
        return sum(1 for _ in container.decode(stream))


def read_video(path: str, indices: Sequence[int], backend: str | None = None,
               new_wh: tuple[int, int] | None = None) -> np.ndarray:
    """Frames ``indices`` (0-based) of a video file, RGB, each resized to ``new_wh`` (width, height) if given."""
    check_frame_size(new_wh, "read_video")
    indices = check_indices(indices, "read_video")
    if not isinstance(path, str):
        raise InputError(f"read_video: path must be a string, got {type(path).__name__}")
    name = video_backend(backend)
    _check_file(path)
    wanted = [int(i) for i in indices]
    if not wanted:
        raise DataFormatError(f"{path!r}: no frames asked for")
    if name == "decord":
        reader = _decord_reader(path, new_wh)
        if max(wanted) >= len(reader) or min(wanted) < 0:
            raise DataFormatError(f"{path!r} has {len(reader)} frames, frame {max(wanted)} asked for")
        try:
            frames = reader.get_batch(wanted).asnumpy()
        except Exception as exc:  # decord raises its own DECORDError on damaged streams
            raise DataFormatError(f"{path!r}: cannot decode frames {wanted[:4]}...: {exc}") from None
        return np.stack([_resized(f, new_wh) for f in frames]) if new_wh else frames
    found: dict = {}
    last = max(wanted)
    with _av_open(path) as container:
        try:
            for i, frame in enumerate(container.decode(container.streams.video[0])):
                if i in wanted and i not in found:
                    found[i] = _resized(frame.to_ndarray(format="rgb24"), new_wh)
                if i >= last:
                    break
        except Exception as exc:  # av.error.* on damaged streams
            raise DataFormatError(f"{path!r}: cannot decode frame {len(found)}: {exc}") from None
    missing = [i for i in wanted if i not in found]
    if missing:
        raise DataFormatError(f"{path!r} has fewer frames than asked for (frame {missing[0]} is not there)")
    return _stack([found[i] for i in wanted], path)


def _check_file(path: str) -> None:
    if not os.path.isfile(path):
        raise DataFormatError(f"video file {path!r} does not exist (or is not a regular file)")
    size = os.path.getsize(path)
    if size > MAX_VIDEO_BYTES:
        raise DataFormatError(f"video file {path!r} holds {size:,} bytes, more than the limit of {MAX_VIDEO_BYTES:,}")


def _decord_reader(path: str, new_wh: tuple[int, int] | None):
    import decord

    size = {"width": int(new_wh[0]), "height": int(new_wh[1])} if new_wh and min(new_wh) > 0 else {}
    try:
        return decord.VideoReader(path, num_threads=1, **size)
    except Exception as exc:  # decord's DECORDError: not a video, no video stream, unknown codec
        raise DataFormatError(f"{path!r} is not a video decord can read: {str(exc).splitlines()[0][:200]}") from None


def _av_open(path: str):
    import av

    try:
        container = av.open(path)
    except Exception as exc:  # av.error.InvalidDataError and kin
        raise DataFormatError(f"{path!r} is not a video PyAV can read: {exc}") from None
    if not container.streams.video:
        container.close()
        raise DataFormatError(f"{path!r} has no video stream")
    return container


def write_video(path: str, frames: np.ndarray, fps: int = 25, codec: str = "mpeg4") -> None:
    """Encode RGB uint8 (T, H, W, 3) ``frames`` to a video file with PyAV (test data, examples)."""
    import av

    frames = np.asarray(frames, np.uint8)
    with av.open(path, "w") as container:
        stream: Any = container.add_stream(codec, rate=fps)  # a video stream (av's stubs type it as any stream)
        stream.height, stream.width = int(frames.shape[1]), int(frames.shape[2])
        stream.pix_fmt = "yuv420p"
        stream.options = {"qscale": "2"} if codec == "mpeg4" else {}
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
