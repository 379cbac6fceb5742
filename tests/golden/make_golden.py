"""Regenerate ``tests/golden/vectors.json``: the pinned xinit stream.

Run it from the repository root with the project's interpreter, after
``scripts/setup.sh`` has installed the current source:

    .venv/bin/python tests/golden/make_golden.py

It imports the *installed* xinit (it prints ``xinit.__file__``, which must be in
``site-packages``), so the vectors describe what users get. Regenerating them is
a deliberate act: it records that the stream changed. Read ``docs/spec.md``
("Versioning") first, bump ``xinit.KEY_SCHEME_VERSION`` if keys changed, and
add a line to ``CHANGELOG.md``.

Each record names a constructor (``xinit.NAME`` or ``xinit.jax_compat.NAME``)
with its keyword arguments, the call (seed, path, PRNG implementation, shape,
dtype and any fan/gain overrides), and the output's fingerprint: the bit
patterns of its first 8 values (row-major), the same values in readable form,
and the SHA-256 of all its bytes (little-endian, row-major). A second section
pins the keys themselves: ``encode_path``, ``path_words`` and ``key_for``'s key
data for every PRNG implementation.

``tests/test_golden.py`` imports :func:`generate`, :func:`fingerprint` and
:func:`key_record` from this file, so the test and the vectors cannot drift.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import jax
import numpy as np

import xinit
from xinit import jax_compat

OUT = Path(__file__).resolve().parent / "vectors.json"
HEAD = 8  # how many leading values each record keeps

PATH = "encoder.layers.0.fc.weight"
SEED = 20_261_123
IMPLS = xinit.IMPLS

_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


# -- the cases ---------------------------------------------------------------------------
#
# A case is (module, constructor, kwargs, shape, dtype, options). ``options`` may set
# ``call`` (fan_in / fan_out / gain passed at call time), ``seed``, ``path`` and ``impl``.
# Shapes are small and reused, so that equal initializers share one compiled program
# and the test stays fast; every dtype or shape more costs a compilation.

W2 = (6, 5)  # a torch Linear weight (out, in), or a (in, out) kernel for JAX names
W4 = (4, 3, 3, 2)  # a torch conv weight (out, in, kh, kw)
K4 = (3, 3, 2, 4)  # a Flax conv kernel (kh, kw, in, out)
K3 = (3, 4, 6)  # a 1-D Flax conv kernel (k, in, out), for delta_orthogonal

Case = tuple[str, str, dict[str, Any], tuple[int, ...], str, dict[str, Any]]


def _cases() -> list[Case]:
    T, J = "xinit", "xinit.jax_compat"
    f32, bf16, f16 = "float32", "bfloat16", "float16"
    cases: list[Case] = []

    def add(module, name, kwargs, shape, dtype=f32, **options):  # type: ignore[no-untyped-def]
        cases.append((module, name, kwargs, shape, dtype, options))

    # torch-named elementwise schemes
    for dt in (f32, bf16):
        add(T, "uniform", {"a": -0.5, "b": 1.5}, W2, dt)
        add(T, "normal", {"mean": 0.0, "std": 0.02}, W2, dt)
    add(T, "trunc_normal", {}, W2)
    add(T, "uniform", {"a": 1.0, "b": 1.0000001}, W2, label="narrow")  # torch's half-open fix
    add(T, "normal", {"mean": -1.0, "std": 3.0}, W2, label="mean")
    add(T, "trunc_normal", {"mean": 1.0, "std": 0.5, "a": 1.5, "b": 4.0}, W2, label="tail")
    # deterministic fills (the dtype is filled directly, integers allowed)
    for dt in (f32, bf16, "int32"):
        add(T, "constant", {"value": 0.1}, W2, dt)
        add(T, "eye", {}, W2, dt)
    for dt in (f32, "int32"):
        add(T, "dirac", {"groups": 2}, W4, dt)
    for dt in (f32, "bool"):
        add(T, "ones", {}, W2, dt)
        add(T, "zeros", {}, W2, dt)
    # torch's variance scaling
    add(T, "kaiming_uniform", {}, W4)
    add(T, "kaiming_uniform", {}, W4, bf16)
    add(T, "xavier_normal", {}, W4)
    add(T, "xavier_uniform", {"gain": 5.0 / 3.0}, W4)
    add(T, "kaiming_normal", {"a": 0.2, "mode": "fan_out"}, W4)
    add(
        T,
        "kaiming_normal",
        {"a": 0.2, "mode": "fan_out"},
        W4,
        call={"fan_out": 300, "gain": 0.75},
        label="call",
    )
    add(T, "torch_default_weight", {}, W4)
    add(T, "torch_default_weight", {"layout": "flax"}, K4, label="flax")
    add(T, "torch_default_bias", {}, (4,), call={"fan_in": 18})
    # orthogonal and sparse
    for dt in (f32, bf16):
        add(T, "orthogonal", {"gain": 1.5}, W4, dt)
    add(T, "orthogonal", {}, (5, 8), label="wide")
    add(T, "sparse", {"sparsity": 0.5, "std": 1.0}, W2)
    # JAX-named schemes at the top level
    add(
        T,
        "variance_scaling",
        {"scale": 1.0 / 3.0, "mode": "fan_geo_avg", "distribution": "truncated_normal"},
        K4,
    )
    add(T, "truncated_normal", {}, W2)
    add(T, "delta_orthogonal", {}, K3)
    add(
        T,
        "variance_scaling",
        {
            "scale": 2.0,
            "mode": "fan_avg",
            "distribution": "normal",
            "in_axis": [0, 1],
            "out_axis": 3,
            "batch_axis": 2,
        },
        K4,
        label="axes",
    )
    add(T, "truncated_normal", {"stddev": 1.0, "lower": -1.0, "upper": 3.0}, W2, label="bounds")
    for name in (
        "glorot_uniform",
        "glorot_normal",
        "lecun_uniform",
        "lecun_normal",
        "he_uniform",
        "he_normal",
    ):
        add(T, name, {}, K4)
    # jax_compat: JAX's names, signatures and defaults. Where the scheme equals a
    # top-level one, the shape is the same, so the compiled program is shared.
    add(J, "constant", {"value": -2.5}, W2)
    add(J, "constant", {"value": 3, "dtype": "int32"}, W2, "int32")
    add(J, "zeros", None, W2)
    add(J, "ones", None, W2, bf16)
    add(J, "uniform", {}, W2)
    add(J, "uniform", {"scale": 2.0, "dtype": bf16}, W2, bf16)
    add(J, "normal", {}, W2)
    add(J, "normal", {"stddev": 1.0}, W2, f16)
    add(J, "truncated_normal", {}, W2)
    add(
        J,
        "variance_scaling",
        {"scale": 1.0 / 3.0, "mode": "fan_geo_avg", "distribution": "truncated_normal"},
        K4,
    )
    add(
        J,
        "variance_scaling",
        {"scale": 0.7, "mode": "fan_out", "distribution": "uniform", "in_axis": 1, "out_axis": 0},
        W4,
        label="torch_axes",
    )
    for name in (
        "glorot_uniform",
        "glorot_normal",
        "lecun_uniform",
        "lecun_normal",
        "he_uniform",
        "he_normal",
        "xavier_uniform",
        "xavier_normal",
        "kaiming_uniform",
        "kaiming_normal",
    ):
        add(J, name, {}, K4)
    add(J, "lecun_normal", {"dtype": bf16}, K4, bf16)
    add(J, "orthogonal", {}, W4)
    add(J, "delta_orthogonal", {"scale": 2.0, "column_axis": 0}, K3)
    # every other PRNG implementation (the bits feed every sampler the same way)
    for impl in IMPLS:
        if impl != xinit.DEFAULT_IMPL:
            add(T, "normal", {"mean": 0.0, "std": 0.02}, W2, impl=impl)
    # other seeds and paths (the key derivation itself is pinned in "keys")
    add(T, "normal", {"mean": 0.0, "std": 0.02}, W2, seed=0, path="fc.bias", label="seed0")
    add(
        T,
        "normal",
        {"mean": 0.0, "std": 0.02},
        W2,
        seed=2**63 + 5,
        path=["blocks", 3, "attn.qkv", "weight"],
        label="seed2**63",
    )
    return cases


def _record(case: Case) -> dict[str, Any]:
    module, name, kwargs, shape, dtype, options = case
    impl = options.get("impl", xinit.DEFAULT_IMPL)
    parts = [f"{'jax_compat.' if module == 'xinit.jax_compat' else ''}{name}", dtype]
    if impl != xinit.DEFAULT_IMPL:
        parts.append(impl)
    if "label" in options:
        parts.append(options["label"])
    record: dict[str, Any] = {
        "id": "-".join(parts),
        "module": module,
        "constructor": name,
        "kwargs": kwargs,
        "call": options.get("call", {}),
        "seed": options.get("seed", SEED),
        "path": options.get("path", PATH),
        "impl": impl,
        "shape": list(shape),
        "dtype": dtype,
    }
    return record


def build(record: dict[str, Any]) -> xinit.Initializer:
    """The initializer a record describes."""
    module = jax_compat if record["module"] == "xinit.jax_compat" else xinit
    obj = getattr(module, record["constructor"])
    if record["kwargs"] is None:  # jax_compat.zeros / ones are initializers themselves
        assert isinstance(obj, xinit.Initializer), record
        return obj
    return obj(**record["kwargs"])


def generate(record: dict[str, Any]) -> np.ndarray:
    """Call the record's initializer as a user would and return the values."""
    init = build(record)
    key = xinit.key_for(record["seed"], record["path"], record["impl"])
    # The dtype goes to the call unless the builder already bound it (jax_compat's dtype=).
    kwargs = record["kwargs"] or {}
    dtype = None if "dtype" in kwargs else record["dtype"]
    return np.asarray(init(key, tuple(record["shape"]), **record["call"], dtype=dtype))


