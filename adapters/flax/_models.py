"""Initialize whole Flax models: :func:`init_linen` and :func:`init_nnx`.

Each parameter is generated in torch's canonical layout from
``xinit.key_for(seed, torch_name)`` (the same call the torch adapter makes)
and rearranged into Flax's layout, so the same architecture initialized in
PyTorch and in Flax from one seed gets bit-identical values. Shapes come from
abstract evaluation; no random init runs and is thrown away.

A small parameter of a position-stable initializer (``_generate.cuts``) is
generated in windows that every small tensor's program shares, joined and
rearranged with NumPy on the host and placed on the device: the model
compiles a few window programs instead of one generation program and one
layout program per shape. The values are the same bits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from xinit import _window, ensure_compilation_cache
from xinit.adapters._generate import (
    cuts,
    generate_all,
    group_key,
    is_whole,
    listing,
    plan,
    root_key,
    values,
    windows,
)
from xinit.adapters._scheme import Assignment, ParamInfo, SchemeLike
from xinit.adapters.flax._walk import FlaxParam, PathsLike, walk_linen, walk_nnx

__all__ = ["counterparts", "init_linen", "init_nnx", "to_canonical"]

#: Standard initial values of linen's ``batch_stats`` and nnx's ``BatchStat`` by name.
_STATS = {"mean": 0.0, "var": 1.0}


def _generate(params: list[FlaxParam], scheme: SchemeLike, seed: object) -> list[jax.Array]:
    """Every parameter's Flax-layout values; raises before anything is changed."""
    root = root_key(seed)
    ensure_compilation_cache()
    planned = plan(((p.info, p) for p in params), scheme, allow_keep=False)
    device = jax.config.jax_default_device  # thread-local: passed on to the workers
    impl = _window.impl_name(root)
    # Windows only for parameters cut in several: a whole one is generated in its own
    # shape, whose layout change then runs in JAX.
    pieces: dict[int, list[tuple[int, int]] | None] = {}
    for info, p, a in planned:
        cut = cuts(info, a, impl)
        pieces[id(p)] = None if is_whole(cut, math.prod(info.shape)) else cut

    def run(item: tuple[ParamInfo, FlaxParam, Assignment]) -> jax.Array:
        info, p, a = item
        cut, n = pieces[id(p)], math.prod(info.shape)
        with jax.default_device(device):
            if cut is None:
                arr = p.layout.to_flax(values(info, a, root, p.dtype))
            else:
                flat = np.concatenate([np.asarray(w) for w in windows(info, a, root, p.dtype, cut)])
                arr = jax.device_put(p.layout.to_flax(flat[:n].reshape(info.shape)), device)
        if tuple(arr.shape) != p.shape:  # a layout bug, never the user's input
            raise AssertionError(f"{p.flax_path}: layout gave {arr.shape}, Flax has {p.shape}")
        return arr

    def group(item: tuple[ParamInfo, FlaxParam, Assignment]) -> Any:
        info, p, a = item
        return group_key(info, a, p.dtype, pieces[id(p)])

    return generate_all(planned, group, run)


def _fill_stats(collection: str, path: tuple[str, ...], leaf: Any) -> jax.Array:
    name = path[-1]
    if name not in _STATS:
        raise ValueError(
            f"variable {collection}/{'/'.join(path)} has no standard initial value "
            f"(xinit knows {sorted(_STATS)} of batch_stats)"
        )
    return jnp.full(leaf.shape, _STATS[name], leaf.dtype)


def init_linen(
    module: Any,
    *example_args: Any,
    seed: int | jax.Array,
    scheme: SchemeLike = "torch",
    paths: PathsLike = None,
    **example_kwargs: Any,
) -> dict[str, Any]:
    """Initialize a linen module: the variables ``module.init`` would return.

    Args:
      module: a ``flax.linen.Module``.
      *example_args: inputs for ``module.init`` (only their shapes and dtypes are used).
      seed: an integer in ``[0, 2**64)`` or a JAX key.
      scheme: ``"torch"``, ``"flax"``, a ``Rules`` or a callable, the same objects
        as in the torch adapter.
      paths: overrides the Flax-to-torch name mapping (a dict keyed by Flax
        paths such as ``"layers_0/fc/kernel"``, or a function).
      **example_kwargs: keyword inputs for ``module.init``.

    Returns:
      ``{"params": ..., "batch_stats": ...}``: every collection ``module.init``
      creates, ``params`` from xinit, ``batch_stats`` with mean 0 and var 1.

    Raises:
      ValueError: the module cannot be evaluated abstractly, ``paths`` names an
        unknown parameter, or the scheme has no initializer for some parameters.
    """
    from flax import traverse_util

    params, variables = walk_linen(module, example_args, example_kwargs, paths)
    arrays = _generate(params, scheme, seed)
    out: dict[str, Any] = {}
    for collection, tree in variables.items():
        flat = traverse_util.flatten_dict(tree)
        if collection == "params":
            by_path = {p.ref: a for p, a in zip(params, arrays, strict=True)}
            filled = {path: by_path[path] for path in flat}
        elif collection == "batch_stats":
            filled = {path: _fill_stats(collection, path, leaf) for path, leaf in flat.items()}
        else:
            raise ValueError(
                f"module.init creates collection {collection!r}; xinit fills only "
                "'params' and 'batch_stats'"
            )
        out[collection] = traverse_util.unflatten_dict(filled)
    return out


