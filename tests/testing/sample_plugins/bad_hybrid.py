"""Broken: a HybridBlock whose output changes once hybridized (Python branching on F)."""
import mxnet as mx

import gluon_augplug


class Flaky(gluon_augplug.ImageHybridBlock):
    """Identity when eager, reversed when hybridized."""

    def hybrid_forward(self, F, x):
        if F is mx.nd:
            return F.identity(x)
        return F.reverse(x, axis=1)


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("Flaky", Flaky)
