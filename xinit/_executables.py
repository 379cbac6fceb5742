"""xinit's own cache of compiled programs, in memory and on disk.

JAX's persistent compilation cache saves XLA's compile time, but a fresh
process still traces and lowers every program to compute the cache key: on a
2-core CPU that was 0.43 s of the 1.23 s a cached GPT-2-small ``materialize``
took (11 programs, about 35 ms each for the threefry hash). xinit knows its
programs by name, so it keys them itself, from the initializer, shape, dtype
and key type, and stores the serialized executable
(``jax.experimental.serialize_executable``). Loading one takes about 8 ms and
runs nothing else.

It is active when xinit's compilation cache is (:func:`xinit.ensure_compilation_cache`
chose the directory; the adapters turn it on): executables live in the
``executables`` folder beside JAX's files. The key of a file includes the
versions of xinit, jax and jaxlib, a hash of xinit's own source files, the
host CPU's model and flags, the device kind and the x64 flag, so a change to
any of them compiles anew. A
file that cannot be read or loaded is compiled again and replaced, unless JAX's
own persistent cache served that compile: an executable JAX loaded from its cache
is never stored, because serialized again it lacked some of its kernels (jaxlib
0.10.2: a fresh process that loaded it failed with "Function wrapped_broadcast
not found"). So that JAX's cache holds no entry for a program a new xinit keys
anew, these programs are named after the fingerprint (``jit_xinit_<hash>_run``). Calls with
traced arguments (inside an outer ``jit`` or ``vmap``) and initializers whose
kernel is not a module-level function always take ``jax.jit``; programs with a
custom call (orthogonal's QR, which calls LAPACK) are kept in memory only,
because loading one into a fresh process crashed it (jaxlib 0.10.2).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import pickle
import platform
import tempfile
import threading
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import jax
import numpy as np

from xinit import _cache

__all__ = ["compiled"]

_memory: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()


@functools.cache
def _fingerprint() -> str:
    """Versions and a hash of xinit's source: anything that can change a program."""
    parts = [f"jax={jax.__version__}"]
    for dist in ("xinit", "jaxlib"):
        try:
            parts.append(f"{dist}={version(dist)}")
        except PackageNotFoundError:
            parts.append(f"{dist}=?")
    source = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        source.update(path.name.encode() + b"\0" + path.read_bytes())
    parts.append(f"source={source.hexdigest()}")
    parts.append(f"cpu={_cpu()}")
    return ";".join(parts)


def _cpu() -> str:
    """The host CPU's model and instruction-set flags: XLA compiles CPU code for the
    features of the machine it runs on, and a cache directory may be shared (a
    network home) by machines that differ."""
    described = [platform.machine(), platform.processor()]
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith(("model name", "flags", "Features", "CPU part")):
                    described.append(line.strip())
                if line.strip() == "":
                    break  # the first processor describes them all
    except OSError:
        pass
    return hashlib.sha256("\n".join(described).encode()).hexdigest()[:16]


