"""The ImageNet recipe from RecordIO: ours against MXNet's C++ ImageRecordIter, GluonCV's Python path, DALI's
CPU pipeline and libjpeg-turbo decoding alone, on the same records, one process each (peak memory per row).

    python benchmarks/recordio.py [--out runs/bench/recordio] [--quick]

Builds ``photos.rec`` (real photographs: scikit-image's, the cat, the VOC cat; random crops resized to
ImageNet's typical 500x375, JPEG quality 90) and a detection ``.rec`` in GluonCV's RecordFileDetection layout,
then times each row in a fresh interpreter: ``row --which NAME`` prints one JSON line. DALI runs in its own
environment (``.bench/dali``, nvidia-dali-cuda120 without a GPU). Imports stay inside the rows: the DALI
environment has neither MXNet nor gluon_augplug.
"""
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


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(epoch, passes: int) -> float:
    """Images/second of the best of ``passes`` timed epochs after one warm-up epoch."""
    epoch()
    rates = []
    for _ in range(passes):
        start = time.perf_counter()
        n = epoch()
        rates.append(n / (time.perf_counter() - start))
    return max(rates)


def batches_seen(loader) -> int:
    """One epoch of a loader of (data, label) batches; the number of images, once the last is computed."""
    n = 0
    for x, _ in loader:
        n += x.shape[0]
    x.wait_to_read()
    return n


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
            det.write_image(k, detection_vector(boxes, (side[1], side[0])), data)
    return {**paths, "records": count, "mean_kb": sum(sizes) / len(sizes) / 1024}


# -- the rows (each in its own interpreter) ------------------------------------------------------------------
def row_ours(rec: str, threads: int, passes: int) -> float:
    from gluon_augplug import augment
    from gluon_augplug.data.loader import BatchLoader
    from gluon_augplug.data.streaming import RecordDataset

    data = augment(RecordDataset(rec, encoded=True), "imagenet-standard", seed=0)
    loader = BatchLoader(data, BATCH, shuffle=True, threads=threads)

    return timed(lambda: batches_seen(loader), passes)


def row_imagerecorditer(rec: str, threads: int, passes: int) -> float:
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
        n = 0
        for batch in it:
            n += BATCH - batch.pad
        batch.data[0].wait_to_read()
        return n

    return timed(epoch, passes)


