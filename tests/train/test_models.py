"""Models by name: D2L's ResNet-18 for 32x32 inputs and GluonCV's zoo."""
from __future__ import annotations

import mxnet as mx
import pytest
from mxnet.gluon import nn

from gluon_augplug.errors import UnknownTransformError
from gluon_augplug.train.models import Residual, get_model


def test_d2l_resnet18_matches_the_chapter():
    net = get_model("d2l_resnet18")
    net.initialize(mx.init.Xavier())
    assert net(mx.nd.zeros((2, 3, 32, 32))).shape == (2, 10)
    trainable = sum(p.data().size for p in net.collect_params().values() if p.grad_req != "null")
    assert abs(trainable - 11.18e6) < 0.01e6
    stem = list(net)[:3]
    assert [type(b) for b in stem] == [nn.Conv2D, nn.BatchNorm, nn.Activation]
    assert stem[0]._kwargs["kernel"] == (3, 3) and stem[0]._kwargs["stride"] == (1, 1)
    assert not any(isinstance(b, nn.MaxPool2D) for b in net)
    stages = list(net)[3:7]
    assert [len(s) for s in stages] == [2, 2, 2, 2]
    assert [s[0].conv3 is not None for s in stages] == [False, True, True, True]
    assert isinstance(list(net)[-2], nn.GlobalAvgPool2D) and isinstance(list(net)[-1], nn.Dense)
    assert all(isinstance(b, Residual) for s in stages for b in s)


def test_gluoncv_models_by_name():
    net = get_model("cifar_resnet20_v1", classes=10)
    net.initialize()
    assert net(mx.nd.zeros((1, 3, 32, 32))).shape == (1, 10)


def test_unknown_model_names_the_closest():
    with pytest.raises(UnknownTransformError, match="unknown model 'cifar_resnet20'.*cifar_resnet20_v1"):
        get_model("cifar_resnet20")
