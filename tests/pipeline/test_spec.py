"""Spec strings: parsing, positions of errors, and no code execution."""
from __future__ import annotations

import sys

import pytest

from gluon_augplug import build_pipeline
from gluon_augplug.errors import SpecSyntaxError, UnknownTransformError
from gluon_augplug.pipeline.spec import Node, parse_spec_string


def test_calls_names_literals_and_nesting():
    nodes = parse_spec_string(
        "RandomFlipLeftRight, RandomCrop(32, pad=(4, 4), pad_value=[1, 2, 3]), "
        "RandomApply([RandomHue(0.5), my-plugin:GridMask(ratio=-0.5, mode='x', flag=None)], p=0.3),"
    )
    assert [n.name for n in nodes] == ["RandomFlipLeftRight", "RandomCrop", "RandomApply"]
    assert nodes[1].args == [32] and nodes[1].params == {"pad": (4, 4), "pad_value": [1, 2, 3]}
    inner = nodes[2].args[0]
    assert [n.name for n in inner] == ["RandomHue", "my-plugin:GridMask"]
    assert inner[1].params == {"ratio": -0.5, "mode": "x", "flag": None}
    assert nodes[2].params == {"p": 0.3}


def test_multiline_spec_and_strings_containing_colons():
    nodes = parse_spec_string("Resize(32),\n  plug:Thing(label='a:b'),\n  ToTensor")
    assert [n.name for n in nodes] == ["Resize", "plug:Thing", "ToTensor"]
    assert nodes[1].params == {"label": "a:b"}
    assert nodes[2].offset == parse_spec_string("Resize(32),\n  plug:Thing(label='a:b'),\n  ToTensor")[2].offset


@pytest.mark.parametrize("spec, position, message", [
    ("RandomCrop(32, pad=4", 21, "unclosed"),
    # where Python's parser puts the error: before 3.10 at the word after the missing comma
    ("RandomCrop(32 pad=4)", 12 if sys.version_info >= (3, 10) else 15, "malformed"),
    ("RandomCrop(32), os.system('ls')", 17, "transform name"),
    ("Resize(size=2**8)", 13, "literal"),
    ("Resize(*[1])", 8, "*args"),
    ("Resize(**{'size': 1})", 8, "**kwargs"),
    ("   ", 1, "empty"),
    ("'RandomCrop'", 1, "transform"),
    ("RandomCrop(32)[0]", 1, "transform"),
    ("RandomCrop(32)\x00", 15, "null byte"),  # a ValueError of ast.parse before Python 3.12
])
def test_malformed_specs_name_the_position(spec, position, message):
    with pytest.raises(SpecSyntaxError) as info:
        parse_spec_string(spec)
    assert info.value.offset + 1 == position, str(info.value)
    assert message in str(info.value)
    assert f"position {position}" in str(info.value) and "^" in str(info.value)


def test_no_code_is_ever_executed(tmp_path, plugin_system):
    marker = tmp_path / "pwned"
    attacks = [
        f"__import__('os').system('touch {marker}')",
        f"RandomFlipLeftRight(p=__import__('os').system('touch {marker}'))",
        f"[RandomFlipLeftRight for _ in __import__('os').system('touch {marker}')]",
        f"(lambda: __import__('os').system('touch {marker}'))()",
        f"RandomApply([__import__('os').system('touch {marker}')])",
    ]
    for spec in attacks:
        with pytest.raises((SpecSyntaxError, UnknownTransformError)):
            build_pipeline(spec)
    assert not marker.exists()


def test_calls_in_parameter_values_are_transforms_never_functions(plugin_system):
    from gluon_augplug.errors import SpecError

    with pytest.raises(SpecError, match=r"parameter 'size' takes a literal value or a schedule; 'open'\(\) is not"):
        build_pipeline("Resize(size=open('x'))")
    with pytest.raises(UnknownTransformError, match="'open'"):
        build_pipeline("RandomApply([open('x')])")


def test_dunder_import_as_a_transform_is_just_an_unknown_name(plugin_system):
    with pytest.raises(UnknownTransformError, match="__import__"):
        build_pipeline("__import__('os')")


def test_node_describe_has_the_position():
    assert Node("X", offset=4).describe() == "X (position 5)"
