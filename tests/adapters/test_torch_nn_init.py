"""The torch.nn.init drop-in of xinit.adapters.torch, against torch.nn.init itself.

Every random function is drawn through the drop-in (a fixed JAX key) and through
torch (``torch.manual_seed`` fixed) on the same tensor and hyperparameters, and
the two samples are compared with a two-sample KS test; each is also compared
with the distribution torch documents, computed from torch's own fans and gains.
Deterministic functions must equal torch's output exactly, in every dtype. Bad
input must raise the exception type torch raises on the same input and leave the
tensor as it was. The rest checks the contract: in place on views and ``.data``,
the same object returned, dtypes, meta tensors, the three key sources
(``key=``, ``generator=``, the ``manual_seed`` stream) and torch's signatures.
"""

from __future__ import annotations

import inspect
import math

import jax
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import stats
from torch import nn
from torch.nn import init as tinit

import xinit
from xinit.adapters import torch as xt
from xinit.adapters.torch import _nn_init

SEED = 20_240_611
KS_P = 1e-3
F32_EPS = float(np.finfo(np.float32).eps)

RANDOM = (
    "uniform_",
    "normal_",
    "trunc_normal_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "orthogonal_",
    "sparse_",
)
DETERMINISTIC = ("constant_", "ones_", "zeros_", "eye_", "dirac_")
DEPRECATED = (
    "uniform",
    "normal",
    "constant",
    "eye",
    "dirac",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "orthogonal",
    "sparse",
)

# At least 10^4 elements each, so one call gives a whole sample. Each (function,
# hyperparameters, shape, dtype) compiles one XLA program (0.1-0.5 s on a small CPU);
# the tests below reuse these cases wherever they can, so that they hit the cache.
S1 = (12_000,)
S2 = (128, 96)
S3 = (64, 16, 12)
S4 = (32, 16, 5, 5)


def _key(seed: int = SEED) -> jax.Array:
    return xinit.key(seed)


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    return tinit._calculate_fan_in_and_fan_out(torch.empty(shape))


def _core(name: str, shape, key: jax.Array, **hyper) -> np.ndarray:
    """The core initializer's float32 values for the drop-in function ``name``."""
    return np.array(getattr(xinit, name.rstrip("_"))(**hyper)(key, shape))


# -- the distributions torch documents, from torch's fans and gains -------------------------


def _th_uniform(shape, a=0.0, b=1.0):
    return stats.uniform(a, b - a), (a, b)


def _th_normal(shape, mean=0.0, std=1.0):
    return stats.norm(mean, std), None


def _th_trunc_normal(shape, mean=0.0, std=1.0, a=-2.0, b=2.0):
    return stats.truncnorm((a - mean) / std, (b - mean) / std, mean, std), None


def _th_xavier_uniform(shape, gain=1.0):
    fi, fo = _fans(shape)
    bound = gain * math.sqrt(6.0 / (fi + fo))
    return stats.uniform(-bound, 2 * bound), (-bound, bound)


def _th_xavier_normal(shape, gain=1.0):
    fi, fo = _fans(shape)
    return stats.norm(0.0, gain * math.sqrt(2.0 / (fi + fo))), None


def _kaiming_std(shape, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    fi, fo = _fans(shape)
    fan = {"fan_in": fi, "fan_out": fo}[mode.lower()]
    return tinit.calculate_gain(nonlinearity, a) / math.sqrt(fan)


def _th_kaiming_uniform(shape, **hyper):
    bound = math.sqrt(3.0) * _kaiming_std(shape, **hyper)
    return stats.uniform(-bound, 2 * bound), (-bound, bound)


def _th_kaiming_normal(shape, **hyper):
    return stats.norm(0.0, _kaiming_std(shape, **hyper)), None


THEORY = {
    "uniform_": _th_uniform,
    "normal_": _th_normal,
    "trunc_normal_": _th_trunc_normal,
    "xavier_uniform_": _th_xavier_uniform,
    "xavier_normal_": _th_xavier_normal,
    "kaiming_uniform_": _th_kaiming_uniform,
    "kaiming_normal_": _th_kaiming_normal,
}

# (function, hyperparameters, shape): 1-D where torch allows it, 2-D, conv 3-D and 4-D.
# trunc_normal_ on a 1-D tensor is test_trunc_normal_far_tail_warns_as_torch.
DISTRIBUTION_CASES = [
    ("uniform_", {}, S1),
    ("uniform_", {"a": -2.0, "b": 3.0}, S4),
    ("normal_", {}, S1),
    ("normal_", {"mean": 1.0, "std": 0.5}, S2),
    ("trunc_normal_", {"std": 0.02}, S2),  # bounds ±2 = ±100 std: effectively untruncated
    ("trunc_normal_", {"mean": 1.0, "std": 2.0, "a": 0.0, "b": 3.0}, S4),
    ("xavier_uniform_", {}, S2),
    ("xavier_normal_", {"gain": 0.5}, S3),
    ("kaiming_uniform_", {}, S2),
    ("kaiming_uniform_", {"a": math.sqrt(5.0)}, S4),  # torch's Linear/Conv default
    ("kaiming_normal_", {"a": 0.2, "mode": "FAN_OUT", "nonlinearity": "tanh"}, S3),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, S4),
]


