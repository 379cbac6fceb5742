"""Elementwise random initializers with fixed parameters: uniform, normal and
the two truncated normals (torch's absolute bounds, JAX's bounds in std units).

All are position-stable: the value at flat index ``i`` depends only on the key
and ``i`` (``docs/spec.md``).
"""

from __future__ import annotations

import math
import warnings

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp

from xinit._checks import finite
from xinit._errors import DivisionByZeroError, RangeError
from xinit._initializer import Initializer
from xinit._sampling import standard_normal, truncated_standard_normal

__all__ = [
    "normal",
    "scaled_normal",
    "scaled_uniform",
    "trunc_normal",
    "truncated_normal",
    "uniform",
]

_f32 = jnp.float32
#: The smallest float64 that rounds to float32 infinity.
_F32_OVERFLOW = 2.0**128 - 2.0**103


def _uniform_kernel(key, shape, fan_in, fan_out, gain, *, dtype, a, b):  # type: ignore[no-untyped-def]
    del fan_in, fan_out, gain, dtype
    if b - a >= _F32_OVERFLOW:
        # b - a overflows float32 (bounds near ±3.4e38): draw on the halved
        # interval, whose width is finite, and double it (exact).
        x = jax.random.uniform(key, shape, _f32, a / 2, b / 2) * _f32(2.0)
    else:
        x = jax.random.uniform(key, shape, _f32, a, b)
    # float32 rounding of u * (b - a) + a can reach b on a narrow interval;
    # torch maps such values back to a, which keeps the interval half-open.
    return jnp.where(x >= _f32(b), _f32(a), x)


def _normal_kernel(key, shape, fan_in, fan_out, gain, *, dtype, mean, std):  # type: ignore[no-untyped-def]
    del fan_in, fan_out, gain, dtype
    x = standard_normal(key, shape) * _f32(std)
    return x + _f32(mean) if mean != 0 else x


