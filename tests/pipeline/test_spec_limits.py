"""Hostile specs and images: bounded parsing, no file lookups for bare names, no echo of file contents,
repeated keys refused, parameters that would give NaN or fail later refused at build time."""
from __future__ import annotations

import json
import os
import sys
import time

import numpy as np
import pytest

from gluon_augplug import build_pipeline
from gluon_augplug.errors import InputError, InputTypeError, ParameterError, SpecError, SpecSyntaxError
from gluon_augplug.pipeline.spec import MAX_DEPTH, MAX_SPEC_CHARS


def test_a_bare_name_is_never_a_file(tmp_path, monkeypatch, plugin_system):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ToTensor").write_text("- Invert\n")
    (tmp_path / "d2l-none").write_text("- Invert\n")
    assert build_pipeline("d2l-none").to_string() == "ToTensor"
    assert build_pipeline("ToTensor").to_string() == "ToTensor"
    (tmp_path / "mine.yaml").write_text("- RandomFlipLeftRight\n- ToTensor\n")
    assert build_pipeline("mine.yaml").to_string() == "RandomFlipLeftRight, ToTensor"
    os.mkdir(tmp_path / "sub")
    (tmp_path / "sub" / "pipe").write_text("- ToTensor\n")
    assert build_pipeline("sub/pipe").to_string() == "ToTensor"  # a path separator makes it a path


def test_deeply_nested_spec_strings_are_refused_with_a_position(plugin_system):
    spec = "RandomApply([" * 40 + "ToTensor" + "])" * 40
    with pytest.raises(SpecSyntaxError, match=f"brackets nest 80 deep, more than the limit of {MAX_DEPTH}"):
        build_pipeline(spec)
    with pytest.raises(SpecSyntaxError, match="nest"):
        build_pipeline("ToTensor(" + "[" * 5000 + "]" * 5000 + ")")


def test_a_huge_spec_string_is_refused_at_once(plugin_system):
    spec = ", ".join(["RandomFlipLeftRight"] * 600_000)  # 12 MB
    start = time.perf_counter()
    with pytest.raises(SpecSyntaxError, match=f"more than the limit of {MAX_SPEC_CHARS:,}"):
        build_pipeline(spec)
    assert time.perf_counter() - start < 5  # not a timing target: it must not parse 12 MB first
    with pytest.raises(SpecError, match="more than 1000 transforms"):
        build_pipeline(", ".join(["RandomFlipLeftRight"] * 1001))


def test_a_repeated_keyword_is_an_error(plugin_system):
    # Python 3.8's parser refuses it itself, in its own words
    said = "keyword 'brightness' is repeated" if sys.version_info >= (3, 9) else r"\(keyword argument repeated\)"
    with pytest.raises(SpecSyntaxError, match=said + " at position 34"):
        build_pipeline("RandomBrightness(brightness=0.5, brightness=0.3)")


