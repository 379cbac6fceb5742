"""Measure the PRNG implementations that xinit can use, against torch, in one run.

Usage (from the repository root, after `bash scripts/test` or scripts/setup.sh):

    .venv/bin/python benchmarks/prng_impls.py [--elements 16777216] [--repeats 7]

Writes docs/benchmarks-prng.md: median seconds per call of xinit's uniform and
normal initializers for each JAX PRNG implementation (compiled, warm), next to
torch's uniform_ / normal_ on the same machine, and the ratio of torch's time to
xinit's (above 1: xinit is faster). This is the measurement behind
xinit.DEFAULT_IMPL (docs/spec.md).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import jax
import numpy as np
import torch

import xinit


def _median_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up: compile and allocate
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elements", type=int, default=1 << 24)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "docs" / "benchmarks-prng.md",
    )
    args = parser.parse_args()
    n = args.elements
    shape = (n // 1024, 1024)

    buf = torch.empty(shape)
    torch_uniform = _median_seconds(lambda: buf.uniform_(-1.0, 1.0), args.repeats)
    torch_normal = _median_seconds(lambda: buf.normal_(0.0, 1.0), args.repeats)

    rows = []
    for impl in xinit.IMPLS:
        key = xinit.key(0, impl=impl)
        uni, nor = xinit.uniform(-1.0, 1.0), xinit.normal(0.0, 1.0)
        tu = _median_seconds(lambda: uni(key, shape).block_until_ready(), args.repeats)  # noqa: B023
        tn = _median_seconds(lambda: nor(key, shape).block_until_ready(), args.repeats)  # noqa: B023
        bits = np.asarray(jax.random.key_data(key)).size * 32
        rows.append((impl, bits, tu, tn))
        print(f"{impl:14s} uniform {tu * 1e3:7.1f} ms  normal {tn * 1e3:7.1f} ms")
    print(
        f"{'torch':14s} uniform {torch_uniform * 1e3:7.1f} ms  normal {torch_normal * 1e3:7.1f} ms"
    )

    lines = [
        "# PRNG implementations: generation speed",
        "",
        f"Measured {datetime.date.today().isoformat()} on {platform.machine()} with {os.cpu_count()} CPUs, "
        f"jax {jax.__version__} ({jax.default_backend()}), torch {torch.__version__}, xinit {xinit.__version__}.",
        f"{n:,} float32 elements per call, median of {args.repeats} warm calls, measured side by side in one process.",
        "Reproduce: `.venv/bin/python benchmarks/prng_impls.py` (after `bash scripts/test` has set up `.venv`).",
        "",
        "| implementation | key bits | xinit.uniform ms | vs torch uniform_ | xinit.normal ms | vs torch normal_ |",
        "|---|---|---|---|---|---|",
    ]
    for impl, bits, tu, tn in rows:
        mark = " (default)" if impl == xinit.DEFAULT_IMPL else ""
        lines.append(
            f"| {impl}{mark} | {bits} | {tu * 1e3:.1f} | {torch_uniform / tu:.2f}x | {tn * 1e3:.1f} | {torch_normal / tn:.2f}x |"
        )
    lines += [
        f"| torch `uniform_` / `normal_` | - | {torch_uniform * 1e3:.1f} | 1.00x | {torch_normal * 1e3:.1f} | 1.00x |",
        "",
        "\"vs torch\" is torch's time divided by xinit's: above 1.00x xinit is faster.",
        "",
    ]
    args.out.write_text("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
