"""The contract written down (gluon_augplug.contract): sample() given the boxes by its signature, random inferred,
the optional hooks read through one table, a pixel op's batch path from its apply(), the one BatchState, the
harness naming the real cause, and old names warning with what replaces them."""
from __future__ import annotations

import importlib
import sys
import warnings

import numpy as np
import pytest

from gluon_augplug import Transform, build_pipeline
from gluon_augplug import params as P
from gluon_augplug.batch import build_batch_pipeline
from gluon_augplug.contract import OPTIONAL_HOOKS, hook
from gluon_augplug.testing import cat_image


class BoxDraw(Transform):
    target_mode = "pixel"

    def sample(self, rng, shape, targets=None):
        return {"n": -1 if targets is None else len(targets)}

    def apply(self, img, layout, n=0):
        return img.copy()


class Deterministic(Transform):
    target_mode = "pixel"

    def sample(self, rng, shape):  # computes, draws nothing
        return {"k": shape[0] % 2}

    def apply(self, img, layout, k=0):
        return img.copy()


class Darker(Transform):
    """A pixel op with no batch code of its own."""
    target_mode = "pixel"
    random = True
    amount = P.Range((10, 60), 0, 255)

    def sample(self, rng, shape):
        return {"by": int(rng.integers(self.amount[0], self.amount[1] + 1))}

    def apply(self, img, layout, by=0):
        return np.clip(img.astype(np.int16) - by, 0, 255).astype(img.dtype)


def test_sample_gets_the_boxes_when_its_signature_asks_for_them():
    assert BoxDraw.needs_targets and not Darker.needs_targets
    img = np.zeros((20, 20, 3), np.uint8)
    pipe = build_pipeline([BoxDraw()], seed=0)
    assert pipe.apply_with_params(img)[1]["children"][0]["params"] == {"n": -1}
    done = pipe.apply(img, boxes=np.array([[1.0, 1, 5, 5], [2, 2, 9, 9]]))
    assert done.record["children"][0]["params"] == {"n": 2}
    clip = pipe.apply_clip(np.stack([img] * 3), boxes=[np.array([[1.0, 1, 5, 5]])] * 3)  # the first frame's
    assert clip.record["children"][0]["params"] == {"n": 1}


def test_random_is_inferred_from_sample_unless_said():
    assert BoxDraw.random and BoxDraw._random_inferred and Darker.random and not Darker._random_inferred

    class Said(Deterministic):
        random = False

    assert Deterministic.random and not Said.random


class Flip(Transform):
    target_mode = "pixel"
    random = True
    p = P.Probability(0.5)
    example = {"p": 1.0}

    def sample(self, rng, shape):
        return {"flip": bool(rng.random() < self.p)}

    def apply(self, img, layout, flip=False):
        return img[:, ::-1].copy() if flip else img.copy()


def _random_finding(cls):
    import types

    from gluon_augplug import hookimpl
    from gluon_augplug.testing import check_plugin

    plugin = types.SimpleNamespace(augplug_register_transforms=hookimpl(lambda register: register(cls.__name__, cls)))
    report = check_plugin(plugin, checks=["random"], raise_on_failure=False)
    return [f for f in report.findings if f.check == "random"][0]


def test_the_harness_names_an_inferred_random_that_draws_nothing_and_a_certain_probability():
    finding = _random_finding(Deterministic)
    assert finding.status == "skip" and "inferred from sample(), which draws nothing" in finding.message
    finding = _random_finding(Flip)
    assert finding.status == "fail" and "make every draw certain (p=1.0)" in finding.message \
        and "register an example" in finding.message


def test_a_pixel_op_runs_on_batches_through_its_apply():
    assert Darker.supports_batch()
    batch = np.stack([cat_image()[:64, :64]] * 4)
    rng_draws = np.random.default_rng(5)
    out = build_batch_pipeline([Darker()], seed=None)(batch, rng=np.random.default_rng(5))
    draws = Darker().sample_batch(rng_draws, 4, (64, 64, 3))
    for i in range(4):
        expected = Darker().apply(batch[i], "HWC", **draws[i]).astype(np.float32) / 255
        np.testing.assert_allclose(out[i], np.moveaxis(expected, 2, 0), atol=1e-6)


