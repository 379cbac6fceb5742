"""Initialize a large model from the meta device: no throwaway init, no second copy.

Building a model normally runs PyTorch's default init on every layer, and a
recipe then overwrites it (``model.apply(init_weights)``). Under
``torch.device("meta")`` nothing is allocated; ``materialize`` then gives every
parameter its values straight from JAX, with GPT-2's recipe, and ties the
output head to the embedding again.

    python examples/meta_init.py               # a small GPT (seconds; what the tests run)
    python examples/meta_init.py --size gpt2   # GPT-2 small's shape: 124M parameters
    XINIT_EXAMPLE_SIZE=gpt2 python examples/meta_init.py
"""

from __future__ import annotations

import argparse
import math
import os
import time

import torch
from torch import nn

import xinit
from xinit.adapters.torch import Rule, Rules, materialize

SIZES = {
    # name: (layers, width, heads, vocab, context)
    "small": (2, 128, 4, 1000, 64),
    "gpt2": (12, 768, 12, 50257, 1024),
}


class Block(nn.Module):
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.ln_1, self.ln_2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = nn.ModuleDict({"c_attn": nn.Linear(d, 3 * d), "c_proj": nn.Linear(d, d)})
        self.mlp = nn.ModuleDict({"c_fc": nn.Linear(d, 4 * d), "c_proj": nn.Linear(4 * d, d)})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.attn["c_attn"](self.ln_1(x)).split(d, dim=2)
        q, k, v = (a.view(b, t, self.heads, d // self.heads).transpose(1, 2) for a in (q, k, v))
        y = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.attn["c_proj"](y.transpose(1, 2).reshape(b, t, d))
        h = nn.functional.gelu(self.mlp["c_fc"](self.ln_2(x)), approximate="tanh")
        return x + self.mlp["c_proj"](h)


class GPT(nn.Module):
    def __init__(self, layers: int, d: int, heads: int, vocab: int, context: int) -> None:
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(context, d)
        self.h = nn.ModuleList([Block(d, heads) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        self.lm_head.weight = self.wte.weight  # tied, as in GPT-2

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1], device=idx.device))
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))


def gpt2_recipe(layers: int) -> Rules:
    """GPT-2's init: N(0, 0.02) weights, residual projections scaled by 1/sqrt(2 * layers)."""
    return Rules(
        Rule(xinit.normal(0.0, 0.02 / math.sqrt(2 * layers)), name="*.c_proj.weight"),
        Rule(xinit.normal(0.0, 0.02), module=("linear", "embedding"), name="weight"),
        Rule(xinit.zeros(), name="bias"),
        fallback="torch",  # LayerNorm: ones and zeros
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size", choices=SIZES, default=os.environ.get("XINIT_EXAMPLE_SIZE", "small")
    )
    args = parser.parse_args()
    layers, d, heads, vocab, context = SIZES[args.size]

    with torch.device("meta"):  # torch loads its meta kernels on first use (~1 s, once)
        nn.Embedding(2, 2)
    start = time.perf_counter()
    with torch.device("meta"):
        model = GPT(layers, d, heads, vocab, context)  # shapes only: nothing allocated, no init
    built = time.perf_counter() - start
    start = time.perf_counter()
    materialize(model, gpt2_recipe(layers), seed=0)  # real CPU parameters, straight from JAX
    filled = time.perf_counter() - start

    n = sum(p.numel() for p in model.parameters())
    print(f"GPT ({args.size}): {layers} layers, width {d}, {n / 1e6:.1f}M parameters")
    print(f"  build on the meta device   {built * 1e3:8.1f} ms")
    print(f"  materialize (first call)   {filled * 1e3:8.1f} ms  (includes compiling)")
    if args.size != "small":  # again (compiled), and PyTorch's eager build for comparison
        with torch.device("meta"):
            again = GPT(layers, d, heads, vocab, context)
        start = time.perf_counter()
        materialize(again, gpt2_recipe(layers), seed=0)
        print(f"  materialize (compiled)     {(time.perf_counter() - start) * 1e3:8.1f} ms")
        del again
        start = time.perf_counter()
        GPT(layers, d, heads, vocab, context)
        print(
            f"  PyTorch eager build        {(time.perf_counter() - start) * 1e3:8.1f} ms"
            "  (its default init only, before any recipe)"
        )

    assert not any(p.is_meta for p in model.parameters())
    assert model.lm_head.weight is model.wte.weight, "the head is tied to the embedding again"
    proj = model.h[0].mlp["c_proj"].weight.detach()
    fc = model.h[0].mlp["c_fc"].weight.detach()
    print(f"  mlp.c_fc.weight   std {fc.std().item():.5f}  (GPT-2: 0.02)")
    print(
        f"  mlp.c_proj.weight std {proj.std().item():.5f}  (GPT-2: 0.02/sqrt(2*{layers}) = {0.02 / math.sqrt(2 * layers):.5f})"
    )
    assert abs(fc.std().item() - 0.02) < 0.001
    assert abs(proj.std().item() - 0.02 / math.sqrt(2 * layers)) < 0.001
    assert not model.h[0].attn["c_attn"].bias.any()
    assert torch.equal(model.ln_f.weight, torch.ones(d))

    with torch.no_grad():
        logits = model(torch.randint(0, vocab, (1, 16)))
    assert logits.shape == (1, 16, vocab) and torch.isfinite(logits).all()
    print("OK: materialized from the meta device, tied, GPT-2's init")


if __name__ == "__main__":
    main()
