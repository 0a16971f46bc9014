"""Clip data sets: GluonCV's layouts read offline, its frame sampling number for number, decord and PyAV
agreeing, seeded epochs whatever num_workers is, and clear errors for bad files."""
from __future__ import annotations

import os

import mxnet as mx
import numpy as np
import pytest

from gluon_augplug import augment
from gluon_augplug.data import ClipDataset
from gluon_augplug.data.clips import frame_indices, sample_offsets, slowfast_indices
from gluon_augplug.io.formats import DataFormatError
from gluon_augplug.data.video import read_video, video_length
from gluon_augplug.errors import InputError
from gluon_augplug.testing.clips import frame_number, make_clip_set, moving_shape_clip

classification = pytest.importorskip("gluoncv.data.video_custom.classification")


@pytest.fixture(scope="module")
def clip_set(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("clips"))
    setting = make_clip_set(root, videos=6, classes=3, frames=30, hw=(96, 128), video_files=True)
    return root, setting


def _numbers(clip):
    """The 0-based frame numbers moving_shape_clip drew into the frames."""
    return [frame_number(f) for f in clip]


def _gluoncv(root, setting, **kwargs):
    return classification.VideoClsCustom(root=os.path.join(root, "rawframes"), setting=setting, **kwargs)


@pytest.mark.parametrize("num_frames", [1, 5, 30, 31, 100, 301])
@pytest.mark.parametrize("segments, length, step", [(1, 1, 1), (3, 1, 1), (7, 1, 1), (1, 32, 2), (2, 5, 3)])
def test_validation_and_test_offsets_are_gluoncvs(num_frames, segments, length, step, clip_set):
    root, setting = clip_set
    for mode, kwargs in (("val", {"train": False}), ("test", {"train": False, "test_mode": True})):
        ds = _gluoncv(root, setting, num_segments=segments, new_length=length, new_step=step, **kwargs)
        theirs = ds._sample_val_indices(num_frames) if mode == "val" else ds._sample_test_indices(num_frames)
        ours = sample_offsets(num_frames, segments, length * step, mode, np.random.default_rng(0))
        np.testing.assert_array_equal(ours, theirs[0])


@pytest.mark.parametrize("num_frames", [1, 5, 30, 100])
@pytest.mark.parametrize("segments, length, step", [(3, 1, 1), (1, 32, 2), (2, 5, 3), (8, 4, 1)])
def test_training_offsets_have_gluoncvs_support_and_mean(num_frames, segments, length, step, clip_set):
    root, setting = clip_set
    ds = _gluoncv(root, setting, num_segments=segments, new_length=length, new_step=step)
    np.random.seed(0)
    theirs = np.array([ds._sample_train_indices(num_frames)[0] for _ in range(1500)])
    rng = np.random.default_rng(0)
    ours = np.array([sample_offsets(num_frames, segments, length * step, "train", rng) for _ in range(1500)])
    assert set(np.unique(ours)) == set(np.unique(theirs))
    np.testing.assert_allclose(ours.mean(axis=0), theirs.mean(axis=0), atol=max(0.6, 0.05 * num_frames))


@pytest.mark.parametrize("segments, length, step", [(3, 1, 1), (1, 8, 2), (2, 5, 3), (1, 40, 1)])
def test_the_frames_read_are_gluoncvs(segments, length, step, clip_set):
    """Given GluonCV's offsets, its frame loader and ours read the same frames (the numbers in the pixels)."""
    root, setting = clip_set
    ds = _gluoncv(root, setting, num_segments=segments, new_length=length, new_step=step, new_width=0,
                  new_height=0)
    ours = ClipDataset(setting, os.path.join(root, "rawframes"), num_segments=segments, new_length=length,
                       new_step=step, new_width=0, new_height=0)
    directory, duration, _ = ds.clips[0]
    np.random.seed(1)
    offsets, skips = ds._sample_train_indices(duration)
    theirs = ds._image_TSN_cv2_loader(directory, duration, offsets, skips)
    indices = frame_indices(duration, offsets, skips, length, step)
    from gluon_augplug.data.video import read_frames_folder

    mine = read_frames_folder(directory, indices)
    assert mine.shape == (len(theirs),) + theirs[0].shape
    assert _numbers(mine) == _numbers(theirs) == indices
    assert np.abs(mine.astype(int) - np.stack(theirs)).mean() < 1.5  # libjpeg-turbo against OpenCV's decoder
    assert len(ours[0][0]) == segments * length


