"""Hyperparameter checks shared by the constructors (raised when an initializer is built)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["finite", "real"]


def real(name: str, value: object) -> float:
    """``value`` as a float, or ``TypeError`` naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    return float(value)


def finite(name: str, value: object) -> float:
    """``value`` as a finite float, or an error naming the argument."""
    v = real(name, value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v
