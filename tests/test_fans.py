"""``xinit.fans`` against torch's ``_calculate_fan_in_and_fan_out`` and JAX's ``_compute_fans``."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from jax._src.nn.initializers import _compute_fans
from torch import nn
from torch.nn.init import _calculate_fan_in_and_fan_out

import xinit

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True)

dims = st.integers(1, 9)


def torch_fans(shape) -> tuple[int, int]:
    return _calculate_fan_in_and_fan_out(torch.empty(shape))


def jax_fans(shape, in_axis=-2, out_axis=-1, batch_axis=()) -> tuple[int, int]:
    fan_in, fan_out = _compute_fans(shape, in_axis, out_axis, batch_axis)
    # JAX returns floats; for these small shapes they hold exact integers.
    assert fan_in == round(fan_in) and fan_out == round(fan_out)
    return round(fan_in), round(fan_out)


def assert_int_pair(fans: tuple[int, int]) -> None:
    assert isinstance(fans, tuple) and len(fans) == 2
    assert all(type(f) is int for f in fans), fans


@PROPERTY
@given(st.lists(st.integers(0, 9), min_size=2, max_size=5).map(tuple))
def test_torch_layout_equals_torch(shape):
    expected = torch_fans(shape)
    got = xinit.fans(shape, "torch")
    assert_int_pair(got)
    assert got == expected
    assert xinit.fans(shape) == expected  # torch's layout is the default
    assert xinit.fans(shape, xinit.TORCH) == expected


@PROPERTY
@given(st.lists(dims, min_size=2, max_size=5).map(tuple))
def test_flax_layout_equals_jax(shape):
    got = xinit.fans(shape, "flax")
    assert_int_pair(got)
    assert got == jax_fans(shape)
    assert xinit.fans(shape, xinit.FLAX) == got


@st.composite
def shapes_and_axes(draw):
    """A shape and a random split of its axes into in/out/batch/receptive field,
    each axis possibly written from the end, each group an int or a tuple."""
    ndim = draw(st.integers(1, 5))
    shape = tuple(draw(st.lists(dims, min_size=ndim, max_size=ndim)))
    roles = draw(
        st.lists(st.sampled_from(["in", "out", "batch", "field"]), min_size=ndim, max_size=ndim)
    )

    def axes(role):
        chosen = [i - ndim if draw(st.booleans()) else i for i, r in enumerate(roles) if r == role]
        chosen = draw(st.permutations(chosen))
        if len(chosen) == 1 and draw(st.booleans()):
            return chosen[0]
        return tuple(chosen)

    return shape, axes("in"), axes("out"), axes("batch")


@PROPERTY
@given(shapes_and_axes())
def test_explicit_layout_equals_jax(case):
    shape, in_axis, out_axis, batch_axis = case
    layout = xinit.Layout(in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis)
    got = xinit.fans(shape, layout)
    assert_int_pair(got)
    assert got == jax_fans(shape, in_axis, out_axis, batch_axis)


CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
CONV_T = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}
kernels = st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple)


@PROPERTY
@given(groups=st.integers(1, 4), in_per=st.integers(1, 4), out_per=st.integers(1, 4), k=kernels)
def test_grouped_conv_weights(groups, in_per, out_per, k):
    conv = CONV[len(k)](groups * in_per, groups * out_per, k, groups=groups, device="meta")
    shape = tuple(conv.weight.shape)
    expected = _calculate_fan_in_and_fan_out(conv.weight)
    assert xinit.fans(shape, "torch") == expected
    # torch's convention, kept on purpose: fan_in is per group, fan_out is not.
    kp = math.prod(k)
    assert expected == (in_per * kp, groups * out_per * kp)
    # The same kernel stored the Flax way, (*k, in/groups, out).
    flax_shape = (*k, in_per, groups * out_per)
    assert xinit.fans(flax_shape, "flax") == jax_fans(flax_shape) == expected


@PROPERTY
@given(groups=st.integers(1, 4), in_per=st.integers(1, 4), out_per=st.integers(1, 4), k=kernels)
def test_transposed_conv_weights(groups, in_per, out_per, k):
    conv = CONV_T[len(k)](groups * in_per, groups * out_per, k, groups=groups, device="meta")
    shape = tuple(conv.weight.shape)  # (in, out/groups, *k)
    expected = _calculate_fan_in_and_fan_out(conv.weight)
    assert xinit.fans(shape, "torch") == expected
    # torch computes them as for a convolution, so its "fan_in" is (out/groups)·k.
    kp = math.prod(k)
    assert expected == (out_per * kp, groups * in_per * kp)


@PROPERTY
@given(out_features=dims, in_features=dims, batch=st.lists(dims, max_size=2).map(tuple))
def test_torch_linear_with_explicit_axes(out_features, in_features, batch):
    """A torch Linear weight (out, in), optionally with leading batch axes,
    described by JAX-style axes in_axis=-1, out_axis=-2."""
    shape = (*batch, out_features, in_features)
    batch_axis = tuple(range(len(batch)))
    layout = xinit.Layout(in_axis=-1, out_axis=-2, batch_axis=batch_axis)
    got = xinit.fans(shape, layout)
    assert got == (in_features, out_features)
    assert got == jax_fans(shape, -1, -2, batch_axis)
    if not batch:
        assert got == torch_fans(shape)


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["torch", "flax", xinit.TORCH, xinit.FLAX])
@pytest.mark.parametrize("shape", [(5,), (), (0,)])
def test_named_layout_needs_2d_with_torchs_message(shape, layout):
    with pytest.raises(ValueError) as torch_info:
        torch_fans(shape)
    with pytest.raises(ValueError) as info:
        xinit.fans(shape, layout)
    assert str(info.value) == str(torch_info.value)


@pytest.mark.parametrize(
    ("shape", "layout", "message"),
    [
        ((3, 4), xinit.Layout(in_axis=2, out_axis=0), r"in_axis=2 is out of range"),
        ((3, 4), xinit.Layout(in_axis=1, out_axis=-3), r"out_axis=-3 is out of range"),
        (
            (3, 4, 5),
            xinit.Layout(in_axis=1, out_axis=0, batch_axis=(2, 3)),
            r"batch_axis=3 is out of range",
        ),
        ((5,), xinit.Layout(in_axis=1, out_axis=0), r"in_axis=1 is out of range"),
        (
            (3, 4),
            xinit.Layout(in_axis=0, out_axis=0),
            r"axis 0 is named by both in_axis and out_axis",
        ),
        (
            (3, 4),
            xinit.Layout(in_axis=1, out_axis=-1),
            r"axis -1 is named by both in_axis and out_axis",
        ),
        (
            (3, 4, 5),
            xinit.Layout(in_axis=(0, 1), out_axis=1),
            r"named by both in_axis and out_axis",
        ),
        (
            (3, 4, 5),
            xinit.Layout(in_axis=0, out_axis=1, batch_axis=(2, -3)),
            r"named by both in_axis and batch_axis",
        ),
        ((3, 4, 5), xinit.Layout(in_axis=(1, 1), out_axis=0), r"named by both in_axis and in_axis"),
    ],
)
def test_bad_axes(shape, layout, message):
    with pytest.raises(ValueError, match=message):
        xinit.fans(shape, layout)


def test_unknown_layout_name():
    with pytest.raises(ValueError, match=r"'torch', 'flax' or a xinit.Layout"):
        xinit.fans((3, 4), "jax")


@pytest.mark.parametrize("axis", [True, 1.5, "0", (0, 1.0)])
def test_layout_axes_must_be_ints(axis):
    with pytest.raises(TypeError, match="in_axis must be an int or a sequence of ints"):
        xinit.Layout(in_axis=axis, out_axis=0)
