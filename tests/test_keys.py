"""Seeds, root keys and the keys of named parameters (``xinit._keys``).

References are JAX's own key constructors, ``hashlib`` and hand-written byte
strings; nothing is copied from xinit's output.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xinit
from xinit import _keys


def data(k: jax.Array) -> np.ndarray:
    return np.asarray(jax.random.key_data(k))


def same_key(a: jax.Array, b: jax.Array) -> bool:
    return jax.random.key_impl(a) == jax.random.key_impl(b) and np.array_equal(data(a), data(b))


# -- xinit.key --------------------------------------------------------------------------

SEEDS = [0, 1, 42, 2**31 - 1, 2**31, 2**32 - 1]


def test_impls() -> None:
    assert xinit.IMPLS == ("threefry4x32", "threefry2x32", "philox4x32", "philox2x32")
    assert xinit.DEFAULT_IMPL in xinit.IMPLS
    assert str(jax.random.key_impl(xinit.key(0))) == xinit.DEFAULT_IMPL


@pytest.mark.parametrize("impl", xinit.IMPLS)
def test_small_seeds_are_jax_keys(impl: str) -> None:
    for seed in SEEDS:
        k = xinit.key(seed, impl=impl)
        assert k.shape == () and jax.dtypes.issubdtype(k.dtype, jax.dtypes.prng_key)
        assert same_key(k, jax.random.key(seed, impl=impl)), seed
    assert same_key(xinit.key(7), jax.random.key(7, impl=xinit.DEFAULT_IMPL))
    assert same_key(xinit.key(7, impl=None), jax.random.key(7, impl=xinit.DEFAULT_IMPL))


def test_threefry2x32_seed_layout() -> None:
    """threefry2x32's key data is (high, low) words of the seed: the documented JAX layout."""
    assert data(xinit.key(2**32 - 1, impl="threefry2x32")).tolist() == [0, 2**32 - 1]
    assert data(xinit.key(5, impl="threefry2x32")).tolist() == [0, 5]


def test_numpy_integer_seeds() -> None:
    for seed in [np.int64(3), np.uint32(3), np.int8(3), np.uint64(3)]:
        assert same_key(xinit.key(seed), xinit.key(3))
    assert same_key(xinit.key(np.uint64(2**40 + 3)), xinit.key(2**40 + 3))


@pytest.mark.parametrize("impl", xinit.IMPLS)
def test_large_seeds(impl: str) -> None:
    """Seeds >= 2**32 keep their high bits: distinct from their low 32 bits and from each other."""
    seeds = [2**32, 2**32 + 5, 2**33 + 5, 2**63, 2**64 - 1, 5 * 2**32]
    keys = {s: data(xinit.key(s, impl=impl)).tobytes() for s in seeds}
    for s in seeds:
        assert keys[s] != data(xinit.key(s & 0xFFFFFFFF, impl=impl)).tobytes(), s
    assert len(set(keys.values())) == len(seeds)
    # the documented construction: fold the high word into the key of the low word
    expected = jax.random.fold_in(jax.random.key(5, impl=impl), np.uint32(1))
    assert same_key(xinit.key(2**32 + 5, impl=impl), expected)


@pytest.mark.parametrize(
    ("seed", "error"),
    [
        (True, TypeError),
        (False, TypeError),
        (1.0, TypeError),
        (np.float32(1), TypeError),
        ("1", TypeError),
        (None, TypeError),
        ([1], TypeError),
        (-1, ValueError),
        (np.int64(-5), ValueError),
        (2**64, ValueError),
        (2**100, ValueError),
    ],
    ids=repr,
)
def test_bad_seeds(seed: object, error: type) -> None:
    with pytest.raises(error, match="seed"):
        xinit.key(seed)  # type: ignore[arg-type]
    with pytest.raises(error, match="seed"):
        xinit.key_for(seed, "a")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "impl",
    [
        "rbg",
        "unsafe_rbg",
        "threefry",
        "THREEFRY2X32",
        "",
        3,
        None.__class__,
    ],
    ids=repr,
)
def test_bad_impls(impl: object) -> None:
    with pytest.raises(ValueError, match="impl"):
        xinit.key(0, impl=impl)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="impl"):
        xinit.key_for(0, "a", impl=impl)  # type: ignore[arg-type]


