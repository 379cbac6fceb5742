"""The Initializer engine: compilation, transformations, position stability,
dtypes, equality and input validation.

Reference values are computed here independently (NumPy float64 for the
variance quotient, plain ``.astype`` for casts, ``np.full``/``np.eye`` for the
deterministic fills); no expected value is copied from xinit's output.
Compilation dominates the run time, so calls that compile are batched inside
one ``jax.jit`` where the property under test allows it.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import json
import math
import os
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xinit
import xinit._initializer as engine
from xinit import jax_compat as xc
from xinit._initializer import _generate
from xinit._variance import scaled_variance

KEY = xinit.key(20240611)
F32 = np.dtype(np.float32)


def bits(a: Any) -> np.ndarray:
    a = np.asarray(a)
    return a if a.dtype == np.bool_ else a.view(f"u{a.dtype.itemsize}")


def assert_same_bits(actual: Any, expected: Any) -> None:
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape
    assert actual.dtype == expected.dtype
    diff = bits(actual) != bits(expected)
    assert not diff.any(), (
        f"{int(diff.sum())} of {diff.size} values differ; first at "
        f"{np.argwhere(diff)[0].tolist()}: {actual[diff][0]!r} vs {expected[diff][0]!r}"
    )


@contextlib.contextmanager
def count_compilations() -> Iterator[list[str]]:
    """Collect one entry per XLA compilation (any function) while active."""
    events: list[str] = []

    def listener(event: str, duration: float, **kwargs: Any) -> None:
        if event == "/jax/core/compile/backend_compile_duration":
            events.append(event)

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield events
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


# == (a) changing fans and gain never recompiles ==========================================

#: Initializers whose values depend on fan_in, fan_out and/or gain.
FAN_USERS = {
    "xavier_uniform": lambda: xinit.xavier_uniform(1.3),  # fan_avg and gain
    "kaiming_normal": lambda: xinit.kaiming_normal(0.1, mode="fan_out"),
    "variance_scaling_geo": lambda: xinit.variance_scaling(
        1 / 3, "fan_geo_avg", "truncated_normal"
    ),
    "torch_default_bias": xinit.torch_default_bias,
    "orthogonal": lambda: xinit.orthogonal(0.5),  # gain only
}

PY_AND_NUMPY_VALUES = [
    1,
    7,
    2.5,
    1e6,
    65536,
    np.int64(9),
    np.int32(3),
    np.uint8(4),
    np.float32(0.25),
    np.float64(11.0),
    np.array(5.0),
]
JAX_VALUES = [
    jnp.array(5.0),
    jnp.array(3),
    jnp.array(2.0, jnp.bfloat16),
    jnp.array(6, jnp.int16),
    jnp.array(0.75, jnp.float16),
]


@pytest.mark.parametrize("name", FAN_USERS)
def test_fan_and_gain_values_share_one_program(name: str) -> None:
    init, shape = FAN_USERS[name](), (4, 6)
    init(KEY, shape, 3, 5, 1.0)  # compile once
    size = _generate._cache_size()
    with count_compilations() as compiled:
        outs = [init(KEY, shape, v, v, v) for v in PY_AND_NUMPY_VALUES]
    assert compiled == []
    assert _generate._cache_size() == size
    # and the values did change with the fans and gain
    assert len({bits(o).tobytes() for o in outs}) == len(set(map(float, PY_AND_NUMPY_VALUES)))


@pytest.mark.parametrize("name", ["xavier_uniform", "torch_default_bias"])
def test_jax_array_fans_never_recompile(name: str) -> None:
    init, shape = FAN_USERS[name](), (4, 6)
    init(KEY, shape, jnp.array(2.0), jnp.array(3.0), jnp.array(1.0))  # warm up, incl. conversions
    for v in JAX_VALUES:  # warm up the dtype conversions of each argument kind
        v.astype(jnp.float32)
    size = _generate._cache_size()
    with count_compilations() as compiled:
        for v in JAX_VALUES:
            init(KEY, shape, v, v, v)
    assert compiled == []
    assert _generate._cache_size() == size


def test_jax_array_fans_share_the_entry_of_python_numbers() -> None:
    init = xinit.xavier_uniform()
    init(KEY, (4, 6), 3, 5, 1.0)
    size = _generate._cache_size()
    init(KEY, (4, 6), jnp.array(3.0), 5, 1.0)
    assert _generate._cache_size() == size


FAN_TRIPLES = [(3, 5, 1.0), (1000, 7, 0.3), (65536, 1, 2.5), (144, 288, -1.7)]


@pytest.mark.parametrize("name", FAN_USERS)
def test_traced_fans_and_gain_equal_eager(name: str) -> None:
    init, shape = FAN_USERS[name](), (5, 8)
    traced = jax.jit(lambda k, fi, fo, g: init(k, shape, fi, fo, g))
    with count_compilations() as compiled:
        for fi, fo, g in FAN_TRIPLES:
            assert_same_bits(traced(KEY, fi, fo, g), init(KEY, shape, fi, fo, g))
    # one program for the user's function and one for xinit's: values are not baked in
    assert len(compiled) <= 2


def test_traced_fans_skip_the_concrete_checks() -> None:
    """A traced fan cannot be checked; a zero fan then gives non-finite values, as documented."""
    init = xinit.kaiming_uniform()
    out = jax.jit(lambda fi: init(KEY, (2, 3), fan_in=fi))(0)
    assert not np.isfinite(np.asarray(out)).all()


# == (b) jit, eager and vmap agree ==========================================================

#: Shared with the dtype tests below (same initializers and shapes), so the eager
#: float32 programs compile once.
SHAPE = (6, 40)
TRANSFORM_CASES = {
    "uniform": (lambda: xinit.uniform(-2.0, 3.0), SHAPE),
    "trunc_normal": (lambda: xinit.trunc_normal(0.1, 0.7, -1.0, 1.5), SHAPE),
    "kaiming_normal": (lambda: xinit.kaiming_normal(0.2), SHAPE),
    "lecun_normal": (lambda: xinit.lecun_normal(), SHAPE),
    "orthogonal": (lambda: xinit.orthogonal(1.3), SHAPE),
    "sparse": (lambda: xinit.sparse(0.25, 2.0), SHAPE),
    "delta_orthogonal": (lambda: xinit.delta_orthogonal(1.2), (3, 3, 4, 6)),
    "dirac": (lambda: xinit.dirac(2), (4, 2, 3, 3)),
    "constant": (lambda: xinit.constant(0.25), (3, 4)),
}


@pytest.mark.parametrize("name", TRANSFORM_CASES)
def test_jit_and_vmap_equal_eager(name: str) -> None:
    """jit(vmap(init)) over keys equals per-key eager calls (jit of a single call is
    covered by test_jax_parity.test_grid)."""
    make, shape = TRANSFORM_CASES[name]
    init = make()
    keys = jax.random.split(KEY, 3)
    eager = np.stack([np.asarray(init(k, shape)) for k in keys])
    assert_same_bits(jax.jit(jax.vmap(lambda k: init(k, shape)))(keys), eager)
    if name not in ("dirac", "constant"):
        assert len({bits(e).tobytes() for e in eager}) == 3  # the keys matter


def test_vmap_without_jit_equals_eager() -> None:
    init, shape = xinit.kaiming_normal(0.2), SHAPE
    keys = jax.random.split(KEY, 3)
    assert_same_bits(
        jax.vmap(lambda k: init(k, shape))(keys), np.stack([init(k, shape) for k in keys])
    )


def test_vmap_over_fans() -> None:
    init = xinit.kaiming_uniform()
    fans = jnp.arange(1, 6)
    out = jax.vmap(lambda f: init(KEY, (3, 4), fan_in=f))(fans)
    for i, f in enumerate([1, 2, 3, 4, 5]):
        assert_same_bits(out[i], init(KEY, (3, 4), fan_in=f))


# == (c) position stability =================================================================

#: Explicit fans, so 1-D shapes can be used and every shape sees the same scale.
FANS = {"fan_in": 12, "fan_out": 20}
#: A prefix pair (48,) < (1001,) and a reshape pair (6, 8) ~ (48,).
STABILITY_SHAPES = [(48,), (6, 8), (1001,)]

#: The four samplers every elementwise scheme is built on; checked with every PRNG impl.
SAMPLERS = {
    "uniform": lambda: xinit.uniform(-2.0, 3.0),
    "normal": lambda: xinit.normal(0.5, 2.0),
    "trunc_normal": lambda: xinit.trunc_normal(0.1, 0.7, -1.0, 1.5),
    "truncated_normal": lambda: xinit.truncated_normal(0.5, -1.5, 2.0),
}
#: Every other elementwise scheme (the same samplers scaled); checked with the default impl.
ELEMENTWISE = {
    "trunc_normal_upper_tail": lambda: xinit.trunc_normal(0.0, 1.0, 0.5, 3.0),
    "jax_uniform": lambda: xc.uniform(0.3),
    "jax_normal": lambda: xc.normal(0.2),
    "variance_uniform": lambda: xinit.variance_scaling(0.7, "fan_avg", "uniform"),
    "variance_normal": lambda: xinit.variance_scaling(2.0, "fan_in", "normal"),
    "variance_truncated_normal": lambda: xinit.variance_scaling(
        1 / 3, "fan_geo_avg", "truncated_normal"
    ),
    "torch_default_bias": xinit.torch_default_bias,
    "torch_default_weight": xinit.torch_default_weight,
    "xavier_uniform": lambda: xinit.xavier_uniform(1.3),
    "xavier_normal": lambda: xinit.xavier_normal(0.8),
    "kaiming_uniform": lambda: xinit.kaiming_uniform(0.1),
    "kaiming_normal": lambda: xinit.kaiming_normal(mode="fan_out", nonlinearity="relu"),
    # glorot_*, lecun_*, he_* are variance_scaling with fixed arguments (above);
    # one of each distribution:
    "glorot_uniform": xinit.glorot_uniform,
    "lecun_normal": xinit.lecun_normal,
}


@functools.cache
def _stability_values(impl: str, table: str) -> dict[str, list[np.ndarray]]:
    """All schemes of a table on all STABILITY_SHAPES, in one jit per (impl, table)."""
    schemes = SAMPLERS if table == "samplers" else ELEMENTWISE
    inits = {n: make() for n, make in schemes.items()}
    fn = jax.jit(
        lambda k: {n: [i(k, s, **FANS) for s in STABILITY_SHAPES] for n, i in inits.items()}
    )
    return {n: [np.asarray(v) for v in vals] for n, vals in fn(xinit.key(77, impl=impl)).items()}


def _check_stable(values: list[np.ndarray]) -> None:
    v48, v6x8, v1001 = values
    assert_same_bits(v48, v1001[:48])  # init(k, (n,)) is a prefix of init(k, (m,))
    assert_same_bits(v6x8.ravel(), v48)  # init(k, (6, 8)).ravel() == init(k, (48,))
    assert len(np.unique(v1001)) > 900  # not a constant


@pytest.mark.parametrize("impl", xinit.IMPLS)
@pytest.mark.parametrize("name", SAMPLERS)
def test_position_stable_samplers(name: str, impl: str) -> None:
    _check_stable(_stability_values(impl, "samplers")[name])


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_position_stable(name: str) -> None:
    _check_stable(_stability_values(xinit.DEFAULT_IMPL, "elementwise")[name])


def test_position_stable_direct_calls() -> None:
    """The same property without an enclosing jit, for one scheme."""
    init = xinit.kaiming_uniform()
    long = np.asarray(init(KEY, (1001,), fan_in=12))
    assert_same_bits(init(KEY, (7,), fan_in=12), long[:7])
    assert_same_bits(np.asarray(init(KEY, (6, 8), fan_in=12)).ravel(), long[:48])


# == (d) dtypes =============================================================================

RANDOM_DTYPE_CASES = {n: TRANSFORM_CASES[n] for n in ["uniform", "trunc_normal", "orthogonal"]}
LOW = [jnp.bfloat16, np.float16]


@pytest.mark.parametrize("name", RANDOM_DTYPE_CASES)
def test_low_precision_is_float32_cast(name: str) -> None:
    make, shape = RANDOM_DTYPE_CASES[name]
    f32 = np.asarray(make()(KEY, shape))
    assert f32.dtype == np.float32
    assert_same_bits(make()(KEY, shape, dtype=np.float32), f32)
    assert_same_bits(make()(KEY, shape, dtype="float32"), f32)
    for dt in LOW:
        assert_same_bits(make()(KEY, shape, dtype=dt), f32.astype(dt))


RANDOM_BUILDERS = {
    "uniform": xinit.uniform,
    "normal": xinit.normal,
    "trunc_normal": xinit.trunc_normal,
    "truncated_normal": xinit.truncated_normal,
    "xavier_uniform": xinit.xavier_uniform,
    "xavier_normal": xinit.xavier_normal,
    "kaiming_uniform": xinit.kaiming_uniform,
    "kaiming_normal": xinit.kaiming_normal,
    "orthogonal": xinit.orthogonal,
    "sparse": lambda: xinit.sparse(0.5),
    "variance_scaling": lambda: xinit.variance_scaling(1.0, "fan_in", "normal"),
    "lecun_normal": xinit.lecun_normal,
    "delta_orthogonal": xinit.delta_orthogonal,
    "torch_default_weight": xinit.torch_default_weight,
    "torch_default_bias": xinit.torch_default_bias,
    "jax_uniform": xc.uniform,
    "jax_orthogonal": xc.orthogonal,
}
BAD_FOR_RANDOM = [np.int32, np.int8, np.uint8, bool, np.complex64, "complex64", "int32"]


@pytest.mark.parametrize("dtype", BAD_FOR_RANDOM, ids=str)
@pytest.mark.parametrize("name", RANDOM_BUILDERS)
def test_random_schemes_refuse_int_bool_complex(name: str, dtype: Any) -> None:
    init = RANDOM_BUILDERS[name]()
    with pytest.raises(xinit.DTypeError, match="dtype"):
        init(KEY, (3, 3, 4), fan_in=3, fan_out=4, dtype=dtype)
    with pytest.raises(xinit.DTypeError, match="dtype"):
        init.with_dtype(dtype)


def test_dirac_bool() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = xinit.dirac()(KEY, (2, 2, 3), dtype=bool)
    assert out.dtype == np.bool_ and int(np.asarray(out).sum()) == 2


DETERMINISTIC = {
    "constant": (lambda: xinit.constant(2.75), (3, 4), lambda dt: np.full((3, 4), 2.75).astype(dt)),
    "constant_negative": (
        lambda: xinit.constant(-3),
        (5,),
        lambda dt: np.full((5,), -3, dtype=dt) if dt != np.uint8 else np.full((5,), 253, dt),
    ),
    "zeros": (xinit.zeros, (2, 3, 2), lambda dt: np.zeros((2, 3, 2), dt)),
    "ones": (xinit.ones, (4,), lambda dt: np.ones((4,), dt)),
    "jax_zeros": (lambda: xc.zeros, (2, 2), lambda dt: np.zeros((2, 2), dt)),
    "eye": (xinit.eye, (3, 5), lambda dt: np.eye(3, 5, dtype=dt)),
    "dirac": (lambda: xinit.dirac(1), (3, 2, 3), None),
}


def _dirac_expected(dt: Any) -> np.ndarray:
    """torch's dirac_ on (3, 2, 3): w[d, d, 1] = 1 for d < min(3, 2)."""
    w = np.zeros((3, 2, 3), dt)
    for d in range(2):
        w[d, d, 1] = 1
    return w


