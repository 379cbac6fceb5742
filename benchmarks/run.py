"""Run xinit's benchmarks and write docs/benchmarks.md and docs/benchmarks.png.

Usage, from the repository root (after ``bash scripts/setup.sh``):

    .venv/bin/python benchmarks/run.py            # everything (about 20 minutes on 2 cores)
    .venv/bin/python benchmarks/run.py --quick    # smoke run: small sizes, 1 repeat
    .venv/bin/python benchmarks/run.py --only raw # one section: raw, models or compiles

Sections:

- ``raw``: generating one array (1M, 16M, 64M float32 elements; orthogonal
  512x512 and 4096x4096) with xinit for each PRNG implementation, with
  ``torch.nn.init`` and with ``jax.nn.initializers`` (``_raw.py``);
- ``models``: whole models (``models.py``: GPT-2-small, ResNet-50, a 1B
  Llama shape) initialized by xinit and by their frameworks: cold (a fresh
  process, no compilation cache), warm (repeated calls in one process, side
  by side), a fresh process with a warm persistent compilation cache, and
  peak resident memory (``_case.py``);
- ``compiles``: programs JAX compiles for the first and the second
  initialization of a model of the same shapes.

Every measurement that needs a fresh process runs in one (``_case.py`` and
``_raw.py`` are the child scripts); comparisons are side by side in the same
run and reported as ratios to the peer, with medians over repeats.
A full run writes into docs/; ``--quick`` and ``--only`` runs write into a
temporary directory unless ``--out-dir`` is given. GPU results come from
``gpu.py`` (run on a machine with an NVIDIA GPU); their section, rendered from
``docs/benchmarks-gpu.json``, is kept when this script rewrites benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import _measure
import _report

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SECTIONS = ("raw", "models", "compiles")

#: Every method benchmarked per model (``_case.METHODS``); Flax rows only where models has Flax.
METHODS = {
    "gpt2": [
        "torch_construct",
        "torch_construct_init",
        "xinit_materialize",
        "xinit_materialize_recipe",
        "xinit_init_module",
        "flax_linen_init",
        "xinit_init_linen",
        "flax_nnx_construct",
        "xinit_init_nnx",
    ],
}
METHODS["resnet50"] = METHODS["gpt2"]
METHODS["llama1b"] = ["torch_construct", "xinit_materialize"]

#: Methods measured in a fresh process with a warm persistent compilation cache.
CACHED = ["xinit_materialize", "xinit_init_linen", "xinit_init_nnx", "flax_linen_init"]

#: Methods whose compile counts section 3 reports.
COMPILES = ["xinit_materialize", "xinit_init_module", "xinit_init_linen", "xinit_init_nnx"]


class Runner:
    """Runs child processes, once per distinct argument list, and logs progress."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.results: dict[tuple[str, ...], Any] = {}
        self.start = time.perf_counter()

    def __call__(self, script: str, args: Sequence[str], cache: str = "off") -> Any:
        """The JSON result of ``script args`` in a fresh process (``XINIT_COMPILATION_CACHE=cache``)."""
        key = (script, *args, cache)
        if key not in self.results:
            t = time.perf_counter()
            self.results[key] = _measure.run_child(
                HERE / script, args, _measure.child_env(cache), self.timeout
            )
            print(
                f"[{time.perf_counter() - self.start:7.1f}s] {script} {' '.join(args)}"
                f"{'' if cache == 'off' else ' (cache)'}: {time.perf_counter() - t:.1f}s",
                file=sys.stderr,
                flush=True,
            )
        return self.results[key]


def cold(run: Runner, model: str, size: str, method: str) -> Any:
    """A fresh process, no compilation cache: call 1 cold, call 2 warm."""
    return run("_case.py", ["--model", model, "--size", size, "--method", method, "--calls", "2"])


def cached(run: Runner, model: str, size: str, method: str) -> Any:
    """A fresh process whose persistent compilation cache a previous process filled."""
    args = ["--model", model, "--size", size, "--method", method, "--calls", "1"]
    with tempfile.TemporaryDirectory(prefix="xinit-bench-cache-") as d:
        run("_case.py", [*args, "--tag", "fill"], cache=d)
        return run("_case.py", args, cache=d)


def model_info(model: str, size: str) -> dict[str, Any]:
    """Parameter count, bytes, tensor count and groups of identically shaped tensors."""
    import models
    import torch

    with torch.device("meta"):
        m = models.torch_model(model, size)
    params = dict(m.named_parameters())  # a tied parameter once
    owners: dict[int, tuple[str, str]] = {}  # a tied parameter belongs to its first owner
    for mod in m.modules():
        for name, p in mod.named_parameters(recurse=False):
            owners.setdefault(id(p), (type(mod).__name__, name))
    groups = {(*owners[id(p)], tuple(p.shape), str(p.dtype)) for p in params.values()}
    return {
        "name": models.NAMES[model],
        "config": repr(models.CONFIGS[model][size]),
        "params": sum(p.numel() for p in params.values()),
        "bytes": sum(p.numel() * p.element_size() for p in params.values()),
        "tensors": len(params),
        "groups": len(groups),
    }


