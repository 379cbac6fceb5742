"""Seeds, keys and the key of a named parameter.

A parameter's key depends only on the seed (or root key) and the parameter's
canonical path, never on the order in which parameters are visited, so adding,
removing or reordering other parameters leaves its values unchanged.
"""

from __future__ import annotations

import hashlib
import operator
import re
from collections.abc import Sequence

import jax
import numpy as np

__all__ = [
    "DEFAULT_IMPL",
    "IMPLS",
    "KEY_SCHEME_VERSION",
    "Path",
    "canonical_path",
    "encode_path",
    "key",
    "key_for",
    "path_words",
]

#: Version of the path encoding and key derivation described in ``docs/spec.md``.
#: It is part of every encoded path, so a change of scheme changes every key.
KEY_SCHEME_VERSION = 1

#: The PRNG implementations xinit accepts. All four are documented by JAX as
#: giving identical bits on CPU, GPU and TPU and across shardings.
IMPLS: tuple[str, ...] = ("threefry4x32", "threefry2x32", "philox4x32", "philox2x32")

#: The default implementation, chosen by measurement (``docs/spec.md``): on the
#: project's 2-core CPU it generated 16M float32 uniforms in 40 ms against
#: 191 ms for threefry2x32, and it keeps a 128-bit key.
DEFAULT_IMPL = "threefry4x32"

_SEED_LIMIT = 2**64
_U32 = 0xFFFFFFFF

Segment = str | int
Path = str | Sequence[Segment]


def _check_impl(impl: str | None) -> str:
    if impl is None:
        return DEFAULT_IMPL
    if impl not in IMPLS:
        raise ValueError(f"impl must be one of {list(IMPLS)}, got {impl!r}")
    return impl


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    try:
        value = operator.index(seed)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"seed must be an integer, got {seed!r}") from None
    if not 0 <= value < _SEED_LIMIT:
        raise ValueError(f"seed must be in [0, 2**64), got {value}")
    return value


def key(seed: int, impl: str | None = None) -> jax.Array:
    """Return the root key for an integer seed.

    For ``seed < 2**32`` this is ``jax.random.key(seed, impl=impl)``, so a seed
    gives the key a JAX user would make. Larger seeds (up to ``2**64 - 1``) fold
    their high 32 bits into that key, identically with or without
    ``jax_enable_x64`` (JAX alone would truncate them without it).

    Args:
      seed: an integer in ``[0, 2**64)``; bools and floats are refused.
      impl: the PRNG implementation, one of :data:`IMPLS` (default
        :data:`DEFAULT_IMPL`).

    Returns:
      A typed JAX key array of shape ``()``.

    Raises:
      TypeError: ``seed`` is not an integer.
      ValueError: ``seed`` is out of range or ``impl`` is unknown.
    """
    value = _check_seed(seed)
    impl = _check_impl(impl)
    if impl == _HOST_IMPL:
        return _wrap(_host_root(value))
    low, high = value & _U32, value >> 32
    root = jax.random.key(np.uint32(low), impl=impl)
    if high:
        root = jax.random.fold_in(root, np.uint32(high))
    return root


_DIGITS = re.compile(r"0|[1-9][0-9]*")


def canonical_path(path: Path) -> tuple[Segment, ...]:
    """Return ``path`` as a tuple of segments.

    A string is split on ``"."`` and segments written as decimal integers
    become ints, so torch's ``"layers.0.fc.weight"`` is
    ``("layers", 0, "fc", "weight")``. A sequence is taken as it is (its string
    segments may then contain dots).

    Raises:
      TypeError: ``path`` or a segment is not a str or int.
      ValueError: the path or one of its string segments is empty.
    """
    if isinstance(path, str):
        if not path:
            raise ValueError("path must not be empty")
        parts = path.split(".")
        if any(p == "" for p in parts):
            raise ValueError(f"path {path!r} has an empty segment")
        return tuple(int(p) if _DIGITS.fullmatch(p) else p for p in parts)
    if isinstance(path, (bytes, bytearray)):
        raise TypeError(f"path must be a str or a sequence of str/int segments, got {path!r}")
    try:
        segments = tuple(path)
    except TypeError:
        raise TypeError(
            f"path must be a str or a sequence of str/int segments, got {path!r}"
        ) from None
    if not segments:
        raise ValueError("path must not be empty")
    for seg in segments:
        if isinstance(seg, bool) or not isinstance(seg, (str, int)):
            raise TypeError(f"path segment must be a str or an int, got {seg!r} in {path!r}")
        if isinstance(seg, str) and not seg:
            raise ValueError(f"path {path!r} has an empty segment")
    return segments


