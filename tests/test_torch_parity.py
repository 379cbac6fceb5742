"""Statistical and structural parity of xinit's torch-named initializers with torch.nn.init.

Every random scheme is drawn with xinit (fixed JAX keys) and with torch itself
(fixed generator or ``torch.manual_seed``) on the same shape and hyperparameters,
and the two samples are compared with a two-sample KS test. Each sample is also
checked against the distribution torch documents (bounds, mean and std within 5
standard errors, the mass of the 1% tails, one-sample KS); the theoretical values are computed here from
torch's own fan and gain functions, never from xinit. Deterministic schemes must
equal torch's output exactly, and bad inputs must raise torch's exception type.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Callable
from functools import partial

import jax
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import stats
from torch import nn
from torch.nn import init as tinit

import xinit

SEED = 20_240_611
N_SAMPLES = 10_000  # per library and case
KS_P = 1e-3  # minimum KS p-value
N_SE = 5.0  # allowed distance of sample mean/std from theory, in standard errors
F32_EPS = float(np.finfo(np.float32).eps)


# -- sampling helpers --------------------------------------------------------------------


def _reps(shape: tuple[int, ...], n: int = N_SAMPLES) -> int:
    return max(1, math.ceil(n / math.prod(shape)))


def _keys(n: int, seed: int = SEED) -> jax.Array:
    return jax.random.split(xinit.key(seed), n)


def draw_xinit(
    init: xinit.Initializer, shape: tuple[int, ...], n: int = N_SAMPLES, **call_kw
) -> np.ndarray:
    """At least ``n`` float32 values: ``init`` called on ``shape`` with independent keys."""
    reps = _reps(shape, n)
    keys = _keys(reps)
    out = []
    for i in range(reps):
        w = np.asarray(init(keys[i], shape, **call_kw))
        assert w.shape == shape
        assert w.dtype == np.float32
        out.append(w.ravel())
    return np.concatenate(out)


def draw_torch(
    fill: Callable[..., torch.Tensor], shape: tuple[int, ...], n: int = N_SAMPLES
) -> np.ndarray:
    """At least ``n`` float32 values: ``fill(torch.empty(shape), generator=g)`` repeated."""
    g = torch.Generator().manual_seed(SEED)
    out = []
    for _ in range(_reps(shape, n)):
        t = torch.empty(shape)
        fill(t, generator=g)
        out.append(t.numpy().ravel().copy())
    return np.concatenate(out)


# -- the distributions torch documents ---------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Theory:
    """What torch's docs promise: a distribution and, when bounded, its support."""

    dist: stats.rv_continuous  # a frozen scipy distribution
    lo: float | None = None
    hi: float | None = None
    hi_open: bool = False  # [lo, hi) rather than [lo, hi]
    # The support is an exact float32 interval ([a, b) of uniform_, [a, b] of
    # trunc_normal_); otherwise it is a bound computed in float arithmetic and
    # allowed a few float32 ulps.
    exact: bool = True


def _torch_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    return tinit._calculate_fan_in_and_fan_out(torch.empty(shape))


def _sym_uniform(bound: float) -> Theory:
    return Theory(stats.uniform(-bound, 2 * bound), -bound, bound, exact=False)


def _th_uniform(shape, a=0.0, b=1.0):
    return Theory(stats.uniform(a, b - a), a, b, hi_open=True)


def _th_normal(shape, mean=0.0, std=1.0):
    return Theory(stats.norm(mean, std))


def _th_trunc_normal(shape, mean=0.0, std=1.0, a=-2.0, b=2.0):
    return Theory(stats.truncnorm((a - mean) / std, (b - mean) / std, mean, std), a, b)


def _th_xavier_uniform(shape, gain=1.0):
    fi, fo = _torch_fans(shape)
    return _sym_uniform(gain * math.sqrt(6.0 / (fi + fo)))


def _th_xavier_normal(shape, gain=1.0):
    fi, fo = _torch_fans(shape)
    return Theory(stats.norm(0.0, gain * math.sqrt(2.0 / (fi + fo))))


def _kaiming_std(shape, a, mode, nonlinearity):
    fi, fo = _torch_fans(shape)
    fan = {"fan_in": fi, "fan_out": fo}[mode.lower()]
    return tinit.calculate_gain(nonlinearity, a) / math.sqrt(fan)