def test_impl_with_a_key_is_refused() -> None:
    with pytest.raises(ValueError, match="impl"):
        xinit.key_for(xinit.key(0), "a", impl="philox4x32")
    with pytest.raises(ValueError, match="impl"):
        xinit.key_for(xinit.key(0), "a", impl=xinit.DEFAULT_IMPL)


# -- paths --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("layers.0.fc.weight", ("layers", 0, "fc", "weight")),
        ("a", ("a",)),
        ("a.00", ("a", "00")),  # not a canonical decimal: stays a string
        ("a.-1", ("a", "-1")),
        ("a.1e3", ("a", "1e3")),
        ("a. 1", ("a", " 1")),
        ("a.١", ("a", "١")),  # a non-ASCII digit is not an int
        (("a", 0), ("a", 0)),
        (["a", "0"], ("a", "0")),
        (("a.b", "c"), ("a.b", "c")),  # sequences are taken as they are
        (("a", -3), ("a", -3)),
    ],
)
def test_canonical_path(path: object, expected: tuple) -> None:
    assert xinit.canonical_path(path) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("", ValueError),
        ("a..b", ValueError),
        ("a.", ValueError),
        (".a", ValueError),
        (".", ValueError),
        ((), ValueError),
        ([], ValueError),
        (("a", ""), ValueError),
        (("a", True), TypeError),
        (("a", 1.0), TypeError),
        (("a", None), TypeError),
        (("a", b"b"), TypeError),
        (("a", np.int64(0)), TypeError),
        (b"ab", TypeError),
        (bytearray(b"ab"), TypeError),
        (3, TypeError),
        (None, TypeError),
    ],
    ids=repr,
)
def test_bad_paths(path: object, error: type) -> None:
    for fn in [
        xinit.canonical_path,
        xinit.encode_path,
        xinit.path_words,
        lambda p: xinit.key_for(0, p),
    ]:
        with pytest.raises(error, match=r"path|segment"):
            fn(path)


def _expected_encoding(segments: tuple) -> bytes:
    """The layout documented in encode_path, written out independently."""
    out = b"xinit.path" + (1).to_bytes(4, "big") + len(segments).to_bytes(4, "big")
    for seg in segments:
        tag, payload = (
            (b"s", seg.encode("utf-8")) if isinstance(seg, str) else (b"i", str(seg).encode())
        )
        out += tag + len(payload).to_bytes(4, "big") + payload
    return out


@pytest.mark.parametrize(
    "path", ["layers.0.fc.weight", ("emb", "ünïcødé", 12), ("a.b", -7), "x"], ids=repr
)
def test_encode_path_layout(path: object) -> None:
    assert xinit.KEY_SCHEME_VERSION == 1
    assert xinit.encode_path(path) == _expected_encoding(xinit.canonical_path(path))  # type: ignore[arg-type]
    digest = hashlib.sha256(_expected_encoding(xinit.canonical_path(path))).digest()  # type: ignore[arg-type]
    assert (
        xinit.path_words(path)
        == (  # type: ignore[arg-type]
            int.from_bytes(digest[:4], "big"),
            int.from_bytes(digest[4:8], "big"),
        )
    )


#: Paths that are different parameters, grouped so that naive encodings collide.
DISTINCT_PATHS = [
    ("ab", "c"),
    ("a", "bc"),
    "abc",
    ("a", "b", "c"),
    ("a.b", "c"),
    ("a", "b.c"),
    ("a.b.c",),
    ("a", "0"),
    ("a", 0),
    ("a", "00"),
    ("a", 1),
    ("a", 10),
    ("a", "1", "0"),
    ("a", 1, 0),
    ("a", -1),
    ("a", "-1"),
    ("\u00e9",),  # NFC
    ("e\u0301",),  # NFD: e + combining acute, a different string
    ("日本",),
    ("a", "s"),
    ("a", "i"),
    ("as",),
    ("a\x00", "b"),
    ("a", "\x00b"),
]
#: Spellings of one path.
SAME_PATHS = [
    ("a.b.c", ("a", "b", "c"), ["a", "b", "c"]),
    ("a.0", ("a", 0), ["a", 0]),
    ("layers.12.w", ("layers", 12, "w")),
    (("a", -0), ("a", 0)),
]


