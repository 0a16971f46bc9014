"""The io layer: decoding images, reading and writing RecordIO, parsing the file formats (CIFAR-10's binary and
Python batches, image headers), with bounds and errors that name the file and the offset.

It sits below the transforms and the pipelines (which take an :class:`~gluon_augplug.io.decode.EncodedImage` and
decode it as their first step) and below the datasets of :mod:`gluon_augplug.data`, and imports nothing above it.
Every reader decodes with the one decoder here, :func:`~gluon_augplug.io.decode.decode` (libjpeg-turbo for JPEG,
OpenCV for PNG, BMP, WebP, PPM and TIFF, PIL for GIF).
"""
