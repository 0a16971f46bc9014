"""Clips drawn on the spot, for tests and examples: moving shapes, as frame folders and as video files, with
GluonCV's setting files (nothing is downloaded)."""
from __future__ import annotations

import os

import cv2
import numpy as np

SHAPES = ("square", "disc", "bar")


def moving_shape_clip(label: int, frames: int = 24, hw: tuple[int, int] = (96, 128), seed: int = 0) -> np.ndarray:
    """An RGB uint8 (T, H, W, 3) clip: shape ``SHAPES[label % 3]`` crossing a textured background, rightwards
    for even labels and leftwards for odd ones, from a start drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    h, w = hw
    background = cv2.GaussianBlur(rng.integers(40, 120, (h, w, 3)).astype(np.uint8), (0, 0), 3)
    size = max(8, min(h, w) // 4)
    y = int(rng.integers(0, h - size))
    x0 = int(rng.integers(0, w // 3))
    step = max(1, (w - size - x0) // max(frames, 1)) * (1 if label % 2 == 0 else -1)
    start = x0 if step > 0 else w - size - x0
    colour = [(230, 40, 40), (40, 90, 230), (240, 220, 40)][label % 3]
    clip = np.empty((frames, h, w, 3), np.uint8)
    for t in range(frames):
        frame = background.copy()
        x = int(np.clip(start + step * t, 0, w - size))
        shape = SHAPES[label % 3]
        if shape == "square":
            cv2.rectangle(frame, (x, y), (x + size - 1, y + size - 1), colour, -1)
        elif shape == "disc":
            cv2.circle(frame, (x + size // 2, y + size // 2), size // 2, colour, -1)
        else:
            cv2.rectangle(frame, (x, y + size // 3), (x + size - 1, y + 2 * size // 3), colour, -1)
        frame[:8, :8] = min(4 * t, 255)  # the frame's number, readable back (one flat JPEG block): frame_number()
        clip[t] = frame
    return clip


def frame_number(frame: np.ndarray) -> int:
    """The number :func:`moving_shape_clip` drew into ``frame`` (its 0-based index, up to 63)."""
    return int(round(float(frame[:8, :8].mean()) / 4.0))


def make_clip_set(root: str, videos: int = 8, classes: int = 2, frames: int = 24, hw: tuple[int, int] = (96, 128),
                  video_files: bool = False, seed: int = 0) -> str:
    """Write ``videos`` clips of :func:`moving_shape_clip` under ``root`` in GluonCV's layout and return the
    setting file (``path num_frames label`` per line): ``root/rawframes/<name>/img_00001.jpg``... and, with
    ``video_files``, ``root/videos/<name>.mp4`` too (MPEG-4, through PyAV)."""
    from ..data.video import write_video

    lines = []
    for v in range(videos):
        label = v % classes
        name = f"video_{v:03d}"
        clip = moving_shape_clip(label, frames, hw, seed=seed * 1000 + v)
        folder = os.path.join(root, "rawframes", name)
        os.makedirs(folder, exist_ok=True)
        for t, frame in enumerate(clip):
            cv2.imwrite(os.path.join(folder, f"img_{t + 1:05d}.jpg"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR),
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
        if video_files:
            os.makedirs(os.path.join(root, "videos"), exist_ok=True)
            write_video(os.path.join(root, "videos", f"{name}.mp4"), clip)
        lines.append(f"{name} {frames} {label}")
    setting = os.path.join(root, "setting.txt")
    with open(setting, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return setting
