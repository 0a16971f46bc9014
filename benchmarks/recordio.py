"""The ImageNet recipe from RecordIO: ours against MXNet's C++ ImageRecordIter, GluonCV's Python path, DALI's
CPU pipeline and libjpeg-turbo decoding alone, on the same records (workloads for worker.py; bench.py pairs them).

``build_records`` writes ``photos.rec`` (real photographs: scikit-image's, the cat, the VOC cat; random crops
resized to ImageNet's typical 500x375, JPEG quality 90) and a detection ``.rec`` in GluonCV's RecordFileDetection
layout. A workload is one epoch of a row. DALI runs in its own environment (``.bench/dali``, nvidia-dali-cuda120
without a GPU). Imports stay inside the rows: the DALI environment has neither MXNet nor gluon_augplug.

    python benchmarks/recordio.py memory BIG.rec    # peak memory reading every record by offset
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DALI_PYTHON = ROOT / ".bench" / "dali" / "bin" / "python"
MEAN = (123.68, 116.779, 103.939)
STD = (58.393, 57.12, 57.375)
BATCH = 32
DETECTION_RECORDS = 160


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def batches_of(loader):
    """A function that starts an epoch of a loader of (data, label) batches: it yields each batch's image count,
    once the batch is computed."""
    def epoch():
        for x, _ in loader:
            x.wait_to_read()
            yield x.shape[0]

    return epoch


# -- the data ---------------------------------------------------------------------------------------------
def build_records(out: Path, count: int, shared: Path) -> dict:
    import cv2
    import numpy as np
    import skimage.data

    sys.path.insert(0, str(ROOT))
    from gluon_augplug.io.decode import encode_jpeg
    from gluon_augplug.io.images import read_image
    from gluon_augplug.data.pack import detection_vector
    from gluon_augplug.io.recordio import RecordWriter

    photos = [np.ascontiguousarray(getattr(skimage.data, n)()[..., :3]) for n in ("astronaut", "coffee", "chelsea",
                                                                                  "rocket")]
    photos += [read_image(str(shared / "cat1.jpg")), read_image(str(shared / "voc-cat" / "JPEGImages" / "cat1.jpg"))]
    rng = np.random.default_rng(0)
    paths = {"rec": str(out / "photos.rec"), "det": str(out / "boxes.rec")}
    sizes = []
    with RecordWriter(paths["rec"]) as cls, RecordWriter(paths["det"]) as det:
        for k in range(count):
            photo = photos[k % len(photos)]
            h, w = photo.shape[:2]
            ch, cw = int(h * rng.uniform(0.5, 1.0)), int(w * rng.uniform(0.5, 1.0))
            y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
            side = (500, 375) if rng.random() < 0.75 else (375, 500)
            crop = cv2.resize(photo[y:y + ch, x:x + cw], side, interpolation=cv2.INTER_AREA)
            data = encode_jpeg(crop, 90)
            sizes.append(len(data))
            cls.write_image(k, float(k % 10), data)
            n = int(rng.integers(1, 4))
            x0, y0 = rng.uniform(0, side[0] * 0.6, n), rng.uniform(0, side[1] * 0.6, n)
            boxes = np.stack([x0, y0, x0 + rng.uniform(40, side[0] * 0.4, n), y0 + rng.uniform(40, side[1] * 0.4, n),
                              rng.integers(0, 20, n)], axis=1).astype(np.float32)
            if k < DETECTION_RECORDS:  # GluonCV's SSD side runs at ~50 img/s: a shorter epoch keeps pairs short
                det.write_image(k, detection_vector(boxes, (side[1], side[0])), data)
    return {**paths, "records": count, "detection_records": min(count, DETECTION_RECORDS),
            "mean_kb": sum(sizes) / len(sizes) / 1024}


# -- the rows (each in its own interpreter) ------------------------------------------------------------------
def row_ours(rec: str, threads: int):
    from gluon_augplug import augment
    from gluon_augplug.data.loader import BatchLoader
    from gluon_augplug.data.streaming import RecordDataset

    data = augment(RecordDataset(rec, encoded=True), "imagenet-standard", seed=0)
    loader = BatchLoader(data, BATCH, shuffle=True, threads=threads)

    return batches_of(loader)


def row_imagerecorditer(rec: str, threads: int):
    import mxnet as mx

    # GluonCV's train_imagenet.py --use-rec arguments
    it = mx.io.ImageRecordIter(path_imgrec=rec, path_imgidx=rec[:-4] + ".idx", preprocess_threads=threads,
                               shuffle=True, batch_size=BATCH, data_shape=(3, 224, 224), mean_r=MEAN[0],
                               mean_g=MEAN[1], mean_b=MEAN[2], std_r=STD[0], std_g=STD[1], std_b=STD[2],
                               rand_mirror=True, random_resized_crop=True, max_aspect_ratio=4. / 3.,
                               min_aspect_ratio=3. / 4., max_random_area=1, min_random_area=0.08, brightness=0.4,
                               saturation=0.4, contrast=0.4, pca_noise=0.1)

    def epoch():
        it.reset()
        for batch in it:
            batch.data[0].wait_to_read()
            yield BATCH - batch.pad

    return epoch


def row_gluoncv(rec: str, threads: int):
    from mxnet import gluon
    from mxnet.gluon.data.vision import transforms

    # GluonCV's train_imagenet.py without --use-rec: the dataset's NDArray images through MXNet's transforms
    train = transforms.Compose([
        transforms.RandomResizedCrop(224), transforms.RandomFlipLeftRight(),
        transforms.RandomColorJitter(brightness=0.4, contrast=0.4, saturation=0.4), transforms.RandomLighting(0.1),
        transforms.ToTensor(), transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    data = gluon.data.vision.ImageRecordDataset(rec).transform_first(train)
    loader = gluon.data.DataLoader(data, BATCH, shuffle=True, num_workers=0)

    return batches_of(loader)


def row_decode(rec: str, threads: int):
    from concurrent.futures import ThreadPoolExecutor

    import simplejpeg

    from gluon_augplug.data.streaming import RecordDataset

    data = RecordDataset(rec, encoded=True)
    encoded = [data[i][0].data for i in range(len(data))]
    pool = ThreadPoolExecutor(threads)

    def epoch():
        for k in range(0, len(encoded), BATCH):
            for _ in pool.map(simplejpeg.decode_jpeg, encoded[k:k + BATCH], chunksize=BATCH // (2 * threads)):
                pass
            yield len(encoded[k:k + BATCH])

    return epoch


def row_dali(rec: str, threads: int):
    from nvidia.dali import fn, pipeline_def, types

    @pipeline_def(batch_size=BATCH, num_threads=threads, device_id=None, seed=0, prefetch_queue_depth=2)
    def imagenet():
        jpegs, labels = fn.readers.mxnet(path=rec, index_path=rec[:-4] + ".idx", random_shuffle=True, name="reader")
        images = fn.decoders.image_random_crop(jpegs, device="cpu", output_type=types.RGB,
                                               random_aspect_ratio=[3 / 4, 4 / 3], random_area=[0.08, 1.0])
        images = fn.resize(images, resize_x=224, resize_y=224)
        images = fn.color_twist(images, brightness=fn.random.uniform(range=[0.6, 1.4]),
                                contrast=fn.random.uniform(range=[0.6, 1.4]),
                                saturation=fn.random.uniform(range=[0.6, 1.4]))
        images = fn.crop_mirror_normalize(images, dtype=types.FLOAT, output_layout="CHW", mean=list(MEAN),
                                          std=list(STD), mirror=fn.random.coin_flip())
        return images, labels

    pipe = imagenet()
    pipe.build()
    size = pipe.epoch_size("reader")

    def epoch():
        n = 0
        while n < size:
            images, _ = pipe.run()
            n += len(images)
            yield len(images)

    return epoch


def row_ours_boxes(rec: str, threads: int):
    from gluon_augplug import augment
    from gluon_augplug.data.loader import BatchLoader
    from gluon_augplug.data.streaming import RecordDetectionDataset

    data = augment(RecordDetectionDataset(rec, encoded=True), "ssd-train", seed=0, targets="boxes")
    loader = BatchLoader(data, BATCH, shuffle=True, threads=threads)

    return batches_of(loader)


def row_gluoncv_boxes(rec: str, threads: int):
    from gluoncv.data import RecordFileDetection
    from gluoncv.data.batchify import Pad, Stack, Tuple
    from gluoncv.data.transforms.presets.ssd import SSDDefaultTrainTransform
    from mxnet import gluon

    data = RecordFileDetection(rec).transform(SSDDefaultTrainTransform(300, 300))  # without anchors: image, boxes
    loader = gluon.data.DataLoader(data, BATCH, shuffle=True, num_workers=0, batchify_fn=Tuple(Stack(), Pad(pad_val=-1)))

    return batches_of(loader)


def row_memory(rec: str) -> dict:
    """Peak memory while every record of a multi-GB file is read (by offset, in shuffled order)."""
    import numpy as np

    from gluon_augplug.data.streaming import RecordDataset

    data = RecordDataset(rec, encoded=True)
    before = peak_mb()
    start = time.perf_counter()
    for i in np.random.default_rng(0).permutation(len(data)):
        data[int(i)]
    return {"img_per_s": len(data) / (time.perf_counter() - start), "rss_before_mb": before}


ROWS = {"ours": row_ours, "imagerecorditer": row_imagerecorditer, "gluoncv": row_gluoncv, "decode": row_decode,
        "dali": row_dali, "ours-boxes": row_ours_boxes, "gluoncv-boxes": row_gluoncv_boxes}


def workload(which: str, rec: str, threads: int = 1):
    """An epoch of ``which`` over the records of ``rec`` with ``threads`` threads, as a call that returns the
    images it delivered (worker.py times it). Whole epochs: ImageRecordIter decodes most of an epoch at its
    reset, and every loader here works ahead of the batch it hands over, so a part of an epoch is not its share
    of the work."""
    epoch = ROWS[which](rec, threads)
    return lambda: sum(epoch())


def write_big(rec: str, out: Path, gigabytes: float) -> str:
    """A multi-GB .rec: the photos' records repeated (the memory row reads it whole, by offset)."""
    sys.path.insert(0, str(ROOT))
    from gluon_augplug.io.recordio import RecordWriter
    from gluon_augplug.data.streaming import RecordDataset

    source = RecordDataset(rec)
    records = [source.record(i)[:2] for i in range(len(source))]
    path = str(out / "big.rec")
    written, key = 0, 0
    with RecordWriter(path) as w:
        while written < gigabytes * 2**30:
            label, data = records[key % len(records)]
            w.write_image(key, label, data)
            written += len(data) + 32
            key += 1
    return path


def memory(rec: str, out: Path, gigabytes: float) -> dict:
    """Peak memory of a fresh process reading every record of a ``gigabytes`` copy of ``rec`` by offset."""
    big = write_big(rec, out, gigabytes)
    try:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.run([sys.executable, __file__, "memory", big], capture_output=True, text=True, timeout=1800,
                              env=env, cwd=ROOT)
        if proc.returncode != 0:
            return {"error": f"exit {proc.returncode}: {' | '.join((proc.stderr or proc.stdout).strip().splitlines()[-2:])}"}
        return {**json.loads(proc.stdout.strip().splitlines()[-1]), "file_gb": os.path.getsize(big) / 2**30}
    finally:
        os.remove(big)
        os.remove(big[:-4] + ".idx")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("memory").add_argument("rec")
    args = p.parse_args()
    print(json.dumps({**row_memory(args.rec), "peak_rss_mb": peak_mb()}))


if __name__ == "__main__":
    main()