@pytest.mark.parametrize(
    "dtype", [np.int32, np.uint8, bool, np.float32, jnp.bfloat16], ids=lambda d: np.dtype(d).name
)
@pytest.mark.parametrize("name", DETERMINISTIC)
def test_deterministic_schemes_accept_int_and_bool(name: str, dtype: Any) -> None:
    make, shape, expected = DETERMINISTIC[name]
    if name == "constant_negative" and dtype is bool:
        pytest.skip("covered by constant")
    exp = _dirac_expected(dtype) if expected is None else expected(dtype)
    assert_same_bits(make()(KEY, shape, dtype=dtype), exp)


@pytest.mark.parametrize("name", ["constant", "zeros", "ones", "eye", "dirac"])
def test_deterministic_schemes_refuse_complex_and_junk(name: str) -> None:
    make, shape, _ = DETERMINISTIC[name]
    for dt in [np.complex64, "complex128", "U5", object, "foo", 3]:
        with pytest.raises(xinit.DTypeError, match="dtype"):
            make()(KEY, shape, dtype=dt)


@pytest.mark.skipif(jax.config.jax_enable_x64, reason="needs x64 off")
@pytest.mark.parametrize("dtype", [np.float64, "float64", np.int64, np.uint64])
def test_64_bit_dtypes_need_x64(dtype: Any) -> None:
    init = xinit.zeros() if np.dtype(dtype).kind in "iu" else xinit.normal()
    with pytest.raises(xinit.DTypeError, match="jax_enable_x64"):
        init(KEY, (2, 3), dtype=dtype)


# == (e) jax_enable_x64 changes nothing but allows float64 ===================================

X64_CASES = {
    "trunc_normal": "xinit.trunc_normal(0.1, 0.7, -1.0, 1.5)",
    "variance_geo": "xinit.variance_scaling(1 / 3, 'fan_geo_avg', 'truncated_normal')",
    "orthogonal": "xinit.orthogonal(1.3)",
    "constant": "xinit.constant(0.1)",
}
X64_SCRIPT = """
import json, sys
import numpy as np
import jax
import xinit
assert jax.config.jax_enable_x64
cases = json.loads(sys.argv[1])
out = {}
for name, expr in cases.items():
    init = eval(expr)
    k = xinit.key(5)
    f32, f64 = np.asarray(init(k, (7, 9))), np.asarray(init(k, (7, 9), dtype="float64"))
    out[name] = f32.view(np.uint32).tolist()
    out[name + "/f64"] = f64.view(np.uint64).tolist()
    out[name + "/dtypes"] = [str(f32.dtype), str(f64.dtype)]
print(json.dumps(out))
"""