def _case_id(name, hyper, shape=None):
    args = ",".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in hyper.items()
    )
    return f"{name}({args})" + (f"-{shape}" if shape is not None else "")


def _ks2(x: np.ndarray, t: np.ndarray) -> float:
    return stats.ks_2samp(x.astype(np.float64), t.astype(np.float64), method="asymp").pvalue


def _torch_sample(name: str, shape, *args, **hyper) -> np.ndarray:
    torch.manual_seed(SEED)
    return getattr(tinit, name)(torch.empty(shape), *args, **hyper).numpy().ravel()


@pytest.mark.parametrize(
    ("name", "hyper", "shape"),
    [pytest.param(*c, id=_case_id(*c)) for c in DISTRIBUTION_CASES],
)
def test_distribution_matches_torch(name, hyper, shape):
    tensor = torch.empty(shape)
    assert getattr(xt, name)(tensor, **hyper, key=_key()) is tensor
    x = tensor.numpy().ravel()
    # key= gives exactly the core initializer's values for that key.
    np.testing.assert_array_equal(x, _core(name, shape, _key(), **hyper).ravel())
    t = _torch_sample(name, shape, **hyper)
    assert x.size >= 10_000
    p = _ks2(x, t)
    assert p > KS_P, f"xinit vs torch: KS p={p:.3g}"
    dist, bounds = THEORY[name](shape, **hyper)
    for who, s in (("xinit", x), ("torch", t)):
        one = stats.kstest(s.astype(np.float64), dist.cdf).pvalue
        assert one > KS_P, f"{who} vs theory: KS p={one:.3g}"
    if bounds is not None:
        lo, hi = bounds
        if name == "uniform_":  # exactly [a, b) in float32
            assert x.min() >= np.float32(lo)
            assert x.max() < np.float32(hi)
        else:  # ±bound computed in float arithmetic: a few ulps of slack
            assert np.abs(x).max() <= hi * (1 + 4 * F32_EPS)
        # The bound itself, not just a limit: 10^4 uniform draws come within
        # 0.1% of either end with probability 1 - 2e-5.
        assert x.min() <= lo + (hi - lo) * 1e-3
        assert x.max() >= hi - (hi - lo) * 1e-3


def test_trunc_normal_far_tail_warns_as_torch():
    hyper = {"mean": 0.0, "std": 1.0, "a": 2.5, "b": 4.0}
    with pytest.warns(UserWarning) as torch_record:
        t = _torch_sample("trunc_normal_", S1, **hyper)
    with pytest.warns(UserWarning) as xinit_record:
        x = xt.trunc_normal_(torch.empty(S1), **hyper, key=_key()).numpy()
    assert [str(w.message) for w in xinit_record] == [str(w.message) for w in torch_record]
    assert x.min() >= 2.5 and x.max() <= 4.0
    assert _ks2(x, t) > KS_P


def test_orthogonal_entries_match_torch():
    t = torch.empty(S2)
    x = xt.orthogonal_(t, key=_key()).numpy().ravel()
    np.testing.assert_array_equal(x, _core("orthogonal_", S2, _key()).ravel())
    assert _ks2(x, _torch_sample("orthogonal_", S2)) > KS_P


# sparse_'s program is slow to compile: one small shape, drawn repeatedly.
SPARSE = ((10, 64), 0.3, 0.5)  # 0.3 * 10 = 3.0000000000000004: ceil gives 4 zeros per column


def test_sparse_matches_torch():
    shape, sparsity, std = SPARSE
    keys = [jax.random.fold_in(_key(), i) for i in range(27)]  # 27 * 6 * 64 >= 10^4 nonzeros
    xs = np.stack([xt.sparse_(torch.empty(shape), sparsity, std, key=k).numpy() for k in keys])
    np.testing.assert_array_equal(
        xs[0], _core("sparse_", shape, keys[0], sparsity=sparsity, std=std)
    )
    torch.manual_seed(SEED)
    ts = np.stack([tinit.sparse_(torch.empty(shape), sparsity, std).numpy() for _ in keys])
    num_zeros = math.ceil(sparsity * shape[0])
    for who, s in (("xinit", xs), ("torch", ts)):
        np.testing.assert_array_equal((s == 0).sum(axis=1), num_zeros, err_msg=who)
    x_nz, t_nz = xs[xs != 0], ts[ts != 0]
    assert x_nz.size >= 10_000
    assert _ks2(x_nz, t_nz) > KS_P
    assert stats.kstest(x_nz.astype(np.float64), stats.norm(0, std).cdf).pvalue > KS_P
    # The zero rows of a column are a uniformly random subset.
    assert stats.chisquare((xs == 0).sum(axis=(0, 2))).pvalue > KS_P


