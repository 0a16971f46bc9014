"""Steps a pipeline runs fused with their neighbours give exactly what they give one after the other."""
from __future__ import annotations

import numpy as np
import pytest

from gluon_augplug import build_pipeline
from gluon_augplug.transforms import functional as F
from gluon_augplug.transforms.base import HWC
from gluon_augplug.transforms.functional import LIGHTING_EIGS

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def one_after_the_other(img, alpha, eigen="imagenet"):
    lit = F.adjust_lighting(img, tuple(alpha), LIGHTING_EIGS[eigen])
    tensor = np.ascontiguousarray(lit.transpose(2, 0, 1)).astype(np.float32) * np.float32(1 / 255)
    return (tensor - np.float32(MEAN).reshape(3, 1, 1)) / np.float32(STD).reshape(3, 1, 1)


@pytest.mark.parametrize("alpha", [0.1, 1.0, 5.0])  # 5: offsets of tens of levels, saturating at 0 and 255
def test_lighting_looked_up_with_to_tensor_and_normalize_is_exact(cat, alpha):
    pipe = build_pipeline(f"RandomLighting({alpha}), ToTensor, Normalize({MEAN}, {STD})", seed=3)
    for _ in range(5):
        done = pipe.apply(cat)
        out, record = done.image, done.record
        lit = record["children"][0]
        assert lit["name"] == "RandomLighting" and lit["in_hw"] == lit["out_hw"] == list(cat.shape[:2])
        np.testing.assert_allclose(out, one_after_the_other(cat, lit["params"]["alpha"]), rtol=0, atol=1e-6)
        assert np.array_equal(pipe.replay(cat, record), out)


def test_the_imagenet_recipe_draws_what_it_drew_before_the_fusion(cat):
    """The fused step draws from the same generator in the same order: a seeded run's record is the one the
    steps make one by one (a pipeline whose last steps are kept apart by a no-op Compose)."""
    spec = ("RandomResizedCrop(224), RandomFlipLeftRight, RandomColorJitter(brightness=0.4, contrast=0.4, "
            f"saturation=0.4), RandomLighting(0.1), {{}}, Normalize(mean={list(MEAN)}, std={list(STD)})")
    fused = build_pipeline(spec.format("ToTensor"), seed=7)
    apart = build_pipeline(spec.format("Compose([ToTensor])"), seed=7)
    for _ in range(4):
        a, b = fused.apply(cat), apart.apply(cat)
        assert a.record["children"][:4] == b.record["children"][:4]  # the crop's, flip's, jitter's, lighting's draws
        np.testing.assert_allclose(a.image, b.image, rtol=0, atol=1e-6)


def test_a_value_table_is_the_step_on_every_value():
    from gluon_augplug.transforms.color import RandomLighting

    step = RandomLighting(alpha=2.0)
    table = step.value_tables(alpha=[1.5, -2.0, 0.7])
    ramp = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2)
    assert table.shape == (256, 3) and table.dtype == np.uint8
    assert np.array_equal(table, step.apply(ramp, HWC, alpha=[1.5, -2.0, 0.7])[0])
