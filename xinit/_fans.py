"""Fan computation with an explicit layout.

torch stores a Linear weight as ``(out, in)`` and a convolution kernel as
``(out, in/groups, *k)``; JAX and Flax store them as ``(in, out)`` and
``(*k, in/groups, out)``. The fans of one shape therefore depend on who stores
it. :func:`fans` makes the layout an argument instead of an assumption.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Literal

__all__ = ["FLAX", "TORCH", "Layout", "LayoutLike", "as_layout", "fans"]

Axes = int | tuple[int, ...]


def _as_axes(name: str, value: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int or a sequence of ints, got {value!r}")
    if isinstance(value, int):
        return (value,)
    try:
        axes = tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be an int or a sequence of ints, got {value!r}") from None
    if not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
        raise TypeError(f"{name} must be an int or a sequence of ints, got {value!r}")
    return axes


@dataclasses.dataclass(frozen=True)
class Layout:
    """Which axes of a weight shape are its inputs, outputs and batch.

    Axes in none of the three form the receptive field (a convolution's spatial
    axes); they multiply both fans:

    .. math::
        \\text{fan\\_in} = \\prod_{a \\in \\text{in}} s_a \\cdot \\prod_{r} s_r, \\qquad
        \\text{fan\\_out} = \\prod_{a \\in \\text{out}} s_a \\cdot \\prod_{r} s_r

    Attributes:
      in_axis: axis or axes of the input dimension (negative counts from the end).
      out_axis: axis or axes of the output dimension.
      batch_axis: axes that count in neither fan (JAX's ``batch_axis``).
      name: a label used in messages and ``repr``.
    """

    in_axis: Axes
    out_axis: Axes
    batch_axis: Axes = ()
    name: str = "custom"

    def __post_init__(self) -> None:
        # Normalise to tuples so that equal layouts compare and hash equal.
        for field in ("in_axis", "out_axis", "batch_axis"):
            object.__setattr__(self, field, _as_axes(field, getattr(self, field)))


#: torch's convention: ``(out, in, *k)``; equals ``torch.nn.init._calculate_fan_in_and_fan_out``.
TORCH = Layout(in_axis=1, out_axis=0, name="torch")
#: JAX/Flax/Keras convention: ``(*k, in, out)``; equals ``jax.nn.initializers`` defaults.
FLAX = Layout(in_axis=-2, out_axis=-1, name="flax")

LayoutLike = Layout | Literal["torch", "flax"]


def as_layout(layout: LayoutLike) -> Layout:
    """Return ``layout`` as a :class:`Layout` (accepts ``"torch"`` and ``"flax"``)."""
    if isinstance(layout, Layout):
        return layout
    if layout == "torch":
        return TORCH
    if layout == "flax":
        return FLAX
    raise ValueError(f"layout must be 'torch', 'flax' or a xinit.Layout, got {layout!r}")


def fans(shape: Sequence[int], layout: LayoutLike = "torch") -> tuple[int, int]:
    """Compute ``(fan_in, fan_out)`` of a weight shape stored in ``layout``.

    Args:
      shape: the weight's shape.
      layout: ``"torch"`` for ``(out, in, *k)`` (``ConvTranspose`` weights are
        stored ``(in, out/groups, *k)``, so torch's fans of them are swapped, as
        in torch), ``"flax"`` for ``(*k, in, out)``, or a :class:`Layout` with
        explicit axes.

    Returns:
      ``(fan_in, fan_out)`` as Python ints. For shapes without a zero dimension
      these equal torch's ``_calculate_fan_in_and_fan_out`` (torch layout) and
      JAX's ``_compute_fans`` (any layout), which returns them as floats.

    Raises:
      ValueError: a named layout on a shape with fewer than 2 dimensions (torch's
        message), an axis out of range, or an axis named twice.

    Example:
      >>> fans((32, 16, 3, 3), "torch")
      (144, 288)
      >>> fans((3, 3, 16, 32), "flax")
      (144, 288)
    """
    shape = tuple(int(d) for d in shape)
    lay = as_layout(layout)
    ndim = len(shape)
    if lay.name in ("torch", "flax") and ndim < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        )
    seen: dict[int, str] = {}
    groups: dict[str, list[int]] = {}
    for field in ("in_axis", "out_axis", "batch_axis"):
        axes = getattr(lay, field)
        assert isinstance(axes, tuple)
        resolved = []
        for axis in axes:
            if not -ndim <= axis < ndim:
                raise ValueError(
                    f"{field}={axis} is out of range for a weight of shape {shape} "
                    f"(layout {lay.name!r})"
                )
            a = axis % ndim
            if a in seen:
                raise ValueError(
                    f"axis {axis} is named by both {seen[a]} and {field} "
                    f"(layout {lay.name!r}, shape {shape})"
                )
            seen[a] = field
            resolved.append(a)
        groups[field] = resolved
    receptive = math.prod(d for i, d in enumerate(shape) if i not in seen)
    fan_in = math.prod(shape[a] for a in groups["in_axis"]) * receptive
    fan_out = math.prod(shape[a] for a in groups["out_axis"]) * receptive
    return fan_in, fan_out