@pytest.mark.parametrize(
    "make_key",
    [
        pytest.param(lambda: xinit.key_for(7, "encoder.0.weight"), id="xinit.key_for"),
        pytest.param(lambda: jax.random.key(7), id="jax.random.key"),  # threefry2x32
    ],
)
def test_other_keys_give_the_core_values(make_key):
    key = make_key()
    t = xt.normal_(torch.empty(S1), key=key)
    np.testing.assert_array_equal(t.numpy(), _core("normal_", S1, key))


# -- deterministic functions: exactly torch's output, every dtype -------------------------

DTYPES = {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float64": torch.float64,
    "int64": torch.int64,
    "int32": torch.int32,
    "uint8": torch.uint8,
    "bool": torch.bool,
    "complex64": torch.complex64,
}


def _same_tensor(ours: torch.Tensor, theirs: torch.Tensor) -> None:
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    assert torch.equal(ours, theirs), f"{ours}\n!=\n{theirs}"


DETERMINISTIC_CASES = [
    ("ones_", (), (3, 4)),
    ("zeros_", (), (2, 3, 4)),
    ("eye_", (), (3, 5)),
    ("dirac_", (2,), (6, 2, 3, 2)),
]


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize(
    ("name", "args", "shape"), DETERMINISTIC_CASES, ids=lambda v: str(v).replace(" ", "")
)
def test_deterministic_equal_torch(name, args, shape, dtype):
    tensor = torch.full(shape, 7, dtype=DTYPES[dtype])
    assert getattr(xt, name)(tensor, *args) is tensor
    _same_tensor(tensor, getattr(tinit, name)(torch.full(shape, 7, dtype=DTYPES[dtype]), *args))


@pytest.mark.parametrize(
    ("val", "dtype"),
    [
        (0.1, "float32"),
        (0.1, "float64"),  # exactly 0.1, not through float32
        (0.1, "bfloat16"),
        (-3, "float16"),
        (2.7, "int64"),
        (-2.7, "int32"),
        (-1, "uint8"),  # wraps to 255, as torch
        (1e-3, "bool"),
        (True, "float32"),
        (1 + 2j, "complex64"),
        (np.float32(0.25), "float32"),
        (torch.tensor(1.5), "float32"),
        (math.inf, "float32"),
    ],
    ids=str,
)
def test_constant_equals_torch(val, dtype):
    tensor = torch.zeros(3, 2, dtype=DTYPES[dtype])
    assert xt.constant_(tensor, val) is tensor
    _same_tensor(tensor, tinit.constant_(torch.zeros(3, 2, dtype=DTYPES[dtype]), val))


_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


