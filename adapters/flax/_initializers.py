"""xinit initializers as Flax initializers: ``init(key, shape, dtype)``.

Flax calls ``kernel_init(key, shape, dtype)``; an xinit :class:`~xinit.Initializer`
takes ``(key, shape, fan_in, fan_out, gain, *, dtype)`` and computes fans in a
layout. :func:`as_flax` binds the layout of the Flax layer it is used in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import jax
import numpy as np

import xinit
from xinit import Initializer, Layout

__all__ = ["LAYOUTS", "FlaxInitializer", "as_flax", "torch_bias", "torch_kernel"]

FlaxInitializer = Callable[..., jax.Array]

#: Flax kernel layouts by layer. ``dense`` and ``conv`` are JAX's default
#: ``(*k, in, out)``; ``embed`` is ``(num_embeddings, features)`` with
#: fan_in = features, as Flax's ``Embed`` default computes it;
#: ``torch_conv_transpose`` gives a Flax ``ConvTranspose`` kernel ``(*k, in, out)``
#: torch's fans for its ConvTranspose (fan_in = out * k).
LAYOUTS: dict[str, Layout] = {
    "dense": xinit.FLAX,
    "conv": xinit.FLAX,
    "conv_transpose": xinit.FLAX,
    "embed": Layout(in_axis=1, out_axis=0, name="embed"),
    "torch_conv_transpose": Layout(in_axis=-1, out_axis=-2, name="torch_conv_transpose"),
}

LayoutName = Literal["dense", "conv", "conv_transpose", "embed", "torch_conv_transpose"]


def _layout(layout: LayoutName | Layout) -> Layout:
    if isinstance(layout, Layout):
        return layout
    if layout not in LAYOUTS:
        raise ValueError(
            f"layout must be one of {sorted(LAYOUTS)} or a xinit.Layout, got {layout!r}"
        )
    return LAYOUTS[layout]


def as_flax(init: Initializer, layout: LayoutName | Layout = "dense") -> FlaxInitializer:
    """``init`` as a Flax initializer ``(key, shape, dtype=float32) -> Array``.

    Fans are computed from the shape in ``layout`` (a Flax layer's kernel
    layout). For every scheme ``jax.nn.initializers`` has, the result is
    bit-identical to it for the same key, shape and dtype.

    Args:
      init: any xinit initializer.
      layout: ``"dense"``, ``"conv"``, ``"conv_transpose"``, ``"embed"``,
        ``"torch_conv_transpose"`` (see :data:`LAYOUTS`) or a ``xinit.Layout``
        with explicit axes.

    Example:
      >>> import flax.linen as nn, xinit
      >>> layer = nn.Dense(4, kernel_init=as_flax(xinit.kaiming_uniform(nonlinearity="relu")))
    """
    if not isinstance(init, Initializer):
        raise TypeError(f"init must be an xinit.Initializer, got {init!r}")
    bound = init.with_layout(_layout(layout))

    def flax_init(key: jax.Array, shape: Any, dtype: Any = np.float32) -> jax.Array:
        return bound(key, shape, dtype=dtype)

    flax_init.__name__ = f"xinit_{init.name}"
    flax_init.__doc__ = f"xinit.{init.name} as a Flax initializer ({bound.layout.name} layout)."
    return flax_init


def torch_kernel(layout: LayoutName | Layout = "dense") -> FlaxInitializer:
    """PyTorch's default Linear/Conv weight, ``U(±1/sqrt(fan_in))``, for a Flax kernel.

    For ``ConvTranspose`` use ``layout="torch_conv_transpose"`` to get torch's
    fan_in (``out * prod(k)``).
    """
    return as_flax(xinit.torch_default_weight(), layout)


def torch_bias(fan_in: int) -> FlaxInitializer:
    """PyTorch's default Linear/Conv bias, ``U(±1/sqrt(fan_in))`` with the **weight's** fan_in.

    Flax's ``bias_init`` sees only the bias shape, so the weight's fan_in is
    given here: ``nn.Dense(64, bias_init=torch_bias(fan_in=128))`` for 128
    inputs (Conv: ``in_features // groups * prod(kernel_size)``). The
    whole-model functions (``init_linen``, ``init_nnx``) find it themselves.
    """
    if isinstance(fan_in, bool) or not isinstance(fan_in, (int, np.integer)) or fan_in < 0:
        raise ValueError(f"fan_in must be a non-negative integer, got {fan_in!r}")
    init = xinit.torch_default_bias()

    def flax_init(key: jax.Array, shape: Any, dtype: Any = np.float32) -> jax.Array:
        return init(key, shape, fan_in=int(fan_in), dtype=dtype)

    flax_init.__name__ = "xinit_torch_bias"
    return flax_init
