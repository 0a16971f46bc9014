"""The contract of earlier releases keeps working (gluon_augplug.compat is its index): the old names of the
target mode, of the spec parameters, of the kinds and of the soft labels, next to the new ones."""
from __future__ import annotations

import numpy as np
import pytest

import gluon_augplug
from gluon_augplug import TargetMode, build_pipeline
from gluon_augplug.batch import BatchTransform
from gluon_augplug.errors import SpecError
from gluon_augplug.targets.modes import target_mode


class OldPixel(gluon_augplug.Transform):
    """Written against the 0.3 README: ``targets = "pixel"``."""

    targets = "pixel"

    def apply(self, img, layout):
        return 255 - img


class NewPixel(gluon_augplug.Transform):
    target_mode = TargetMode.PIXEL

    def apply(self, img, layout):
        return 255 - img


class Undeclared(gluon_augplug.Transform):
    def apply(self, img, layout):
        return img


class OldOverride(OldPixel):
    """A subclass that changes its parent's mode with the old name."""

    targets = "geometric"

    def geometry(self, params, in_hw, out_hw):
        return np.eye(3)


def test_both_names_of_the_target_mode_mean_the_same():
    assert target_mode(OldPixel) is target_mode(NewPixel()) is TargetMode.PIXEL
    assert OldPixel.target_mode is TargetMode.PIXEL and NewPixel.targets == "pixel"  # kept in step
    assert target_mode(OldOverride) is TargetMode.GEOMETRIC and OldOverride.targets == "geometric"
    assert target_mode(Undeclared) is TargetMode.UNDECLARED and Undeclared.targets is None
    assert TargetMode.PIXEL == "pixel"  # a str enum: code that compares the string keeps working
    img = np.zeros((8, 8, 3), np.uint8)
    boxes = np.array([[1.0, 1.0, 5.0, 5.0]])
    for cls in (OldPixel, NewPixel):
        np.testing.assert_allclose(build_pipeline([cls()]).apply(img, boxes=boxes).boxes, boxes)
    with pytest.raises(SpecError, match="Undeclared does not say how it treats boxes"):
        build_pipeline([Undeclared()]).apply(img, boxes=boxes)


class Scaled(gluon_augplug.Transform):
    def __init__(self, factor=1.0):
        self.factor = factor


class OldSpec(Scaled):
    def get_params(self):  # a 0.1 plugin's override
        return {"factor": self.factor * 10}


class NewSpec(Scaled):
    def spec_params(self):
        return {"factor": self.factor * 100}


def test_spec_params_and_its_old_name_get_params_are_both_honoured():
    assert Scaled(2.0).to_spec() == {"name": "Scaled", "params": {"factor": 2.0}}
    assert Scaled(2.0).get_params() == Scaled(2.0).spec_params() == {"factor": 2.0}
    assert OldSpec(2.0).to_spec()["params"] == {"factor": 20.0}
    assert NewSpec(2.0).to_spec()["params"] == NewSpec(2.0).get_params() == {"factor": 200.0}


def test_the_old_names_still_import():
    from gluon_augplug.batch import BatchTransform
    from gluon_augplug.batch.state import NumpyState
    from gluon_augplug.compat import BatchTransform as Same
    from gluon_augplug.plugins.registry import KINDS, TRANSFORM_KINDS
    from gluon_augplug.targets.state import KINDS as TARGET_KINDS_OLD, TARGET_KINDS
    from gluon_augplug.transforms.base import RandomSource, check_image, default_source, to_numpy  # noqa: F401
    from gluon_augplug.cli.grid import augmentation_grid  # noqa: F401
    from gluon_augplug.transforms.params import probability  # noqa: F401

    assert BatchTransform is Same and KINDS == TRANSFORM_KINDS == ("sample", "batch")
    assert TARGET_KINDS_OLD is TARGET_KINDS
    assert TARGET_KINDS[:3] == ("boxes", "masks", "keypoints")  # new kinds (polygons) come after, added
    state = NumpyState(np.zeros((2, 4, 4, 3), np.uint8), np.random.default_rng(0), soft_labels=np.eye(2))
    assert state.targets is state.soft_labels
    state.targets = np.ones((2, 2))
    assert (state.soft_labels == 1).all()


def test_apply_without_targets_takes_a_transform_that_declares_no_target_mode():
    """pipeline.apply(img) (for its record) works with any transform; only targets need a declared mode."""
    result = build_pipeline([Undeclared()]).apply(np.zeros((4, 4, 3), np.uint8))
    assert result.record["children"][0]["name"] == "Undeclared" and result.boxes is None


def test_a_0_1_batch_transform_runs_in_batch_pipelines_as_itself():
    import pickle

    from gluon_augplug.batch import BatchPipeline
    from gluon_augplug.compat import BatchTransform, LegacyBatchStep

    with pytest.warns(DeprecationWarning, match="BatchTransform is deprecated since gluon-augplug 0.4: a Transform"):
        class Half(BatchTransform):
            random = False

            def apply(self, state):
                state.add_color(np.tile(np.hstack([np.eye(3) * 0.5, np.zeros((3, 1))]), (state.n, 1, 1)))

    pipe = BatchPipeline([Half()])
    step = pipe[0]
    assert type(step) is Half  # 0.4: no wrapper (it claimed the wrapped object's class)
    wrapped = LegacyBatchStep(Half())  # the wrapper, kept for code that builds one, no longer fakes __class__
    assert isinstance(wrapped, gluon_augplug.Transform) and isinstance(wrapped.legacy, Half)
    assert type(wrapped) is LegacyBatchStep
    assert step.random is False and step.spec_name == "Half"
    np.testing.assert_allclose(pipe(np.full((2, 4, 4, 3), 200, np.uint8)), 100 / 255, atol=1e-6)
    with pytest.raises(SpecError, match="Half is a 0.1 batch transform, which cannot move boxes"):
        pipe(np.zeros((2, 4, 4, 3), np.uint8), boxes=np.full((2, 1, 4), -1.0))
    assert type(pickle.loads(pickle.dumps(LegacyBatchStep(Darkening())))) is LegacyBatchStep


class Darkening(BatchTransform):
    def apply(self, state):
        pass