@pytest.mark.skipif(jax.config.jax_enable_x64, reason="the parent process must run without x64")
def test_x64_subprocess() -> None:
    env = {**os.environ, "JAX_ENABLE_X64": "1", "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(X64_SCRIPT), json.dumps(X64_CASES)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, expr in X64_CASES.items():
        init = eval(expr)
        f32 = np.asarray(init(xinit.key(5), (7, 9)))
        assert got[name + "/dtypes"] == ["float32", "float64"]
        x64_f32 = np.array(got[name], dtype=np.uint32).reshape(7, 9).view(np.float32)
        x64_f64 = np.array(got[name + "/f64"], dtype=np.uint64).reshape(7, 9).view(np.float64)
        assert_same_bits(x64_f32, f32)  # float32 values do not depend on x64
        if name == "constant":  # converted straight to float64, as JAX and torch do
            assert_same_bits(x64_f64, np.full((7, 9), 0.1))
        else:  # generated in float32, widened exactly
            assert_same_bits(x64_f64, f32.astype(np.float64))


# == (f) equality, hashing, with_layout, with_dtype ==========================================

EQUAL_BUILDS = [
    (
        lambda: xinit.kaiming_uniform(a=0.1),
        lambda: xinit.kaiming_uniform(0.1, "fan_in", "leaky_relu"),
    ),
    (lambda: xinit.kaiming_normal(mode="FAN_OUT"), lambda: xinit.kaiming_normal(mode="fan_out")),
    (
        lambda: xinit.variance_scaling(1, "fan_in", "normal"),
        lambda: xinit.variance_scaling(1.0, "fan_in", "normal"),
    ),
    (
        lambda: xinit.variance_scaling(2.0, "fan_avg", "uniform", in_axis=0),
        lambda: xinit.variance_scaling(2.0, "fan_avg", "uniform", (0,), [-1]),
    ),
    (lambda: xinit.uniform(0, 2), lambda: xinit.uniform(0.0, 2.0)),
    (lambda: xinit.normal(std=np.float32(0.5)), lambda: xinit.normal(0.0, 0.5)),
    (lambda: xinit.orthogonal(1.0), lambda: xinit.orthogonal(1)),
    (lambda: xc.orthogonal(1.0, 0), lambda: xc.orthogonal(1.0, 0)),
    (lambda: xinit.dirac(2), lambda: xinit.dirac(np.int64(2))),
    (lambda: xinit.torch_default_weight("flax"), lambda: xinit.torch_default_weight(xinit.FLAX)),
    (lambda: xc.lecun_normal(), lambda: xinit.lecun_normal()),
    (lambda: xc.normal(0.3, dtype="bfloat16"), lambda: xc.normal(0.3).with_dtype(jnp.bfloat16)),
]
UNEQUAL_BUILDS = [
    (lambda: xinit.kaiming_uniform(a=0.1), lambda: xinit.kaiming_uniform(a=0.2)),
    (lambda: xinit.kaiming_uniform(), lambda: xinit.kaiming_normal()),
    (
        lambda: xinit.variance_scaling(1.0, "fan_in", "normal"),
        lambda: xinit.variance_scaling(1.0, "fan_out", "normal"),
    ),
    (lambda: xinit.xavier_uniform(), lambda: xinit.glorot_uniform()),  # torch vs JAX layout
    (lambda: xinit.uniform(), lambda: xc.uniform(1.0)),
    (lambda: xinit.orthogonal(), lambda: xc.orthogonal()),
    (lambda: xinit.torch_default_weight(), lambda: xinit.torch_default_weight("flax")),
    (lambda: xinit.normal(), lambda: xinit.normal().with_dtype(np.float16)),
]


@pytest.mark.parametrize(("a", "b"), EQUAL_BUILDS)
def test_equal_hyperparameters_give_equal_hashable_initializers(a: Callable, b: Callable) -> None:
    x, y = a(), b()
    assert x == y
    assert hash(x) == hash(y)
    assert len({x, y}) == 1
    assert {x: 1}[y] == 1


@pytest.mark.parametrize(("a", "b"), UNEQUAL_BUILDS)
def test_different_hyperparameters_give_unequal_initializers(a: Callable, b: Callable) -> None:
    assert a() != b()


def test_initializer_is_a_static_jit_argument() -> None:
    calls = []

    @functools.partial(jax.jit, static_argnums=0)
    def f(init: xinit.Initializer, k: jax.Array) -> jax.Array:
        calls.append(init)
        return init(k, (3, 4))

    f(xinit.kaiming_uniform(a=0.5), KEY)
    f(xinit.kaiming_uniform(a=0.5), KEY)
    f(xinit.kaiming_uniform(0.5, "fan_in"), KEY)
    assert len(calls) == 1
    f(xinit.kaiming_uniform(a=0.25), KEY)
    assert len(calls) == 2


def test_initializers_are_immutable() -> None:
    init = xinit.normal()
    with pytest.raises(dataclasses.FrozenInstanceError):
        init.gain = 2.0  # type: ignore[misc]


def test_with_layout() -> None:
    torch_init = xinit.xavier_uniform(1.5)
    flax_init = torch_init.with_layout("flax")
    assert torch_init.layout == xinit.TORCH and flax_init.layout == xinit.FLAX
    assert flax_init != torch_init
    assert flax_init == torch_init.with_layout(xinit.FLAX)
    assert flax_init.with_layout("torch") == torch_init
    assert torch_init.fans((32, 16, 3, 3)) == (16 * 9, 32 * 9)
    assert flax_init.fans((3, 3, 16, 32)) == (16 * 9, 32 * 9)
    shape = (3, 3, 16, 32)  # fans (144, 288) in flax layout
    assert_same_bits(flax_init(KEY, shape), torch_init(KEY, shape, fan_in=144, fan_out=288))
    custom = torch_init.with_layout(xinit.Layout(in_axis=0, out_axis=(1, 2)))
    assert custom.fans((3, 4, 5)) == (3, 20)
    for bad in ["jax", None, 3, "TORCH"]:
        with pytest.raises(ValueError, match="layout"):
            torch_init.with_layout(bad)


def test_with_dtype() -> None:
    init = xinit.normal(0.5, 2.0)
    bf = init.with_dtype(jnp.bfloat16)
    assert init.dtype is None and bf.dtype == np.dtype(jnp.bfloat16)
    f32 = np.asarray(init(KEY, (4, 5)))
    assert_same_bits(bf(KEY, (4, 5)), f32.astype(jnp.bfloat16))
    assert_same_bits(bf(KEY, (4, 5), dtype=np.float32), f32)  # the call's dtype wins
    assert xinit.zeros().with_dtype(np.int8)(KEY, (2,)).dtype == np.int8
    with pytest.raises(xinit.DTypeError, match="dtype"):
        bf.with_dtype("not-a-dtype")


# == (g) bad input ==========================================================================

# -- explicit cases ------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, -1), (-2,), -4, (0, -1, 2)])
def test_negative_dims(shape: Any) -> None:
    with pytest.raises(ValueError, match="shape"):
        xinit.uniform()(KEY, shape)


@pytest.mark.parametrize(
    "shape",
    [(3, 4.0), (2.5,), ("3",), (None,), (True, 2), None, "ab", 3.0, (np.float32(2),), {"a": 1}],
)
def test_non_int_shape(shape: Any) -> None:
    with pytest.raises(TypeError, match="shape"):
        xinit.normal()(KEY, shape)


def test_int_like_shapes() -> None:
    for shape, expected in [
        (5, (5,)),
        (np.int64(3), (3,)),
        ((np.int32(2), 3), (2, 3)),
        ([2, 3], (2, 3)),
        (np.array([2, 3]), (2, 3)),
        ((), ()),
    ]:
        assert xinit.zeros()(KEY, shape).shape == expected


@pytest.mark.parametrize(
    ("key", "error"),
    [
        (None, TypeError),
        (0, TypeError),
        ("key", TypeError),
        (np.zeros(2, np.int32), TypeError),
        (np.zeros(4, np.uint32), TypeError),
        (np.zeros((1, 2), np.uint32), TypeError),
        (jax.random.split(xinit.key(0), 2), ValueError),
    ],
    ids=["None", "int", "str", "int32[2]", "uint32[4]", "uint32[1,2]", "batch"],
)
def test_non_key(key: Any, error: type) -> None:
    for init in [xinit.uniform(), xinit.zeros()]:
        with pytest.raises(error, match="key"):
            init(key, (2, 3))


def test_legacy_uint32_keys_are_accepted() -> None:
    raw = jax.random.PRNGKey(4)
    assert_same_bits(xinit.uniform()(np.asarray(raw), (3,)), xinit.uniform()(raw, (3,)))
    assert_same_bits(xinit.uniform()(raw, (3,)), jax.random.uniform(raw, (3,)))


@pytest.mark.parametrize(
    "name", ["kaiming_uniform", "kaiming_normal", "xavier_uniform", "xavier_normal"]
)
def test_zero_fan_is_a_division_by_zero(name: str) -> None:
    init = getattr(xinit, name)()
    for kw in [
        {"fan_in": 0, "fan_out": 0},
        {"fan_in": 0.0, "fan_out": 0},
        {"fan_in": np.int64(0), "fan_out": np.float32(0)},
    ]:
        with pytest.raises(xinit.DivisionByZeroError, match="fan_"):
            init(KEY, (3, 4), **kw)
        with pytest.raises(ZeroDivisionError):
            init(KEY, (3, 4), **kw)


def test_zero_fan_from_an_empty_shape_is_not_an_error() -> None:
    out = xinit.xavier_uniform()(KEY, (0, 4))
    assert out.shape == (0, 4)


def test_kaiming_on_empty_shape_warns_like_torch() -> None:
    with pytest.warns(UserWarning, match="zero-element"):
        out = xinit.kaiming_uniform()(KEY, (0,))
    assert out.shape == (0,)


@pytest.mark.parametrize("fan", [-1, -0.5, np.int32(-3), jnp.array(-2.0)], ids=str)
def test_negative_fans(fan: Any) -> None:
    with pytest.raises(ValueError, match="fan_in"):
        xinit.kaiming_uniform()(KEY, (3, 4), fan_in=fan)
    with pytest.raises(ValueError, match="fan_out"):
        xinit.xavier_normal()(KEY, (3, 4), fan_in=3, fan_out=fan)
    with pytest.raises(ValueError, match="fan_in"):
        xinit.torch_default_bias()(KEY, (4,), fan_in=fan)


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), -float("inf"), np.float32("nan")], ids=str
)
def test_non_finite_fans_and_gain(value: Any) -> None:
    init = xinit.xavier_uniform()
    with pytest.raises(ValueError, match="fan_in"):
        init(KEY, (3, 4), fan_in=value)
    with pytest.raises(ValueError, match="fan_out"):
        init(KEY, (3, 4), fan_out=value)
    with pytest.raises(ValueError, match="gain"):
        init(KEY, (3, 4), gain=value)


@pytest.mark.parametrize("value", ["3", None, True, np.bool_(True), 1 + 1j, [3]], ids=repr)
def test_non_number_fans_and_gain(value: Any) -> None:
    init = xinit.xavier_uniform()
    if value is None:  # None means "from the shape"
        assert init(KEY, (3, 4), fan_in=value, fan_out=value, gain=value).shape == (3, 4)
        return
    for arg in ["fan_in", "fan_out", "gain"]:
        with pytest.raises(TypeError, match=arg):
            init(KEY, (3, 4), **{arg: value})


def test_non_scalar_fans_and_gain() -> None:
    init = xinit.xavier_uniform()
    for arg in ["fan_in", "fan_out", "gain"]:
        with pytest.raises(ValueError, match=arg):
            init(KEY, (3, 4), **{arg: jnp.ones(2)})


@pytest.mark.parametrize("value", [jnp.array(jnp.nan), jnp.array(jnp.inf)], ids=["nan", "inf"])
def test_non_finite_jax_array_fans(value: jax.Array) -> None:
    with pytest.raises(ValueError, match="fan_in"):
        xinit.kaiming_uniform()(KEY, (3, 4), fan_in=value)


