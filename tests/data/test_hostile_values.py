"""Hostile values, each a named error where it enters: labels in RecordIO records (NaN, inf, 1e9, -1), empty
record files, clip settings out of any range, numbers in spec files too long to convert or print, a pipeline
that cannot feed a network, and file names holding a newline (one line of error, always)."""
from __future__ import annotations

import json
import re
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gluon_augplug import build_pipeline
from gluon_augplug.data.clips import ClipDataset
from gluon_augplug.io.decode import encode_jpeg
from gluon_augplug.io.formats import DataFormatError
from gluon_augplug.io.recordio import RecordIOError, RecordWriter
from gluon_augplug.data.streaming import RecordDataset, RecordDetectionDataset
from gluon_augplug.data.video import read_frames_folder, read_video
from gluon_augplug.errors import AugplugError, InputError, SpecError, SpecSyntaxError, brief, printable
from tests.cli_helpers import run as run_cli

JPEG = encode_jpeg(np.full((8, 8, 3), 90, np.uint8), 90)
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def raw_header(label, key):
    """MXNet's IRHeader as any tool may write it: RecordWriter itself refuses labels its readers would refuse."""
    if np.ndim(label) == 0:
        return struct.pack("<IfQQ", 0, label, key, 0)
    values = np.asarray(label, np.float32)
    return struct.pack("<IfQQ", values.size, 0.0, key, 0) + values.tobytes()


def _records(path, labels):
    with RecordWriter(str(path)) as w:
        for key, label in enumerate(labels):
            w.write(key, raw_header(label, key) + JPEG)
    return str(path)


def test_the_writer_refuses_labels_its_readers_would_refuse(tmp_path):
    with RecordWriter(str(tmp_path / "w.rec")) as w:
        for label, message in ((1e40, "the label 1e+40 would not read back"), (float("nan"), "the label nan"),
                               (10 ** 400, "the label <an integer of about 400 digits> is not a number"),
                               ([1.0, float("inf")], "the label inf"), ("x", "the label 'x' is not a number"),
                               ([], "the label [] is not a number or a non-empty sequence"),
                               (np.timedelta64(5, "s"), f"the label {np.timedelta64(5, 's')!r} is not a number"),
                               (1 + 2j, "the label (1+2j) is not"),
                               ([1, [2, 3]], "the label [1, [2, 3]] is not a number")):
            with pytest.raises(RecordIOError, match=rf"w.rec: record key 3: {re.escape(message)}"):
                w.write_image(3, label, JPEG)
        w.write_image(0, 2.0, JPEG)
        w.write_image(1, np.array(3.0), JPEG)  # a 0-d array or a numpy scalar is a number, as a float is
        w.write_image(2, np.int64(4), JPEG)
    data = RecordDataset(str(tmp_path / "w.rec"))
    assert [data[i][1] for i in range(3)] == [2.0, 3.0, 4.0]
    data.check_class_labels()


@pytest.mark.parametrize("label, shown", [(float("nan"), "nan"), (float("inf"), "inf"), (-float("inf"), "-inf"),
                                          (1e9, "1e+09"), (1e30, "1e+30")])
def test_labels_that_are_no_number_or_too_large_are_named_with_the_record(tmp_path, label, shown):
    rec = _records(tmp_path / "h.rec", [1.0, label])
    data = RecordDataset(rec)
    message = rf"h.rec: record 1 \(key 1\) at offset \d+ has the label {re.escape(shown)}: a label must be a finite"
    with pytest.raises(RecordIOError, match=message):
        data[1]
    with pytest.raises(RecordIOError, match=r"h.rec: record 1 at offset \d+ has the label"):
        data.classes  # noqa: B018 - the header scan the training loop runs first
    assert data[0][1] == 1.0


@pytest.mark.parametrize("labels, bad", [([-1.0, -1.0], "-1"), ([0.0, 2.5], "2.5"), ([0.0, 2e6], "2000000")])
def test_labels_that_are_not_classes_are_refused_when_classes_are_counted(tmp_path, labels, bad):
    data = RecordDataset(_records(tmp_path / "c.rec", labels))
    index = labels.index(float(bad)) if float(bad) in labels else 1
    with pytest.raises(DataFormatError, match=rf"c.rec: record {index} \(key {index}, offset \d+\) has the label "
                                              rf"{bad}, not a class number \(an integer from 0 to 1,048,575\)"):
        data.classes  # noqa: B018


