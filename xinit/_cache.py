"""JAX's persistent compilation cache, on by default for xinit's model initializers.

On CPU the first initialization of a model is dominated by XLA compiling one
small program per (initializer, shape, dtype). JAX can keep compiled programs
on disk; xinit turns that on the first time a whole model is initialized (the
adapters' ``init_module``, ``materialize``, ``init_linen``, ``init_nnx`` and
the ``torch.nn.init`` drop-in call :func:`ensure_compilation_cache`), so a
fresh process compiles nothing it compiled before.

Where: ``$XINIT_COMPILATION_CACHE`` if set (``off``, ``0``, ``false`` or an
empty value turn the cache off), else ``$XDG_CACHE_HOME/xinit/jax`` (default
``~/.cache/xinit/jax``). xinit never overrides a cache the user configured:
when ``jax_compilation_cache_dir`` is already set, it is used as it is.

Setting the directory is a process-wide JAX setting, so other JAX code in the
process uses the same cache; xinit also lowers JAX's minimum compile time for
caching (``jax_persistent_cache_min_compile_time_secs``, 1 s by default) to 0,
because its programs compile in about 0.1 s each. The JAX documentation warns
that a compilation cache is trusted code: do not point it at a directory
others can write to. When xinit chose the directory, it also keeps its own
serialized executables there (``xinit/_executables.py``), which skip tracing
and lowering in a fresh process.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import jax

__all__ = ["CACHE_ENV", "compilation_cache_dir", "ensure_compilation_cache"]

#: The environment variable that sets (or, with ``off``, disables) xinit's compilation cache.
CACHE_ENV = "XINIT_COMPILATION_CACHE"

_OFF = {"", "0", "off", "false", "no", "none"}
_lock = threading.Lock()
_done = False
_active: Path | None = None


def compilation_cache_dir() -> Path | None:
    """The directory xinit's compilation cache uses, or None when it is off.

    Returns the directory from :data:`CACHE_ENV`, else
    ``$XDG_CACHE_HOME/xinit/jax`` (``~/.cache/xinit/jax``). Does not enable anything.
    """
    value = os.environ.get(CACHE_ENV)
    if value is not None:
        return None if value.strip().lower() in _OFF else Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "xinit" / "jax"


def ensure_compilation_cache() -> Path | None:
    """Turn on JAX's persistent compilation cache for xinit (once per process).

    Does nothing when the user already configured ``jax_compilation_cache_dir``
    (that directory is returned) or when the cache is off (None is returned).
    A directory that cannot be created turns the cache off rather than failing
    the initialization.

    Returns:
      The cache directory in use, or None.
    """
    global _done, _active
    with _lock:
        configured = jax.config.jax_compilation_cache_dir
        if configured:
            return Path(configured)
        if _done:
            return None
        _done = True
        path = compilation_cache_dir()
        if path is None:
            return None
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_compilation_cache_dir", str(path))
        _active = path
        return path


def active_dir() -> Path | None:
    """xinit's cache directory when :func:`ensure_compilation_cache` turned it on in this
    process (not a directory the user configured in JAX), else None."""
    return _active
