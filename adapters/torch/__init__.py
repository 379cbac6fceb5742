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
from xinit.adapters.torch._meta import meta_init as meta_init
from xinit.adapters.torch._module import init_module as init_module
from xinit.adapters.torch._module import materialize as materialize

# -- torch.nn.init drop-in (xinit.adapters.torch._nn_init) --------------------------------
from xinit.adapters.torch._nn_init import calculate_gain as calculate_gain
from xinit.adapters.torch._nn_init import constant as constant
from xinit.adapters.torch._nn_init import constant_ as constant_
from xinit.adapters.torch._nn_init import dirac as dirac
from xinit.adapters.torch._nn_init import dirac_ as dirac_
from xinit.adapters.torch._nn_init import eye as eye
from xinit.adapters.torch._nn_init import eye_ as eye_
from xinit.adapters.torch._nn_init import kaiming_normal as kaiming_normal
from xinit.adapters.torch._nn_init import kaiming_normal_ as kaiming_normal_
from xinit.adapters.torch._nn_init import kaiming_uniform as kaiming_uniform
from xinit.adapters.torch._nn_init import kaiming_uniform_ as kaiming_uniform_
from xinit.adapters.torch._nn_init import manual_seed as manual_seed
from xinit.adapters.torch._nn_init import normal as normal
from xinit.adapters.torch._nn_init import normal_ as normal_
from xinit.adapters.torch._nn_init import ones_ as ones_
from xinit.adapters.torch._nn_init import orthogonal as orthogonal
from xinit.adapters.torch._nn_init import orthogonal_ as orthogonal_
from xinit.adapters.torch._nn_init import sparse as sparse
from xinit.adapters.torch._nn_init import sparse_ as sparse_
from xinit.adapters.torch._nn_init import trunc_normal_ as trunc_normal_
from xinit.adapters.torch._nn_init import uniform as uniform
from xinit.adapters.torch._nn_init import uniform_ as uniform_
from xinit.adapters.torch._nn_init import xavier_normal as xavier_normal
from xinit.adapters.torch._nn_init import xavier_normal_ as xavier_normal_
from xinit.adapters.torch._nn_init import xavier_uniform as xavier_uniform
from xinit.adapters.torch._nn_init import xavier_uniform_ as xavier_uniform_
from xinit.adapters.torch._nn_init import zeros_ as zeros_

# -- end of the torch.nn.init drop-in ------------------------------------------------------

__all__ = [
    "KEEP",
    "Assignment",
    "DeviceFallbackWarning",
    "ParamInfo",
    "Rule",
    "Rules",
    "calculate_gain",
    "constant",
    "constant_",
    "dirac",
    "dirac_",
    "eye",
    "eye_",
    "flax_scheme",
    "init_module",
    "kaiming_normal",
    "kaiming_normal_",
    "kaiming_uniform",
    "kaiming_uniform_",
    "manual_seed",
    "materialize",
    "meta_init",
    "normal",
    "normal_",
    "ones_",
    "orthogonal",
    "orthogonal_",
    "sparse",
    "sparse_",
    "torch_scheme",
    "trunc_normal_",
    "uniform",
    "uniform_",
    "xavier_normal",
    "xavier_normal_",
    "xavier_uniform",
    "xavier_uniform_",
    "zeros_",
]