def fingerprint(values: np.ndarray) -> dict[str, Any]:
    """Bit patterns and readable values of the first ``HEAD`` values, and the SHA-256
    of all bytes (little-endian, row-major)."""
    flat = np.ascontiguousarray(values).reshape(-1)
    bits = flat.view(_UINT[flat.dtype.itemsize]).astype(f"<u{flat.dtype.itemsize}")
    width = 2 * flat.dtype.itemsize
    head = flat[:HEAD]
    if np.issubdtype(flat.dtype, np.bool_):
        readable: list[Any] = [bool(v) for v in head]
    elif np.issubdtype(flat.dtype, np.integer):
        readable = [int(v) for v in head]
    else:
        readable = [float(v).hex() for v in head.astype(np.float64)]
    return {
        "head_bits": [f"{int(b):0{width}x}" for b in bits[:HEAD]],
        "head": readable,
        "sha256": hashlib.sha256(bits.tobytes()).hexdigest(),
    }


KEY_CASES: list[tuple[int, Any]] = [
    (0, "fc.weight"),
    (SEED, PATH),
    (2**32 + 7, "layers.10.mlp.0.bias"),
    (2**64 - 1, ["a.b", -3, "0", "é"]),
]


def key_record(seed: int, path: Any, impl: str) -> dict[str, Any]:
    """Everything the key derivation produces for one (seed, path, impl)."""
    w0, w1 = xinit.path_words(path)
    return {
        "seed": seed,
        "path": path,
        "impl": impl,
        "encoded_path": xinit.encode_path(path).hex(),
        "path_words": [w0, w1],
        "root_key_data": [int(w) for w in np.asarray(jax.random.key_data(xinit.key(seed, impl)))],
        "key_data": [
            int(w) for w in np.asarray(jax.random.key_data(xinit.key_for(seed, path, impl)))
        ],
    }


