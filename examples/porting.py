"""Porting: the same model in PyTorch and in Flax (nnx and linen), identical weights, matching outputs.

Write the architecture in both frameworks with the same submodule names,
initialize each with xinit from one seed, and every parameter has the same
values in both (in each framework's layout: a Dense kernel is the Linear weight
transposed, a Conv kernel ``(*k, in, out)`` is torch's ``(out, in, *k)``
permuted). The forward passes agree, and so does a training step, so a port can
be checked number for number from step 0.

Run: python examples/porting.py
"""

from __future__ import annotations

import flax.linen as fnn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import torch
from flax import nnx
from torch import nn

from xinit.adapters.flax import counterparts, init_linen, init_nnx, to_canonical
from xinit.adapters.torch import init_module

SEED, SCHEME = 42, "torch"  # "torch": PyTorch's defaults in both; "flax": Flax's in both


class TorchNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1, groups=2)
        self.norm = nn.GroupNorm(4, 32)
        self.head = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, C, H, W)
        x = torch.relu(self.conv1(x))
        x = torch.relu(self.norm(self.conv2(x)))
        return self.head(x.mean((2, 3)))


class LinenNet(fnn.Module):
    @fnn.compact
    def __call__(self, x: jax.Array) -> jax.Array:  # x: (N, H, W, C)
        x = fnn.relu(fnn.Conv(16, (3, 3), padding=1, name="conv1")(x))
        x = fnn.Conv(32, (3, 3), padding=1, feature_group_count=2, name="conv2")(x)
        x = fnn.relu(fnn.GroupNorm(num_groups=4, epsilon=1e-5, name="norm")(x))
        return fnn.Dense(10, name="head")(x.mean((1, 2)))


class NnxNet(nnx.Module):
    def __init__(self, rngs: nnx.Rngs) -> None:
        self.conv1 = nnx.Conv(3, 16, (3, 3), padding=1, rngs=rngs)
        self.conv2 = nnx.Conv(16, 32, (3, 3), padding=1, feature_group_count=2, rngs=rngs)
        self.norm = nnx.GroupNorm(32, num_groups=4, epsilon=1e-5, rngs=rngs)
        self.head = nnx.Linear(32, 10, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:  # x: (N, H, W, C)
        x = nnx.relu(self.conv1(x))
        x = nnx.relu(self.norm(self.conv2(x)))
        return self.head(x.mean((1, 2)))


def main() -> None:
    images = np.random.default_rng(0).standard_normal((4, 3, 12, 12)).astype(np.float32)
    labels = np.array([1, 3, 5, 7])
    x_torch, x_jax = torch.from_numpy(images), jnp.asarray(images.transpose(0, 2, 3, 1))

    tmodel = init_module(TorchNet(), SCHEME, seed=SEED)
    nmodel = init_nnx(lambda: NnxNet(nnx.Rngs(0)), seed=SEED, scheme=SCHEME)  # abstract build

    # 1. Identical weights: compare by torch name, in torch's layout.
    tstate = {n: p.detach().numpy().copy() for n, p in tmodel.named_parameters()}
    fstate = to_canonical(nmodel)
    names = counterparts({n: v.shape for n, v in tstate.items()}, fstate)  # one to one, or an error
    for name in names:
        np.testing.assert_array_equal(fstate[name], tstate[name], err_msg=name)
    print(
        f"{len(names)} parameters bit-identical in PyTorch and nnx ({SCHEME!r} scheme, seed {SEED})"
    )
    print(
        f"  conv2.weight: torch {tuple(tstate['conv2.weight'].shape)}, nnx {nmodel.conv2.kernel.shape}"
    )

    # 2. Matching forward passes.
    out_t = tmodel(x_torch).detach().numpy()
    out_n = np.asarray(nnx.jit(lambda model, x: model(x))(nmodel, x_jax))
    print(f"forward: max |torch - nnx| = {np.abs(out_t - out_n).max():.1e}")
    np.testing.assert_allclose(out_n, out_t, rtol=1e-4, atol=1e-5)

    # 3. One SGD step in each: the weights still match.
    opt_t = torch.optim.SGD(tmodel.parameters(), lr=0.1)
    loss_t = nn.functional.cross_entropy(tmodel(x_torch), torch.from_numpy(labels))
    loss_t.backward()
    opt_t.step()

    opt_n = nnx.Optimizer(nmodel, optax.sgd(0.1), wrt=nnx.Param)

    @nnx.jit  # one compiled step (op by op, JAX would compile each operation separately)
    def train_step(
        model: NnxNet, optimizer: nnx.Optimizer, x: jax.Array, y: jax.Array
    ) -> jax.Array:
        def loss_fn(model: NnxNet) -> jax.Array:
            return optax.softmax_cross_entropy_with_integer_labels(model(x), y).mean()

        loss, grads = nnx.value_and_grad(loss_fn)(model)
        optimizer.update(model, grads)
        return loss

    loss_n = train_step(nmodel, opt_n, x_jax, jnp.asarray(labels))
    after = to_canonical(nmodel)
    worst = max(np.abs(after[n] - tmodel.get_parameter(n).detach().numpy()).max() for n in names)
    print(
        f"one SGD step: loss torch {loss_t.item():.5f}, nnx {float(loss_n):.5f}; max weight difference {worst:.1e}"
    )
    assert abs(loss_t.item() - float(loss_n)) < 1e-4 and worst < 1e-5

    # 4. linen: the same values again (linen needs an example input for the shapes).
    variables = init_linen(LinenNet(), x_jax, seed=SEED, scheme=SCHEME)
    lstate = to_canonical((LinenNet(), variables), x_jax)
    for name in names:
        np.testing.assert_array_equal(lstate[name], tstate[name], err_msg=name)
    out_l = np.asarray(jax.jit(LinenNet().apply)(variables, x_jax))
    np.testing.assert_allclose(out_l, out_t, rtol=1e-4, atol=1e-5)
    print("linen: the same weights and outputs")
    print("OK: one seed, the same model in PyTorch, nnx and linen")


if __name__ == "__main__":
    main()
