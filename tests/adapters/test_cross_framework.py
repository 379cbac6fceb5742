"""One seed, the same weights: the same architectures in PyTorch, linen and nnx.

For each architecture (an MLP; a CNN with a grouped and a transposed
convolution; an embedding + transformer block; normalization layers) and each
scheme ("torch", "flax", a rules scheme), ``init_module`` on the torch model and
``init_linen``/``init_nnx`` on the Flax models must give every corresponding
parameter bit-identical values in torch's layout (``assert_array_equal``), and
the forward passes must agree within float32 tolerance.
"""

from __future__ import annotations

import math
from typing import Any

import flax.linen as fnn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from flax import nnx
from torch import nn

import xinit
from xinit.adapters import flax as xf
from xinit.adapters import torch as xt

SEED = 1234


# -- MLP ---------------------------------------------------------------------------------------


class TorchMLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(6, 32), nn.Linear(32, 32), nn.Linear(32, 3)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            x = torch.relu(x) if i < 2 else x
        return x


class LinenMLP(fnn.Module):
    def setup(self) -> None:
        self.layers = [fnn.Dense(32), fnn.Dense(32), fnn.Dense(3)]

    def __call__(self, x: jax.Array) -> jax.Array:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            x = jax.nn.relu(x) if i < 2 else x
        return x


class NnxMLP(nnx.Module):
    def __init__(self, rngs: nnx.Rngs) -> None:
        self.layers = nnx.List(
            [
                nnx.Linear(6, 32, rngs=rngs),
                nnx.Linear(32, 32, rngs=rngs),
                nnx.Linear(32, 3, rngs=rngs),
            ]
        )

    def __call__(self, x: jax.Array) -> jax.Array:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            x = jax.nn.relu(x) if i < 2 else x
        return x


# -- CNN with a grouped and a transposed convolution -----------------------------------------


class TorchCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 8, 3)
        self.grouped = nn.Conv2d(8, 8, 3, groups=4)
        self.up = nn.ConvTranspose2d(8, 4, 3, stride=2)
        self.head = nn.Linear(4, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, C, H, W)
        x = torch.relu(self.grouped(torch.relu(self.conv(x))))
        return self.head(self.up(x).mean((2, 3)))


class LinenCNN(fnn.Module):
    def setup(self) -> None:
        self.conv = fnn.Conv(8, (3, 3), padding="VALID")
        self.grouped = fnn.Conv(8, (3, 3), feature_group_count=4, padding="VALID")
        self.up = fnn.ConvTranspose(4, (3, 3), strides=(2, 2), padding="VALID")
        self.head = fnn.Dense(5)

    def __call__(self, x: jax.Array) -> jax.Array:  # x: (N, H, W, C)
        x = jax.nn.relu(self.grouped(jax.nn.relu(self.conv(x))))
        return self.head(self.up(x).mean((1, 2)))


