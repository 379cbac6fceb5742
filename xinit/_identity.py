"""Identity-preserving fills: ``eye`` (2-D) and ``dirac`` (convolution kernels)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from xinit._errors import DivisionByZeroError
from xinit._initializer import Initializer

__all__ = ["dirac", "eye"]


def _eye_kernel(key, shape, fan_in, fan_out, gain, *, dtype):  # type: ignore[no-untyped-def]
    del key, fan_in, fan_out, gain
    return jnp.eye(shape[0], shape[1], dtype=dtype)


def _check_2d(shape: tuple[int, ...]) -> None:
    if len(shape) != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")


def eye() -> Initializer:
    """torch's ``eye_``: the (possibly non-square) identity matrix; 2-D only.

    Raises (when called):
      ValueError: a shape that is not 2-D ("Only tensors with 2 dimensions are supported").
    """
    return Initializer("eye", _eye_kernel, allow_int=True, check=_check_2d)


def _dirac_index(shape: tuple[int, ...], groups: int) -> tuple[np.ndarray, ...]:
    out_per_group = shape[0] // groups
    n = min(out_per_group, shape[1])
    d = np.arange(n)
    rows = (np.arange(groups)[:, None] * out_per_group + d[None, :]).ravel()
    cols = np.tile(d, groups)
    centres = tuple(np.full(rows.shape, k // 2) for k in shape[2:])
    return (rows, cols, *centres)


def _dirac_kernel(key, shape, fan_in, fan_out, gain, *, dtype, groups):  # type: ignore[no-untyped-def]
    del key, fan_in, fan_out, gain
    return jnp.zeros(shape, dtype).at[_dirac_index(shape, groups)].set(jnp.ones((), dtype))


def dirac(groups: int = 1) -> Initializer:
    r"""torch's ``dirac_``: a convolution kernel that passes its input through.

    For a kernel of shape ``(out, in, *k)`` (3, 4 or 5-D): zeros, then
    ``w[g*out/groups + d, d, k1//2, k2//2, ...] = 1`` for every group ``g`` and
    ``d < min(out/groups, in)``. The centre is ``k//2`` (JAX's
    ``delta_orthogonal`` uses ``(k-1)//2``).

    Raises:
      TypeError: ``groups`` is not an int.
      DivisionByZeroError: ``groups == 0`` (torch: ``ZeroDivisionError``).
      ValueError: ``groups < 0`` (built); a shape that is not 3/4/5-D or whose
        dim 0 is not divisible by ``groups`` (called), with torch's messages.
    """
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)):
        raise TypeError(f"dirac: groups must be an int, got {groups!r}")
    groups = int(groups)
    if groups == 0:
        raise DivisionByZeroError("dirac: groups must be >= 1, got groups=0")
    if groups < 1:
        raise ValueError(f"dirac: groups must be >= 1, got groups={groups}")

    def check(shape: tuple[int, ...]) -> None:
        if len(shape) not in (3, 4, 5):
            raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
        if shape[0] % groups != 0:
            raise ValueError("dim 0 must be divisible by groups")

    return Initializer("dirac", _dirac_kernel, (("groups", groups),), allow_int=True, check=check)