def _ndtr(x: float) -> float:
    """Standard normal CDF in float64."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _trunc_normal_kernel(key, shape, fan_in, fan_out, gain, *, dtype, mean, std, a, b):  # type: ignore[no-untyped-def]
    del fan_in, fan_out, gain, dtype
    lo, hi = (a - mean) / std, (b - mean) / std
    # Inverse-CDF sampling in the lower tail, where float32 CDF values keep their
    # precision: an interval above the mean is sampled mirrored and negated.
    flip = lo > 0
    if flip:
        lo, hi = -hi, -lo
    u = jax.random.uniform(key, shape, _f32, _f32(_ndtr(lo)), _f32(_ndtr(hi)))
    z = jsp.ndtri(u)
    if flip:
        z = -z
    return jnp.clip(_f32(mean) + _f32(std) * z, _f32(a), _f32(b))


def _truncated_normal_kernel(key, shape, fan_in, fan_out, gain, *, dtype, stddev, lower, upper):  # type: ignore[no-untyped-def]
    del fan_in, fan_out, gain, dtype
    return truncated_standard_normal(key, lower, upper, shape) * _f32(stddev)


def _scaled_uniform_kernel(key, shape, fan_in, fan_out, gain, *, dtype, scale):  # type: ignore[no-untyped-def]
    del fan_in, fan_out, gain, dtype
    return jax.random.uniform(key, shape, _f32) * _f32(scale)


def uniform(a: float = 0.0, b: float = 1.0) -> Initializer:
    r"""torch's ``uniform_``: :math:`U[a, b)`.

    ``x = max(a, u * (b - a) + a)`` with ``u`` JAX's float32 uniform on
    ``[0, 1)`` (23 random mantissa bits; torch draws 24); a value that float32
    rounding pushes to ``b`` becomes ``a``, as in torch. ``a == b`` fills
    with ``a``, as in torch. When ``b - a`` overflows float32 (bounds near
    ±3.4e38), ``x = 2 * max(a/2, u * (b/2 - a/2) + a/2)``.

    Raises:
      RangeError: ``a > b`` (a ``ValueError`` and, as in torch, a ``RuntimeError``).
      ValueError: a bound that is not finite.
    """
    a, b = finite("a", a), finite("b", b)
    if a > b:
        raise RangeError(f"uniform: a must be <= b, got a={a:g} > b={b:g}")
    return Initializer("uniform", _uniform_kernel, (("a", a), ("b", b)), position_stable=True)


def normal(mean: float = 0.0, std: float = 1.0) -> Initializer:
    r"""torch's ``normal_``: :math:`N(\text{mean}, \text{std}^2)`, untruncated.

    ``x = z * std + mean`` (``+ mean`` skipped when it is 0) with ``z`` JAX's
    float32 standard normal, :math:`\sqrt{2}\,\mathrm{erf}^{-1}(u)`.
    ``std = 0`` fills with ``mean``, as in torch.

    Raises:
      RangeError: ``std < 0``.
      ValueError: a value that is not finite.
    """
    mean, std = finite("mean", mean), finite("std", std)
    if std < 0:
        raise RangeError(f"normal: std must be >= 0, got std={std:g}")
    return Initializer(
        "normal", _normal_kernel, (("mean", mean), ("std", std)), position_stable=True
    )


def trunc_normal(
    mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0
) -> Initializer:
    r"""torch's ``trunc_normal_``: :math:`N(\text{mean}, \text{std}^2)` restricted to :math:`[a, b]`.

    ``a`` and ``b`` are **absolute** values (not multiples of std), the interval
    is closed, and the std is not corrected for the truncation: with the
    defaults the observed std is 0.8796. Note that ``trunc_normal(std=0.02)``
    keeps the bounds ±2, i.e. ±100 std: effectively untruncated, as in torch.

    Sampling (position-stable, unlike torch's rejection sampler): with
    :math:`\alpha = (a - \mu)/\sigma`, :math:`\beta = (b - \mu)/\sigma`,
    :math:`u \sim U[\Phi(\alpha), \Phi(\beta))`, :math:`x = \mu + \sigma\,\Phi^{-1}(u)`,
    clipped to :math:`[a, b]`; an interval above the mean is sampled in the
    mirrored lower tail for precision.

    Raises:
      RangeError: ``a > b`` or ``std < 0``.
      DivisionByZeroError: ``std == 0`` (torch raises ``ZeroDivisionError``).
      ValueError: a value that is not finite.

    Warns:
      UserWarning: ``mean`` more than 2 std outside ``[a, b]``, as torch warns.
    """
    mean, std = finite("mean", mean), finite("std", std)
    a, b = finite("a", a), finite("b", b)
    if std < 0:
        raise RangeError(f"trunc_normal: std must be >= 0, got std={std:g}")
    if std == 0:
        raise DivisionByZeroError("trunc_normal: std must be positive, got std=0")
    if a > b:
        raise RangeError(f"trunc_normal: a must be <= b, got a={a:g} > b={b:g}")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
            "The distribution of values may be incorrect.",
            stacklevel=2,
        )
    return Initializer(
        "trunc_normal",
        _trunc_normal_kernel,
        (("a", a), ("b", b), ("mean", mean), ("std", std)),
        position_stable=True,
    )


def truncated_normal(stddev: float = 1e-2, lower: float = -2.0, upper: float = 2.0) -> Initializer:
    r"""JAX's ``truncated_normal``: a standard normal truncated to the open
    interval ``(lower, upper)`` (**in std units**), times ``stddev``.

    No std correction: ``truncated_normal(1.0)`` has std 0.8796. Bit-identical
    to ``jax.nn.initializers.truncated_normal`` for the same key (float32).

    Raises:
      RangeError: ``lower >= upper`` or ``stddev < 0``.
      ValueError: a value that is not finite.
    """
    stddev = finite("stddev", stddev)
    lower, upper = finite("lower", lower), finite("upper", upper)
    if stddev < 0:
        raise RangeError(f"truncated_normal: stddev must be >= 0, got stddev={stddev:g}")
    if lower >= upper:
        raise RangeError(
            f"truncated_normal: lower must be < upper, got lower={lower:g}, upper={upper:g}"
        )
    return Initializer(
        "truncated_normal",
        _truncated_normal_kernel,
        (("lower", lower), ("stddev", stddev), ("upper", upper)),
        position_stable=True,
    )


def scaled_uniform(scale: float = 1e-2) -> Initializer:
    r"""JAX's ``uniform(scale)``: :math:`U[0, \text{scale})`, as ``u * scale``.

    Bit-identical to ``jax.nn.initializers.uniform`` (float32). Available as
    ``xinit.jax_compat.uniform``.
    """
    return Initializer(
        "scaled_uniform",
        _scaled_uniform_kernel,
        (("scale", finite("scale", scale)),),
        position_stable=True,
    )


def scaled_normal(stddev: float = 1e-2) -> Initializer:
    r"""JAX's ``normal(stddev)``: :math:`N(0, \text{stddev}^2)` as ``z * stddev``.

    Equal to ``normal(0, stddev)``; bit-identical to
    ``jax.nn.initializers.normal`` (float32). Available as ``xinit.jax_compat.normal``.
    """
    stddev = finite("stddev", stddev)
    return Initializer(
        "scaled_normal", _normal_kernel, (("mean", 0.0), ("std", stddev)), position_stable=True
    )
