"""One whole-model case in a fresh process: how a method initializes a model, timed.

Run by ``run.py`` as a child process (one per measurement that needs a fresh
process); prints one ``RESULT <json>`` line (``_measure.emit``).

Two modes:

- ``--calls N`` (cold): imports, starts the JAX runtime, prepares the method,
  then calls it N times. Call 1 is the cold call (compiles included, unless the
  persistent cache has them); its peak resident memory is measured from a
  baseline taken after imports, JAX runtime start and the method's untimed
  set-up. Later calls are warm. Every call records the JAX programs it compiled.
- ``--warm R --methods a,b``: every method once (untimed), then R interleaved
  rounds: warm medians measured side by side.

``XINIT_COMPILATION_CACHE`` (set by ``run.py``) controls xinit's persistent
compilation cache. For Flax's own initializers, which never call xinit, a
directory there is configured in JAX directly, the same way xinit does
(``jax_compilation_cache_dir`` and a minimum compile time of 0), so both sides
get the same cache.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import time
from collections.abc import Callable
from typing import Any

import _measure

Prepared = Callable[[], object]

#: Seconds spent building modules on the meta device, per call (``materialize`` only).
META_BUILD: list[float] = []


@dataclasses.dataclass(frozen=True)
class Method:
    """A way of getting an initialized model.

    Attributes:
      label: how the report names it.
      flax: whether it needs Flax.
      xinit: whether it is xinit's (else a peer).
      prepare: ``prepare(model, size)`` does the untimed set-up and returns the
        timed call, which returns the initialized model (values ready).
    """

    label: str
    flax: bool
    xinit: bool
    prepare: Callable[[str, str], Prepared]


def _torch_construct(model: str, size: str) -> Prepared:
    import models

    return lambda: models.torch_model(model, size)


def _torch_construct_init(model: str, size: str) -> Prepared:
    import models

    return lambda: models.torch_recipe(models.torch_model(model, size))


def _xinit_materialize(model: str, size: str, scheme: Any = "torch") -> Prepared:
    import models

    from xinit.adapters.torch import materialize, meta_init

    def call() -> object:
        t = time.perf_counter()
        with meta_init():  # the meta device, without torch's own init calls
            m = models.torch_model(model, size)
        META_BUILD.append(time.perf_counter() - t)
        return materialize(m, scheme, seed=0)

    return call


def _xinit_materialize_recipe(model: str, size: str) -> Prepared:
    import models

    return _xinit_materialize(model, size, models.xinit_recipe())


def _xinit_init_module(model: str, size: str) -> Prepared:
    import models

    from xinit.adapters.torch import init_module

    m = models.torch_model(model, size)  # constructed untimed: only init_module is timed
    return lambda: init_module(m, "torch", seed=0)


def _flax_linen_init(model: str, size: str) -> Prepared:
    import jax
    import models

    module, x = models.linen_model(model, size)
    init = jax.jit(module.init)  # as Flax users do; the first call compiles
    key = jax.random.key(0)
    return lambda: jax.block_until_ready(init(key, x))


def _xinit_init_linen(model: str, size: str) -> Prepared:
    import jax
    import models

    from xinit.adapters.flax import init_linen

    module, x = models.linen_model(model, size)
    return lambda: jax.block_until_ready(init_linen(module, x, seed=0))


def _flax_nnx_construct(model: str, size: str) -> Prepared:
    import jax
    import models
    from flax import nnx

    def call() -> object:
        m = models.nnx_model(model, size)
        jax.block_until_ready(nnx.state(m))
        return m

    return call


def _xinit_init_nnx(model: str, size: str) -> Prepared:
    import jax
    import models
    from flax import nnx

    from xinit.adapters.flax import init_nnx

    def call() -> object:
        m = init_nnx(models.nnx_factory(model, size), seed=0)
        jax.block_until_ready(nnx.state(m))
        return m

    return call


METHODS: dict[str, Method] = {
    "torch_construct": Method("torch: construct", False, False, _torch_construct),
    "torch_construct_init": Method(
        "torch: construct + nn.init recipe", False, False, _torch_construct_init
    ),
    "xinit_materialize": Method("xinit: materialize", False, True, _xinit_materialize),
    "xinit_materialize_recipe": Method(
        "xinit: materialize, recipe rules", False, True, _xinit_materialize_recipe
    ),
    "xinit_init_module": Method("xinit: init_module", False, True, _xinit_init_module),
    "flax_linen_init": Method("Flax: jax.jit(model.init)", True, False, _flax_linen_init),
    "xinit_init_linen": Method("xinit: init_linen", True, True, _xinit_init_linen),
    "flax_nnx_construct": Method("Flax: nnx construction", True, False, _flax_nnx_construct),
    "xinit_init_nnx": Method("xinit: init_nnx", True, True, _xinit_init_nnx),
}


def _start(need_flax: bool, flax_cache: bool) -> dict[str, float]:
    """Import everything, start the JAX runtime; the time and resident memory of each step."""
    out: dict[str, float] = {"rss_python": _measure.current_rss()}
    t = time.perf_counter()
    import torch  # noqa: F401

    out["import_torch_s"] = time.perf_counter() - t
    out["rss_torch"] = _measure.current_rss()
    t = time.perf_counter()
    import jax
    import jax.numpy as jnp

    import xinit.adapters.torch  # noqa: F401

    out["import_jax_xinit_s"] = time.perf_counter() - t
    out["rss_imports"] = _measure.current_rss()
    t = time.perf_counter()
    jax.block_until_ready(jnp.zeros(4) + 1)  # creates the CPU client, compiles one tiny program
    out["runtime_start_s"] = time.perf_counter() - t
    out["rss_runtime"] = _measure.current_rss()
    if need_flax:
        t = time.perf_counter()
        import flax.linen  # noqa: F401
        from flax import nnx  # noqa: F401

        out["import_flax_s"] = time.perf_counter() - t
    cache = os.environ.get("XINIT_COMPILATION_CACHE", "off")
    if flax_cache and cache.lower() not in ("", "0", "off", "false", "no", "none"):
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_compilation_cache_dir", cache)
    return out


def _call_record(fn: Prepared) -> tuple[dict[str, Any], object]:
    META_BUILD.clear()
    with _measure.JaxEvents() as ev:
        seconds, out = _measure.timed(fn)
    return {"s": seconds, "meta_build_s": sum(META_BUILD), **dataclasses.asdict(ev.stats)}, out


def cold(model: str, size: str, method: str, calls: int) -> dict[str, Any]:
    """Call 1 in this fresh process is cold; calls 2..N are warm. Memory from call 1."""
    m = METHODS[method]
    result: dict[str, Any] = {"start": _start(m.flax, flax_cache=not m.xinit)}
    fn = m.prepare(model, size)
    gc.collect()
    result["peak_reset"] = _measure.reset_peak_rss()
    base = _measure.current_rss() if result["peak_reset"] else _measure.peak_rss()
    records = []
    for i in range(calls):
        rec, out = _call_record(fn)
        if i == 0:
            result["rss_baseline"] = base
            result["rss_peak"] = _measure.peak_rss()
        del out
        gc.collect()
        records.append(rec)
    result["calls"] = records
    return result


def warm(model: str, size: str, methods: list[str], repeats: int) -> dict[str, Any]:
    """Every method once, then ``repeats`` interleaved rounds: warm times and compiles."""
    _start(any(METHODS[m].flax for m in methods), flax_cache=False)
    compiled: dict[str, list[int]] = {m: [] for m in methods}

    def counting(name: str, fn: Prepared) -> Prepared:
        def call() -> object:
            with _measure.JaxEvents() as ev:
                out = fn()
            compiled[name].append(ev.stats.programs)
            return out

        return call

    fns = {m: counting(m, METHODS[m].prepare(model, size)) for m in methods}
    times = _measure.interleaved(fns, repeats, warmup=1)
    return {"times": times, "programs": {m: c[1:] for m, c in compiled.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--size", default="full")
    parser.add_argument("--method", choices=sorted(METHODS), help="cold mode: one method")
    parser.add_argument("--calls", type=int, default=2, help="cold mode: calls in this process")
    parser.add_argument("--warm", type=int, metavar="R", help="warm mode: R interleaved rounds")
    parser.add_argument("--methods", help="warm mode: comma-separated methods")
    parser.add_argument("--tag", help="ignored: tells two otherwise identical runs apart")
    args = parser.parse_args()
    if args.warm is not None:
        _measure.emit(warm(args.model, args.size, args.methods.split(","), args.warm))
    else:
        _measure.emit(cold(args.model, args.size, args.method, args.calls))


if __name__ == "__main__":
    main()