def raw_section(run: Runner, quick: bool, repeats: int) -> Any:
    """Section 1, in one child process."""
    sizes = str(1 << 18) if quick else f"{1 << 20},{1 << 24},{1 << 26}"
    orth = "128" if quick else "512,4096"
    args = ["--sizes", sizes, "--orthogonal", orth, "--repeats", str(repeats)]
    return run("_raw.py", [*args, "--orthogonal-repeats", str(max(1, min(repeats, 3)))])


def models_section(run: Runner, quick: bool, repeats: int) -> dict[str, Any]:
    """Section 2: every model, every method, cold, cached, warm and memory."""
    size = "quick" if quick else "full"
    out: dict[str, Any] = {}
    for model, methods in METHODS.items():
        if quick and model == "resnet50":
            methods = ["torch_construct", "xinit_materialize", "xinit_init_linen"]
        entry: dict[str, Any] = {"info": model_info(model, size), "size": size}
        entry["cold"] = {m: cold(run, model, size, m) for m in methods}
        cache_methods = [m for m in CACHED if m in methods]
        if quick:
            cache_methods = cache_methods[:1] if model == "gpt2" else []
        entry["cached"] = {m: cached(run, model, size, m) for m in cache_methods}
        if model == "llama1b":  # one repeat: the warm call is call 2 of the cold process
            entry["warm"] = {m: [r["calls"][1]["s"]] for m, r in entry["cold"].items()}
            entry["warm_repeats"] = 1
            entry["overhead"] = cold(run, model, "tiny", "xinit_materialize")
            entry["overhead_info"] = model_info(model, "tiny")
        else:
            args = ["--model", model, "--size", size, "--warm", str(repeats)]
            w = run("_case.py", [*args, "--methods", ",".join(methods)])
            entry["warm"], entry["warm_programs"] = w["times"], w["programs"]
            entry["warm_repeats"] = repeats
        out[model] = entry
    return out


def compiles_section(run: Runner, quick: bool) -> dict[str, Any]:
    """Section 3: programs compiled by the first and second initialization of GPT-2."""
    size = "quick" if quick else "full"
    return {
        "model": "gpt2",
        "info": model_info("gpt2", size),
        "cold": {m: cold(run, "gpt2", size, m) for m in COMPILES},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 repeat (smoke run)")
    parser.add_argument("--only", choices=SECTIONS, action="append", help="run only this section")
    parser.add_argument("--repeats", type=int, help="timed repeats (default 5; --quick: 1)")
    parser.add_argument("--out-dir", type=Path, help="where to write benchmarks.md and .png")
    parser.add_argument("--json", type=Path, help="also save the raw results here")
    parser.add_argument("--from-json", type=Path, help="only re-render a saved --json result")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per child process")
    args = parser.parse_args()

    sections = args.only or list(SECTIONS)
    partial = args.quick or args.only is not None
    out_dir = args.out_dir or (
        Path(tempfile.gettempdir()) / "xinit-benchmarks" if partial else ROOT / "docs"
    )
    if args.from_json:
        results = json.loads(args.from_json.read_text())
    else:
        repeats = args.repeats or (1 if args.quick else 5)
        flags = ["--quick"] if args.quick else []
        flags += [f"--only {s}" for s in args.only or []]
        flags += [f"--repeats {args.repeats}"] if args.repeats else []
        argv = " ".join(flags)  # what reproduces the measurements (not where they are written)
        results = {
            "meta": {
                "date": datetime.datetime.now().astimezone().isoformat(timespec="minutes"),
                "command": f".venv/bin/python benchmarks/run.py{' ' + argv if argv else ''}",
                "quick": args.quick,
                "repeats": repeats,
                "machine": _measure.machine(),
                "versions": _measure.versions(),
                "source": _measure.source_state(ROOT),
                "load": {"start": os.getloadavg()},
            }
        }
        run = Runner(args.timeout)
        if "raw" in sections:
            results["raw"] = raw_section(run, args.quick, repeats)
            results["meta"]["load"]["after raw"] = os.getloadavg()
        if "models" in sections:
            results["models"] = models_section(run, args.quick, repeats)
            results["meta"]["load"]["after models"] = os.getloadavg()
        if "compiles" in sections:
            results["compiles"] = compiles_section(run, args.quick)
        results["meta"]["duration_s"] = time.perf_counter() - run.start
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    out_dir.mkdir(parents=True, exist_ok=True)
    md, png = out_dir / "benchmarks.md", out_dir / "benchmarks.png"
    md.write_text(_report.markdown(results, png.name))
    gpu = out_dir / "benchmarks-gpu.json"  # benchmarks/gpu.py's results, measured elsewhere
    if gpu.exists():
        _report.write_gpu_section(md, json.loads(gpu.read_text()))
    _report.plot(results, png)
    print(f"wrote {md} and {png} in {results['meta']['duration_s'] / 60:.1f} min")


if __name__ == "__main__":
    main()
