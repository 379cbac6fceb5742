"""Tests for ``Initializer.window`` and the offset keys behind it (``xinit/_window.py``).

(a) a window equals the matching slice of the whole array, bit for bit, for
every position-stable initializer, several dtypes and every PRNG
implementation at ``start=0``; (b) the offset stream across the 2**32 counter
carry equals Threefry-4x32-20 computed on the host, and the offset key's
``random_bits`` equals JAX's at every bit width; (c) one program per
(initializer, size, dtype) serves every shape and start; (d) errors.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_initializer import ELEMENTWISE, SAMPLERS, assert_same_bits, count_compilations

import xinit
from xinit import _window
from xinit._keys import _threefry4x32

KEY = xinit.key(31337)
FANS = {"fan_in": 12, "fan_out": 20}
#: (shape, start, size): windows inside the array, one ending at its end, one past it.
WINDOWS = [((1001,), 0, 64), ((7, 11, 13), 137, 256), ((40, 25), 1000 - 64, 64)]
SCHEMES = {
    **SAMPLERS,
    **ELEMENTWISE,
    "constant": lambda: xinit.constant(0.25),
    "zeros": xinit.zeros,
}


@pytest.mark.parametrize("name", SCHEMES)
def test_window_equals_slice_of_whole(name: str) -> None:
    init = SCHEMES[name]()
    assert init.position_stable
    for shape, start, size in WINDOWS:
        whole = np.asarray(init(KEY, shape, **FANS)).ravel()
        got = init.window(KEY, shape, start, size, **FANS)
        assert got.shape == (size,)
        assert_same_bits(got, whole[start : start + size])


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16, jnp.float16], ids=str)
@pytest.mark.parametrize("name", ["uniform", "trunc_normal", "kaiming_uniform"])
def test_window_dtypes(name: str, dtype: Any) -> None:
    init = {**SAMPLERS, **ELEMENTWISE}[name]()
    whole = np.asarray(init(KEY, (33, 31), **FANS, dtype=dtype)).ravel()
    assert_same_bits(init.window(KEY, (33, 31), 500, 523, **FANS, dtype=dtype), whole[500:])


def test_window_past_the_end_continues_the_stream() -> None:
    """Positions past a shape's end hold what a longer array of the same fans would."""
    init = xinit.kaiming_normal()
    longer = np.asarray(init(KEY, (4096,), fan_in=40))
    assert_same_bits(init.window(KEY, (10, 40), 300, 1024, fan_in=40), longer[300:1324])


@pytest.mark.parametrize("impl", xinit.IMPLS)
def test_window_at_zero_for_every_impl(impl: str) -> None:
    key = xinit.key(5, impl=impl)
    for make in SAMPLERS.values():
        init = make()
        whole = np.asarray(init(key, (9, 17), **FANS)).ravel()
        assert_same_bits(init.window(key, (9, 17), 0, 100, **FANS), whole[:100])


# == (b) the offset stream ==================================================================


def _host_uniform(key: jax.Array, start: int, size: int) -> np.ndarray:
    """JAX's float32 uniform on [0, 1) from Threefry-4x32-20 computed on the host."""
    words = [int(w) for w in np.asarray(jax.random.key_data(key))]
    bits = []
    for i in range(start, start + size):
        out = _threefry4x32(words, [i >> 32, i & 0xFFFFFFFF, 0, 0])
        bits.append(out[0] ^ out[1] ^ out[2] ^ out[3])
    mantissa = (np.array(bits, np.uint32) >> np.uint32(9)) | np.uint32(0x3F800000)
    return mantissa.view(np.float32) - np.float32(1.0)


@pytest.mark.parametrize("start", [0, 2**32 - 5, 3 * 2**32 + 7, 2**64 - 16])
def test_offset_stream_matches_host_threefry(start: int) -> None:
    """Across the low word's carry and at the very end of the 64-bit counter."""
    got = xinit.uniform().window(KEY, (4,), start, 16)
    assert_same_bits(got, _host_uniform(KEY, start, 16))


@pytest.mark.parametrize("dtype", [jnp.uint8, jnp.uint16, jnp.uint32], ids=str)
def test_offset_key_bits_equal_jax_bits(dtype: Any) -> None:
    """``random_bits`` of an offset key at start 0 is JAX's threefry4x32 ``random_bits``."""
    offset = _window.offset_key(KEY, jnp.asarray(_window.start_words(0)))
    assert_same_bits(jax.random.bits(offset, (5, 77), dtype), jax.random.bits(KEY, (5, 77), dtype))


def test_offset_key_refuses_split_and_fold_in() -> None:
    offset = _window.offset_key(KEY, jnp.asarray(_window.start_words(3)))
    with pytest.raises(NotImplementedError, match="only generates random bits"):
        jax.random.split(offset)
    with pytest.raises(NotImplementedError, match="only generates random bits"):
        jax.random.fold_in(offset, 1)


def test_start_words() -> None:
    assert _window.start_words(0).tolist() == [0, 0]
    assert _window.start_words(2**32 + 5).tolist() == [1, 5]
    assert _window.start_words(2**64 - 1).tolist() == [2**32 - 1, 2**32 - 1]


# == (c) one program for every shape ========================================================


def test_one_program_serves_every_shape_and_start() -> None:
    init = xinit.xavier_uniform(0.61803)  # a gain no other test compiles with
    init.window(KEY, (3, 5), 0, 512, fan_in=3, fan_out=5)
    with count_compilations() as compiles:
        for shape, start in [((7,), 0), ((64, 64), 2048), ((2, 3, 4, 5), 100), ((10**6,), 99_000)]:
            fan_in, fan_out = xinit.fans(shape, "torch") if len(shape) > 1 else (7, 7)
            init.window(KEY, shape, start, 512, fan_in=fan_in, fan_out=fan_out)
    assert compiles == []


# == (d) errors =============================================================================


def test_window_refuses_shape_dependent_initializers() -> None:
    with pytest.raises(ValueError, match="orthogonal is not position-stable"):
        xinit.orthogonal().window(KEY, (4, 4), 0, 16)
    with pytest.raises(ValueError, match="not position-stable"):
        xinit.eye().window(KEY, (4, 4), 0, 16)


@pytest.mark.parametrize(
    ("start", "size", "match"),
    [
        (-1, 4, "start"),
        (0, 0, "size"),
        (0, 2**32, "size < 2\\*\\*32"),
        (2**64 - 3, 4, "start \\+ size <= 2\\*\\*64"),
        (1.5, 4, "start"),
    ],
)
def test_window_bad_start_or_size(start: Any, size: Any, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        xinit.uniform().window(KEY, (4,), start, size)


def test_window_empty_shape() -> None:
    with pytest.raises(ValueError, match="no elements"):
        xinit.uniform().window(KEY, (0, 3), 0, 4)


def test_window_past_zero_needs_threefry4x32() -> None:
    key = xinit.key(1, impl="philox4x32")
    with pytest.raises(NotImplementedError, match="philox4x32"):
        xinit.normal().window(key, (100,), 10, 16)


def test_window_checks_fans_like_call() -> None:
    """Arguments are checked as ``__call__`` checks them."""
    init = xinit.kaiming_uniform()
    with pytest.raises(Exception) as call_error:
        init(KEY, (3,))
    with pytest.raises(type(call_error.value)):
        init.window(KEY, (3,), 0, 3)
