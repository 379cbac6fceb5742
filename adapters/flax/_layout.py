"""Flax parameters in torch's canonical layout, and back.

xinit generates every parameter in one canonical layout, torch's (``(out, in,
*k)``), so that the same seed gives the same values in both frameworks; a Flax
parameter is that array rearranged into Flax's layout. This module knows, per
layer kind, the canonical shape of a Flax parameter and the two rearrangements:

============== ================================ =================================================
kind           Flax shape                       canonical (torch) shape and rearrangement
============== ================================ =================================================
linear         Dense ``(in, out)``;             ``(out, in)``: transposed (DenseGeneral: the in
               DenseGeneral ``(*in, *out)``      and out axes flattened first, and its bias
                                                 ``(*out,)`` flattened)
conv           ``(*k, in/groups, out)``          ``(out, in/groups, *k)``: axes permuted
conv_transpose ``(*k, in, out)``                 ``(in, out, *k)``: permuted and the kernel
                                                 flipped in space (``transpose_kernel=True``:
                                                 ``(*k, out, in)``, permuted, not flipped)
embedding      ``(num_embeddings, features)``    the same
norm, bias     ``(features,)``                   the same
other          any                               the same
============== ================================ =================================================

With these, a torch model and a Flax model holding corresponding values
compute the same function (the tests check forward passes).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np

__all__ = ["Layout", "flax_kind", "layout_for"]

Array = Any  # a jax.Array or a numpy array


@dataclasses.dataclass(frozen=True)
class Layout:
    """How one Flax parameter relates to its canonical (torch) array.

    Attributes:
      canonical_shape: the parameter's shape in torch's layout.
      to_flax: canonical array -> Flax array.
      to_canonical: Flax array -> canonical array.
    """

    canonical_shape: tuple[int, ...]
    to_flax: Callable[[Array], Array] = dataclasses.field(repr=False)
    to_canonical: Callable[[Array], Array] = dataclasses.field(repr=False)


def _identity(shape: tuple[int, ...]) -> Layout:
    return Layout(shape, lambda x: x, lambda x: x)


def _xp(x: Array) -> Any:
    return np if isinstance(x, np.ndarray) else jnp


def _linear(shape: tuple[int, ...], n_in: int) -> Layout:
    n_in_size = math.prod(shape[:n_in])
    n_out_size = math.prod(shape[n_in:])

    def to_flax(w: Array) -> Array:
        return w.T.reshape(shape)

    def to_canonical(k: Array) -> Array:
        return k.reshape(n_in_size, n_out_size).T

    return Layout((n_out_size, n_in_size), to_flax, to_canonical)


def _conv(shape: tuple[int, ...]) -> Layout:
    n = len(shape) - 2  # spatial dims
    # flax (*k, in, out) <- canonical (out, in, *k)
    to_flax_axes = (*range(2, n + 2), 1, 0)
    to_canon_axes = (n + 1, n, *range(n))
    canonical = (shape[-1], shape[-2], *shape[:n])
    return Layout(
        canonical,
        lambda w: w.transpose(to_flax_axes),
        lambda k: k.transpose(to_canon_axes),
    )


def _conv_transpose(shape: tuple[int, ...], transpose_kernel: bool) -> Layout:
    n = len(shape) - 2
    spatial_canon = tuple(range(2, n + 2))
    if transpose_kernel:  # flax (*k, out, in) <- canonical (in, out, *k), not flipped
        canonical = (shape[-1], shape[-2], *shape[:n])
        return Layout(
            canonical,
            lambda w: w.transpose(*range(2, n + 2), 1, 0),
            lambda k: k.transpose(n + 1, n, *range(n)),
        )
    # flax (*k, in, out) <- canonical (in, out, *k), flipped in space
    canonical = (shape[-2], shape[-1], *shape[:n])

    def to_flax(w: Array) -> Array:
        return _xp(w).flip(w, spatial_canon).transpose(*range(2, n + 2), 0, 1)

    def to_canonical(k: Array) -> Array:
        return _xp(k).flip(k.transpose(n, n + 1, *range(n)), spatial_canon)

    return Layout(canonical, to_flax, to_canonical)


_KINDS: dict[str, str] = {
    "Dense": "linear",
    "DenseGeneral": "linear",
    "Linear": "linear",
    "LinearGeneral": "linear",
    "Conv": "conv",
    "ConvLocal": "other",
    "ConvTranspose": "conv_transpose",
    "Embed": "embedding",
    "LayerNorm": "norm",
    "RMSNorm": "norm",
    "GroupNorm": "norm",
    "BatchNorm": "norm",
    "InstanceNorm": "norm",
}


def flax_kind(module: object) -> str:
    """The layer kind of a linen or nnx module (``"other"`` when unknown)."""
    for cls in type(module).__mro__:
        if cls.__module__.startswith("flax.") and cls.__name__ in _KINDS:
            return _KINDS[cls.__name__]
    return "other"


def _n_in_axes(module: object, shape: tuple[int, ...]) -> int:
    """How many leading kernel axes are inputs (DenseGeneral folds batch axes in)."""
    features = getattr(module, "features", None)  # linen DenseGeneral
    if features is None:
        features = getattr(module, "out_features", None)  # nnx LinearGeneral / Linear
    if isinstance(features, int) or features is None:
        return len(shape) - 1
    return len(shape) - len(tuple(features))


def layout_for(module: object, kind: str, name: str, shape: tuple[int, ...]) -> Layout:
    """The canonical layout of parameter ``name`` of ``module``.

    Only kernels are rearranged; every other parameter (biases, scales,
    embeddings, a layer xinit does not know) keeps its shape.
    """
    if kind == "linear" and name == "bias" and len(shape) > 1:  # DenseGeneral: (*out,)
        flat = (math.prod(shape),)
        return Layout(flat, lambda b: b.reshape(shape), lambda b: b.reshape(flat))
    if name != "kernel":
        return _identity(shape)
    if kind == "linear" and len(shape) >= 2:
        return _linear(shape, _n_in_axes(module, shape))
    if kind == "conv" and len(shape) >= 3:
        return _conv(shape)
    if kind == "conv_transpose" and len(shape) >= 3:
        return _conv_transpose(shape, bool(getattr(module, "transpose_kernel", False)))
    return _identity(shape)
