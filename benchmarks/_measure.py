"""Measuring: wall time, JAX compile events, resident memory, child processes, the machine.

Everything here is framework-neutral except :class:`JaxEvents`, which imports
JAX only when used. Times are ``time.perf_counter`` wall seconds; comparisons
are made side by side (interleaved, :func:`interleaved`) and summarized by
medians, because the machine is shared and noisy.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

#: The line prefix a child process puts before its JSON result on stdout.
RESULT_PREFIX = "RESULT "

_PAGE = os.sysconf("SC_PAGE_SIZE")


# --------------------------------------------------------------------------- time


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Run ``fn`` once: (wall seconds, its result)."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def interleaved(
    fns: Mapping[str, Callable[[], object]], repeats: int, *, warmup: int = 1
) -> dict[str, list[float]]:
    """Time several functions side by side: ``repeats`` rounds, each calling every function once.

    Each function is first called ``warmup`` times (untimed: compiling, first
    allocations). Interleaving spreads the machine's load changes over all
    contestants instead of penalizing whichever ran during a busy spell.
    Results are dropped (and garbage collected) between calls.

    Returns:
      ``{name: [seconds per round]}``.
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
            gc.collect()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            seconds, out = timed(fn)
            del out
            gc.collect()
            times[name].append(seconds)
    return times


def median(values: Sequence[float]) -> float:
    """The median, or NaN for no values."""
    return statistics.median(values) if values else float("nan")


# --------------------------------------------------------------------------- JAX events


_BACKEND_COMPILE = "/jax/core/compile/backend_compile_duration"
_TRACE = "/jax/core/compile/jaxpr_trace_duration"
_LOWER = "/jax/core/compile/jaxpr_to_mlir_module_duration"
_CACHE_HIT = "/jax/compilation_cache/cache_hits"
_events: list[tuple[str, float, str]] = []
_registered = False


@dataclasses.dataclass
class CompileStats:
    """JAX compile activity in a window of time.

    Attributes:
      programs: XLA programs compiled (backend compiles not served by the persistent cache).
      cache_hits: programs loaded from the persistent compilation cache.
      trace_s: seconds tracing Python to jaxprs.
      lower_s: seconds lowering jaxprs to MLIR.
      compile_s: seconds in XLA compilation (including persistent-cache look-ups).
      names: ``{function name: backend compiles}`` (cache hits included).
    """

    programs: int = 0
    cache_hits: int = 0
    trace_s: float = 0.0
    lower_s: float = 0.0
    compile_s: float = 0.0
    names: dict[str, int] = dataclasses.field(default_factory=dict)


class JaxEvents:
    """Count JAX compiles inside a ``with`` block, through ``jax.monitoring`` listeners.

    In jax 0.10.2 every XLA compilation runs inside
    ``dispatch.log_elapsed_time(..., event=BACKEND_COMPILE_EVENT)`` (pxla.py), which
    records ``/jax/core/compile/backend_compile_duration``, also when the
    executable comes from the persistent cache (compiler.py then records
    ``/jax/compilation_cache/cache_hits``). Programs compiled = backend compile
    events minus cache hits. The listeners are registered once per process.
    """

    def __init__(self) -> None:
        _register()
        self.stats = CompileStats()
        self._start = 0

    def __enter__(self) -> JaxEvents:
        self._start = len(_events)
        return self

    def __exit__(self, *exc: object) -> None:
        window = _events[self._start :]
        names: dict[str, int] = {}
        for e, _, name in window:
            if e == _BACKEND_COMPILE:
                names[name] = names.get(name, 0) + 1
        hits = sum(1 for e, _, _ in window if e == _CACHE_HIT)
        self.stats = CompileStats(
            programs=sum(names.values()) - hits,
            cache_hits=hits,
            trace_s=sum(d for e, d, _ in window if e == _TRACE),
            lower_s=sum(d for e, d, _ in window if e == _LOWER),
            compile_s=sum(d for e, d, _ in window if e == _BACKEND_COMPILE),
            names=names,
        )


def _register() -> None:
    global _registered
    if _registered:
        return
    from jax import monitoring

    monitoring.register_event_duration_secs_listener(
        lambda event, seconds, **kw: _events.append((event, seconds, str(kw.get("fun_name", ""))))
    )
    monitoring.register_event_listener(lambda event, **_: _events.append((event, 0.0, "")))
    _registered = True


# --------------------------------------------------------------------------- memory


def current_rss() -> int:
    """The process's resident set size now, in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


def peak_rss() -> int:
    """The process's peak resident set size (``getrusage`` ``ru_maxrss``), in bytes."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak_rss() -> bool:
    """Reset the peak RSS to the current RSS (Linux ``clear_refs`` 5); whether it worked.

    After a reset, ``ru_maxrss`` reports the peak since the reset, so a
    measurement is not hidden by an earlier, higher peak (imports, set-up).
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


# --------------------------------------------------------------------------- child processes


def child_env(compilation_cache: str) -> dict[str, str]:
    """The environment of a child process: ``XINIT_COMPILATION_CACHE`` set, JAX's own cache unset.

    Args:
      compilation_cache: ``"off"`` or a directory (see ``xinit._cache``).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COMPILATION_CACHE")}
    env["XINIT_COMPILATION_CACHE"] = compilation_cache
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_child(script: Path, args: Sequence[str], env: Mapping[str, str], timeout: float) -> Any:
    """Run ``python script args`` in a fresh process and return the JSON it printed.

    The child prints one line ``RESULT <json>`` on stdout (:func:`emit`).

    Raises:
      RuntimeError: the child failed or printed no result (with the end of its stderr).
    """
    cmd = [sys.executable, str(script), *args]
    proc = subprocess.run(
        cmd, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    raise RuntimeError(
        f"{' '.join(cmd)} exited with {proc.returncode} and no result:\n{proc.stderr[-3000:]}"
    )


def emit(result: Any) -> None:
    """Print a child's result for :func:`run_child`."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


# --------------------------------------------------------------------------- the machine


def machine() -> dict[str, str]:
    """CPU model, logical core count, RAM, OS and Python of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 2**20:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": ram,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def source_state(root: Path) -> str:
    """The repository's commit, and whether the library's sources differ from it."""

    def git(*args: str) -> str:
        try:
            out = subprocess.run(
                ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
            )
        except (OSError, subprocess.CalledProcessError):
            return ""
        return out.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "not a git checkout"
    dirty = git("status", "--porcelain", "--", "xinit", "adapters", "pyproject.toml")
    return f"commit {commit}" + (" with uncommitted library changes" if dirty else "")


def versions() -> dict[str, str]:
    """Installed versions of the libraries benchmarked."""
    out = {}
    for dist in ("torch", "jax", "jaxlib", "flax", "numpy", "xinit"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out
