"""Schedules in the spec grammar: values by (epoch, iteration), steps switched on and off, files, errors, and the
same values in every worker process and thread."""
from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from gluon_augplug import augment, build_pipeline
from gluon_augplug.batch import build_batch_pipeline
from gluon_augplug.data.tagged import SampleIndex, TimedBatches
from gluon_augplug.errors import ParameterError, SpecError
from gluon_augplug.pipeline.schedule import Clock, as_schedule

SPEC = ("RandomResizedCrop(steps(16, (2, 24))), RandomColorJitter(brightness=linear(0.0, 0.4, 0, 10)), "
        "RandomErasing(active=after(3)), ToTensor")


def test_values_by_epoch_and_iteration():
    p = build_pipeline(SPEC)
    assert p.scheduled and not build_pipeline("ToTensor").scheduled
    assert p.at(0).to_string() == "RandomResizedCrop(size=16), RandomColorJitter(brightness=0.0), ToTensor"
    assert p.at(5).to_string() == ("RandomResizedCrop(size=24), RandomColorJitter(brightness=0.2), RandomErasing, "
                                   "ToTensor")
    assert p.at(40).to_string().startswith("RandomResizedCrop(size=24), RandomColorJitter(brightness=0.4)")
    # inside an epoch: 1.5 epochs done
    assert "brightness=0.06" in p.at(1, step=50, steps=100).to_string()
    image = np.zeros((40, 30, 3), np.uint8)
    assert p.at(0)(image, np.random.default_rng(0)).shape == (3, 16, 16)
    assert p.at(2)(image, np.random.default_rng(0)).shape == (3, 24, 24)
    assert p.at(7) is p.at(7)  # resolved once per (epoch, iteration)


def test_a_change_at_a_fraction_of_an_epoch_is_where_the_build_checks_it():
    from gluon_augplug.pipeline.schedule import Steps, clock_at

    assert Steps(1, (1 / 3, 2)).value(clock_at(1 / 3)) == 2 and Steps(1, (0.5, 2)).value(clock_at(0.49)) == 1


@pytest.mark.parametrize("text, values", [
    ("linear(0, 10, 0, 4)", {0: 0, 1: 2, 2: 5, 3: 8, 4: 10, 9: 10}),  # integers stay integers (rounded half even)
    ("cosine(1.0, 0.0, 0, 2)", {0: 1.0, 1: 0.5, 2: 0.0}),
    ("steps(1, (2, 3), (5, 7))", {0: 1, 1: 1, 2: 3, 4: 3, 5: 7}),
    ("until(3)", {0: True, 2: True, 3: False}),
    ("after(3)", {0: False, 3: True}),
    ("between(1, 3)", {0: False, 1: True, 2: True, 3: False}),
    ("linear((160, 128), (224, 192), 0, 2)", {1: (192, 160)}),
])
def test_each_schedule(text, values):
    from gluon_augplug.pipeline.spec import parse_spec_string

    node = parse_spec_string(f"X(v={text})")[0].params["v"]
    schedule = as_schedule(node)
    for epoch, value in values.items():
        assert schedule.value(Clock(epoch)) == pytest.approx(value), epoch
    assert as_schedule(json.loads(json.dumps(schedule.to_spec()))) == schedule
    assert repr(schedule).replace(" ", "") == text.replace(" ", "")


def test_the_spec_round_trips_through_strings_json_yaml_and_pickle(tmp_path):
    import yaml

    p = build_pipeline(SPEC)
    assert p.to_string() == SPEC.replace("RandomResizedCrop(steps", "RandomResizedCrop(size=steps")
    for rebuilt in (build_pipeline(p.to_string()), build_pipeline(json.loads(json.dumps(p.to_spec()))),
                    build_pipeline(yaml.safe_load(yaml.safe_dump(p.to_spec()))), pickle.loads(pickle.dumps(p))):
        assert rebuilt.to_spec() == p.to_spec()
        assert rebuilt.at(5).to_string() == p.at(5).to_string()
    p.save(str(tmp_path / "augs.yaml"))
    assert build_pipeline(str(tmp_path / "augs.yaml")).at(5).to_string() == p.at(5).to_string()
    # a step switched off at epoch 0 is kept in the spec (and in nested containers)
    nested = build_pipeline("RandomApply([RandomHue(0.5, active=after(2)), RandomBrightness(0.3)], p=0.5)")
    assert "RandomHue(hue=0.5, active=after(2))" in nested.to_string()
    assert "RandomHue" not in nested.at(0).to_string() and "RandomHue(hue=0.5)" in nested.at(2).to_string()


