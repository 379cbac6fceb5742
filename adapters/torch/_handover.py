"""Handing JAX arrays to torch: the JAX device for a torch device, dtypes, DLPack.

The one rule: an array generated for a torch tensor is produced by JAX on the
device the tensor lives on and handed over with ``torch.from_dlpack``, which
shares the buffer (no copy). Only where JAX cannot reach the device (mps,
xpu, a CUDA device without a CUDA jaxlib) are the values generated on the CPU
and copied, with a warning that says so.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import jax
import numpy as np
import torch

from xinit import ensure_compilation_cache

__all__ = [
    "DeviceFallbackWarning",
    "generation_dtype",
    "jax_device",
    "on_device",
    "to_torch",
]

#: torch dtypes xinit can generate, and the NumPy/JAX dtype it generates them in.
_DTYPES: dict[torch.dtype, np.dtype] = {
    torch.float32: np.dtype(np.float32),
    torch.float16: np.dtype(np.float16),
    torch.bfloat16: np.dtype(jax.numpy.bfloat16),
    torch.float64: np.dtype(np.float64),
}


class DeviceFallbackWarning(UserWarning):
    """Values were generated on the CPU and copied, because JAX cannot reach the device."""


def generation_dtype(dtype: torch.dtype, *, what: str) -> np.dtype:
    """The dtype JAX generates for a torch ``dtype``.

    float64 is generated as float64 when ``jax_enable_x64`` is on; otherwise
    as float32 and widened exactly by torch (a copy), which gives the same
    values: xinit's float64 values are the float32 stream widened.

    Raises:
      TypeError: ``dtype`` is not a floating dtype xinit generates (naming ``what``).
    """
    if dtype not in _DTYPES:
        supported = ", ".join(str(d) for d in _DTYPES)
        raise TypeError(f"{what}: dtype {dtype} is not supported (supported: {supported})")
    if dtype == torch.float64 and not jax.config.jax_enable_x64:
        return np.dtype(np.float32)
    return _DTYPES[dtype]


def jax_device(device: torch.device) -> jax.Device | None:
    """The JAX device that holds the same memory as torch's ``device``, or None.

    ``cpu`` maps to JAX's CPU device; ``cuda:i`` to JAX's i-th CUDA device when
    a CUDA jaxlib is installed. Anything else has no JAX counterpart.
    """
    if device.type == "cpu":
        return jax.devices("cpu")[0]
    if device.type == "cuda":
        try:
            gpus = jax.devices("cuda")
        except RuntimeError:
            return None
        index = device.index if device.index is not None else torch.cuda.current_device()
        return gpus[index] if index < len(gpus) else None
    return None


@contextlib.contextmanager
def on_device(device: torch.device) -> Iterator[jax.Device]:
    """Run JAX computations on the device matching ``device`` (CPU when JAX cannot reach it).

    Warns with :class:`DeviceFallbackWarning` when it falls back to the CPU.
    Turns on xinit's persistent compilation cache (``xinit.ensure_compilation_cache``).
    """
    ensure_compilation_cache()
    dev = jax_device(device)
    if dev is None:
        warnings.warn(
            f"JAX cannot reach torch device {device}: xinit generates on the CPU and "
            "copies the values to the device",
            DeviceFallbackWarning,
            stacklevel=3,
        )
        dev = jax.devices("cpu")[0]
    with jax.default_device(dev):
        yield dev


def to_torch(array: jax.Array, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Hand ``array`` to torch as a tensor on ``device`` with ``dtype``.

    When ``array`` already lives on ``device`` in ``dtype`` the tensor shares
    its buffer (DLPack, no copy) and torch owns it from then on; otherwise it
    is copied (a device JAX cannot reach, or float64 without x64).
    """
    tensor = torch.from_dlpack(array)
    if tensor.device != device or tensor.dtype != dtype:
        tensor = tensor.to(device=device, dtype=dtype)
    return tensor
