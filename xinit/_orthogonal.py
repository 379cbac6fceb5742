"""Orthogonal initializers: torch's ``orthogonal_`` and JAX's ``orthogonal`` and
``delta_orthogonal``."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from xinit._checks import finite
from xinit._initializer import Initializer

__all__ = ["delta_orthogonal", "jax_orthogonal", "orthogonal"]

_f32 = jnp.float32


def _orthogonal_kernel(key, shape, fan_in, fan_out, gain, *, dtype, column_axis):  # type: ignore[no-untyped-def]
    del fan_in, fan_out, dtype
    n_rows, n_cols = math.prod(shape) // shape[column_axis], shape[column_axis]
    q = jax.random.orthogonal(key, n_rows, (), _f32, n_cols)
    q = jnp.reshape(q, (*tuple(np.delete(shape, column_axis)), n_cols))
    q = jnp.moveaxis(q, -1, column_axis)
    return gain * q


def _check_at_least_2d(shape: tuple[int, ...]) -> None:
    if len(shape) < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")


def orthogonal(gain: float = 1.0) -> Initializer:
    r"""torch's ``orthogonal_``: a (semi-)orthogonal matrix times ``gain``.

    torch's flattening: the weight is viewed as ``(rows, cols) = (shape[0],
    prod(shape[1:]))``; its rows are orthonormal if ``rows <= cols``, otherwise
    its columns, so :math:`W W^\top = \text{gain}^2 I` on the smaller side. The
    matrix is Haar-distributed: a standard normal matrix, its QR decomposition
    and the sign fix :math:`Q \cdot \mathrm{sign}(\mathrm{diag}(R))`, computed
    by ``jax.random.orthogonal`` in float32 (also for bfloat16/float16, which
    torch's QR refuses). Equals JAX's ``orthogonal(gain, column_axis=0)``.

    Not position-stable: every value depends on the whole matrix.

    Raises (when called):
      ValueError: fewer than 2 dimensions ("Only tensors with 2 or more dimensions are supported").

    References:
      Saxe et al., "Exact solutions to the nonlinear dynamics of learning in deep
      linear neural networks", 2013.
    """
    return Initializer(
        "orthogonal",
        _orthogonal_kernel,
        (("column_axis", 0),),
        gain=finite("gain", gain),
        check=_check_at_least_2d,
    )


def jax_orthogonal(scale: float = 1.0, column_axis: int = -1) -> Initializer:
    """JAX's ``orthogonal(scale, column_axis)``: the ``column_axis`` dimension
    holds the columns of the (semi-)orthogonal matrix; the other axes are
    flattened into its rows. Bit-identical to ``jax.nn.initializers.orthogonal``
    (float32). Available as ``xinit.jax_compat.orthogonal``.
    """
    if isinstance(column_axis, bool) or not isinstance(column_axis, (int, np.integer)):
        raise TypeError(f"orthogonal: column_axis must be an int, got {column_axis!r}")
    column_axis = int(column_axis)

    def check(shape: tuple[int, ...]) -> None:
        if len(shape) < 2:
            raise ValueError("orthogonal initializer requires at least a 2D shape")
        if not -len(shape) <= column_axis < len(shape):
            raise ValueError(
                f"orthogonal: column_axis={column_axis} is out of range for shape {shape}"
            )

    return Initializer(
        "jax_orthogonal",
        _orthogonal_kernel,
        (("column_axis", column_axis),),
        gain=finite("scale", scale),
        check=check,
    )


def _delta_orthogonal_kernel(key, shape, fan_in, fan_out, gain, *, dtype, column_axis):  # type: ignore[no-untyped-def]
    ortho = _orthogonal_kernel(
        key, shape[-2:], fan_in, fan_out, gain, dtype=dtype, column_axis=column_axis
    )
    centre = tuple((k - 1) // 2 for k in shape[:-2])
    return jnp.zeros(shape, _f32).at[centre].set(ortho)


def delta_orthogonal(scale: float = 1.0, column_axis: int = -1) -> Initializer:
    r"""JAX's ``delta_orthogonal``: an orthogonal ``(in, out)`` matrix at the
    spatial centre ``(k-1)//2`` of a ``(*k, in, out)`` kernel, zeros elsewhere.

    Bit-identical to ``jax.nn.initializers.delta_orthogonal`` (float32).

    Raises (when called):
      ValueError: a shape that is not 3/4/5-D, or ``in > out``.

    References:
      Xiao et al., "Dynamical Isometry and a Mean Field Theory of CNNs", 2018.
    """
    if isinstance(column_axis, bool) or not isinstance(column_axis, (int, np.integer)):
        raise TypeError(f"delta_orthogonal: column_axis must be an int, got {column_axis!r}")
    column_axis = int(column_axis)

    def check(shape: tuple[int, ...]) -> None:
        if len(shape) not in (3, 4, 5):
            raise ValueError("Delta orthogonal initializer requires a 3D, 4D or 5D shape.")
        if shape[-1] < shape[-2]:
            raise ValueError("`fan_in` must be less or equal than `fan_out`. ")
        if not -2 <= column_axis < 2:
            raise ValueError(
                f"delta_orthogonal: column_axis={column_axis} is out of range for a 2-D matrix"
            )

    return Initializer(
        "delta_orthogonal",
        _delta_orthogonal_kernel,
        (("column_axis", column_axis),),
        gain=finite("scale", scale),
        check=check,
    )