def test_empty_record_files_and_indexes_are_refused(tmp_path):
    (tmp_path / "e.rec").write_bytes(b"")
    with pytest.raises(RecordIOError, match=r"e.rec holds no records \(a 0-byte file; a scan of it found none\)"):
        with pytest.warns(UserWarning, match="no index"):
            RecordDataset(str(tmp_path / "e.rec"))
    _records(tmp_path / "i.rec", [0.0])
    (tmp_path / "i.idx").write_text("")
    with pytest.raises(RecordIOError, match=r"i.rec holds no records \(a \d+-byte file; its index .*i.idx' lists none"):
        RecordDataset(str(tmp_path / "i.rec"))


@pytest.mark.parametrize("vector", [[float("nan"), 5, 0, 0.1, 0.1, 0.5, 0.5], [2, float("inf"), 0, 0.1, 0.1, 0.5, 0.5],
                                    [2, 5, 0, float("nan"), 0.1, 0.5, 0.5], [2, 5, 0, 0.1, 0.1, 0.5, 1e30]])
def test_detection_records_with_nan_or_inf_fields_are_named(tmp_path, vector):
    rec = _records(tmp_path / "d.rec", [vector])
    with pytest.raises(RecordIOError, match=r"d.rec: record 0 \(key 0\) at offset 0 has the label .* \(label \d of 7\)"):
        RecordDetectionDataset(rec)[0]


def test_a_detection_set_still_counts_classes_past_records_without_objects(tmp_path):
    rec = _records(tmp_path / "d.rec", [[2, 5, 3, 0.1, 0.1, 0.5, 0.5], [2.0, 5.0]])
    assert RecordDetectionDataset(rec).classes == ["0", "1", "2", "3"]


@pytest.mark.pinned
def test_training_on_hostile_records_ends_in_one_line(tmp_path):
    train = _records(tmp_path / "t.rec", [0.0, 1.0, float("nan")])
    val = _records(tmp_path / "v.rec", [0.0, 1.0])
    proc = run_cli("train", "--data", train, "--val-data", val, "--model", "cifar_resnet20_v1", "--epochs", "1",
                   "--batch-size", "2", "--train-aug", "Resize(32), ToTensor", "--test-aug", "Resize(32), ToTensor")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "t.rec: record 2 at offset" in proc.stderr and "has the label nan" in proc.stderr
    (tmp_path / "empty.rec").write_bytes(b"")
    (tmp_path / "empty.idx").write_text("")
    proc = run_cli("train", "--data", str(tmp_path / "empty.rec"), "--val-data", val, "--epochs", "1")
    assert proc.returncode == 2 and "empty.rec holds no records" in proc.stderr, proc.stderr


@pytest.fixture
def setting(tmp_path):
    (tmp_path / "s.txt").write_text("v1 10 0\n")
    return str(tmp_path / "s.txt")


@pytest.mark.parametrize("option, value, message", [
    ("num_segments", 10**30, "num_segments must be an integer from 1 to 4096"),
    ("new_length", 10**30, "new_length must be an integer from 1 to 4096"),
    ("new_step", 10**30, "new_step must be an integer from 1 to 4096"),
    ("fast_temporal_stride", 10**30, "fast_temporal_stride must be an integer from 1 to 4096"),
    ("new_width", 100_000, r"new_width must be an integer from 0 \(keep\) to 16384, got 100000"),
    ("new_height", -1, r"new_height must be an integer from 0 \(keep\) to 16384"),
    ("name_pattern", "img_%05d_%05d.jpg", "name_pattern 'img_%05d_%05d.jpg' must be a file name with one integer field"),
    ("name_pattern", "img_%", "name_pattern 'img_%' must be a file name with one integer field"),
    ("name_pattern", "img.jpg", "name_pattern 'img.jpg' must be a file name with one integer field"),
    ("name_pattern", "%%", "name_pattern '%%' must be a file name with one integer field"),
    ("name_pattern", "../%05d.jpg", "name_pattern '../%05d.jpg' must be a file name inside the frame folder"),
    ("name_pattern", 5, "name_pattern 5 must be a string, got int"),
    ("name_pattern", "%c", "name_pattern '%c' must be a file name with one integer field"),
    ("name_pattern", "%.900000000d", "name_pattern '%.900000000d' must be a file name with one integer field"),
    ("name_pattern", "%999999999d", "name_pattern .%999999999d. must be a file name with one integer field such as "
                                    "%05d \\(width at most 99\\)"),
    ("name_pattern", "/etc/img_%05d.jpg", "name_pattern '/etc/img_%05d.jpg' must be a file name inside the frame"),
    ("slowfast", True, "slowfast needs .*new_length at least slow_temporal_stride"),
    ("setting", None, "setting must be a path, got NoneType"),
    ("backend", "ffmpeg", "backend must be one of auto, decord, av, got 'ffmpeg'"),
    ("video_ext", "../mp4", "video_ext must be a file extension"),
    ("seed", -1, r"seed must be None or an integer in \[0, 2\*\*128\)"),
])
def test_clip_settings_out_of_range_are_named_at_construction(setting, option, value, message):
    options = {"setting": setting, option: value}
    with pytest.raises(InputError, match=f"ClipDataset: {message}"):
        ClipDataset(**options)


