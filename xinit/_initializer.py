"""The :class:`Initializer` object and the one jitted function that runs every kernel."""

from __future__ import annotations

import dataclasses
import functools
import math
import operator
import struct
import warnings
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Protocol

import jax
import jax.numpy as jnp
import numpy as np

from xinit import _executables, _window
from xinit._dtypes import DTypeLike, check_dtype
from xinit._errors import DivisionByZeroError
from xinit._fans import TORCH, Layout, LayoutLike, as_layout, fans

__all__ = ["Initializer", "Kernel", "Scalar", "check_shape"]

#: A fan or gain: a Python number or a (possibly traced) JAX scalar.
Scalar = int | float | jax.Array | np.ndarray


class Kernel(Protocol):
    """The pure function behind an initializer.

    ``kernel(key, shape, fan_in, fan_out, gain, *, dtype, **hyperparameters)``
    returns an array of ``shape``. ``fan_in``, ``fan_out`` and ``gain`` are
    float32 scalars that may be traced; random kernels generate in float32 and
    leave the cast to ``dtype`` to the caller. The kernel of an initializer with
    ``host_variance`` also gets ``variance=`` (a float32 scalar, traced) when
    the call's fans are concrete.
    """

    def __call__(
        self,
        key: jax.Array,
        shape: tuple[int, ...],
        fan_in: jax.Array,
        fan_out: jax.Array,
        gain: jax.Array,
        *,
        dtype: np.dtype,
        **hyperparameters: Any,
    ) -> jax.Array: ...


