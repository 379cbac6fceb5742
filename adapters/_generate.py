"""Framework-neutral planning and generation, shared by the torch and Flax adapters.

:func:`plan` asks a scheme for every parameter's assignment and reports all
the parameters it has nothing for at once; :func:`values` generates one
parameter's values in the canonical (torch) layout from
``xinit.key_for(root, path)``. The adapters only walk their modules, convert
layouts and hand the arrays over.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import jax
import jax.numpy as jnp
import numpy as np

import xinit
from xinit import _window
from xinit.adapters._scheme import KEEP, Assignment, ParamInfo, SchemeLike, as_scheme

__all__ = [
    "WHOLE_FROM",
    "cuts",
    "generate_all",
    "group_key",
    "is_whole",
    "listing",
    "plan",
    "root_key",
    "values",
    "windows",
]

_MAX_LISTED = 8

#: Position-stable tensors of at least this many elements are generated whole, as one
#: flat array (one program per element count, shared by every shape of that size).
WHOLE_FROM = 1 << 19
#: Smaller ones are cut into windows of these sizes (the smallest that holds the
#: tensor, else the largest), so one program per (initializer, window size, dtype)
#: serves every small tensor of a model.
WINDOW_SIZES = (1 << 12, 1 << 16)

T = TypeVar("T")
R = TypeVar("R")


def root_key(seed: object) -> jax.Array:
    """The root key of an integer seed (``xinit.key``) or a typed JAX key as it is.

    Raises:
      TypeError: ``seed`` is neither an integer nor a typed JAX key.
      ValueError: an integer seed outside ``[0, 2**64)``.
    """
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return xinit.key(int(seed))
    dtype = getattr(seed, "dtype", None)
    if dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        if seed.shape != ():  # type: ignore[attr-defined]
            raise ValueError(f"seed must be a single key of shape (), got shape {seed.shape}")  # type: ignore[attr-defined]
        return seed  # type: ignore[return-value]
    raise TypeError(f"seed must be an integer or a JAX key (xinit.key(...)), got {seed!r}")


def listing(items: Sequence[str]) -> str:
    """At most eight items, comma-separated, and how many more there are."""
    shown = ", ".join(items[:_MAX_LISTED])
    more = len(items) - _MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def plan(
    items: Iterable[tuple[ParamInfo, T]], scheme: SchemeLike, *, allow_keep: bool
) -> list[tuple[ParamInfo, T, Assignment]]:
    """Every parameter with its assignment, before anything is generated.

    Args:
      items: ``(info, handle)`` pairs; the handle is the adapter's own record
        of the parameter and comes back with its assignment.
      scheme: anything :func:`~xinit.adapters._scheme.as_scheme` accepts.
      allow_keep: whether :data:`KEEP` is allowed (not for parameters without values).

    Returns:
      ``(info, handle, assignment)`` for every parameter the scheme does not keep.

    Raises:
      ValueError: the scheme has no initializer for some parameters (all named,
        with their layer type), or keeps one when ``allow_keep`` is false.
      TypeError: the scheme returned something that is not an assignment.
    """
    resolved = as_scheme(scheme)
    planned: list[tuple[ParamInfo, T, Assignment]] = []
    unmatched: list[str] = []
    for info, handle in items:
        got = resolved(info)
        if got is None:
            where = type(info.module).__name__
            if "flax_path" in info.context:
                where += f", Flax {info.context['flax_path']!r}"
            unmatched.append(f"{info.path!r} ({where})")
        elif got is KEEP:
            if not allow_keep:
                raise ValueError(
                    f"scheme keeps {info.path!r}, but a parameter without values (meta or "
                    "abstract) has nothing to keep: give it an initializer"
                )
        elif isinstance(got, Assignment):
            planned.append((info, handle, got))
        else:
            raise TypeError(
                f"scheme returned {got!r} for {info.path!r}; expected an Assignment, KEEP or None"
            )
    if unmatched:
        raise ValueError(
            f"scheme {scheme!r} has no initializer for {len(unmatched)} parameter(s): "
            f"{listing(unmatched)}. Add a Rule for them, or use "
            "Rules(..., fallback='keep' or 'torch')"
        )
    return planned


def values(info: ParamInfo, a: Assignment, root: jax.Array, dtype: np.dtype) -> jax.Array:
    """One parameter's values in its canonical (torch) layout, on the default JAX device.

    The key is ``xinit.key_for(root, info.path)``. Fans the assignment does not
    give are computed from the shape in torch's layout, whatever layout the
    initializer was built for. With ``a.blocks > 1`` axis 0
    is generated as equal blocks with keys ``fold_in(key, i)``; ``a.zero_row``
    is set to zero last.

    Raises:
      The initializer's own error, with the parameter's path, kind and
      initializer prepended to the message.
    """
    key = xinit.key_for(root, info.path)
    # Shapes here are in torch's layout, so fans not given explicitly are torch's: an
    # initializer built for Flax's layout (lecun_*, he_*, variance_scaling) is re-laid.
    init = a.init if a.init.layout == xinit.TORCH else a.init.with_layout(xinit.TORCH)
    try:
        if a.blocks > 1:
            rows, rest = divmod(info.shape[0], a.blocks)
            if rest:
                raise ValueError(f"{a.blocks} blocks do not divide axis 0 of shape {info.shape}")
            shape = (rows, *info.shape[1:])
            out = jnp.concatenate(
                [
                    init(jax.random.fold_in(key, i), shape, a.fan_in, a.fan_out, dtype=dtype)
                    for i in range(a.blocks)
                ]
            )
        else:
            out = init(key, info.shape, a.fan_in, a.fan_out, dtype=dtype)
        if a.zero_row is not None:
            out = out.at[a.zero_row].set(0)
    except (ValueError, TypeError, ZeroDivisionError, NotImplementedError, RuntimeError) as exc:
        raise type(exc)(f"parameter {info.path!r} ({info.kind}, {a.init.name}): {exc}") from exc
    return out


def cuts(info: ParamInfo, a: Assignment, impl: str) -> list[tuple[int, int]] | None:
    """How :func:`windows` cuts a parameter: ``(start, size)`` pairs, or None for :func:`values`.

    A parameter qualifies when its initializer is position-stable
    (``Initializer.position_stable``), it has elements, and it has no blocks
    and no zero row. It is one whole flat window when it has at least
    :data:`WHOLE_FROM` elements or when the key's implementation ``impl`` is
    not threefry4x32 (only threefry4x32 windows can start past 0); otherwise
    windows of one of :data:`WINDOW_SIZES`, the last one running past the end.

    Measured on a 2-core CPU (``docs/benchmarks.md``): a program compiles in
    0.2 to 0.3 s, while a window costs about 50 us and a copy of its values
    into the tensor; so small tensors of many shapes share a few window
    programs, and large tensors, where the copy would show, keep their own
    program (values handed over without a copy).
    """
    n = math.prod(info.shape)
    if not a.init.position_stable or a.blocks > 1 or a.zero_row is not None or n == 0:
        return None
    if n >= WHOLE_FROM or impl != _window.IMPL:
        return [(0, n)]
    size = next((w for w in WINDOW_SIZES if w >= n), WINDOW_SIZES[-1])
    return [(start, size) for start in range(0, n, size)]


def is_whole(pieces: list[tuple[int, int]] | None, n: int) -> bool:
    """Whether a parameter of ``n`` values cut as ``pieces`` (:func:`cuts`) is generated as
    one array, which the torch adapter hands over without a copy."""
    return pieces is None or pieces == [(0, n)]


def group_key(
    info: ParamInfo, a: Assignment, dtype: object, pieces: list[tuple[int, int]] | None
) -> Hashable:
    """The compiled program a parameter uses, for :func:`generate_all`: one per
    (initializer, shape, dtype, blocks) for :func:`values` (``pieces`` None), one per
    (initializer's program, window sizes, dtype) for :func:`windows`."""
    if pieces is None:
        return (a.init, info.shape, dtype, a.blocks)
    return (a.init._program, tuple(sorted({size for _, size in pieces})), dtype)


def windows(
    info: ParamInfo, a: Assignment, root: jax.Array, dtype: np.dtype, pieces: list[tuple[int, int]]
) -> list[jax.Array]:
    """The flat values of one parameter in the windows ``pieces`` (from :func:`cuts`).

    Together they hold what :func:`values` returns, flattened: window ``(s, m)``
    is positions ``[s, s + m)`` (the last one may run past the end). The key,
    fans and errors are those of :func:`values`.
    """
    key = xinit.key_for(root, info.path)
    init = a.init if a.init.layout == xinit.TORCH else a.init.with_layout(xinit.TORCH)
    try:
        return [
            init.window(key, info.shape, start, size, a.fan_in, a.fan_out, dtype=dtype)
            for start, size in pieces
        ]
    except (ValueError, TypeError, ZeroDivisionError, NotImplementedError, RuntimeError) as exc:
        raise type(exc)(f"parameter {info.path!r} ({info.kind}, {a.init.name}): {exc}") from exc


def generate_all(
    items: Sequence[T], group: Callable[[T], Hashable], run: Callable[[T], R]
) -> list[R]:
    """``[run(item) for item in items]``, with the first item of each group run in parallel.

    Items of one group (same initializer, shape and dtype, or same window
    program: initializer, window sizes and dtype) share one compiled
    program. The first item of every group runs in a thread pool, so XLA
    compiles the distinct programs side by side (compilation releases the
    GIL); the other items then reuse them, in order. Measured on a 2-core CPU,
    first call in a fresh process: GPT-2-small 1.99 s -> 1.58 s, ResNet-50
    (38 programs) 4.25 s -> 3.05 s; warm calls are unchanged.

    ``run`` must set up its own per-thread context (``jax.default_device`` is
    thread-local).
    """
    firsts: dict[Hashable, int] = {}
    for i, item in enumerate(items):
        firsts.setdefault(group(item), i)
    out: dict[int, R] = {}
    workers = min(len(firsts), os.cpu_count() or 1)
    if workers > 1:
        with ThreadPoolExecutor(workers, thread_name_prefix="xinit") as pool:
            out.update(
                zip(
                    firsts.values(), pool.map(lambda i: run(items[i]), firsts.values()), strict=True
                )
            )
    return [out[i] if i in out else run(item) for i, item in enumerate(items)]
