"""Every built-in transform: builds, output contract, seeding, NDArray/numpy, no input mutation."""
from __future__ import annotations

import numpy as np
import pytest

from gluon_augplug import build_pipeline
from gluon_augplug.plugins.manager import PluginSystem
from tests.optional import mx

REGISTRY = PluginSystem(load_entry_points=False).registry
# the transforms of one image (ThreeCrop and TenCrop make views of clips: tests/transforms/test_video.py)
BUILTINS = [info for info in REGISTRY.transforms("builtin") if not info.nested and not info.clips_only]
TENSOR_ONLY = {"Normalize"}


def spec_for(info) -> dict:
    return {"name": info.name, "params": dict(info.example)}


def pipeline_for(info, seed=0):
    items = ["ToTensor", spec_for(info)] if info.name in TENSOR_ONLY else [spec_for(info)]
    return build_pipeline(items, seed=seed, registry=REGISTRY)


def test_the_chapter_and_the_expected_extras_are_all_registered():
    expected = {
        "RandomFlipLeftRight", "RandomFlipTopBottom", "RandomResizedCrop", "RandomBrightness", "RandomContrast",
        "RandomSaturation", "RandomHue", "RandomColorJitter", "RandomLighting", "Compose", "ToTensor", "Normalize",
        "Resize", "CenterCrop", "RandomCrop", "RandomRotation", "RandomAffine", "RandomGrayscale", "GaussianBlur",
        "Solarize", "Posterize", "Equalize", "AutoContrast", "Sharpness", "Cutout", "RandomErasing", "RandAugment",
        "TrivialAugmentWide", "AutoAugment", "RandomApply", "RandomChoice", "OneOf",
    }
    assert expected <= set(REGISTRY.transform_names())


@pytest.mark.parametrize("info", BUILTINS, ids=lambda i: i.name)
def test_output_contract_on_the_cat(info, cat):
    pipe = pipeline_for(info)
    out = pipe(cat)  # `cat` is read-only: writing into the input raises
    assert isinstance(out, np.ndarray)
    if pipe.output_layout() == "CHW":
        assert out.dtype == np.float32 and out.shape[0] == 3 and out.ndim == 3
    else:
        assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3
        size = info.example.get("size")
        if info.name == "PadIfNeeded":  # pads up to size, never crops
            assert out.shape == (max(cat.shape[0], size), max(cat.shape[1], size), 3)
        elif size is not None:
            assert out.shape[:2] == (size, size)
        elif info.name not in ("Resize", "RandomIoUCrop", "RandomExpand", "ResizeShortWithin",
                               "RandomShortSideScale", "RandomResizeSide"):  # sizes vary
            assert out.shape == cat.shape
    if out.dtype == np.float32:  # ToTensor's [0, 1] values, or Normalize's of them with its defaults (0, 1)
        assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0
        np.testing.assert_allclose(out, np.moveaxis(cat, 2, 0) / np.float32(255), atol=1e-6)


@pytest.mark.pinned
@pytest.mark.parametrize("info", BUILTINS, ids=lambda i: i.name)
def test_ndarray_in_ndarray_out_with_same_values(info, cifar_test_images):
    image = cifar_test_images[0][3]
    out_np = pipeline_for(info, seed=5)(image)
    out_nd = pipeline_for(info, seed=5)(mx.nd.array(image, dtype="uint8"))
    assert isinstance(out_nd, mx.nd.NDArray) and out_nd.dtype == out_np.dtype
    np.testing.assert_array_equal(out_nd.asnumpy(), out_np)