def main() -> None:
    print(f"xinit {xinit.__version__} from {xinit.__file__}")
    if "site-packages" not in xinit.__file__:
        sys.exit(
            "make_golden.py must run against the installed package: run scripts/setup.sh, "
            "then .venv/bin/python tests/golden/make_golden.py"
        )
    records = []
    for case in _cases():
        record = _record(case)
        assert record["id"] not in {r["id"] for r in records}, record["id"]
        record.update(fingerprint(generate(record)))
        records.append(record)
    keys = [key_record(seed, path, impl) for seed, path in KEY_CASES for impl in IMPLS]
    doc = {
        "about": "xinit golden vectors; regenerate deliberately with tests/golden/make_golden.py "
        "(see docs/spec.md, Versioning)",
        "key_scheme_version": xinit.KEY_SCHEME_VERSION,
        "generated_with": {
            "xinit": xinit.__version__,
            "jax": jax.__version__,
            "jaxlib": version("jaxlib"),
            "numpy": np.__version__,
            "backend": jax.default_backend(),
            "machine": platform.machine(),
            "jax_threefry_partitionable": bool(jax.config.jax_threefry_partitionable),
        },
        "keys": keys,
        "records": records,
    }
    OUT.write_text(json.dumps(doc, indent=1, ensure_ascii=True) + "\n")
    print(f"wrote {len(records)} records and {len(keys)} keys to {OUT}")


if __name__ == "__main__":
    main()
