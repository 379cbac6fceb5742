"""torch's ``sparse_``: a normal matrix with a fixed fraction of zeros per column."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from xinit._checks import finite
from xinit._errors import RangeError
from xinit._initializer import Initializer
from xinit._sampling import standard_normal

__all__ = ["sparse"]

_f32 = jnp.float32


def _sparse_kernel(key, shape, fan_in, fan_out, gain, *, dtype, sparsity, std):  # type: ignore[no-untyped-def]
    del fan_in, fan_out, gain, dtype
    rows, _ = shape
    num_zeros = math.ceil(sparsity * rows)
    values_key, order_key = jax.random.split(key)
    values = standard_normal(values_key, shape) * _f32(std)
    # Per column, the rows holding the num_zeros smallest random words become
    # zero: a uniformly random subset, as torch's randperm(rows)[:num_zeros].
    words = jax.random.bits(order_key, shape, jnp.uint32)
    rank = jnp.argsort(jnp.argsort(words, axis=0, stable=True), axis=0, stable=True)
    return jnp.where(rank < num_zeros, _f32(0.0), values)


def _check_2d(shape: tuple[int, ...]) -> None:
    if len(shape) != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")


def sparse(sparsity: float, std: float = 0.01) -> Initializer:
    r"""torch's ``sparse_``: :math:`N(0, \text{std}^2)` with
    :math:`\lceil \text{sparsity} \cdot \text{rows} \rceil` zeros in every column.

    The zero rows of each column are a uniformly random subset (torch draws
    them with its global ``randperm``; here they come from the key, so the
    result is reproducible). The nonzero values are position-stable; the zero
    pattern of a column depends on the whole column.

    Raises:
      RangeError: ``sparsity`` outside ``[0, 1]`` or ``std < 0``.
      ValueError (when called): a shape that is not 2-D.

    References:
      Martens, "Deep learning via Hessian-free optimization", 2010.
    """
    sparsity, std = finite("sparsity", sparsity), finite("std", std)
    if not 0.0 <= sparsity <= 1.0:
        raise RangeError(f"sparse: sparsity must be in [0, 1], got sparsity={sparsity:g}")
    if std < 0:
        raise RangeError(f"sparse: std must be >= 0, got std={std:g}")
    return Initializer(
        "sparse", _sparse_kernel, (("sparsity", sparsity), ("std", std)), check=_check_2d
    )
