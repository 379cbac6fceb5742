"""Variance-scaling initializers: JAX's ``variance_scaling`` family and torch's
xavier/kaiming, which are the same family with torch's fans and gains.

All of them draw ``x ~ D`` with unit variance and multiply by

.. math::
    \\sigma = \\sqrt{\\text{gain}^2 \\cdot \\frac{\\text{scale}}{n}}, \\qquad
    n = \\begin{cases}
      \\text{fan\\_in} & \\text{mode} = \\text{fan\\_in} \\\\
      \\text{fan\\_out} & \\text{mode} = \\text{fan\\_out} \\\\
      (\\text{fan\\_in} + \\text{fan\\_out}) / 2 & \\text{mode} = \\text{fan\\_avg} \\\\
      \\sqrt{\\text{fan\\_in} \\cdot \\text{fan\\_out}} & \\text{mode} = \\text{fan\\_geo\\_avg}
    \\end{cases}

The quotient ``scale / n`` is rounded to float32 exactly as JAX rounds its
float64 quotient: on the host when the fans are concrete (the usual case;
:func:`host_scaled_variance`), so every scheme JAX has is bit-identical to
``jax.nn.initializers`` for the same key. When ``fan_in``/``fan_out`` are
traced, :func:`scaled_variance` reproduces that rounding in float32 arithmetic
to about 48 bits.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from xinit._checks import real
from xinit._errors import RangeError
from xinit._fans import FLAX, TORCH, Layout, LayoutLike, as_layout
from xinit._gain import calculate_gain
from xinit._initializer import Initializer
from xinit._sampling import standard_normal, truncated_standard_normal

__all__ = [
    "DISTRIBUTIONS",
    "MODES",
    "TRUNCATED_NORMAL_STD",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "host_scaled_variance",
    "kaiming_normal",
    "kaiming_uniform",
    "lecun_normal",
    "lecun_uniform",
    "scaled_variance",
    "torch_default_bias",
    "torch_default_weight",
    "variance_scaling",
    "xavier_normal",
    "xavier_uniform",
]

MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
DISTRIBUTIONS = ("truncated_normal", "normal", "uniform")
#: Standard deviation of a standard normal truncated to (-2, 2) (JAX's constant).
TRUNCATED_NORMAL_STD = 0.87962566103423978

_f32 = jnp.float32


# -- float-float arithmetic: float32 rounding of float64 scalar math, traced fans ------
# JAX computes ``scale / n`` in Python float64 and rounds it to float32. With n a
# traced float32 we carry the quotient as an unevaluated float32 pair (hi + lo, about
# 48 bits) and round once at the end. tests/test_initializer.py checks the result
# against NumPy's float64 for every fan up to 2**16 and a table of scales.


def _split(a: jax.Array) -> tuple[jax.Array, jax.Array]:
    c = a * _f32(4097.0)  # Veltkamp split, 2**12 + 1
    hi = c - (c - a)
    return hi, a - hi


def _two_sum(a: jax.Array, b: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``a + b == s + e`` exactly (Knuth)."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, e


def _two_prod(a: jax.Array, b: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``a * b == p + e`` exactly (Dekker, no FMA needed)."""
    p = a * b
    a_hi, a_lo = _split(a)
    b_hi, b_lo = _split(b)
    e = ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    return p, e


def _ff_div(s_hi: jax.Array, s_lo: jax.Array, d_hi: jax.Array, d_lo: jax.Array) -> jax.Array:
    """float32 rounding of ``(s_hi + s_lo) / (d_hi + d_lo)``."""
    q1 = s_hi / d_hi
    p, e = _two_prod(q1, d_hi)
    r = (((s_hi - p) - e) + s_lo) - q1 * d_lo
    return q1 + r / d_hi


