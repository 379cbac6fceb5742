"""Bit-identity of xinit's JAX-semantics initializers with ``jax.nn.initializers``.

The reference is always JAX itself, called eagerly on the same key and shape:
no value in this file comes from xinit. Two arrays are "bit-identical" when
their raw bit patterns (``.view(uint)``) are equal, so ``-0.0 != 0.0`` and a
difference in the last ulp fails.

Layout of the file (compilation dominates the run time, so the calls that
compile are chosen with care):

* ``test_bit_identical``: every case of the table. The cases of a group cycle
  through the key kinds (four PRNG impls and a legacy ``PRNGKey``), each with
  its shape, so every family meets every key kind; the cases that share a
  (shape, key) run inside one ``jax.jit``.
* ``test_bit_identical_direct_call``: one case per family and sampling path,
  called directly as a user calls it.
* ``test_variance_scaling_table``: all 72 scale x mode x distribution
  combinations, inside one ``jax.jit``.
* ``test_grid``: representative cases with the default key on the shapes the
  tests above do not give it.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.nn.initializers as jinit
import jax.numpy as jnp
import numpy as np
import pytest

import xinit
from xinit import jax_compat as xc

# -- keys and shapes ---------------------------------------------------------------------

#: (impl, seed); impl "legacy" is a raw ``jax.random.PRNGKey`` (uint32[2], threefry2x32).
KEY_SPECS: list[tuple[str, int]] = [
    ("threefry4x32", 3),
    ("threefry2x32", 11),
    ("philox4x32", 5),
    ("philox2x32", 7),
    ("legacy", 5),
]


def make_key(spec: tuple[str, int]) -> jax.Array:
    impl, seed = spec
    if impl == "legacy":
        return jax.random.PRNGKey(seed)
    return jax.random.key(seed, impl=impl)


def key_id(spec: tuple[str, int]) -> str:
    return f"{spec[0]}-{spec[1]}"


#: All at least 3-D (so explicit 3-axis layouts apply) and valid for delta_orthogonal
#: (last dim >= second to last). Element counts: odd, a multiple of 4, 2 mod 4,
#: a power of two, so partial blocks of 2- and 4-word generators are exercised; the
#: orthogonal matrices are tall, wide and square.
SHAPES: list[tuple[int, ...]] = [(3, 5, 7), (3, 3, 16, 32), (2, 19, 27), (1, 1, 64, 64)]
S_ODD, S_CONV, S_WIDE, S_SQUARE = SHAPES
#: The shape each key kind of KEY_SPECS is paired with in ``test_bit_identical``:
#: the odd size (a partial block for every generator), except for the default
#: key, which meets every shape (here and in test_grid).
SHAPE_OF_KEY: tuple[tuple[int, ...], ...] = (S_WIDE, S_ODD, S_ODD, S_ODD, S_ODD)
DELTA_SHAPE_OF_KEY = (S_WIDE, S_ODD, (3, 3, 3, 5, 6), S_CONV, S_ODD)
CONSTANT_SHAPE_OF_KEY = (S_WIDE, (4, 6), (3, 3, 3, 5, 6), (7,), S_ODD)
#: Key index for the i-th case of a group: all five kinds first, then the default
#: key (fewer distinct (shape, impl) pairs: JAX compiles its samplers per pair).
KEY_PATTERN = (0, 1, 2, 3, 4)
KEY_PATTERN_REST = (0,)


def shape_id(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def bits(a: Any) -> np.ndarray:
    a = np.asarray(a)
    return a.view(f"u{a.dtype.itemsize}") if a.dtype != np.bool_ else a


def assert_same_bits(actual: Any, expected: Any) -> None:
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape
    assert actual.dtype == expected.dtype
    diff = bits(actual) != bits(expected)
    if diff.any():
        a64, e64 = actual.astype(np.float64), expected.astype(np.float64)
        raise AssertionError(
            f"{int(diff.sum())} of {diff.size} values differ in their bits; "
            f"max |diff| = {np.max(np.abs(a64 - e64)[diff]):.3g}; first at "
            f"{np.argwhere(diff)[0].tolist()}: {actual[diff][0]!r} vs {expected[diff][0]!r}"
        )


# -- the table ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    xinit: Callable[[], xinit.Initializer]
    jax: Callable[[], Callable[..., jax.Array]]
    #: the shape to use with each key of KEY_SPECS
    shapes: tuple[tuple[int, ...], ...] = SHAPE_OF_KEY
    #: cases of a group cycle through KEY_PATTERN together
    group: str = "variance"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, type):
        return np.dtype(v).name
    return str(v).replace(" ", "")


def _case_id(name: str, args: tuple, kw: dict) -> str:
    return "-".join([name, *map(_fmt, args), *(f"{k}={_fmt(v)}" for k, v in kw.items())])


def _vs(*args: Any, **kw: Any) -> Case:
    cid = _case_id("variance_scaling", args, kw)
    return Case(
        cid,
        lambda: xc.variance_scaling(*args, **kw),
        lambda: jinit.variance_scaling(*args, **kw),
    )


def _named(name: str, *args: Any, **kw: Any) -> Case:
    cid = _case_id(name, args, kw)
    return Case(
        cid, lambda: getattr(xc, name)(*args, **kw), lambda: getattr(jinit, name)(*args, **kw)
    )


SCALES = [1.0, 2.0, 0.5, 1 / 3, 0.1, 3.3]
MODES = ["fan_in", "fan_out", "fan_avg", "fan_geo_avg"]
DISTRIBUTIONS = ["uniform", "normal", "truncated_normal"]
NAMED = [
    "glorot_uniform",
    "glorot_normal",
    "lecun_uniform",
    "lecun_normal",
    "he_uniform",
    "he_normal",
]
#: JAX's aliases; both libraries define them as the same function objects.
ALIASES = {
    "xavier_uniform": "glorot_uniform",
    "xavier_normal": "glorot_normal",
    "kaiming_uniform": "he_uniform",
    "kaiming_normal": "he_normal",
}

#: The full variance_scaling table: every scale x mode x distribution.
VS_TABLE: list[Case] = [_vs(s, m, d) for s in SCALES for m in MODES for d in DISTRIBUTIONS]
#: 12 of them for the direct calls: every (mode, distribution) pair once, every scale twice.
VS_DIAGONAL: list[Case] = [
    _vs(SCALES[(3 * i + j) % len(SCALES)], m, d)
    for i, m in enumerate(MODES)
    for j, d in enumerate(DISTRIBUTIONS)
]

OTHER_CASES: list[Case] = [
    # explicit axes: a torch-like (out, in, *k) layout, multi-axis fans, batch axes
    _vs(2.0, "fan_in", "uniform", in_axis=1, out_axis=0),
    _vs(1.0, "fan_avg", "normal", in_axis=0, out_axis=1),
    _vs(1.0, "fan_out", "truncated_normal", in_axis=-1, out_axis=-2),
    _vs(0.5, "fan_geo_avg", "uniform", in_axis=(0, 1), out_axis=-1),
    _vs(1 / 3, "fan_avg", "truncated_normal", in_axis=-2, out_axis=-1, batch_axis=0),
    _vs(3.3, "fan_out", "normal", in_axis=1, out_axis=(0, 2)),
    _vs(0.1, "fan_in", "normal", in_axis=-2, out_axis=-1, batch_axis=(0,)),
    *(_named(n) for n in NAMED),
    _named("glorot_uniform", in_axis=0, out_axis=1),
    _named("lecun_normal", batch_axis=0),
    _named("he_uniform", in_axis=-1, out_axis=-2),
    _named("kaiming_normal", in_axis=(0, 1), out_axis=-1),
    *(
        dataclasses.replace(c, group="elementwise")
        for c in [
            _named("uniform"),
            _named("uniform", 3.5),
            _named("uniform", 1e-4),
            _named("normal"),
            _named("normal", 2.0),
            _named("normal", 0.7),
            _named("truncated_normal"),
            _named("truncated_normal", 1.0),
            _named("truncated_normal", 0.7, None, -1.5, 3.0),
            _named("truncated_normal", 2.0, lower=0.5, upper=1.0),
            _named("truncated_normal", 0.3, lower=-3.0, upper=-0.25),
        ]
    ),
    *(
        dataclasses.replace(c, group="orthogonal")
        for c in [
            _named("orthogonal"),
            _named("orthogonal", 1.3, 0),
            _named("orthogonal", 0.5, 1),
            _named("orthogonal", 2.0, -2),
            _named("orthogonal", 0.8, 2),
        ]
    ),
    *(
        dataclasses.replace(c, shapes=DELTA_SHAPE_OF_KEY, group="delta")
        for c in [
            _named("delta_orthogonal"),
            _named("delta_orthogonal", 1.7),
            _named("delta_orthogonal", 0.5, 0),
            _named("delta_orthogonal", 1.0, -2),
            _named("delta_orthogonal", 2.5, 1),
        ]
    ),
    *(
        dataclasses.replace(c, shapes=CONSTANT_SHAPE_OF_KEY, group="constant")
        for c in [
            _named("constant", 0.3),
            _named("constant", -2.5),
            _named("constant", -0.0),
            _named("constant", 7, jnp.int32),
            _named("constant", 1.1, jnp.bfloat16),
            Case("zeros", lambda: xc.zeros, lambda: jinit.zeros),
            Case("ones", lambda: xc.ones, lambda: jinit.ones),
        ]
    ),
]

DIRECT_CASES = VS_DIAGONAL + OTHER_CASES


def _assignments() -> list[tuple[Case, tuple[int, ...], tuple[str, int]]]:
    """One (shape, key) per case: the cases of a group cycle through KEY_PATTERN."""
    out, seen = [], {}
    for case in DIRECT_CASES:
        i = seen[case.group] = seen.get(case.group, -1) + 1
        k = KEY_PATTERN[i] if i < len(KEY_PATTERN) else KEY_PATTERN_REST[i % len(KEY_PATTERN_REST)]
        out.append((case, case.shapes[k], KEY_SPECS[k]))
    return out


ASSIGNED = _assignments()


def _family(case: Case) -> str:
    return case.id.split("-")[0]


def test_table_covers_every_jax_initializer() -> None:
    public = {
        n
        for n in dir(jinit)
        if not n.startswith("_") and n != "Initializer" and callable(getattr(jinit, n))
    }
    assert public == set(xc.__all__)
    assert {_family(c) for c in DIRECT_CASES} | set(ALIASES) == public


@pytest.mark.parametrize(("alias", "name"), ALIASES.items())
def test_aliases(alias: str, name: str) -> None:
    """The aliases are the functions they alias, in JAX and in xinit, so their
    values are tested with their canonical names."""
    assert getattr(jinit, alias) is getattr(jinit, name)
    assert getattr(xc, alias) is getattr(xc, name)
    assert getattr(xc, alias)() == getattr(xc, name)()


def test_direct_cases_meet_every_shape_and_key() -> None:
    for group in ["variance", "elementwise", "orthogonal", "delta", "constant"]:
        keys = {k for c, _, k in ASSIGNED if c.group == group}
        assert keys == set(KEY_SPECS), group
    assert {s for c, s, _ in ASSIGNED if _family(c) == "variance_scaling"} == {S_ODD, S_WIDE}
    assert {s for c, s, _ in ASSIGNED if _family(c) == "delta_orthogonal"} >= {(3, 3, 3, 5, 6)}
    for attr, values in [(0, SCALES), (1, MODES), (2, DISTRIBUTIONS)]:
        assert {c.id.split("-")[1 + attr] for c in VS_DIAGONAL} == {_fmt(v) for v in values}


def _batched(cases: list[Case], key: jax.Array, shape: tuple[int, ...]) -> list[jax.Array]:
    """All cases inside one user ``jax.jit``: one compilation instead of one per case."""
    inits = [c.xinit() for c in cases]
    return jax.jit(lambda k: [init(k, shape) for init in inits])(key)


@functools.cache
def _group_values(shape: tuple[int, ...], key_spec: tuple[str, int]) -> list[np.ndarray]:
    cases = [c for c, s, k in ASSIGNED if (s, k) == (shape, key_spec)]
    return [np.asarray(v) for v in _batched(cases, make_key(key_spec), shape)]


@pytest.mark.parametrize(
    ("case", "shape", "key_spec"),
    ASSIGNED,
    ids=[f"{c.id}-{shape_id(s)}-{key_id(k)}" for c, s, k in ASSIGNED],
)
def test_bit_identical(case: Case, shape: tuple[int, ...], key_spec: tuple[str, int]) -> None:
    """Every case of the table; the cases of one (shape, key) run in one jit."""
    cases = [c for c, s, k in ASSIGNED if (s, k) == (shape, key_spec)]
    got = _group_values(shape, key_spec)[cases.index(case)]
    assert_same_bits(got, case.jax()(make_key(key_spec), shape))


#: One case per family and sampling path, called directly as a user calls it;
#: every key kind appears.
DIRECT = [
    (_vs(1 / 3, "fan_avg", "uniform"), S_ODD, KEY_SPECS[1]),
    (_vs(0.1, "fan_geo_avg", "normal"), S_WIDE, KEY_SPECS[0]),
    (_vs(2.0, "fan_out", "truncated_normal", in_axis=1, out_axis=0), S_ODD, KEY_SPECS[2]),
    (_named("he_normal"), S_CONV, KEY_SPECS[0]),
    (_named("uniform", 3.5), S_ODD, KEY_SPECS[3]),
    (_named("normal", 0.7), S_ODD, KEY_SPECS[4]),
    (_named("truncated_normal", 0.7, None, -1.5, 3.0), S_SQUARE, KEY_SPECS[0]),
    (_named("orthogonal", 1.3, 0), S_ODD, KEY_SPECS[2]),
    (_named("delta_orthogonal", 1.7), (3, 3, 3, 5, 6), KEY_SPECS[0]),
    (_named("constant", 7, jnp.int32), (4, 6), KEY_SPECS[3]),
    (Case("zeros", lambda: xc.zeros, lambda: jinit.zeros), (7,), KEY_SPECS[0]),
]


@pytest.mark.parametrize(
    ("case", "shape", "key_spec"),
    DIRECT,
    ids=[f"{c.id}-{shape_id(s)}-{key_id(k)}" for c, s, k in DIRECT],
)
def test_bit_identical_direct_call(
    case: Case, shape: tuple[int, ...], key_spec: tuple[str, int]
) -> None:
    key = make_key(key_spec)
    assert_same_bits(case.xinit()(key, shape), case.jax()(key, shape))


@pytest.mark.parametrize(
    ("shape", "key_spec"),
    [(S_ODD, KEY_SPECS[0])],
    ids=lambda v: shape_id(v) if isinstance(v[0], int) else key_id(v),
)
def test_variance_scaling_table(shape: tuple[int, ...], key_spec: tuple[str, int]) -> None:
    """Every scale x mode x distribution (72 initializers); the direct calls of
    VS_DIAGONAL cover the other shapes and keys."""
    key = make_key(key_spec)
    for case, value in zip(VS_TABLE, _batched(VS_TABLE, key, shape), strict=True):
        assert_same_bits(value, case.jax()(key, shape))


# -- every shape x every key, on representative cases ---------------------------------

GRID_CASES = [
    _vs(1 / 3, "fan_avg", "uniform"),
    _vs(0.1, "fan_geo_avg", "normal"),
    _vs(2.0, "fan_in", "truncated_normal", in_axis=1, out_axis=0),
    _named("truncated_normal", 0.7, None, -1.5, 3.0),
    _named("orthogonal", 1.3, 0),
    _named("delta_orthogonal", 1.7),
]


#: The default key on the shapes test_bit_identical does not pair it with (the odd
#: one is the shape of test_variance_scaling_table).
GRID = [(S_CONV, KEY_SPECS[0]), (S_SQUARE, KEY_SPECS[0])]


@pytest.mark.parametrize(
    ("shape", "key_spec"), GRID, ids=[f"{shape_id(s)}-{key_id(k)}" for s, k in GRID]
)
def test_grid(shape: tuple[int, ...], key_spec: tuple[str, int]) -> None:
    key = make_key(key_spec)
    for case, value in zip(GRID_CASES, _batched(GRID_CASES, key, shape), strict=True):
        assert_same_bits(value, case.jax()(key, shape))


def test_grid_and_pairs_cover_every_key_and_shape() -> None:
    """Every key kind meets the odd shape; the default key meets every shape."""
    seen = set(GRID) | set(zip(SHAPE_OF_KEY, KEY_SPECS, strict=True)) | {(S_ODD, KEY_SPECS[0])}
    assert {k for s, k in seen if s == S_ODD} == set(KEY_SPECS)
    assert {s for s, k in seen if k == KEY_SPECS[0]} == set(SHAPES)


# -- bfloat16 and float16 ----------------------------------------------------------------

LOW_PRECISION_CASES = [
    _vs(1.0, "fan_avg", "uniform"),
    _vs(2.0, "fan_in", "truncated_normal"),
    _named("normal", 0.7),
    _named("orthogonal", 1.3, 0),
]
LOW = [jnp.bfloat16, jnp.float16]


@pytest.mark.parametrize("dtype", LOW, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", LOW_PRECISION_CASES, ids=lambda c: c.id)
def test_low_precision_is_float32_cast(case: Case, dtype: Any) -> None:
    """xinit's bf16/f16 are JAX's float32 values cast with ``.astype`` (round to nearest even)."""
    key, shape = make_key(KEY_SPECS[2]), SHAPE_OF_KEY[2]
    expected = np.asarray(case.jax()(key, shape, jnp.float32)).astype(dtype)
    assert_same_bits(case.xinit()(key, shape, dtype=dtype), expected)


def test_low_precision_dtype_argument_of_builders() -> None:
    """jax_compat's ``dtype`` builder argument, as JAX's: the default dtype of calls."""
    key, shape = make_key(KEY_SPECS[0]), SHAPE_OF_KEY[0]
    cases = [
        (xc.normal(0.7, dtype=jnp.bfloat16), jinit.normal(0.7), jnp.bfloat16),
        (xc.lecun_normal(dtype=jnp.float16), jinit.lecun_normal(), jnp.float16),
        (
            xc.variance_scaling(0.5, "fan_out", "uniform", dtype="bfloat16"),
            jinit.variance_scaling(0.5, "fan_out", "uniform"),
            jnp.bfloat16,
        ),
    ]
    for x, j, dtype in cases:
        assert_same_bits(x(key, shape), np.asarray(j(key, shape)).astype(dtype))


@pytest.mark.parametrize("name", ["uniform", "lecun_normal"])
def test_jax_native_bfloat16_differs(name: str) -> None:
    """Documents a deliberate difference: JAX generates bfloat16 natively (from
    bfloat16 uniforms, so far fewer distinct values), which is *not* its float32
    result cast; xinit always returns the float32 result cast, so its bfloat16
    values equal JAX's only after ``.astype``."""
    key, shape = make_key(KEY_SPECS[3]), SHAPE_OF_KEY[3]
    native = np.asarray(getattr(jinit, name)()(key, shape, jnp.bfloat16))
    cast = np.asarray(getattr(jinit, name)()(key, shape, jnp.float32)).astype(jnp.bfloat16)
    ours = np.asarray(getattr(xc, name)()(key, shape, dtype=jnp.bfloat16))
    assert np.mean(bits(native) != bits(cast)) > 0.5
    assert_same_bits(ours, cast)
    assert len(np.unique(ours)) > len(np.unique(native))


