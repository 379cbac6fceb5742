"""Walk a torch module: each parameter once, as a :class:`~xinit.adapters._scheme.ParamInfo`.

Parameters come in ``named_parameters()`` order with their ``state_dict``
names; a parameter shared by several modules (tied weights) is reported once,
under the first module that owns it, as ``named_parameters()`` does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn
from torch.nn.modules.batchnorm import _NormBase
from torch.nn.modules.conv import _ConvNd
from torch.nn.parameter import UninitializedParameter

from xinit.adapters._scheme import ParamInfo

__all__ = ["Entry", "walk"]


@dataclasses.dataclass(frozen=True)
class Entry:
    """A parameter found in a module tree.

    Attributes:
      info: its framework-neutral description.
      owner: the module whose ``_parameters`` holds it.
      attr: its name in ``owner._parameters``.
      param: the Parameter itself.
      aliases: every ``(module, attr)`` that holds this same Parameter
        (itself included): tied weights.
    """

    info: ParamInfo
    owner: nn.Module
    attr: str
    param: nn.Parameter
    aliases: tuple[tuple[nn.Module, str], ...]


def _kind(m: nn.Module) -> str:
    if isinstance(m, nn.Linear):
        return "linear"
    if isinstance(m, nn.Bilinear):
        return "bilinear"
    if isinstance(m, _ConvNd):
        return "conv_transpose" if m.transposed else "conv"
    if isinstance(m, (nn.Embedding, nn.EmbeddingBag)):
        return "embedding"
    if isinstance(m, (_NormBase, nn.LayerNorm, nn.GroupNorm, nn.RMSNorm)):
        return "norm"
    if isinstance(m, (nn.RNNBase, nn.RNNCellBase)):
        return "rnn"
    if isinstance(m, nn.MultiheadAttention):
        return "mha"
    if isinstance(m, nn.PReLU):
        return "prelu"
    return "other"


def _torch_fan_in(weight: torch.Tensor) -> int:
    """torch's ``_calculate_fan_in_and_fan_out(weight)[0]``, also for meta tensors."""
    shape = tuple(weight.shape)
    if len(shape) < 2:
        return 0
    receptive = 1
    for d in shape[2:]:
        receptive *= d
    return shape[1] * receptive


def _context(
    m: nn.Module, parent: nn.Module | None, attr_in_parent: str, kind: str
) -> dict[str, Any]:
    ctx: dict[str, Any] = {}
    weight = m._parameters.get("weight")
    if kind in ("linear", "conv", "conv_transpose") and weight is not None:
        ctx["weight_fan_in"] = _torch_fan_in(weight)
    elif kind == "bilinear":
        ctx["in1_features"] = m.in1_features
    elif kind == "embedding":
        ctx["padding_idx"] = m.padding_idx
    elif kind == "rnn":
        ctx["hidden_size"] = m.hidden_size
    elif kind == "prelu":
        ctx["prelu_init"] = m.init
    if isinstance(parent, nn.MultiheadAttention) and attr_in_parent == "out_proj":
        ctx["mha_out_proj"] = True
    return ctx


def _inside(prefix: str, ancestor: str) -> bool:
    """Whether the module at ``prefix`` is ``ancestor`` or lies under it."""
    return not ancestor or prefix == ancestor or prefix.startswith(ancestor + ".")


def walk(module: nn.Module) -> Iterator[Entry]:
    """Yield every parameter of ``module`` once, in ``named_parameters()`` order.

    Raises:
      TypeError: ``module`` is not a ``torch.nn.Module``.
      ValueError: a parameter is still uninitialized (a ``Lazy*`` module that
        has not seen an input), naming it.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    modules = dict(module.named_modules(remove_duplicate=False))
    transformers = [name for name, m in modules.items() if isinstance(m, nn.Transformer)]

    aliases: dict[int, list[tuple[nn.Module, str]]] = {}
    for m in modules.values():
        for attr, p in m._parameters.items():
            if p is not None:
                pairs = aliases.setdefault(id(p), [])
                if not any(o is m and a == attr for o, a in pairs):
                    pairs.append((m, attr))

    seen: set[int] = set()
    for prefix, m in module.named_modules():
        kind = _kind(m)
        parent_name, _, attr_in_parent = prefix.rpartition(".")
        parent = modules.get(parent_name) if prefix else None
        ctx = None
        for attr, p in m._parameters.items():
            if p is None or id(p) in seen:
                continue
            seen.add(id(p))
            path = f"{prefix}.{attr}" if prefix else attr
            if isinstance(p, UninitializedParameter):
                raise ValueError(
                    f"parameter {path!r} of {type(m).__name__} is uninitialized (a lazy module): "
                    "run one forward pass before initializing it"
                )
            if ctx is None:
                ctx = _context(m, parent, attr_in_parent, kind)
                if any(_inside(prefix, t) for t in transformers):
                    ctx["in_transformer"] = True
            info = ParamInfo(
                path=path, name=attr, kind=kind, shape=tuple(p.shape), module=m, context=ctx
            )
            yield Entry(info, m, attr, p, tuple(aliases[id(p)]))