def row_gluoncv(rec: str, threads: int, passes: int) -> float:
    from mxnet import gluon
    from mxnet.gluon.data.vision import transforms

    # GluonCV's train_imagenet.py without --use-rec: the dataset's NDArray images through MXNet's transforms
    train = transforms.Compose([
        transforms.RandomResizedCrop(224), transforms.RandomFlipLeftRight(),
        transforms.RandomColorJitter(brightness=0.4, contrast=0.4, saturation=0.4), transforms.RandomLighting(0.1),
        transforms.ToTensor(), transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    data = gluon.data.vision.ImageRecordDataset(rec).transform_first(train)
    loader = gluon.data.DataLoader(data, BATCH, shuffle=True, num_workers=0)

    return timed(lambda: batches_seen(loader), passes)


def row_decode(rec: str, threads: int, passes: int) -> float:
    from concurrent.futures import ThreadPoolExecutor

    import simplejpeg

    from gluon_augplug.data.streaming import RecordDataset

    data = RecordDataset(rec, encoded=True)
    encoded = [data[i][0].data for i in range(len(data))]
    pool = ThreadPoolExecutor(threads)

    def epoch():
        for _ in pool.map(simplejpeg.decode_jpeg, encoded, chunksize=16):
            pass
        return len(encoded)

    return timed(epoch, passes)


def row_dali(rec: str, threads: int, passes: int) -> float:
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
        return size

    return timed(epoch, passes)


def row_ours_boxes(rec: str, threads: int, passes: int) -> float:
    from gluon_augplug import augment
    from gluon_augplug.data.loader import BatchLoader
    from gluon_augplug.data.streaming import RecordDetectionDataset

    data = augment(RecordDetectionDataset(rec, encoded=True), "ssd-train", seed=0, targets="boxes")
    loader = BatchLoader(data, BATCH, shuffle=True, threads=threads)

    return timed(lambda: batches_seen(loader), passes)


def row_gluoncv_boxes(rec: str, threads: int, passes: int) -> float:
    from gluoncv.data import RecordFileDetection
    from gluoncv.data.batchify import Pad, Stack, Tuple
    from gluoncv.data.transforms.presets.ssd import SSDDefaultTrainTransform
    from mxnet import gluon

    data = RecordFileDetection(rec).transform(SSDDefaultTrainTransform(300, 300))  # without anchors: image, boxes
    loader = gluon.data.DataLoader(data, BATCH, shuffle=True, num_workers=0, batchify_fn=Tuple(Stack(), Pad(pad_val=-1)))

    return timed(lambda: batches_seen(loader), passes)


def row_memory(rec: str, threads: int, passes: int) -> float:
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
        "dali": row_dali, "ours-boxes": row_ours_boxes, "gluoncv-boxes": row_gluoncv_boxes, "memory": row_memory}


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


def run_row(which: str, rec: str, threads: int, passes: int, python: str = sys.executable) -> dict:
    cmd = [python, __file__, "row", "--which", which, "--rec", rec, "--threads", str(threads), "--passes", str(passes)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, env=env, cwd=ROOT)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-2:]
        return {"error": f"exit {proc.returncode}: {' | '.join(tail)}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(out: Path, shared: Path, quick: bool) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    data = build_records(out, 120 if quick else 600, shared)
    passes = 1 if quick else 3
    rows = {}
    plan = [("ours", 1), ("ours", 2), ("imagerecorditer", 1), ("imagerecorditer", 2), ("gluoncv", 1),
            ("dali", 1), ("dali", 2), ("decode", 1), ("decode", 2)]
    for which, threads in plan:
        print(f"  {which}, {threads} thread(s) ...", flush=True)
        if which == "dali" and not DALI_PYTHON.exists():
            rows[f"{which}-{threads}"] = {"error": f"no environment at {DALI_PYTHON} (make bench creates it)"}
            continue
        rows[f"{which}-{threads}"] = run_row(which, data["rec"], threads, passes,
                                             str(DALI_PYTHON) if which == "dali" else sys.executable)
    for which in ("ours-boxes", "gluoncv-boxes"):
        print(f"  {which} ...", flush=True)
        rows[f"{which}-1"] = run_row(which, data["det"], 1, passes)
    big_gb = 0.25 if quick else 2.0
    print(f"  memory while reading a {big_gb} GB file ...", flush=True)
    big = write_big(data["rec"], out, big_gb)
    rows["memory-1"] = {**run_row("memory", big, 1, 1), "file_gb": os.path.getsize(big) / 2**30}
    os.remove(big)
    os.remove(big[:-4] + ".idx")
    return {"data": data, "rows": rows}


def rate(rows: dict, key: str):
    return rows.get(key, {}).get("img_per_s")


def report(result: dict) -> str:
    rows, data = result["rows"], result["data"]
    names = {"ours": "ours: RecordDataset(encoded) + imagenet-standard + BatchLoader",
             "imagerecorditer": "MXNet ImageRecordIter (C++), GluonCV's --use-rec arguments",
             "gluoncv": "GluonCV's Python path: ImageRecordDataset + MXNet transforms + DataLoader",
             "dali": "DALI 2.4 CPU pipeline (readers.mxnet, image_random_crop, resize, color_twist, crop_mirror_normalize)",
             "decode": "limit: libjpeg-turbo decoding alone (simplejpeg)",
             "ours-boxes": "ours: RecordDetectionDataset(encoded) + ssd-train with boxes + BatchLoader",
             "gluoncv-boxes": "GluonCV: RecordFileDetection + SSDDefaultTrainTransform(300, 300) + DataLoader"}
    lines = [f"## ImageNet recipe from RecordIO ({data['records']} records of real photos, ~500x375, "
             f"{data['mean_kb']:.0f} KB each; batch {BATCH}; one process; images/second, best of the timed epochs)", "",
             "| row | threads | images/s | vs ImageRecordIter (same threads) | peak RSS (MB) |", "|---|---|---|---|---|"]
    for key, r in rows.items():
        which, threads = key.rsplit("-", 1)
        if which == "memory":
            continue
        if "error" in r:
            lines.append(f"| {names[which]} | {threads} | error: {r['error']} | | |")
            continue
        anchor = rate(rows, f"imagerecorditer-{threads}") if which in ("ours", "dali", "gluoncv") else None
        versus = f"{r['img_per_s'] / anchor:.2f}x" if anchor else "-"
        lines.append(f"| {names[which]} | {threads} | {r['img_per_s']:.0f} | {versus} | {r['peak_rss_mb']:.0f} |")
    memory = rows.get("memory-1", {})
    if "peak_rss_mb" in memory:
        lines += ["", f"Memory: reading every record of a {memory['file_gb']:.2f} GB .rec by offset in shuffled "
                      f"order ({memory['img_per_s']:.0f} records/s), peak RSS {memory['peak_rss_mb']:.0f} MB against "
                      f"{memory['rss_before_mb']:.0f} MB once its index was read: the file is never held."]
    lines += ["", "Targets:"] + [f"- {t}" for t in targets(rows)]
    return "\n".join(lines)


def targets(rows: dict) -> list:
    def check(label, a, b, goal):
        ra, rb = rate(rows, a), rate(rows, b)
        if not ra or not rb:
            return f"{label}: not measured"
        value = ra / rb
        return f"{label}: {value:.2f}x (target {goal}x): " + ("met" if value >= goal else
                                                               f"MISSED by {100 * (1 - value / goal):.0f}%")

    return [check("1 thread vs ImageRecordIter 1 thread", "ours-1", "imagerecorditer-1", 2),
            check("2 threads vs ImageRecordIter 2 threads", "ours-2", "imagerecorditer-2", 2),
            check("1 thread vs DALI's CPU pipeline 1 thread", "ours-1", "dali-1", 2),
            check("2 threads vs DALI's CPU pipeline 2 threads", "ours-2", "dali-2", 2),
            check("1 thread vs the decode-only limit", "ours-1", "decode-1", 0.6),
            check("2 threads vs 1 thread", "ours-2", "ours-1", 1.7),
            check("SSD recipe with boxes from RecordIO vs GluonCV", "ours-boxes-1", "gluoncv-boxes-1", 3)]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command")
    r = sub.add_parser("row")
    r.add_argument("--which", choices=sorted(ROWS), required=True)
    r.add_argument("--rec", required=True)
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--passes", type=int, default=3)
    p.add_argument("--out", default=str(ROOT / "runs" / "bench" / "recordio"))
    p.add_argument("--shared", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    if args.command == "row":
        value = ROWS[args.which](args.rec, args.threads, args.passes)
        print(json.dumps({**(value if isinstance(value, dict) else {"img_per_s": value}), "peak_rss_mb": peak_mb()}))
        return
    result = measure(Path(args.out), Path(args.shared), args.quick)
    text = report(result)
    print(text)
    (Path(args.out) / "results.json").write_text(json.dumps(result, indent=1))
    (Path(args.out) / "results.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