def encode_path(path: Path) -> bytes:
    """Encode a path into bytes, injectively and stably across processes.

    Layout: ``b"xinit.path"``, the scheme version and the number of segments as
    big-endian uint32, then per segment a one-byte tag (``s`` for str, ``i`` for
    int), a big-endian uint32 length and the payload (UTF-8 for str, the
    decimal ASCII digits with an optional ``-`` for int).
    """
    segments = canonical_path(path)
    out = bytearray(b"xinit.path")
    out += KEY_SCHEME_VERSION.to_bytes(4, "big")
    out += len(segments).to_bytes(4, "big")
    for seg in segments:
        if isinstance(seg, str):
            tag, payload = b"s", seg.encode("utf-8")
        else:
            tag, payload = b"i", str(seg).encode("ascii")
        out += tag + len(payload).to_bytes(4, "big") + payload
    return bytes(out)


def path_words(path: Path) -> tuple[int, int]:
    """The 64-bit hash of a path as two uint32 words: the first 8 bytes of
    SHA-256(:func:`encode_path`), big-endian."""
    digest = hashlib.sha256(encode_path(path)).digest()
    return int.from_bytes(digest[0:4], "big"), int.from_bytes(digest[4:8], "big")


def _is_key(x: object) -> bool:
    dtype = getattr(x, "dtype", None)
    return dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)


def key_for(seed_or_key: int | jax.Array, path: Path, impl: str | None = None) -> jax.Array:
    """Return the key of the parameter at ``path``.

    ``key_for(s, p) = fold_in(fold_in(key(s), w0), w1)`` with
    ``(w0, w1) = path_words(p)``.

    Args:
      seed_or_key: an integer seed (see :func:`key`) or a typed JAX key of shape ``()``.
      path: the parameter's canonical path, e.g. ``"layers.0.fc.weight"``.
      impl: the PRNG implementation when ``seed_or_key`` is a seed; must be
        ``None`` when it is a key (the key carries its own).

    Raises:
      TypeError: ``seed_or_key`` is neither an integer nor a typed key, or a
        path segment has the wrong type.
      ValueError: bad seed, impl or path.
    """
    data: list[int] | None = None  # the root's key data, when it is hashed on the host
    if _is_key(seed_or_key):
        if impl is not None:
            raise ValueError("impl must be None when seed_or_key is a key: the key carries its own")
        root = seed_or_key
        if getattr(root, "shape", None) != ():
            raise ValueError(
                f"seed_or_key must be a single key of shape (), got shape {root.shape}"
            )
        data = _host_data(root)
    elif hasattr(seed_or_key, "dtype") and not isinstance(seed_or_key, np.integer):
        raise TypeError(
            "seed_or_key must be an integer seed or a typed key from xinit.key / "
            f"jax.random.key (wrap raw uint32 key data with jax.random.wrap_key_data), got {seed_or_key!r}"
        )
    else:
        value, impl = _check_seed(seed_or_key), _check_impl(impl)
        if impl == _HOST_IMPL:
            data = _host_root(value)  # no device array in between
        else:
            root = key(value, impl)
    w0, w1 = path_words(path)
    if data is not None:
        return _wrap(_host_fold_in(_host_fold_in(data, w0), w1))
    return jax.random.fold_in(jax.random.fold_in(root, np.uint32(w0)), np.uint32(w1))


# -- threefry4x32 keys on the host ------------------------------------------------------
#
# Deriving a key with JAX runs (and first compiles) a small program per step:
# on a 2-core CPU the first threefry4x32 seed and fold_in compiled in 0.3 s
# each, and every later fold_in is a device dispatch. A model's keys are a few
# hashes per parameter, so for the default implementation they are computed
# here in Python integers: the same Threefry-4x32 (20 rounds, Random123's rotations and
# key schedule) that ``jax._src.random.threefry4x32`` lowers, applied exactly
# as its ``seed`` and ``fold_in`` apply it. tests/test_keys.py checks every
# result against JAX's own.

