"""xinit: weight initializers written once in JAX, with torch's and JAX's semantics.

Every initializer is an :class:`Initializer`: build it with a constructor, which
checks the hyperparameters, then call it with ``(key, shape, fan_in, fan_out,
gain, dtype=...)``. Top-level names follow ``torch.nn.init``; JAX-only schemes
(``variance_scaling``, ``lecun_*``, ``glorot_*``, ``he_*``,
``truncated_normal``, ``delta_orthogonal``) keep JAX's semantics, and
:mod:`xinit.jax_compat` has JAX's exact names and signatures.

Example:
    >>> import xinit
    >>> init = xinit.kaiming_uniform(nonlinearity="relu")
    >>> w = init(xinit.key_for(0, "fc.weight"), (64, 32))
    >>> w.shape, str(w.dtype), xinit.fans((64, 32), "torch")
    ((64, 32), 'float32', (32, 64))
"""

from importlib.metadata import PackageNotFoundError, version

from xinit import jax_compat
from xinit._cache import CACHE_ENV as CACHE_ENV
from xinit._cache import compilation_cache_dir as compilation_cache_dir
from xinit._cache import ensure_compilation_cache as ensure_compilation_cache
from xinit._constant import constant as constant
from xinit._constant import ones as ones
from xinit._constant import zeros as zeros
from xinit._distributions import normal as normal
from xinit._distributions import trunc_normal as trunc_normal
from xinit._distributions import truncated_normal as truncated_normal
from xinit._distributions import uniform as uniform
from xinit._errors import DivisionByZeroError as DivisionByZeroError
from xinit._errors import DTypeError as DTypeError
from xinit._errors import RangeError as RangeError
from xinit._fans import FLAX as FLAX
from xinit._fans import TORCH as TORCH
from xinit._fans import Layout as Layout
from xinit._fans import fans as fans
from xinit._gain import NONLINEARITIES as NONLINEARITIES
from xinit._gain import calculate_gain as calculate_gain
from xinit._identity import dirac as dirac
from xinit._identity import eye as eye
from xinit._initializer import Initializer as Initializer
from xinit._keys import DEFAULT_IMPL as DEFAULT_IMPL
from xinit._keys import IMPLS as IMPLS
from xinit._keys import KEY_SCHEME_VERSION as KEY_SCHEME_VERSION
from xinit._keys import canonical_path as canonical_path
from xinit._keys import encode_path as encode_path
from xinit._keys import key as key
from xinit._keys import key_for as key_for
from xinit._keys import path_words as path_words
from xinit._orthogonal import delta_orthogonal as delta_orthogonal
from xinit._orthogonal import orthogonal as orthogonal
from xinit._sparse import sparse as sparse
from xinit._variance import glorot_normal as glorot_normal
from xinit._variance import glorot_uniform as glorot_uniform
from xinit._variance import he_normal as he_normal
from xinit._variance import he_uniform as he_uniform
from xinit._variance import kaiming_normal as kaiming_normal
from xinit._variance import kaiming_uniform as kaiming_uniform
from xinit._variance import lecun_normal as lecun_normal
from xinit._variance import lecun_uniform as lecun_uniform
from xinit._variance import torch_default_bias as torch_default_bias
from xinit._variance import torch_default_weight as torch_default_weight
from xinit._variance import variance_scaling as variance_scaling
from xinit._variance import xavier_normal as xavier_normal
from xinit._variance import xavier_uniform as xavier_uniform

try:
    __version__ = version("xinit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "CACHE_ENV",
    "DEFAULT_IMPL",
    "FLAX",
    "IMPLS",
    "KEY_SCHEME_VERSION",
    "NONLINEARITIES",
    "TORCH",
    "DTypeError",
    "DivisionByZeroError",
    "Initializer",
    "Layout",
    "RangeError",
    "__version__",
    "calculate_gain",
    "canonical_path",
    "compilation_cache_dir",
    "constant",
    "delta_orthogonal",
    "dirac",
    "encode_path",
    "ensure_compilation_cache",
    "eye",
    "fans",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "jax_compat",
    "kaiming_normal",
    "kaiming_uniform",
    "key",
    "key_for",
    "lecun_normal",
    "lecun_uniform",
    "normal",
    "ones",
    "orthogonal",
    "path_words",
    "sparse",
    "torch_default_bias",
    "torch_default_weight",
    "trunc_normal",
    "truncated_normal",
    "uniform",
    "variance_scaling",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]