# -- top-level names with JAX semantics ---------------------------------------------------


def _top(name: str, *args: Any, jax_args: tuple | None = None, **kw: Any) -> Case:
    return Case(
        _case_id(name, args, kw),
        lambda: getattr(xinit, name)(*args, **kw),
        lambda: getattr(jinit, name)(*(args if jax_args is None else jax_args), **kw),
    )


TOP_LEVEL = [
    _top("variance_scaling", 2.0, "fan_geo_avg", "truncated_normal"),
    _top("variance_scaling", 1 / 3, "fan_out", "uniform", in_axis=0, out_axis=1),
    _top("variance_scaling", 0.1, "fan_avg", "normal", batch_axis=0),
    _top("lecun_normal"),
    _top("lecun_uniform"),
    _top("glorot_normal"),
    _top("glorot_uniform", in_axis=0, out_axis=-1),
    _top("he_normal"),
    _top("he_uniform"),
    _top("delta_orthogonal", 1.3),
    _top("delta_orthogonal", 0.5, 0),
    # xinit.truncated_normal(stddev, lower, upper) has no dtype argument
    _top("truncated_normal"),
    _top("truncated_normal", 0.5),
    _top("truncated_normal", 0.7, -1.5, 3.0, jax_args=(0.7, None, -1.5, 3.0)),
    Case(
        "torch_default_weight-flax",
        lambda: xinit.torch_default_weight(layout="flax"),
        lambda: jinit.variance_scaling(1 / 3, "fan_in", "uniform"),
    ),
]