def test_a_name_pattern_with_a_folder_and_a_percent_sign_still_reads(tmp_path, cat_path):
    (tmp_path / "v1" / "rgb").mkdir(parents=True)
    for i in (1, 2):
        (tmp_path / "v1" / "rgb" / f"100%_{i:03d}.jpg").write_bytes(cat_path.read_bytes())
    (tmp_path / "s.txt").write_text("v1 2 0\n")
    clip, label = ClipDataset(str(tmp_path / "s.txt"), str(tmp_path), name_pattern="rgb/100%%_%03d.jpg", new_width=64,
                              new_height=48)[0]
    assert clip.shape == (1, 48, 64, 3) and label == 0


@pytest.mark.parametrize("line", ["v1 1000000000000000000000000000000 0", "v1 10 1000000000000000000000000000000",
                                  "v1 10 -1"])
def test_setting_lines_with_numbers_out_of_range_are_named(tmp_path, line):
    (tmp_path / "s.txt").write_text(line + "\n")
    with pytest.raises(DataFormatError, match=r"s.txt:1: num_frames must be from 0 to 10,000,000 and label from 0"):
        ClipDataset(str(tmp_path / "s.txt"))


@pytest.mark.parametrize("indices, new_wh, message", [
    ([], None, "indices must be non-negative integer frame numbers"), ([float("nan")], None, "got nan"),
    (["a"], None, "got 'a'"), (None, None, "indices must be a sequence of frame numbers, got NoneType"),
    ([-1], None, "got -1"), ([0], 5, "new_wh must be a \\(width, height\\) pair or None, got 5"),
    ([0], (1,), "new_wh must be a"), ([0], (10, 10, 10), "new_wh must be a"),
])
def test_the_frame_readers_name_bad_arguments(tmp_path, indices, new_wh, message):
    for reader in (lambda: read_frames_folder(str(tmp_path), indices, "img_%05d.jpg", new_wh),
                   lambda: read_video(str(tmp_path / "v.mp4"), indices, "av", new_wh)):
        with pytest.raises(InputError, match=message):
            reader()


def test_the_video_readers_check_their_settings(tmp_path):
    with pytest.raises(InputError, match="read_frames_folder: name_pattern '%d%d' must be a file name with one integer"):
        read_frames_folder(str(tmp_path), [0], "%d%d")
    with pytest.raises(InputError, match=r"read_video: new_width must be an integer from 0 \(keep\) to 16384"):
        read_video(str(tmp_path / "v.mp4"), [0], "av", (100_000, 10))


@pytest.mark.parametrize("suffix, text, where", [
    (".json", '[{"name": "RandomCrop", "params": {"size": %s}}]' % ("9" * 5000), ""),
    (".json", '[{"name": "RandomBrightness", "params": {"brightness": 0.%s}}]' % ("5" * 5000), ""),
    (".yaml", "- name: RandomCrop\n  params: {size: %s}\n" % ("9" * 5000), " at line 2, column 18"),
    (".yaml", "- name: RandomCrop\n  params: {size: 0x%s}\n" % ("f" * 5000), " at line 2, column 18"),
    (".yaml", "- RandomCrop: {size: 0b%s}\n" % ("1" * 70), " at line 1, column 22"),
])
def test_numbers_too_long_in_spec_files_are_refused_before_conversion(tmp_path, plugin_system, suffix, text, where):
    path = tmp_path / f"p{suffix}"
    path.write_text(text)
    with pytest.raises(SpecError, match=rf"pipeline file .*: a number written with [\d,]+ characters{where}, more than "
                                        rf"the limit of 64"):
        build_pipeline(str(path))