@pytest.mark.parametrize(
    ("channels", "kernel", "groups"),
    [
        (4, (3,), 1),
        (6, (5,), 3),
        (4, (3, 3), 1),
        (6, (3, 5), 2),
        (4, (2, 3), 1),  # an even kernel: the centre is k // 2
        (4, (3, 3, 3), 1),
        (6, (1, 3, 3), 3),
    ],
    ids=str,
)
def test_dirac_is_identity_through_conv(channels, kernel, groups):
    w = xt.dirac_(torch.empty((channels, channels // groups, *kernel)), groups)
    spatial = (7, 6, 5)[: len(kernel)]
    inp = torch.randn((2, channels, *spatial), generator=torch.Generator().manual_seed(SEED))
    out = _CONV[len(kernel)](inp, w, padding=[k // 2 for k in kernel], groups=groups)
    out = out[(..., *(slice(0, s) for s in spatial))]  # an even kernel adds one position
    torch.testing.assert_close(out, inp, rtol=0, atol=1e-6)


def test_eye_is_identity_through_linear():
    w = xt.eye_(torch.empty(5, 3).t())  # (3, 5) as a transposed view, like eye_'s case above
    x = torch.randn(4, 5, generator=torch.Generator().manual_seed(SEED))
    torch.testing.assert_close(F.linear(x, w), x[:, :3], rtol=0, atol=0)


# -- structure of orthogonal_ ------------------------------------------------------------------


def _gram_on_smaller_side(w: torch.Tensor) -> np.ndarray:
    m = w.reshape(w.shape[0], -1).double().numpy()
    return m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m


@pytest.mark.parametrize(
    ("shape", "gain", "dtype"),
    [
        (S2, 1, "float32"),  # rows > cols: orthonormal columns
        ((16, 8, 3, 3), 2.0, "float32"),  # flattened to (16, 72): orthonormal rows
        ((16, 8, 3, 3), 2.0, "float64"),  # the float32 values widened
        ((16, 8, 3, 3), 2.0, "bfloat16"),  # torch's QR refuses bfloat16; xinit's runs in float32
    ],
    ids=str,
)
def test_orthogonal_is_orthogonal(shape, gain, dtype):
    w = xt.orthogonal_(torch.empty(shape, dtype=DTYPES[dtype]), gain, key=_key())
    assert w.dtype == DTYPES[dtype]
    gram = _gram_on_smaller_side(w)
    tol = 3e-2 if dtype == "bfloat16" else 1e-5
    np.testing.assert_allclose(gram, gain**2 * np.eye(len(gram)), atol=tol * gain**2)


# -- calculate_gain --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nonlinearity", "param"),
    [
        *[(n, None) for n in xinit.NONLINEARITIES],
        ("leaky_relu", 0),
        ("leaky_relu", 0.2),
        ("leaky_relu", 3),
        ("relu", "ignored"),
    ],
    ids=str,
)
def test_calculate_gain_equals_torch(nonlinearity, param):
    ours = xt.calculate_gain(nonlinearity, param)
    theirs = tinit.calculate_gain(nonlinearity, param)
    assert ours == theirs
    assert type(ours) is type(theirs)


@pytest.mark.parametrize(
    ("nonlinearity", "param"), [("gelu", None), ("ReLU", None), ("leaky_relu", True)]
)
def test_calculate_gain_errors_as_torch(nonlinearity, param):
    with pytest.raises(Exception) as torch_info:
        tinit.calculate_gain(nonlinearity, param)
    with pytest.raises(type(torch_info.value), match=str(torch_info.value)):
        xt.calculate_gain(nonlinearity, param)


# -- errors: torch's exception type, and the tensor left unchanged -------------------------


def _err(name, shape, *args, dtype="float32", marks=(), **kwargs):
    case_id = f"{name}-{shape}-{dtype}" + "".join(f"-{a}" for a in args)
    case_id += "".join(f"-{k}={v}" for k, v in kwargs.items())
    return pytest.param(name, shape, dtype, args, kwargs, id=case_id.replace(" ", ""), marks=marks)


INT_DTYPES = ("int64", "int32", "uint8", "bool")
ERRORS = [
    # wrong ranks
    _err("xavier_uniform_", (5,)),
    _err("xavier_normal_", ()),
    _err("kaiming_uniform_", (5,)),
    _err("kaiming_normal_", ()),
    _err("kaiming_uniform_", (5,), mode="bad"),
    _err("orthogonal_", (5,)),
    _err("orthogonal_", ()),
    _err("eye_", (2, 2, 2)),
    _err("eye_", (4,)),
    _err("sparse_", (10, 4, 2), 0.5),
    _err("sparse_", (10,), 0.5),
    _err("dirac_", (4, 4)),
    _err("dirac_", (2, 2, 1, 1, 1, 1)),
    _err("dirac_", (4, 4), 0),  # the rank before groups: ValueError, not ZeroDivisionError
    _err("xavier_uniform_", (5,), dtype="int64"),  # the rank before the dtype
    _err("orthogonal_", (5,), dtype="int64"),
    # hyperparameters
    _err("dirac_", (4, 4, 3), 3),
    _err("dirac_", (4, 4, 3), 0),
    _err("dirac_", (4, 4, 3), 2.0),
    _err("uniform_", (3,), 1.0, 0.0),
    _err("uniform_", (3,), "a"),
    _err("normal_", (3,), 0.0, -1.0),
    _err("normal_", (3,), None),
    _err("trunc_normal_", (3,), std=0.0),
    _err("trunc_normal_", (3,), a=2.0, b=-2.0),
    _err("xavier_uniform_", (0, 0)),  # fan_in + fan_out == 0
    _err("xavier_normal_", (0, 0, 3)),
    _err("xavier_uniform_", (3, 2), gain=-1.0),
    _err("xavier_normal_", (3, 2), gain=-1.0),
    _err("kaiming_uniform_", (3, 2), mode="fan_avg"),
    _err("kaiming_normal_", (3, 2), nonlinearity="gelu"),
    _err("kaiming_uniform_", (3, 2), a=True),
    _err("kaiming_normal_", (3, 2), dtype="int64", mode="bad"),  # the mode before the dtype
    _err("sparse_", (4, 3), 0.5, std=-1.0),
    _err("constant_", (3,), 300, dtype="uint8"),
    _err("constant_", (3,), 1e6, dtype="float16"),
    _err("constant_", (3,), math.nan, dtype="int32"),
    _err("constant_", (3,), 1 + 2j),
    _err("constant_", (3,), "a"),
    _err("constant_", (3,), None),
    # dtypes the random functions cannot fill
    *[
        _err(name, (3, 2), *((0.5,) if name == "sparse_" else ()), dtype=dt)
        for name in RANDOM
        for dt in INT_DTYPES
        # torch's trunc_normal_ fails earlier on uint8, converting the bound -2 (RuntimeError).
        if not (name == "trunc_normal_" and dt == "uint8")
    ],
    _err("uniform_", (3,), dtype="float8_e4m3fn"),
    _err("normal_", (3,), dtype="float8_e4m3fn"),
    # non-finite bounds, std and gain: torch's RuntimeError
    _err("uniform_", (3,), 0.0, math.inf),
    _err("uniform_", (3,), math.nan, 1.0),
    _err("normal_", (3,), 0.0, math.nan),
    _err("xavier_normal_", (3, 2), gain=math.nan),
    _err("xavier_uniform_", (3, 2), gain=math.inf),
]


def _filled(shape, dtype: str) -> torch.Tensor:
    return torch.full(shape, 2.0).to(getattr(torch, dtype))


@pytest.mark.parametrize(("name", "shape", "dtype", "args", "kwargs"), ERRORS)
def test_errors_have_torch_type_and_change_nothing(name, shape, dtype, args, kwargs):
    with pytest.raises(Exception) as torch_info:
        getattr(tinit, name)(_filled(shape, dtype), *args, **kwargs)
    torch_type = type(torch_info.value)
    xt.manual_seed(SEED)
    tensor = _filled(shape, dtype)
    before = tensor.clone()
    with pytest.raises(Exception) as xinit_info:
        getattr(xt, name)(tensor, *args, **kwargs)
    assert isinstance(xinit_info.value, torch_type), (
        f"xinit raised {type(xinit_info.value).__name__}({xinit_info.value}), "
        f"torch raised {torch_type.__name__}({torch_info.value})"
    )
    assert torch.equal(tensor.reshape(-1).view(torch.uint8), before.reshape(-1).view(torch.uint8))
    _assert_stream_untouched()


def _assert_stream_untouched() -> None:
    """The stream is where ``xt.manual_seed(SEED)`` left it: the next call uses key 0."""
    t = xt.normal_(torch.empty(S1))
    np.testing.assert_array_equal(
        t.numpy(), _core("normal_", S1, jax.random.fold_in(xinit.key(SEED), 0))
    )


def test_key_and_generator_are_checked():
    w = torch.full((3, 2), 5.0)
    g = torch.Generator().manual_seed(0)
    state = g.get_state()
    with pytest.raises(ValueError, match="not both"):
        xt.normal_(w, generator=g, key=_key())
    with pytest.raises(TypeError, match=r"torch\.Generator"):
        xt.normal_(w, generator=_key())
    with pytest.raises(TypeError, match="key"):
        xt.normal_(w, key=3)
    assert bool((w == 5).all())
    assert torch.equal(g.get_state(), state)


# -- zero-element and meta tensors ----------------------------------------------------------

_NO_OP = "Initializing zero-element tensors is a no-op"


@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
@pytest.mark.parametrize(
    ("shape", "kwargs"),
    [
        ((0, 5), {}),
        ((3, 0), {}),
        ((0, 4, 3, 3), {}),
        ((0,), {}),  # before the rank check, as torch
        ((0, 3), {"mode": "bad"}),  # before the mode check, as torch
    ],
    ids=str,
)
def test_kaiming_zero_element_warns_as_torch(name, shape, kwargs):
    with pytest.warns(UserWarning) as torch_record:
        getattr(tinit, name)(torch.empty(shape), **kwargs)
    t = torch.empty(shape)
    with pytest.warns(UserWarning) as xinit_record:
        assert getattr(xt, name)(t, **kwargs) is t
    assert [str(w.message) for w in xinit_record] == [str(w.message) for w in torch_record]
    assert [str(w.message) for w in xinit_record] == [_NO_OP]
    assert xinit_record[0].filename == __file__  # it points at the caller


ZERO_ELEMENT = [
    ("uniform_", (), (0,)),
    ("normal_", (), (0, 5)),
    ("trunc_normal_", (), (4, 0, 3)),
    ("xavier_uniform_", (), (0, 5)),
    ("xavier_normal_", (), (3, 0)),
    ("orthogonal_", (), (0, 5)),
    ("sparse_", (0.5,), (0, 5)),
    ("sparse_", (0.5,), (5, 0)),
    ("eye_", (), (0, 3)),
    ("dirac_", (), (0, 4, 3)),
    ("constant_", (2.0,), (0, 2)),
    ("ones_", (), (0,)),
    ("zeros_", (), (2, 0)),
]


@pytest.mark.parametrize(("name", "args", "shape"), ZERO_ELEMENT, ids=str)
def test_zero_element_is_a_silent_no_op(name, args, shape):
    assert tuple(getattr(tinit, name)(torch.empty(shape), *args).shape) == shape
    xt.manual_seed(SEED)
    t = torch.empty(shape)
    assert getattr(xt, name)(t, *args) is t  # and no warning: warnings are errors (pyproject)
    assert tuple(t.shape) == shape
    _assert_stream_untouched()


@pytest.mark.parametrize(
    ("name", "args", "shape"),
    [
        ("uniform_", (-1.0, 1.0), (3, 4)),
        ("normal_", (), (5,)),
        ("trunc_normal_", (), (5, 2)),
        ("xavier_uniform_", (), (6, 4)),
        ("xavier_normal_", (), (6, 4, 3)),
        ("kaiming_uniform_", (), (6, 4)),
        ("kaiming_normal_", (), (6, 4, 3, 3)),
        ("orthogonal_", (), (100_000, 100_000)),  # 40 GB if it were generated
        ("sparse_", (0.5,), (6, 4)),
        ("constant_", (2.5,), (3,)),
        ("ones_", (), (3,)),
        ("zeros_", (), (3,)),
        ("eye_", (), (3, 3)),
        ("dirac_", (2,), (4, 4, 3)),
    ],
    ids=str,
)
def test_meta_tensor_returned_unchanged(name, args, shape):
    xt.manual_seed(SEED)
    t = torch.empty(shape, device="meta")
    assert getattr(xt, name)(t, *args) is t
    assert t.is_meta and tuple(t.shape) == shape
    _assert_stream_untouched()


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "shape", "dtype", "error"),
    [
        ("kaiming_uniform_", (), {}, (5,), torch.float32, ValueError),
        ("xavier_normal_", (), {}, (5,), torch.float32, ValueError),
        ("dirac_", (3,), {}, (4, 4, 3), torch.float32, ValueError),
        ("uniform_", (1.0, 0.0), {}, (3,), torch.float32, RuntimeError),
        ("normal_", (), {"key": 3}, (3,), torch.float32, TypeError),
        ("sparse_", (0.5,), {}, (3,), torch.float32, ValueError),
        ("trunc_normal_", (), {"std": 0.0}, (3,), torch.float32, ZeroDivisionError),
        ("normal_", (), {}, (3,), torch.int64, NotImplementedError),
        ("constant_", (300,), {}, (3,), torch.uint8, RuntimeError),
    ],
    ids=str,
)
def test_meta_tensor_is_validated(name, args, kwargs, shape, dtype, error):
    with pytest.raises(error):
        getattr(xt, name)(torch.empty(shape, dtype=dtype, device="meta"), *args, **kwargs)


# -- in place: views, .data, parameters, memory formats -----------------------------------
# These reuse (function, hyperparameters, shape) cases of DISTRIBUTION_CASES.


def test_fills_a_view_in_place():
    w = torch.zeros(S2[0], S2[1] + 4)
    view = w[:, 2:-2]
    assert xt.normal_(view, 1.0, 0.5, key=_key()) is view
    np.testing.assert_array_equal(
        w[:, 2:-2].numpy(), _core("normal_", S2, _key(), mean=1.0, std=0.5)
    )
    assert bool((w[:, :2] == 0).all()) and bool((w[:, -2:] == 0).all())


def test_fills_a_transposed_view_in_logical_order():
    w = torch.zeros(S2[::-1])
    xt.kaiming_uniform_(w.t(), key=_key())
    np.testing.assert_array_equal(w.t().numpy(), _core("kaiming_uniform_", S2, _key()))


def test_fills_dot_data_and_parameters_in_place():
    lin = nn.Linear(S2[1], S2[0])
    weight, ptr = lin.weight, lin.weight.data_ptr()
    xt.kaiming_uniform_(lin.weight.data, key=_key())
    np.testing.assert_array_equal(
        lin.weight.detach().numpy(), _core("kaiming_uniform_", S2, _key())
    )
    assert lin.weight is weight and lin.weight.data_ptr() == ptr
    # A leaf Parameter that requires grad, directly (under no_grad, as torch).
    xt.xavier_uniform_(lin.weight, key=_key())
    np.testing.assert_array_equal(lin.weight.detach().numpy(), _core("xavier_uniform_", S2, _key()))
    assert lin.weight.requires_grad and lin.weight.grad_fn is None
    assert lin.weight.data_ptr() == ptr
    bias = lin.bias
    assert xt.zeros_(lin.bias) is bias
    assert bias.requires_grad and bool((bias == 0).all())


def test_channels_last_keeps_its_layout():
    w = torch.empty(S4).to(memory_format=torch.channels_last)
    hyper = {"mode": "fan_out", "nonlinearity": "relu"}
    xt.kaiming_normal_(w, **hyper, key=_key())
    assert w.is_contiguous(memory_format=torch.channels_last)
    np.testing.assert_array_equal(w.numpy(), _core("kaiming_normal_", S4, _key(), **hyper))


# -- dtypes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "hyper", "shape", "dtype"),
    [
        ("uniform_", {"a": -2.0, "b": 3.0}, S4, "bfloat16"),
        ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, S4, "float16"),
        ("kaiming_uniform_", {}, S2, "float64"),
        ("trunc_normal_", {"std": 0.02}, S2, "float64"),
    ],
    ids=str,
)
def test_low_and_double_precision_are_the_float32_values_cast(name, hyper, shape, dtype):
    t = getattr(xt, name)(torch.empty(shape, dtype=DTYPES[dtype]), **hyper, key=_key())
    assert t.dtype == DTYPES[dtype]
    f32 = torch.from_numpy(_core(name, shape, _key(), **hyper))
    # bfloat16/float16: JAX's cast rounds to nearest even, as torch's; float64: widened exactly.
    _same_tensor(t, f32.to(DTYPES[dtype]))


