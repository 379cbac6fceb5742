"""Keys that start a threefry4x32 stream at any flat position (for :meth:`Initializer.window`).

JAX's threefry4x32 ``random_bits`` gives the word at flat index ``i`` as the
XOR of the four output words of Threefry-4x32-20 applied to the counter
``(i >> 32, i & 0xFFFFFFFF, 0, 0)`` under the key: the word depends only on
the key and ``i`` (``docs/spec.md`` §3). An *offset key* carries the key's
four words and a 64-bit start ``s``; its ``random_bits`` computes exactly
those words for ``i = s, s + 1, ...``. A position-stable kernel called with
an offset key and shape ``(size,)`` therefore returns positions
``[s, s + size)`` of the array it would generate with the plain key, and the
program does not depend on ``s`` or on the full array's shape.

The hash is written with ``lax`` operations in the order of
``jax._src.random.threefry4x32``'s lowering (the same as ``_keys._threefry4x32``
on the host); ``tests/test_window.py`` checks the values against JAX's own
for every position-stable initializer and across the 2**32 carry.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.extend.random import define_prng_impl

from xinit._keys import _PARITY, _ROTATIONS

__all__ = ["impl_name", "offset_key", "start_words", "supports"]

#: The implementation whose streams can start at an offset.
IMPL = "threefry4x32"

_U32 = np.uint32


def impl_name(key: jax.Array) -> str:
    """The PRNG implementation of a typed key; ``threefry2x32`` for a legacy ``uint32[2]`` key."""
    if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        return str(jax.random.key_impl(key))
    return "threefry2x32"


def supports(key: jax.Array) -> bool:
    """Whether windows of ``key``'s stream can start past position 0."""
    return impl_name(key) == IMPL


def start_words(start: int) -> np.ndarray:
    """A 64-bit position as the ``uint32[2]`` (high, low) an offset key carries."""
    return np.array([start >> 32, start & 0xFFFFFFFF], _U32)


def _rotl(x: jax.Array, d: int) -> jax.Array:
    left = jnp.full(x.shape, d, _U32)
    right = jnp.full(x.shape, 32 - d, _U32)
    return lax.bitwise_or(lax.shift_left(x, left), lax.shift_right_logical(x, right))


def _hash(
    key: list[jax.Array], x: list[jax.Array]
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """Threefry-4x32-20 of counters ``x`` under ``key`` (eight uint32 arrays of one shape)."""
    add, xor = lax.add, lax.bitwise_xor
    parity = jnp.full(key[0].shape, _PARITY, _U32)
    ks = [*key, xor(xor(xor(xor(key[0], key[1]), key[2]), key[3]), parity)]
    x0, x1, x2, x3 = (add(xi, ki) for xi, ki in zip(x, ks, strict=False))
    for rnd in range(20):
        r0, r1 = _ROTATIONS[rnd % 8]
        if rnd % 2 == 0:
            x0 = add(x0, x1)
            x1 = xor(x0, _rotl(x1, r0))
            x2 = add(x2, x3)
            x3 = xor(x2, _rotl(x3, r1))
        else:
            x0 = add(x0, x3)
            x3 = xor(x0, _rotl(x3, r0))
            x2 = add(x2, x1)
            x1 = xor(x2, _rotl(x1, r1))
        if rnd % 4 == 3:
            j = rnd // 4
            x0 = add(x0, ks[(1 + j) % 5])
            x1 = add(x1, ks[(2 + j) % 5])
            x2 = add(x2, ks[(3 + j) % 5])
            x3 = add(add(x3, ks[(4 + j) % 5]), jnp.full(x3.shape, 1 + j, _U32))
    return x0, x1, x2, x3


def _random_bits(data: jax.Array, bit_width: int, shape: tuple[int, ...]) -> jax.Array:
    """JAX's threefry4x32 ``random_bits`` for flat positions ``start + i`` (``data[4:6]``)."""
    if bit_width not in (8, 16, 32, 64):
        raise TypeError("requires 8-, 16-, 32- or 64-bit field width.")
    n = math.prod(shape)
    words = [lax.broadcast(data[i], (n,)) for i in range(6)]
    key, high, low = words[:4], words[4], words[5]
    lo = lax.add(lax.iota(_U32, n), low)
    hi = lax.add(lax.convert_element_type(lax.lt(lo, low), _U32), high)  # carry
    zeros = jnp.zeros(n, _U32)
    out0, out1, out2, out3 = _hash(key, [hi, lo, zeros, zeros])
    if bit_width == 64:
        dtype = np.dtype(np.uint64)
        top = lax.convert_element_type(lax.bitwise_xor(out0, out2), dtype)
        bottom = lax.convert_element_type(lax.bitwise_xor(out1, out3), dtype)
        bits = lax.bitwise_or(lax.shift_left(top, jnp.full(top.shape, 32, dtype)), bottom)
    else:
        bits = lax.bitwise_xor(lax.bitwise_xor(out0, out1), lax.bitwise_xor(out2, out3))
        if bit_width != 32:
            bits = lax.convert_element_type(bits, np.dtype(f"uint{bit_width}"))
    return bits.reshape(shape)


def _unsupported(*args: object) -> jax.Array:
    raise NotImplementedError(
        "an offset key only generates random bits: it cannot be seeded, split or folded"
    )


_OFFSET_IMPL = define_prng_impl(
    key_shape=(6,),
    seed=_unsupported,
    split=_unsupported,
    random_bits=_random_bits,
    fold_in=_unsupported,
    name="xinit_threefry4x32_offset",
    tag="xfry4off",
)


def offset_key(key: jax.Array, start: jax.Array) -> jax.Array:
    """``key`` (threefry4x32) whose stream starts at flat position ``start`` (``uint32[2]``)."""
    data = jnp.concatenate([jax.random.key_data(key), start.astype(_U32)])
    return jax.random.wrap_key_data(data, impl=_OFFSET_IMPL)