def _stable_kernel_name(kernel: object) -> str | None:
    module = getattr(kernel, "__module__", None)
    qualname = getattr(kernel, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        return None  # a lambda, a local function, a partial: no name that survives a process
    return f"{module}.{qualname}"


def _device() -> jax.Device:
    dev = jax.config.jax_default_device
    if dev is None:
        return jax.devices()[0]
    if isinstance(dev, str):
        return jax.devices(dev)[0]
    return dev


def compiled(
    jitted: Any, init: Any, key: jax.Array, static: tuple[Any, ...], dynamic: tuple[Any, ...]
) -> Callable[..., jax.Array] | None:
    """The executable of ``jitted(init, key, *static..., *dynamic)``, or None to use ``jitted``.

    Args:
      jitted: the ``jax.jit`` function (``_generate`` or ``_generate_window``),
        with ``init``, the shape (or window size) and the dtype static.
      init: the initializer as the program's static argument (``Initializer._program``).
      key: the call's key.
      static: ``(shape, dtype)``, or ``(size, dtype)`` for a window.
      dynamic: the traced arguments after them (a window's start, fans,
        gain, variance or None).

    Returns:
      A callable taking ``(key, *dynamic)``, or None when the cache is off,
      an argument is traced, the key lives on another device than the
      default one, or the kernel has no stable name.
    """
    directory = _cache.active_dir()
    if directory is None or any(isinstance(a, jax.core.Tracer) for a in (key, *dynamic)):
        return None
    kernel_name = _stable_kernel_name(init.kernel)
    if kernel_name is None:
        return None
    device = _device()
    if isinstance(key, jax.Array) and device not in key.devices():
        return None  # a key committed elsewhere: jit places the program by its arguments
    signature = tuple(None if a is None else (np.shape(a), str(a.dtype)) for a in dynamic)
    x64 = jax.config.jax_enable_x64
    entry = getattr(jitted, "__name__", repr(jitted))  # _run or _run_window
    memory_key = (entry, init, *static, str(key.dtype), np.shape(key), signature, device, x64)
    found = _memory.get(memory_key)
    if found is not None:
        return found
    fields = tuple(
        (f.name, getattr(init, f.name))
        for f in dataclasses.fields(init)
        if f.compare and f.name != "kernel"
    )
    from xinit._initializer import _bits

    identity = repr(
        (
            _fingerprint(),
            entry,
            kernel_name,
            _bits(fields),
            static,
            str(key.dtype),
            np.shape(key),
            signature,
            device.platform,
            device.device_kind,
            x64,
        )
    )
    path = directory / "executables" / (hashlib.sha256(identity.encode()).hexdigest() + ".bin")
    executable = _load(path)
    if executable is None:
        lowered = _tagged(jitted.__wrapped__).lower(init, key, *static, *dynamic)
        hits = _jax_cache_hits()
        executable = lowered.compile()
        # Only a freshly compiled executable is stored. One that JAX loaded from its own
        # persistent cache serializes without some of its kernels (jaxlib 0.10.2: a
        # fresh process that loads it fails with "Function ... not found"). A program
        # with a custom call (orthogonal's QR calls LAPACK) is not stored either:
        # loaded into a fresh process that has not lowered one, it crashed.
        if _jax_cache_hits() == hits and "custom_call" not in lowered.as_text():
            _save(path, executable)
    with _lock:
        _memory[memory_key] = executable
    return executable


@functools.cache
def _tagged(fun: Callable[..., jax.Array]) -> Any:
    """``jax.jit(fun)`` under a name that carries :func:`_fingerprint`.

    JAX names the program, and keys its own persistent cache, after the function.
    With the fingerprint in the name, a new xinit (whose files here are keyed anew)
    finds no entry of an older one in JAX's cache, so it compiles afresh and can store
    what it compiled. The static arguments are the initializer, the shape (or window
    size) and the dtype, at positions 0, 2 and 3 of ``_run`` and ``_run_window``.
    """
    tag = hashlib.sha256(_fingerprint().encode()).hexdigest()[:12]

    @functools.wraps(fun)
    def tagged(*args: Any) -> jax.Array:
        return fun(*args)

    tagged.__name__ = tagged.__qualname__ = f"xinit_{tag}{fun.__name__}"
    return jax.jit(tagged, static_argnums=(0, 2, 3))


_HIT_EVENT = "/jax/compilation_cache/cache_hits"
_thread = threading.local()
_listening = False


def _count_hit(event: str, **_: Any) -> None:
    if event == _HIT_EVENT:
        _thread.hits = getattr(_thread, "hits", 0) + 1


def _jax_cache_hits() -> int:
    """How many times JAX's persistent cache served a compile in this thread so far.

    JAX records the event in the thread that compiles, so the count before and after
    ``lowered.compile()`` tells whether that executable came from JAX's cache.
    """
    global _listening
    with _lock:
        if not _listening:
            jax.monitoring.register_event_listener(_count_hit)
            _listening = True
    return getattr(_thread, "hits", 0)


def _load(path: Path) -> Any:
    from jax.experimental import serialize_executable

    try:
        payload, in_tree, out_tree = pickle.loads(path.read_bytes())
        return serialize_executable.deserialize_and_load(payload, in_tree, out_tree)
    except Exception:
        return None


def _save(path: Path, executable: Any) -> None:
    from jax.experimental import serialize_executable

    try:
        blob = pickle.dumps(serialize_executable.serialize(executable))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)
    except Exception:
        return