def test_distinct_paths_have_distinct_encodings_and_words() -> None:
    canon = {xinit.canonical_path(p) for p in DISTINCT_PATHS}
    encodings = {xinit.encode_path(p) for p in canon}
    words = {xinit.path_words(p) for p in canon}
    assert len(encodings) == len(canon) == len(words)
    # the tricky pairs of the docs, explicitly
    for a, b in [
        (("ab", "c"), ("a", "bc")),
        ("a.0", ("a", "0")),
        (("a", "0"), ("a", 0)),
        ("\u00e9", "e\u0301"),
    ]:
        assert xinit.encode_path(a) != xinit.encode_path(b)
        assert xinit.path_words(a) != xinit.path_words(b)


@pytest.mark.parametrize("spellings", SAME_PATHS, ids=repr)
def test_spellings_of_one_path(spellings: tuple) -> None:
    assert len({xinit.encode_path(p) for p in spellings}) == 1
    assert len({data(xinit.key_for(3, p)).tobytes() for p in spellings}) == 1


def test_path_words_are_uint32() -> None:
    for p in ["a", ("b", 1), "c.d.e"]:
        w0, w1 = xinit.path_words(p)
        assert isinstance(w0, int) and isinstance(w1, int)
        assert 0 <= w0 < 2**32 and 0 <= w1 < 2**32


# -- key_for ------------------------------------------------------------------------------

PATHS = ["layers.0.fc.weight", "layers.0.fc.bias", "layers.1.fc.weight", ("emb", "ünïcødé"), "head"]


@pytest.mark.parametrize("impl", xinit.IMPLS)
def test_key_for_is_the_documented_construction(impl: str) -> None:
    for path in PATHS:
        w0, w1 = xinit.path_words(path)
        root = jax.random.key(11, impl=impl)
        expected = jax.random.fold_in(jax.random.fold_in(root, np.uint32(w0)), np.uint32(w1))
        assert same_key(xinit.key_for(11, path, impl=impl), expected)
        assert same_key(xinit.key_for(root, path), expected)  # a key instead of a seed


def test_host_threefry4x32_is_jax_own() -> None:
    """key() and key_for() hash threefry4x32 keys on the host; every seed and
    fold_in must give the key data of JAX's own, for seeds and words of all sizes."""
    rng = np.random.default_rng(20261201)
    edge = [0, 1, 2**31 - 1, 2**31, 2**32 - 1]
    seeds = np.array(edge + rng.integers(0, 2**32, 500).tolist(), np.uint32)
    words = np.array(edge + rng.integers(0, 2**32, 500).tolist(), np.uint32)
    impl = "threefry4x32"
    jax_seeds = np.asarray(
        jax.vmap(lambda s: jax.random.key_data(jax.random.key(s, impl=impl)))(seeds)
    )
    host_seeds = np.array([_keys._host_seed(int(s)) for s in seeds], np.uint32)
    assert np.array_equal(host_seeds, jax_seeds)
    roots = jax.random.wrap_key_data(jax_seeds, impl=impl)
    jax_folds = np.asarray(
        jax.vmap(lambda k, w: jax.random.key_data(jax.random.fold_in(k, w)))(roots, words)
    )
    host_folds = [
        _keys._host_fold_in(d.tolist(), int(w)) for d, w in zip(jax_seeds, words, strict=True)
    ]
    assert np.array_equal(np.array(host_folds, np.uint32), jax_folds)


def test_key_for_keeps_the_impl_of_a_key() -> None:
    for impl in xinit.IMPLS:
        k = xinit.key_for(xinit.key(2, impl=impl), "w")
        assert str(jax.random.key_impl(k)) == impl
    assert str(jax.random.key_impl(xinit.key_for(2, "w"))) == xinit.DEFAULT_IMPL


def test_key_for_refuses_other_keys() -> None:
    with pytest.raises(ValueError, match="shape"):
        xinit.key_for(jax.random.split(xinit.key(0), 2), "a")
    for raw in [jax.random.PRNGKey(0), jnp.array(3), np.zeros(2, np.uint32)]:
        with pytest.raises(TypeError, match="seed_or_key"):
            xinit.key_for(raw, "a")


