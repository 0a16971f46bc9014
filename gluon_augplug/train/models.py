"""Models by name: GluonCV's model zoo plus D2L's ResNet-18 for 32x32 inputs (``d2l_resnet18``)."""
from __future__ import annotations

from typing import Any, Callable

from .._optional import require_mxnet
from ..errors import UnknownTransformError

nn = require_mxnet("gluon_augplug.train (the training loop and its models)").gluon.nn


class Residual(nn.HybridBlock):
    """D2L's residual block: two 3x3 convs with BatchNorm; a 1x1 conv (no BatchNorm) on the shortcut
    when the shape changes. (GluonCV's BasicBlockV1 puts BatchNorm on its shortcut, so it differs.)"""

    def __init__(self, channels: int, use_1x1conv: bool = False, strides: int = 1, **kwargs: Any):
        super().__init__(**kwargs)
        self.conv1 = nn.Conv2D(channels, kernel_size=3, padding=1, strides=strides)
        self.conv2 = nn.Conv2D(channels, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2D(channels, kernel_size=1, strides=strides) if use_1x1conv else None
        self.bn1 = nn.BatchNorm()
        self.bn2 = nn.BatchNorm()

    def hybrid_forward(self, F, X):
        Y = F.Activation(self.bn1(self.conv1(X)), act_type="relu")
        Y = self.bn2(self.conv2(Y))
        if self.conv3 is not None:
            X = self.conv3(X)
        return F.Activation(Y + X, act_type="relu")


def d2l_resnet18(classes: int = 10, **kwargs: Any) -> nn.HybridSequential:
    """ResNet-18 of D2L's CIFAR-10 augmentation experiment (about 11.18 M parameters for 10 classes).

    3x3 stride-1 stem conv with BatchNorm and ReLU, no max-pool; four stages of two residual
    blocks (64, 128, 256, 512 channels; stride 2 and a 1x1 shortcut conv in stages 2-4);
    global average pooling; Dense(classes).
    """
    net = nn.HybridSequential(**kwargs)
    with net.name_scope():
        net.add(nn.Conv2D(64, kernel_size=3, strides=1, padding=1), nn.BatchNorm(), nn.Activation("relu"))
        for i, channels in enumerate((64, 128, 256, 512)):
            stage = nn.HybridSequential()
            for j in range(2):
                first = j == 0 and i > 0
                stage.add(Residual(channels, use_1x1conv=first, strides=2 if first else 1))
            net.add(stage)
        net.add(nn.GlobalAvgPool2D(), nn.Dense(classes))
    return net


MODELS: dict[str, Callable[..., nn.HybridBlock]] = {"d2l_resnet18": d2l_resnet18}


def get_model(name: str, classes: int = 10, **kwargs: Any) -> nn.HybridBlock:
    """Build model ``name``: one of :data:`MODELS`, or any GluonCV model-zoo name (no pretrained weights).

    Raises
    ------
    UnknownTransformError
        (a LookupError) naming the closest model names.
    """
    if name in MODELS:
        return MODELS[name](classes=classes, **kwargs)
    from gluoncv.model_zoo import get_model as gluoncv_get_model
    from gluoncv.model_zoo.model_zoo import get_model_list

    known = list(MODELS) + list(get_model_list())
    if name.lower() not in {k.lower() for k in known}:
        raise UnknownTransformError(name, known, kind="model")
    return gluoncv_get_model(name, classes=classes, pretrained=False, **kwargs)