@pytest.mark.parametrize(
    "build",
    [
        lambda: xinit.variance_scaling(np.complex64(1), "fan_in", "normal"),
        lambda: xinit.xavier_uniform(np.complex128(1)),
        lambda: xinit.normal()(KEY, (2, 3), gain=np.complex64(1)),
    ],
    ids=["scale", "gain", "call_gain"],
)
def test_complex_numpy_scalars_are_type_errors(build: Callable) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError):
            build()


#: (builder, argument name, other keyword arguments): a NaN for the named argument.
NAN_HYPERPARAMETERS = [
    (xinit.uniform, "a", {}),
    (xinit.uniform, "b", {}),
    (xinit.normal, "mean", {}),
    (xinit.normal, "std", {}),
    (xinit.trunc_normal, "mean", {}),
    (xinit.trunc_normal, "std", {}),
    (xinit.trunc_normal, "a", {}),
    (xinit.trunc_normal, "b", {}),
    (xinit.truncated_normal, "stddev", {}),
    (xinit.truncated_normal, "lower", {}),
    (xinit.truncated_normal, "upper", {}),
    (xinit.xavier_uniform, "gain", {}),
    (xinit.xavier_normal, "gain", {}),
    (xinit.orthogonal, "gain", {}),
    (xinit.sparse, "sparsity", {}),
    (xinit.sparse, "std", {"sparsity": 0.5}),
    (xinit.variance_scaling, "scale", {"mode": "fan_in", "distribution": "normal"}),
    (xinit.delta_orthogonal, "scale", {}),
    (xc.uniform, "scale", {}),
    (xc.normal, "stddev", {}),
    (xc.truncated_normal, "stddev", {}),
    (xc.orthogonal, "scale", {}),
    (xc.delta_orthogonal, "scale", {}),
]


@pytest.mark.parametrize(
    "nan", [float("nan"), np.float32("nan"), float("inf")], ids=["nan", "np_nan", "inf"]
)
@pytest.mark.parametrize(
    ("build", "arg", "kw"),
    NAN_HYPERPARAMETERS,
    ids=[f"{b.__module__.split('.')[-1]}.{b.__name__}-{a}" for b, a, _ in NAN_HYPERPARAMETERS],
)
def test_non_finite_hyperparameters(build: Callable, arg: str, kw: dict, nan: Any) -> None:
    with pytest.raises(ValueError, match=rf"\b{arg}\b"):
        build(**kw, **{arg: nan})


def test_constant_accepts_non_finite_values() -> None:
    """Like torch's constant_ and JAX's constant: the value is the caller's business."""
    out = np.asarray(xinit.constant(float("inf"))(KEY, (2,)))
    assert np.isposinf(out).all()
    assert np.isnan(np.asarray(xinit.constant(float("nan"))(KEY, (2,)))).all()


@pytest.mark.parametrize("name", ["kaiming_uniform", "kaiming_normal"])
def test_kaiming_nan_slope_is_refused_when_built(name: str) -> None:
    with pytest.raises(ValueError, match=r"\ba\b|negative_slope"):
        getattr(xinit, name)(a=float("nan"))


def test_kaiming_huge_slope() -> None:
    try:
        init = xinit.kaiming_uniform(a=1e200)
    except (TypeError, ValueError):
        return
    assert init.gain == 0.0


def test_torch_default_bias_needs_fans() -> None:
    with pytest.raises(ValueError, match="dimensions"):
        xinit.torch_default_bias()(KEY, (8,))
    out = xinit.torch_default_bias()(KEY, (8,), fan_in=16)
    bound = 1 / math.sqrt(16)
    assert np.all(np.abs(np.asarray(out)) <= bound) and len(np.unique(np.asarray(out))) == 8


def test_torch_default_bias_of_empty_weight_is_zero() -> None:
    for fan_in in [0, 0.0, np.int64(0)]:
        out = np.asarray(xinit.torch_default_bias()(KEY, (8,), fan_in=fan_in))
        assert out.shape == (8,) and out.dtype == np.float32
        assert np.all(out == 0)


def test_torch_default_bias_of_empty_weight_is_positive_zero() -> None:
    out = np.asarray(xinit.torch_default_bias()(KEY, (64,), fan_in=0))
    assert not np.signbit(out).any()


def test_signed_zero_constant_is_not_aliased() -> None:
    shape = (3, 1, 2)
    assert not np.signbit(np.asarray(xinit.constant(0.0)(KEY, shape))).any()
    assert np.signbit(np.asarray(xinit.constant(-0.0)(KEY, shape))).all()


@pytest.mark.parametrize(
    ("value", "dtype"),
    [(2**70, np.int32), (float("nan"), np.int32), (1e10, np.int32), (1e300, np.float32)],
    ids=["2**70-int32", "nan-int32", "1e10-int32", "1e300-float32"],
)
def test_constant_out_of_range(value: Any, dtype: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="value"):
            xinit.constant(value)(KEY, (2,), dtype=dtype)


def test_constant_range_check_follows_torch() -> None:
    """Refused as torch refuses it (RuntimeError), also by with_dtype; torch's wraps are kept."""
    for bad in [
        lambda: xinit.constant(1e10).with_dtype(np.int32),
        lambda: xc.constant(256, "uint8"),
    ]:
        with pytest.raises(xinit.RangeError, match="value"):
            bad()
    for value, dtype, expected in [
        (-3, np.uint8, 253),  # torch wraps negative ints into unsigned dtypes
        (-255, np.uint8, 1),
        (127.9, np.int8, 127),  # truncated toward zero
        (float("nan"), bool, True),
        (float("inf"), np.float16, np.inf),
        (65504.0, np.float16, 65504.0),
    ]:
        out = xinit.constant(value)(KEY, (2,), dtype=dtype)
        assert_same_bits(out, np.full((2,), expected, dtype=dtype))


# -- hypothesis: every constructor, random junk ---------------------------------------------

HYPOTHESIS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

REAL = st.one_of(
    st.floats(-8, 8, allow_nan=False),
    st.integers(-8, 8),
    st.sampled_from([np.float32(0.5), np.float64(-1.5), np.int64(3), np.int8(-2), 1e-30]),
)
JUNK = st.sampled_from(
    [
        None,
        "1",
        True,
        np.bool_(False),
        1 + 2j,
        [1.0],
        b"1",
        float("nan"),
        float("inf"),
        -float("inf"),
        np.float32("nan"),
    ]
)
#: (valid, junk) strategies of one argument; "valid" values may still break a
#: constraint between arguments (a > b, a negative std, ...).
NUM = (REAL, JUNK)
POSITIVE = (
    st.one_of(
        st.floats(1e-3, 8), st.integers(1, 8), st.sampled_from([np.float32(0.5), np.int64(3)])
    ),
    st.one_of(JUNK, st.sampled_from([0, 0.0, -1.5, np.int8(-2)])),
)
SPARSITY = (
    st.one_of(st.floats(0, 1), st.sampled_from([0, 1, np.float32(0.5)])),
    st.one_of(JUNK, st.sampled_from([-0.1, 1.5, 2])),
)
AXIS_JUNK = st.sampled_from(["0", 1.0, True, None, np.int64(0), ("a",), [0.0]])
#: Valid axes are mostly ones that fit 2- to 4-D shapes without overlapping.
IN_AXIS = (st.one_of(st.sampled_from([-2, (-2,), 0, (0,)]), st.integers(-4, 3)), AXIS_JUNK)
OUT_AXIS = (st.one_of(st.sampled_from([-1, (-1,), 1, (1, -1)]), st.integers(-4, 3)), AXIS_JUNK)
BATCH_AXIS = (
    st.one_of(st.sampled_from([(), [], (2,)]), st.lists(st.integers(-4, 3), max_size=2).map(tuple)),
    AXIS_JUNK,
)
COLUMN_AXIS = (
    st.one_of(st.integers(-4, 3), st.just(np.int64(1))),
    st.sampled_from([1.0, True, "0", None]),
)
LAYOUTS = (
    st.sampled_from(["torch", "flax", xinit.TORCH, xinit.FLAX, xinit.Layout(0, 1)]),
    st.sampled_from(["jax", None, 3, "TORCH"]),
)
JAX_DTYPE_ARG = (
    st.sampled_from([None, np.float32, jnp.bfloat16]),
    st.sampled_from([np.int32, np.complex64, "foo"]),
)
JAX_INT_DTYPE_ARG = (
    st.sampled_from([None, np.float32, jnp.bfloat16, np.int32, bool]),
    st.sampled_from([np.complex64, "foo"]),
)
MODE_ARG = (
    st.sampled_from(["fan_in", "fan_out", "fan_avg", "fan_geo_avg"]),
    st.sampled_from(["fan_sum", "FAN_IN", None]),
)
DIST_ARG = (
    st.sampled_from(["uniform", "normal", "truncated_normal"]),
    st.sampled_from(["truncated", "Normal", None]),
)


def real_kind(v: Any) -> str:
    """'ok' (finite real), 'nonfinite' or 'type', as every xinit hyperparameter check defines it."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        return "type"
    return "ok" if math.isfinite(float(v)) else "nonfinite"


def axes_of(v: Any) -> tuple[int, ...] | None:
    """None when not an int or a sequence of (Python) ints."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return (v,)
    if isinstance(v, (tuple, list)) and all(
        isinstance(a, int) and not isinstance(a, bool) for a in v
    ):
        return tuple(v)
    return None


@dataclasses.dataclass(frozen=True)
class Props:
    """What a built initializer promises about calls, derived from torch's and JAX's docs."""

    kind: str = "random"  # or "deterministic": accepts int and bool dtypes
    fans_used: tuple[str, ...] = ()
    layout: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], bool] | None = (
        None  # in, out, batch, named
    )
    rank: Callable[[tuple[int, ...]], set[str]] = lambda s: set()  # shape errors -> words
    warn_empty: bool = False
    zero_fan_ok: bool = False
    finite: bool = True
    ranks: tuple[int, ...] = (0, 1, 2, 3, 4)  # the ranks valid shapes are mostly drawn with


TORCH_LAYOUT = ((1,), (0,), (), True)
FLAX_LAYOUT = ((-2,), (-1,), (), True)


