"""Every script in examples/ runs as a user would run it, and passes its own checks.

Each example asserts what it shows (identical weights, matching outputs, the
stds a recipe gives) and ends by printing a line starting with ``OK:``. The
scripts run in subprocesses, all started at once (they spend most of their
time importing torch, JAX and Flax), against the installed xinit: a script's
directory, not the repository root, is first on its ``sys.path``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
TIMEOUT = 240


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.Popen]:
    """Start every example at once; each test waits for its own."""
    cwd = tmp_path_factory.mktemp("examples")
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "XINIT_EXAMPLE_SIZE": "small"}
    procs = {
        path.name: subprocess.Popen(
            [sys.executable, str(path)],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in EXAMPLES
    }
    yield procs
    for proc in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_four_examples_exist() -> None:
    names = {p.name for p in EXAMPLES}
    assert {"torch_drop_in.py", "meta_init.py", "flax_kernel_init.py", "porting.py"} <= names


@pytest.mark.parametrize("name", [p.name for p in EXAMPLES])
def test_example_runs_and_passes_its_checks(name: str, runs: dict[str, subprocess.Popen]) -> None:
    proc = runs[name]
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"{name} did not finish in {TIMEOUT} s:\n{out[-2000:]}\n{err[-2000:]}")
    assert proc.returncode == 0, f"{name} failed:\n{out[-3000:]}\n{err[-3000:]}"
    assert out.strip().splitlines()[-1].startswith("OK:"), out[-2000:]
    assert "Traceback" not in err


def test_examples_have_a_docstring_that_says_how_to_run_them() -> None:
    for path in EXAMPLES:
        text = path.read_text()
        assert text.startswith('"""'), path.name
        assert f"python examples/{path.name}" in text, path.name
