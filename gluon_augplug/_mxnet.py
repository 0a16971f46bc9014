"""numpy -> NDArray without MXNet's per-call Python overhead (imported only when an NDArray is seen).

``mx.nd.from_numpy(a, zero_copy=True)`` spends most of its ~19 us per CIFAR-sized image building
ctypes structures in Python; per-sample pipelines hand back one NDArray per image, so that was the
largest cost of the NDArray-in path. This builds the same DLPack hand-over with cached pieces.
"""
from __future__ import annotations

import ctypes
import threading
from typing import Any

import numpy as np

_state: dict = {}


def _pieces() -> dict:
    if not _state:
        from mxnet.base import _LIB, NDArrayHandle, check_call
        from mxnet.ndarray import ndarray as nd_module

        dtypes = {}
        for name, (code, bits, lanes) in nd_module.DLDataType.TYPE_MAP.items():
            dtype = nd_module.DLDataType()
            dtype.type_code, dtype.bits, dtype.lanes = code, bits, lanes
            dtypes[np.dtype(name)] = dtype
        _state.update(lib=_LIB, handle=NDArrayHandle, check=check_call, NDArray=nd_module.NDArray,
                      managed=nd_module.DLManagedTensor, cpu=nd_module.DLContext(1, 0), dtypes=dtypes,
                      deleter=nd_module.dl_managed_tensor_deleter, incref=ctypes.pythonapi.Py_IncRef)
    return _state


def nd_from_numpy(array: np.ndarray) -> Any:
    """A CPU NDArray that takes over ``array`` (C-contiguous, owned by the caller alone; made read-only),
    as ``mx.nd.from_numpy(array, zero_copy=True)`` does."""
    p = _pieces()
    dtype = p["dtypes"].get(array.dtype)
    if dtype is None or not array.flags.c_contiguous:
        import mxnet as mx

        return mx.nd.from_numpy(np.ascontiguousarray(array), zero_copy=True)
    array.flags.writeable = False
    managed, shapes = _thread_structs(p)
    shape, shape_ptr = shapes[array.ndim]
    if array.ndim:
        shape[:] = array.shape
    tensor = managed.dl_tensor
    tensor.data = array.__array_interface__["data"][0]
    tensor.ndim = array.ndim
    tensor.dtype = dtype
    tensor.shape = shape_ptr
    p["incref"](ctypes.py_object(array))  # released by the deleter when MXNet frees the NDArray
    managed.manager_ctx = id(array)
    handle = p["handle"]()
    # transient: MXNet copies the structure (and the shape) during the call, so one per thread serves every call
    p["check"](p["lib"].MXNDArrayFromDLPackEx(ctypes.byref(managed), True, ctypes.byref(handle)))
    return p["NDArray"](handle=handle)


_local = threading.local()


def _thread_structs(p: dict) -> tuple:
    structs = getattr(_local, "structs", None)
    if structs is None:
        managed = p["managed"]()
        managed.dl_tensor.ctx = p["cpu"]
        managed.dl_tensor.strides = None
        managed.dl_tensor.byte_offset = 0
        managed.deleter = p["deleter"]
        shapes = {}
        for ndim in range(0, 33):
            shape = (ctypes.c_int64 * max(ndim, 1))()
            shapes[ndim] = (shape, ctypes.cast(shape, ctypes.POINTER(ctypes.c_int64)))
        structs = _local.structs = (managed, shapes)
    return structs
