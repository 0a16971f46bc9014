"""Broken: returns a list instead of an image array."""
import gluon_augplug
from gluon_augplug import Transform


class ToList(Transform):
    """Return the pixels as nested lists."""

    def apply(self, img, layout):
        return img.tolist()

    def run(self, img, rng, layout, replay=None):
        return self.apply(img, layout), {"name": self.spec_name, "params": {}}

    def __call__(self, img, rng=None):
        return self.apply(img if not hasattr(img, "asnumpy") else img.asnumpy(), "HWC")


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("ToList", ToList)
