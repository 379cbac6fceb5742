"""``calculate_gain``: the recommended gain for a nonlinearity, exactly as torch."""

from __future__ import annotations

import math

__all__ = ["NONLINEARITIES", "calculate_gain"]

_LINEAR = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)

#: Every nonlinearity name that :func:`calculate_gain` accepts (case-sensitive).
NONLINEARITIES: tuple[str, ...] = (*_LINEAR, "sigmoid", "tanh", "relu", "leaky_relu", "selu")


def calculate_gain(nonlinearity: str, param: int | float | None = None) -> float:
    r"""Return the recommended gain for a nonlinearity, with torch's values and errors.

    =================  ====================================================
    nonlinearity       gain
    =================  ====================================================
    linear / conv*d    :math:`1`
    conv_transpose*d   :math:`1`
    sigmoid            :math:`1`
    tanh               :math:`\frac{5}{3}`
    relu               :math:`\sqrt{2}`
    leaky_relu         :math:`\sqrt{\frac{2}{1 + \text{negative\_slope}^2}}`
    selu               :math:`\frac{3}{4}`
    =================  ====================================================

    Args:
      nonlinearity: the name, matched case-sensitively as torch does.
      param: the negative slope for ``"leaky_relu"`` (``None`` means 0.01);
        ignored for every other nonlinearity.

    Returns:
      The gain. Like torch, the linear functions and sigmoid return the int ``1``.

    Raises:
      ValueError: an unknown nonlinearity (``"Unsupported nonlinearity gelu"``) or a
        ``leaky_relu`` slope that is a bool or not a number.

    References:
      ``torch.nn.init.calculate_gain`` (PyTorch 2.13); SELU gain from
      https://github.com/pytorch/pytorch/pull/50664.

    Example:
      >>> calculate_gain("relu") == 2 ** 0.5
      True
    """
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope: float = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) or isinstance(param, float):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")
