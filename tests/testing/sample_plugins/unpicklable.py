"""Broken: keeps a lock in an attribute, so it cannot be pickled."""
import threading

import gluon_augplug
from gluon_augplug import Transform


class Locked(Transform):
    """Copy the image under a lock."""

    def __init__(self):
        self.lock = threading.Lock()

    def apply(self, img, layout):
        with self.lock:
            return img.copy()


@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("Locked", Locked)