def _ff_sqrt(x_hi: jax.Array, x_lo: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``sqrt(x_hi + x_lo)`` as a float32 pair."""
    r = jnp.sqrt(x_hi)
    p, e = _two_prod(r, r)
    c = (((x_hi - p) - e) + x_lo) / (_f32(2.0) * r)
    hi = r + c
    return hi, c - (hi - r)


def _denominator(mode: str, fan_in: float, fan_out: float) -> float:
    """The mode's denominator in float64, written as JAX writes it."""
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    if mode == "fan_avg":
        return (fan_in + fan_out) / 2
    return (fan_in * fan_out) ** 0.5  # fan_geo_avg: Python's pow, as JAX


def host_scaled_variance(scale: float, mode: str, fan_in: float, fan_out: float) -> np.float32:
    """``float32(scale / n)`` computed on the host exactly as JAX computes it.

    ``n`` and the quotient are Python floats (float64), rounded to float32
    once. A zero denominator (``torch_default_bias`` of an empty weight) gives
    ``inf``, as the float32 division does.
    """
    n = _denominator(mode, float(fan_in), float(fan_out))
    with np.errstate(over="ignore"):
        return np.float32(scale / n if n != 0 else math.inf)


def scaled_variance(scale: float, mode: str, fan_in: jax.Array, fan_out: jax.Array) -> jax.Array:
    """``float32(scale / n)`` with ``n`` the mode's denominator, as JAX rounds it.

    With concrete fans (NumPy or JAX arrays, or numbers) this is
    :func:`host_scaled_variance`, elementwise: exactly JAX's rounding.

    With traced fans it is computed in float32 arithmetic. ``fan_in`` and
    ``fan_out`` are float32 scalars holding integers below ``2**24``. When
    ``scale`` is exactly a float32 and the mode is ``fan_in`` or ``fan_out``
    (or ``fan_avg`` with an exact float32 sum), one float32 division is already
    the correctly rounded float64 result (``53 >= 2*24 + 2``); otherwise the
    quotient is computed in float-float arithmetic (about 48 bits) and rounded
    once, which can differ from JAX by an ulp when the quotient lies within
    about ``2**-48`` of a float32 rounding boundary (docs/spec.md, Known limits).
    """
    if not isinstance(fan_in, jax.core.Tracer) and not isinstance(fan_out, jax.core.Tracer):
        host = np.vectorize(
            lambda fi, fo: host_scaled_variance(scale, mode, fi, fo), otypes=[np.float32]
        )
        return host(fan_in, fan_out)[()]  # type: ignore[no-any-return]
    hi = np.float32(scale)
    lo = np.float32(scale - float(hi))
    if mode == "fan_geo_avg":
        p, e = _two_prod(fan_in, fan_out)
        d_hi, d_lo = _ff_sqrt(p, e)
        return _ff_div(_f32(hi), _f32(lo), d_hi, d_lo)
    if mode == "fan_in":
        d, d_lo = fan_in, None
    elif mode == "fan_out":
        d, d_lo = fan_out, None
    else:  # fan_avg; checked when the initializer was built
        # fan_in + fan_out as an exact float32 pair: the sum of two fans below
        # 2**24 can exceed 2**24, where float32 integers are even.
        s, e = _two_sum(fan_in, fan_out)
        d, d_lo = s / _f32(2.0), e / _f32(2.0)
    if lo == 0:
        q = _f32(hi) / d
        if d_lo is None:
            return q
        return jnp.where(d_lo == 0, q, _ff_div(_f32(hi), _f32(0.0), d, d_lo))
    return _ff_div(_f32(hi), _f32(lo), d, _f32(0.0) if d_lo is None else d_lo)


def _std(v0: jax.Array, gain: jax.Array, factor: float | None = None) -> jax.Array:
    """``sqrt(factor * v0 * gain**2)``, rounded as float32 computes it in that order.

    Where ``gain**2`` or the product leaves float32's normal range (``|gain|``
    above about ``1.8e19`` or below about ``1e-19``), this is
    ``sqrt(factor * v0) * |gain|`` instead, the same value without the overflow
    or underflow. Ordinary gains keep the first form, which defines the stream.
    """
    g2 = gain * gain
    var = v0 * g2
    wide = v0
    if factor is not None:
        var, wide = _f32(factor) * var, _f32(factor) * v0
    info = np.finfo(np.float32)
    normal = (g2 >= info.tiny) & (g2 <= info.max) & (var >= info.tiny) & (var <= info.max)
    return jnp.where(normal, jnp.sqrt(var), jnp.sqrt(wide) * jnp.abs(gain))


def _variance_kernel(
    key: jax.Array,
    shape: tuple[int, ...],
    fan_in: jax.Array,
    fan_out: jax.Array,
    gain: jax.Array,
    *,
    dtype: np.dtype,
    scale: float,
    mode: str,
    distribution: str,
    zero_fan_gives_zero: bool = False,
    variance: jax.Array | None = None,
) -> jax.Array:
    del dtype  # generated in float32; the caller casts
    if variance is None:  # traced fans: float32 arithmetic
        variance = scaled_variance(scale, mode, fan_in, fan_out)
    if distribution == "uniform":
        bound = _std(variance, gain, 3.0)
        u = jax.random.uniform(key, shape, _f32, -1)
        if zero_fan_gives_zero:  # torch: bound = 1/sqrt(fan_in) if fan_in > 0 else 0
            # torch's uniform_(-0, 0) gives +0.0, which u * 0 would not for u < 0
            return jnp.where(fan_in > 0, u * bound, _f32(0.0))
        return u * bound
    if distribution == "normal":
        return standard_normal(key, shape) * _std(variance, gain)
    # The barrier keeps XLA from turning the division by a constant into a
    # multiplication by its reciprocal, which JAX's eager division does not do.
    stddev = _std(variance, gain) / jax.lax.optimization_barrier(_f32(TRUNCATED_NORMAL_STD))
    return truncated_standard_normal(key, -2.0, 2.0, shape) * stddev


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def _check_positive(name: str, value: object) -> float:
    v = real(name, value)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return v


_FANS_USED = {
    "fan_in": ("fan_in",),
    "fan_out": ("fan_out",),
    "fan_avg": ("fan_in", "fan_out"),
    "fan_geo_avg": ("fan_in", "fan_out"),
}


def _variance(
    name: str,
    scale: float,
    mode: str,
    distribution: str,
    *,
    layout: Layout,
    gain: float = 1.0,
    warn_empty: bool = False,
    zero_fan_ok: bool = False,
) -> Initializer:
    hyper: tuple[tuple[str, object], ...] = (
        ("distribution", distribution),
        ("mode", mode),
        ("scale", scale),
    )
    if zero_fan_ok:
        hyper += (("zero_fan_gives_zero", True),)
    return Initializer(
        name=name,
        kernel=_variance_kernel,
        hyperparameters=hyper,  # type: ignore[arg-type]
        gain=gain,
        layout=layout,
        fans_used=_FANS_USED[mode],
        warn_empty=warn_empty,
        zero_fan_ok=zero_fan_ok,
        host_variance=functools.partial(host_scaled_variance, scale, mode),
        position_stable=True,
    )


def variance_scaling(
    scale: float,
    mode: str,
    distribution: str,
    in_axis: int | tuple[int, ...] = -2,
    out_axis: int | tuple[int, ...] = -1,
    batch_axis: int | tuple[int, ...] = (),
) -> Initializer:
    r"""JAX's ``variance_scaling``: std :math:`\sqrt{\text{scale}/n}` (module docstring).

    Distributions: ``"uniform"`` draws :math:`U[-1, 1) \cdot \sqrt{3\sigma^2}`;
    ``"normal"`` draws an untruncated :math:`N(0, \sigma^2)`;
    ``"truncated_normal"`` truncates a standard normal to (-2, 2) and divides
    by its std 0.8796..., so the std after truncation is :math:`\sigma`.
    Fans default to JAX's layout (``in_axis=-2``, ``out_axis=-1``); use
    ``.with_layout("torch")`` for torch-shaped weights.

    Bit-identical to ``jax.nn.initializers.variance_scaling`` with the same
    arguments for the same key and shape in float32; other dtypes are that
    float32 result cast (JAX generates them natively, with far fewer distinct
    values in bfloat16).

    Args:
      scale: positive scaling factor (JAX accepts negative ones and returns NaN;
        xinit refuses them).
      mode: ``"fan_in"``, ``"fan_out"``, ``"fan_avg"`` or ``"fan_geo_avg"``.
      distribution: ``"truncated_normal"``, ``"normal"`` or ``"uniform"``.
      in_axis, out_axis, batch_axis: JAX's axis arguments.

    Raises:
      ValueError: unknown mode or distribution, a scale that is not positive.

    References:
      He et al., "Delving Deep into Rectifiers", 2015; ``jax.nn.initializers``.
    """
    scale = _check_positive("scale", scale)
    mode = _check_choice("mode", mode, MODES)
    distribution = _check_choice("distribution", distribution, DISTRIBUTIONS)
    layout = Layout(in_axis, out_axis, batch_axis, name="jax")
    if layout == Layout(-2, -1, (), name="jax"):
        layout = FLAX
    return _variance("variance_scaling", scale, mode, distribution, layout=layout)


def _jax_named(name: str, scale: float, mode: str, distribution: str, doc: str):  # type: ignore[no-untyped-def]
    def build(
        in_axis: int | tuple[int, ...] = -2,
        out_axis: int | tuple[int, ...] = -1,
        batch_axis: int | tuple[int, ...] = (),
    ) -> Initializer:
        init = variance_scaling(scale, mode, distribution, in_axis, out_axis, batch_axis)
        return Initializer(**{**_fields(init), "name": name})

    build.__name__ = build.__qualname__ = name
    build.__doc__ = (
        f"{doc}\n\n    ``variance_scaling({scale}, {mode!r}, {distribution!r})``; "
        f"bit-identical to ``jax.nn.initializers.{name}``.\n\n"
        "    Args:\n      in_axis, out_axis, batch_axis: JAX's axis arguments "
        "(default: the ``(*k, in, out)`` layout).\n"
    )
    return build


def _fields(init: Initializer) -> dict[str, object]:
    return {f: getattr(init, f) for f in init.__dataclass_fields__}


glorot_uniform = _jax_named(
    "glorot_uniform",
    1.0,
    "fan_avg",
    "uniform",
    "Glorot/Xavier uniform: U(±sqrt(6/(fan_in+fan_out))) (Glorot & Bengio, 2010).",
)
glorot_normal = _jax_named(
    "glorot_normal",
    1.0,
    "fan_avg",
    "truncated_normal",
    "Glorot/Xavier normal, truncated at ±2σ with std sqrt(2/(fan_in+fan_out)) after truncation.",
)
lecun_uniform = _jax_named(
    "lecun_uniform",
    1.0,
    "fan_in",
    "uniform",
    "LeCun uniform: U(±sqrt(3/fan_in)) (LeCun et al., Efficient BackProp, 1998).",
)
lecun_normal = _jax_named(
    "lecun_normal",
    1.0,
    "fan_in",
    "truncated_normal",
    "LeCun normal, truncated at ±2σ with std sqrt(1/fan_in) after truncation (Flax's default kernel init).",
)
he_uniform = _jax_named(
    "he_uniform",
    2.0,
    "fan_in",
    "uniform",
    "He/Kaiming uniform: U(±sqrt(6/fan_in)) (He et al., 2015).",
)
he_normal = _jax_named(
    "he_normal",
    2.0,
    "fan_in",
    "truncated_normal",
    "He/Kaiming normal, truncated at ±2σ with std sqrt(2/fan_in) after truncation "
    "(torch's kaiming_normal is untruncated: use xinit.kaiming_normal for that).",
)


# -- torch's xavier and kaiming ---------------------------------------------------------


def _check_gain(name: str, gain: object) -> float:
    g = real(f"{name}: gain", gain)
    if not math.isfinite(g):  # torch: a NaN/inf bound or std, RuntimeError
        raise RangeError(f"{name}: gain must be finite, got {gain!r}")
    if g < 0:  # torch: a reversed uniform range or a negative std, RuntimeError
        raise RangeError(f"{name}: gain must be >= 0, got gain={g:g}")
    return g


def xavier_uniform(gain: float = 1.0) -> Initializer:
    r"""torch's ``xavier_uniform_``: :math:`U(-a, a)`, :math:`a = \text{gain}\sqrt{6/(\text{fan\_in}+\text{fan\_out})}`.

    Fans in torch's layout (``.with_layout`` to change). Same distribution as
    JAX's ``glorot_uniform`` (they are the same scheme).

    References:
      Glorot & Bengio, "Understanding the difficulty of training deep
      feedforward neural networks", 2010.
    """
    return _variance(
        "xavier_uniform",
        1.0,
        "fan_avg",
        "uniform",
        layout=TORCH,
        gain=_check_gain("xavier_uniform", gain),
    )


def xavier_normal(gain: float = 1.0) -> Initializer:
    r"""torch's ``xavier_normal_``: untruncated :math:`N(0, \sigma^2)`, :math:`\sigma = \text{gain}\sqrt{2/(\text{fan\_in}+\text{fan\_out})}`.

    Unlike JAX's ``glorot_normal`` this is not truncated.

    References:
      Glorot & Bengio, 2010.
    """
    return _variance(
        "xavier_normal",
        1.0,
        "fan_avg",
        "normal",
        layout=TORCH,
        gain=_check_gain("xavier_normal", gain),
    )


def _kaiming_gain(a: float, mode: str, nonlinearity: str) -> float:
    if not isinstance(mode, str) or mode.lower() not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    try:
        gain = float(calculate_gain(nonlinearity, a))
    except OverflowError:  # a * a overflows: the limit gain 0, as torch gives for a=inf
        gain = 0.0
    if not math.isfinite(gain):
        raise ValueError(f"a (the negative slope) must be finite, got a={a!r}")
    return gain


def kaiming_uniform(
    a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Initializer:
    r"""torch's ``kaiming_uniform_``: :math:`U(-b, b)`, :math:`b = \text{gain}\sqrt{3/\text{fan\_mode}}`.

    ``gain = calculate_gain(nonlinearity, a)``; ``a`` is the negative slope of
    the leaky ReLU that follows and is used only when ``nonlinearity`` is
    ``"leaky_relu"``. ``mode`` is case-insensitive, as in torch. A zero-element
    shape warns "Initializing zero-element tensors is a no-op", as in torch.

    Raises:
      ValueError: an unknown mode or nonlinearity, a slope that is not a number.

    References:
      He et al., "Delving Deep into Rectifiers", 2015.
    """
    gain = _kaiming_gain(a, mode, nonlinearity)
    return _variance(
        "kaiming_uniform", 1.0, mode.lower(), "uniform", layout=TORCH, gain=gain, warn_empty=True
    )


def kaiming_normal(
    a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Initializer:
    r"""torch's ``kaiming_normal_``: untruncated :math:`N(0, \sigma^2)`, :math:`\sigma = \text{gain}/\sqrt{\text{fan\_mode}}`.

    JAX's ``he_normal`` is truncated; this one, like torch's, is not.

    References:
      He et al., 2015.
    """
    gain = _kaiming_gain(a, mode, nonlinearity)
    return _variance(
        "kaiming_normal", 1.0, mode.lower(), "normal", layout=TORCH, gain=gain, warn_empty=True
    )


# -- PyTorch layer defaults -------------------------------------------------------------


def torch_default_weight(layout: LayoutLike = "torch") -> Initializer:
    r"""PyTorch's default ``Linear``/``ConvNd`` weight: :math:`U(\pm 1/\sqrt{\text{fan\_in}})`.

    torch writes it as ``kaiming_uniform_(w, a=sqrt(5))``; the gain
    :math:`\sqrt{1/3}` makes the bound :math:`1/\sqrt{\text{fan\_in}}`. Here it
    is ``variance_scaling(1/3, "fan_in", "uniform")`` in ``layout``, the same
    values as that JAX initializer for the same key and fans.
    """
    return _variance(
        "torch_default_weight",
        1.0 / 3.0,
        "fan_in",
        "uniform",
        layout=as_layout(layout),
        warn_empty=True,
    )


def torch_default_bias() -> Initializer:
    r"""PyTorch's default ``Linear``/``ConvNd`` bias: :math:`U(\pm 1/\sqrt{\text{fan\_in}})`
    with the **weight's** ``fan_in`` (bound 0 when it is 0, as in torch).

    A bias is 1-D, so its own shape has no fan: pass the weight's,
    ``init(key, (out,), fan_in=fan_in_of_weight, fan_out=...)``. Flax cannot
    express this default, because its initializers see only the bias shape.
    """
    return _variance(
        "torch_default_bias", 1.0 / 3.0, "fan_in", "uniform", layout=TORCH, zero_fan_ok=True
    )
