"""Deterministic fills: constant, ones, zeros. The key is ignored."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from xinit._errors import RangeError
from xinit._initializer import Initializer

__all__ = ["constant", "ones", "zeros"]


def _full_kernel(key, shape, fan_in, fan_out, gain, *, dtype, value):  # type: ignore[no-untyped-def]
    del key, fan_in, fan_out, gain
    return jnp.full(shape, value, dtype=dtype)


def _fits(value: bool | int | float, dtype: np.dtype) -> bool:
    """Whether ``value`` converts to ``dtype`` without overflow (torch's rule, see below)."""
    if dtype == np.bool_:
        return True
    if np.issubdtype(dtype, np.integer):
        if isinstance(value, float):
            if not math.isfinite(value):
                return False
            value = math.trunc(value)  # the integer the dtype gets
        info = np.iinfo(dtype)
        if info.min == 0 and value < 0:
            return -value <= info.max  # torch lets negative ints wrap into unsigned types
        return info.min <= value <= info.max
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, float) and math.isinf(value):  # only dtypes with an infinity
        with np.errstate(all="ignore"):
            return bool(np.isinf(np.array(value).astype(dtype).astype(np.float32)))
    largest = float(jnp.finfo(dtype).max)
    return -largest <= value <= largest


def constant(value: float) -> Initializer:
    """torch's ``constant_`` and JAX's ``constant``: every element is ``value``.

    The value is converted straight to the target dtype (not through float32),
    as both libraries do; integer and bool dtypes are accepted, as in torch.
    A value out of the dtype's range is refused when the dtype is known (at the
    call, or by ``with_dtype``), as torch refuses it: beyond the dtype's largest
    finite value, NaN or infinity for an integer dtype, infinity for a float
    dtype without one. An integer dtype gets a float truncated toward zero; a
    negative value wraps into an unsigned dtype (``-3`` is 253 in uint8; torch
    wraps negative ints but refuses negative floats). Any value fills a bool dtype.

    Raises:
      TypeError: ``value`` is not a real number (bool, int or float).
      RangeError (called): ``value`` does not fit the dtype (torch: ``RuntimeError``).
    """
    if not isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        raise TypeError(f"constant: value must be a real number, got {value!r}")
    v = value.item() if isinstance(value, np.generic) else value

    def dtype_check(dtype: np.dtype) -> None:
        if not _fits(v, dtype):
            raise RangeError(
                f"constant: value {v!r} cannot be converted to dtype={dtype} without overflow"
            )

    return Initializer(
        "constant",
        _full_kernel,
        (("value", v),),
        allow_int=True,
        dtype_check=dtype_check,
        position_stable=True,
    )


def ones() -> Initializer:
    """torch's ``ones_`` and JAX's ``ones``: every element is 1."""
    return Initializer("ones", _full_kernel, (("value", 1),), allow_int=True, position_stable=True)


def zeros() -> Initializer:
    """torch's ``zeros_`` and JAX's ``zeros``: every element is 0."""
    return Initializer("zeros", _full_kernel, (("value", 0),), allow_int=True, position_stable=True)
