"""The base class of transforms that run another library's augmentation (albumentations, imgaug...)."""
from __future__ import annotations

from types import MappingProxyType

import re
import sys
from typing import Any, Callable, ClassVar, Mapping

import numpy as np

from ..errors import AugplugError, InputError, ParameterError, SpecError
from ..targets.modes import TargetMode
from ..transforms.base import HWC, Record, Transform, hwc_shape


def to_uint8(img: np.ndarray) -> np.ndarray:
    """A float image on gluon_augplug's 0-255 scale as the uint8 picture it stands for (rounded, saturated)."""
    return np.clip(np.rint(np.nan_to_num(img, nan=0.0)), 0, 255).astype(np.uint8)


class LibraryTransform(Transform):
    """One class of another augmentation library, run as a gluon_augplug transform.

    Subclasses (one per library) set :attr:`library` and implement :meth:`build` and :meth:`augment`;
    :func:`library_class` makes one class per wrapped library class, with its parameters declared
    (see :func:`gluon_augplug.adapters.declare_signature`). What the base class does:

    * **seeding**: :meth:`sample` draws one seed from the pipeline's generator, and :meth:`augment`
      runs the library seeded with it (:func:`gluon_augplug.randomness.global_random_state` for a
      library that draws from Python's or numpy's global generator), so a seeded pipeline is
      reproducible, replays (the record holds the seed) and gives distinct streams in DataLoader
      workers;
    * **values**: the library sees uint8 pictures; a float32 image (gluon_augplug's 0-255 scale)
      is rounded to uint8 for it and comes back float32 on the same scale (albumentations 1.x reads
      floats as 0-1, and several of its transforms and most of imgaug's are defined on uint8 only);
    * **errors**: parameters the library refuses when it is built become a :class:`SpecError` naming
      the transform and the library's own message;
    * **targets**: :meth:`augment` returns, with the image, what it drew, which the subclass's
      ``apply_boxes``/``apply_mask``/``apply_keypoints`` receive as ``params["drawn"]``.
    """

    random: ClassVar[bool] = True
    accepts: ClassVar[tuple[str, ...]] = (HWC,)
    library: ClassVar[str] = "the library"  # "albumentations 1.3.1", for messages
    library_class: ClassVar[Any] = None  # the wrapped class
    two_d_gray: ClassVar[bool] = True  # the library takes a one-channel image as (H, W) (albumentations) or (H, W, 1)

    # -- to implement ------------------------------------------------------------
    def build(self, kwargs: dict) -> Any:
        """The library's object for the given parameters."""
        return self.library_class(**kwargs)

    def augment(self, img: np.ndarray, seed: int, targets: Any) -> tuple[np.ndarray, Any]:
        """Run the library on the uint8 HWC ``img`` seeded with ``seed``: ``(image, drawn)``, where
        ``drawn`` is what the targets need to follow (``None``: nothing was applied). ``targets`` is the
        :class:`~gluon_augplug.targets.TargetState` (or None), for libraries whose sampling reads boxes."""
        raise NotImplementedError

    # -- machinery ----------------------------------------------------------------
    def library_kwargs(self) -> dict:
        """The parameters as the library takes them (the declared values, as validated)."""
        return {name: self.__dict__[name] for name in type(self).parameters}

    def setup(self) -> None:
        kwargs = self.library_kwargs()
        try:
            self.wrapped = self.build(kwargs)
        except (AugplugError, MemoryError):
            raise
        except Exception as exc:
            message = str(exc).strip() or type(exc).__name__
            named = [k for k in kwargs if re.search(rf"\b{re.escape(k)}\b", message)]
            if len(named) == 1:
                raise ParameterError(type(self).__name__, named[0], kwargs[named[0]],
                                     f"what {self.library} accepts ({message})") from None
            raise SpecError(f"{self!r}: {self.library} refused these parameters: "
                            f"{type(exc).__name__}: {message}") from None

    def __getstate__(self) -> dict:
        # the library's object is built again from the parameters where the copy lands: a pickled imgaug
        # augmenter can derive its children's seeds in another order than a freshly built one
        state = dict(self.__dict__)
        state.pop("wrapped", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.wrapped = self.build(self.library_kwargs())

    def sample(self, rng: np.random.Generator, shape: tuple[int, int, int]) -> dict:
        return {"seed": int(rng.integers(0, 2**63 - 1))}

    def apply(self, img: np.ndarray, layout: str, seed: int = 0, **_: Any) -> np.ndarray:
        return self._image(img, seed, None)[0]

    def _image(self, img: np.ndarray, seed: int, targets: Any) -> tuple[np.ndarray, Any]:
        picture = img if img.dtype == np.uint8 else to_uint8(img)
        try:
            if self.two_d_gray and picture.ndim == 3 and picture.shape[2] == 1:  # it drops or refuses a lone channel
                out, drawn = self.augment(picture[:, :, 0], seed, targets)
            else:
                out, drawn = self.augment(picture, seed, targets)
        except (AugplugError, MemoryError, KeyboardInterrupt):
            raise
        except Exception as exc:  # the library's own error, which names neither the step nor its parameters
            raise InputError(f"{self!r}: {self.library} failed on a {'x'.join(map(str, img.shape))} "
                             f"{img.dtype} image: {type(exc).__name__}: {str(exc).strip()[:300]}") from exc
        out = np.asarray(out)
        if out.ndim == 2:
            out = out[:, :, None]
        if out.dtype != np.uint8:  # a library step that changed the value convention: back to 0-255 uint8
            out = to_uint8(out * 255.0 if out.dtype.kind == "f" and out.max(initial=0) <= 1.0 else out)
        if img.dtype != np.uint8:
            out = out.astype(img.dtype)
        elif out is not img and np.may_share_memory(out, img):  # a view: the input is the pipeline's to copy
            out = out.copy()
        return out, drawn

    def run(self, img: np.ndarray, rng: np.random.Generator, layout: str,
            replay: Record | None = None, targets: Any = None) -> tuple[np.ndarray, Record]:
        shape = hwc_shape(img, layout)
        params = self._replayed_params(replay) if replay is not None else self.sample(rng, shape)
        out, drawn = self._image(img, int(params["seed"]), targets)
        out_hw = out.shape[:2]
        if targets is not None:
            targets.step(self, {**params, "drawn": drawn}, shape[:2], out_hw)
        return out, {"name": self.spec_name, "params": params, "in_hw": list(shape[:2]), "out_hw": list(out_hw)}


def library_class(name: str, base: type, wrapped: Any, parameters: dict, *, module: str, doc: str = "",
                  attributes: dict | None = None) -> type:
    """Make ``name``, a subclass of ``base`` (a :class:`LibraryTransform`) wrapping the library class
    ``wrapped``, with ``parameters`` declared, and publish it in ``module`` so that it pickles (DataLoader
    workers, checkpoints) like a class written out there."""
    namespace = {**parameters, "library_class": wrapped, "__module__": module, "__qualname__": name,
                 "__doc__": doc or (wrapped.__doc__ or ""), **(attributes or {})}
    for attr in parameters:
        if hasattr(base, attr):
            raise TypeError(f"{name}: parameter {attr!r} of {wrapped!r} hides {base.__name__}.{attr}")
    cls = type(name, (base,), namespace)
    setattr(sys.modules[module], name, cls)
    return cls


def wrap_classes(classes: Mapping[str, Any], base: type, *, prefix: str, module: str, version: str,
                 parameters: Callable[[Any], dict], moves_pixels: Callable[[str, Any], bool],
                 examples: Mapping[str, dict] = MappingProxyType({})) -> dict[str, type]:
    """One :func:`library_class` per library class: ``{prefix + name: class}``.

    Parameters
    ----------
    classes : mapping
        ``{library class name: class}`` of the classes to offer.
    base : type
        The adapter's :class:`LibraryTransform` subclass.
    prefix : str
        The library tag every name starts with (``"Albu"``): no collision with built-ins or other adapters.
    module : str
        Where the classes are published (the plugin's module), so that they pickle.
    version : str
        The library's version, for the docs.
    parameters : callable
        ``parameters(library class) -> {name: Param}``.
    moves_pixels : callable
        ``moves_pixels(name, library class)``: its targets move (``"geometric"``) or not (``"pixel"``).
    examples : mapping
        ``{library class name: parameters of a typical instance}``.
    """
    examples = dict(examples)
    library: str = getattr(base, "library")  # noqa: B009 (a class attribute the base class declares)
    out = {}
    for name, wrapped in classes.items():
        doc = (wrapped.__doc__ or "").strip()
        first = doc.splitlines()[0].strip() if doc else f"{library}'s {name}"
        described = (f"{first}\n\n{library} {version}'s ``{name}``, seeded by the pipeline's generator; "
                     f"float32 images (0-255) are rounded to uint8 for it.\n\n{doc}")
        attributes: dict[str, Any] = {"target_mode": TargetMode.GEOMETRIC if moves_pixels(name, wrapped) else TargetMode.PIXEL}
        if name in examples:
            attributes["example"] = dict(examples[name])
        out[prefix + name] = library_class(prefix + name, base, wrapped, parameters(wrapped), module=module,
                                           doc=described, attributes=attributes)
    return out