class NnxCNN(nnx.Module):
    def __init__(self, rngs: nnx.Rngs) -> None:
        self.conv = nnx.Conv(4, 8, (3, 3), padding="VALID", rngs=rngs)
        self.grouped = nnx.Conv(8, 8, (3, 3), feature_group_count=4, padding="VALID", rngs=rngs)
        self.up = nnx.ConvTranspose(8, 4, (3, 3), strides=(2, 2), padding="VALID", rngs=rngs)
        self.head = nnx.Linear(4, 5, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = jax.nn.relu(self.grouped(jax.nn.relu(self.conv(x))))
        return self.head(self.up(x).mean((1, 2)))


# -- embedding + transformer block ------------------------------------------------------------

D, HEADS, VOCAB = 32, 4, 50


def _attention_torch(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    b, t, _ = q.shape
    q, k, v = (a.reshape(b, t, HEADS, D // HEADS).transpose(1, 2) for a in (q, k, v))
    w = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D // HEADS), -1)
    return (w @ v).transpose(1, 2).reshape(b, t, D)


def _attention_jax(q: jax.Array, k: jax.Array, v: jax.Array) -> jax.Array:
    b, t, _ = q.shape
    q, k, v = (a.reshape(b, t, HEADS, D // HEADS).transpose(0, 2, 1, 3) for a in (q, k, v))
    w = jax.nn.softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(D // HEADS), -1)
    return (w @ v).transpose(0, 2, 1, 3).reshape(b, t, D)


class TorchBlock(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(VOCAB, D)
        self.ln1 = nn.LayerNorm(D)
        self.q, self.k, self.v, self.o = (nn.Linear(D, D) for _ in range(4))
        self.ln2 = nn.LayerNorm(D)
        self.fc = nn.Linear(D, 4 * D)
        self.proj = nn.Linear(4 * D, D)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.emb(idx)
        h = self.ln1(x)
        x = x + self.o(_attention_torch(self.q(h), self.k(h), self.v(h)))
        return x + self.proj(torch.nn.functional.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class LinenBlock(fnn.Module):
    def setup(self) -> None:
        self.emb = fnn.Embed(VOCAB, D)
        self.ln1 = fnn.LayerNorm(epsilon=1e-5)
        self.q, self.k, self.v, self.o = (fnn.Dense(D) for _ in range(4))
        self.ln2 = fnn.LayerNorm(epsilon=1e-5)
        self.fc = fnn.Dense(4 * D)
        self.proj = fnn.Dense(D)

    def __call__(self, idx: jax.Array) -> jax.Array:
        x = self.emb(idx)
        h = self.ln1(x)
        x = x + self.o(_attention_jax(self.q(h), self.k(h), self.v(h)))
        return x + self.proj(jax.nn.gelu(self.fc(self.ln2(x)), approximate=True))


class NnxBlock(nnx.Module):
    def __init__(self, rngs: nnx.Rngs) -> None:
        self.emb = nnx.Embed(VOCAB, D, rngs=rngs)
        self.ln1 = nnx.LayerNorm(D, epsilon=1e-5, rngs=rngs)
        self.q, self.k, self.v, self.o = (nnx.Linear(D, D, rngs=rngs) for _ in range(4))
        self.ln2 = nnx.LayerNorm(D, epsilon=1e-5, rngs=rngs)
        self.fc = nnx.Linear(D, 4 * D, rngs=rngs)
        self.proj = nnx.Linear(4 * D, D, rngs=rngs)

    def __call__(self, idx: jax.Array) -> jax.Array:
        x = self.emb(idx)
        h = self.ln1(x)
        x = x + self.o(_attention_jax(self.q(h), self.k(h), self.v(h)))
        return x + self.proj(jax.nn.gelu(self.fc(self.ln2(x)), approximate=True))


# -- normalization layers ------------------------------------------------------------------------


class TorchNorms(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 16)
        self.ln = nn.LayerNorm(16)
        self.gn = nn.GroupNorm(4, 16)
        self.rms = nn.RMSNorm(16, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rms(self.gn(self.ln(self.fc(x))))


class LinenNorms(fnn.Module):
    @fnn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = fnn.Dense(16, name="fc")(x)
        x = fnn.LayerNorm(epsilon=1e-5, name="ln")(x)
        x = fnn.GroupNorm(num_groups=4, epsilon=1e-5, name="gn")(x)
        return fnn.RMSNorm(epsilon=1e-6, name="rms")(x)


class NnxNorms(nnx.Module):
    def __init__(self, rngs: nnx.Rngs) -> None:
        self.fc = nnx.Linear(8, 16, rngs=rngs)
        self.ln = nnx.LayerNorm(16, epsilon=1e-5, rngs=rngs)
        self.gn = nnx.GroupNorm(16, num_groups=4, epsilon=1e-5, rngs=rngs)
        self.rms = nnx.RMSNorm(16, epsilon=1e-6, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.rms(self.gn(self.ln(self.fc(x))))


def _images() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((2, 4, 9, 9)).astype(np.float32)


ARCHS: dict[str, tuple[Any, ...]] = {
    # name: (torch class, linen class, nnx class, torch input, to-jax input, jax-to-torch output)
    "mlp": (
        TorchMLP,
        LinenMLP,
        NnxMLP,
        lambda: (np.ones((3, 6)) * np.arange(6)).astype(np.float32),
        lambda x: x,
    ),
    "cnn": (TorchCNN, LinenCNN, NnxCNN, _images, lambda x: x.transpose(0, 2, 3, 1)),
    "block": (
        TorchBlock,
        LinenBlock,
        NnxBlock,
        lambda: np.random.default_rng(0).integers(0, VOCAB, (2, 7)),
        lambda x: x,
    ),
    "norms": (
        TorchNorms,
        LinenNorms,
        NnxNorms,
        lambda: np.random.default_rng(1).standard_normal((3, 8)).astype(np.float32),
        lambda x: x,
    ),
}

RULES = xt.Rules(
    xt.Rule(xinit.normal(0.0, 0.02), module="embedding"),
    xt.Rule(
        xinit.kaiming_normal(nonlinearity="relu"),
        module=("linear", "conv", "conv_transpose"),
        ndim=(2, 4),
    ),
    xt.Rule(xinit.uniform(-0.1, 0.1), name="bias"),
    xt.Rule(xinit.normal(1.0, 0.1), module="norm", name="weight"),
    fallback="torch",
)
SCHEMES: dict[str, Any] = {"torch": "torch", "flax": "flax", "rules": RULES}


@pytest.mark.parametrize("scheme", list(SCHEMES))
@pytest.mark.parametrize("arch", list(ARCHS))
def test_same_seed_same_weights_and_outputs(arch: str, scheme: str) -> None:
    torch_cls, linen_cls, nnx_cls, make_input, to_jax = ARCHS[arch]
    chosen = SCHEMES[scheme]
    x = make_input()
    tmodel = xt.init_module(torch_cls(), chosen, seed=SEED)
    tstate = {n: p.detach().numpy() for n, p in tmodel.named_parameters()}
    shapes = {n: v.shape for n, v in tstate.items()}

    xj = jnp.asarray(to_jax(x))
    variables = xf.init_linen(linen_cls(), xj, seed=SEED, scheme=chosen)
    linen_state = xf.to_canonical((linen_cls(), variables), xj)
    nmodel = xf.init_nnx(lambda: nnx_cls(nnx.Rngs(0)), seed=SEED, scheme=chosen)
    nnx_state = xf.to_canonical(nmodel)

    for flax_state in (linen_state, nnx_state):
        names = xf.counterparts(shapes, flax_state)
        assert names == sorted(tstate)
        for name in names:
            np.testing.assert_array_equal(flax_state[name], tstate[name], err_msg=name)

    with torch.no_grad():
        expected = tmodel(torch.from_numpy(x)).numpy()
    for out in (linen_cls().apply(variables, xj), nmodel(xj)):
        np.testing.assert_allclose(np.asarray(out), expected, rtol=2e-4, atol=2e-5)


def test_linen_and_nnx_kernels_are_torch_weights_transposed() -> None:
    tmodel = xt.init_module(TorchMLP(), seed=SEED)
    xj = jnp.ones((1, 6))
    params = xf.init_linen(LinenMLP(), xj, seed=SEED)["params"]
    nmodel = xf.init_nnx(lambda: NnxMLP(nnx.Rngs(0)), seed=SEED)
    w = tmodel.layers[1].weight.detach().numpy()
    np.testing.assert_array_equal(np.asarray(params["layers_1"]["kernel"]), w.T)
    np.testing.assert_array_equal(np.asarray(nmodel.layers[1].kernel[...]), w.T)


def test_path_override_maps_differently_named_models() -> None:
    class Named(fnn.Module):
        @fnn.compact
        def __call__(self, x: jax.Array) -> jax.Array:
            x = jax.nn.relu(fnn.Dense(32, name="inp")(x))
            x = jax.nn.relu(fnn.Dense(32, name="hidden")(x))
            return fnn.Dense(3, name="out")(x)

    names = {"inp": "layers.0", "hidden": "layers.1", "out": "layers.2"}

    def to_torch(flax_path: str) -> str:
        module, param = flax_path.split("/")
        return f"{names[module]}.{'weight' if param == 'kernel' else param}"

    xj = jnp.ones((1, 6))
    variables = xf.init_linen(Named(), xj, seed=SEED, paths=to_torch)
    ours = xf.to_canonical((Named(), variables), xj, paths=to_torch)
    tmodel = xt.init_module(TorchMLP(), seed=SEED)
    for n, p in tmodel.named_parameters():
        np.testing.assert_array_equal(ours[n], p.detach().numpy())
    as_dict = {
        f"{k}/{p}": f"{v}.{'weight' if p == 'kernel' else p}"
        for k, v in names.items()
        for p in ("kernel", "bias")
    }
    again = xf.init_linen(Named(), xj, seed=SEED, paths=as_dict)
    for a, b in zip(
        jax.tree_util.tree_leaves(variables), jax.tree_util.tree_leaves(again), strict=True
    ):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_counterparts_reports_missing_and_mismatched() -> None:
    tstate = {n: tuple(p.shape) for n, p in TorchMLP().named_parameters()}
    nstate = xf.to_canonical(xf.init_nnx(lambda: NnxMLP(nnx.Rngs(0)), seed=0))
    del nstate["layers.2.bias"]
    nstate["extra.weight"] = np.zeros((2, 2))
    nstate["layers.0.weight"] = np.zeros((6, 32))  # transposed: the wrong layout
    with pytest.raises(ValueError) as info:
        xf.counterparts(tstate, nstate)
    message = str(info.value)
    assert "torch parameters without a Flax counterpart: layers.2.bias" in message
    assert "Flax parameters without a torch counterpart: extra.weight" in message
    assert "'layers.0.weight': torch shape (32, 6), Flax shape in torch's layout (6, 32)" in message


def test_different_architecture_is_reported_not_filled() -> None:
    tstate = {n: tuple(p.shape) for n, p in TorchCNN().named_parameters()}
    nstate = xf.to_canonical(xf.init_nnx(lambda: NnxMLP(nnx.Rngs(0)), seed=0))
    with pytest.raises(ValueError, match="without a Flax counterpart"):
        xf.counterparts(tstate, nstate)


class TorchAttention(nn.Module):
    """torch counterpart of Flax's MultiHeadDotProductAttention: separate projections."""

    def __init__(self) -> None:
        super().__init__()
        self.attn = nn.Module()
        for name in ("query", "key", "value", "out"):
            self.attn.add_module(name, nn.Linear(D, D))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.attn
        return a.out(_attention_torch(a.query(x), a.key(x), a.value(x)))


class LinenAttention(fnn.Module):
    @fnn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        return fnn.MultiHeadDotProductAttention(num_heads=HEADS, name="attn")(x)


@pytest.mark.parametrize("scheme", ["torch", "flax"])
def test_dense_general_attention_matches_separate_projections(scheme: str) -> None:
    """DenseGeneral kernels (E, heads, head_dim) and (heads, head_dim, E) map to Linear weights."""
    x = np.random.default_rng(2).standard_normal((2, 5, D)).astype(np.float32)
    tmodel = xt.init_module(TorchAttention(), scheme, seed=SEED)
    xj = jnp.asarray(x)
    variables = xf.init_linen(LinenAttention(), xj, seed=SEED, scheme=scheme)
    assert variables["params"]["attn"]["query"]["kernel"].shape == (D, HEADS, D // HEADS)
    assert variables["params"]["attn"]["out"]["kernel"].shape == (HEADS, D // HEADS, D)
    state = xf.to_canonical((LinenAttention(), variables), xj)
    tstate = {n: p.detach().numpy() for n, p in tmodel.named_parameters()}
    for name in xf.counterparts({n: v.shape for n, v in tstate.items()}, state):
        np.testing.assert_array_equal(state[name], tstate[name], err_msg=name)
    with torch.no_grad():
        expected = tmodel(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(
        np.asarray(LinenAttention().apply(variables, xj)), expected, rtol=2e-4, atol=2e-5
    )


def test_linen_names_map_like_torch_module_names() -> None:
    """List and dict members (``layers_0``, ``heads_a``) become ``layers.0`` and ``heads.a``,
    as torch's ModuleList/ModuleDict; other names with digits (``ln_1``) are kept."""

    class TorchNamed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)])
            self.ln_1 = nn.LayerNorm(4)
            self.heads = nn.ModuleDict({"a": nn.Linear(4, 2)})

    class LinenNamed(fnn.Module):
        def setup(self) -> None:
            self.layers = [fnn.Dense(4), fnn.Dense(4)]
            self.ln_1 = fnn.LayerNorm()
            self.heads = {"a": fnn.Dense(2)}

        def __call__(self, x: jax.Array) -> jax.Array:
            return self.heads["a"](self.ln_1(self.layers[1](self.layers[0](x))))

    xj = jnp.ones((1, 4))
    variables = xf.init_linen(LinenNamed(), xj, seed=SEED)
    assert set(variables["params"]) == {"layers_0", "layers_1", "ln_1", "heads_a"}
    state = xf.to_canonical((LinenNamed(), variables), xj)
    tmodel = xt.init_module(TorchNamed(), seed=SEED)
    tstate = {n: p.detach().numpy() for n, p in tmodel.named_parameters()}
    assert xf.counterparts({n: v.shape for n, v in tstate.items()}, state) == sorted(tstate)
    for name, value in tstate.items():
        np.testing.assert_array_equal(state[name], value, err_msg=name)