def rank_at_least(n: int, word: str = "dimensions") -> Callable[[tuple[int, ...]], set[str]]:
    return lambda s: {word} if len(s) < n else set()


def rank_in(
    ranks: tuple[int, ...], word: str = "dimensions"
) -> Callable[[tuple[int, ...]], set[str]]:
    return lambda s: {word} if len(s) not in ranks else set()


@dataclasses.dataclass(frozen=True)
class Spec:
    build: Callable[..., xinit.Initializer]
    #: argument -> (valid, junk) strategies
    params: dict[str, tuple[st.SearchStrategy, st.SearchStrategy]]
    #: kwargs -> names of the invalid arguments (empty: the build must succeed)
    invalid: Callable[[dict], set[str]]
    props: Callable[[dict], Props]
    warns: Callable[[dict], bool] = lambda kw: False
    #: constructors that share the code path: one is drawn per example and
    #: passed to build, invalid and props as kw["_variant"]
    variants: tuple[str, ...] = ()


def _reals(kw: dict, *names: str) -> set[str]:
    return {n for n in names if n in kw and real_kind(kw[n]) != "ok"}


def _get(kw: dict, name: str, default: Any) -> Any:
    return kw.get(name, default)


def _uniform_invalid(kw: dict) -> set[str]:
    bad = _reals(kw, "a", "b")
    if not bad and float(_get(kw, "a", 0.0)) > float(_get(kw, "b", 1.0)):
        bad = {"a", "b"}
    return bad


def _normal_invalid(kw: dict) -> set[str]:
    bad = _reals(kw, "mean", "std")
    if not bad and float(_get(kw, "std", 1.0)) < 0:
        bad = {"std"}
    return bad


def _trunc_normal_invalid(kw: dict) -> set[str]:
    bad = _reals(kw, "mean", "std", "a", "b")
    if bad:
        return bad
    std, a, b = float(_get(kw, "std", 1.0)), float(_get(kw, "a", -2.0)), float(_get(kw, "b", 2.0))
    if std <= 0:
        return {"std"}
    return {"a", "b"} if a > b else set()


def _trunc_normal_warns(kw: dict) -> bool:
    if _trunc_normal_invalid(kw):
        return False
    mean, std = float(_get(kw, "mean", 0.0)), float(_get(kw, "std", 1.0))
    a, b = float(_get(kw, "a", -2.0)), float(_get(kw, "b", 2.0))
    return mean < a - 2 * std or mean > b + 2 * std


def _truncated_normal_invalid(kw: dict) -> set[str]:
    bad = _reals(kw, "stddev", "lower", "upper")
    if bad:
        return bad
    if float(_get(kw, "stddev", 1e-2)) < 0:
        return {"stddev"}
    return (
        {"lower", "upper"}
        if float(_get(kw, "lower", -2.0)) >= float(_get(kw, "upper", 2.0))
        else set()
    )


def _jax_dtype_invalid(kw: dict, allow_int: bool = False) -> set[str]:
    if "dtype" not in kw or kw["dtype"] is None:
        return set()
    return (
        set()
        if dtype_kind(kw["dtype"]) in (("float", "int") if allow_int else ("float",))
        else {"dtype"}
    )


MODES = ["fan_in", "fan_out", "fan_avg", "fan_geo_avg"]
DISTS = ["uniform", "normal", "truncated_normal"]
FANS_USED = {
    "fan_in": ("fan_in",),
    "fan_out": ("fan_out",),
    "fan_avg": ("fan_in", "fan_out"),
    "fan_geo_avg": ("fan_in", "fan_out"),
}


def _axes_invalid(kw: dict) -> set[str]:
    return {n for n in ("in_axis", "out_axis", "batch_axis") if n in kw and axes_of(kw[n]) is None}


def _jax_layout(kw: dict) -> tuple:
    axes = tuple(
        axes_of(_get(kw, n, d)) for n, d in (("in_axis", -2), ("out_axis", -1), ("batch_axis", ()))
    )
    return (*axes, axes == ((-2,), (-1,), ()))


def _variance_invalid(kw: dict) -> set[str]:
    bad = set()
    if real_kind(kw["scale"]) != "ok" or float(kw["scale"]) <= 0:
        bad.add("scale")
    if kw["mode"] not in MODES:
        bad.add("mode")
    if kw["distribution"] not in DISTS:
        bad.add("distribution")
    return bad | _axes_invalid(kw) | _jax_dtype_invalid(kw)


def _variance_props(kw: dict, mode: str | None = None) -> Props:
    return Props(fans_used=FANS_USED[mode or kw["mode"]], layout=_jax_layout(kw), ranks=(2, 3, 4))


def _xavier_invalid(kw: dict) -> set[str]:
    """torch raises for a negative gain (a reversed range or a negative std)."""
    return _reals(kw, "gain") or ({"gain"} if float(_get(kw, "gain", 1.0)) < 0 else set())


def _kaiming_invalid(kw: dict) -> set[str]:
    mode, nl, a = (
        _get(kw, "mode", "fan_in"),
        _get(kw, "nonlinearity", "leaky_relu"),
        _get(kw, "a", 0),
    )
    if not (isinstance(mode, str) and mode.lower() in ("fan_in", "fan_out")):
        return {"mode"}
    if nl not in xinit.NONLINEARITIES:
        return {"nonlinearity"}
    if nl == "leaky_relu" and a is not None:
        ok = (isinstance(a, int) and not isinstance(a, bool)) or isinstance(a, float)
        if not ok or math.isnan(a):
            return {"a"}
    return set()


def _kaiming_props(kw: dict) -> Props:
    return Props(
        fans_used=(_get(kw, "mode", "fan_in").lower(),),
        layout=TORCH_LAYOUT,
        warn_empty=True,
        ranks=(2, 3, 4),
    )


def _layout_tuple(layout: Any) -> tuple:
    if isinstance(layout, xinit.Layout):
        named = layout.name in ("torch", "flax")
        return (layout.in_axis, layout.out_axis, layout.batch_axis, named)
    return TORCH_LAYOUT if layout == "torch" else FLAX_LAYOUT


def _delta_rank(column_axis: int) -> Callable[[tuple[int, ...]], set[str]]:
    def rank(s: tuple[int, ...]) -> set[str]:
        if len(s) not in (3, 4, 5):
            return {"shape"}
        if s[-1] < s[-2]:
            return {"fan_in"}
        return set() if -2 <= column_axis < 2 else {"column_axis"}

    return rank


def _jax_orthogonal_rank(column_axis: int) -> Callable[[tuple[int, ...]], set[str]]:
    def rank(s: tuple[int, ...]) -> set[str]:
        if len(s) < 2:
            return {"shape"}
        return set() if -len(s) <= column_axis < len(s) else {"column_axis"}

    return rank


def _int_invalid(kw: dict, name: str, low: int | None = None) -> set[str]:
    if name not in kw:
        return set()
    v = kw[name]
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        return {name}
    return {name} if low is not None and v < low else set()


def _dirac_rank(groups: int) -> Callable[[tuple[int, ...]], set[str]]:
    def rank(s: tuple[int, ...]) -> set[str]:
        if len(s) not in (3, 4, 5):
            return {"dimensions"}
        return {"groups"} if s[0] % groups else set()

    return rank


JAX_NAMED_MODES = {
    "glorot_uniform": "fan_avg",
    "glorot_normal": "fan_avg",
    "lecun_uniform": "fan_in",
    "lecun_normal": "fan_in",
    "he_uniform": "fan_in",
    "he_normal": "fan_in",
}

