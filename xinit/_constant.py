"""Deterministic fills: constant, ones, zeros. The key is ignored."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from xinit._initializer import Initializer

__all__ = ["constant", "ones", "zeros"]


def _full_kernel(key, shape, fan_in, fan_out, gain, *, dtype, value):  # type: ignore[no-untyped-def]
    del key, fan_in, fan_out, gain
    return jnp.full(shape, value, dtype=dtype)


def constant(value: float) -> Initializer:
    """torch's ``constant_`` and JAX's ``constant``: every element is ``value``.

    The value is converted straight to the target dtype (not through float32),
    as both libraries do; integer and bool dtypes are accepted, as in torch.

    Raises:
      TypeError: ``value`` is not a real number (bool, int or float).
    """
    if not isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        raise TypeError(f"constant: value must be a real number, got {value!r}")
    v = value.item() if isinstance(value, np.generic) else value
    return Initializer("constant", _full_kernel, (("value", v),), allow_int=True)


def ones() -> Initializer:
    """torch's ``ones_`` and JAX's ``ones``: every element is 1."""
    return Initializer("ones", _full_kernel, (("value", 1),), allow_int=True)


def zeros() -> Initializer:
    """torch's ``zeros_`` and JAX's ``zeros``: every element is 0."""
    return Initializer("zeros", _full_kernel, (("value", 0),), allow_int=True)