def init_nnx(
    module: Any,
    *,
    seed: int | jax.Array,
    scheme: SchemeLike = "torch",
    paths: PathsLike = None,
) -> Any:
    """Initialize an nnx module in place, or build one from a factory.

    Args:
      module: an ``nnx.Module`` (its parameters are replaced in place), or a
        function returning one, which is evaluated abstractly with
        ``nnx.eval_shape`` so that no random init runs; its ``BatchStat``
        variables get mean 0 and var 1.
      seed: an integer in ``[0, 2**64)`` or a JAX key.
      scheme: as for :func:`init_linen`.
      paths: as for :func:`init_linen`, keyed by nnx paths (``"layers/0/kernel"``).

    Returns:
      The module.

    Raises:
      ValueError: an unknown path in ``paths``, a parameter without an
        initializer, or a factory that cannot be evaluated abstractly.

    Nothing is changed when it raises.
    """
    from flax import nnx

    if not isinstance(module, nnx.Module) and callable(module):
        factory: Callable[[], Any] = module
        try:
            module = nnx.eval_shape(factory)
        except Exception as exc:
            raise ValueError(
                f"could not evaluate the nnx module factory {factory!r} abstractly: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
    params = walk_nnx(module, paths)
    arrays = _generate(params, scheme, seed)
    stats = [
        (path, node)
        for path, node in nnx.iter_graph(module)
        if isinstance(node, nnx.BatchStat) and isinstance(node.get_value(), jax.ShapeDtypeStruct)
    ]
    filled = [
        _fill_stats("BatchStat", tuple(str(s) for s in path), node.get_value())
        for path, node in stats
    ]
    for p, arr in zip(params, arrays, strict=True):
        p.ref.set_value(arr)
    for (_, node), arr in zip(stats, filled, strict=True):
        node.set_value(arr)
    return module


def to_canonical(
    model: Any, *example_args: Any, paths: PathsLike = None, **example_kwargs: Any
) -> dict[str, np.ndarray]:
    """A Flax model's parameters by torch name, in torch's layout.

    Args:
      model: an nnx module, or a pair ``(linen_module, variables)``.
      *example_args: for a linen module, inputs for ``module.init`` (shapes only).
      paths: as for :func:`init_linen`.

    Returns:
      ``{torch_name: array}`` in torch's layout, ready to compare with (or
      load into) the corresponding torch model's ``state_dict``.
    """
    from flax import nnx, traverse_util

    if isinstance(model, nnx.Module):
        return {
            p.info.path: np.asarray(p.layout.to_canonical(p.ref.get_value()))
            for p in walk_nnx(model, paths)
        }
    module, variables = model
    params, _ = walk_linen(module, example_args, example_kwargs, paths)
    flat = traverse_util.flatten_dict(dict(variables["params"]))
    return {p.info.path: np.asarray(p.layout.to_canonical(flat[p.ref])) for p in params}


def counterparts(
    torch_shapes: Mapping[str, tuple[int, ...]], flax_canonical: Mapping[str, Any]
) -> list[str]:
    """Check that two models' parameters correspond one to one, by torch name and shape.

    Args:
      torch_shapes: ``{name: shape}`` of the torch model (e.g.
        ``{n: tuple(p.shape) for n, p in model.named_parameters()}``).
      flax_canonical: :func:`to_canonical`'s result (or ``{name: shape-bearing}``).

    Returns:
      The shared names, sorted.

    Raises:
      ValueError: parameters without a counterpart (named, on each side) or with
        shapes that disagree in torch's layout.
    """
    only_torch = sorted(set(torch_shapes) - set(flax_canonical))
    only_flax = sorted(set(flax_canonical) - set(torch_shapes))
    problems = []
    if only_torch:
        problems.append(f"torch parameters without a Flax counterpart: {listing(only_torch)}")
    if only_flax:
        problems.append(f"Flax parameters without a torch counterpart: {listing(only_flax)}")
    shared = sorted(set(torch_shapes) & set(flax_canonical))
    for name in shared:
        a, b = tuple(torch_shapes[name]), tuple(np.shape(flax_canonical[name]))
        if a != b:
            problems.append(f"{name!r}: torch shape {a}, Flax shape in torch's layout {b}")
    if problems:
        raise ValueError("; ".join(problems) + " (map names with paths=...)")
    return shared