SPECS: dict[str, Spec] = {
    "uniform": Spec(xinit.uniform, {"a": NUM, "b": NUM}, _uniform_invalid, lambda kw: Props()),
    "normal": Spec(xinit.normal, {"mean": NUM, "std": NUM}, _normal_invalid, lambda kw: Props()),
    "trunc_normal": Spec(
        xinit.trunc_normal,
        {"mean": NUM, "std": NUM, "a": NUM, "b": NUM},
        _trunc_normal_invalid,
        lambda kw: Props(),
        _trunc_normal_warns,
    ),
    "truncated_normal": Spec(
        xinit.truncated_normal,
        {"stddev": NUM, "lower": NUM, "upper": NUM},
        _truncated_normal_invalid,
        lambda kw: Props(),
    ),
    "constant": Spec(
        xinit.constant,
        {
            "value": (
                st.one_of(REAL, st.booleans(), st.sampled_from([float("nan"), float("inf")])),
                st.sampled_from([None, "1", 1 + 2j, [1.0], b"1"]),
            )
        },
        lambda kw: (
            {"value"}
            if real_kind(kw["value"]) == "type" and not isinstance(kw["value"], (bool, np.bool_))
            else set()
        ),
        lambda kw: Props(kind="deterministic", finite=real_kind(kw["value"]) != "nonfinite"),
    ),
    "zeros_ones": Spec(
        lambda _variant: getattr(xinit, _variant)(),
        {},
        lambda kw: set(),
        lambda kw: Props(kind="deterministic"),
        variants=("zeros", "ones"),
    ),
    "eye": Spec(
        xinit.eye,
        {},
        lambda kw: set(),
        lambda kw: Props(kind="deterministic", rank=rank_in((2,)), ranks=(2,)),
    ),
    "dirac": Spec(
        xinit.dirac,
        {
            "groups": (
                st.one_of(st.integers(1, 3), st.just(np.int64(2))),
                st.sampled_from([-1, 0, 2.0, True, "1", None]),
            )
        },
        lambda kw: _int_invalid(kw, "groups", low=1),
        lambda kw: Props(
            kind="deterministic", rank=_dirac_rank(int(_get(kw, "groups", 1))), ranks=(3, 4, 5)
        ),
    ),
    "orthogonal": Spec(
        xinit.orthogonal,
        {"gain": NUM},
        lambda kw: _reals(kw, "gain"),
        lambda kw: Props(rank=rank_at_least(2), ranks=(2, 3)),
    ),
    "sparse": Spec(
        xinit.sparse,
        {"sparsity": SPARSITY, "std": NUM},
        lambda kw: (
            _reals(kw, "sparsity", "std")
            or ({"sparsity"} if not 0 <= float(kw["sparsity"]) <= 1 else set())
            or ({"std"} if float(_get(kw, "std", 0.01)) < 0 else set())
        ),
        lambda kw: Props(rank=rank_in((2,)), ranks=(2,)),
    ),
    "xavier": Spec(
        lambda _variant, **kw: getattr(xinit, _variant)(**kw),
        {"gain": NUM},
        _xavier_invalid,
        lambda kw: Props(fans_used=("fan_in", "fan_out"), layout=TORCH_LAYOUT, ranks=(2, 3, 4)),
        variants=("xavier_uniform", "xavier_normal"),
    ),
    "kaiming": Spec(
        lambda _variant, **kw: getattr(xinit, _variant)(**kw),
        {
            "a": (
                st.one_of(
                    st.floats(-8, 8),
                    st.integers(-8, 8),
                    st.sampled_from([None, np.float64(-1.5), 1e150, 1e200, float("inf")]),
                ),
                st.sampled_from(["x", True, np.float32(0.1), np.int64(3), float("nan")]),
            ),
            "mode": (
                st.sampled_from(["fan_in", "fan_out", "FAN_IN", "Fan_Out"]),
                st.sampled_from(["fan_avg", None, 1]),
            ),
            "nonlinearity": (
                st.sampled_from(["leaky_relu", "relu", "tanh", "selu", "linear", "conv2d"]),
                st.sampled_from(["gelu", "ReLU", None]),
            ),
        },
        _kaiming_invalid,
        _kaiming_props,
        variants=("kaiming_uniform", "kaiming_normal"),
    ),
    "variance_scaling": Spec(
        xinit.variance_scaling,
        {
            "scale": POSITIVE,
            "mode": MODE_ARG,
            "distribution": DIST_ARG,
            "in_axis": IN_AXIS,
            "out_axis": OUT_AXIS,
            "batch_axis": BATCH_AXIS,
        },
        _variance_invalid,
        _variance_props,
    ),
    "jax_variance_scaling": Spec(
        xc.variance_scaling,
        {
            "scale": POSITIVE,
            "mode": MODE_ARG,
            "distribution": DIST_ARG,
            "in_axis": IN_AXIS,
            "dtype": JAX_DTYPE_ARG,
        },
        _variance_invalid,
        _variance_props,
    ),
    "jax_named": Spec(
        lambda _variant, **kw: getattr(xinit, _variant)(**kw),
        {"in_axis": IN_AXIS, "out_axis": OUT_AXIS, "batch_axis": BATCH_AXIS},
        _axes_invalid,
        lambda kw: _variance_props(kw, mode=JAX_NAMED_MODES[kw["_variant"]]),
        variants=tuple(JAX_NAMED_MODES),
    ),
    "torch_default_weight": Spec(
        xinit.torch_default_weight,
        {"layout": LAYOUTS},
        lambda kw: (
            set()
            if kw["layout"] in ("torch", "flax") or isinstance(kw["layout"], xinit.Layout)
            else {"layout"}
        ),
        lambda kw: Props(
            fans_used=("fan_in",),
            layout=_layout_tuple(kw["layout"]),
            warn_empty=True,  # torch's default weight init is kaiming_uniform_
            ranks=(2, 3, 4),
        ),
    ),
    "torch_default_bias": Spec(
        xinit.torch_default_bias,
        {},
        lambda kw: set(),
        lambda kw: Props(
            fans_used=("fan_in",), layout=TORCH_LAYOUT, zero_fan_ok=True, ranks=(1, 2)
        ),
    ),
    "delta_orthogonal": Spec(
        xinit.delta_orthogonal,
        {"scale": NUM, "column_axis": COLUMN_AXIS},
        lambda kw: _reals(kw, "scale") | _int_invalid(kw, "column_axis"),
        lambda kw: Props(rank=_delta_rank(int(_get(kw, "column_axis", -1))), ranks=(3, 4, 5)),
    ),
    "jax_uniform": Spec(
        xc.uniform,
        {"scale": NUM, "dtype": JAX_DTYPE_ARG},
        lambda kw: _reals(kw, "scale") | _jax_dtype_invalid(kw),
        lambda kw: Props(),
    ),
    "jax_normal": Spec(
        xc.normal,
        {"stddev": NUM, "dtype": JAX_DTYPE_ARG},
        lambda kw: _reals(kw, "stddev") | _jax_dtype_invalid(kw),
        lambda kw: Props(),
    ),
    "jax_truncated_normal": Spec(
        xc.truncated_normal,
        {"stddev": NUM, "dtype": JAX_DTYPE_ARG, "lower": NUM, "upper": NUM},
        lambda kw: _truncated_normal_invalid(kw) | _jax_dtype_invalid(kw),
        lambda kw: Props(),
    ),
    "jax_constant": Spec(
        xc.constant,
        {"value": (REAL, st.sampled_from([None, "1", 1 + 2j])), "dtype": JAX_INT_DTYPE_ARG},
        lambda kw: (
            {"value"}
            if real_kind(kw["value"]) == "type"
            else _jax_dtype_invalid(kw, allow_int=True)
        ),
        lambda kw: Props(kind="deterministic"),
    ),
    "jax_orthogonal": Spec(
        xc.orthogonal,
        {"scale": NUM, "column_axis": COLUMN_AXIS, "dtype": JAX_DTYPE_ARG},
        lambda kw: _reals(kw, "scale") | _int_invalid(kw, "column_axis") | _jax_dtype_invalid(kw),
        lambda kw: Props(rank=_jax_orthogonal_rank(int(_get(kw, "column_axis", -1))), ranks=(2, 3)),
    ),
}


def test_specs_cover_every_constructor() -> None:
    constructors = {
        n
        for n in xinit.__all__
        if isinstance(getattr(xinit, n), type(xinit.uniform))
        and n
        not in (
            "key",
            "key_for",
            "fans",
            "calculate_gain",
            "canonical_path",
            "encode_path",
            "path_words",
            "compilation_cache_dir",
            "ensure_compilation_cache",
        )
    }
    covered = set(SPECS) | {v for spec in SPECS.values() for v in spec.variants}
    assert constructors <= covered
    jax_only = {
        "uniform",
        "normal",
        "truncated_normal",
        "constant",
        "orthogonal",
        "variance_scaling",
    }
    assert {"jax_" + n for n in jax_only} <= covered
    # the others have top-level namesakes (jax_compat's xavier_*/kaiming_* are glorot_*/he_*)
    assert set(xc.__all__) - jax_only - {"zeros", "ones"} <= constructors


#: Words that show a message names an argument; single letters need their verb.
ARG_WORDS = {
    "a": ["a must", "a=", "negative_slope"],
    "b": ["b must", "b="],
    "mode": ["mode", "Mode"],
}


def names_argument(message: str, names: set[str]) -> bool:
    return any(w in message for n in names for w in ARG_WORDS.get(n, [n]))


DIM = st.one_of(st.integers(1, 6), st.integers(1, 6).map(np.int64))
DIM0 = st.integers(0, 3)  # with zero-element shapes
BAD_DIM = st.sampled_from([-1, -3, 2.0, "3", None, True, 1.5, np.float32(2)])
#: Valid only for the deterministic schemes (junk for the random ones).
INT_DTYPES = st.sampled_from([np.int32, np.int8, np.uint8, bool, "int16"])
#: (valid, junk) strategies of each call argument, in the order of the call.
CALL_ARGS = {
    "shape": (
        st.one_of(
            st.lists(DIM, max_size=4).map(tuple),
            st.lists(DIM0, max_size=4),
            st.lists(DIM, max_size=4),
            DIM0,
        ),
        st.one_of(
            st.tuples(
                st.lists(DIM, max_size=2), BAD_DIM, st.lists(st.one_of(DIM, BAD_DIM), max_size=1)
            ).map(lambda t: (*t[0], t[1], *t[2])),
            st.sampled_from([None, "ab", 3.0, -2, {"a": 1}]),
        ),
    ),
    "dtype": (
        st.sampled_from(
            [
                None,
                "float32",
                np.float32,
                jnp.bfloat16,
                np.float16,
                "bfloat16",
                np.int32,
                np.int8,
                np.uint8,
                bool,
            ]
        ),
        st.sampled_from(
            [np.float64, np.int64, np.complex64, "complex64", "foo", 3, object, "U5", jnp.int4]
        ),
    ),
    "key": (
        st.sampled_from(["default", "legacy", "philox4x32"]),
        st.sampled_from(["None", "int", "batch", "int32[2]"]),
    ),
    "fan_in": (
        st.sampled_from([None, None, 1, 3, 2.5, np.float32(4), np.int64(7)]),
        st.sampled_from([0, -1, float("nan"), "3", True, [2]]),
    ),
    "fan_out": (
        st.sampled_from([None, None, 1, 3, 2.5, np.float32(4), np.int64(7)]),
        st.sampled_from([0, -1, float("nan"), "3", True, [2]]),
    ),
    "gain": (
        st.sampled_from([None, None, 1.5, -0.5, 0, np.int64(2)]),
        st.sampled_from([float("nan"), float("inf"), "g", True, 1j]),
    ),
}


@functools.cache
def make_test_key(name: str) -> Any:
    return {
        "default": lambda: xinit.key(1),
        "legacy": lambda: jax.random.PRNGKey(2),
        "philox4x32": lambda: xinit.key(3, impl="philox4x32"),
        "None": lambda: None,
        "int": lambda: 0,
        "batch": lambda: jax.random.split(xinit.key(0), 2),
        "int32[2]": lambda: np.zeros(2, np.int32),
    }[name]()


def shape_of(v: Any) -> tuple[int, ...] | None:
    """The shape a valid shape argument denotes, else None."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        v = (v,)
    if not isinstance(v, (tuple, list)):
        return None
    out = []
    for d in v:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0:
            return None
        out.append(int(d))
    return tuple(out)


def shape_error(v: Any) -> type:
    """The error of an invalid shape argument: its first bad dimension decides."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return ValueError
    if not isinstance(v, (tuple, list)):
        return TypeError
    for d in v:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
            return TypeError
        if d < 0:
            return ValueError
    raise AssertionError(f"{v!r} is a valid shape")


