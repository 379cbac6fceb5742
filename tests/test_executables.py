"""xinit's cache of serialized executables: a fresh process loads them instead of
tracing, lowering and compiling, and gets the same bits."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from _child import run_child

import xinit

# Every kind of program: plain and truncated draws, variance with host-rounded
# variance, QR, per-column sorting, fills, a legacy key, bfloat16, a seed >= 2**32.
CHILD = r"""
import json, sys
import jax, jax.numpy as jnp, numpy as np, xinit
from xinit import jax_compat as xc
from xinit._initializer import _generate
compiles = []
jax.monitoring.register_event_duration_secs_listener(
    lambda e, d, **k: compiles.append(e) if e == "/jax/core/compile/backend_compile_duration" else None)
if sys.argv[1] == "on":
    assert xinit.ensure_compilation_cache() is not None
cases = [
    ("uniform", xinit.uniform(-0.5, 2.0), xinit.key_for(1, "a"), (40, 30), {}),
    ("trunc", xinit.trunc_normal(0.0, 0.02, -0.04, 0.04), xinit.key_for(1, "b"), (64,), {}),
    ("kaiming", xinit.kaiming_normal(0.1, mode="fan_out"), xinit.key_for(2**40, "c"), (8, 4, 3, 3), {}),
    ("glorot", xc.glorot_normal(), jax.random.PRNGKey(3), (5, 7), {"dtype": jnp.bfloat16}),
    ("orthogonal", xinit.orthogonal(2.0), xinit.key(4), (6, 9), {}),
    ("sparse", xinit.sparse(0.25), xinit.key(5), (12, 4), {}),
    ("constant", xinit.constant(0.5), xinit.key(6), (3, 3), {}),
    ("fans", xinit.xavier_uniform(), xinit.key(7), (4, 4), {"fan_in": 100, "fan_out": 3}),
]
out = {}
del compiles[:]  # count the initializers' programs only, not the keys'
for name, init, key, shape, kw in cases:
    a = np.asarray(init(key, shape, **kw)).astype(np.float32)
    out[name] = a.view(np.uint32).ravel().tolist()
out["compiles"] = len(compiles)
out["traced"] = _generate._cache_size()
print(json.dumps(out))
"""


def _child(mode: str, cache: Path | str) -> dict:
    return run_child(CHILD, {xinit.CACHE_ENV: str(cache)}, mode)


def _values(out: dict) -> dict:
    return {k: v for k, v in out.items() if k not in ("compiles", "traced")}


def test_a_fresh_process_loads_executables_with_the_same_bits(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    plain = _child("off", "off")  # jax.jit, no cache at all
    assert plain["traced"] == 8
    first = _child("on", cache)
    files = sorted((cache / "executables").iterdir())
    # orthogonal's QR (a LAPACK custom call) is compiled in every process
    assert len(files) == 7 and first["compiles"] == 8
    assert first["traced"] == 0  # lowered and compiled for the file, never through jit's cache
    second = _child("on", cache)
    assert second["compiles"] == 1 and second["traced"] == 0
    assert _values(first) == _values(plain) == _values(second)
    # A damaged file is compiled again, with the same values. JAX's own cache serves
    # that compile, and an executable loaded from it is never stored (re-serialized, it
    # lost kernels: a fresh process failed with "Function compare_select_fusion not found").
    for f in files:
        f.write_bytes(b"not an executable")
    third = _child("on", cache)
    assert _values(third) == _values(plain)
    assert all(f.read_bytes() == b"not an executable" for f in files)
    fourth = _child("on", cache)
    assert _values(fourth) == _values(plain)
    # With the files gone as well, JAX's cache serves every compile and nothing is stored.
    for f in files:
        f.unlink()
    fifth = _child("on", cache)
    assert _values(fifth) == _values(plain) and not list((cache / "executables").iterdir())


def test_off_by_default_in_the_core() -> None:
    """Without ensure_compilation_cache (the adapters call it), calls take jax.jit."""
    from xinit import _executables
    from xinit._initializer import _generate

    key, f32 = xinit.key(0), np.float32
    args = ((3, 3), np.dtype(np.float32))
    assert _executables.compiled(_generate, xinit.normal()._program, key, args, (f32(3),)) is None


def test_traced_calls_and_unnamed_kernels_take_jit(tmp_path: Path, monkeypatch) -> None:
    from xinit import _cache

    monkeypatch.setattr(_cache, "_active", tmp_path)
    init = xinit.normal()
    key = xinit.key(0)
    out = jax.jit(lambda k: init(k, (3, 3)))(key)  # traced key: through jit
    assert np.array_equal(np.asarray(out), np.asarray(xinit.normal()(key, (3, 3))))
    custom = xinit.Initializer("custom", lambda k, s, fi, fo, g, *, dtype: jnp.ones(s))
    assert np.array_equal(np.asarray(custom(key, (2, 2))), np.ones((2, 2), np.float32))
    files = list((tmp_path / "executables").iterdir())
    assert len(files) == 1  # only the eager normal() call was stored
