"""Decoding: libjpeg-turbo's pixels equal PIL's and MXNet's, formats decided from the bytes, damage refused."""
from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from gluon_augplug.io.decode import EncodedImage, decode, encode_jpeg, image_format
from gluon_augplug.io.formats import DataFormatError


def _pil_bytes(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def test_jpeg_pixels_equal_pils_and_opencvs(cat_path):
    data = cat_path.read_bytes()
    ours = decode(data, "cat")
    np.testing.assert_array_equal(ours, np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    np.testing.assert_array_equal(ours, cv2.imdecode(np.frombuffer(data, np.uint8), 1)[:, :, ::-1])
    assert EncodedImage(data).size() == (400, 500)


@pytest.mark.parametrize("kind", ["L", "CMYK", "progressive", "PNG", "BMP", "WEBP", "TIFF", "PPM", "GIF"])
def test_every_documented_format_decodes_to_rgb(cat_path, kind):
    image = Image.open(cat_path)
    if kind in ("L", "CMYK"):
        data = _pil_bytes(image.convert(kind), "JPEG", quality=95)
    elif kind == "progressive":
        data = _pil_bytes(image, "JPEG", progressive=True)
    else:
        data = _pil_bytes(image.convert("P") if kind == "GIF" else image, kind)
    out = decode(data, kind)
    assert out.shape == (400, 500, 3) and out.dtype == np.uint8
    reference = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert np.abs(out.astype(int) - reference).mean() < 1.0, kind


def test_reduced_decoding_sizes(cat_path):
    data = cat_path.read_bytes()
    assert [decode(data, "cat", k).shape[:2] for k in (1, 2, 4, 8)] == [(400, 500), (200, 250), (100, 125), (50, 63)]
    png = _pil_bytes(Image.open(cat_path), "PNG")
    assert decode(png, "png", 4).shape[:2] == (100, 125)


def test_damage_and_other_formats_are_errors_naming_the_source(cat_path, tmp_path):
    data = cat_path.read_bytes()
    with pytest.raises(DataFormatError, match=r"rec record 3 \(JPEG, \d+ bytes\) is corrupt or truncated"):
        decode(data[: len(data) // 2], "rec record 3")  # OpenCV would return gray rows without a word
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"
    with pytest.raises(DataFormatError, match=r"eps item is not an image in a supported format .* b'%!PS-Ado'"):
        decode(eps, "eps item")
    with pytest.raises(DataFormatError, match=r"broken png \(PNG, 58 bytes\) is corrupt: its header cannot be read$"):
        decode(b"\x89PNG\r\n\x1a\n" + b"\0" * 50, "broken png")


def test_encoding_round_trip_and_pickling(cat):
    import pickle

    data = encode_jpeg(cat, 95)
    assert image_format(data) == "JPEG"
    assert np.abs(decode(data, "x").astype(int) - cat).mean() < 2.0
    copy = pickle.loads(pickle.dumps(EncodedImage(data, "record 1")))
    assert copy.data == data and copy.name == "record 1" and "JPEG" in repr(copy)


def test_a_png_bomb_is_refused_by_its_header_before_opencv_allocates_it():
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    def png(side: int) -> bytes:
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b""))

    assert EncodedImage(png(12000)).size() == (12000, 12000)  # from the header, nothing decoded
    with pytest.raises(DataFormatError, match=r"is 12000x12000 = 144,000,000 pixels, more than the limit"):
        decode(png(12000), "bomb.png")
    with pytest.raises(DataFormatError, match=r"huge.png claims more than twice the limit of 89,478,485 pixels"):
        decode(png(60000), "huge.png")