# -- keys: the manual_seed stream and torch generators --------------------------------------


def test_manual_seed_stream():
    xt.manual_seed(5)
    a = xt.normal_(torch.empty(S1))
    b = xt.normal_(torch.empty(S1))
    assert not torch.equal(a, b)
    xt.manual_seed(5)
    assert torch.equal(xt.normal_(torch.empty(S1)), a)
    assert torch.equal(xt.normal_(torch.empty(S1)), b)
    # The documented formula: the n-th call uses fold_in(xinit.key(seed), n).
    for n, t in enumerate((a, b)):
        key = jax.random.fold_in(xinit.key(5), n)
        np.testing.assert_array_equal(t.numpy(), _core("normal_", S1, key))
    xt.manual_seed(6)
    assert not torch.equal(xt.normal_(torch.empty(S1)), a)


def test_manual_seed_is_independent_of_torch_seed():
    xt.manual_seed(5)
    torch.manual_seed(1)
    a = xt.normal_(torch.empty(S1))
    xt.manual_seed(5)
    torch.manual_seed(2)
    assert torch.equal(xt.normal_(torch.empty(S1)), a)


def test_initial_stream_is_manual_seed_0(monkeypatch):
    monkeypatch.setattr(_nn_init, "_STREAM", _nn_init._Stream())  # a fresh process's stream
    a = xt.normal_(torch.empty(S1))
    xt.manual_seed(0)
    assert torch.equal(xt.normal_(torch.empty(S1)), a)