def test_different_paths_and_seeds_give_different_values() -> None:
    seen = set()
    for seed in [0, 1, 2**32]:
        for path in PATHS:
            k = xinit.key_for(seed, path)
            seen.add(np.asarray(jax.random.bits(k, (4,))).tobytes())
    assert len(seen) == 3 * len(PATHS)
    # and differ from the root key's own stream
    assert np.asarray(jax.random.bits(xinit.key(0), (4,))).tobytes() not in seen


def test_order_independence() -> None:
    """A parameter's key depends only on seed and path, not on what was derived before."""
    target = "layers.1.fc.weight"
    alone = data(xinit.key_for(5, target))
    for others in [[], PATHS, list(reversed(PATHS)), ["x"] * 10 + PATHS[:2]]:
        for p in others:
            xinit.key_for(5, p)
            jax.random.split(xinit.key(5))  # unrelated use of the root key
        assert np.array_equal(data(xinit.key_for(5, target)), alone)
    root = xinit.key(5)
    in_reverse = {p: data(xinit.key_for(root, p)).tobytes() for p in reversed(PATHS)}
    in_order = {p: data(xinit.key_for(root, p)).tobytes() for p in PATHS}
    assert in_reverse == in_order


def test_key_for_under_jit_and_vmap() -> None:
    path = "layers.0.fc.weight"
    direct = data(xinit.key_for(xinit.key(9), path))
    jitted = jax.jit(lambda k: jax.random.key_data(xinit.key_for(k, path)))(xinit.key(9))
    assert np.array_equal(np.asarray(jitted), direct)
    roots = jax.random.split(xinit.key(1), 3)
    batched = jax.vmap(lambda k: jax.random.key_data(xinit.key_for(k, path)))(roots)
    assert np.array_equal(
        np.asarray(batched), np.stack([data(xinit.key_for(r, path)) for r in roots])
    )


SUBPROCESS_SCRIPT = """
import json, sys
import jax, numpy as np, xinit
assert jax.config.jax_enable_x64
paths, seeds = json.loads(sys.argv[1])
out = {"paths": [], "seeds": []}
for p in paths:
    p = p if isinstance(p, str) else tuple(p)
    out["paths"].append([list(xinit.path_words(p)), np.asarray(jax.random.key_data(xinit.key_for(7, p))).tolist()])
for s in seeds:
    out["seeds"].append(np.asarray(jax.random.key_data(xinit.key(s))).tolist())
print(json.dumps(out))
"""
SUBPROCESS_PATHS = ["layers.0.fc.weight", ["emb", "ünïcødé", 3], "a.b", ["x", -1]]
SUBPROCESS_SEEDS = [9, 2**32 + 5, 2**63 + 1, 2**64 - 1]


def _here(p: object) -> object:
    return p if isinstance(p, str) else tuple(p)  # type: ignore[arg-type]


def test_keys_are_stable_across_processes_hash_seeds_and_x64() -> None:
    """Another process, with another PYTHONHASHSEED (path_words must not use hash())
    and with jax_enable_x64 (JAX alone would treat seeds >= 2**32 differently),
    derives the same path words and keys as this one."""
    env = {**os.environ, "PYTHONHASHSEED": "12345", "JAX_ENABLE_X64": "1", "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run(
        [sys.executable, "-c", SUBPROCESS_SCRIPT, json.dumps([SUBPROCESS_PATHS, SUBPROCESS_SEEDS])],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["paths"] == [
        [list(xinit.path_words(_here(p))), data(xinit.key_for(7, _here(p))).tolist()]  # type: ignore[arg-type]
        for p in SUBPROCESS_PATHS
    ]
    assert got["seeds"] == [data(xinit.key(s)).tolist() for s in SUBPROCESS_SEEDS]


def test_pinned_path_words() -> None:
    """The scheme is versioned: these words must only change with KEY_SCHEME_VERSION.
    They are SHA-256 of the byte strings written out in _expected_encoding."""
    digest = hashlib.sha256(
        b"xinit.path\x00\x00\x00\x01\x00\x00\x00\x04"
        b"s\x00\x00\x00\x06layers"
        b"i\x00\x00\x00\x010"
        b"s\x00\x00\x00\x02fc"
        b"s\x00\x00\x00\x06weight"
    ).digest()
    expected = (int.from_bytes(digest[:4], "big"), int.from_bytes(digest[4:8], "big"))
    assert xinit.path_words("layers.0.fc.weight") == expected