@pytest.mark.parametrize("info", BUILTINS, ids=lambda i: i.name)
def test_same_seed_same_outputs_and_random_ones_vary_across_seeds(info, cifar_test_images):
    images = cifar_test_images[0][:20]

    box = np.array([[8, 8, 24, 24]], np.float32)  # a crop around the boxes shows its draw only inside the image

    def run(seed):
        pipe = pipeline_for(info, seed=seed)
        if getattr(pipe[-1], "needs_targets", False):
            return [pipe(im, boxes=box)[0] for im in images]
        return [pipe(im) for im in images]

    a, b = run(1), run(1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    if pipeline_for(info)[-1].random:
        c = run(2)
        assert any(x.shape != y.shape or not np.array_equal(x, y) for x, y in zip(a, c)), \
            f"{info.name} gives the same 20 outputs for seeds 1 and 2"


IMAGE_TRANSFORMS = [i for i in BUILTINS if i.name not in TENSOR_ONLY]


@pytest.mark.parametrize("info", IMAGE_TRANSFORMS, ids=lambda i: i.name)
def test_grayscale_single_channel_images_keep_their_shape(info):
    gray = np.random.default_rng(0).integers(0, 256, (40, 36, 1), dtype=np.uint8)
    out = pipeline_for(info)(gray)
    assert out.ndim == 3 and (out.shape[2] == 1 or out.shape[0] == 1)


@pytest.mark.parametrize("info", [i for i in IMAGE_TRANSFORMS if i.name != "ToTensor"], ids=lambda i: i.name)
def test_float_images_keep_float(info, cat):
    out = pipeline_for(info)(cat.astype(np.float32))
    assert out.dtype == np.float32 and np.isfinite(out).all()


def test_bad_inputs_get_clear_errors():
    pipe = build_pipeline("RandomFlipLeftRight", registry=REGISTRY)
    with pytest.raises(ValueError, match="3 dimensions"):
        pipe(np.zeros((8, 8), np.uint8))
    with pytest.raises(ValueError, match="3 dimensions"):  # 4-D is a clip of HWC frames, 5-D nothing
        pipe(np.zeros((2, 3, 8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="clip frame 0"):
        pipe(np.zeros((2, 8, 8, 5), np.uint8))
    with pytest.raises(ValueError, match="1, 3 or 4 channels"):
        pipe(np.zeros((3, 32, 32), np.uint8))
    with pytest.raises(TypeError, match="NDArray or numpy"):
        pipe([[1, 2, 3]])


@pytest.mark.parametrize("spec, param", [
    ("RandomFlipLeftRight(p=1.5)", "p"), ("RandomBrightness(-0.1)", "brightness"), ("RandomHue(-0.1)", "hue"),
    ("RandomColorJitter(contrast=-1)", "contrast"), ("RandomResizedCrop(0)", "size"),
    ("RandomResizedCrop(32, scale=(0.9, 0.1))", "scale"), ("RandomResizedCrop(32, ratio=(0, 1))", "ratio"),
    ("RandomCrop(32, pad=-1)", "pad"), ("RandomCrop(32, pad=(1, 2, 3))", "pad"), ("Resize((32, 0))", "size"),
    ("Resize(32, interpolation=7)", "interpolation"), ("CenterCrop('big')", "size"),
    ("RandomRotation(degrees=(30, -30))", "degrees"), ("RandomAffine(translate=(2, 0))", "translate"),
    ("RandomGrayscale(p=-0.5)", "p"), ("GaussianBlur(kernel_size=4)", "kernel_size"),
    ("GaussianBlur(sigma=0)", "sigma"), ("Solarize(threshold=300)", "threshold"), ("Posterize(bits=0)", "bits"),
    ("Posterize(bits=2.5)", "bits"), ("Sharpness(factor=-1)", "factor"), ("Cutout(size=0)", "size"),
    ("RandomErasing(value='noise')", "value"), ("RandAugment(magnitude=31)", "magnitude"),
    ("AutoAugment('svhn2')", "policy"), ("ToTensor, Normalize(std=0)", "std"),
    ("ToTensor, Normalize(mean=(1, 2))", "mean"), ("RandomLighting(-1)", "alpha"),
    ("RandomApply([RandomFlipLeftRight], p=2)", "p"), ("RandomChoice([RandomHue, ToTensor], p=[1])", "p"),
])
def test_bad_parameters_fail_at_build_time_naming_the_parameter(spec, param):
    from gluon_augplug.errors import ParameterError

    with pytest.raises(ParameterError) as info:
        build_pipeline(spec, registry=REGISTRY)
    assert info.value.param == param
    assert "allowed" in str(info.value)


@pytest.mark.parametrize("info", BUILTINS, ids=lambda i: i.name)
def test_every_builtin_pickles_and_behaves_the_same_after(info, cifar_test_images):
    import pickle

    image = cifar_test_images[0][9]
    pipe = pipeline_for(info, seed=4)
    clone = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(clone(image), pipeline_for(info, seed=4)(image))
    transform = pickle.loads(pickle.dumps(pipe[-1]))
    assert type(transform) is type(pipe[-1]) and transform.to_spec() == pipe[-1].to_spec()


@pytest.mark.parametrize("shape, mean, std", [((32, 32, 3), (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
                                              ((400, 500, 3), 0.5, 0.25), ((7, 5, 1), 0.5, 0.25),
                                              ((9, 9, 4), (0.1, 0.2, 0.3, 0.4), 0.5)])
def test_tensor_then_normalize_runs_fused_with_the_same_values(shape, mean, std):
    """A ToTensor directly followed by Normalize runs as one look-up per channel; the values are the two
    steps' own, bit for bit, and the record still lists both steps."""
    from gluon_augplug.transforms import Normalize, ToTensor

    img = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    separate = Normalize(mean, std).apply(ToTensor().apply(img, "HWC"), "CHW")
    pipe = build_pipeline([{"name": "ToTensor"}, {"name": "Normalize", "params": {"mean": mean, "std": std}}])
    out, record = pipe.apply_with_params(img)
    np.testing.assert_array_equal(out, separate)
    assert [c["name"] for c in record["children"]] == ["ToTensor", "Normalize"]
    np.testing.assert_array_equal(pipe.replay(img, record), separate)
    with pytest.raises(Exception, match="mean has 4 values but the tensor has 3 channels"):
        build_pipeline("ToTensor, Normalize((0.1, 0.2, 0.3, 0.4), 0.5)")(img[:, :, :3] if shape[2] == 4 else
                                                                        np.zeros((4, 4, 3), np.uint8))