def dtype_kind(dt: Any) -> str:
    """'float', 'int' (integer or bool), 'x64' (64-bit without x64) or 'bad'."""
    if dt is None:
        return "float"
    try:
        d = np.dtype(dt)
    except TypeError:
        return "bad"
    if d.kind == "c":
        return "bad"
    if jnp.issubdtype(d, np.floating):
        kind = "float"
    elif d.kind in "iub":
        kind = "int"
    else:
        return "bad"
    return "x64" if d.itemsize == 8 and not jax.config.jax_enable_x64 else kind


def fans_error(shape: tuple[int, ...], layout: tuple) -> set[str]:
    """Words of the error computing fans from a shape, or an empty set."""
    in_axes, out_axes, batch_axes, named = layout
    if named and len(shape) < 2:
        return {"dimensions"}
    seen = set()
    for name, axes in (("in_axis", in_axes), ("out_axis", out_axes), ("batch_axis", batch_axes)):
        for a in axes:
            if not -len(shape) <= a < len(shape):
                return {name}
            if a % len(shape) in seen:
                return {name}
            seen.add(a % len(shape))
    return set()


def fan_value_error(v: Any) -> tuple[type, str] | None:
    kind = real_kind(v)
    if kind == "type":
        return (TypeError, "")
    if kind == "nonfinite":
        return (ValueError, "")
    return None


#: Valid calls: the first few per constructor are kept for
#: test_bad_input_valid_calls_run (which runs them all in one jit: one compilation
#: instead of one per call), the first few are traced with jax.eval_shape (which
#: checks everything but the values), the rest stop where the kernel would be
#: traced (_abstract_generate).
KEPT_CALLS_PER_SPEC = 1
TRACED_CALLS_PER_SPEC = 5
#: (constructor, initializer, key name, call arguments, expected dtype, finite)
_KEPT_CALLS: list[tuple] = []


def _abstract_generate(
    init: xinit.Initializer,
    key: Any,
    shape: Any,
    dtype: Any,
    fan_in: Any,
    fan_out: Any,
    gain: Any,
    variance: Any = None,
) -> jax.ShapeDtypeStruct:
    """Stands in for xinit._initializer._generate: checks what the kernel would get."""
    assert isinstance(init, xinit.Initializer) and hash(init) == hash(init)
    assert isinstance(shape, tuple) and all(type(d) is int and d > 0 for d in shape)
    assert isinstance(dtype, np.dtype)
    for v in (fan_in, fan_out, gain):
        assert v.shape == () and v.dtype == np.float32 and np.isfinite(v)
    # concrete fans: a variance-scaling kernel gets its variance computed on the host
    assert (variance is not None) == (init.host_variance is not None)
    if variance is not None:
        assert isinstance(variance, np.float32)
    return jax.ShapeDtypeStruct(shape, dtype)


def expected_call_errors(
    spec: Props, shape_arg: Any, dtype: Any, key_name: str, fan_in: Any, fan_out: Any, gain: Any
) -> tuple[set[str], set[type]]:
    """Words any of which the error message must contain, and acceptable error types."""
    words: set[str] = set()
    types: set[type] = set()
    shape = shape_of(shape_arg)
    if shape is None:
        return {"shape"}, {shape_error(shape_arg)}
    kind = dtype_kind(dtype)
    if kind in ("bad", "x64") or (kind == "int" and spec.kind != "deterministic"):
        return {"dtype"}, {xinit.DTypeError}
    if key_name not in ("default", "legacy", "philox4x32"):
        return {"key"}, {ValueError if key_name == "batch" else TypeError}
    rank = spec.rank(shape)
    if rank:
        return rank, {ValueError}
    if spec.kind == "deterministic" and not spec.finite and kind == "int" and dtype is not bool:
        # a NaN or infinite constant has no integer value (torch: RuntimeError)
        return {"value"}, {xinit.RangeError}
    empty = math.prod(shape) == 0
    given = {"fan_in": fan_in, "fan_out": fan_out}
    missing = [f for f in spec.fans_used if given[f] is None]
    if missing and not (empty and spec.warn_empty):
        err = fans_error(shape, spec.layout)
        if err:
            return err, {ValueError}
    for name, v in given.items():
        if v is not None and (e := fan_value_error(v)):
            words.add(name)
            types.add(e[0])
    if not words and not empty:
        for name in spec.fans_used:
            v = given[name]
            if v is not None and float(v) < 0:
                words.add(name), types.add(ValueError)
            elif v is not None and float(v) == 0 and not spec.zero_fan_ok:
                words.add(name), types.add(xinit.DivisionByZeroError)
    if words:
        return words, types
    if gain is not None and (e := fan_value_error(gain)):
        return {"gain"}, {e[0]}
    return set(), set()


TRUNC_NORMAL_WARNING = (
    "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
    "The distribution of values may be incorrect."
)
REQUIRED = ("scale", "mode", "distribution", "layout", "value", "sparsity")


@HYPOTHESIS
@given(data=st.data())
def _bad_input_example(name: str, stats: collections.Counter, data: st.DataObject) -> None:
    spec = SPECS[name]
    variant = (
        {"_variant": data.draw(st.sampled_from(spec.variants), label="constructor")}
        if spec.variants
        else {}
    )
    passed = [
        p for p in spec.params if p in REQUIRED or data.draw(st.booleans(), label=f"pass {p}")
    ]
    # at most one junk argument, none half of the time
    junk = (
        -1
        if data.draw(st.booleans(), label="all valid")
        else data.draw(st.integers(0, max(len(passed) - 1, 0)), label="junk argument")
    )
    kw = {p: data.draw(spec.params[p][i == junk], label=p) for i, p in enumerate(passed)} | variant
    invalid = spec.invalid(kw)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            init = spec.build(**kw)
        except Exception as e:
            assert isinstance(e, (TypeError, ValueError)), f"{type(e).__name__}: {e}"
            assert invalid, f"valid arguments refused: {type(e).__name__}: {e}"
            assert names_argument(str(e), invalid), f"{e!r} does not name {invalid}"
            stats["build error"] += 1
            return
    assert not invalid, f"invalid {invalid} accepted"
    expected = [TRUNC_NORMAL_WARNING] if spec.warns(kw) else []
    assert [str(w.message) for w in caught] == expected
    stats["built"] += 1
    props = spec.props(kw)

    # one junk argument (0-5), all of them drawn from everything (6), or none (half of the time)
    junk = (
        -1
        if data.draw(st.booleans(), label="all valid")
        else data.draw(st.integers(0, 6), label="junk argument")
    )
    drawn = []
    for i, (name_, (valid, bad)) in enumerate(CALL_ARGS.items()):
        if name_ == "dtype" and props.kind == "deterministic":
            valid = st.one_of(valid, INT_DTYPES)
        if name_ == "shape":  # mostly of the ranks the scheme accepts
            ranks = [st.lists(DIM, min_size=r, max_size=r).map(tuple) for r in props.ranks]
            valid = st.one_of(*ranks, valid)
        strategy = bad if i == junk else st.one_of(valid, bad) if junk == 6 else valid
        drawn.append(data.draw(strategy, label=name_))
    shape_arg, dtype, key_name, fan_in, fan_out, gain = drawn
    words, types = expected_call_errors(props, shape_arg, dtype, key_name, fan_in, fan_out, gain)
    key = make_test_key(key_name)
    shape = shape_of(shape_arg)
    if words:
        how = "raise"  # raised before anything is traced
    elif stats["traced"] < TRACED_CALLS_PER_SPEC:
        how = "trace"
    else:
        how = "check"

    def call() -> Any:
        return init(key, shape_arg, fan_in, fan_out, gain, dtype=dtype)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if how == "raise":
                out = call()
            elif how == "trace":
                out = jax.eval_shape(call)
            else:  # every check of the call, then the kernel is not traced
                with mock.patch.object(engine, "_generate", _abstract_generate):
                    out = call()
        except Exception as e:
            assert isinstance(e, (TypeError, ValueError)), f"{type(e).__name__}: {e}"
            assert words, f"valid call refused: {type(e).__name__}: {e}"
            assert isinstance(e, tuple(types)), f"{type(e).__name__}: {e}, expected {types}"
            assert names_argument(str(e), words), f"{e!r} does not name {words}"
            stats["call error"] += 1
            stats[f"words {sorted(words)}"] += 1
            return
    assert not words, f"expected an error naming {words}"
    empty = math.prod(shape) == 0
    expected = (
        ["Initializing zero-element tensors is a no-op"] if props.warn_empty and empty else []
    )
    assert [str(w.message) for w in caught] == expected
    assert out.shape == shape
    if dtype is not None:
        expected_dtype = np.dtype(dtype)
    elif kw.get("dtype") is not None:  # jax_compat's builder argument
        expected_dtype = np.dtype(kw["dtype"])
    else:
        expected_dtype = F32
    assert out.dtype == expected_dtype
    stats["called" if not empty else "called empty"] += 1
    stats["traced"] += how == "trace"
    if not empty and stats["kept"] < KEPT_CALLS_PER_SPEC:
        stats["kept"] += 1
        args = (shape_arg, fan_in, fan_out, gain)
        _KEPT_CALLS.append((name, init, key_name, args, expected_dtype, props.finite))


@pytest.mark.parametrize("name", SPECS)
def test_bad_input(name: str) -> None:
    """Random junk for every argument of every constructor and of its calls:
    only TypeError/ValueError (xinit's errors included) naming an offending
    argument; everything valid works and has the right shape and dtype."""
    stats: collections.Counter = collections.Counter()
    _bad_input_example(name, stats)
    # the strategies reach every outcome
    assert stats["built"] >= 20, stats
    assert stats["called"] >= 5 and stats["call error"] >= 10, stats
    assert stats["traced"] == TRACED_CALLS_PER_SPEC and stats["kept"] == KEPT_CALLS_PER_SPEC, stats
    if SPECS[name].params:
        assert stats["build error"] >= 3, stats