@functools.cache
def _top_level_values(shape: tuple[int, ...]) -> list[np.ndarray]:
    return [np.asarray(v) for v in _batched(TOP_LEVEL, make_key(KEY_SPECS[0]), shape)]


@pytest.mark.parametrize("shape", [S_WIDE, S_CONV], ids=shape_id)
@pytest.mark.parametrize("case", TOP_LEVEL, ids=lambda c: c.id)
def test_top_level_jax_named(case: Case, shape: tuple[int, ...]) -> None:
    """Top-level xinit names with JAX semantics equal jax.nn.initializers."""
    got = _top_level_values(shape)[TOP_LEVEL.index(case)]
    assert_same_bits(got, case.jax()(make_key(KEY_SPECS[0]), shape))


@pytest.mark.parametrize(
    "name", ["lecun_normal", "glorot_uniform", "he_normal", "delta_orthogonal"]
)
def test_top_level_jax_named_direct_call(name: str) -> None:
    key, shape = make_key(KEY_SPECS[0]), S_ODD
    assert_same_bits(getattr(xinit, name)()(key, shape), getattr(jinit, name)()(key, shape))


def test_torch_default_weight_torch_layout_is_transposed_flax() -> None:
    """torch layout (out, in): fans equal JAX's with in_axis=1, out_axis=0."""
    key, shape = make_key(KEY_SPECS[0]), (24, 40)
    expected = jinit.variance_scaling(1 / 3, "fan_in", "uniform", in_axis=1, out_axis=0)(key, shape)
    assert_same_bits(xinit.torch_default_weight()(key, shape), expected)


def test_explicit_fans_match_jax_axes() -> None:
    """Passing fans explicitly gives the values JAX computes from its axes."""
    key, shape = make_key(KEY_SPECS[0]), SHAPE_OF_KEY[0]
    expected = jinit.variance_scaling(2.0, "fan_avg", "normal", in_axis=(0, 1), out_axis=2)(
        key, shape
    )
    fan_in, fan_out = shape[0] * shape[1], shape[2]
    got = xc.variance_scaling(2.0, "fan_avg", "normal")(key, shape, fan_in=fan_in, fan_out=fan_out)
    assert_same_bits(got, expected)


def test_large_fan_in_rounding() -> None:
    key, shape = make_key(KEY_SPECS[0]), (5166317, 1)  # fan_in = 5166317
    got = xc.variance_scaling(1 / 3, "fan_in", "normal")(key, shape)
    assert_same_bits(got, jinit.variance_scaling(1 / 3, "fan_in", "normal")(key, shape))