@pytest.mark.pinned
def test_batch_state_images_are_the_same_on_both_backends():
    import mxnet as mx

    from gluon_augplug.batch.state import DeviceState, NumpyState

    batch = np.stack([cat_image()[:16, :24]] * 2)
    numpy_state = NumpyState(batch, np.random.default_rng(0))
    device_state = DeviceState(mx.nd.array(batch, dtype="uint8"), np.random.default_rng(0))
    np.testing.assert_allclose(numpy_state.images, device_state.images, atol=1e-3)
    device_state.images = numpy_state.images[:, ::-1]
    np.testing.assert_allclose(device_state.result().asnumpy(), np.moveaxis(batch[:, ::-1], 3, 1) / 255, atol=1e-6)


def test_hooks_are_read_through_one_table():
    assert hook(Darker(), "mask_fill") == 0 and hook(Darker(), "views") == 1 and hook(Darker(), "keep_boxes") is None
    assert hook(object(), "pixels_follow_geometry") is True  # an older plugin's object that is no Transform
    with pytest.raises(KeyError, match="'keepboxes' is not an optional hook"):
        hook(Darker(), "keepboxes")
    assert {"keep_boxes", "mask_fill", "pixels_follow_geometry", "views", "decode_window"} <= set(OPTIONAL_HOOKS)


@pytest.mark.parametrize("code, old", [
    ("import gluon_augplug; gluon_augplug.get_plugin_manager()", "get_plugin_manager"),
    ("from gluon_augplug.transforms.base import RandomSource", "RandomSource / default_source"),
    ("from gluon_augplug.targets.state import KINDS", "targets.state.KINDS"),
    ("from gluon_augplug.targets import KINDS", "targets.state.KINDS"),
    ("import gluon_augplug.cli.grid", "gluon_augplug.cli.grid"),
    ("import gluon_augplug.transforms.params", "gluon_augplug.transforms.params"),
    ("import gluon_augplug.data.decode", "gluon_augplug.data.decode"),
    ("from gluon_augplug import Transform\nclass X(Transform):\n    needs_targets = True", "needs_targets"),
    ("from gluon_augplug import Transform\nclass X(Transform):\n    targets = 'pixel'", "targets = \"pixel\""),
])
def test_old_names_work_and_warn_with_their_replacement(code, old):
    import subprocess

    out = subprocess.run([sys.executable, "-W", "always::DeprecationWarning", "-c", code], capture_output=True,
                         text=True, check=True)
    assert old in out.stderr and "is deprecated since gluon-augplug" in out.stderr and "<string>" in out.stderr


def test_the_new_names_do_not_warn():
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*gluon-augplug")
        for name in ("gluon_augplug.io.decode", "gluon_augplug.io.recordio", "gluon_augplug.targets",
                     "gluon_augplug.transforms", "gluon_augplug.pipeline.build", "gluon_augplug.testing"):
            importlib.import_module(name)
        build_pipeline("RandomFlipLeftRight, RandomIoUCrop", targets=["boxes"])


def test_every_reader_decodes_with_the_one_decoder(tmp_path):
    from PIL import Image

    from gluon_augplug.io.decode import decode
    from gluon_augplug.io.images import read_image

    deep = (np.arange(48 * 64, dtype=np.uint32).reshape(48, 64) * 21).astype(np.uint16)  # a 16-bit PNG
    Image.fromarray(deep).save(tmp_path / "deep.png")
    data = (tmp_path / "deep.png").read_bytes()
    np.testing.assert_array_equal(read_image(str(tmp_path / "deep.png")), decode(data, "deep.png"))
    assert read_image(str(tmp_path / "deep.png"))[..., 0].std() > 20  # PIL's RGB conversion made it white


def test_every_public_name_of_transform_is_classified():
    """Transform's public surface, counted: the contract proper, the optional hooks, the describing flags, and the
    machinery the package calls; a new public name must be placed in one of them (gluon_augplug.contract)."""
    from gluon_augplug.contract import FLAGS, MACHINERY, REQUIRED

    optional = {name for key in OPTIONAL_HOOKS for name in key.split(" / ")}
    public = {n for n in dir(Transform) if not n.startswith("_")}
    classified = set(REQUIRED) | optional | set(FLAGS) | set(MACHINERY)
    assert public - classified == set() and classified - public == set()
    assert (len(REQUIRED), len(optional), len(FLAGS), len(MACHINERY), len(public)) == (5, 15, 8, 11, 39)