def check_shape(shape: object) -> tuple[int, ...]:
    """Return ``shape`` as a tuple of non-negative ints or raise naming the value."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"shape must be a sequence of ints, got {shape!r}") from None
    out = []
    for d in dims:
        if isinstance(d, bool):
            raise TypeError(f"shape must be a sequence of ints, got {shape!r}")
        try:
            d = operator.index(d)
        except TypeError:
            raise TypeError(f"shape must be a sequence of ints, got {shape!r}") from None
        if d < 0:
            raise ValueError(f"shape must not have negative dimensions, got {tuple(dims)}")
        out.append(d)
    return tuple(out)


def _as_f32(name: str, value: Scalar) -> jax.Array | np.ndarray:
    if isinstance(value, (jax.Array, np.ndarray)):
        if value.shape != ():
            raise ValueError(f"{name} must be a scalar, got an array of shape {value.shape}")
        if not (
            jnp.issubdtype(value.dtype, np.integer) or jnp.issubdtype(value.dtype, np.floating)
        ):
            raise TypeError(f"{name} must be a real number, got {value!r}")
        if isinstance(value, jax.core.Tracer):
            return value.astype(jnp.float32)
        # A concrete array is read on the host and checked like a number below,
        # so it also shares the compiled entry of Python and NumPy numbers.
        value = np.asarray(value).astype(np.float32)[()]
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if not math.isfinite(float(value)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    # A NumPy scalar is a concrete, strongly typed float32[] for jit: Python
    # ints and floats of any value share one compiled program.
    return np.float32(value)


def _bits(value: object) -> object:
    """``value`` with every float replaced by its bit pattern (recursively in tuples).

    ``==`` equates ``0.0`` with ``-0.0`` and no NaN with itself, although they
    are different hyperparameters: a static jit argument must compare them by bits.
    """
    if isinstance(value, float):
        return (float, struct.pack("<d", value))
    if isinstance(value, tuple):
        return tuple(_bits(v) for v in value)
    return value


@dataclasses.dataclass(frozen=True, eq=True)
class Initializer:
    """An initialization scheme with its hyperparameters bound.

    Build one with a constructor (``xinit.kaiming_uniform(a=0.1)``,
    ``xinit.variance_scaling(1.0, "fan_in", "normal")``, ...), which validates
    the hyperparameters; then call it any number of times. Initializers are
    immutable and hashable, so they can be static arguments of ``jax.jit``.

    Calling it runs ``kernel`` inside one shared ``jax.jit``; ``fan_in``,
    ``fan_out`` and ``gain`` are traced, so changing them never recompiles.

    Attributes:
      name: the constructor's name, e.g. ``"kaiming_uniform"``.
      kernel: the pure function that generates values (see :class:`Kernel`).
      hyperparameters: the keyword arguments bound to ``kernel``, as sorted pairs.
      gain: the gain used when a call passes none.
      layout: how fans are computed from a shape when a call passes none.
      fans_used: which of ``"fan_in"``/``"fan_out"`` the values depend on; a
        call that omits a used fan gets it from the shape and ``layout``.
      allow_int: whether integer and bool dtypes are accepted (deterministic schemes).
      warn_empty: warn, as torch does, when asked for a zero-element array.
      dtype: the dtype a call returns when it passes none (default float32).
      zero_fan_ok: accept a fan of zero (torch's bias of an empty weight);
        otherwise concrete fans must be positive.
      check: an extra shape check, raising the error torch raises.
      dtype_check: an extra check of the target dtype (``constant``: the value
        must be representable in it).
      host_variance: for variance-scaling kernels, ``(fan_in, fan_out) ->
        float32 variance`` computed on the host as JAX does; with concrete
        fans, a call passes its result to the kernel as a traced ``variance``.
      position_stable: the value at flat index ``i`` depends only on the key,
        ``i``, the fans, the gain and the hyperparameters (``docs/spec.md``
        §3), which :meth:`window` relies on.

    Equality and hashing compare float hyperparameters by bit pattern, so
    ``constant(0.0) != constant(-0.0)`` and ``constant(nan) == constant(nan)``.
    """

    name: str
    kernel: Kernel = dataclasses.field(repr=False)
    hyperparameters: tuple[tuple[str, Hashable], ...] = ()
    gain: float = 1.0
    layout: Layout = TORCH
    fans_used: tuple[str, ...] = ()
    allow_int: bool = False
    warn_empty: bool = False
    zero_fan_ok: bool = False
    dtype: np.dtype | None = None
    # Derived from the hyperparameters, so it takes no part in equality.
    check: Callable[[tuple[int, ...]], None] | None = dataclasses.field(
        default=None, repr=False, compare=False
    )
    dtype_check: Callable[[np.dtype], None] | None = dataclasses.field(
        default=None, repr=False, compare=False
    )
    host_variance: Callable[[np.float32, np.float32], np.float32] | None = dataclasses.field(
        default=None, repr=False, compare=False
    )
    position_stable: bool = dataclasses.field(default=False, repr=False, compare=False)

    @functools.cached_property
    def _key(self) -> tuple[object, ...]:
        # Cached: jit and the executable cache hash the initializer on every call.
        return tuple(_bits(getattr(self, f.name)) for f in dataclasses.fields(self) if f.compare)

    @functools.cached_property
    def _hash(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self is other or self._key == other._key  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return self._hash

    def __call__(
        self,
        key: jax.Array,
        shape: Sequence[int],
        fan_in: Scalar | None = None,
        fan_out: Scalar | None = None,
        gain: Scalar | None = None,
        *,
        dtype: DTypeLike | None = None,
    ) -> jax.Array:
        """Generate an array.

        Args:
          key: a JAX key (``xinit.key``, ``xinit.key_for``, ``jax.random.key``
            or a legacy ``uint32[2]`` key).
          shape: the array's shape.
          fan_in: overrides the fan-in computed from ``shape`` and ``layout``.
          fan_out: overrides the fan-out likewise.
          gain: overrides :attr:`gain`.
          dtype: the output dtype (default :attr:`dtype`, else float32); random
            values are generated in float32 and cast last.

        Returns:
          An array of ``shape`` and ``dtype``.
        """
        call = self._prepare(key, shape, fan_in, fan_out, gain, dtype)
        if call.empty:
            if self.warn_empty:
                warnings.warn(
                    "Initializing zero-element tensors is a no-op", UserWarning, stacklevel=2
                )
            return jnp.zeros(call.shape, call.dtype)
        return _dispatch(_generate, self._program, key, (call.shape, call.dtype), call.dynamic)

    def window(
        self,
        key: jax.Array,
        shape: Sequence[int],
        start: int,
        size: int,
        fan_in: Scalar | None = None,
        fan_out: Scalar | None = None,
        gain: Scalar | None = None,
        *,
        dtype: DTypeLike | None = None,
    ) -> jax.Array:
        """Flat positions ``[start, start + size)`` of ``self(key, shape, ...)``, as a 1-D array.

        For a position-stable initializer the value at flat index ``i``
        depends only on the key, ``i``, the fans, the gain and the
        hyperparameters, so a long array can be generated in windows, and
        positions past the end of ``shape`` hold what a longer array would
        (with the fans of ``shape``). The compiled program depends on
        ``size``, not on ``shape`` or ``start``: tensors of any shape share it.
        Equal, bit for bit, to ``self(key, shape, ...).ravel()[start:start + size]``
        where that slice exists (``tests/test_window.py``).

        Args:
          key: as for :meth:`__call__`. With ``start > 0`` it must be a
            threefry4x32 key (xinit's default); other implementations take
            ``start=0`` only.
          shape: the shape whose fans the values use.
          start: the first flat position, in ``[0, 2**64 - size]``.
          size: how many values, in ``[1, 2**32)``.
          fan_in, fan_out, gain, dtype: as for :meth:`__call__`.

        Returns:
          A 1-D array of ``size`` values of ``dtype``.

        Raises:
          ValueError: the initializer is not position-stable (``orthogonal``,
            ``sparse``, ``eye``, ``dirac``), or a bad ``start`` or ``size``;
            any error :meth:`__call__` raises for the same arguments.
          NotImplementedError: ``start > 0`` with a key of another implementation.
        """
        if not self.position_stable:
            raise ValueError(
                f"{self.name} is not position-stable (its values depend on the whole "
                "shape), so it cannot be generated in windows"
            )
        start, size = _check_count("start", start, 0), _check_count("size", size, 1)
        if size >= 2**32 or start + size > 2**64:
            raise ValueError(
                f"window: need size < 2**32 and start + size <= 2**64, got start={start}, "
                f"size={size}"
            )
        call = self._prepare(key, shape, fan_in, fan_out, gain, dtype)
        if call.empty:
            raise ValueError(f"window: shape {call.shape} has no elements")
        if not _window.supports(key):
            if start:
                raise NotImplementedError(
                    f"window: start={start} > 0 needs a threefry4x32 key (xinit's default), "
                    f"got a {_window.impl_name(key)} key; other implementations take start=0"
                )
            return _dispatch(_generate, self._program, key, ((size,), call.dtype), call.dynamic)
        dynamic = (_window.start_words(start), *call.dynamic)
        return _dispatch(_generate_window, self._program, key, (size, call.dtype), dynamic)

    def _prepare(
        self,
        key: jax.Array,
        shape: Sequence[int],
        fan_in: Scalar | None,
        fan_out: Scalar | None,
        gain: Scalar | None,
        dtype: DTypeLike | None,
    ) -> _Call:
        """Check a call's arguments and compute its fans, gain and variance on the host."""
        shape = check_shape(shape)
        dt = check_dtype(
            self.dtype if dtype is None else dtype, name=self.name, allow_int=self.allow_int
        )
        _check_key(key)
        if self.check is not None:
            self.check(shape)
        if self.dtype_check is not None:
            self.dtype_check(dt)
        empty = math.prod(shape) == 0
        given = {"fan_in": fan_in, "fan_out": fan_out}
        missing = [f for f in self.fans_used if given[f] is None]
        # torch's kaiming_* return before computing fans on an empty tensor.
        if missing and not (empty and self.warn_empty):
            computed = dict(zip(("fan_in", "fan_out"), fans(shape, self.layout), strict=False))
            for f in missing:
                given[f] = computed[f]
        f32 = {f: _as_f32(f, 0 if v is None else v) for f, v in given.items()}
        if not empty:
            for f in self.fans_used:
                _check_fan(self.name, f, f32[f], self.zero_fan_ok)
        fi32, fo32 = f32["fan_in"], f32["fan_out"]
        g32 = _as_f32("gain", self.gain if gain is None else gain)
        variance = None
        if (
            not empty
            and self.host_variance is not None
            and not any(isinstance(f32[f], jax.core.Tracer) for f in self.fans_used)
        ):
            # Concrete fans: the quotient is rounded on the host exactly as JAX
            # rounds it, and passed traced, so new fan values never recompile.
            variance = self.host_variance(fi32, fo32)
        return _Call(shape, dt, empty, (fi32, fo32, g32, variance))

    @functools.cached_property
    def _program(self) -> Initializer:
        """This initializer as the static argument of the compiled program.

        The fields that matter only on the host before the program runs (the
        default gain, which the program gets traced; the default dtype; the
        layout of fans) are normalized, so ``xavier_uniform(gain=2.0)`` and
        ``xavier_uniform()`` share one compiled program per shape and dtype.
        """
        return dataclasses.replace(self, gain=1.0, dtype=None, layout=TORCH)

    def with_layout(self, layout: LayoutLike) -> Initializer:
        """The same scheme with fans computed in another layout."""
        return dataclasses.replace(self, layout=as_layout(layout))

    def with_dtype(self, dtype: DTypeLike) -> Initializer:
        """The same scheme returning ``dtype`` when a call passes none."""
        dt = check_dtype(dtype, name=self.name, allow_int=self.allow_int)
        if self.dtype_check is not None:
            self.dtype_check(dt)
        return dataclasses.replace(self, dtype=dt)

    def fans(self, shape: Sequence[int]) -> tuple[int, int]:
        """``(fan_in, fan_out)`` of ``shape`` in this initializer's layout."""
        return fans(check_shape(shape), self.layout)


@dataclasses.dataclass(frozen=True)
class _Call:
    """A checked call: its shape and dtype, and the program's traced arguments
    after the key (``fan_in``, ``fan_out``, ``gain``, ``variance`` or None)."""

    shape: tuple[int, ...]
    dtype: np.dtype
    empty: bool
    dynamic: tuple[Any, ...]


def _dispatch(
    jitted: Any,
    program: Initializer,
    key: jax.Array,
    static: tuple[Any, ...],
    dynamic: tuple[Any, ...],
) -> jax.Array:
    """``jitted(program, key, *static, *dynamic)``, through xinit's executable cache when it is on."""
    executable = _executables.compiled(jitted, program, key, static, dynamic)
    if executable is not None:
        return executable(key, *dynamic)
    return jitted(program, key, *static, *dynamic)


def _check_count(name: str, value: object, lowest: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"window: {name} must be an int, got {value!r}")
    if value < lowest:
        raise ValueError(f"window: {name} must be >= {lowest}, got {value}")
    return int(value)


def _check_fan(name: str, fan_name: str, fan: jax.Array | np.ndarray, zero_ok: bool) -> None:
    if isinstance(fan, jax.core.Tracer):
        return  # traced: the caller vouches for it
    value = float(fan)
    if value < 0 or (value == 0 and not zero_ok):
        cls = ValueError if value < 0 else DivisionByZeroError
        raise cls(f"{name}: {fan_name} must be positive, got {value:g}")


def _check_key(key: object) -> None:
    dtype = getattr(key, "dtype", None)
    if dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        if key.shape != ():  # type: ignore[attr-defined]
            raise ValueError(f"key must be a single key of shape (), got shape {key.shape}")  # type: ignore[attr-defined]
        return
    if dtype == np.uint32 and getattr(key, "shape", None) == (2,):
        return  # legacy jax.random.PRNGKey, as jax.nn.initializers accept
    raise TypeError(f"key must be a JAX PRNG key (xinit.key(seed) or jax.random.key), got {key!r}")


def _run(
    init: Initializer,
    key: jax.Array,
    shape: tuple[int, ...],
    dtype: np.dtype,
    fan_in: jax.Array,
    fan_out: jax.Array,
    gain: jax.Array,
    variance: jax.Array | None = None,
) -> jax.Array:
    hyper = dict(init.hyperparameters)
    if variance is not None:  # computed on the host from concrete fans (host_variance)
        hyper["variance"] = variance
    out = init.kernel(key, shape, fan_in, fan_out, gain, dtype=dtype, **hyper)
    return out.astype(dtype)


#: The single compiled entry point: one program per (initializer, shape, dtype).
_generate = jax.jit(_run, static_argnames=("init", "shape", "dtype"))


def _run_window(
    init: Initializer,
    key: jax.Array,
    size: int,
    dtype: np.dtype,
    start: jax.Array,
    fan_in: jax.Array,
    fan_out: jax.Array,
    gain: jax.Array,
    variance: jax.Array | None = None,
) -> jax.Array:
    """``_run`` of ``size`` values from flat position ``start`` (``uint32[2]``, high word first)."""
    return _run(
        init, _window.offset_key(key, start), (size,), dtype, fan_in, fan_out, gain, variance
    )


#: Windows of position-stable initializers: one program per (initializer, size, dtype).
_generate_window = jax.jit(_run_window, static_argnames=("init", "size", "dtype"))
