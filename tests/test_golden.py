"""Golden vectors: the xinit stream must not change by accident.

``tests/golden/vectors.json`` pins, for every initializer constructor, the values
that a fixed (seed, path, PRNG implementation, shape, dtype) produces, and the keys
that ``xinit.key_for`` derives. Each record is regenerated here exactly as a user
would call it and compared bit for bit (first values and a SHA-256 of all bytes).

A failure means users would get different weights from the same seed. If that is
intended, follow the steps in the failure message (docs/spec.md, "Versioning").
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jax
import numpy as np
import pytest

import xinit
from xinit import jax_compat

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
VECTORS = json.loads((GOLDEN_DIR / "vectors.json").read_text())
RECORDS: list[dict[str, Any]] = VECTORS["records"]
KEYS: list[dict[str, Any]] = VECTORS["keys"]


def _load_generator() -> Any:
    spec = importlib.util.spec_from_file_location(
        "_xinit_make_golden", GOLDEN_DIR / "make_golden.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_golden = _load_generator()

HOW_TO_UPDATE = """
The xinit stream changed: the same seed and path no longer give the same values.
If this is a bug, fix the code. If it is deliberate:
  1. if keys changed (encode_path, path_words, key, key_for), bump
     xinit.KEY_SCHEME_VERSION in xinit/_keys.py;
  2. bash scripts/setup.sh && .venv/bin/python tests/golden/make_golden.py
     (regenerates tests/golden/vectors.json from the installed package);
  3. add a "Changed" entry to CHANGELOG.md saying which initializers, dtypes or
     keys produce different values, and update docs/spec.md.
Vectors generated with {generated}; this run: jax {jax}, backend {backend}.
"""


def _how_to_update() -> str:
    g = VECTORS["generated_with"]
    generated = f"jax {g['jax']}, backend {g['backend']}"
    return HOW_TO_UPDATE.format(
        generated=generated, jax=jax.__version__, backend=jax.default_backend()
    )


def _compute(record: dict[str, Any]) -> dict[str, Any] | BaseException:
    try:
        values = make_golden.generate(record)
    except Exception as e:  # reported by the record's own test
        return e
    out = make_golden.fingerprint(values)
    out["shape"], out["dtype"] = list(values.shape), str(values.dtype)
    return out


@pytest.fixture(scope="module")
def computed() -> dict[str, dict[str, Any] | BaseException]:
    """Every record regenerated once; compilation dominates, so it runs in threads."""
    # The slowest compilations (sort, in sparse) start first.
    order = sorted(RECORDS, key=lambda r: r["constructor"] != "sparse")
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(_compute, order))
    return {r["id"]: res for r, res in zip(order, results, strict=True)}


def test_runs_against_installed_package():
    if not os.environ.get("XINIT_EXPECT_INSTALLED"):
        pytest.skip("XINIT_EXPECT_INSTALLED is not set")
    assert "site-packages" in xinit.__file__, xinit.__file__


def test_key_scheme_version():
    assert VECTORS["key_scheme_version"] == xinit.KEY_SCHEME_VERSION, (
        f"vectors.json was generated for KEY_SCHEME_VERSION {VECTORS['key_scheme_version']}, "
        f"xinit has {xinit.KEY_SCHEME_VERSION}." + _how_to_update()
    )


@pytest.mark.parametrize("record", KEYS, ids=lambda r: f"{r['impl']}-{r['seed']}-{r['path']}")
def test_keys(record):
    got = make_golden.key_record(record["seed"], record["path"], record["impl"])
    assert got == record, f"key derivation changed for {record}:\n got {got}" + _how_to_update()


@pytest.mark.parametrize("record", RECORDS, ids=[r["id"] for r in RECORDS])
def test_golden(record, computed):
    got = computed[record["id"]]
    if isinstance(got, BaseException):
        raise got
    assert (got["shape"], got["dtype"]) == (record["shape"], record["dtype"])
    if got["head_bits"] != record["head_bits"] or got["sha256"] != record["sha256"]:
        call = {k: record[k] for k in ("kwargs", "call", "seed", "path", "impl", "shape", "dtype")}
        pytest.fail(
            f"{record['module']}.{record['constructor']} {call}\n"
            f"  expected head {record['head']}\n"
            f"       got head {got['head']}\n"
            f"  expected sha256 {record['sha256']}\n"
            f"       got sha256 {got['sha256']}\n" + _how_to_update(),
            pytrace=False,
        )


def _constructors(module: Any, names: list[str]) -> set[str]:
    """Names in ``names`` that are Initializers or functions returning one."""
    out = set()
    for name in names:
        obj = getattr(module, name)
        if isinstance(obj, xinit.Initializer):
            out.add(name)
        elif inspect.isfunction(obj):
            ret = inspect.signature(obj).return_annotation
            if ret in (xinit.Initializer, "Initializer"):
                out.add(name)
    return out


def test_every_constructor_has_a_vector():
    top = _constructors(xinit, xinit.__all__)
    compat = _constructors(jax_compat, jax_compat.__all__)
    assert "kaiming_uniform" in top and "zeros" in compat  # the detection works
    assert compat == set(jax_compat.__all__)
    covered = {(r["module"], r["constructor"]) for r in RECORDS}
    missing = sorted(
        ({("xinit", n) for n in top} | {("xinit.jax_compat", n) for n in compat}) - covered
    )
    assert not missing, (
        f"no golden vector for {missing}: add a case to tests/golden/make_golden.py "
        "and regenerate vectors.json"
    )


def test_every_prng_impl_has_vectors():
    assert {r["impl"] for r in RECORDS} == set(xinit.IMPLS)
    assert {r["impl"] for r in KEYS} == set(xinit.IMPLS)


def test_fingerprint_is_little_endian_row_major():
    values = np.arange(3, dtype=np.float32).reshape(1, 3)
    fp = make_golden.fingerprint(values)
    assert fp["head_bits"] == ["00000000", "3f800000", "40000000"]
    assert fp["head"] == ["0x0.0p+0", "0x1.0000000000000p+0", "0x1.0000000000000p+1"]
