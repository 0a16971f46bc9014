"""build_pipeline: every input form, error messages, to_spec round trips through YAML and JSON."""
from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import yaml

from gluon_augplug import Pipeline, build_pipeline
from gluon_augplug.errors import ParameterError, ReplayError, SpecError, SpecFileError, UnknownTransformError
from gluon_augplug.plugins.manager import PluginSystem

REGISTRY = PluginSystem(load_entry_points=False).registry


def builtin_items():
    items = []
    for info in REGISTRY.transforms("builtin"):
        if info.clips_only:  # ThreeCrop, TenCrop: round trips of clips in tests/transforms/test_video.py
            continue
        if info.nested:
            params = {"transforms": [{"name": "RandomBrightness", "params": {"brightness": 0.3}},
                                     "RandomFlipLeftRight(p=0.7)"]}
            items.append({"name": info.name, "params": params})
        elif info.name == "Normalize":
            items.append(["ToTensor", {"name": "Normalize", "params": {"mean": [0.5, 0.4, 0.3], "std": 0.2}}])
        else:
            items.append({"name": info.name, "params": dict(info.example)})
    return items


@pytest.mark.parametrize("item", builtin_items(), ids=lambda i: i["name"] if isinstance(i, dict) else i[1]["name"])
@pytest.mark.parametrize("via", ["object", "yaml", "json", "string"])
def test_to_spec_round_trip_of_every_builtin(item, via, tmp_path, cifar_test_images):
    images = cifar_test_images[0][:12]
    original = build_pipeline(item if isinstance(item, list) else [item], seed=7, registry=REGISTRY)
    spec = original.to_spec()
    if via == "yaml":
        path = tmp_path / "p.yaml"
        original.save(str(path))
        rebuilt = build_pipeline(str(path), registry=REGISTRY)
    elif via == "json":
        path = tmp_path / "p.json"
        original.save(str(path))
        assert json.loads(path.read_text()) == spec
        rebuilt = build_pipeline(str(path), registry=REGISTRY)
    elif via == "string":
        rebuilt = build_pipeline(original.to_string(), seed=7, registry=REGISTRY)
    else:
        rebuilt = build_pipeline(spec, registry=REGISTRY)
    assert rebuilt.seed == 7 and rebuilt.to_spec() == spec
    fresh = build_pipeline(spec, registry=REGISTRY)
    for image in images:
        np.testing.assert_array_equal(rebuilt(image), fresh(image))


def test_every_input_form_builds_the_same_pipeline(tmp_path, plugin_system):
    (tmp_path / "p.yaml").write_text(
        "- RandomFlipLeftRight\n- name: RandomCrop\n  params: {size: 32, pad: 4}\n- ToTensor\n")
    (tmp_path / "p.json").write_text(json.dumps(
        {"seed": 3, "transforms": [{"name": "RandomFlipLeftRight"}, {"name": "RandomCrop", "args": [32],
                                                                      "params": {"pad": 4}}, "ToTensor"]}))
    forms = [
        "RandomFlipLeftRight, RandomCrop(32, pad=4), ToTensor",
        ["RandomFlipLeftRight", "RandomCrop(32, pad=4)", {"name": "ToTensor"}],
        ["RandomFlipLeftRight, RandomCrop(32, pad=4)", {"ToTensor": None}],
        {"transforms": ["RandomFlipLeftRight", {"RandomCrop": {"size": 32, "pad": 4}}, "ToTensor"]},
        str(tmp_path / "p.yaml"),
        str(tmp_path / "p.json"),
    ]
    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    outputs = [build_pipeline(f, seed=3)(image) for f in forms]
    for out in outputs[1:]:
        np.testing.assert_array_equal(out, outputs[0])
    assert build_pipeline(str(tmp_path / "p.json")).seed == 3


def test_presets(plugin_system, cat):
    pipe = build_pipeline("cifar10-standard", seed=0)
    assert [t.spec_name for t in pipe] == ["RandomCrop", "RandomFlipLeftRight", "ToTensor", "Normalize"]
    assert build_pipeline("d2l-flip").to_string() == "RandomFlipLeftRight, ToTensor"
    assert build_pipeline("imagenet-standard", seed=0)(cat).shape == (3, 224, 224)
    assert len(build_pipeline(["d2l-flip", "Cutout(8)"])) == 3


def test_seed_argument_overrides_the_spec_seed():
    pipe = build_pipeline({"seed": 1, "transforms": ["RandomFlipLeftRight"]}, seed=2)
    assert pipe.seed == 2


@pytest.mark.parametrize("spec, error, message", [
    ("RandomFlipLeftRigth", UnknownTransformError, "closest registered names: RandomFlipLeftRight"),
    ("randomcrop(32)", UnknownTransformError, "RandomCrop"),
    ("RandomCrop(sise=32)", SpecError, "did you mean 'size'"),
    ("RandomCrop(pad=4)", SpecError, "missing a required argument: 'size'"),
    ("RandomBrightness(2, 3)", SpecError, "too many positional arguments"),
    ("RandomBrightness(brightness=-1)", ParameterError, "brightness=-1"),
    ("Resize(RandomFlipLeftRight)", SpecError, "takes a literal value"),
    ("Normalize, ToTensor", SpecError, "place it after ToTensor"),
    ("ToTensor, RandomHue", SpecError, "place it before ToTensor"),
    ("RandomApply([ToTensor])", SpecError, "changes the layout"),
    (["RandomFlipLeftRight", ["ToTensor"]], SpecError, "nested list"),
    ({"transforms": [], "sede": 1}, SpecError, "unknown key"),
    ({"transforms": ["ToTensor"], "seed": -1}, SpecError, "seed"),
    ({"params": {}}, SpecError, "needs a 'name'"),
    ({"name": "ToTensor", "parms": {}}, SpecError, "unknown key"),
    ("missing.yaml", SpecFileError, "cannot read pipeline file 'missing.yaml'"),
    (42, SpecError, "cannot build a pipeline from int"),
    ([], SpecError, "names no transform"),
])
def test_errors_name_the_problem(spec, error, message, plugin_system):
    with pytest.raises(error) as info:
        build_pipeline(spec)
    assert message in str(info.value)


