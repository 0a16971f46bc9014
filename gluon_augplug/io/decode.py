"""Fast image decoding: libjpeg-turbo (through ``simplejpeg``) for JPEG, OpenCV for the rest.

An :class:`EncodedImage` is what a streaming data set hands to a pipeline: the bytes of one
image and where they came from. The pipeline reads its size from the header, lets its first
geometric step draw the crop on that full size, and decodes at 1/2, 1/4 or 1/8 scale in the DCT
domain when the step needs no more pixels than that (see :mod:`gluon_augplug.pipeline.fused`).

Formats are decided from the bytes, never from a name: JPEG, PNG, BMP, WebP, PPM/PGM and TIFF go
to OpenCV's decoders, GIF to PIL's (nothing is handed to another program); anything else is a
:class:`DataFormatError` naming the source. libjpeg-turbo releases the GIL, so decoding threads
run in parallel.
"""
from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from .formats import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, DataFormatError, check_pixels

try:
    import simplejpeg as _sj
except ImportError:  # pragma: no cover - a declared dependency; OpenCV decodes alone without it
    _sj = None

SCALES = (1, 2, 4, 8)  # libjpeg's DCT-domain reductions that cost less than a full decode
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "PNG"), (b"BM", "BMP"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"),
               (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"P5", "PGM"), (b"P6", "PPM"))
_CV_REDUCED = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}


def image_format(data: bytes) -> str | None:
    """The format the bytes are in (``"JPEG"``, ``"PNG"``, ...), or None for one not decoded here."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    for signature, name in _SIGNATURES:
        if data.startswith(signature):
            return name
    return None


class EncodedImage:
    """The encoded bytes of one image, decoded by the pipeline that receives it.

    Parameters
    ----------
    data : bytes
        A JPEG, PNG, BMP, WebP, PPM/PGM, GIF or TIFF file's bytes.
    name : str
        Where they came from, for messages (``"train.rec record 12 (offset 6144)"``).
    """

    __slots__ = ("data", "name", "_hw")

    def __init__(self, data: bytes, name: str = "image"):
        self.data = data
        self.name = name
        self._hw: tuple[int, int] | None = None

    @property
    def format(self) -> str | None:
        return image_format(self.data)

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(height, width, 3)`` from the header (RGB once decoded)."""
        return (*self.size(), 3)

    def size(self) -> tuple[int, int]:
        """``(height, width)``, read from the header without decoding the image."""
        if self._hw is None:
            header = jpeg_header(self.data) if self.format == "JPEG" else None
            self._hw = header if header is not None else header_size(self.data, self.name)
        return self._hw

    def decode(self, scale: int = 1) -> np.ndarray:
        """RGB uint8 HWC pixels, reduced ``scale`` times (1, 2, 4 or 8) for a JPEG (``ceil(side / scale)``)."""
        return decode(self.data, self.name, scale)

    def __reduce__(self) -> Any:
        return EncodedImage, (self.data, self.name)

    def __repr__(self) -> str:
        return f"EncodedImage({self.format or 'unknown'}, {len(self.data)} bytes, from {self.name})"


def jpeg_header(data: bytes) -> tuple[int, int] | None:
    """A JPEG's ``(height, width)`` from its header, or None when libjpeg-turbo cannot read it."""
    if _sj is None:
        return None
    try:
        height, width, _, _ = _sj.decode_jpeg_header(data)
    except ValueError:
        return None
    return int(height), int(width)


def header_size(data: bytes, name: str) -> tuple[int, int]:
    """``(height, width)`` of any supported format from its header (PIL reads the header alone).

    Raises
    ------
    DataFormatError
        The header cannot be read.
    """
    import io

    from .formats import open_image

    from PIL import Image, UnidentifiedImageError

    try:
        with open_image(io.BytesIO(data)) as im:
            width, height = im.size
    except Image.DecompressionBombError:
        raise DataFormatError(f"{name} claims more than twice the limit of {MAX_IMAGE_PIXELS:,} pixels (a "
                              f"decompression bomb?): not decoded") from None
    except UnidentifiedImageError:
        raise DataFormatError(f"{name} ({image_format(data)}, {len(data)} bytes) is corrupt: its header cannot be "
                              f"read") from None
    except Exception as exc:  # PIL raises several types for a header it cannot read
        raise DataFormatError(f"{name} ({image_format(data)}, {len(data)} bytes) is corrupt: its header cannot be "
                              f"read ({type(exc).__name__}: {exc})") from None
    return int(height), int(width)