@pytest.mark.parametrize("name, text, message", [
    ("dup.yaml", "- name: RandomBrightness\n  params: {brightness: 0.5, brightness: 0.3}\n",
     "repeats the key 'brightness' in one mapping at line 2"),
    ("dup.json", '[{"name": "RandomBrightness", "params": {"brightness": 0.5, "brightness": 0.3}}]',
     "repeats the key 'brightness'"),
    ("deep.json", "[" * 5000 + "]" * 5000, "nests deeper than the limit"),
    ("deep.yaml", "- " * 200 + "ToTensor\n", "nests deeper than the limit"),
    ("self.yaml", "&a [*a]\n", "contains itself"),
    ("laughs.yaml", "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)),
     "more than 10,000 values"),
    ("many.yaml", "x: &x 1\ny: [" + ", ".join(["*x"] * 101) + "]\n", "more than 100 aliases"),
])
def test_hostile_pipeline_files_are_refused(tmp_path, plugin_system, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    start = time.perf_counter()
    with pytest.raises(SpecError, match=message):
        build_pipeline(str(path))
    assert time.perf_counter() - start < 5


def test_errors_about_a_file_never_echo_its_content(tmp_path, plugin_system):
    secret = "root:x:0:0:root:/root:/bin/bash SECRET-TOKEN-123"
    path = tmp_path / "stolen.yaml"
    os.symlink(tmp_path / "passwd", path)
    (tmp_path / "passwd").write_text(secret + "\n")
    with pytest.raises(SpecError) as info:
        build_pipeline(str(path))
    assert "SECRET" not in str(info.value) and "root:x" not in str(info.value)
    (tmp_path / "passwd").write_text("RandomFlipLeftRight(p=0.5, q=SECRET\n")
    with pytest.raises(SpecError) as info:
        build_pipeline(str(path))
    assert "SECRET" not in str(info.value) and "position" in str(info.value)
    (tmp_path / "inc.yaml").write_text(f"- {path}\n")
    with pytest.raises(SpecError, match="cannot name another file"):
        build_pipeline(str(tmp_path / "inc.yaml"))
    (tmp_path / "p.json").write_text(json.dumps([{"name": "RandomBrightness", "params": {"brightness": "x" * 5000}}]))
    with pytest.raises(ParameterError) as info:
        build_pipeline(str(tmp_path / "p.json"))
    assert len(str(info.value)) < 300
    (tmp_path / "keys.json").write_text(json.dumps([{"nom": "SECRET-VALUE"}]))
    with pytest.raises(SpecError) as info:
        build_pipeline(str(tmp_path / "keys.json"))
    assert "SECRET-VALUE" not in str(info.value) and "'nom'" in str(info.value)


def test_pipeline_files_that_are_not_regular_files_or_too_large(tmp_path, plugin_system):
    os.symlink("/dev/zero", tmp_path / "zero.yaml")
    with pytest.raises(SpecError, match="not a regular file"):
        build_pipeline(str(tmp_path / "zero.yaml"))
    (tmp_path / "big.yaml").write_text("# " + "x" * 2**21)
    with pytest.raises(SpecError, match="more than the limit of 1,048,576"):
        build_pipeline(str(tmp_path / "big.yaml"))


@pytest.mark.parametrize("spec, message", [
    ("Normalize(0.5, 1e-320)", "std=1e-320"), ("Normalize(0.5, (0.2, 0.2, 0.0))", "std"),
    ("RandomCrop(1000000000)", r"size=1000000000 is invalid; allowed: an integer in \[1, 32767\]"),
    ("Resize((32, 100000))", "size"), ("RandomCrop(32, pad=10**9)", "only literal"),
    ("RandomCrop(32, pad=1000000)", "pad=1000000"), ("Cutout(99999999)", "size=99999999"),
    ("RandomBrightness(nan)", "takes a literal value"), ("RandomBrightness(float('inf'))", "literal value"),
])
def test_parameters_that_would_fail_later_are_refused_at_build_time(plugin_system, spec, message):
    with pytest.raises((ParameterError, SpecError), match=message):
        build_pipeline(spec)


def test_normalize_with_the_smallest_allowed_std_stays_finite(plugin_system, cat):
    out = build_pipeline("Resize(32), ToTensor, Normalize(0.5, 1e-6)")(cat)
    assert np.isfinite(out).all()


@pytest.mark.parametrize("image, error, message", [
    (np.zeros((0, 0, 3), np.uint8), InputError, r"the image is empty \(0x0 pixels"),
    (np.zeros((0, 12, 3), np.uint8), InputError, "empty"),
    (np.zeros((12, 0, 3), np.uint8), InputError, "empty"),
    (np.zeros((8, 8, 3), np.float16), InputTypeError, r"got float16 \(convert it with .astype\('float32'\)\)"),
    (np.zeros((8, 8, 3), np.int64), InputTypeError, "got int64"),
    (np.full((8, 8, 3), np.nan, np.float32), InputError, "NaN or infinite pixels \\(192 of 192"),
    (np.array([[[np.inf, 0, 0]]], np.float64), InputError, "NaN or infinite pixels \\(1 of 3"),
])
def test_images_the_transforms_cannot_take_are_refused_at_the_entry(plugin_system, image, error, message):
    specs = ["d2l-flip", "RandomResizedCrop(8), RandomColorJitter(0.4, 0.4, 0.4, 0.1), ToTensor",
             "TrivialAugmentWide, RandomRotation(20), GaussianBlur(3), ToTensor"]
    for spec in specs:
        with pytest.raises(error, match=message):
            build_pipeline(spec, seed=0)(image)


def test_huge_but_finite_float_pixels_are_not_called_nan(plugin_system):
    image = np.full((4, 4, 3), 3e38, np.float32)  # the sum overflows; the pixels are finite
    build_pipeline("RandomFlipLeftRight", seed=0)(image)


def test_threads_with_a_per_call_generator_are_reproducible(plugin_system, cifar_test_images):
    """The documented way to share a pipeline between threads: one generator per call."""
    from concurrent.futures import ThreadPoolExecutor

    images = cifar_test_images[0][:64]
    pipeline = build_pipeline("cifar10-standard", seed=0)

    def augment_all():
        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(lambda i: pipeline(images[i], rng=np.random.default_rng((7, i))), range(64)))

    first, second = augment_all(), augment_all()
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not all(np.array_equal(first[0], other) for other in first[1:])