_HOST_IMPL = "threefry4x32"
_ROTATIONS = ((10, 26), (11, 21), (13, 27), (23, 5), (6, 20), (17, 11), (25, 10), (18, 20))
_PARITY = 0x1BD11BDA


def _threefry4x32(key: Sequence[int], counter: Sequence[int]) -> list[int]:
    """Threefry-4x32-20 of one counter under one key, on Python ints (uint32 words).

    Python ints rather than NumPy: a hash is a few hundred scalar operations,
    which take about 15 us this way and ten times longer as NumPy calls.
    """
    ks = [int(k) for k in key]
    ks.append(ks[0] ^ ks[1] ^ ks[2] ^ ks[3] ^ _PARITY)
    x0, x1, x2, x3 = ((int(c) + k) & _U32 for c, k in zip(counter, ks, strict=False))
    for rnd in range(20):
        r0, r1 = _ROTATIONS[rnd % 8]
        if rnd % 2 == 0:
            x0 = (x0 + x1) & _U32
            x1 = x0 ^ (((x1 << r0) | (x1 >> (32 - r0))) & _U32)
            x2 = (x2 + x3) & _U32
            x3 = x2 ^ (((x3 << r1) | (x3 >> (32 - r1))) & _U32)
        else:
            x0 = (x0 + x3) & _U32
            x3 = x0 ^ (((x3 << r0) | (x3 >> (32 - r0))) & _U32)
            x2 = (x2 + x1) & _U32
            x1 = x2 ^ (((x1 << r1) | (x1 >> (32 - r1))) & _U32)
        if rnd % 4 == 3:
            j = rnd // 4
            x0 = (x0 + ks[(1 + j) % 5]) & _U32
            x1 = (x1 + ks[(2 + j) % 5]) & _U32
            x2 = (x2 + ks[(3 + j) % 5]) & _U32
            x3 = (x3 + ks[(4 + j) % 5] + 1 + j) & _U32
    return [x0, x1, x2, x3]


def _host_seed(low: int) -> list[int]:
    """``jax.random.key(np.uint32(low), impl="threefry4x32")``'s data: the
    hash of a zero counter under the key ``(low >> 32 = 0, low, 0, 0)``."""
    return _threefry4x32((0, low, 0, 0), (0, 0, 0, 0))


def _host_root(value: int) -> list[int]:
    """:func:`key`'s data for a seed in ``[0, 2**64)``: the low word's key, with the
    high word folded in when it is nonzero."""
    low, high = value & _U32, value >> 32
    data = _host_seed(low)
    return _host_fold_in(data, high) if high else data


#: The last root key whose data was read to the host, and that data. The adapters
#: derive every parameter's key from one root: reading it once per model rather than
#: once per parameter saves a device round trip each (about 0.1 ms on CPU). The key
#: object is held, so its id cannot be reused while it is cached; keys are immutable.
_last_root: tuple[object, list[int] | None] = (None, None)


def _host_data(root: jax.Array) -> list[int] | None:
    """A threefry4x32 root key's data as Python ints, or None when it is another
    implementation's key or a tracer (then keys are derived with JAX)."""
    global _last_root
    cached, data = _last_root
    if cached is root:
        return data
    data = None
    if str(jax.random.key_impl(root)) == _HOST_IMPL and not isinstance(root, jax.core.Tracer):
        data = np.asarray(jax.random.key_data(root)).tolist()
    if not isinstance(root, jax.core.Tracer):
        _last_root = (root, data)
    return data


def _host_fold_in(data: Sequence[int], word: int) -> list[int]:
    """``jax.random.fold_in`` of a threefry4x32 key's data with a uint32 ``word``."""
    return _threefry4x32(data, (0, 0, 0, word))


def _wrap(data: Sequence[int]) -> jax.Array:
    return jax.random.wrap_key_data(np.array(data, np.uint32), impl=_HOST_IMPL)
