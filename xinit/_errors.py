"""Exception types raised by xinit.

xinit raises the exception type that ``torch.nn.init`` raises for the same
mistake, so code written against torch keeps catching what it caught. Where
torch's type is an accident of its implementation (``NotImplementedError`` for
a dtype, ``RuntimeError`` for a bound, ``ZeroDivisionError`` for a zero std),
the error is also an instance of the Python type that describes the mistake
(``TypeError`` or ``ValueError``), so either ``except`` clause catches it.
"""

from __future__ import annotations

__all__ = ["DTypeError", "DivisionByZeroError", "RangeError"]


class DTypeError(TypeError, NotImplementedError):
    """A dtype the initializer cannot produce (torch: ``NotImplementedError``)."""


class RangeError(ValueError, RuntimeError):
    """A bound or scale outside the accepted range (torch: ``RuntimeError``)."""


class DivisionByZeroError(ValueError, ZeroDivisionError):
    """A zero std or fan where the scheme divides by it (torch and JAX: ``ZeroDivisionError``)."""
