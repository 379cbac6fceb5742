"""Walk linen and nnx models: each parameter with its canonical path, shape and layout.

Canonical paths are torch's ``state_dict`` names, so one seed gives the same
values to corresponding parameters in both frameworks:

======================== =========================== =============================
torch                    linen (``params`` tree)     nnx (graph path)
======================== =========================== =============================
``layers.0.fc.weight``   ``layers_0/fc/kernel``      ``layers/0/fc/kernel``
``emb.weight``           ``emb/embedding``           ``emb/embedding``
``ln.weight``            ``ln/scale``                ``ln/scale``
``fc.bias``              ``fc/bias``                 ``fc/bias``
======================== =========================== =============================

A linen submodule held in a list or dict attribute (``self.layers = [...]``
in ``setup`` is named ``layers_0``) becomes two segments, as torch's
``ModuleList``/``ModuleDict`` name it (``layers.0``); every other name is kept
as it is (``ln_1`` stays ``ln_1``, an auto-named ``Dense_0`` stays ``Dense_0``).
``kernel``, ``embedding`` and ``scale`` become ``weight``. ``paths`` overrides
the mapping: a dict from the Flax path (``"layers_0/fc/kernel"``) to the torch
name, or a function.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jax
import numpy as np

from xinit.adapters._scheme import ParamInfo
from xinit.adapters.flax._layout import Layout, flax_kind, layout_for

__all__ = ["FlaxParam", "PathsLike", "canonical_path", "walk_linen", "walk_nnx"]

PathsLike = Mapping[str, str] | Callable[[str], str] | None

_NAMES = {"kernel": "weight", "embedding": "weight", "scale": "weight"}


@dataclasses.dataclass(frozen=True)
class FlaxParam:
    """A Flax parameter and its canonical counterpart.

    Attributes:
      info: the canonical description (torch path, kind, torch-layout shape).
      flax_path: the Flax path, ``/``-joined (``"layers_0/fc/kernel"``).
      shape: the Flax shape.
      dtype: the parameter's dtype.
      layout: how the canonical array becomes the Flax array and back.
      ref: linen: the key tuple in the ``params`` tree; nnx: the ``nnx.Param``.
    """

    info: ParamInfo
    flax_path: str
    shape: tuple[int, ...]
    dtype: np.dtype
    layout: Layout
    ref: Any = dataclasses.field(repr=False)


def canonical_path(
    flax_path: tuple[str | int, ...],
    members: Mapping[tuple[str | int, ...], tuple[str, ...]] | None = None,
) -> str:
    """The default torch name of a Flax parameter path.

    Args:
      flax_path: the parameter's path (module names, then the parameter's name).
      members: for linen, the torch segments of module paths that are list or
        dict members (``("layers_0",) -> ("layers", "0")``); :func:`walk_linen`
        finds them. Other segments are kept as they are.
    """
    segments: list[str] = []
    for j, seg in enumerate(flax_path[:-1]):
        segments.extend((members or {}).get(flax_path[: j + 1], (str(seg),)))
    name = str(flax_path[-1])
    segments.append(_NAMES.get(name, name))
    return ".".join(segments)


def _member_segments(module: Any) -> tuple[str, ...]:
    """``("layers", "0")`` when a linen module is item 0 of its parent's ``layers``
    list (or key ``"0"`` of a dict), else its name alone."""
    name, parent = module.name, module.parent
    for attr, value in vars(parent).items() if parent is not None else ():
        prefix = f"{attr}_"
        if not isinstance(attr, str) or not name.startswith(prefix):
            continue
        item = name[len(prefix) :]
        if isinstance(value, (list, tuple)) and item.isdigit() and int(item) < len(value):
            return (attr, item)
        if isinstance(value, Mapping) and item in value:
            return (attr, item)
    return (name,)


def _mapper(paths: PathsLike, known: list[str]) -> Callable[[str, str], str]:
    if paths is None:
        return lambda flax_path, default: default
    if isinstance(paths, Mapping):
        unknown = sorted(set(paths) - set(known))
        if unknown:
            raise ValueError(
                f"paths names Flax parameters the model does not have: {unknown}; "
                f"its parameters are {known}"
            )
        return lambda flax_path, default: paths.get(flax_path, default)
    if callable(paths):

        def call(flax_path: str, default: str) -> str:
            got = paths(flax_path)
            if not isinstance(got, str) or not got:
                raise TypeError(
                    f"paths({flax_path!r}) must return a torch parameter name, got {got!r}"
                )
            return got

        return call
    raise TypeError(f"paths must be a dict, a function or None, got {paths!r}")


def _torch_fan_in(shape: tuple[int, ...]) -> int:
    return shape[1] * math.prod(shape[2:]) if len(shape) >= 2 else 0


def _params(
    leaves: list[tuple[tuple[str | int, ...], Any, Any]],
    paths: PathsLike,
    members: Mapping[tuple[str | int, ...], tuple[str, ...]] | None = None,
) -> Iterator[FlaxParam]:
    """``leaves``: (flax path tuple, owner module or None, shape-and-dtype) per parameter."""
    flat = ["/".join(str(s) for s in p) for p, _, _ in leaves]
    to_torch = _mapper(paths, flat)
    layouts = []
    for (path, owner, leaf), _ in zip(leaves, flat, strict=True):
        kind = flax_kind(owner) if owner is not None else "other"
        layouts.append((kind, layout_for(owner, kind, str(path[-1]), tuple(leaf.shape))))
    kernels = {
        p[:-1]: lay.canonical_shape
        for (p, _, _), (_, lay) in zip(leaves, layouts, strict=True)
        if p[-1] == "kernel"
    }
    seen: dict[str, str] = {}
    for (path, owner, leaf), fp, (kind, lay) in zip(leaves, flat, layouts, strict=True):
        torch_path = to_torch(fp, canonical_path(path, members))
        if torch_path in seen:
            raise ValueError(
                f"Flax parameters {seen[torch_path]!r} and {fp!r} both map to {torch_path!r}"
            )
        seen[torch_path] = fp
        ctx: dict[str, Any] = {"flax_path": fp}
        if path[:-1] in kernels:
            ctx["weight_fan_in"] = _torch_fan_in(kernels[path[:-1]])
        info = ParamInfo(
            path=torch_path,
            name=torch_path.rsplit(".", 1)[-1],
            kind=kind,
            shape=lay.canonical_shape,
            module=owner,
            context=ctx,
        )
        yield FlaxParam(info, fp, tuple(leaf.shape), np.dtype(leaf.dtype), lay, path)


def walk_linen(
    module: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any], paths: PathsLike
) -> tuple[list[FlaxParam], dict[str, Any]]:
    """Evaluate ``module.init`` abstractly and describe its parameters.

    Returns:
      The parameters of the ``params`` collection, and the abstract variables
      (every collection) for the caller to fill.

    Raises:
      ValueError: the module cannot be evaluated abstractly with these inputs.
    """
    import flax.linen as nn
    from flax import traverse_util
    from flax.core import unfreeze

    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a flax.linen.Module, got {type(module).__name__}")
    owners: dict[tuple[str, ...], Any] = {}
    members: dict[tuple[str, ...], tuple[str, ...]] = {}

    def record(next_fun, call_args, call_kwargs, context):  # type: ignore[no-untyped-def]
        m = context.module
        if m.scope is not None:
            path = tuple(m.scope.path)
            owners.setdefault(path, m)
            if path and path not in members:
                members[path] = _member_segments(m)
        return next_fun(*call_args, **call_kwargs)

    key = jax.random.key(0)  # only shapes are computed: no values are drawn
    try:
        with nn.intercept_methods(record):
            shapes = jax.eval_shape(
                lambda k: module.init({"params": k, "dropout": k}, *args, **kwargs), key
            )
    except Exception as exc:
        raise ValueError(
            f"could not evaluate {type(module).__name__}.init abstractly with the example "
            f"inputs: {type(exc).__name__}: {exc}"
        ) from exc
    variables = unfreeze(shapes)
    flat = traverse_util.flatten_dict(variables.get("params", {}))
    leaves = [(path, owners.get(path[:-1]), leaf) for path, leaf in flat.items()]
    return list(_params(leaves, paths, members)), variables


def walk_nnx(module: Any, paths: PathsLike) -> list[FlaxParam]:
    """Describe the ``nnx.Param`` variables of an nnx module (concrete or abstract)."""
    from flax import nnx

    if not isinstance(module, nnx.Module):
        raise TypeError(f"module must be a flax.nnx.Module, got {type(module).__name__}")
    nodes = list(nnx.iter_graph(module))
    modules = {path: node for path, node in nodes if isinstance(node, nnx.Module)}
    leaves = []
    for path, node in nodes:
        if isinstance(node, nnx.Param):
            leaves.append((tuple(path), modules.get(tuple(path[:-1])), node.get_value()))
    found = list(_params(leaves, paths))
    params = [node for path, node in nodes if isinstance(node, nnx.Param)]
    return [dataclasses.replace(p, ref=v) for p, v in zip(found, params, strict=True)]
