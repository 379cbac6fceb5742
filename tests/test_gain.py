"""``xinit.calculate_gain`` against ``torch.nn.init.calculate_gain``: values, types and errors."""

from __future__ import annotations

import numpy as np
import pytest
from torch.nn.init import calculate_gain as torch_gain

import xinit

LEAKY_PARAMS = [None, 0, 0.2, 1, 5.0, -0.5, np.float64(0.3)]

CASES = [
    *[pytest.param(name, None, id=name) for name in xinit.NONLINEARITIES],
    *[pytest.param("leaky_relu", p, id=f"leaky_relu-{p!r}") for p in LEAKY_PARAMS],
    # The parameter is ignored (not even checked) for everything but leaky_relu.
    pytest.param("relu", "x", id="relu-ignores-param"),
    pytest.param("tanh", True, id="tanh-ignores-param"),
    pytest.param("linear", 3, id="linear-ignores-param"),
    pytest.param("selu", -1.0, id="selu-ignores-param"),
]


@pytest.mark.parametrize(("nonlinearity", "param"), CASES)
def test_gain_equals_torch(nonlinearity, param):
    expected = torch_gain(nonlinearity, param)
    got = xinit.calculate_gain(nonlinearity, param)
    assert type(got) is type(expected), (got, expected)  # e.g. int 1 for linear
    assert got == expected


def test_param_defaults_to_none():
    assert xinit.calculate_gain("leaky_relu") == torch_gain("leaky_relu")
    assert xinit.calculate_gain("tanh") == torch_gain("tanh")


CANDIDATES = [
    *xinit.NONLINEARITIES,
    "gelu",
    "elu",
    "silu",
    "softplus",
    "identity",
    "Linear",
    "ReLU",
    "leaky relu",
    "conv4d",
    "conv_transpose4d",
    "",
]


def test_nonlinearities_are_exactly_torchs():
    """Every candidate name is accepted by both or refused by both."""

    def accepts(fn, name):
        try:
            fn(name)
        except ValueError:
            return False
        return True

    torch_names = {n for n in CANDIDATES if accepts(torch_gain, n)}
    assert {n for n in CANDIDATES if accepts(xinit.calculate_gain, n)} == torch_names
    assert set(xinit.NONLINEARITIES) == torch_names
    assert len(set(xinit.NONLINEARITIES)) == len(xinit.NONLINEARITIES)


@pytest.mark.parametrize(
    ("nonlinearity", "param"),
    [
        ("gelu", None),
        ("Linear", None),
        ("RELU", 0.1),
        ("", None),
        ("leaky_relu", True),
        ("leaky_relu", False),
        ("leaky_relu", "x"),
        ("leaky_relu", "0.1"),
        ("leaky_relu", [0.1]),
        ("leaky_relu", np.float32(0.2)),  # not a Python float: torch refuses it
        ("leaky_relu", np.int64(1)),
    ],
)
def test_errors_equal_torch(nonlinearity, param):
    with pytest.raises(Exception) as torch_info:
        torch_gain(nonlinearity, param)
    with pytest.raises(Exception) as info:
        xinit.calculate_gain(nonlinearity, param)
    assert type(info.value) is type(torch_info.value)
    assert str(info.value) == str(torch_info.value)
