"""Schemes: which initializer each parameter of a model gets.

A scheme looks at a :class:`ParamInfo` (a framework-neutral description of one
parameter: its path, its layer kind, its shape in torch's layout ``(out, in,
*k)`` and the facts of its layer) and returns an :class:`Assignment` (the
initializer, the fans to call it with, and the layer's fix-ups), :data:`KEEP`,
or ``None`` when it has nothing for that parameter.

Three kinds of scheme:

- ``"torch"``: PyTorch's own ``reset_parameters`` defaults for every layer in
  ``torch.nn`` that has parameters.
- ``"flax"``: Flax's defaults expressed for the same layers (lecun_normal
  kernels, zero biases, ``N(0, 1/features)`` embeddings, orthogonal recurrent
  kernels, ...).
- :class:`Rules`: an ordered list of :class:`Rule` (matcher, initializer)
  pairs, like the ``model.apply(init_weights)`` recipes people write by hand,
  with an explicit fallback for what no rule matches.

Schemes know nothing of torch or Flax objects: the adapters describe their
parameters as :class:`ParamInfo`, so one scheme gives the same assignments in
every framework.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Literal

import xinit
from xinit import Initializer

__all__ = [
    "KEEP",
    "KINDS",
    "Assignment",
    "ParamInfo",
    "Rule",
    "Rules",
    "Scheme",
    "SchemeLike",
    "as_scheme",
    "flax_scheme",
    "torch_scheme",
]

#: Layer kinds the adapters report. ``"other"`` is any layer the adapter does not know.
KINDS: Final = (
    "linear",
    "bilinear",
    "conv",
    "conv_transpose",
    "embedding",
    "norm",
    "rnn",
    "mha",
    "prelu",
    "other",
)


@dataclasses.dataclass(frozen=True)
class ParamInfo:
    """One parameter, described without reference to its framework.

    Attributes:
      path: the canonical dotted path (torch's ``state_dict`` name), e.g.
        ``"layers.0.fc.weight"``; the parameter's key is derived from it.
      name: the parameter's own name in its layer (``"weight"``, ``"bias"``,
        ``"in_proj_weight"``, ``"weight_hh_l0"``, ...).
      kind: the layer kind, one of :data:`KINDS`.
      shape: the shape in torch's layout (``(out, in, *k)``; ConvTranspose
        ``(in, out/groups, *k)``).
      module: the framework's layer object that owns the parameter (for rules
        that match by type).
      context: facts of the layer a scheme needs: ``hidden_size`` (rnn),
        ``padding_idx`` (embedding), ``prelu_init`` (prelu), ``mha_out_proj``
        (the output Linear of a MultiheadAttention), ``in_transformer`` (inside
        a ``torch.nn.Transformer``, which re-initializes every matrix),
        ``weight_fan_in`` (the fan-in of the layer's weight, for its bias),
        ``flax_path`` (the parameter's Flax path, from the Flax adapter).
    """

    path: str
    name: str
    kind: str
    shape: tuple[int, ...]
    module: Any = dataclasses.field(default=None, compare=False, repr=False)
    context: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def is_bias(self) -> bool:
        """A layer's bias vector (``bias``, ``in_proj_bias``, ``bias_ih_l0``, ...)."""
        return self.name.startswith("bias") or self.name.endswith("_bias")


@dataclasses.dataclass(frozen=True)
class Assignment:
    """What a parameter gets: an initializer and how to call it.

    Attributes:
      init: the initializer.
      fan_in: overrides the fan-in computed from the shape in torch's layout
        (a bias gets its weight's).
      fan_out: likewise for the fan-out.
      zero_row: an index along axis 0 set to zero afterwards (an embedding's
        ``padding_idx``).
      blocks: generate axis 0 as this many equal blocks, each with its own key
        ``fold_in(key, i)`` (per-gate orthogonal recurrent kernels).
    """

    init: Initializer
    fan_in: int | None = None
    fan_out: int | None = None
    zero_row: int | None = None
    blocks: int = 1


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


#: A scheme's answer meaning "leave this parameter's current values as they are".
KEEP: Final = _Keep()

Scheme = Callable[[ParamInfo], "Assignment | _Keep | None"]
SchemeLike = Literal["torch", "flax"] | Scheme


# -- the "torch" scheme --------------------------------------------------------------------


def _uniform_bound(bound: float) -> Initializer:
    return xinit.uniform(-bound, bound)


def _default_weight_and_bias(p: ParamInfo, fan_in: int) -> Assignment:
    """torch's Linear/Conv default: weight and bias U(±1/sqrt(fan_in of the weight))."""
    if p.is_bias:
        return Assignment(xinit.torch_default_bias(), fan_in=fan_in)
    return Assignment(xinit.torch_default_weight(), fan_in=fan_in)


def torch_scheme(p: ParamInfo) -> Assignment | None:
    """PyTorch's default initialization of ``p``'s layer (``reset_parameters``).

    The formulas are torch 2.13's, listed in ``docs/torch.md``: Linear/Conv
    weight and bias ``U(±1/sqrt(fan_in))`` with the weight's fan_in; Bilinear
    ``U(±1/sqrt(in1))``; Embedding ``N(0, 1)`` with the padding row zeroed;
    norms ones and zeros; RNN/LSTM/GRU (and cells) ``U(±1/sqrt(hidden))``;
    MultiheadAttention xavier_uniform projections, zero in/out biases and
    xavier_normal ``bias_k``/``bias_v``; PReLU its ``init``. Inside a
    ``torch.nn.Transformer`` every parameter with more than one dimension is
    xavier_uniform, as ``Transformer._reset_parameters`` does.
    """
    ctx = p.context
    if ctx.get("in_transformer") and p.ndim > 1:
        return Assignment(xinit.xavier_uniform())
    kind = p.kind
    if kind in ("linear", "conv", "conv_transpose"):
        if ctx.get("mha_out_proj") and p.is_bias:
            return Assignment(xinit.zeros())
        return _default_weight_and_bias(p, ctx["weight_fan_in"])
    if kind == "bilinear":
        return _default_weight_and_bias(p, ctx["in1_features"])
    if kind == "embedding":
        return Assignment(xinit.normal(0.0, 1.0), zero_row=ctx.get("padding_idx"))
    if kind == "norm":
        return Assignment(xinit.zeros() if p.is_bias else xinit.ones())
    if kind == "rnn":
        hidden = ctx["hidden_size"]
        bound = 1.0 / math.sqrt(hidden) if hidden > 0 else 0.0
        return Assignment(_uniform_bound(bound))
    if kind == "mha":
        if p.name in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight"):
            return Assignment(xinit.xavier_uniform())
        if p.name == "in_proj_bias":
            return Assignment(xinit.zeros())
        if p.name in ("bias_k", "bias_v"):
            return Assignment(xinit.xavier_normal())
        return None
    if kind == "prelu":
        return Assignment(xinit.constant(ctx["prelu_init"]))
    return None


# -- the "flax" scheme ---------------------------------------------------------------------


def flax_scheme(p: ParamInfo) -> Assignment | None:
    """Flax's default initialization, for the same layers as :func:`torch_scheme`.

    Kernels are ``lecun_normal`` (truncated normal, std ``1/sqrt(fan_in)``)
    with Flax's fan_in (for ConvTranspose ``in * prod(k)``, Flax's kernel
    layout); biases zeros; Embedding ``N(0, 1/features)`` (padding row still
    zeroed, a torch layer contract); norms ones and zeros; recurrent (hidden)
    kernels orthogonal per gate, input kernels lecun_normal, biases zeros;
    MultiheadAttention projections lecun_normal and zero biases (also
    ``bias_k``/``bias_v``, which Flax does not have); PReLU 0.01 (Flax's
    ``negative_slope_init``).
    """
    kind, ctx = p.kind, p.context
    if p.is_bias:
        return Assignment(xinit.zeros())
    if kind in ("linear", "conv", "bilinear"):
        return Assignment(xinit.lecun_normal(), fan_in=math.prod(p.shape[1:]))
    if kind == "conv_transpose":
        return Assignment(xinit.lecun_normal(), fan_in=p.shape[0] * math.prod(p.shape[2:]))
    if kind == "embedding":
        return Assignment(
            xinit.variance_scaling(1.0, "fan_in", "normal"),
            fan_in=p.shape[1],
            zero_row=ctx.get("padding_idx"),
        )
    if kind == "norm":
        return Assignment(xinit.ones())
    if kind == "rnn":
        if p.name.startswith("weight_hh"):
            gates = p.shape[0] // ctx["hidden_size"] if ctx["hidden_size"] else 1
            return Assignment(xinit.orthogonal(), blocks=max(gates, 1))
        return Assignment(xinit.lecun_normal(), fan_in=p.shape[1])
    if kind == "mha":
        if p.name in ("bias_k", "bias_v"):
            return Assignment(xinit.zeros())
        return Assignment(xinit.lecun_normal(), fan_in=p.shape[1])
    if kind == "prelu":
        return Assignment(xinit.constant(0.01))
    return None


# -- rules ---------------------------------------------------------------------------------


def _as_types(value: object) -> tuple[Any, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


@dataclasses.dataclass(frozen=True)
class Rule:
    """One (matcher, initializer) pair of a :class:`Rules` scheme.

    A parameter matches when every given criterion holds:

    Args:
      init: the initializer, or :data:`KEEP` to leave matching parameters as they are.
      module: a layer type (``torch.nn.Linear``), a kind string from
        :data:`KINDS` (``"linear"``, which matches in every framework), or a
        tuple of them.
      name: a glob matched against the parameter's name (``"bias"``,
        ``"weight_hh_*"``) or, when it contains a dot, against its full path
        (``"*.c_proj.weight"``).
      ndim: the number of dimensions, or a tuple of accepted numbers.
      where: any predicate on the :class:`ParamInfo`.
      fan_in: pass this fan-in instead of the shape's (e.g. a custom layout).
      fan_out: likewise.

    Example:
      >>> import xinit
      >>> Rule(xinit.normal(0.0, 0.02), module="embedding")   # doctest: +ELLIPSIS
      Rule(...)
    """

    init: Initializer | _Keep
    module: Any = None
    name: str | None = None
    ndim: int | tuple[int, ...] | None = None
    where: Callable[[ParamInfo], bool] | None = None
    fan_in: int | None = None
    fan_out: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.init, (Initializer, _Keep)):
            raise TypeError(f"Rule init must be an xinit.Initializer or KEEP, got {self.init!r}")
        for m in _as_types(self.module):
            if isinstance(m, str):
                if m not in KINDS:
                    raise ValueError(f"Rule module={m!r} is not a layer kind; known: {list(KINDS)}")
            elif not isinstance(m, type):
                raise TypeError(f"Rule module must be a type or a kind string, got {m!r}")
        if self.name is not None and (not isinstance(self.name, str) or not self.name):
            raise TypeError(f"Rule name must be a non-empty glob string, got {self.name!r}")
        ndims = self.ndim if isinstance(self.ndim, tuple) else (self.ndim,)
        for n in ndims:
            if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
                raise ValueError(
                    f"Rule ndim must be a non-negative int or a tuple of them, got {self.ndim!r}"
                )
        if self.where is not None and not callable(self.where):
            raise TypeError(f"Rule where must be callable, got {self.where!r}")

    def matches(self, p: ParamInfo) -> bool:
        """Whether ``p`` meets every criterion of this rule."""
        kinds = _as_types(self.module)
        if kinds and not any(
            p.kind == m if isinstance(m, str) else isinstance(p.module, m) for m in kinds
        ):
            return False
        if self.name is not None:
            target = p.path if "." in self.name else p.name
            if not fnmatch.fnmatchcase(target, self.name):
                return False
        if self.ndim is not None:
            accepted = self.ndim if isinstance(self.ndim, tuple) else (self.ndim,)
            if p.ndim not in accepted:
                return False
        return self.where is None or bool(self.where(p))

    def assignment(self, p: ParamInfo) -> Assignment | _Keep:
        """The assignment this rule gives ``p`` (a bias with ``torch_default_bias``
        gets its weight's fan_in, as in torch)."""
        if isinstance(self.init, _Keep):
            return KEEP
        fan_in = self.fan_in
        if fan_in is None and self.init.name == "torch_default_bias":
            fan_in = p.context.get("weight_fan_in")
        return Assignment(self.init, fan_in=fan_in, fan_out=self.fan_out)


@dataclasses.dataclass(frozen=True, init=False)
class Rules:
    """An ordered list of :class:`Rule`; the first rule that matches wins.

    Args:
      *rules: the rules, most specific first.
      fallback: what a parameter that no rule matches gets: ``None`` (an error
        naming the parameters), ``"keep"`` (its current values; only for
        :func:`init_module`, a meta parameter has none), ``"torch"``,
        ``"flax"``, or another scheme.

    Example (GPT-2's recipe):
      >>> import math, xinit
      >>> gpt2 = Rules(
      ...     Rule(xinit.normal(0.0, 0.02 / math.sqrt(2 * 12)), name="*.c_proj.weight"),
      ...     Rule(xinit.normal(0.0, 0.02), module=("linear", "embedding"), name="weight"),
      ...     Rule(xinit.zeros(), name="bias"),
      ...     fallback="torch",
      ... )
    """

    rules: tuple[Rule, ...]
    fallback: Any

    def __init__(self, *rules: Rule, fallback: SchemeLike | Literal["keep"] | None = None) -> None:
        for r in rules:
            if not isinstance(r, Rule):
                raise TypeError(f"Rules takes Rule objects, got {r!r}")
        if fallback is not None and fallback != "keep":
            as_scheme(fallback)  # raises on a bad fallback now, not at first use
        object.__setattr__(self, "rules", tuple(rules))
        object.__setattr__(self, "fallback", fallback)

    def __call__(self, p: ParamInfo) -> Assignment | _Keep | None:
        for r in self.rules:
            if r.matches(p):
                return r.assignment(p)
        if self.fallback is None:
            return None
        if self.fallback == "keep":
            return KEEP
        return as_scheme(self.fallback)(p)


_NAMED: Mapping[str, Scheme] = {"torch": torch_scheme, "flax": flax_scheme}


def as_scheme(scheme: object) -> Scheme:
    """Return ``scheme`` as a callable: ``"torch"``, ``"flax"``, :class:`Rules`,
    a sequence of :class:`Rule` (no fallback) or a callable.

    Raises:
      ValueError: an unknown scheme name.
      TypeError: anything else.
    """
    if isinstance(scheme, str):
        if scheme not in _NAMED:
            raise ValueError(
                f"scheme must be one of {sorted(_NAMED)}, a Rules or a callable, got {scheme!r}"
            )
        return _NAMED[scheme]
    if isinstance(scheme, Sequence) and scheme and all(isinstance(r, Rule) for r in scheme):
        return Rules(*scheme)
    if callable(scheme):
        return scheme  # type: ignore[return-value]
    raise TypeError(f"scheme must be 'torch', 'flax', a Rules or a callable, got {scheme!r}")