def test_stream_counter_above_32_bits(monkeypatch):
    stream = _nn_init._Stream()
    stream.seed(1)
    stream._counter = 2**32 + 3
    monkeypatch.setattr(_nn_init, "_STREAM", stream)
    t = xt.normal_(torch.empty(S1))
    key = jax.random.fold_in(jax.random.fold_in(xinit.key(1), 3), 1)
    np.testing.assert_array_equal(t.numpy(), _core("normal_", S1, key))


@pytest.mark.parametrize(
    ("seed", "error"), [(-1, ValueError), (2**64, ValueError), (1.5, TypeError), (None, TypeError)]
)
def test_manual_seed_errors_leave_the_stream(seed, error):
    xt.manual_seed(SEED)
    with pytest.raises(error):
        xt.manual_seed(seed)
    _assert_stream_untouched()


def test_generator_reproducibility():
    g1, g2, g3 = (torch.Generator().manual_seed(s) for s in (7, 7, 8))
    a1 = xt.normal_(torch.empty(S1), generator=g1)
    assert torch.equal(a1, xt.normal_(torch.empty(S1), generator=g2))
    assert not torch.equal(a1, xt.normal_(torch.empty(S1), generator=g3))
    # Successive calls advance the generator, as in torch.
    b1 = xt.normal_(torch.empty(S1), generator=g1)
    assert not torch.equal(a1, b1)
    assert torch.equal(b1, xt.normal_(torch.empty(S1), generator=g2))


