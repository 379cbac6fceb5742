"""Build torch modules on the meta device without running PyTorch's own initializers."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import torch
from torch.nn import init as torch_init

__all__ = ["meta_init"]

#: The ``torch.nn.init`` functions layers call in ``reset_parameters``.
_FILLS = (
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "ones_",
    "zeros_",
    "eye_",
    "dirac_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "orthogonal_",
    "sparse_",
)
_lock = threading.RLock()


def _skip(tensor: torch.Tensor, *args: object, **kwargs: object) -> torch.Tensor:
    return tensor


@contextlib.contextmanager
def meta_init() -> Iterator[None]:
    """Build modules on the meta device, skipping PyTorch's own initializers.

    ``with torch.device("meta")`` already allocates nothing, but every layer
    still runs its ``reset_parameters`` on meta tensors; the first
    ``normal_`` on a meta tensor imports ``torch._dynamo`` (about 1 s on a
    2-core CPU). Inside this context the ``torch.nn.init`` fill functions
    return their tensor untouched, so building a GPT-2-sized model takes
    milliseconds. Give the module its values with
    :func:`~xinit.adapters.torch.materialize`.

    The functions are patched in the ``torch.nn.init`` module for the duration
    of the block (in every thread, as Hugging Face's ``no_init_weights`` does)
    and restored on exit, also when the block raises.

    Example:
        >>> import torch
        >>> from xinit.adapters.torch import materialize, meta_init
        >>> with meta_init():
        ...     model = torch.nn.Linear(4, 3)
        >>> model.weight.is_meta
        True
        >>> float(materialize(model, seed=0).weight.abs().max()) < 0.5
        True
    """
    with _lock:
        saved = {name: getattr(torch_init, name) for name in _FILLS}
        try:
            for name in _FILLS:
                setattr(torch_init, name, _skip)
            with torch.device("meta"):
                yield
        finally:
            for name, fn in saved.items():
                setattr(torch_init, name, fn)