def decode(data: bytes, name: str, scale: int = 1) -> np.ndarray:
    """Decode ``data`` to RGB uint8 HWC; a JPEG reduced ``scale`` times in the DCT domain.

    JPEGs go through libjpeg-turbo (``simplejpeg``: baseline, progressive, grey and CMYK files); one
    whose header it cannot read goes to OpenCV. A truncated or damaged JPEG is an error, never an
    image with gray rows (OpenCV and MXNet's decoder return those without a word).

    Raises
    ------
    DataFormatError
        Not an image in a supported format, corrupt, or more than ``MAX_IMAGE_PIXELS`` pixels.
    """
    if len(data) > MAX_IMAGE_BYTES:
        raise DataFormatError(f"{name} holds {len(data):,} bytes, more than the limit of {MAX_IMAGE_BYTES:,} for an "
                              f"image: not decoded")
    kind = image_format(data)
    if kind is None:
        raise DataFormatError(f"{name} is not an image in a supported format (JPEG, PNG, BMP, WebP, PPM, GIF, TIFF): "
                              f"it starts with {bytes(data[:8])!r}")
    if kind == "JPEG":
        hw = jpeg_header(data)
        if hw is not None:
            _check_pixels(hw, name)
            try:
                if scale == 1:
                    return _sj.decode_jpeg(data, colorspace="RGB")
                # the M/8 factors libjpeg-turbo offers: asking for at least ceil(H / scale) rows picks 8/scale
                return _sj.decode_jpeg(data, colorspace="RGB", min_height=-(-hw[0] // scale),
                                       min_width=-(-hw[1] // scale))
            except ValueError as exc:  # a readable header, then damage: never gray rows in place of the picture
                raise DataFormatError(f"{name} (JPEG, {len(data)} bytes) is corrupt or truncated: {exc}") from None
    if kind == "GIF":  # OpenCV 4.8 has no GIF decoder: PIL's, restricted to the documented formats
        return _decode_with_pil(data, name)
    return _decode_opencv(data, name, kind, scale)


def _decode_opencv(data: bytes, name: str, kind: str, scale: int) -> np.ndarray:
    _check_pixels(header_size(data, name), name)  # a decompression bomb is refused before OpenCV allocates it
    buffer = np.frombuffer(data, np.uint8)
    flag = _CV_REDUCED.get(scale, cv2.IMREAD_COLOR) if kind == "JPEG" else cv2.IMREAD_COLOR
    try:
        bgr = cv2.imdecode(buffer, flag)
    except cv2.error as exc:
        reason = getattr(exc, "msg", str(exc)).strip()
        raise DataFormatError(f"{name} ({kind}, {len(data)} bytes) cannot be decoded: {reason}") from None
    if bgr is None:
        raise DataFormatError(f"{name} ({kind}, {len(data)} bytes) is corrupt or truncated: it cannot be decoded")
    _check_pixels(bgr.shape[:2], name)
    if kind != "JPEG" and scale > 1:
        h, w = bgr.shape[:2]
        bgr = cv2.resize(bgr, (-(-w // scale), -(-h // scale)), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _check_pixels(hw: tuple[int, int], name: str) -> None:
    check_pixels((hw[1], hw[0]), name)


def encode_jpeg(img: np.ndarray, quality: int = 95) -> bytes:
    """An RGB (or grey) uint8 image as JPEG bytes (libjpeg-turbo; OpenCV without simplejpeg)."""
    img = np.ascontiguousarray(img)
    if _sj is not None:
        if img.ndim == 3 and img.shape[2] == 1:
            return _sj.encode_jpeg(img, quality=quality, colorspace="GRAY")
        return _sj.encode_jpeg(img, quality=quality, colorspace="RGB", colorsubsampling="420")
    ok, buf = cv2.imencode(".jpg", img[:, :, ::-1] if img.ndim == 3 and img.shape[2] == 3 else img,
                           [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buf.tobytes()


def decode_image(data: bytes, name: str) -> np.ndarray:
    """An encoded image decoded fully as RGB ``uint8`` HWC: :func:`decode` at full scale, the one decoder every
    reader uses (image trees, ImageFolder, RecordIO, video frames, ``read_image``)."""
    return decode(data, name)


def _decode_with_pil(data: bytes, name: str) -> np.ndarray:
    """Decode a GIF (OpenCV has no GIF decoder) fully with PIL (a truncated file raises instead of yielding gray rows).

    Raises
    ------
    DataFormatError
        Not an image, corrupt or truncated, or larger than ``MAX_IMAGE_PIXELS`` (a decompression bomb).
    """
    import io

    from PIL import Image, UnidentifiedImageError

    from .formats import check_size, open_image

    check_size(len(data), MAX_IMAGE_BYTES, name, "image file")
    try:
        with open_image(io.BytesIO(data)) as im:
            check_pixels(im.size, name)
            im.load()
            return np.asarray(im.convert("RGB"), dtype=np.uint8)
    except UnidentifiedImageError:
        raise DataFormatError(f"{name} is not an image file (JPEG, PNG, ...)") from None
    except Image.DecompressionBombError:
        raise DataFormatError(f"{name} claims more than {MAX_IMAGE_PIXELS:,} pixels (a decompression bomb?): "
                              f"not decoded") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise DataFormatError(f"{name} is corrupt or truncated ({len(data)} bytes): {exc}") from None
