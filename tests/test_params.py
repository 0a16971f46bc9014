"""Declared parameters (gluon_augplug.params): one declaration validates, lists, round-trips and documents."""
from __future__ import annotations

import inspect
import json
import subprocess
import sys

import numpy as np
import pytest

import gluon_augplug
from gluon_augplug import Transform, build_pipeline
from gluon_augplug import params as P
from gluon_augplug.errors import ParameterError, SpecError
from gluon_augplug.transforms import RandomFlipTopBottom, RandomRotation, Solarize


class Speckle(Transform):
    """Add noise to a fraction of the pixels."""

    random = True
    amount = P.Number(0.05, 0.0, 1.0, doc="fraction of pixels")
    strength = P.Range((10, 40), 0, 255, doc="noise amplitude range")
    mode = P.Choice("add", ("add", "set"))

    def sample(self, rng, shape):
        return {"seed": int(rng.integers(2**31))}

    def apply(self, img, layout, seed=0):
        return img.copy()


class StrongSpeckle(Speckle):
    amount = P.Number(0.5, 0.0, 1.0)


def test_validation_names_the_real_class_and_parameter():
    # 0.1 reported "RandomFlipLeftRight: parameter p=2", the class it inherited the check from
    with pytest.raises(ParameterError, match=r"^RandomFlipTopBottom: parameter p=2 is invalid; allowed: a number in"):
        RandomFlipTopBottom(p=2)
    with pytest.raises(ParameterError, match=r"^RandomRotation: parameter degrees=400"):
        RandomRotation(400)
    with pytest.raises(ParameterError, match=r"^StrongSpeckle: parameter amount=2"):
        StrongSpeckle(amount=2)
    with pytest.raises(ParameterError) as info:
        build_pipeline("RandomFlipTopBottom(p=2)")
    assert (info.value.transform, info.value.param, info.value.value) == ("RandomFlipTopBottom", "p", 2)


def test_the_declarations_make_the_constructor():
    assert str(inspect.signature(Speckle)) == "(amount=0.05, strength=(10, 40), mode='add')"
    s = Speckle(0.1, 20, mode="set")
    assert (s.amount, s.strength, s.mode) == (0.1, (20.0, 20.0), "set")  # normalized on reading
    assert s.get_params() == {"amount": 0.1, "strength": 20, "mode": "set"}  # as given, for the spec
    with pytest.raises(TypeError, match="Speckle: got an unexpected keyword argument 'amout'"):
        Speckle(amout=0.1)
    # a subclass keeps its own declarations first: Solarize(threshold, p) over _MaybeApply(p)
    assert list(Solarize.parameters) == ["threshold", "p"] and Solarize(100).threshold == 100
    # and drops an inherited one by assigning a plain value
    assert list(RandomRotation.parameters) == ["degrees", "interpolation", "fill"]


def test_setting_a_declared_attribute_later_is_validated_too():
    s = Speckle()
    with pytest.raises(ParameterError, match="Speckle: parameter mode='replace'"):
        s.mode = "replace"
    assert s.mode == "add"


def test_cross_parameter_rules_go_in_setup():
    with pytest.raises(ParameterError, match="Resize: parameter size=.32, 24. is invalid; allowed: an integer"):
        build_pipeline("Resize((32, 24), keep_ratio=True)")
    with pytest.raises(ParameterError, match="GaussianBlur: parameter kernel_size=4 .* odd"):
        build_pipeline("GaussianBlur(4)")


def test_spec_round_trip_keeps_the_values_as_given(cat):
    pipe = build_pipeline("RandomCrop(32, pad=(4, 2)), RandomAffine(degrees=15, shear=(1, 2, 3, 4)), ToTensor", seed=1)
    spec = pipe.to_spec()
    assert spec["transforms"][0]["params"] == {"size": 32, "pad": [4, 2]}
    rebuilt = build_pipeline(json.loads(json.dumps(spec)))
    assert rebuilt.to_spec() == spec
    np.testing.assert_array_equal(rebuilt(cat), pipe.reseed(1)(cat))


