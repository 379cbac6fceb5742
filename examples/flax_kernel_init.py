"""A Flax user: xinit initializers as ``kernel_init``, ``bias_init`` and ``embedding_init``.

``as_flax(init, layout)`` turns any xinit initializer into a Flax initializer
``(key, shape, dtype)`` whose fans come from the Flax layer's layout
(``"dense"``, ``"conv"``, ``"embed"``, ...). For the schemes
``jax.nn.initializers`` has, the values are bit-identical to it; xinit adds
torch's semantics (``kaiming_*`` with torch's gains, torch's truncated normal,
``torch_kernel``/``torch_bias``: PyTorch's Linear defaults, with the bias
bounded by the weight's fan_in).

Run: python examples/flax_kernel_init.py
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

import xinit
from xinit.adapters.flax import as_flax, torch_bias, torch_kernel


class LinenCNN(nn.Module):
    """linen: initializers are constructor arguments."""

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        he = as_flax(xinit.kaiming_normal(mode="fan_out", nonlinearity="relu"), "conv")
        x = nn.relu(
            nn.Conv(32, (3, 3), kernel_init=he, bias_init=as_flax(xinit.zeros()), name="conv")(x)
        )
        x = x.mean(axis=(1, 2))
        # PyTorch's nn.Linear(32, 10) defaults, for a port that must start like the original:
        return nn.Dense(
            10, kernel_init=torch_kernel(), bias_init=torch_bias(fan_in=32), name="head"
        )(x)


class NnxMLP(nnx.Module):
    """nnx: the same initializers, passed to nnx layers."""

    def __init__(self, rngs: nnx.Rngs) -> None:
        self.emb = nnx.Embed(
            100, 64, embedding_init=as_flax(xinit.normal(0.0, 0.02), "embed"), rngs=rngs
        )
        self.fc = nnx.Linear(
            64, 256, kernel_init=as_flax(xinit.orthogonal(gain=math.sqrt(2))), rngs=rngs
        )
        self.out = nnx.Linear(
            256, 64, kernel_init=as_flax(xinit.trunc_normal(std=0.02, a=-0.04, b=0.04)), rngs=rngs
        )

    def __call__(self, idx: jax.Array) -> jax.Array:
        return self.out(nnx.relu(self.fc(self.emb(idx))))


def main() -> None:
    # 1. Bit-identical to jax.nn.initializers where JAX has the scheme.
    key = jax.random.key(0)
    ours = as_flax(xinit.lecun_normal())(key, (128, 64))
    theirs = jax.nn.initializers.lecun_normal()(key, (128, 64))
    identical = bool(np.array_equal(np.asarray(ours), np.asarray(theirs)))
    print(f"as_flax(xinit.lecun_normal()) == jax.nn.initializers.lecun_normal(): {identical}")
    assert identical

    # 2. linen: fans from the Flax layout ((*k, in, out) for Conv, (in, out) for Dense).
    params = jax.jit(LinenCNN().init)(jax.random.key(1), jnp.ones((1, 8, 8, 3)))["params"]
    conv, head = params["conv"]["kernel"], params["head"]
    want_conv = math.sqrt(2 / (32 * 3 * 3))  # kaiming, fan_out = out * k * k
    bound = 1 / math.sqrt(32)  # torch's Linear default: U(±1/sqrt(fan_in)), weight and bias
    print(
        f"linen Conv kernel {conv.shape}: std {float(conv.std()):.4f} (kaiming fan_out: {want_conv:.4f})"
    )
    print(
        f"linen Dense kernel {head['kernel'].shape}: max |w| {float(abs(head['kernel']).max()):.4f} <= {bound:.4f}"
    )
    assert abs(float(conv.std()) - want_conv) < 0.1 * want_conv
    assert float(abs(head["kernel"]).max()) <= bound and float(abs(head["bias"]).max()) <= bound
    assert not params["conv"]["bias"].any()

    # 3. nnx.
    model = NnxMLP(nnx.Rngs(2))
    w = np.asarray(model.fc.kernel[...])
    gram = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
    print(
        f"nnx orthogonal kernel {w.shape}: W^T W = 2 I: {np.allclose(gram, 2 * np.eye(len(gram)), atol=1e-4)}"
    )
    assert np.allclose(gram, 2 * np.eye(len(gram)), atol=1e-4)
    out = np.asarray(model.out.kernel[...])
    print(f"nnx trunc_normal kernel: within [-0.04, 0.04]: {bool(np.all(np.abs(out) <= 0.04))}")
    assert np.all(np.abs(out) <= 0.04)
    emb = np.asarray(model.emb.embedding[...])
    print(f"nnx Embed: std {emb.std():.4f} (0.02)")
    assert abs(emb.std() - 0.02) < 0.002
    assert model(jnp.arange(5)).shape == (5, 64)
    print("OK: xinit initializers in linen and nnx")


if __name__ == "__main__":
    main()
