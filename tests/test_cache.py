"""xinit's persistent compilation cache: location, opt-out, and a second process compiling nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from _child import run_child

import xinit

# A fresh process: initializes a small torch model and reports JAX's cache events.
CHILD = r"""
import json, jax, jax.monitoring as mon, torch, xinit
events = {"hits": 0, "misses": 0}
def listener(event, **kwargs):
    if event == "/jax/compilation_cache/cache_hits": events["hits"] += 1
    if event == "/jax/compilation_cache/cache_misses": events["misses"] += 1
mon.register_event_listener(listener)
from xinit.adapters.torch import init_module
init_module(torch.nn.Sequential(torch.nn.Linear(7, 5), torch.nn.LayerNorm(5)), seed=0)
print(json.dumps({**events, "dir": str(xinit.compilation_cache_dir()),
                  "jax_dir": jax.config.jax_compilation_cache_dir}))
"""


def _child(env: dict[str, str], cwd: Path) -> dict:
    return run_child(CHILD, env, cwd=cwd)


def test_a_second_process_compiles_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _child({xinit.CACHE_ENV: str(cache)}, tmp_path)
    assert first["jax_dir"] == str(cache) and first["misses"] > 0 and first["hits"] == 0
    assert any(cache.iterdir())
    assert len(list((cache / "executables").iterdir())) == first["misses"]
    second = _child({xinit.CACHE_ENV: str(cache)}, tmp_path)
    # xinit's own executables are loaded: nothing is even looked up in JAX's cache
    assert second["misses"] == 0 and second["hits"] == 0
    (cache / "executables").rename(tmp_path / "moved")  # JAX's cache alone still serves
    third = _child({xinit.CACHE_ENV: str(cache)}, tmp_path)
    assert third["misses"] == 0 and third["hits"] == first["misses"]


def test_off_leaves_jax_alone(tmp_path: Path) -> None:
    out = _child({xinit.CACHE_ENV: "off"}, tmp_path)
    assert out["jax_dir"] is None and out["hits"] == out["misses"] == 0


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"XINIT_COMPILATION_CACHE": "/tmp/x"}, Path("/tmp/x")),
        ({"XINIT_COMPILATION_CACHE": "OFF"}, None),
        ({"XINIT_COMPILATION_CACHE": ""}, None),
        ({"XINIT_COMPILATION_CACHE": "0"}, None),
        ({"XDG_CACHE_HOME": "/var/c"}, Path("/var/c/xinit/jax")),
        ({}, Path.home() / ".cache" / "xinit" / "jax"),
    ],
)
def test_location(monkeypatch: pytest.MonkeyPatch, env: dict, expected: Path | None) -> None:
    monkeypatch.delenv("XINIT_COMPILATION_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert xinit.compilation_cache_dir() == expected
