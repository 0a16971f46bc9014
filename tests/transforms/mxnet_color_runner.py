"""Runs MXNet 1.9.1's colour operators in a child process (they can segfault with hue > 0,
mxnet#18986), in chunks, so that a crash loses only the chunk it hit.

    python mxnet_color_runner.py jitter IMAGE.npy B,C,S,H DRAWS SEED OUT_DIR
        MXNet's RandomColorJitter block applied DRAWS times, saved as OUT_DIR/chunk-*.npy
    python mxnet_color_runner.py steps IMAGE.npy STEPS.json OUT.npy
        MXNet's single-step operators in the given order, e.g. [["brightness", 1.8], ["hue", 0.2]];
        saves the input and each step's output, stacked
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import mxnet as mx
import numpy as np

CHUNK = 250
_OPS = {"brightness": mx.nd.image.random_brightness, "contrast": mx.nd.image.random_contrast,
        "saturation": mx.nd.image.random_saturation, "hue": mx.nd.image.random_hue}


def jitter(image: np.ndarray, params: str, draws: int, seed: int, out_dir: Path) -> None:
    from mxnet.gluon.data.vision import transforms as T

    mx.random.seed(seed)
    block = T.RandomColorJitter(*(float(v) for v in params.split(",")))
    src = mx.nd.array(image, dtype="uint8")
    done = len(list(out_dir.glob("chunk-*.npy")))
    for k in range(draws // CHUNK):
        chunk = np.stack([block(src).asnumpy() for _ in range(CHUNK)])
        np.save(out_dir / f"chunk-{done + k:04d}.npy", chunk)


def steps(image: np.ndarray, sequence: list, out: Path) -> None:
    outputs = [mx.nd.array(image, dtype="uint8")]
    for op, value in sequence:  # a factor range of one value applies exactly that factor
        outputs.append(_OPS[op](outputs[-1], value, value))
    np.save(out, np.stack([data.asnumpy() for data in outputs]))


if __name__ == "__main__":
    mode, image = sys.argv[1], np.load(sys.argv[2])
    if mode == "jitter":
        jitter(image, sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), Path(sys.argv[6]))
    else:
        steps(image, json.loads(Path(sys.argv[3]).read_text()), Path(sys.argv[4]))
