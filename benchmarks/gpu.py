"""GPU runs: CPU-vs-GPU bit identity, and the harness's comparisons on a CUDA device.

On a machine with an NVIDIA GPU, CUDA torch and a CUDA jaxlib, from the repository root::

    python benchmarks/gpu.py --json docs/benchmarks-gpu.json

writes the results as JSON and adds (or replaces) their section in
``docs/benchmarks.md``; ``run.py`` keeps that section when it rewrites the file
(it renders ``docs/benchmarks-gpu.json`` again), and ``--render`` only renders.
``--smoke`` runs everything small, with JAX's CPU device standing in for the GPU
(a check of this script, not a result). ``--merge`` adds the sections run now to
an earlier ``--json`` (with ``--skip`` for the others). Where xinit is not
installed (a device image with another jax: put ``xinit/`` and ``adapters/`` as
``xinit/adapters`` on ``PYTHONPATH``), ``XINIT_SOURCE`` names the commit measured.

What it measures, in one process (CUDA and JAX's GPU client started untimed):

- **Identity**: every initializer, shape, dtype and PRNG implementation in
  :data:`CASES`, generated with the same key on JAX's CPU device and on the GPU,
  compared bit for bit, whole and as windows (and, on the GPU, each window
  against the slice of the whole array); GPT-2-small ``materialize`` on
  ``cpu`` and ``cuda``, and ``init_linen`` with JAX's default device on each.
- **Raw generation** of float32 arrays on the GPU: xinit against ``torch.nn.init``
  on CUDA tensors (allocation included on both sides) and ``jax.nn.initializers``
  (jitted, default key), medians over repeats, synchronized.
- **Models** built with ``torch.device("cuda")`` (torch's default init runs on the
  GPU) against xinit ``materialize(..., device="cuda")`` from the meta device:
  cold (the first call in the process, compiles included) and warm medians
  (interleaved), for GPT-2-small, Llama 1B and Llama 7B, and the peak GPU memory
  of each side (torch's allocator; JAX's ``peak_bytes_in_use``).

JAX's GPU memory is not preallocated (``XLA_PYTHON_CLIENT_PREALLOCATE=false``) so
that torch and JAX share the card, and xinit's compilation cache is off (cold
means compiled).
"""

from __future__ import annotations

import os

os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
os.environ.setdefault("XINIT_COMPILATION_CACHE", "off")

import argparse
import datetime
import gc
import itertools
import json
import platform
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import _measure
import _report
import jax
import jax.numpy as jnp
import models
import numpy as np
import torch

import xinit

ROOT = Path(__file__).resolve().parent.parent

#: (name, initializer, shape): the identity table, run for every dtype and implementation.
CASES: list[tuple[str, xinit.Initializer, tuple[int, ...]]] = [
    ("uniform", xinit.uniform(-0.5, 2.0), (1000, 1000)),
    ("normal", xinit.normal(0.0, 0.02), (1000, 1000)),
    ("trunc_normal", xinit.trunc_normal(0.0, 1.0, -2.0, 2.0), (1000, 1000)),
    ("kaiming_uniform", xinit.kaiming_uniform(5**0.5), (768, 3072)),
    ("kaiming_normal", xinit.kaiming_normal(mode="fan_out"), (64, 64, 3, 3)),
    ("xavier_normal", xinit.xavier_normal(), (1024, 1024)),
    ("lecun_normal", xinit.lecun_normal(), (4096, 256)),
    ("torch_default_bias", xinit.torch_default_bias(), (3072, 768)),
    ("orthogonal", xinit.orthogonal(), (256, 512)),
    ("sparse", xinit.sparse(0.1), (512, 256)),
]
DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16, "float16": jnp.float16}
SIZES = (2**20, 2**24, 2**26, 2**28)
SMOKE_SIZES = (2**12, 2**16)
MODELS = {"gpt2": "full", "llama1b": "full", "llama7b": "full"}
SMOKE_MODELS = {"gpt2": "quick", "llama1b": "quick"}