def test_generator_documented_draw():
    g = torch.Generator().manual_seed(11)
    xt.manual_seed(SEED)
    torch.manual_seed(0)  # neither the global torch RNG nor the stream plays a part
    t = xt.xavier_uniform_(torch.empty(S2), generator=g)
    g_ref = torch.Generator().manual_seed(11)
    seed = int(torch.empty((), dtype=torch.int64).random_(generator=g_ref).item())
    np.testing.assert_array_equal(t.numpy(), _core("xavier_uniform_", S2, xinit.key(seed)))
    assert torch.equal(g.get_state(), g_ref.get_state())  # exactly one draw
    _assert_stream_untouched()


# -- torch's names, signatures and deprecated aliases ---------------------------------------


def test_every_torch_name_is_exported():
    assert set(tinit.__all__) <= set(xt.__all__)
    assert set(_nn_init.__all__) <= set(xt.__all__)
    for name in tinit.__all__:
        assert callable(getattr(xt, name)), name


@pytest.mark.parametrize("name", ["calculate_gain", *RANDOM, *DETERMINISTIC])
def test_signature_is_torch_plus_key(name):
    ours = inspect.signature(getattr(xt, name)).parameters
    theirs = inspect.signature(getattr(tinit, name)).parameters
    # key= replaces generator=: only the functions that take a generator in torch have it.
    extra = ["key"] if "generator" in theirs else []
    assert list(ours) == [*theirs, *extra]
    for p in theirs.values():
        assert ours[p.name].kind == p.kind, p.name
        assert ours[p.name].default == p.default, p.name
        assert type(ours[p.name].default) is type(p.default), p.name
    if extra:
        assert ours["key"].kind is inspect.Parameter.KEYWORD_ONLY
        assert ours["key"].default is None