def test_malformed_files_name_the_line(tmp_path, plugin_system):
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("- RandomFlipLeftRight\n- name: [unclosed\n")
    with pytest.raises(SpecFileError, match=r"bad.yaml.*line \d+, column \d+ \(offset \d+\)"):
        build_pipeline(str(bad_yaml))
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('[{"name": "ToTensor",}]')
    # the column is json's: Python 3.13 points at the comma (21), older ones at the brace after it (22)
    with pytest.raises(SpecFileError, match=r"bad.json.*line 1, column 2[12] \(offset 2[01]\)"):
        build_pipeline(str(bad_json))
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"- ToTensor\n\xff\xfe")
    with pytest.raises(SpecFileError, match="not UTF-8"):
        build_pipeline(str(binary))


def test_yaml_is_loaded_safely(tmp_path, plugin_system):
    path = tmp_path / "evil.yaml"
    path.write_text("- !!python/object/apply:os.system ['touch pwned']\n")
    with pytest.raises(SpecFileError):
        build_pipeline(str(path))


def test_replay_gives_the_same_output_on_another_image_and_on_a_mask(cat):
    pipe = build_pipeline("RandomFlipLeftRight, RandomResizedCrop(100, interpolation=0), "
                          "RandomRotation(20, interpolation=0), "
                          "RandomApply([RandomGrayscale(p=1)], p=0.5), OneOf([Cutout(20), Equalize(p=1)])", seed=4)
    out, record = pipe.apply_with_params(cat)
    json.dumps(record)  # records are plain data
    np.testing.assert_array_equal(pipe.replay(cat, record), out)
    mask = (cat[:, :, :1] > 128).astype(np.uint8) * 255
    # nearest-neighbour geometry commutes with thresholding: the replayed mask fits the image
    geometry = build_pipeline("RandomFlipLeftRight, RandomResizedCrop(100, interpolation=0), "
                              "RandomRotation(20, interpolation=0)", seed=99)
    geometric = {"name": "Compose", "params": {}, "children": record["children"][:3]}
    replayed_mask = geometry.replay(mask, geometric)
    assert replayed_mask.shape == (100, 100, 1)
    expected = geometry
    np.testing.assert_array_equal(expected.replay(cat, geometric)[:, :, :1] > 128, replayed_mask > 128)


def test_replay_refuses_a_record_of_another_pipeline(cat):
    _, record = build_pipeline("RandomFlipLeftRight").apply_with_params(cat)
    with pytest.raises(ReplayError, match="does not match"):
        build_pipeline("RandomFlipTopBottom").replay(cat, record)
    with pytest.raises(ReplayError):
        build_pipeline("RandomFlipTopBottom").replay(cat, {"bad": 1})


def test_pipelines_pickle_and_keep_behaving_the_same(cat):
    pipe = build_pipeline("cifar10-autoaugment", seed=5)
    clone = pickle.loads(pickle.dumps(pipe))
    assert isinstance(clone, Pipeline) and clone.to_spec() == pipe.to_spec()
    small = np.ascontiguousarray(cat[::12, ::15])
    np.testing.assert_array_equal(clone(small), build_pipeline("cifar10-autoaugment", seed=5)(small))


def test_foreign_callables_and_objects_mix_with_names(cat):
    calls = []

    def mark(img):
        calls.append(img.shape)
        return img[:10, :10]

    mark.random = False  # deterministic: replayable by calling it again

    def seeded(img, rng):
        return np.roll(img, int(rng.integers(1, 5)), axis=1)

    pipe = build_pipeline([mark, "RandomFlipLeftRight", seeded], seed=0)
    out, record = pipe.apply_with_params(cat)
    assert out.shape == (10, 10, 3) and calls == [(400, 500, 3)]
    np.testing.assert_array_equal(pipe.replay(cat, record), out)

    def noisy(img):
        return img

    with pytest.raises(ReplayError, match="noisy"):
        build_pipeline([noisy]).replay(cat, {"name": "Compose", "params": {}, "children": [
            {"name": "noisy", "params": None}]})


@pytest.mark.pinned
def test_gluon_blocks_from_plugins_get_ndarrays(cat):
    from mxnet.gluon.data.vision import transforms as T

    pipe = build_pipeline([T.RandomFlipLeftRight(), "ToTensor"], seed=0)
    out = pipe(cat)
    assert out.shape == (3, 400, 500) and out.dtype == np.float32


def test_repr_and_string_form():
    pipe = build_pipeline("RandomCrop(32, pad=4), RandomFlipLeftRight", seed=1)
    assert repr(pipe) == "Pipeline('RandomCrop(size=32, pad=4), RandomFlipLeftRight', seed=1)"
    assert yaml.safe_load(yaml.safe_dump(pipe.to_spec())) == pipe.to_spec()