def test_listing_shows_types_ranges_and_docs():
    listed = json.loads(subprocess.run([sys.executable, "-m", "gluon_augplug", "transforms", "--json"],
                                       capture_output=True, text=True, check=True).stdout)
    crop = {t["name"]: t for t in listed}["RandomCrop"]
    size, pad = crop["params"][0], crop["params"][1]
    assert size == {"name": "size", "type": "size", "required": True,
                    "allowed": "an integer in [1, 32767] or a (width, height) pair of them",
                    "doc": "window size: an integer (square) or (width, height)"}
    assert pad["default"] is None and "left, top, right, bottom" in pad["allowed"]
    text = subprocess.run([sys.executable, "-m", "gluon_augplug", "transforms", "--ranges"],
                          capture_output=True, text=True, check=True).stdout
    assert "p=0.5 [a number in [0.0, 1.0]]" in text


def test_a_kwargs_wrapper_declares_its_parameters_at_registration(augplug_register, cat):
    def make(**kwargs):
        return lambda img: img[:, ::-1].copy() if kwargs.get("p", 0.5) > 0 else img

    class Plugin:
        @gluon_augplug.hookimpl
        def augplug_register_transforms(self, register):
            register("Wrapped", make, params={"p": P.Probability(0.5), "size": P.Size(32)})

    augplug_register(Plugin(), "wrapper")
    assert build_pipeline("Wrapped(p=1)")(cat).shape == cat.shape
    with pytest.raises(SpecError, match=r"unknown parameter 'pp' \(did you mean 'p'\?\); its parameters: p, size"):
        build_pipeline("Wrapped(pp=1)")
    with pytest.raises(ParameterError, match="Wrapped: parameter p=3 is invalid; allowed: a number in"):
        build_pipeline("Wrapped(p=3)")
    info = gluon_augplug.get_registry().get_transform("Wrapped")
    assert [p.as_dict()["type"] for p in info.params] == ["probability", "size"]
    with pytest.raises(TypeError, match="must be a gluon_augplug.params.Param"):
        from gluon_augplug.params import declared

        declared({"p": 0.5})


def test_transforms_written_the_0_1_way_keep_working(cat):
    from gluon_augplug.transforms import params as old_checks

    class Old(Transform):
        def __init__(self, factor: float = 0.5, label: str = "x"):
            self.factor = old_checks.number("Old", "factor", factor, 0.0, 1.0)
            self.label = label

        def apply(self, img, layout):
            return (img * self.factor).astype(img.dtype)

    assert [(p.name, p.default) for p in inspect.signature(Old).parameters.values()] == [("factor", 0.5), ("label", "x")]
    assert Old(0.25).to_spec() == {"name": "Old", "params": {"factor": 0.25}}
    assert Old.parameters == {} and not Old.supports_batch()
    np.testing.assert_array_equal(Old(0.5)(cat), (cat * 0.5).astype(np.uint8))
    with pytest.raises(ParameterError, match="Old: parameter factor=2"):
        Old(2)


def test_the_markdown_table_lists_every_builtin_with_its_declared_ranges():
    """What the docs site's reference page is generated from (tests/test_docs.py checks the page)."""
    table = subprocess.run([sys.executable, "-m", "gluon_augplug", "transforms", "--markdown", "--plugin", "builtin"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert "| `RandomCrop` | samples, batches | `size`: an integer in [1, 32767]" in table
    assert "| `Resize` | samples, batches |" in table  # geometric built-ins run on batches through geometry()


def test_every_builtin_parameter_is_declared():
    from gluon_augplug.plugins.manager import PluginSystem

    for info in PluginSystem(load_entry_points=False).registry.transforms("builtin", kind=None):
        for param in info.params:
            assert param.declaration is not None, f"{info.name}.{param.name} is not declared"
            assert param.declaration.doc, f"{info.name}.{param.name} has no doc"


def test_parameters_are_inherited_from_every_base_not_only_the_first():
    from gluon_augplug import params as P
    from gluon_augplug.transforms.color import _MaybeApply
    from gluon_augplug.transforms.geometric import RandomRotation

    class Mixin:
        note = "a plain mixin before the transform base"

    class Dim(Mixin, _MaybeApply):
        amount = P.Number(1.0, 0.0, 10.0)

        def op(self, img, **kw):
            return img

    assert list(Dim.parameters) == ["amount", "p"] and Dim(amount=2, p=0.25).p == 0.25
    with pytest.raises(ParameterError, match="p=2"):
        Dim(p=2)

    class Tilt(RandomRotation):  # RandomRotation dropped RandomAffine's translate, scale and shear: still dropped
        pass

    assert list(Tilt.parameters) == ["degrees", "interpolation", "fill"]
