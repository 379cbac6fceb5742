"""Compilation: re-initializing a model of the same shapes compiles nothing new, and one
model compiles at most one program per group of parameters that share (initializer, shape, dtype);
small tensors of different shapes share one window program per (initializer, window size, dtype)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager

import jax.monitoring
import pytest
import torch
from flax import nnx
from torch import nn

from xinit.adapters import flax as xf
from xinit.adapters import torch as xt

_EVENT = "/jax/core/compile/backend_compile_duration"
_counts: list[int] = []


def _listener(event: str, duration: float, **kwargs: object) -> None:
    if event == _EVENT and _counts:
        _counts[-1] += 1


jax.monitoring.register_event_duration_secs_listener(_listener)


@contextmanager
def compiles() -> Iterator[list[int]]:
    """Counts XLA backend compiles inside the block (the list's only item)."""
    _counts.append(0)
    box = [0]
    try:
        yield box
    finally:
        box[0] = _counts.pop()


class Net(nn.Module):
    """Twelve parameters in six (initializer, shape) groups, a width no other test uses."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Linear(37, 37), nn.LayerNorm(37)) for _ in range(3)
        )


def test_reinitializing_the_same_shapes_compiles_nothing() -> None:
    with compiles() as first:
        xt.init_module(Net(), seed=0)
    # torch_default_weight (37, 37), torch_default_bias (37,), ones (37,), zeros (37,):
    # at most one program per group, whatever the number of parameters (12), and none
    # for the keys (threefry4x32 keys are derived on the host). Fewer where an earlier
    # test compiled the same window program (it does not depend on the shape).
    groups = {("w", (37, 37)), ("b", (37,)), ("ones", (37,)), ("zeros", (37,))}
    assert first[0] <= len(groups)
    with compiles() as second:
        xt.init_module(Net(), seed=1)
        with torch.device("meta"):
            lazy = Net()
        xt.materialize(lazy, seed=2**40 + 2)
    assert second[0] == 0


class Mixed(nn.Module):
    """Six small layers of different shapes: twelve (initializer, shape) groups."""

    def __init__(self) -> None:
        super().__init__()
        widths = [23, 31, 37, 43, 47, 53, 59]  # every weight under 4096 values
        self.layers = nn.Sequential(*(nn.Linear(a, b) for a, b in itertools.pairwise(widths)))


def test_small_tensors_of_many_shapes_share_window_programs() -> None:
    with compiles() as first:
        xt.init_module(Mixed(), seed=0)
    # one window program for every weight and one for every bias (4096 values each),
    # where per-shape generation compiles twelve
    assert first[0] <= 2
    with compiles() as second:
        xt.init_module(Mixed(), seed=3, scheme="flax")  # lecun_normal weights, zero biases
    assert second[0] <= 2


@pytest.mark.parametrize("scheme", ["torch", "flax"])
def test_flax_small_tensors_share_window_programs(scheme: str) -> None:
    widths = [23, 31, 37, 43, 47, 53, 59]  # as Mixed: twelve (initializer, shape) groups

    def make() -> nnx.Module:
        layers = (nnx.Linear(a, b, rngs=nnx.Rngs(0)) for a, b in itertools.pairwise(widths))
        return nnx.Sequential(*layers)

    with compiles() as first:
        xf.init_nnx(make, seed=0, scheme=scheme)
    # one window program for the weights and one for the biases; the layouts are
    # rearranged on the host, so nothing compiles per shape
    assert first[0] <= 2


@pytest.mark.parametrize("scheme", ["torch", "flax"])
def test_flax_reinit_compiles_nothing(scheme: str) -> None:
    def make() -> nnx.Module:
        return nnx.Sequential(
            nnx.Linear(29, 29, rngs=nnx.Rngs(0)), nnx.Linear(29, 29, rngs=nnx.Rngs(0))
        )

    xf.init_nnx(make, seed=0, scheme=scheme)
    with compiles() as again:
        xf.init_nnx(make, seed=5, scheme=scheme)
    assert again[0] == 0
