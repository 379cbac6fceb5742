"""Packaging: import footprint, the installed copy, the wheel, version and docs."""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import json
import os
import re
import subprocess
import sys
import sysconfig
import types
import zipfile
from pathlib import Path

import pytest
import tomllib

import xinit
from xinit import jax_compat
from xinit.adapters import flax as xf
from xinit.adapters import torch as xt

ROOT = Path(__file__).resolve().parent.parent
EXPECT_INSTALLED = os.environ.get("XINIT_EXPECT_INSTALLED") == "1"


def _run_python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter that imports the same xinit as this process."""
    pythonpath = [str(Path(xinit.__file__).resolve().parent.parent)]
    if os.environ.get("PYTHONPATH"):
        pythonpath.append(os.environ["PYTHONPATH"])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(pythonpath), "JAX_PLATFORMS": "cpu"}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_import_does_not_pull_in_torch_or_flax(tmp_path: Path) -> None:
    code = (
        "import json, sys\n"
        "before = set(sys.modules)\n"
        "import xinit, xinit.jax_compat\n"
        "xinit.kaiming_uniform()(xinit.key(0), (3, 4))\n"
        "new = sorted(set(sys.modules) - before)\n"
        "print(json.dumps([xinit.__file__, new]))\n"
    )
    proc = _run_python(code, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    file, new = json.loads(proc.stdout.strip().splitlines()[-1])
    assert Path(file).resolve() == Path(xinit.__file__).resolve()  # the same copy as here
    assert "jax" in new and "numpy" in new
    heavy = [m for m in new if m.split(".")[0] in ("torch", "flax", "optax", "tensorflow")]
    assert heavy == []
    assert not [m for m in new if m.startswith("xinit.adapters")]


@pytest.mark.skipif(not EXPECT_INSTALLED, reason="XINIT_EXPECT_INSTALLED is not set")
def test_tests_run_against_the_installed_package() -> None:
    installed = Path(xinit.__file__).resolve()
    site_dirs = {Path(sysconfig.get_paths()[k]).resolve() for k in ("purelib", "platlib")}
    assert any(d in installed.parents for d in site_dirs), installed
    assert ROOT / "xinit" not in installed.parents
    adapters = importlib.import_module("xinit.adapters")
    assert Path(adapters.__file__).resolve().parent == installed.parent / "adapters"
    # the installed copy is the current source, module by module
    sources = [
        (ROOT / "xinit", installed.parent),
        (ROOT / "adapters", installed.parent / "adapters"),
    ]
    for src_dir, dst_dir in sources:
        for src in sorted(src_dir.rglob("*.py")):
            assert (dst_dir / src.relative_to(src_dir)).read_bytes() == src.read_bytes(), (
                f"{src} differs from the installed copy: run scripts/setup.sh"
            )


def test_wheel_contents(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    wheels = list(tmp_path.glob("xinit-*.whl"))
    assert len(wheels) == 1, wheels
    with zipfile.ZipFile(wheels[0]) as whl:
        names = set(whl.namelist())
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = whl.read(metadata).decode()
        entry_points = whl.read(metadata.replace("METADATA", "entry_points.txt")).decode()
    for required in [
        "xinit/__init__.py",
        "xinit/py.typed",
        "xinit/adapters/__init__.py",
        "xinit/adapters/_scheme.py",
        "xinit/adapters/torch/__init__.py",
        "xinit/adapters/flax/__init__.py",
        "xinit/jax_compat.py",
    ]:
        assert required in names
    assert not [n for n in names if n.startswith(("tests/", "adapters/", "benchmarks/"))]
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert re.search(rf"^Version: {re.escape(version)}$", meta, re.M)
    assert re.search(r"^Name: xinit$", meta, re.M)
    assert "xinit = xinit._cli:main" in entry_points


def test_version() -> None:
    try:
        installed = importlib.metadata.version("xinit")
    except importlib.metadata.PackageNotFoundError:
        assert not EXPECT_INSTALLED
        assert xinit.__version__ == "0+unknown"
        return
    assert xinit.__version__ == installed
    if EXPECT_INSTALLED:  # installed from this tree
        pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
        assert installed == pyproject["project"]["version"]


def _comment_doc(module: types.ModuleType, name: str) -> str:
    """The ``#:`` comment block right above ``name = ...`` in a module's source."""
    lines = inspect.getsource(module).splitlines()
    for i, line in enumerate(lines):
        if re.match(rf"{re.escape(name)}\s*(:[^=]*)?=", line):
            doc = []
            while i > 0 and lines[i - 1].startswith("#:"):
                i -= 1
                doc.insert(0, lines[i][2:].strip())
            return " ".join(doc)
    return ""


def _defining_modules(name: str) -> list[types.ModuleType]:
    return [
        m
        for n, m in sorted(sys.modules.items())
        if (n == "xinit" or n.startswith("xinit.")) and m is not None and name in vars(m)
    ]


def _documentation(namespace: types.ModuleType, name: str) -> str:
    obj = getattr(namespace, name)
    if isinstance(obj, (types.FunctionType, types.ModuleType, type)):
        return (obj.__doc__ or "").strip()
    # data: documented with a #: comment where it is assigned
    return next((d for m in _defining_modules(name) if (d := _comment_doc(m, name))), "")


@pytest.mark.parametrize(
    ("namespace", "name"),
    [(xinit, n) for n in xinit.__all__ if n != "__version__"]
    + [(jax_compat, n) for n in jax_compat.__all__]
    + [(xt, n) for n in xt.__all__]
    + [(xf, n) for n in xf.__all__],
    ids=lambda v: v if isinstance(v, str) else v.__name__,
)
def test_public_names_exist_and_are_documented(namespace: types.ModuleType, name: str) -> None:
    assert hasattr(namespace, name)
    doc = _documentation(namespace, name)
    assert len(doc) >= 20, f"{namespace.__name__}.{name} has no docstring"


def test_all_lists_are_consistent() -> None:
    for namespace in [xinit, jax_compat, xt, xf]:
        assert len(set(namespace.__all__)) == len(namespace.__all__)
    assert "__version__" in xinit.__all__ and isinstance(xinit.__version__, str)
    # every public initializer constructor of the top level is exported
    public = {
        n
        for n, v in vars(xinit).items()
        if not n.startswith("_") and not isinstance(v, types.ModuleType)
    }
    assert public - {"annotations"} <= set(xinit.__all__) | {"PackageNotFoundError", "version"}