def _bits(a: Any) -> np.ndarray:
    a = np.asarray(a)
    return a.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize])


def _compare(a: Any, b: Any) -> dict[str, Any]:
    """Bitwise comparison: equal, and where not, how many values differ, by how many
    ulps at most, and the largest difference relative to the array's largest value
    (ulps exaggerate differences of values near zero)."""
    x, y = _bits(a), _bits(b)
    differ = int(np.count_nonzero(x != y))
    out: dict[str, Any] = {"n": int(x.size), "differ": differ}
    if differ:
        out["max_ulp"] = int(np.max(np.abs(x.astype(np.int64) - y.astype(np.int64))))
        fa, fb = np.asarray(a, np.float64), np.asarray(b, np.float64)
        scale = float(np.max(np.abs(fa))) or 1.0
        out["max_rel"] = float(np.max(np.abs(fa - fb))) / scale
    return out


def _on(device: jax.Device, fn: Callable[[], Any]) -> np.ndarray:
    with jax.default_device(device):
        return np.asarray(jax.block_until_ready(fn()))


def identity(cpu: jax.Device, gpu: jax.Device, smoke: bool) -> dict[str, Any]:
    """The same seed on CPU and GPU: every case compared bit for bit.

    float32 for every PRNG implementation; bfloat16 and float16 for the default one.
    """
    runs = [(impl, "float32") for impl in xinit.IMPLS]
    runs += [(xinit.DEFAULT_IMPL, d) for d in DTYPES if d != "float32"]
    rows = []
    for (impl, dname), (name, init, shape) in itertools.product(runs, CASES):
        if smoke:
            shape = tuple(max(1, s // 8) for s in shape)
        dtype = DTYPES[dname]

        def whole(
            init: Any = init, shape: Any = shape, dtype: Any = dtype, impl: str = impl
        ) -> Any:
            return init(xinit.key(7, impl), shape, dtype=dtype)

        row = {"impl": impl, "dtype": dname, "init": name, "shape": list(shape)}
        on_gpu = _on(gpu, whole)
        row["whole"] = _compare(_on(cpu, whole), on_gpu)
        if init.position_stable and impl == "threefry4x32":
            start = int(np.prod(shape)) // 3

            def window(
                init: Any = init, shape: Any = shape, dtype: Any = dtype, start: int = start
            ) -> Any:
                return init.window(xinit.key(7, "threefry4x32"), shape, start, 4096, dtype=dtype)

            gpu_window = _on(gpu, window)
            row["window"] = _compare(_on(cpu, window), gpu_window)
            # and on the GPU alone: the window is the slice of the whole array
            inside = on_gpu.ravel()[start : start + 4096]  # a window may run past the end
            row["window_vs_whole"] = _compare(gpu_window[: inside.size], inside)
        rows.append(row)
    return {"cases": rows, **_adapters(cpu, gpu, smoke)}


def _adapters(cpu: jax.Device, gpu: jax.Device, smoke: bool) -> dict[str, Any]:
    from xinit.adapters.flax import init_linen
    from xinit.adapters.torch import materialize, meta_init

    size = "quick" if smoke else "full"
    cuda = "cuda" if torch.cuda.is_available() else "cpu"
    out: dict[str, Any] = {}
    states = []
    for device in ("cpu", cuda):
        with meta_init():
            m = models.torch_model("gpt2", size)
        materialize(m, "torch", seed=0, device=device)
        states.append({k: v.detach().cpu().numpy() for k, v in m.state_dict().items()})
    out["torch_materialize"] = _sum_compare(states)
    module, x = models.linen_model("gpt2", size)
    trees = []
    for device in (cpu, gpu):
        with jax.default_device(device):
            params = init_linen(module, x, seed=0)
        trees.append(
            {
                jax.tree_util.keystr(p): np.asarray(v)
                for p, v in jax.tree_util.tree_leaves_with_path(params)
            }
        )
    out["flax_init_linen"] = _sum_compare(trees)
    return out


def _sum_compare(pair: list[dict[str, np.ndarray]]) -> dict[str, Any]:
    a, b = pair
    assert a.keys() == b.keys()
    results = {k: _compare(a[k], b[k]) for k in a}
    return {
        "tensors": len(results),
        "values": sum(r["n"] for r in results.values()),
        "tensors_differ": sum(1 for r in results.values() if r["differ"]),
        "values_differ": sum(r["differ"] for r in results.values()),
        "max_ulp": max((r.get("max_ulp", 0) for r in results.values()), default=0),
    }


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _synced(fn: Callable[[], Any]) -> Callable[[], None]:
    """``fn`` that returns only once the GPU is done with its work (JAX's and torch's);
    its result is dropped, so a model is freed as soon as it was timed."""

    def call() -> None:
        out = fn()
        if isinstance(out, jax.Array):
            out.block_until_ready()
        _sync()

    return call


def _timed(fn: Callable[[], Any]) -> float:
    """Seconds of one synchronized call (a cold call, when it is the first)."""
    return _measure.timed(_synced(fn))[0]


def _medians(contestants: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Interleaved rounds after one untimed call each (``_measure.interleaved``): the median of each."""
    synced = {k: _synced(fn) for k, fn in contestants.items()}
    return {k: _measure.median(v) for k, v in _measure.interleaved(synced, repeats).items()}


def raw(gpu: jax.Device, cuda: str, sizes: tuple[int, ...], repeats: int) -> list[dict[str, Any]]:
    """float32 generation on the GPU: xinit vs torch.nn.init vs jax.nn.initializers."""
    rows = []
    key = jax.device_put(xinit.key(0), gpu)
    jkey = jax.device_put(jax.random.key(0), gpu)
    peers = {
        "uniform": (
            xinit.uniform(-1.0, 1.0),
            lambda t: torch.nn.init.uniform_(t, -1.0, 1.0),
            jax.nn.initializers.uniform(1.0),
        ),
        "normal": (
            xinit.normal(0.0, 1.0),
            lambda t: torch.nn.init.normal_(t, 0.0, 1.0),
            jax.nn.initializers.normal(1.0),
        ),
        "trunc_normal": (
            xinit.trunc_normal(0.0, 1.0, -2.0, 2.0),
            lambda t: torch.nn.init.trunc_normal_(t, 0.0, 1.0, -2.0, 2.0),
            jax.nn.initializers.truncated_normal(1.0),
        ),
    }
    for n in sizes:
        for dist, (xi, tinit, jinit) in peers.items():
            jfn = jax.jit(jinit, static_argnums=(1,))
            times = _medians(
                {
                    "xinit": lambda xi=xi, n=n: xi(key, (n,)),
                    "torch": lambda tinit=tinit, n=n: tinit(torch.empty(n, device=cuda)),
                    "jax": lambda jfn=jfn, n=n: jfn(jkey, (n,)),
                },
                repeats,
            )
            rows.append({"n": n, "dist": dist, **times})
            print(f"raw {dist} {n}: {times}", flush=True)
    return rows


def impls(gpu: jax.Device, n: int, repeats: int) -> list[dict[str, Any]]:
    """xinit uniform and normal at ``n`` values for every PRNG implementation, with
    ``jax.random`` on JAX's default implementation as the reference."""
    rows = []
    for impl in xinit.IMPLS:
        key = jax.device_put(xinit.key(0, impl), gpu)
        u, z = xinit.uniform(), xinit.normal()
        times = _medians(
            {
                "uniform": lambda u=u, key=key: u(key, (n,)),
                "normal": lambda z=z, key=key: z(key, (n,)),
            },
            repeats,
        )
        rows.append({"impl": impl, "n": n, **times})
    jkey = jax.device_put(jax.random.key(0), gpu)
    ju = jax.jit(lambda k: jax.random.uniform(k, (n,)))
    jn = jax.jit(lambda k: jax.random.normal(k, (n,)))
    times = _medians({"uniform": lambda: ju(jkey), "normal": lambda: jn(jkey)}, repeats)
    rows.append({"impl": f"jax.random ({jax.config.jax_default_prng_impl})", "n": n, **times})
    return rows


#: Flax's own initialization and xinit's, as run.py's harness measures them (``_case.py``).
FLAX_METHODS = ("flax_linen_init", "xinit_init_linen", "flax_nnx_construct", "xinit_init_nnx")


def flax_runs(sizes: dict[str, str], repeats: int) -> dict[str, Any]:
    """GPT-2-small and ResNet-50 in Flax on the GPU (JAX's default device): cold (the
    first call of each method in this process, compiles included) and warm medians."""
    import _case

    out: dict[str, Any] = {}
    for name, size in sizes.items():
        prepared = {m: _case.METHODS[m].prepare(name, size) for m in FLAX_METHODS}
        entry: dict[str, Any] = {"size": size, "cold": {m: _timed(f) for m, f in prepared.items()}}
        _release()
        entry["warm"] = _medians(prepared, repeats)
        out[name] = entry
        _release()
        print(f"flax {name}: {entry}", flush=True)
    return out


def where_time_goes(cuda: str, sizes: dict[str, str], repeats: int) -> dict[str, Any]:
    """Warm ``materialize`` on CUDA: with and without windows, and a profile.

    Windows (``WHOLE_FROM``) save CPU compiles; on a GPU each window is one more
    dispatch. The profile lists the functions with the most own time over two calls.
    """
    import cProfile
    import pstats

    from xinit.adapters import _generate
    from xinit.adapters.torch import materialize, meta_init

    out: dict[str, Any] = {}
    for name, size in sizes.items():

        def xi(name: str = name, size: str = size) -> None:
            with meta_init():
                m = models.torch_model(name, size)
            materialize(m, "torch", seed=0, device=cuda)

        reps = repeats if name != "llama7b" else max(1, repeats // 2)
        entry: dict[str, Any] = {"windows": _medians({"xinit": xi}, reps)["xinit"]}
        whole_from = _generate.WHOLE_FROM
        _generate.WHOLE_FROM = 0  # every tensor whole: one dispatch per parameter
        try:
            entry["whole"] = _medians({"xinit": xi}, reps)["xinit"]
        finally:
            _generate.WHOLE_FROM = whole_from
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(2):
            xi()
            _sync()
        profile.disable()
        stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
        top = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[:12]
        entry["profile"] = [
            {
                "function": f"{Path(f).name}:{line}({fn})",
                "calls": int(nc),
                "own_s": tt / 2,
                "cumulative_s": ct / 2,
            }
            for (f, line, fn), (cc, nc, tt, ct, _) in top
        ]
        out[name] = entry
        _release()
        print(f"where time goes {name}: {entry['windows']:.3f} / {entry['whole']:.3f}", flush=True)
    return out


def _gpu_peak(gpu: jax.Device) -> int | None:
    stats = gpu.memory_stats() or {}
    return stats.get("peak_bytes_in_use")


def model_runs(gpu: jax.Device, cuda: str, sizes: dict[str, str], repeats: int) -> dict[str, Any]:
    """Each model: torch constructing it on CUDA against xinit materialize on CUDA."""
    from xinit.adapters.torch import materialize, meta_init

    out: dict[str, Any] = {}
    for name, size in sizes.items():

        def construct(name: str = name, size: str = size) -> Any:
            with torch.device(cuda):
                return models.torch_model(name, size)

        def xi(name: str = name, size: str = size) -> Any:
            with meta_init():
                m = models.torch_model(name, size)
            return materialize(m, "torch", seed=0, device=cuda)

        entry: dict[str, Any] = {"size": size}
        m = construct()
        entry["params"] = sum(p.numel() for p in m.parameters())
        entry["tensors"] = sum(1 for _ in m.parameters())
        del m
        _release()
        # cold: the first call in this process for this model (its programs compile)
        entry["cold"] = {"xinit": _timed(xi)}
        _release()
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        entry["cold"]["torch"] = _timed(construct)
        entry["torch_peak"] = (
            torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None
        )
        _release()
        reps = repeats if entry["params"] < 2e9 else max(1, repeats // 2)

        entry["warm"] = _medians({"torch": construct, "xinit": xi}, reps)
        entry["warm_repeats"] = reps
        _release()
        entry["jax_peak"] = _gpu_peak(gpu)
        out[name] = entry
        print(f"model {name}: {entry}", flush=True)
    return out


def _release() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _whole_from() -> int:
    """The adapters' window threshold: tensors under it are generated in windows."""
    from xinit.adapters import _generate

    return _generate.WHOLE_FROM


def versions() -> dict[str, str]:
    import flax

    out = {
        "python": platform.python_version(),
        "jax": jax.__version__,
        "jaxlib": metadata.version("jaxlib"),
        "torch": torch.__version__,
        "flax": flax.__version__,
        "xinit": os.environ.get("XINIT_SOURCE", xinit.__version__),
        "cuda (torch)": str(torch.version.cuda),
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, required=True, help="where to write the results")
    parser.add_argument(
        "--render", action="store_true", help="only put the results in --json into --md"
    )
    parser.add_argument("--md", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--smoke", action="store_true", help="small, with the CPU as the GPU")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["models", "identity", "raw", "impls", "flax", "time"],
    )
    parser.add_argument(
        "--merge", action="store_true", help="keep the sections of an existing --json not run now"
    )
    args = parser.parse_args()
    if args.render:
        _report.write_gpu_section(args.md, json.loads(args.json.read_text()))
        print(f"wrote the GPU section of {args.md}")
        return
    cpu = jax.devices("cpu")[0]
    gpu = cpu if args.smoke else jax.devices("gpu")[0]
    cuda = "cuda" if torch.cuda.is_available() and not args.smoke else "cpu"
    torch.zeros(1, device=cuda)  # start CUDA untimed
    jax.block_until_ready(jax.device_put(jnp.zeros(1), gpu) + 1)  # and JAX's client
    results: dict[str, Any] = {
        "meta": {
            "date": datetime.datetime.now().astimezone().isoformat(timespec="minutes"),
            "command": "python benchmarks/gpu.py --json docs/benchmarks-gpu.json",
            "smoke": args.smoke,
            "gpu": gpu.device_kind,
            "torch_device": torch.cuda.get_device_name() if cuda == "cuda" else "cpu",
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "versions": versions(),
            "repeats": args.repeats,
            "whole_from": _whole_from(),
        }
    }
    if args.merge and args.json.exists():
        earlier = json.loads(args.json.read_text())
        results = {**earlier, "meta": {**earlier["meta"], "merged": results["meta"]}}
    t0 = time.perf_counter()

    def save() -> None:
        results["meta"]["duration_s"] = time.perf_counter() - t0
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))

    sections: dict[str, Callable[[], Any]] = {
        # models first: their cold call is the first time the process compiles their programs
        "models": lambda: model_runs(
            gpu, cuda, SMOKE_MODELS if args.smoke else MODELS, args.repeats
        ),
        "identity": lambda: identity(cpu, gpu, args.smoke),
        "raw": lambda: raw(gpu, cuda, SMOKE_SIZES if args.smoke else SIZES, args.repeats),
        "impls": lambda: impls(gpu, (SMOKE_SIZES if args.smoke else SIZES)[-1], args.repeats),
        "flax": lambda: flax_runs(
            {"gpt2": "quick"} if args.smoke else {"gpt2": "full", "resnet50": "full"}, args.repeats
        ),
        "time": lambda: where_time_goes(
            cuda, SMOKE_MODELS if args.smoke else {"gpt2": "full", "llama7b": "full"}, args.repeats
        ),
    }
    for name, run in sections.items():
        if name in args.skip:
            continue
        try:
            results[name] = run()
        except Exception as exc:  # keep the other sections' results
            results.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"
            print(f"{name} failed: {exc!r}", flush=True)
        save()
        print(f"{name} done at {time.perf_counter() - t0:.0f} s", flush=True)
    if args.md.exists():
        _report.write_gpu_section(args.md, results)
    print(f"wrote {args.json} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
