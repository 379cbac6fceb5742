"""Raw generation: xinit vs ``torch.nn.init`` vs ``jax.nn.initializers``, one array at a time.

Run by ``run.py`` in a child process; prints one ``RESULT <json>`` line.

For each size, every contestant is timed side by side (interleaved rounds,
``_measure.interleaved``) after an untimed first call:

- xinit ``uniform(0, 1)``, ``normal(0, 1)``, ``trunc_normal(0, 1, -2, 2)`` called as
  ``init(key, shape)`` with ``xinit.key(0, impl=...)`` for every implementation in
  ``xinit.IMPLS``, waited for with ``jax.block_until_ready``;
- ``jax.nn.initializers`` ``uniform(1)``, ``normal(1)``,
  ``truncated_normal(1, lower=-2, upper=2)`` under ``jax.jit`` (shape static) with
  ``jax.random.key(0, impl=...)``, the same implementation;
- ``torch.nn.init`` ``uniform_``, ``normal_``, ``trunc_normal_`` on a new
  ``torch.empty`` each call (allocation included, as for JAX, which returns a new
  array); for reference also on one reused buffer (``in place``) and with
  ``torch.set_num_threads(1)`` (OpenMP's parallel regions stall when another
  process holds a core of this shared 2-core machine).

Shapes are ``(n // 1024, 1024)``. Orthogonal matrices (square) use the default
implementation only: their time is the QR decomposition's. The first call of
each xinit initializer is measured separately: JAX's trace, lowering and XLA
compile seconds (``_measure.JaxEvents``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import _measure
import jax
import torch

import xinit

DISTS = ("uniform", "normal", "trunc_normal")


def _xinit(dist: str) -> xinit.Initializer:
    return {
        "uniform": xinit.uniform(0.0, 1.0),
        "normal": xinit.normal(0.0, 1.0),
        "trunc_normal": xinit.trunc_normal(0.0, 1.0, -2.0, 2.0),
    }[dist]


def _jax(dist: str) -> Callable[..., jax.Array]:
    init = {
        "uniform": jax.nn.initializers.uniform(1.0),
        "normal": jax.nn.initializers.normal(1.0),
        "trunc_normal": jax.nn.initializers.truncated_normal(1.0, lower=-2.0, upper=2.0),
    }[dist]
    return jax.jit(init, static_argnums=1)


def _torch(dist: str) -> Callable[[torch.Tensor], torch.Tensor]:
    return {
        "uniform": lambda t: torch.nn.init.uniform_(t, 0.0, 1.0),
        "normal": lambda t: torch.nn.init.normal_(t, 0.0, 1.0),
        "trunc_normal": lambda t: torch.nn.init.trunc_normal_(t, 0.0, 1.0, -2.0, 2.0),
    }[dist]


def _one_thread(fn: Callable[[], object]) -> object:
    """Run ``fn`` with torch limited to one thread (no OpenMP parallel region to wait on)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return fn()
    finally:
        torch.set_num_threads(threads)


def _first_call(fn: Callable[[], object]) -> dict[str, float]:
    with _measure.JaxEvents() as ev:
        seconds, _ = _measure.timed(fn)
    s = ev.stats
    return {"s": seconds, "compile_s": s.trace_s + s.lower_s + s.compile_s, "programs": s.programs}


def generation(n: int, repeats: int) -> dict[str, Any]:
    """Every distribution, implementation and library at ``n`` float32 elements."""
    shape = (n // 1024, 1024) if n >= 1024 else (n,)
    fns: dict[str, Callable[[], object]] = {}
    first: dict[str, dict[str, float]] = {}
    buf = torch.empty(shape)
    for dist in DISTS:
        t = _torch(dist)
        fns[f"torch/{dist}"] = lambda t=t: t(torch.empty(shape))
        fns[f"torch_inplace/{dist}"] = lambda t=t: t(buf)
        fns[f"torch_1thread/{dist}"] = lambda t=t: _one_thread(lambda: t(torch.empty(shape)))
    for impl in xinit.IMPLS:
        key, jkey = xinit.key(0, impl=impl), jax.random.key(0, impl=impl)
        for dist in DISTS:
            x, j = _xinit(dist), _jax(dist)
            name = f"xinit/{impl}/{dist}"
            fns[name] = lambda x=x, key=key: jax.block_until_ready(x(key, shape))
            first[name] = _first_call(fns[name])
            fns[f"jax/{impl}/{dist}"] = lambda j=j, jkey=jkey: jax.block_until_ready(j(jkey, shape))
    times = _measure.interleaved(fns, repeats, warmup=1)
    return {"n": n, "shape": list(shape), "times": times, "first": first}


def orthogonal(n: int, repeats: int) -> dict[str, Any]:
    """xinit, torch and JAX orthogonal ``n x n`` matrices (default implementation)."""
    key, jkey = xinit.key(0), jax.random.key(0, impl=xinit.DEFAULT_IMPL)
    x, j = xinit.orthogonal(), jax.jit(jax.nn.initializers.orthogonal(), static_argnums=1)
    fns: dict[str, Callable[[], object]] = {
        "xinit": lambda: jax.block_until_ready(x(key, (n, n))),
        "jax": lambda: jax.block_until_ready(j(jkey, (n, n))),
        "torch": lambda: torch.nn.init.orthogonal_(torch.empty(n, n)),
    }
    first = {"xinit": _first_call(fns["xinit"])}
    return {"n": n, "times": _measure.interleaved(fns, repeats, warmup=1), "first": first}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", required=True, help="comma-separated element counts")
    parser.add_argument("--orthogonal", required=True, help="comma-separated matrix sizes")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--orthogonal-repeats", type=int, default=3)
    args = parser.parse_args()
    _measure.emit(
        {
            "torch_threads": torch.get_num_threads(),
            "default_impl": xinit.DEFAULT_IMPL,
            "generation": [generation(int(n), args.repeats) for n in args.sizes.split(",")],
            "orthogonal": [
                orthogonal(int(n), args.orthogonal_repeats) for n in args.orthogonal.split(",")
            ],
        }
    )


if __name__ == "__main__":
    main()
