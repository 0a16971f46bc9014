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
    assert (len(REQUIRED), len(optional), len(FLAGS), len(MACHINERY), len(public)) == (5, 15, 8, 12, 40)


# -- what an independent review of the contract's rework found: plugins of earlier READMEs keep working --------
class _Pass(Transform):
    target_mode = "pixel"

    def apply(self, img, layout, delta=0.0):
        return np.clip(img.astype(np.float32) + delta, 0, 255).astype(img.dtype)


def test_a_sample_that_forwards_kwargs_is_not_given_boxes():
    from gluon_augplug.transforms import RandomBrightness

    class Louder(RandomBrightness):
        def sample(self, rng, shape, **kw):
            return super().sample(rng, shape, **kw)

    assert not Louder.needs_targets
    img = cat_image()[:32, :32]
    np.testing.assert_array_equal(build_pipeline([Louder(0.3)], seed=0)(img), build_pipeline([RandomBrightness(0.3)],
                                                                                             seed=0)(img))

    class Said(BoxDraw):
        needs_targets = False  # an explicit value (deprecated) wins over the signature

    assert not Said.needs_targets


def test_random_inferred_for_a_parent_is_not_a_declaration_for_its_children():
    class Shade(_Pass):  # draws; never mentions random
        def sample(self, rng, shape):
            return {"delta": float(rng.uniform(-40, 40))}

    assert not _Pass.random and Shade.random and Shade._random_inferred
    assert _random_finding(Shade).status == "pass"


class CenterSquare(Transform):
    target_mode = "geometric"

    def sample(self, rng, shape):
        side = min(shape[:2])
        return {"x0": (shape[1] - side) // 2, "y0": (shape[0] - side) // 2, "side": side}

    def geometry(self, params, in_hw, out_hw):
        return np.array([[1.0, 0, -params["x0"]], [0, 1.0, -params["y0"]], [0, 0, 1.0]])

    def output_hw(self, params, in_hw):
        return params["side"], params["side"]

    def apply(self, img, layout, x0=0, y0=0, side=1):
        return img[y0:y0 + side, x0:x0 + side].copy()


def test_a_sample_that_only_computes_is_not_held_to_randomness():
    import types

    from gluon_augplug import hookimpl
    from gluon_augplug.testing import check_plugin

    plugin = types.SimpleNamespace(augplug_register_transforms=hookimpl(lambda register: register("CenterSquare",
                                                                                                   CenterSquare)))
    report = check_plugin(plugin, raise_on_failure=False)
    assert not [f for f in report.findings if f.status == "fail"], str(report)


def test_a_batch_twin_a_plugin_registered_wins_over_an_inferred_batch_path():
    from gluon_augplug import hookimpl
    from gluon_augplug.plugins.manager import PluginSystem

    with pytest.warns(DeprecationWarning):
        from gluon_augplug.compat import BatchTransform

        class GaussianBlur(BatchTransform):
            random = False

            def apply(self, state):
                pass

    class Plugin:
        @hookimpl
        def augplug_register_batch_transforms(self, register):
            register("GaussianBlur", GaussianBlur)

    system = PluginSystem(load_entry_points=False)
    with pytest.warns(DeprecationWarning, match="augplug_register_batch_transforms"):
        system.add_plugin(Plugin(), "blur")
    pipe = build_batch_pipeline("GaussianBlur", registry=system.registry)
    assert type(pipe[0]) is GaussianBlur  # the plugin's, as before the built-in got its per-image batch path


def test_a_pixel_op_that_changes_the_layout_has_no_inferred_batch_path():
    class Scale01(_Pass):
        produces = "CHW"

        def apply(self, img, layout):
            return np.moveaxis(img, 2, 0).astype(np.float32) / 255

    assert Scale01.batch_path() is None and not Scale01.supports_batch() and Darker.batch_path() == "apply"


def test_a_container_of_its_own_from_before_the_one_loop_still_runs_images_and_clips():
    from gluon_augplug.transforms.composition import _Composite

    class Twice(_Composite):
        def run(self, img, rng, layout, replay=None, targets=None):  # 0.3's _run_sequence had no clip argument
            _, children = self._replay_parts(replay)
            out, records = self._run_sequence(self.transforms * 2, img, rng, layout, children, targets)
            return out, {"name": self.spec_name, "params": {}, "children": records}

    pipe = build_pipeline([Twice([Darker()])], seed=0)
    img = cat_image()[:16, :16]
    assert pipe(img).shape == img.shape
    clip = pipe(np.stack([img] * 3))
    assert all(np.array_equal(clip[0], f) for f in clip)  # one draw for the clip, replayed on every frame


def test_a_clips_masks_given_as_nested_lists_are_one_mask_per_frame():
    mask = np.zeros((8, 10), np.uint8)
    mask[:, :3] = 1
    done = build_pipeline("RandomFlipLeftRight(p=1.0)").apply_clip(np.zeros((2, 8, 10, 3), np.uint8),
                                                                     masks=[mask.tolist()] * 2)
    assert all(np.array_equal(m, mask[:, ::-1]) for m in done.masks)


def test_batch_images_refuse_a_new_size_while_targets_ride_along():
    from gluon_augplug.batch.state import NumpyState
    from gluon_augplug.errors import InputError

    state = NumpyState(np.zeros((2, 8, 8, 3), np.uint8), np.random.default_rng(0))
    state.images = np.ones((2, 16, 16, 3), np.uint8)  # no targets: the batch takes the new size
    assert state.hw == (16, 16)
    state.set_targets(boxes=np.array([[[1.0, 1, 4, 4]], [[2.0, 2, 6, 6]]]))
    with pytest.raises(InputError, match="add_geometry"):
        state.images = np.ones((2, 8, 8, 3), np.uint8)


def test_every_hook_of_a_combined_row_can_be_asked_for():
    assert hook(Darker(), "apply_boxes") is not None and hook(object(), "apply_mask") is None


def test_the_old_data_modules_are_the_io_modules(tmp_path):
    """What is set or patched through a 0.3 path reaches the readers (the aliases are not copies)."""
    import subprocess

    code = ("import numpy as np; from PIL import Image\n"
            f"Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save({str(tmp_path / 'a.png')!r})\n"
            "import gluon_augplug.data.formats as F, gluon_augplug.data.images as I, gluon_augplug.data.decode as D\n"
            "import gluon_augplug.io.decode as io_decode\n"
            "assert D is io_decode and F.decode_image is io_decode.decode_image\n"
            "F.MAX_IMAGE_BYTES = 10\n"
            f"try:\n    I.read_image({str(tmp_path / 'a.png')!r})\nexcept Exception as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "more than the limit of 10" in out
