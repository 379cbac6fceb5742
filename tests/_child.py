"""Run a Python snippet in a fresh CPU-only process and read the JSON it prints last."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def run_child(code: str, env: dict[str, str], *args: str, cwd: Path | None = None) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        env={**os.environ, "JAX_PLATFORMS": "cpu", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