def test_integers_past_2_to_the_128_are_refused_in_spec_strings_and_files(tmp_path, plugin_system):
    with pytest.raises(SpecSyntaxError, match=r"an integer of 20,000 bits \(<an integer of about 6,020 digits>\), more "
                                              r"than the limit of 128 bits .* at position 12"):
        build_pipeline("RandomCrop(0x" + "f" * 5000 + ")")
    with pytest.raises(SpecSyntaxError, match=r"a number written with 5,000 characters, more than the limit of 64 .* "
                                              r"at position 17"):
        build_pipeline("RandomCrop(size=" + "9" * 5000 + ")")
    with pytest.raises(SpecError, match=r"spec holds an integer of 20,001 bits"):
        build_pipeline([{"name": "RandomCrop", "params": {"size": [16 ** 5000, 3]}}])
    (tmp_path / "p.yaml").write_text("- RandomCrop: {size: [0x%s, 1]}\n" % ("f" * 50))
    with pytest.raises(SpecError, match=r"pipeline file .* holds an integer of 200 bits"):
        build_pipeline(str(tmp_path / "p.yaml"))


@FUZZ
@given(st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.text(alphabet="0123456789xob_.eE+-",
                                                                                      max_size=200)),
       st.sampled_from([".json", ".yaml"]), st.sampled_from(["size", "pad", "brightness", "seed", "p"]))
def test_numeric_fields_of_spec_files(tmp_path_factory, plugin_system, number, suffix, name):
    """Whatever number (or number-like text) a field holds, building the file's pipeline raises the package's
    own errors only, and every message formats."""
    folder = tmp_path_factory.mktemp("spec")
    literal = number if isinstance(number, str) else json.dumps(number)
    step = "RandomBrightness" if name in ("brightness", "p") else "RandomCrop"
    if suffix == ".json":
        text = '[{"name": "%s", "params": {"%s": %s}}, {"name": "ToTensor"}]' % (step, name, literal)
    else:
        text = f"- {step}: {{{name}: {literal}}}\n- ToTensor\n"
    (folder / f"p{suffix}").write_text(text)
    try:
        build_pipeline(str(folder / f"p{suffix}"))
    except AugplugError as exc:
        assert str(exc)


def test_python_structures_that_hold_themselves_huge_keys_seeds_or_undecodable_bytes(plugin_system, tmp_path):
    looped: list = []
    looped.append(looped)
    with pytest.raises(SpecError, match="spec contains itself"):
        build_pipeline([{"name": "Resize", "args": looped}])
    with pytest.raises(SpecError, match="spec holds an integer of 16,610 bits"):
        build_pipeline({10 ** 5000: 1})
    for call in (lambda: build_pipeline("Resize(32)", seed=10 ** 5000),
                 lambda: build_pipeline({"seed": -1, "transforms": ["ToTensor"]})):
        with pytest.raises(SpecError, match=r"seed must be a non-negative integer below 2\*\*128 or None"):
            call()
    with pytest.raises(SpecSyntaxError, match=r"a byte that is not UTF-8 text .* at position 11 of the spec:\n  "
                                              r"Resize\(32\)\\udcff"):
        build_pipeline("Resize(32)\udcff")
    (tmp_path / "k.json").write_text('[{"name": "RandomCrop", "params": {"%s": 3}}]' % ("9" * 5000))
    with pytest.raises(SpecError) as info:
        build_pipeline(str(tmp_path / "k.json"))
    assert "unknown parameter '9999" in str(info.value) and len(str(info.value)) < 400


@pytest.mark.parametrize("spec, message", [
    ({"name": "RandomFlipLeftRight", 1: 2, "x": 3}, r"keys of a transform item and of its parameters are names "
                                                    r"\(strings\), got 1 \(int\)"),
    ({"transforms": ["RandomFlipLeftRight"], 1: 2, "x": 3}, r"unknown key\(s\) 'x', 1; a pipeline mapping has"),
    ({"name": "RandomFlipLeftRight", "params": {1: 2}}, r"got 1 \(int\)"),
    ({"RandomFlipLeftRight": {None: 2}}, r"got None \(NoneType\)"),
    ({"name": "RandomFlipLeftRight", "params": {b"p": 0.5}}, r"got b'p' \(bytes\)"),
    ({"name": "A" * 10 ** 6}, r"unknown transform 'AAAA.* \.\.\.> \(`augplug transforms` lists them all\)$"),
])
def test_python_specs_with_keys_that_are_not_names(plugin_system, spec, message):
    with pytest.raises(AugplugError, match=message) as info:
        build_pipeline(spec)
    assert len(str(info.value)) < 400


