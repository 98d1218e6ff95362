"""NumPy arrays to and from the engine: float32 C-contiguous buffers pass by
address (no copy on the Python side); others are converted once."""

import numpy as np


def as_f32(a, name, ndim=None):
    """``a`` as a float32 C-contiguous ndarray (the same object when it is one),
    with a ValueError naming ``name`` for non-numeric data, NaN or a wrong rank."""
    if isinstance(a, np.ndarray) and a.dtype == np.float32 and a.flags.c_contiguous:
        arr = a
    else:
        try:
            src = np.asarray(a)
        except Exception as e:  # ragged lists and the like
            raise ValueError(f"{name}: cannot be read as an array ({e})") from None
        if src.dtype == object or not (
            np.issubdtype(src.dtype, np.number) or src.dtype == np.bool_
        ):
            raise ValueError(f"{name}: expected numbers, got an array of dtype {src.dtype}")
        if np.issubdtype(src.dtype, np.complexfloating):
            raise ValueError(f"{name}: complex values are not supported")
        arr = np.ascontiguousarray(src, dtype=np.float32)
    if ndim is not None and arr.ndim not in (ndim if isinstance(ndim, tuple) else (ndim,)):
        raise ValueError(f"{name}: expected a {ndim}-dimensional array, got shape {arr.shape}")
    if arr.size and not np.isfinite(arr).all():
        raise ValueError(f"{name}: the array contains NaN or infinite values")
    return arr


def ref(arr):
    """The ``(address, shape)`` pair the extension reads (``arr`` must stay alive)."""
    return (arr.__array_interface__["data"][0], list(arr.shape))
