"""xinit for Flax (linen and nnx): the same initializers, the same weights as PyTorch.

- :func:`as_flax` turns any xinit initializer into a Flax ``kernel_init`` /
  ``bias_init`` / ``embedding_init`` with fans in the layer's layout
  (bit-identical to ``jax.nn.initializers`` for the schemes JAX has);
  :func:`torch_kernel` and :func:`torch_bias` are PyTorch's Linear/Conv defaults.
- :func:`init_linen` and :func:`init_nnx` initialize whole models with the
  schemes of the torch adapter (``"torch"``, ``"flax"``, ``Rules``): the same
  seed gives the same values as ``xinit.adapters.torch.init_module`` on the
  corresponding torch model, bit for bit, in each framework's layout.
- :func:`to_canonical` and :func:`counterparts` compare a Flax model with a torch
  one, by torch name, in torch's layout.

Example:
    >>> import flax.linen as nn, jax.numpy as jnp
    >>> from xinit.adapters.flax import init_linen
    >>> variables = init_linen(nn.Dense(3), jnp.ones((1, 4)), seed=0)
    >>> variables["params"]["kernel"].shape
    (4, 3)
"""

from xinit.adapters._scheme import KEEP as KEEP
from xinit.adapters._scheme import Assignment as Assignment
from xinit.adapters._scheme import ParamInfo as ParamInfo
from xinit.adapters._scheme import Rule as Rule
from xinit.adapters._scheme import Rules as Rules
from xinit.adapters._scheme import flax_scheme as flax_scheme
from xinit.adapters._scheme import torch_scheme as torch_scheme
from xinit.adapters.flax._initializers import LAYOUTS as LAYOUTS
from xinit.adapters.flax._initializers import as_flax as as_flax
from xinit.adapters.flax._initializers import torch_bias as torch_bias
from xinit.adapters.flax._initializers import torch_kernel as torch_kernel
from xinit.adapters.flax._models import counterparts as counterparts
from xinit.adapters.flax._models import init_linen as init_linen
from xinit.adapters.flax._models import init_nnx as init_nnx
from xinit.adapters.flax._models import to_canonical as to_canonical
from xinit.adapters.flax._walk import canonical_path as canonical_path

__all__ = [
    "KEEP",
    "LAYOUTS",
    "Assignment",
    "ParamInfo",
    "Rule",
    "Rules",
    "as_flax",
    "canonical_path",
    "counterparts",
    "flax_scheme",
    "init_linen",
    "init_nnx",
    "to_canonical",
    "torch_bias",
    "torch_kernel",
    "torch_scheme",
]
