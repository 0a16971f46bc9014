"""Building blocks for plugins that wrap another augmentation library.

The albumentations and imgaug adapters (``plugins/`` in the repository) are built on these:

* :class:`LibraryTransform` runs one library class as a seeded, replayable transform with
  gluon_augplug's value conventions, and :func:`library_class` makes one such class per wrapped
  class, picklable, and :func:`wrap_classes` one per class of a whole library;
* :func:`declare_signature` declares the wrapped class's parameters from its signature
  (:class:`LibraryValue`: the kind of value, and the range where the adapter knows it).
"""
from .library import LibraryTransform, library_class, to_uint8, wrap_classes
from .values import LibraryValue, declare_signature

__all__ = ["LibraryTransform", "library_class", "wrap_classes", "to_uint8", "LibraryValue", "declare_signature"]