def test_bad_input_valid_calls_run() -> None:
    """The valid calls test_bad_input kept really run, with finite values."""
    if not _KEPT_CALLS:
        pytest.skip("runs after test_bad_input, which was not selected")
    assert {c[0] for c in _KEPT_CALLS} == set(SPECS)

    def run_all() -> list[jax.Array]:
        return [
            init(make_test_key(key_name), shape, fi, fo, g, dtype=dtype)
            for _, init, key_name, (shape, fi, fo, g), dtype, _ in _KEPT_CALLS
        ]

    for (name, _, _, (shape, *_), dtype, finite), out in zip(
        _KEPT_CALLS, jax.jit(run_all)(), strict=True
    ):
        values = np.asarray(out)
        assert values.shape == shape_of(shape) and values.dtype == dtype, name
        if finite and jnp.issubdtype(values.dtype, np.floating):
            assert np.isfinite(values.astype(np.float32)).all(), name


#: Valid but extreme hyperparameters: the values must be finite and in range.
EXTREMES = [
    ("uniform", lambda: xinit.uniform(-1e30, 1e30), (64,), {}, 1e30),
    ("normal_wide", lambda: xinit.normal(0.0, 1e30), (64,), {}, 1e31),
    ("trunc_normal_tiny_std", lambda: xinit.trunc_normal(0.0, 1e-30, -1.0, 1.0), (64,), {}, 1.0),
    ("trunc_normal_tail", lambda: xinit.trunc_normal(0.0, 1.0, 1.5, 8.0), (64,), {}, 8.0),
    ("truncated_normal_tail", lambda: xinit.truncated_normal(1.0, 5.0, 9.0), (64,), {}, 9.0),
    ("truncated_normal_wide", lambda: xinit.truncated_normal(1e30), (64,), {}, 2e30),
    ("variance_tiny", lambda: xinit.variance_scaling(1e-30, "fan_in", "normal"), (4, 5), {}, 1e-14),
    ("variance_huge", lambda: xinit.variance_scaling(1e30, "fan_in", "uniform"), (4, 5), {}, 1e16),
    ("kaiming_huge_fan", lambda: xinit.kaiming_uniform(), (4, 5), {"fan_in": 2**24 - 1}, 1.0),
    ("xavier_gain", lambda: xinit.xavier_uniform(1e15), (4, 5), {}, 1e16),
    ("delta_orthogonal", lambda: xinit.delta_orthogonal(-1e30), (3, 4, 5), {}, 1e30),
]


def test_extreme_hyperparameters_give_finite_values() -> None:
    inits = [(make(), shape, kw) for _, make, shape, kw, _ in EXTREMES]
    outs = jax.jit(lambda k: [i(k, shape, **kw) for i, shape, kw in inits])(KEY)
    for (name, _, _, _, bound), out in zip(EXTREMES, outs, strict=True):
        values = np.asarray(out, dtype=np.float64)
        assert np.isfinite(values).all(), name
        assert np.abs(values).max() <= bound, name
        if bound:
            assert np.abs(values).max() > 0, name


@pytest.mark.parametrize(
    "call",
    [
        lambda: xinit.xavier_uniform(1e20)(KEY, (4, 5)),
        lambda: xinit.kaiming_normal()(KEY, (4, 5), gain=1e20),
        lambda: xinit.xavier_normal(1e-25)(KEY, (4, 5)),
    ],
    ids=["xavier_gain_1e20", "call_gain_1e20", "xavier_gain_1e-25"],
)
def test_extreme_gains(call: Callable) -> None:
    values = np.asarray(call())
    assert np.isfinite(values).all() and (values != 0).all()


def test_uniform_over_the_float32_range() -> None:
    values = np.asarray(xinit.uniform(-3e38, 3e38)(KEY, (256,)), dtype=np.float64)
    assert np.isfinite(values).all() and values.std() > 1e38


# == (h) the variance quotient is rounded as JAX rounds it ===================================

VARIANCE_SCALES = [1.0, 2.0, 1 / 3, 0.1, 1 / 7, 0.8796, 0.87962566103423978, 3.3]
#: fan_in takes every value in 1..2**16; the other fan these values (both orders).
#: Sums stay <= 2**24 (see test_fan_avg_of_large_fans for larger ones).
OTHER_FANS = [1, 2, 3, 100, 4097, 65536, 2**24 - 2**16]


@functools.cache
def _fan_grid() -> tuple[np.ndarray, np.ndarray]:
    grid = np.arange(1, 2**16 + 1, dtype=np.float64)
    fan_in = np.tile(grid, len(OTHER_FANS))
    fan_out = np.repeat(np.asarray(OTHER_FANS, dtype=np.float64), len(grid))
    return fan_in, fan_out


def _jax_denominator(mode: str, fan_in: np.ndarray, fan_out: np.ndarray) -> np.ndarray:
    """What jax.nn.initializers.variance_scaling divides by, in float64."""
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    if mode == "fan_avg":
        return (fan_in + fan_out) / 2
    # Python's ``** 0.5`` (libm pow), exactly as JAX writes it
    return np.array([x**0.5 for x in (fan_in * fan_out).tolist()])


@functools.cache
def _xinit_quotients() -> dict[tuple[float, str, bool], np.ndarray]:
    """scaled_variance on traced float32 fans for every scale, mode and order: one jit."""
    fan_in, fan_out = (jnp.asarray(a, dtype=jnp.float32) for a in _fan_grid())

    @jax.jit
    def all_quotients(fi: jax.Array, fo: jax.Array) -> dict:
        return {
            (s, m, swap): jax.vmap(lambda a, b, s=s, m=m: scaled_variance(s, m, a, b))(
                *((fo, fi) if swap else (fi, fo))
            )
            for s in VARIANCE_SCALES
            for m in MODES
            for swap in (False, True)
        }

    out = all_quotients(fan_in, fan_out)
    return {k: np.asarray(v) for k, v in out.items()}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scale", VARIANCE_SCALES, ids=lambda s: f"{s:.6g}")
def test_scaled_variance_is_jax_rounding(scale: float, mode: str) -> None:
    quotients = _xinit_quotients()
    fan_in, fan_out = _fan_grid()
    for swap in (False, True):
        fi, fo = (fan_out, fan_in) if swap else (fan_in, fan_out)
        expected = (scale / _jax_denominator(mode, fi, fo)).astype(np.float32)
        got = quotients[(scale, mode, swap)]
        assert got.dtype == np.float32
        bad = np.flatnonzero(bits(got) != bits(expected))
        assert bad.size == 0, (
            f"{bad.size} wrong, e.g. fan_in={fi[bad[0]]:.0f} fan_out={fo[bad[0]]:.0f}: "
            f"{got[bad[0]]!r} vs {expected[bad[0]]!r}"
        )


def test_scaled_variance_reference_is_not_float32_division() -> None:
    """The test above can fail: a naive float32 computation differs from JAX's rounding."""
    fan_in, fan_out = _fan_grid()
    fi, fo = fan_in.astype(np.float32), fan_out.astype(np.float32)
    naive = np.float32(0.1) / np.sqrt(fi * fo)
    expected = (0.1 / _jax_denominator("fan_geo_avg", fan_in, fan_out)).astype(np.float32)
    assert (bits(naive) != bits(expected)).sum() > 1000


def test_fan_avg_of_large_fans() -> None:
    fan_in = np.arange(2**24 - 64, 2**24, dtype=np.float64)
    fan_out = np.full_like(fan_in, 2**23 + 1)
    got = jax.jit(lambda a, b: scaled_variance(1.0, "fan_avg", a, b))(
        fan_in.astype(np.float32), fan_out.astype(np.float32)
    )
    expected = (1.0 / ((fan_in + fan_out) / 2)).astype(np.float32)
    assert_same_bits(got, expected)


#: Fans below 2**24 for which the float-float quotient (traced fans) is not JAX's
#: rounding (found by a scan of every fan_in below 2**24 against the float64 reference).
MISROUNDED_FANS = {
    1 / 3: [4243265, 5166317, 5264645, 5509309, 5548885, 5592405, 8486530, 14013581],
    1 / 7: [2108509, 2118965, 2248493, 2396745, 4217018, 8434036, 13500313],
}


@pytest.mark.parametrize("scale", list(MISROUNDED_FANS), ids=lambda s: f"{s:.6g}")
def test_scaled_variance_large_fans(scale: float) -> None:
    """Concrete fans (every call whose fans are not traced) get JAX's rounding, computed
    on the host; traced fans get the float-float quotient, one ulp off for these fans
    (docs/spec.md, Known limits)."""
    fans = np.asarray(MISROUNDED_FANS[scale], dtype=np.float64)
    expected = (scale / fans).astype(np.float32)
    fans32 = fans.astype(np.float32)
    assert_same_bits(scaled_variance(scale, "fan_in", fans32, fans32), expected)
    assert_same_bits(scaled_variance(scale, "fan_in", jnp.asarray(fans32), 0), expected)
    # through a call: JAX's variance_scaling(scale, "fan_in", "uniform") with these fans
    init = xc.variance_scaling(scale, "fan_in", "uniform")
    u = jax.random.uniform(KEY, (16,), jnp.float32, -1)
    for fan, variance in zip(MISROUNDED_FANS[scale], expected, strict=True):
        assert_same_bits(init(KEY, (16,), fan_in=fan), u * jnp.sqrt(3 * jnp.asarray(variance)))
    traced = jax.jit(lambda f: scaled_variance(scale, "fan_in", f, f))(fans32)
    assert np.abs(bits(traced).astype(np.int64) - bits(expected).astype(np.int64)).max() <= 1


def test_nan_constant_is_equal_to_an_equal_build() -> None:
    assert xinit.constant(float("nan")) == xinit.constant(float("nan"))


# == (i) host-only fields share the compiled program ========================================


def test_host_only_fields_share_one_program() -> None:
    """The default gain, default dtype and layout are applied on the host, so
    initializers that differ only in them share a compiled program."""
    shape = (23, 29)
    xinit.xavier_uniform()(KEY, shape)
    with count_compilations() as compiled:
        doubled = xinit.xavier_uniform(2.0)(KEY, shape)
        xinit.xavier_uniform().with_layout("flax")(KEY, shape)
        xinit.xavier_uniform().with_dtype(np.float32)(KEY, shape)
    assert compiled == []
    assert_same_bits(doubled, xinit.xavier_uniform()(KEY, shape, gain=2.0))