@pytest.mark.parametrize("spec, error, message", [
    ("RandomColorJitter(brightness=linear(0.0, 0.4, 10, 0))", SpecError, "stop (0) must come after start (10)"),
    ("RandomColorJitter(brightness=linear(0.0, 0.4))", SpecError, "give the epoch it ends at"),
    ("RandomColorJitter(brightness=linear(0.1, 0.2, 0, 5, 7))", SpecError,
     "linear() takes linear(a, b, start, stop), got 5 value(s)"),
    ("RandomColorJitter(brightness=linaer(0.1, 0.2, 0, 5))", SpecError, "'linaer'() is not a schedule (did you mean "
                                                                       "'linear'?)"),
    ("RandomColorJitter(brightness=steps(0.1, (3, 0.2), (2, 0.3)))", SpecError, "the epochs must increase"),
    ("RandomFlipLeftRight(p=steps(0.5, (3, 2)))", ParameterError, "parameter p=2 is invalid; allowed: a number in"),
    ("RandomResizedCrop(linear(0, 224, 0, 4))", ParameterError, "parameter size=0 is invalid"),
    ("RandomFlipLeftRight(active=linear(0, 1, 0, 3))", SpecError, "active= switches the step on or off"),
    ("RandAugment(magnitude=steps(9, (5, 40)))", ParameterError,
     "magnitude=40 is invalid; allowed: an integer in [0, 30] (below num_magnitude_bins=31) (the value its schedule "
     "takes at epoch 5)"),
    # a change late in a long schedule, and two schedules that only conflict between their change points
    ("RandAugment(magnitude=steps(5, " + ", ".join(f"({e}, 5)" for e in range(1, 70)) + ", (70, 40)))",
     ParameterError, "magnitude=40 is invalid"),
    ("RandAugment(magnitude=linear(0, 30, 0, 10), num_magnitude_bins=steps(31, (2, 10), (10, 31)))", ParameterError,
     "(the value its schedule takes at epoch 6)"),
    # decimal ends on a parameter that takes integers: refused at build time, not mid-run
    ("RandomResizedCrop(linear(16.0, 24.0, 0, 10))", ParameterError, "parameter size=18.96 is invalid"),
    ("RandomResizedCrop(32, scale=(linear(0.08, 0.35, 0, 30), 1.0))", SpecError,
     "a schedule is the whole value, not a part of it; schedule the tuple"),
])
def test_bad_schedules_are_refused_at_build_time_naming_the_problem(spec, error, message):
    with pytest.raises(error) as info:
        build_pipeline(spec)
    assert message in str(info.value)


class _Plugin:
    """A plugin whose transform has an undeclared parameter and no target mode."""

    import gluon_augplug

    @gluon_augplug.hookimpl
    def augplug_register_transforms(self, register):
        def undeclared(amount=1):
            return lambda img: img

        register("Undeclared", undeclared)


def test_a_schedule_of_an_undeclared_parameter_is_refused(augplug_register):
    augplug_register(_Plugin(), "undeclared-plugin")
    with pytest.raises(SpecError, match="parameter 'amount' is not declared .gluon_augplug.params., so it "
                                        "cannot follow a schedule"):
        build_pipeline("Undeclared(amount=linear(1, 2, 0, 3))")


def test_targets_are_checked_for_steps_switched_on_later(augplug_register):
    augplug_register(_Plugin(), "undeclared-plugin")
    with pytest.raises(SpecError, match="cannot move boxes"):
        build_pipeline("RandomFlipLeftRight, Undeclared(active=after(2))", targets="boxes")
    boxes = np.array([[2, 2, 10, 10, 0]], np.float32)
    moved = augment([(np.zeros((32, 32, 3), np.uint8), boxes)], "RandomResizedCrop(steps(16, (2, 24))), ToTensor",
                    targets="boxes")
    assert moved[SampleIndex(0, 0)][0].shape == (3, 16, 16) and moved[SampleIndex(0, 2)][0].shape == (3, 24, 24)


def test_batch_pipelines_mixup_off_and_soft_targets():
    mixup = build_batch_pipeline("RandomFlipLeftRight, Mixup(0.2, active=until(90))")
    assert mixup.scheduled and mixup.mixes_labels
    assert mixup.at(89).to_string() == "RandomFlipLeftRight, Mixup(alpha=0.2)"
    assert mixup.at(90).to_string() == "RandomFlipLeftRight"
    data = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)
    out, targets = mixup.at(90)(data, np.array([0, 1, 2, 3]), classes=4, rng=np.random.default_rng(0))
    assert targets.shape == (4, 4) and np.array_equal(targets, np.eye(4, dtype=np.float32))  # one-hot, not mixed


def test_a_sample_index_carries_its_time_and_pickles():
    index = SampleIndex(7, epoch=3, step=5, steps=10)
    assert index == 7 and index.clock == Clock(3, 5, 10) and [0, 1, 2, 3, 4, 5, 6, 7][index] == 7
    back = pickle.loads(pickle.dumps(index))
    assert (type(back), back.epoch, back.step, back.steps) == (SampleIndex, 3, 5, 10)
    timed = TimedBatches([[0, 1], [2, 3], [4]])
    timed.start(2, first=1)
    batches = list(timed)
    assert batches == [[2, 3], [4]] and len(timed) == 2 and batches[0][0].clock == Clock(2, 1, 3)


def _shapes(loader) -> list:
    return [tuple(batch[0].shape) for batch in loader]


@pytest.mark.pinned
def test_the_same_values_in_every_worker_process_and_thread():
    """A schedule that changes every iteration: the batch shapes (the resolved size) of 0 and 2 worker processes
    and of 2 threads equal the values the schedule gives, epoch after epoch."""
    from mxnet import gluon

    from gluon_augplug.data.loader import BatchLoader

    images = [(np.full((64, 64, 3), k, np.uint8), k) for k in range(24)]
    data = augment(images, "Resize(linear(8, 40, 0, 2)), ToTensor", seed=0)
    for make in (lambda b: gluon.data.DataLoader(data, batch_sampler=b, num_workers=0),
                 lambda b: gluon.data.DataLoader(data, batch_sampler=b, num_workers=2),
                 lambda b: BatchLoader(data, batch_sampler=b, threads=2, as_ndarray=False)):
        shapes = []
        timed = TimedBatches(gluon.data.BatchSampler(gluon.data.SequentialSampler(24), 8))
        for epoch in range(2):
            timed.start(epoch)
            shapes += _shapes(make(timed))
        assert shapes == [(8, 3, size, size) for size in (8, 13, 19, 24, 29, 35)], shapes
