"""GPT-2-small-shaped model: PyTorch construction vs xinit init_module / materialize.

Run: .venv/bin/python benchmarks/torch_gpt2.py [--repeats 3]

Prints the median wall time of each way of getting an initialized model and
its ratio to PyTorch's construction measured in the same run (the machines are
shared and noisy: compare ratios, not seconds). The first xinit call of a
process includes compiling one program per (initializer, shape, dtype);
"warm" runs reuse them.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from xinit.adapters.torch import init_module, materialize


class Block(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.attn = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.fc_proj = nn.Linear(4 * d, d)


class GPT2(nn.Module):
    def __init__(self, vocab: int = 50257, ctx: int = 1024, d: int = 768, n: int = 12) -> None:
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(ctx, d)
        self.h = nn.ModuleList(Block(d) for _ in range(n))
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        self.lm_head.weight = self.wte.weight


def _time(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    def meta_model() -> nn.Module:
        with torch.device("meta"):
            return GPT2()

    cold_materialize = _time(lambda: materialize(meta_model(), seed=0))
    rows: dict[str, list[float]] = {"torch construct": [], "xinit materialize (warm)": [],
                                    "xinit init_module (warm)": []}
    model = GPT2()
    for _ in range(args.repeats):
        rows["torch construct"].append(_time(GPT2))
        rows["xinit materialize (warm)"].append(_time(lambda: materialize(meta_model(), seed=0)))
        rows["xinit init_module (warm)"].append(_time(lambda: init_module(model, seed=0)))
    base = statistics.median(rows["torch construct"])
    n_params = sum(p.numel() for p in model.parameters())
    print(f"GPT-2-small shape: {n_params / 1e6:.1f}M parameters, {torch.get_num_threads()} threads")
    print(f"{'what':32} {'median s':>9} {'x torch':>8}")
    print(f"{'xinit materialize (cold)':32} {cold_materialize:9.3f} {cold_materialize / base:8.2f}")
    for name, times in rows.items():
        med = statistics.median(times)
        print(f"{name:32} {med:9.3f} {med / base:8.2f}")


if __name__ == "__main__":
    main()
