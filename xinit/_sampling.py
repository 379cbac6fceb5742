"""Standard samplers that keep JAX's eager bits inside a fused program.

Inside one jitted program XLA's algebraic simplifier reassociates
``(sqrt(2) * erf_inv(u)) * s`` into ``erf_inv(u) * (sqrt(2) * s)``, which
changes the last bit of JAX's ``random.normal(...) * s``. Hiding the constant
behind an optimization barrier keeps JAX's order of operations while the
multiply still fuses with generation (no extra pass over memory).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["standard_normal", "truncated_standard_normal"]

_f32 = jnp.float32
_LOWEST = np.nextafter(np.float32(-1.0), np.float32(0.0))
_SQRT2 = np.float32(np.sqrt(2.0))


def standard_normal(key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
    """float32 ``N(0, 1)`` with the bits of ``jax.random.normal(key, shape)``:
    ``sqrt(2) * erf_inv(u)``, ``u ~ U[nextafter(-1, 0), 1)``."""
    u = jax.random.uniform(key, shape, _f32, _LOWEST, 1.0)
    return jax.lax.optimization_barrier(_SQRT2) * jax.lax.erf_inv(u)


def truncated_standard_normal(
    key: jax.Array, lower: float, upper: float, shape: tuple[int, ...]
) -> jax.Array:
    """float32 standard normal truncated to ``(lower, upper)`` with the bits of
    ``jax.random.truncated_normal(key, lower, upper, shape)``.

    JAX's eager call passes the bounds as runtime values to its compiled
    sampler, so the bounds go through a barrier here instead of being folded
    as constants (which rounds ``erf(lower / sqrt(2))`` differently).
    """
    lo = jax.lax.optimization_barrier(_f32(lower))
    hi = jax.lax.optimization_barrier(_f32(upper))
    return jax.random.truncated_normal(key, lo, hi, shape, _f32)
