"""Test-time augmentation side by side with GluonCV's own evaluation code, on the same random-weight networks:
MultiEvalModel (FCN), SimplePose's --flip-test (flip_heatmap), CenterNet's flip_test, ten_crop and the video
crops; on MXNet NDArrays, over two devices as split_and_load gives them."""
from __future__ import annotations

import warnings

import mxnet as mx
import numpy as np
import pytest
from gluoncv import model_zoo
from gluoncv.data.transforms import image as gimage
from gluoncv.data.transforms import video as gvideo
from gluoncv.data.transforms.pose import flip_heatmap
from gluoncv.model_zoo.segbase import MultiEvalModel
from mxnet import gluon

from gluon_augplug.tta import TTA, multi_eval

CONTEXTS = [mx.cpu(0), mx.cpu(1)]
COCO_PAIRS = [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14], [15, 16]]


def quiet_init(net, init=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GluonCV's heads initialise some parameters themselves
        net.initialize(init or mx.init.Xavier(magnitude=2), ctx=CONTEXTS)
    return net


@pytest.fixture(scope="module")
def fcn():
    mx.random.seed(0)
    return quiet_init(model_zoo.FCN(5, backbone="resnet50", pretrained_base=False, base_size=64, crop_size=48,
                                    aux=False))


@pytest.mark.parametrize("hw", [(50, 70), (90, 40)])
def test_multi_eval_equals_multievalmodel(fcn, hw):
    """GluonCV's evaluation of segmentation (6 scales, each padded or tiled, each tile with its mirror), image by
    image, against ours on a batch of two split over two devices."""
    x = mx.nd.random.normal(shape=(2, 3) + hw, ctx=CONTEXTS[0])
    evaluator = MultiEvalModel(fcn, 5, CONTEXTS)
    reference = [evaluator(x[i]).asnumpy()[0] for i in range(2)]
    ours = TTA(fcn.evaluate, multi_eval(base_size=64, crop_size=48), task="segmentation", ctx=CONTEXTS)(x)
    assert ours.shape == (2, 5) + hw and ours.context == CONTEXTS[0]
    for i in range(2):
        scale = np.abs(reference[i]).max()
        assert scale > 1
        assert np.abs(ours[i].asnumpy() - reference[i]).max() <= 1e-5 * scale


def test_multi_scale_averages_probabilities_in_the_input_frame(fcn):
    x = mx.nd.random.normal(shape=(1, 3, 50, 70))
    probs = TTA(fcn.evaluate, "multi-scale(base_size=64, crop_size=48)", task="segmentation")(x)
    assert np.allclose(probs.sum(axis=1).asnumpy(), 1, atol=1e-4)
    square = mx.nd.random.normal(shape=(1, 3, 48, 48))  # one scale, the crop's size: the network's own answer
    single = TTA(fcn.evaluate, "multi-scale(base_size=48, crop_size=48, scales=[1.0], flip=False)",
                 task="segmentation")(square)
    assert np.allclose(single.asnumpy(), fcn.evaluate(square).softmax(axis=1).asnumpy(), atol=1e-5)


def test_pose_flip_equals_gluoncv_flip_test():
    """SimplePose's --flip-test: (heatmaps + flip_heatmap(heatmaps of the mirror, joint_pairs, shift=True)) / 2."""
    mx.random.seed(1)
    net = quiet_init(model_zoo.simple_pose_resnet18_v1b(pretrained_base=False), mx.init.Normal(0.5))
    x = mx.nd.random.normal(shape=(4, 3, 128, 96), ctx=CONTEXTS[0])
    heatmaps = net(x)
    reference = (heatmaps + mx.nd.array(flip_heatmap(net(x.flip(axis=3)).asnumpy(), COCO_PAIRS, shift=True))) / 2
    ours = TTA(net, "flip", task="pose", joint_pairs=COCO_PAIRS, shift=True, ctx=CONTEXTS)(x)
    assert ours.shape == (4, 17, 32, 24)
    scale = np.abs(reference.asnumpy()).max()
    assert scale > 0 and np.abs(ours.asnumpy() - reference.asnumpy()).max() <= 1e-5 * scale
    # without the joint pairs a mirrored left wrist would be averaged into the left wrist's map
    unswapped = TTA(net, "flip", task="pose", joint_pairs=[], shift=True)(x)
    assert np.abs(unswapped.asnumpy() - reference.asnumpy()).max() > 1e-3 * scale


def test_centernet_flip_test_reproduced():
    """CenterNet with flip_test=True averages the heatmaps and sizes of the image and its mirror (its offsets from
    the image alone) before decoding: the same merge, by name, gives the same detections."""
    mx.random.seed(2)
    net = quiet_init(model_zoo.center_net_resnet18_v1b_voc(pretrained_base=False))
    x = mx.nd.random.normal(shape=(2, 3, 128, 160), ctx=CONTEXTS[0])
    net.flip_test = True
    reference = net(x)

    def heads(batch):
        features = net.base_network(batch)
        out = [head(features) for head in net.heads]
        return (out[0].sigmoid(), out[1], out[2])

    heatmap, sizes, offsets = TTA(heads, "flip", task="dense", merge=("mean", "mean", "first"))(x)
    keep = mx.nd.broadcast_equal(net.heatmap_nms(heatmap), heatmap)
    ours = net.decoder(keep * heatmap, sizes, offsets)
    for a, b in zip(reference, ours):
        assert np.allclose(a.asnumpy(), b.asnumpy(), atol=1e-5)
    assert reference[1].asnumpy().max() > 0


def test_ten_crop_equals_gluoncv_ten_crop_on_a_classifier():
    mx.random.seed(3)
    net = quiet_init(model_zoo.get_model("cifar_resnet20_v1", classes=10))
    images = np.random.default_rng(0).integers(0, 256, (3, 36, 40, 3)).astype(np.uint8)
    mean, std = mx.nd.array([0.49, 0.48, 0.45]).reshape((3, 1, 1)), mx.nd.array([0.25, 0.24, 0.26]).reshape((3, 1, 1))

    def to_tensor(hwc):
        return (mx.nd.array(hwc).transpose((2, 0, 1)) / 255 - mean) / std

    reference = []
    for img in images:
        crops = gimage.ten_crop(mx.nd.array(img, dtype="uint8"), (32, 32))
        batch = mx.nd.stack(*[to_tensor(c.asnumpy()) for c in crops])
        reference.append(net(batch).softmax(axis=1).mean(axis=0).asnumpy())
    x = mx.nd.stack(*[to_tensor(img) for img in images])
    ours = TTA(net, "ten-crop(32)", ctx=CONTEXTS)(x).asnumpy()
    assert np.allclose(ours, np.stack(reference), atol=1e-6)


class _Clip3D(gluon.HybridBlock):
    def __init__(self, classes=5):
        super().__init__()
        with self.name_scope():
            self.conv = gluon.nn.Conv3D(8, (3, 3, 3), padding=1)
            self.pool = gluon.nn.GlobalAvgPool3D()
            self.out = gluon.nn.Dense(classes)

    def hybrid_forward(self, F, x):
        return self.out(self.pool(F.relu(self.conv(x))))


@pytest.mark.parametrize("views, gluoncv_crop, frame_major", [("three-crop(32)", gvideo.VideoThreeCrop(32), False),
                                                               ("ten-crop(32)", gvideo.VideoTenCrop(32), True)])
def test_clip_views_average_per_clip_as_gluoncv(views, gluoncv_crop, frame_major):
    """GluonCV's video evaluation: the crops of every frame (VideoThreeCrop / VideoTenCrop), a (crops, C, T, H, W)
    batch through the network, the scores averaged per clip."""
    mx.random.seed(4)
    net = quiet_init(_Clip3D())
    frames = np.random.default_rng(1).random((2, 4, 32, 48, 3)).astype(np.float32)  # 2 clips of 4 frames
    reference = []
    for clip in frames:
        crops = gluoncv_crop(list(clip))  # VideoTenCrop: frame 0's crops, then frame 1's...; VideoThreeCrop: by crop
        k, t_len = len(crops) // len(clip), len(clip)
        per_view = np.stack([np.stack([crops[t * k + v] if frame_major else crops[v * t_len + t] for t in range(t_len)])
                             for v in range(k)])  # (k, T, H, W, C)
        batch = mx.nd.array(per_view.transpose(0, 4, 1, 2, 3))
        reference.append(net(batch).softmax(axis=1).mean(axis=0).asnumpy())
    x = mx.nd.array(frames.transpose(0, 4, 1, 2, 3))  # (N, C, T, H, W)
    ours = TTA(net, views, task="video", ctx=CONTEXTS)(x).asnumpy()
    assert np.allclose(ours, np.stack(reference), atol=1e-6)


def test_detections_merge_by_box_nms_on_two_devices():
    """A detector of drawn red rectangles, as a Gluon detector answers (ids, scores, boxes): the exact boxes after
    the views' maps are undone, merged by MXNet's box_nms, -1 rows where nothing is left."""
    x = mx.nd.zeros((3, 3, 72, 96))
    x[:, 0, 17:49, 23:61] = 1
    x[2, 0, 5:12, 70:90] = 1  # a second object in the third image

    def detector(batch):
        red = (batch[:, 0] > 0.5).asnumpy()
        ids, scores, boxes = -np.ones((len(red), 2, 1)), -np.ones((len(red), 2, 1)), -np.ones((len(red), 2, 4))
        for i, mask in enumerate(red):
            from scipy import ndimage

            labelled, count = ndimage.label(mask)
            for k, found in enumerate(ndimage.find_objects(labelled)[:2]):
                ys, xs = found
                ids[i, k, 0], scores[i, k, 0] = 0, 0.9 - 0.1 * k
                boxes[i, k] = (xs.start, ys.start, xs.stop, ys.stop)
        return tuple(mx.nd.array(a, ctx=batch.context) for a in (ids, scores, boxes))

    ids, scores, boxes = TTA(detector, ["flip", "ten-crop((96, 64))"], task="detection", ctx=CONTEXTS)(x)
    assert ids.shape[0] == 3 and ids.context == CONTEXTS[0]
    b = boxes.asnumpy()
    for i in range(2):
        assert np.allclose(b[i, 0], (23, 17, 61, 49), atol=1e-4)
    assert np.allclose(sorted(b[2, :2].tolist()), [(23, 17, 61, 49), (70, 5, 90, 12)], atol=1e-4)
    assert (ids.asnumpy()[:2, 1:] == -1).all()


def test_ndarray_and_numpy_batches_give_the_same_views():
    """One geometry on both backends: resizes on pixel edges (BilinearResize2D without aligned corners equals
    OpenCV), crops, mirrors, a rotation."""
    x = np.random.default_rng(5).random((2, 3, 30, 41)).astype(np.float32)
    seen = {}
    for kind, batch in (("numpy", x), ("ndarray", mx.nd.array(x))):
        for views in ("Resize((82, 60)), RandomFlipLeftRight(p=1.0)", "five-crop((30, 20), pad=3)",
                      ["identity", "Resize((20, 15))"]):
            out = TTA(lambda v: v, views, task="dense")(batch)
            seen[kind, str(views)] = out.asnumpy() if kind == "ndarray" else out
    for (kind, views), value in seen.items():
        if kind == "numpy":
            assert np.allclose(value, seen["ndarray", views], atol=1e-4), views
