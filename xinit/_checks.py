"""Hyperparameter checks shared by the constructors (raised when an initializer is built)."""

from __future__ import annotations

import math

import numpy as np

from xinit._errors import RangeError

__all__ = ["finite", "real"]


def real(name: str, value: object) -> float:
    """``value`` as a float, or ``TypeError`` naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    return float(value)


def finite(name: str, value: object) -> float:
    """``value`` as a finite float, or an error naming the argument.

    A NaN or infinite value raises :class:`~xinit.RangeError`, which is a
    ``ValueError`` and torch's ``RuntimeError`` (torch's ``uniform_`` and
    ``normal_`` raise ``RuntimeError`` for non-finite bounds and std).
    """
    v = real(name, value)
    if not math.isfinite(v):
        raise RangeError(f"{name} must be finite, got {value!r}")
    return v
