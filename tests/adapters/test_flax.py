"""xinit.adapters.flax: xinit initializers as Flax initializers, and whole-model init.

Initializers: bit-identical to ``jax.nn.initializers`` for every shared scheme
(same key, shape, dtype), usable as ``kernel_init``/``bias_init``/``embedding_init``
in linen and nnx layers, Flax-layout fans checked against JAX's and against
torch-layout results, and PyTorch's Linear/Conv defaults for Flax layers checked
against torch itself. Whole models: ``init_linen``/``init_nnx`` alone (the
cross-framework identity lives in ``test_cross_framework.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from flax import nnx
from scipy import stats

import xinit
from xinit import jax_compat
from xinit.adapters import flax as xf

KS_P = 1e-3
KEYS = [jax.random.key(0), jax.random.key(7, impl="threefry2x32"), xinit.key(3)]
jinit = jax.nn.initializers

# (xinit initializer, the jax.nn.initializers one) for every shared scheme
SHARED: dict[str, tuple[xinit.Initializer, Callable]] = {
    "lecun_normal": (xinit.lecun_normal(), jinit.lecun_normal()),
    "lecun_uniform": (xinit.lecun_uniform(), jinit.lecun_uniform()),
    "glorot_normal": (xinit.glorot_normal(), jinit.glorot_normal()),
    "glorot_uniform": (xinit.glorot_uniform(), jinit.glorot_uniform()),
    "he_normal": (xinit.he_normal(), jinit.he_normal()),
    "he_uniform": (xinit.he_uniform(), jinit.he_uniform()),
    "vs_fan_out_normal": (
        xinit.variance_scaling(0.5, "fan_out", "normal"),
        jinit.variance_scaling(0.5, "fan_out", "normal"),
    ),
    "vs_fan_geo_avg_uniform": (
        xinit.variance_scaling(2.0, "fan_geo_avg", "uniform"),
        jinit.variance_scaling(2.0, "fan_geo_avg", "uniform"),
    ),
    "truncated_normal": (xinit.truncated_normal(0.02), jinit.truncated_normal(0.02)),
    "jax_normal": (jax_compat.normal(0.05), jinit.normal(0.05)),
    "jax_uniform": (jax_compat.uniform(0.1), jinit.uniform(0.1)),
    "jax_orthogonal": (jax_compat.orthogonal(), jinit.orthogonal()),
}
# The core's bit-identity with JAX is tested in depth in tests/test_jax_parity.py;
# here, that as_flax passes it through for Flax's call signature and layouts.
CASES = (
    [(name, (16, 32), jnp.float32) for name in SHARED]
    + [
        (name, (3, 3, 8, 16), jnp.float32)
        for name in ("lecun_normal", "he_uniform", "jax_orthogonal")
    ]
    + [(name, (16, 32), jnp.bfloat16) for name in ("glorot_normal", "vs_fan_geo_avg_uniform")]
)


@pytest.mark.parametrize(
    ("name", "shape", "dtype"), CASES, ids=lambda v: str(getattr(v, "__name__", v))
)
def test_as_flax_is_bit_identical_to_jax(name: str, shape: tuple[int, ...], dtype) -> None:  # type: ignore[no-untyped-def]
    ours, theirs = SHARED[name]
    init = xf.as_flax(ours, "conv" if len(shape) > 2 else "dense")
    for key in KEYS[:2]:
        got = init(key, shape, dtype)
        if dtype == jnp.bfloat16:  # xinit generates in float32 and casts last (by design)
            expected = theirs(key, shape, jnp.float32).astype(jnp.bfloat16)
        else:
            expected = theirs(key, shape, dtype)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(np.asarray(got, np.float32), np.asarray(expected, np.float32))


def test_embed_layout_matches_flax_embed_default() -> None:
    init = xf.as_flax(xinit.variance_scaling(1.0, "fan_in", "normal"), "embed")
    flax_default = nn.Embed(100, 24).embedding_init
    for key in KEYS:
        np.testing.assert_array_equal(
            np.asarray(init(key, (100, 24))), np.asarray(flax_default(key, (100, 24)))
        )


def test_as_flax_in_linen_and_nnx_layers() -> None:
    kinit = xf.as_flax(xinit.kaiming_uniform(nonlinearity="relu"), "conv")
    key = jax.random.key(1)
    conv = nn.Conv(8, (3, 3), kernel_init=kinit, bias_init=xf.torch_bias(fan_in=4 * 9))
    variables = conv.init(key, jnp.ones((1, 5, 5, 4)))
    kernel = variables["params"]["kernel"]
    assert kernel.shape == (3, 3, 4, 8)
    bound = math.sqrt(6 / (4 * 9))  # kaiming_uniform, relu: sqrt(6 / fan_in), fan_in = in * k
    assert float(jnp.abs(kernel).max()) <= bound
    bias = variables["params"]["bias"]
    assert float(jnp.abs(bias).max()) <= 1 / 6 and float(jnp.abs(bias).max()) > 0
    lin = nnx.Linear(6, 4, kernel_init=xf.torch_kernel(), rngs=nnx.Rngs(0))
    assert float(jnp.abs(lin.kernel[...]).max()) <= 1 / math.sqrt(6)
    emb = nnx.Embed(
        50, 8, embedding_init=xf.as_flax(xinit.normal(0.0, 1.0), "embed"), rngs=nnx.Rngs(0)
    )
    assert abs(float(emb.embedding[...].std()) - 1.0) < 0.1


def _ks(a: np.ndarray, b: np.ndarray) -> float:
    return float(stats.ks_2samp(a.ravel(), b.ravel()).pvalue)


@pytest.mark.parametrize(
    ("init", "tfill"),
    [
        (
            xinit.kaiming_normal(nonlinearity="relu"),
            lambda t: torch.nn.init.kaiming_normal_(t, nonlinearity="relu"),
        ),
        (xinit.xavier_uniform(gain=2.0), lambda t: torch.nn.init.xavier_uniform_(t, gain=2.0)),
        (
            xinit.kaiming_uniform(a=math.sqrt(5)),
            lambda t: torch.nn.init.kaiming_uniform_(t, a=math.sqrt(5)),
        ),
    ],
    ids=["kaiming_normal", "xavier_uniform", "torch_default"],
)
def test_flax_layout_fans_match_torch_layout(init: xinit.Initializer, tfill: Callable) -> None:
    """A Flax conv kernel (*k, in, out) gets the distribution torch gives (out, in, *k)."""
    flax_shape, torch_shape = (3, 3, 16, 64), (64, 16, 3, 3)
    ours = np.concatenate(
        [
            np.asarray(xf.as_flax(init, "conv")(xinit.key_for(0, f"w{i}"), flax_shape))
            for i in range(2)
        ]
    )
    torch.manual_seed(0)
    theirs = np.concatenate([tfill(torch.empty(torch_shape)).numpy() for _ in range(2)])
    assert ours.size >= 10_000
    assert _ks(ours, theirs) > KS_P
    # and the torch-layout result of xinit itself
    canon = np.asarray(init(xinit.key_for(1, "w"), torch_shape))
    assert _ks(ours, canon) > KS_P


def test_torch_kernel_and_bias_match_torch_linear() -> None:
    ours_w, ours_b, theirs_w, theirs_b = [], [], [], []
    for r in range(40):
        variables = nn.Dense(
            300, kernel_init=xf.torch_kernel(), bias_init=xf.torch_bias(fan_in=20)
        ).init(jax.random.key(r), jnp.ones((1, 20)))
        ours_w.append(np.asarray(variables["params"]["kernel"]).T)
        ours_b.append(np.asarray(variables["params"]["bias"]))
        torch.manual_seed(r)
        lin = torch.nn.Linear(20, 300)
        theirs_w.append(lin.weight.detach().numpy())
        theirs_b.append(lin.bias.detach().numpy())
    assert _ks(np.concatenate(ours_w), np.concatenate(theirs_w)) > KS_P
    assert _ks(np.concatenate(ours_b), np.concatenate(theirs_b)) > KS_P


def test_torch_conv_transpose_layout_uses_torchs_fan_in() -> None:
    # Flax ConvTranspose kernel (k, in=8, out=4): torch's fan_in is out * k = 12
    w = xf.torch_kernel("torch_conv_transpose")(jax.random.key(0), (3, 8, 4))
    assert float(jnp.abs(w).max()) <= 1 / math.sqrt(12) and float(
        jnp.abs(w).max()
    ) > 0.9 / math.sqrt(12)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: xf.as_flax("lecun_normal"), TypeError, "xinit.Initializer"),
        (lambda: xf.as_flax(xinit.lecun_normal(), "hwio"), ValueError, "layout must be one of"),
        (lambda: xf.torch_bias(-1), ValueError, "fan_in"),
        (lambda: xf.torch_bias(2.5), ValueError, "fan_in"),
    ],
)
def test_bad_initializer_input(call: Callable, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()


# -- whole models ----------------------------------------------------------------------------


class Classifier(nn.Module):
    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        x = nn.Conv(8, (3, 3), name="conv")(x)
        x = nn.BatchNorm(use_running_average=not train, name="bn")(x)
        return nn.Dense(10, name="head")(x.mean((1, 2)))


def test_init_linen_variables_and_batch_stats() -> None:
    x = jnp.ones((2, 8, 8, 3))
    variables = init_linen_classifier(x)
    ref = Classifier().init(jax.random.key(0), x)
    assert jax.tree_util.tree_structure(variables) == jax.tree_util.tree_structure(ref)
    for a, b in zip(
        jax.tree_util.tree_leaves(variables), jax.tree_util.tree_leaves(ref), strict=True
    ):
        assert a.shape == b.shape and a.dtype == b.dtype
    assert jnp.all(variables["batch_stats"]["bn"]["mean"] == 0)
    assert jnp.all(variables["batch_stats"]["bn"]["var"] == 1)
    bound = 1 / math.sqrt(3 * 9)
    assert float(jnp.abs(variables["params"]["conv"]["kernel"]).max()) <= bound
    assert float(jnp.abs(variables["params"]["conv"]["bias"]).max()) <= bound
    out = Classifier().apply(variables, x)
    assert out.shape == (2, 10) and bool(jnp.isfinite(out).all())


def init_linen_classifier(x: jax.Array) -> dict:
    return xf.init_linen(Classifier(), x, seed=0)


def test_init_nnx_in_place_and_from_a_factory_agree() -> None:
    def make() -> nnx.Module:
        return nnx.Sequential(
            nnx.Linear(4, 8, rngs=nnx.Rngs(5)), nnx.BatchNorm(8, rngs=nnx.Rngs(5))
        )

    concrete = make()
    kernel = concrete.layers[0].kernel
    xf.init_nnx(concrete, seed=2)
    assert concrete.layers[0].kernel is kernel  # the same Variable, new value
    abstract = xf.init_nnx(make, seed=2)
    for a, b in zip(
        jax.tree_util.tree_leaves(nnx.state(concrete)),
        jax.tree_util.tree_leaves(nnx.state(abstract)),
        strict=True,
    ):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(np.asarray(abstract.layers[1].var[...]), np.ones(8))


def test_values_do_not_depend_on_construction_order() -> None:
    class AB(nnx.Module):
        def __init__(self, rngs: nnx.Rngs) -> None:
            self.a = nnx.Linear(3, 4, rngs=rngs)
            self.b = nnx.Linear(4, 5, rngs=rngs)

    class BA(nnx.Module):
        def __init__(self, rngs: nnx.Rngs) -> None:
            self.b = nnx.Linear(4, 5, rngs=rngs)
            self.a = nnx.Linear(3, 4, rngs=rngs)

    ab = xf.init_nnx(lambda: AB(nnx.Rngs(0)), seed=1)
    ba = xf.init_nnx(lambda: BA(nnx.Rngs(0)), seed=1)
    np.testing.assert_array_equal(np.asarray(ab.b.kernel[...]), np.asarray(ba.b.kernel[...]))
    np.testing.assert_array_equal(np.asarray(ab.a.bias[...]), np.asarray(ba.a.bias[...]))


def test_bad_model_input_is_named() -> None:
    class Broken(nn.Module):
        @nn.compact
        def __call__(self, x: jax.Array) -> jax.Array:
            return nn.Dense(3)(x) @ jnp.ones((5, 5))  # shape error

    with pytest.raises(ValueError, match=r"could not evaluate Broken\.init abstractly"):
        xf.init_linen(Broken(), jnp.ones((1, 4)), seed=0)
    with pytest.raises(
        ValueError, match=r"paths names Flax parameters the model does not have: \['fc/kernel'\]"
    ):
        xf.init_linen(nn.Dense(3), jnp.ones((1, 4)), seed=0, paths={"fc/kernel": "fc.weight"})
    with pytest.raises(TypeError, match=r"flax\.linen\.Module"):
        xf.init_linen(nnx.Linear(2, 3, rngs=nnx.Rngs(0)), jnp.ones((1, 2)), seed=0)
    with pytest.raises(
        ValueError, match=r"no initializer for 1 parameter\(s\): 'weight' \(Einsum, Flax 'kernel'\)"
    ):
        xf.init_linen(nn.Einsum((4, 3), "ab,bc->ac", use_bias=False), jnp.ones((2, 4)), seed=0)
    m = nnx.Linear(2, 3, rngs=nnx.Rngs(0))
    before = np.asarray(m.kernel[...]).copy()
    with pytest.raises(ValueError, match="has no initializer"):
        xf.init_nnx(m, seed=0, scheme=xf.Rules(xf.Rule(xinit.zeros(), name="bias")))
    np.testing.assert_array_equal(np.asarray(m.kernel[...]), before)  # unchanged
    with pytest.raises(ValueError, match=r"both map to 'w\.weight'"):
        xf.init_nnx(m, seed=0, paths=lambda p: "w.weight")