def _th_kaiming_uniform(shape, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    return _sym_uniform(math.sqrt(3.0) * _kaiming_std(shape, a, mode, nonlinearity))


def _th_kaiming_normal(shape, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    return Theory(stats.norm(0.0, _kaiming_std(shape, a, mode, nonlinearity)))


@dataclasses.dataclass(frozen=True)
class Scheme:
    build: Callable[..., xinit.Initializer]  # xinit constructor
    fill: Callable[..., torch.Tensor]  # torch.nn.init function
    theory: Callable[..., Theory]
    nd: bool  # needs >= 2-D (computes fans)


SCHEMES = {
    "uniform": Scheme(xinit.uniform, tinit.uniform_, _th_uniform, nd=False),
    "normal": Scheme(xinit.normal, tinit.normal_, _th_normal, nd=False),
    "trunc_normal": Scheme(xinit.trunc_normal, tinit.trunc_normal_, _th_trunc_normal, nd=False),
    "xavier_uniform": Scheme(
        xinit.xavier_uniform, tinit.xavier_uniform_, _th_xavier_uniform, nd=True
    ),
    "xavier_normal": Scheme(xinit.xavier_normal, tinit.xavier_normal_, _th_xavier_normal, nd=True),
    "kaiming_uniform": Scheme(
        xinit.kaiming_uniform, tinit.kaiming_uniform_, _th_kaiming_uniform, nd=True
    ),
    "kaiming_normal": Scheme(
        xinit.kaiming_normal, tinit.kaiming_normal_, _th_kaiming_normal, nd=True
    ),
}

SHAPES_ND = [(64, 32), (16, 8, 3, 3), (32, 4, 5)]
SHAPES_ANY = [(4096,), *SHAPES_ND]

_FAR_TAIL = "mean is more than 2 std from \\[a, b\\] in nn.init.trunc_normal_"

# (scheme, hyperparameters, warning both libraries must give)
HYPERS: list[tuple[str, dict, str | None]] = [
    ("uniform", {}, None),
    ("uniform", {"a": -2.0, "b": 3.0}, None),
    ("uniform", {"a": -0.1, "b": 0.1}, None),
    ("normal", {}, None),
    ("normal", {"mean": 1.0, "std": 0.5}, None),
    ("normal", {"mean": -3.0, "std": 2.0}, None),
    ("trunc_normal", {}, None),
    ("trunc_normal", {"std": 0.02}, None),  # bounds ±2 = ±100 std: effectively untruncated
    ("trunc_normal", {"mean": 1.0, "std": 2.0, "a": 0.0, "b": 3.0}, None),
    ("trunc_normal", {"mean": 0.0, "std": 1.0, "a": 2.5, "b": 4.0}, _FAR_TAIL),
    ("xavier_uniform", {}, None),
    ("xavier_uniform", {"gain": 2.0}, None),
    ("xavier_uniform", {"gain": math.sqrt(2.0)}, None),
    ("xavier_normal", {}, None),
    ("xavier_normal", {"gain": 0.5}, None),
    ("kaiming_uniform", {}, None),
    ("kaiming_uniform", {"a": 0.2}, None),
    ("kaiming_uniform", {"a": math.sqrt(5.0)}, None),
    ("kaiming_uniform", {"mode": "fan_out"}, None),
    ("kaiming_uniform", {"mode": "FAN_OUT", "nonlinearity": "relu"}, None),
    ("kaiming_uniform", {"nonlinearity": "tanh", "mode": "fan_out"}, None),
    ("kaiming_uniform", {"nonlinearity": "selu"}, None),
    ("kaiming_normal", {}, None),
    ("kaiming_normal", {"a": 0.2, "mode": "fan_out"}, None),
    ("kaiming_normal", {"a": 1.0, "nonlinearity": "leaky_relu"}, None),
    ("kaiming_normal", {"nonlinearity": "relu"}, None),
    ("kaiming_normal", {"nonlinearity": "tanh"}, None),
    ("kaiming_normal", {"nonlinearity": "selu", "mode": "fan_out"}, None),
]


def _case_id(name: str, hyper: dict) -> str:
    return (
        name
        + "("
        + ",".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in hyper.items())
        + ")"
    )


RANDOM_CASES = [
    pytest.param(name, hyper, warn, shape, id=f"{_case_id(name, hyper)}-{shape}")
    for name, hyper, warn in HYPERS
    for shape in (SHAPES_ND if SCHEMES[name].nd else SHAPES_ANY)
]


# -- the checks --------------------------------------------------------------------------


def assert_within_support(x: np.ndarray, th: Theory, who: str) -> None:
    if th.lo is None:
        return
    assert x.dtype == np.float32
    if th.exact:  # an interval of float32 numbers, e.g. uniform_'s [a, b)
        lo, hi = np.float32(th.lo), np.float32(th.hi)
    else:  # a bound computed in float arithmetic: a few ulps of slack
        lo, hi = th.lo * (1 + 4 * F32_EPS), th.hi * (1 + 4 * F32_EPS)
    assert x.min() >= lo, f"{who}: min {x.min()!r} below the lower bound {lo!r}"
    if th.hi_open:
        assert x.max() < hi, f"{who}: max {x.max()!r} reaches the open upper bound {hi!r}"
    else:
        assert x.max() <= hi, f"{who}: max {x.max()!r} above the upper bound {hi!r}"


def assert_moments(x: np.ndarray, th: Theory, who: str) -> None:
    """Sample mean and std within N_SE standard errors of the theoretical ones."""
    mean, var, kurt = (float(v) for v in th.dist.stats(moments="mvk"))
    std = math.sqrt(var)
    n = x.size
    x = x.astype(np.float64)
    se_mean = std / math.sqrt(n)
    se_std = std * math.sqrt((kurt + 2.0) / (4.0 * n))  # delta method, kurt = excess kurtosis
    assert abs(x.mean() - mean) <= N_SE * se_mean, (
        f"{who}: mean {x.mean():.6g}, expected {mean:.6g} ± {N_SE}·{se_mean:.3g}"
    )
    assert abs(x.std() - std) <= N_SE * se_std, (
        f"{who}: std {x.std():.6g}, expected {std:.6g} ± {N_SE}·{se_std:.3g}"
    )


def assert_tails(x: np.ndarray, th: Theory, who: str, mass: float = 0.01) -> None:
    """The theoretical 1% outside the central 99% is there: catches a normal that
    is truncated (JAX's he_normal/glorot_normal stop at 2.27 std) or a bound too small."""
    lo, hi = th.dist.ppf(mass / 2), th.dist.ppf(1 - mass / 2)
    n_out = int(((x < lo) | (x > hi)).sum())
    p = stats.binomtest(n_out, x.size, mass).pvalue
    assert p > KS_P, f"{who}: {n_out} of {x.size} outside [{lo:.4g}, {hi:.4g}], expected {mass:.0%}"


def assert_distribution(x: np.ndarray, t: np.ndarray, th: Theory) -> None:
    """xinit sample ``x`` vs torch sample ``t`` and both vs the documented distribution."""
    ks = stats.ks_2samp(x.astype(np.float64), t.astype(np.float64), method="asymp")
    assert ks.pvalue > KS_P, f"xinit vs torch: KS statistic {ks.statistic:.4g}, p={ks.pvalue:.3g}"
    for who, s in (("xinit", x), ("torch", t)):
        one = stats.kstest(s.astype(np.float64), th.dist.cdf)
        assert one.pvalue > KS_P, (
            f"{who} vs theory: KS statistic {one.statistic:.4g}, p={one.pvalue:.3g}"
        )
        assert_within_support(s, th, who)
        assert_moments(s, th, who)
        assert_tails(s.astype(np.float64), th, who)


def _warns(match: str | None):
    return pytest.warns(UserWarning, match=match) if match else contextlib.nullcontext()


# -- random schemes ----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "hyper", "warn", "shape"), RANDOM_CASES)
def test_random_scheme_matches_torch(name, hyper, warn, shape):
    scheme = SCHEMES[name]
    with _warns(warn):
        init = scheme.build(**hyper)
    with _warns(warn):
        t = draw_torch(lambda w, generator: scheme.fill(w, **hyper, generator=generator), shape)
    x = draw_xinit(init, shape)
    th = scheme.theory(shape, **hyper)
    assert_distribution(x, t, th)
    if th.lo is not None and not th.exact:
        # The bound itself is right, not just an upper limit: U(-b, b) with 10^4
        # draws comes within 0.2% of b with probability 1 - e^-20.
        assert np.abs(x).max() >= th.hi * (1 - 2e-3)


@pytest.mark.parametrize(
    ("a", "b"), [(1.0, 1.0000001), (0.5, 0.50001), (100.0, 100.001), (-3.0, -2.99999)]
)
def test_uniform_is_half_open_on_narrow_intervals(a, b):
    shape = (100_000,)
    g = torch.Generator().manual_seed(SEED)
    t = tinit.uniform_(torch.empty(shape), a, b, generator=g).numpy()
    x = np.asarray(xinit.uniform(a, b)(xinit.key(SEED), shape))
    lo, hi = np.float32(a), np.float32(b)
    assert t.min() >= lo and t.max() < hi  # torch: [a, b)
    assert x.min() >= lo
    assert x.max() < hi, f"xinit returned b={hi!r} {int((x == hi).sum())} times"


def test_uniform_equal_bounds_fill_with_a():
    x = np.asarray(xinit.uniform(0.25, 0.25)(xinit.key(SEED), (7, 3)))
    t = tinit.uniform_(torch.empty(7, 3), 0.25, 0.25)
    np.testing.assert_array_equal(x, t.numpy())


def test_normal_zero_std_fills_with_mean():
    x = np.asarray(xinit.normal(1.5, 0.0)(xinit.key(SEED), (7, 3)))
    t = tinit.normal_(torch.empty(7, 3), 1.5, 0.0)
    np.testing.assert_array_equal(x, t.numpy())


# -- PyTorch layer defaults ---------------------------------------------------------------

WEIGHT_MODULES = [
    pytest.param(lambda: nn.Linear(32, 64), id="Linear(32,64)"),
    pytest.param(lambda: nn.Linear(200, 10), id="Linear(200,10)"),
    pytest.param(lambda: nn.Conv1d(4, 32, 5), id="Conv1d(4,32,5)"),
    pytest.param(lambda: nn.Conv2d(8, 16, 3), id="Conv2d(8,16,3)"),
    pytest.param(lambda: nn.Conv2d(16, 16, 3, groups=2), id="Conv2d(16,16,3,groups=2)"),
    pytest.param(lambda: nn.ConvTranspose2d(8, 16, 3), id="ConvTranspose2d(8,16,3)"),
    pytest.param(lambda: nn.Conv3d(4, 8, (2, 3, 3)), id="Conv3d(4,8,(2,3,3))"),
]
# Wide layers, so that 10^4 bias values take few module constructions.
BIAS_MODULES = [
    pytest.param(lambda: nn.Linear(32, 512), id="Linear(32,512)"),
    pytest.param(lambda: nn.Linear(3, 1024), id="Linear(3,1024)"),
    pytest.param(lambda: nn.Conv1d(4, 256, 5), id="Conv1d(4,256,5)"),
    pytest.param(lambda: nn.Conv2d(8, 256, 3), id="Conv2d(8,256,3)"),
    pytest.param(lambda: nn.Conv2d(16, 256, 3, groups=4), id="Conv2d(16,256,3,groups=4)"),
    pytest.param(lambda: nn.ConvTranspose2d(8, 256, 3), id="ConvTranspose2d(8,256,3)"),
    pytest.param(lambda: nn.Conv3d(4, 256, (2, 3, 3)), id="Conv3d(4,256,(2,3,3))"),
]


def _module_samples(make: Callable[[], nn.Module], attr: str) -> tuple[np.ndarray, tuple, int]:
    torch.manual_seed(SEED)
    first = make()
    shape = tuple(getattr(first, attr).shape)
    fan_in, _ = tinit._calculate_fan_in_and_fan_out(first.weight)
    out = [getattr(first, attr).detach().numpy().ravel().copy()]
    for _ in range(_reps(shape) - 1):
        out.append(getattr(make(), attr).detach().numpy().ravel().copy())
    return np.concatenate(out), shape, fan_in


@pytest.mark.parametrize("make", WEIGHT_MODULES)
def test_torch_default_weight_matches_module(make):
    t, shape, fan_in = _module_samples(make, "weight")
    x = draw_xinit(xinit.torch_default_weight(), shape)
    assert_distribution(x, t, _sym_uniform(1.0 / math.sqrt(fan_in)))


@pytest.mark.parametrize("make", BIAS_MODULES)
def test_torch_default_bias_matches_module(make):
    t, shape, fan_in = _module_samples(make, "bias")
    x = draw_xinit(xinit.torch_default_bias(), shape, fan_in=fan_in)
    assert_distribution(x, t, _sym_uniform(1.0 / math.sqrt(fan_in)))


def test_torch_default_bias_of_empty_weight_is_zero():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        lin = nn.Linear(0, 3)  # torch warns from the weight's kaiming_uniform_
    x = np.asarray(xinit.torch_default_bias()(xinit.key(SEED), (3,), fan_in=0))
    np.testing.assert_array_equal(x, lin.bias.detach().numpy())


# -- deterministic schemes: exactly torch's output ---------------------------------------

TORCH_DTYPES = {
    "float32": torch.float32,
    "float16": torch.float16,
    "int32": torch.int32,
    "int8": torch.int8,
    "uint8": torch.uint8,
    "bool": torch.bool,
}


def assert_same_array(x: jax.Array, t: torch.Tensor) -> None:
    xa, ta = np.asarray(x), t.numpy()
    assert xa.dtype == ta.dtype
    assert xa.shape == ta.shape
    np.testing.assert_array_equal(xa, ta)


@pytest.mark.parametrize("dtype", ["float32", "float16", "int32", "bool"])
@pytest.mark.parametrize("shape", [(5, 5), (3, 7), (7, 3), (1, 1), (0, 3)])
def test_eye_equals_torch(shape, dtype):
    x = xinit.eye()(xinit.key(SEED), shape, dtype=dtype)
    assert_same_array(x, tinit.eye_(torch.empty(shape, dtype=TORCH_DTYPES[dtype])))


DIRAC_CASES = [
    # 3-D
    ((4, 4, 3), 1),
    ((6, 2, 5), 3),
    ((8, 3, 2), 2),
    ((3, 5, 4), 1),
    # 4-D
    ((6, 6, 3, 3), 1),
    ((6, 2, 4, 4), 3),
    ((4, 8, 2, 3), 2),
    ((8, 4, 1, 1), 1),
    ((6, 3, 5, 2), 2),
    # 5-D
    ((4, 4, 3, 3, 3), 1),
    ((6, 3, 2, 3, 4), 2),
    ((9, 1, 3, 2, 3), 3),
]


@pytest.mark.parametrize("dtype", ["float32", "int32"])
@pytest.mark.parametrize(("shape", "groups"), DIRAC_CASES)
def test_dirac_equals_torch(shape, groups, dtype):
    x = xinit.dirac(groups)(xinit.key(SEED), shape, dtype=dtype)
    assert_same_array(x, tinit.dirac_(torch.empty(shape, dtype=TORCH_DTYPES[dtype]), groups))


_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


@pytest.mark.parametrize(
    ("channels", "kernel", "groups"),
    [
        (6, (3,), 1),
        (6, (4,), 2),
        (6, (3, 3), 1),
        (6, (4, 4), 2),
        (6, (5, 2), 3),
        (6, (1, 1), 3),
        (4, (3, 3, 3), 1),
        (6, (2, 3, 4), 3),
    ],
)
def test_dirac_is_identity_through_conv(channels, kernel, groups):
    shape = (channels, channels // groups, *kernel)
    # np.asarray of a JAX array is read-only; torch wants a writable buffer.
    w = torch.from_numpy(np.asarray(xinit.dirac(groups)(xinit.key(SEED), shape)).copy())
    spatial = (7, 6, 5)[: len(kernel)]
    g = torch.Generator().manual_seed(SEED)
    inp = torch.randn((2, channels, *spatial), generator=g)
    out = _CONV[len(kernel)](inp, w, padding=[k // 2 for k in kernel], groups=groups)
    # An even kernel with padding k//2 gives one extra position at the end.
    out = out[(..., *(slice(0, s) for s in spatial))]
    np.testing.assert_allclose(out.numpy(), inp.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("value", "dtype", "shape"),
    [
        (0.1, "float32", (3, 4)),
        (-3, "float32", (5,)),
        (0.1, "float16", (2, 3)),
        (2.5, "int32", (2, 3)),
        (-2.7, "int32", (4,)),
        (7, "int8", (3, 3)),
        (True, "float32", (2, 2)),
        (1e-3, "bool", (3,)),
        (0, "bool", (2, 1)),
        (4.25, "float32", ()),
    ],
)
def test_constant_equals_torch(value, dtype, shape):
    x = xinit.constant(value)(xinit.key(SEED), shape, dtype=dtype)
    assert_same_array(x, tinit.constant_(torch.empty(shape, dtype=TORCH_DTYPES[dtype]), value))


@pytest.mark.parametrize("dtype", ["float32", "float16", "int32", "uint8", "bool"])
@pytest.mark.parametrize("shape", [(3, 4), (5,), (2, 3, 4), (0, 2)])
@pytest.mark.parametrize(("name", "fill"), [("ones", tinit.ones_), ("zeros", tinit.zeros_)])
def test_ones_zeros_equal_torch(name, fill, shape, dtype):
    x = getattr(xinit, name)()(xinit.key(SEED), shape, dtype=dtype)
    assert_same_array(x, fill(torch.empty(shape, dtype=TORCH_DTYPES[dtype])))


# -- orthogonal ----------------------------------------------------------------------------


def _gram_on_smaller_side(w: np.ndarray) -> np.ndarray:
    m = w.reshape(w.shape[0], -1).astype(np.float64)
    return m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m


@pytest.mark.parametrize("gain", [1.0, 2.0])
@pytest.mark.parametrize(
    "shape", [(40, 10), (10, 40), (16, 16), (16, 8, 3, 3), (32, 4, 5), (3, 2, 2, 2)]
)
def test_orthogonal_is_orthogonal(shape, gain):
    x = np.asarray(xinit.orthogonal(gain)(xinit.key(SEED), shape))
    t = tinit.orthogonal_(torch.empty(shape), gain=gain).numpy()
    assert x.shape == shape
    for who, w in (("xinit", x), ("torch", t)):
        gram = _gram_on_smaller_side(w)
        np.testing.assert_allclose(
            gram, gain**2 * np.eye(len(gram)), atol=1e-5 * max(1.0, gain**2), err_msg=who
        )


@pytest.mark.parametrize("shape", [(8, 8), (4, 12), (12, 4)])
def test_orthogonal_distribution_matches_torch(shape):
    """Entries of Haar (semi-)orthogonal matrices: x**2 ~ Beta(1/2, (n-1)/2), n the
    longer side. The diagonal is compared separately: without the sign(diag R)
    fix of the QR decomposition it is one-signed."""
    reps = _reps(shape)
    keys = _keys(reps)
    init = xinit.orthogonal()
    xs = np.stack([np.asarray(init(keys[i], shape)) for i in range(reps)]).astype(np.float64)
    g = torch.Generator().manual_seed(SEED)
    ts = np.stack(
        [tinit.orthogonal_(torch.empty(shape), generator=g).numpy() for _ in range(reps)]
    ).astype(np.float64)
    n = max(shape)
    entry_cdf = lambda v: stats.beta.cdf(v**2, 0.5, (n - 1) / 2)  # noqa: E731  CDF of |x|
    k = min(shape)
    diag = np.arange(k)
    for who, s in (("xinit", xs), ("torch", ts)):
        one = stats.kstest(np.abs(s).ravel(), entry_cdf)
        assert one.pvalue > KS_P, f"{who}: |entries| vs Beta theory, p={one.pvalue:.3g}"
        # Signs: each entry is symmetric about 0, the diagonal included.
        d = s[:, diag, diag].ravel()
        binom = stats.binomtest(int((d > 0).sum()), d.size, 0.5)
        assert binom.pvalue > KS_P, f"{who}: diagonal positive in {(d > 0).mean():.3f} of cases"
    ks_all = stats.ks_2samp(xs.ravel(), ts.ravel(), method="asymp")
    assert ks_all.pvalue > KS_P, f"entries xinit vs torch, p={ks_all.pvalue:.3g}"
    ks_diag = stats.ks_2samp(xs[:, diag, diag].ravel(), ts[:, diag, diag].ravel(), method="asymp")
    assert ks_diag.pvalue > KS_P, f"diagonal xinit vs torch, p={ks_diag.pvalue:.3g}"


# -- sparse ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "sparsity", "std"),
    [
        ((10, 64), 0.3, 0.01),  # 0.3 * 10 == 3.0000000000000004: ceil gives 4
        ((100, 20), 0.1, 0.01),
        ((21, 40), 0.5, 0.5),  # ceil(10.5) = 11
        ((16, 32), 0.0, 1.0),
        ((5, 40), 1.0, 0.01),
    ],
)
def test_sparse_matches_torch(shape, sparsity, std):
    rows, cols = shape
    num_zeros = math.ceil(sparsity * rows)
    per_draw = (rows - num_zeros) * cols  # nonzero values per draw
    reps = math.ceil(N_SAMPLES / per_draw) if per_draw else 3
    keys = _keys(reps)
    init = xinit.sparse(sparsity, std)
    xs = np.stack([np.asarray(init(keys[i], shape)) for i in range(reps)])
    torch.manual_seed(SEED)  # sparse_ draws its zero pattern from the global RNG
    g = torch.Generator().manual_seed(SEED)
    ts = np.stack(
        [tinit.sparse_(torch.empty(shape), sparsity, std, generator=g).numpy() for _ in range(reps)]
    )
    # Exactly ceil(sparsity * rows) zeros in every column, as torch.
    np.testing.assert_array_equal((ts == 0).sum(axis=1), num_zeros)
    np.testing.assert_array_equal((xs == 0).sum(axis=1), num_zeros)
    if num_zeros == rows:
        return
    x_nz, t_nz = xs[xs != 0].astype(np.float64), ts[ts != 0].astype(np.float64)
    ks = stats.ks_2samp(x_nz, t_nz, method="asymp")
    assert ks.pvalue > KS_P, f"nonzeros xinit vs torch, p={ks.pvalue:.3g}"
    normal = stats.norm(0.0, std)
    for who, s in (("xinit", x_nz), ("torch", t_nz)):
        one = stats.kstest(s, normal.cdf)
        assert one.pvalue > KS_P, f"{who}: nonzeros vs N(0, std²), p={one.pvalue:.3g}"
        assert_moments(s.astype(np.float32), Theory(normal), who)
        assert_tails(s, Theory(normal), who)
    if num_zeros:
        # The zero rows of a column are a uniformly random subset: every row is
        # zero equally often over all columns and draws.
        counts = (xs == 0).sum(axis=(0, 2))
        chi = stats.chisquare(counts)
        assert chi.pvalue > KS_P, f"zero positions by row {counts}, p={chi.pvalue:.3g}"


# -- zero-element shapes ---------------------------------------------------------------------

_NO_OP = "Initializing zero-element tensors is a no-op"


@pytest.mark.parametrize("shape", [(0, 5), (3, 0), (0, 4, 3, 3), (0,)])
@pytest.mark.parametrize(
    ("build", "fill"),
    [
        (xinit.kaiming_uniform, tinit.kaiming_uniform_),
        (xinit.kaiming_normal, tinit.kaiming_normal_),
    ],
    ids=["kaiming_uniform", "kaiming_normal"],
)
def test_kaiming_zero_element_warns(build, fill, shape):
    with pytest.warns(UserWarning, match=_NO_OP):
        fill(torch.empty(shape))
    init = build()
    with pytest.warns(UserWarning, match=_NO_OP):
        x = init(xinit.key(SEED), shape)
    assert x.shape == shape
    assert x.dtype == np.float32


ZERO_ELEMENT = [
    ("uniform", xinit.uniform(), tinit.uniform_, (0,)),
    ("uniform", xinit.uniform(-1.0, 1.0), tinit.uniform_, (3, 0)),
    ("normal", xinit.normal(), tinit.normal_, (0, 5)),
    ("trunc_normal", xinit.trunc_normal(), tinit.trunc_normal_, (0,)),
    ("trunc_normal", xinit.trunc_normal(std=0.02), tinit.trunc_normal_, (4, 0, 3)),
    ("xavier_uniform", xinit.xavier_uniform(), tinit.xavier_uniform_, (0, 5)),
    ("xavier_uniform", xinit.xavier_uniform(), tinit.xavier_uniform_, (3, 0)),
    ("xavier_normal", xinit.xavier_normal(), tinit.xavier_normal_, (4, 0, 3)),
    ("orthogonal", xinit.orthogonal(), tinit.orthogonal_, (0, 5)),
    ("orthogonal", xinit.orthogonal(), tinit.orthogonal_, (5, 0, 2)),
    ("sparse", xinit.sparse(0.5), lambda t: tinit.sparse_(t, 0.5), (0, 5)),
    ("sparse", xinit.sparse(0.5), lambda t: tinit.sparse_(t, 0.5), (5, 0)),
    ("eye", xinit.eye(), tinit.eye_, (0, 3)),
    ("dirac", xinit.dirac(), tinit.dirac_, (0, 4, 3)),
    ("constant", xinit.constant(2.0), lambda t: tinit.constant_(t, 2.0), (0, 2)),
]


@pytest.mark.parametrize(
    ("init", "fill", "shape"),
    [pytest.param(i, f, s, id=f"{n}-{s}") for n, i, f, s in ZERO_ELEMENT],
)
def test_zero_element_shapes_return_empty(init, fill, shape):
    assert tuple(fill(torch.empty(shape)).shape) == shape  # torch: a silent no-op
    x = init(xinit.key(SEED), shape)  # warnings are errors (pyproject)
    assert x.shape == shape
    assert x.dtype == np.float32


# -- errors: torch's exception type for the same bad input ----------------------------------

_FANS_1D = "fewer than 2 dimensions"


def _err(case_id, build, fill, shape, message, dtype="float32"):
    return pytest.param(build, fill, shape, message, dtype, id=case_id)


# (id, xinit constructor, torch fill of a tensor, shape, regex the xinit message must
# match[, dtype]). The constructor runs inside pytest.raises: xinit may refuse bad
# hyperparameters when the initializer is built, torch only when it is called.
ERRORS = [
    _err("xavier_uniform-1d", xinit.xavier_uniform, tinit.xavier_uniform_, (5,), _FANS_1D),
    _err("xavier_normal-1d", xinit.xavier_normal, tinit.xavier_normal_, (5,), _FANS_1D),
    _err("kaiming_uniform-1d", xinit.kaiming_uniform, tinit.kaiming_uniform_, (5,), _FANS_1D),
    _err("kaiming_normal-0d", xinit.kaiming_normal, tinit.kaiming_normal_, (), _FANS_1D),
    _err(
        "torch_default_weight-1d",
        xinit.torch_default_weight,
        partial(tinit.kaiming_uniform_, a=math.sqrt(5)),
        (5,),
        _FANS_1D,
    ),
    _err("orthogonal-1d", xinit.orthogonal, tinit.orthogonal_, (5,), "2 or more dimensions"),
    _err("orthogonal-0d", xinit.orthogonal, tinit.orthogonal_, (), "2 or more dimensions"),
    _err("eye-3d", xinit.eye, tinit.eye_, (2, 2, 2), "Only tensors with 2 dimensions"),
    _err("eye-1d", xinit.eye, tinit.eye_, (4,), "Only tensors with 2 dimensions"),
    _err(
        "sparse-3d",
        partial(xinit.sparse, 0.5),
        partial(tinit.sparse_, sparsity=0.5),
        (10, 4, 2),
        "Only tensors with 2 dimensions",
    ),
    _err(
        "sparse-1d",
        partial(xinit.sparse, 0.5),
        partial(tinit.sparse_, sparsity=0.5),
        (10,),
        "Only tensors with 2 dimensions",
    ),
    _err("dirac-2d", xinit.dirac, tinit.dirac_, (4, 4), "3, 4, or 5 dimensions"),
    _err("dirac-6d", xinit.dirac, tinit.dirac_, (2, 2, 1, 1, 1, 1), "3, 4, or 5 dimensions"),
    _err(
        "dirac-groups-indivisible",
        partial(xinit.dirac, 3),
        partial(tinit.dirac_, groups=3),
        (4, 4, 3),
        "divisible by groups",
    ),
    _err(
        "dirac-groups-0",
        partial(xinit.dirac, 0),
        partial(tinit.dirac_, groups=0),
        (4, 4, 3),
        "groups",
    ),
    _err(
        "uniform-a>b",
        partial(xinit.uniform, 1.0, 0.0),
        partial(tinit.uniform_, a=1.0, b=0.0),
        (3,),
        "a must be <= b",
    ),
    _err(
        "trunc_normal-a>b",
        partial(xinit.trunc_normal, a=2.0, b=-2.0),
        partial(tinit.trunc_normal_, a=2.0, b=-2.0),
        (3,),
        "a must be <= b",
    ),
    _err(
        "trunc_normal-std=0",
        partial(xinit.trunc_normal, std=0.0),
        partial(tinit.trunc_normal_, std=0.0),
        (3,),
        "std must be positive",
    ),
    _err(
        "normal-std<0",
        partial(xinit.normal, std=-1.0),
        partial(tinit.normal_, std=-1.0),
        (3,),
        "std must be >= 0",
    ),
    _err(
        "sparse-std<0",
        partial(xinit.sparse, 0.5, std=-1.0),
        partial(tinit.sparse_, sparsity=0.5, std=-1.0),
        (4, 3),
        "std must be >= 0",
    ),
    *[
        _err(
            f"{name}-gain<0",
            partial(getattr(xinit, name), -1.0),
            partial(getattr(tinit, name + "_"), gain=-1.0),
            (3, 2),
            "gain",
        )
        for name in ("xavier_uniform", "xavier_normal")
    ],
    _err(
        "kaiming_uniform-mode",
        partial(xinit.kaiming_uniform, mode="fan_avg"),
        partial(tinit.kaiming_uniform_, mode="fan_avg"),
        (3, 2),
        "Mode fan_avg not supported",
    ),
    _err(
        "kaiming_normal-mode",
        partial(xinit.kaiming_normal, mode="in"),
        partial(tinit.kaiming_normal_, mode="in"),
        (3, 2),
        "Mode in not supported",
    ),
    _err(
        "kaiming_uniform-nonlinearity",
        partial(xinit.kaiming_uniform, nonlinearity="gelu"),
        partial(tinit.kaiming_uniform_, nonlinearity="gelu"),
        (3, 2),
        "Unsupported nonlinearity gelu",
    ),
    _err(
        "kaiming_normal-nonlinearity",
        partial(xinit.kaiming_normal, nonlinearity="ReLU"),
        partial(tinit.kaiming_normal_, nonlinearity="ReLU"),
        (3, 2),
        "Unsupported nonlinearity ReLU",
    ),
    _err(
        "kaiming_uniform-a=True",
        partial(xinit.kaiming_uniform, a=True),
        partial(tinit.kaiming_uniform_, a=True),
        (3, 2),
        "negative_slope True not a valid number",
    ),
    _err(
        "kaiming_normal-a=str",
        partial(xinit.kaiming_normal, a="x"),
        partial(tinit.kaiming_normal_, a="x"),
        (3, 2),
        "negative_slope x not a valid number",
    ),
]

# Random schemes refuse integer and bool dtypes; torch raises NotImplementedError.
RANDOM_FOR_DTYPE = [
    ("uniform", xinit.uniform, tinit.uniform_),
    ("normal", xinit.normal, tinit.normal_),
    ("trunc_normal", xinit.trunc_normal, tinit.trunc_normal_),
    ("xavier_uniform", xinit.xavier_uniform, tinit.xavier_uniform_),
    ("xavier_normal", xinit.xavier_normal, tinit.xavier_normal_),
    ("kaiming_uniform", xinit.kaiming_uniform, tinit.kaiming_uniform_),
    ("kaiming_normal", xinit.kaiming_normal, tinit.kaiming_normal_),
    ("orthogonal", xinit.orthogonal, tinit.orthogonal_),
    ("sparse", partial(xinit.sparse, 0.5), partial(tinit.sparse_, sparsity=0.5)),
    (
        "torch_default_weight",
        xinit.torch_default_weight,
        partial(tinit.kaiming_uniform_, a=math.sqrt(5)),
    ),
]
INT_DTYPES = ("int32", "int8", "uint8", "bool")
ERRORS += [
    _err(f"{name}-{dt}", build, fill, (3, 2), f"dtype={dt}", dt)
    for name, build, fill in RANDOM_FOR_DTYPE
    for dt in INT_DTYPES
    # torch's trunc_normal_ fails earlier on uint8, converting the bound -2 (RuntimeError).
    if not (name == "trunc_normal" and dt == "uint8")
]


@pytest.mark.parametrize(("build", "fill", "shape", "message", "dtype"), ERRORS)
def test_errors_have_torch_type(build, fill, shape, message, dtype):
    with pytest.raises(Exception) as torch_info:
        fill(torch.empty(shape, dtype=TORCH_DTYPES[dtype]))
    torch_type = type(torch_info.value)
    with pytest.raises(Exception, match=message) as xinit_info:
        build()(xinit.key(SEED), shape, dtype=dtype)
    assert isinstance(xinit_info.value, torch_type), (
        f"xinit raised {type(xinit_info.value).__name__}({xinit_info.value}), "
        f"torch raised {torch_type.__name__}({torch_info.value})"
    )