def test_slowfast_frames_are_gluoncvs(clip_set):
    root, setting = clip_set
    ds = _gluoncv(root, setting, num_segments=1, new_length=16, slowfast=True, slow_temporal_stride=8,
                  fast_temporal_stride=2, new_width=0, new_height=0)
    directory, duration, _ = ds.clips[1]
    np.random.seed(2)
    offsets, skips = ds._sample_train_indices(duration)
    theirs = ds._image_slowfast_cv2_loader(directory, duration, offsets, skips)
    indices = slowfast_indices(frame_indices(duration, offsets, skips, 16, 1), 1, 16, 2, 8)
    assert indices == _numbers(theirs)
    ours = ClipDataset(setting, os.path.join(root, "rawframes"), num_segments=1, new_length=16, slowfast=True,
                       slow_temporal_stride=8, fast_temporal_stride=2)
    assert len(ours[1][0]) == 8 + 2


def test_video_files_through_decord_and_pyav_agree(clip_set):
    root, setting = clip_set
    path = os.path.join(root, "videos", "video_002.mp4")
    assert video_length(path, "decord") == video_length(path, "av") == 30
    a = read_video(path, [0, 7, 29, 7], "decord")
    b = read_video(path, [0, 7, 29, 7], "av")
    assert a.shape == b.shape == (4, 96, 128, 3)
    assert np.abs(a.astype(int) - b).max() <= 2  # the same decoder (FFmpeg) behind both
    truth = moving_shape_clip(2, 30, (96, 128), seed=2)[[0, 7, 29, 7]]
    assert np.abs(a.astype(int) - truth).mean() < 3  # MPEG-4 at a fine quantiser keeps the picture
    for backend in ("decord", "av"):
        ds = ClipDataset(setting, os.path.join(root, "videos"), video_loader=True, backend=backend, num_segments=3,
                         new_width=170, new_height=128, train=False)
        clip, label = ds[2]
        assert clip.shape == (3, 128, 170, 3) and label == 2


def test_augmented_clip_epochs_are_the_same_with_0_and_2_workers(clip_set):
    root, setting = clip_set
    ds = ClipDataset(setting, os.path.join(root, "rawframes"), num_segments=3, new_length=2, new_width=170,
                     new_height=128)
    train = augment(ds, "MultiScaleCrop(112), RandomFlipLeftRight, ToTensor", seed=5)
    epochs = {}
    for workers in (0, 2):
        for epoch in (0, 1):
            train.set_epoch(epoch)
            loader = mx.gluon.data.DataLoader(train, batch_size=3, num_workers=workers)
            epochs[workers, epoch] = [(d.asnumpy(), l.asnumpy()) for d, l in loader]
    for epoch in (0, 1):
        for (d0, l0), (d2, l2) in zip(epochs[0, epoch], epochs[2, epoch]):
            np.testing.assert_array_equal(d0, d2)
            np.testing.assert_array_equal(l0, l2)
    assert epochs[0, 0][0][0].shape == (3, 6, 3, 112, 112)
    assert not np.array_equal(epochs[0, 0][0][0], epochs[0, 1][0][0])
    # the frames chosen come from the sample's stream too: two epochs pick different frames
    picks = {tuple(ds.frames_of(0, train.generator(0, epoch))[1]) for epoch in range(6)}
    assert len(picks) > 1
    three_d = augment(ds, "video-val", seed=0, clip_layout="CTHW")
    assert three_d[0][0].shape == (3, 6, 224, 224)


def test_bad_clip_files_get_named_errors(clip_set, tmp_path):
    root, setting = clip_set
    bad = tmp_path / "bad.txt"
    bad.write_text("video_000 30\n")
    with pytest.raises(DataFormatError, match="bad.txt:1"):
        ClipDataset(str(bad), root)
    bad.write_text("../../etc 30 1\n")
    with pytest.raises(DataFormatError, match="inside the root"):
        ClipDataset(str(bad), root)
    bad.write_text("video_000 thirty 1\n")
    with pytest.raises(DataFormatError, match="integers"):
        ClipDataset(str(bad), root)
    with pytest.raises(InputError, match="num_segments"):
        ClipDataset(setting, root, num_segments=0)
    gone = tmp_path / "frames"
    (gone / "video_000").mkdir(parents=True)
    ds = ClipDataset(setting, str(gone), new_width=0, new_height=0, train=False)
    with pytest.raises(DataFormatError, match="frame 16 of .*missing"):
        ds[0]
    not_video = tmp_path / "videos"
    not_video.mkdir()
    (not_video / "video_000.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(500))
    for backend in ("decord", "av"):
        ds = ClipDataset(setting, str(not_video), video_loader=True, backend=backend)
        with pytest.raises(DataFormatError, match="video_000.mp4"):
            ds[0]
    with pytest.raises(DataFormatError, match="does not exist"):
        ClipDataset(setting, str(not_video), video_loader=True)[1]