@pytest.mark.pinned
def test_vector_labels_are_refused_before_a_classifier_trains(tmp_path):
    from gluon_augplug.train.config import TrainConfig
    from gluon_augplug.train.loop import Run

    good = _records(tmp_path / "good.rec", [0.0, 1.0])
    vector = _records(tmp_path / "vec.rec", [0.0, [1.0, 2.0, 3.0]])
    for data, val in ((vector, good), (good, vector)):
        cfg = TrainConfig(data=data, val_data=val, model="cifar_resnet20_v1", epochs=1, batch_size=2,
                          train_aug="Resize(32), ToTensor", test_aug="Resize(32), ToTensor", progress=False)
        with pytest.raises(DataFormatError, match=r"vec.rec: record 1 \(key 1, offset \d+\) has a vector label \(a "
                                                  r"detection or multi-label file\?\)"):
            Run(cfg, lambda line: None)


@pytest.mark.pinned
def test_cli_warnings_are_one_line_too(tmp_path):
    rec = _records(tmp_path / "n.rec", [0.0, 1.0])
    (tmp_path / "n.idx").unlink()
    proc = run_cli("train", "--data", rec, "--val-data", rec, "--train-aug", "Resize(4), ToTensor", "--test-aug",
                   "Resize(4), ToTensor", "--model", "cifar_resnet20_v1", "--epochs", "1", "--batch-size", "2")
    assert proc.returncode == 0, proc.stderr
    warning = [line for line in proc.stderr.splitlines() if "no index" in line]
    assert warning and all(line.startswith("augplug: warning: ") for line in warning), proc.stderr
    assert "UserWarning" not in proc.stderr and "warnings.warn" not in proc.stderr


def test_brief_never_fails_on_what_it_formats():
    class Broken:
        def __repr__(self):
            raise RuntimeError("no")

    assert brief(16 ** 5000) == "<an integer of about 6,020 digits>"
    assert brief([16 ** 5000]) == "<a list that cannot be printed>"
    assert brief(Broken()) == "<a Broken that cannot be printed>"


@pytest.mark.pinned
def test_a_pipeline_that_does_not_end_in_a_tensor_is_named_before_training(tmp_path):
    from tests.conftest import shared_file

    proc = run_cli("train", "--data", str(shared_file("cifar10-jpg.tar.gz")), "--train-aug", "RandomFlipLeftRight",
                   "--train-limit", "20", "--test-limit", "20", "--epochs", "1", "--out", str(tmp_path / "r"))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "--train-aug 'RandomFlipLeftRight' ends in HWC images, but the network takes float CHW tensors" in proc.stderr
    assert not (tmp_path / "r").exists()


def test_a_file_name_with_a_newline_stays_on_one_line_of_error(tmp_path, cat_path):
    tree = tmp_path / "tree" / "a"
    tree.mkdir(parents=True)
    (tree / "bad\nname.jpg").write_bytes(cat_path.read_bytes()[:3000])
    proc = run_cli("pack", str(tmp_path / "tree"), str(tmp_path / "out"))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "bad\\nname.jpg" in proc.stderr
    assert printable("a\nb\x1b[2Jc") == "a\\nb\\x1b[2Jc"
    assert printable("spec error:\n  Name(\r)\n  ^", lines=True) == "spec error:\n  Name(\\r)\n  ^"


def test_struct_labels_written_by_other_tools_still_read(tmp_path):
    """Labels in range written by hand (MXNet's own IRHeader layout) read as before."""
    payload = struct.pack("<IfQQ", 0, 7.0, 3, 0) + JPEG
    with RecordWriter(str(tmp_path / "m.rec")) as w:
        w.write(3, payload)
    data = RecordDataset(str(tmp_path / "m.rec"))
    assert data[0][1] == 7.0 and data.classes == [str(i) for i in range(8)]
