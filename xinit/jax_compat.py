"""``jax.nn.initializers``' names, signatures and defaults, built from xinit.

Where JAX and torch use one name for different things (``uniform``,
``normal``, ``orthogonal``, ``xavier_normal``, ``kaiming_normal``), the
top-level ``xinit`` names follow torch; this module follows JAX. Each
initializer here gives bit-identical float32 values to its JAX namesake for
the same key and shape, and takes fans in JAX's ``(*k, in, out)`` layout::

    from xinit import jax_compat as init
    kernel_init = init.lecun_normal()      # same values as jax.nn.initializers.lecun_normal()

Differences: hyperparameters are checked when the initializer is built;
non-float32 dtypes are the float32 values cast (JAX generates bfloat16 and
float16 directly, with as few as 128 distinct values); complex dtypes are
refused; ``zeros`` and ``ones`` are :class:`~xinit.Initializer` objects, so
their dtype is a keyword (``zeros(key, shape, dtype=...)``), as for every
xinit initializer.
"""

from __future__ import annotations

from collections.abc import Sequence

from xinit import _constant, _distributions, _orthogonal, _variance
from xinit._dtypes import DTypeLike
from xinit._initializer import Initializer

__all__ = [
    "constant",
    "delta_orthogonal",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "kaiming_normal",
    "kaiming_uniform",
    "lecun_normal",
    "lecun_uniform",
    "normal",
    "ones",
    "orthogonal",
    "truncated_normal",
    "uniform",
    "variance_scaling",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]

Axes = int | Sequence[int]


def _dtyped(init: Initializer, dtype: DTypeLike | None) -> Initializer:
    return init if dtype is None else init.with_dtype(dtype)


def constant(value: float, dtype: DTypeLike | None = None) -> Initializer:
    """``jax.nn.initializers.constant``: every element is ``value``."""
    return _dtyped(_constant.constant(value), dtype)


#: ``jax.nn.initializers.zeros`` (an initializer, as in JAX).
zeros: Initializer = _constant.zeros()
#: ``jax.nn.initializers.ones`` (an initializer, as in JAX).
ones: Initializer = _constant.ones()


def uniform(scale: float = 1e-2, dtype: DTypeLike | None = None) -> Initializer:
    """``jax.nn.initializers.uniform``: U[0, scale)."""
    return _dtyped(_distributions.scaled_uniform(scale), dtype)


def normal(stddev: float = 1e-2, dtype: DTypeLike | None = None) -> Initializer:
    """``jax.nn.initializers.normal``: N(0, stddev²)."""
    return _dtyped(_distributions.scaled_normal(stddev), dtype)


def truncated_normal(
    stddev: float = 1e-2,
    dtype: DTypeLike | None = None,
    lower: float = -2.0,
    upper: float = 2.0,
) -> Initializer:
    """``jax.nn.initializers.truncated_normal``: bounds in std units, no std correction."""
    return _dtyped(_distributions.truncated_normal(stddev, lower, upper), dtype)


def variance_scaling(
    scale: float,
    mode: str,
    distribution: str,
    in_axis: Axes = -2,
    out_axis: Axes = -1,
    batch_axis: Axes = (),
    dtype: DTypeLike | None = None,
) -> Initializer:
    """``jax.nn.initializers.variance_scaling`` (see :func:`xinit.variance_scaling`)."""
    init = _variance.variance_scaling(scale, mode, distribution, in_axis, out_axis, batch_axis)
    return _dtyped(init, dtype)


def _named(builder):  # type: ignore[no-untyped-def]
    def build(
        in_axis: Axes = -2,
        out_axis: Axes = -1,
        batch_axis: Axes = (),
        dtype: DTypeLike | None = None,
    ) -> Initializer:
        return _dtyped(builder(in_axis, out_axis, batch_axis), dtype)

    build.__name__ = build.__qualname__ = builder.__name__
    build.__doc__ = builder.__doc__
    return build


glorot_uniform = _named(_variance.glorot_uniform)
glorot_normal = _named(_variance.glorot_normal)
lecun_uniform = _named(_variance.lecun_uniform)
lecun_normal = _named(_variance.lecun_normal)
he_uniform = _named(_variance.he_uniform)
he_normal = _named(_variance.he_normal)
xavier_uniform = glorot_uniform
xavier_normal = glorot_normal
kaiming_uniform = he_uniform
kaiming_normal = he_normal


def orthogonal(
    scale: float = 1.0, column_axis: int = -1, dtype: DTypeLike | None = None
) -> Initializer:
    """``jax.nn.initializers.orthogonal``."""
    return _dtyped(_orthogonal.jax_orthogonal(scale, column_axis), dtype)


def delta_orthogonal(
    scale: float = 1.0, column_axis: int = -1, dtype: DTypeLike | None = None
) -> Initializer:
    """``jax.nn.initializers.delta_orthogonal``."""
    return _dtyped(_orthogonal.delta_orthogonal(scale, column_axis), dtype)
