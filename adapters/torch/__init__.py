"""xinit for PyTorch: initialize torch modules from JAX-generated values.

- :func:`init_module` initializes an existing module in place, handing each
  JAX-generated buffer to its ``Parameter`` without a copy.
- :func:`materialize` gives a module built on the ``meta`` device real
  parameters, straight from JAX.
- Schemes: ``"torch"`` (PyTorch's own layer defaults), ``"flax"`` (Flax's
  defaults for torch layers) or :class:`Rules`.
- A drop-in for ``torch.nn.init``: every public function with torch's name,
  signature and errors, plus an optional ``key=``.

Example:
    >>> import torch
    >>> from xinit.adapters.torch import init_module
    >>> model = init_module(torch.nn.Linear(4, 3), "torch", seed=0)
    >>> tuple(model.weight.shape)
    (3, 4)
"""

from xinit.adapters._scheme import KEEP as KEEP
from xinit.adapters._scheme import Assignment as Assignment
from xinit.adapters._scheme import ParamInfo as ParamInfo
from xinit.adapters._scheme import Rule as Rule
from xinit.adapters._scheme import Rules as Rules
from xinit.adapters._scheme import flax_scheme as flax_scheme
from xinit.adapters._scheme import torch_scheme as torch_scheme
from xinit.adapters.torch._handover import DeviceFallbackWarning as DeviceFallbackWarning
from xinit.adapters.torch._module import init_module as init_module
from xinit.adapters.torch._module import materialize as materialize

# -- torch.nn.init drop-in (xinit.adapters.torch._nn_init) --------------------------------
# -- end of the torch.nn.init drop-in ------------------------------------------------------

__all__ = [
    "KEEP",
    "Assignment",
    "DeviceFallbackWarning",
    "ParamInfo",
    "Rule",
    "Rules",
    "flax_scheme",
    "init_module",
    "materialize",
    "torch_scheme",
]
