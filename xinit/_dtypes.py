"""Dtype validation: which dtypes an initializer can produce."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from xinit._errors import DTypeError

__all__ = ["DTypeLike", "check_dtype"]

DTypeLike = Any  # anything np.dtype() accepts: "float32", np.float32, jnp.bfloat16, ...


def check_dtype(dtype: DTypeLike, *, name: str, allow_int: bool = False) -> np.dtype:
    """Return ``dtype`` as a NumPy dtype, or raise :class:`DTypeError`.

    Real floating dtypes are accepted. ``float64`` needs ``jax_enable_x64``
    (without it JAX cannot hold a float64 array); xinit then returns the
    float32 canonical values widened exactly. Integer and bool dtypes are
    accepted only by the deterministic schemes (``allow_int``), as in torch.
    Complex dtypes are refused.
    """
    if dtype is None:
        return np.dtype(np.float32)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise DTypeError(f"{name}: dtype {dtype!r} is not a dtype") from None
    if np.issubdtype(dt, np.complexfloating):
        raise DTypeError(f"{name}: complex dtypes are not supported, got dtype={dt}")
    is_float = jax.dtypes.issubdtype(dt, np.floating)
    if not is_float:
        if allow_int and (np.issubdtype(dt, np.integer) or dt == np.bool_):
            pass
        else:
            kinds = "a floating, integer or bool dtype" if allow_int else "a floating dtype"
            raise DTypeError(f"{name}: needs {kinds}, got dtype={dt}")
    if dt.itemsize == 8 and not jax.config.jax_enable_x64:
        raise DTypeError(
            f"{name}: dtype={dt} needs jax_enable_x64 (jax.config.update('jax_enable_x64', True)); "
            "without it JAX cannot hold 64-bit arrays"
        )
    return dt