# Arguments that hit cached programs: (args, shape).
_ALIAS_CALLS = {
    "uniform": ((), S1),
    "normal": ((), S1),
    "constant": ((0.1,), (3, 2)),
    "eye": ((), (3, 5)),
    "dirac": ((2,), (6, 2, 3, 2)),
    "xavier_uniform": ((), S2),
    "xavier_normal": ((0.5,), S3),
    "kaiming_uniform": ((), S2),
    "kaiming_normal": ((0.2, "FAN_OUT", "tanh"), S3),
    "orthogonal": ((), S2),
    "sparse": (SPARSE[1:], SPARSE[0]),
}


@pytest.mark.parametrize("name", DEPRECATED)
def test_deprecated_alias_warns_as_torch(name):
    args, shape = _ALIAS_CALLS[name]
    with pytest.warns(FutureWarning) as torch_record:
        getattr(tinit, name)(torch.empty(shape), *args)
    t = torch.empty(shape)
    with pytest.warns(FutureWarning) as xinit_record:
        assert getattr(xt, name)(t, *args) is t
    assert [str(w.message) for w in xinit_record] == [str(w.message) for w in torch_record]
    assert xinit_record[0].filename == __file__
    assert getattr(xt, name).__name__ == name
    assert inspect.signature(getattr(xt, name)) == inspect.signature(getattr(xt, name + "_"))


# -- a model.apply recipe, with the import swapped --------------------------------------------


def _model() -> nn.Module:
    # Conv2d(16, 32, 5).weight is S4 and Linear(96, 128).weight is S2: cached programs.
    return nn.Sequential(
        nn.Conv2d(16, 32, 5, padding=2),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d((1, 3)),
        nn.Flatten(),
        nn.Linear(96, 128),
    )


def _torch_init_weights(m: nn.Module) -> None:
    """The usual recipe, with ``import torch.nn.init``."""
    if isinstance(m, nn.Conv2d):
        tinit.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        tinit.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        tinit.ones_(m.weight)
        tinit.constant_(m.bias, 0.1)
    elif isinstance(m, nn.Linear):
        tinit.trunc_normal_(m.weight.data, std=0.02)
        tinit.zeros_(m.bias)


def test_model_apply_with_the_import_swapped():
    from xinit.adapters.torch import constant_, kaiming_normal_, ones_, trunc_normal_, zeros_

    def init_weights(m: nn.Module) -> None:
        """The same recipe, with the names imported from xinit.adapters.torch."""
        if isinstance(m, nn.Conv2d):
            kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            ones_(m.weight)
            constant_(m.bias, 0.1)
        elif isinstance(m, nn.Linear):
            trunc_normal_(m.weight.data, std=0.02)
            zeros_(m.bias)

    torch.manual_seed(SEED)
    ref = _model().apply(_torch_init_weights)
    xt.manual_seed(SEED)
    model = _model()
    params = list(model.parameters())
    assert model.apply(init_weights) is model
    assert list(model.parameters()) == params  # the same Parameter objects
    for (name, p), q in zip(model.named_parameters(), ref.parameters(), strict=True):
        assert p.shape == q.shape and p.requires_grad, name
        if p.ndim == 1:  # biases and norm parameters: deterministic
            assert torch.equal(p, q), name
        else:
            assert _ks2(p.detach().numpy().ravel(), q.detach().numpy().ravel()) > KS_P, name
    with torch.no_grad():
        out = model(torch.randn(2, 16, 6, 6))
    assert out.shape == (2, 128) and bool(torch.isfinite(out).all())
    # The same calls after the same manual_seed give the same model.
    xt.manual_seed(SEED)
    again = _model().apply(init_weights)
    for p, q in zip(model.parameters(), again.parameters(), strict=True):
        assert torch.equal(p, q)
