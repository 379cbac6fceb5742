"""The torch- and Flax-dependent subcommands of ``xinit``: ``demo``, ``parity``, ``inspect``.

``xinit._cli`` imports this module only when one of these subcommands runs, so
``import xinit`` (and ``xinit list``) never imports torch or Flax. torch and
Flax are imported inside the functions that need them: ``parity`` needs only
torch, ``inspect`` only the framework of the model it is given.

What the checks check:

- **identical**: the parameter's values in PyTorch, linen and nnx, each brought
  to torch's layout (``xinit.adapters.flax.to_canonical``), have the same bytes.
- **no copy**: a parameter generated whole (``xinit.adapters._generate.cuts``:
  2**19 values or more, or not position-stable) must be JAX's buffer, handed
  over; a smaller one is copied from shared windows by design, and the column
  says ``windows``. Handed over means the memory was not allocated by torch. torch
  marks storage that wraps memory it did not allocate (``torch.from_dlpack``,
  which is how ``init_module`` and ``materialize`` hand JAX's buffer over) as
  not resizable; a tensor torch allocated, copied or converted has resizable
  storage. The check also asks that the parameter is the whole buffer (offset
  0, contiguous, storage exactly its size), and is made right after the
  initialization, before anything calls ``.numpy()`` on the parameter (which
  marks storage not resizable too). It fails for a parameter that was
  copied in (a device JAX cannot reach, float64 without ``jax_enable_x64``, a
  ``channels_last`` parameter), and for one torch initialized itself.
- **std**: the measured mean and std are within 5 standard errors (estimated
  from the sample's own fourth moment) of what the scheme's initializer gives
  with the parameter's fans, from the textbook formulas (:func:`expected`);
  constant initializers must give exactly their value.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import importlib.util
import json
import math
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np

import xinit
from xinit import _window
from xinit._cli import CommandError, Progress, print_table
from xinit.adapters import _generate
from xinit.adapters._generate import plan
from xinit.adapters._scheme import Assignment, ParamInfo, Rule, Rules, SchemeLike

__all__ = [
    "RECIPES",
    "Expected",
    "demo",
    "expected",
    "gpt2",
    "handed_over",
    "inspect",
    "ks_2samp",
    "parity",
    "resolve_scheme",
    "std_check",
]

#: How many standard errors a measured mean or std may be from its expected value.
Z = 5.0


# -- expected statistics of an assignment ------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Expected:
    """What an initializer's values should look like.

    Attributes:
      mean, std: the distribution's mean and standard deviation, or None when
        xinit does not check it (``eye``, ``dirac``, ``delta_orthogonal``).
      exact: every value equals this (``zeros``, ``ones``, ``constant``).
    """

    mean: float | None = None
    std: float | None = None
    exact: float | None = None


def _phi(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


def _truncated(mean: float, std: float, a: float, b: float) -> tuple[float, float]:
    """Mean and std of N(mean, std²) truncated to [a, b] (textbook formulas)."""
    al, be = (a - mean) / std, (b - mean) / std
    z = _cdf(be) - _cdf(al)
    shift = (_phi(al) - _phi(be)) / z
    var = 1 + (al * _phi(al) - be * _phi(be)) / z - shift**2
    return mean + std * shift, std * math.sqrt(var)


def torch_fans(info: ParamInfo, a: Assignment) -> tuple[int | None, int | None]:
    """The fans a scheme gives ``info``'s initializer: the assignment's, else torch's of the shape.

    A rule's initializer gets the fans of the parameter's shape in torch's
    layout (``docs/torch.md``); blocks are generated one at a time, so their
    fans are a block's.
    """
    shape = info.shape
    if a.blocks > 1 and shape:
        shape = (shape[0] // a.blocks, *shape[1:])
    try:
        fan_in, fan_out = xinit.fans(shape, "torch")
    except ValueError:
        fan_in = fan_out = None
    if a.fan_in is not None:
        fan_in = a.fan_in
    if a.fan_out is not None:
        fan_out = a.fan_out
    return fan_in, fan_out


def expected(
    init: xinit.Initializer,
    shape: Sequence[int],
    fan_in: int | None,
    fan_out: int | None,
    blocks: int = 1,
) -> Expected:
    """The mean and std ``init`` gives an array of ``shape`` with these fans.

    From the textbook formulas of each family, on the initializer's declared
    hyperparameters: ``uniform(a, b)``: ``(b − a)/√12``; ``normal``; torch's
    ``trunc_normal`` (absolute bounds) and JAX's ``truncated_normal`` (bounds in
    units of ``stddev``); the variance-scaling family (``xavier_*``,
    ``kaiming_*``, ``torch_default_*``, ``lecun_*``, ``glorot_*``, ``he_*``,
    ``variance_scaling``): ``gain · √(scale / n)`` with ``n`` the fan its mode
    names (JAX's truncated normal is rescaled to that std); ``orthogonal``:
    ``gain / √max(rows, cols)``; ``sparse``: ``std · √(1 − ⌈sparsity·rows⌉/rows)``.
    """
    hp = dict(init.hyperparameters)
    name, gain = init.name, float(init.gain)
    if name in ("zeros", "ones", "constant"):
        return Expected(exact=float(hp["value"]))  # type: ignore[arg-type]
    if name == "uniform":
        a, b = float(hp["a"]), float(hp["b"])  # type: ignore[arg-type]
        return Expected((a + b) / 2, (b - a) / math.sqrt(12))
    if name == "normal":
        return Expected(float(hp["mean"]), float(hp["std"]))  # type: ignore[arg-type]
    if name == "trunc_normal":
        m, s = _truncated(*(float(hp[k]) for k in ("mean", "std", "a", "b")))  # type: ignore[arg-type]
        return Expected(m, s)
    if name == "truncated_normal":
        stddev = float(hp["stddev"])  # type: ignore[arg-type]
        m, s = _truncated(0.0, 1.0, float(hp["lower"]), float(hp["upper"]))  # type: ignore[arg-type]
        return Expected(stddev * m, stddev * s)
    if "mode" in hp and "distribution" in hp:
        n = {
            "fan_in": fan_in,
            "fan_out": fan_out,
            "fan_avg": None if fan_in is None or fan_out is None else (fan_in + fan_out) / 2,
        }[str(hp["mode"])]
        if n is None:
            return Expected()
        if n == 0:  # torch's bias of an empty weight
            return Expected(exact=0.0) if hp.get("zero_fan_gives_zero") else Expected()
        return Expected(0.0, gain * math.sqrt(float(hp["scale"]) / n))  # type: ignore[arg-type]
    if name == "orthogonal" and len(shape) >= 2:
        rows = shape[0] // max(blocks, 1)
        cols = math.prod(shape[1:])
        return Expected(0.0, gain / math.sqrt(max(rows, cols)))
    if name == "sparse" and len(shape) == 2:
        rows, std = shape[0], float(hp["std"])  # type: ignore[arg-type]
        zeros = math.ceil(float(hp["sparsity"]) * rows)  # type: ignore[arg-type]
        return Expected(0.0, std * math.sqrt(1 - zeros / rows))
    return Expected()


def std_check(values: np.ndarray, exp: Expected) -> dict[str, Any]:
    """Measured mean and std of ``values`` and whether they are what ``exp`` says.

    ``ok`` is None when there is nothing to check. The tolerance is ``Z``
    standard errors: ``s/√n`` for the mean, ``√((m4 − s⁴)/(4 n s²))`` for the
    std (the delta method, with the sample's own fourth central moment ``m4``),
    plus float32 rounding.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size == 0:
        return {"measured_mean": None, "measured_std": None, "ok": None}
    m, s = float(x.mean()), float(x.std())
    ok: bool | None = None
    if exp.exact is not None:
        ok = bool(np.all(x == exp.exact))
    elif exp.std is not None and exp.mean is not None:
        m4 = float(((x - m) ** 4).mean())
        se_std = math.sqrt(max(m4 - s**4, 0.0) / (4 * x.size * s * s)) if s > 0 else 0.0
        se_mean = s / math.sqrt(x.size)
        rounding = 1e-6 * (abs(exp.mean) + exp.std) + 1e-12
        ok = (
            abs(s - exp.std) <= Z * se_std + rounding
            and abs(m - exp.mean) <= Z * se_mean + rounding
        )
    return {"measured_mean": m, "measured_std": s, "ok": ok}


def describe(init: xinit.Initializer, a: Assignment | None = None) -> str:
    """A short human description of an initializer, e.g. ``N(0, 0.02²)``."""
    hp = dict(init.hyperparameters)
    name = init.name
    if name in ("torch_default_weight", "torch_default_bias"):
        text = "U(±1/√fan_in)"
    elif name == "uniform":
        text = f"U({hp['a']:g}, {hp['b']:g})"
    elif name == "normal":
        text = f"N({hp['mean']:g}, {hp['std']:.4g}²)"
    elif name == "trunc_normal":
        text = f"N({hp['mean']:g}, {hp['std']:.4g}²) in [{hp['a']:g}, {hp['b']:g}]"
    elif name == "constant":
        text = f"constant({hp['value']:g})"
    elif name == "variance_scaling":
        text = f"variance_scaling({hp['scale']:.4g}, {hp['mode']}, {hp['distribution']})"
    elif init.gain != 1.0:
        text = f"{name}(gain={init.gain:.3g})"
    else:
        text = name
    if a is not None and a.blocks > 1:
        text += f" ×{a.blocks} blocks"
    return text


# -- schemes and recipes -------------------------------------------------------------------

#: Module names of residual-branch output projections: GPT-2's ``c_proj``, the demo's ``o``
#: and ``proj``, and the common ``out_proj``, ``o_proj``, ``down_proj``.
RESIDUAL_PROJECTIONS = ("c_proj", "o", "proj", "out_proj", "o_proj", "down_proj")


def _is_residual(p: ParamInfo) -> bool:
    parts = p.path.split(".")
    return (
        p.name == "weight" and p.ndim == 2 and len(parts) >= 2 and parts[-2] in RESIDUAL_PROJECTIONS
    )


def gpt2(infos: Sequence[ParamInfo]) -> tuple[Rules, str]:
    """GPT-2's recipe for a model with these parameters, and a description.

    Every 2-D parameter named ``weight`` (Linear, Embedding, GPT-2's Conv1D)
    ``N(0, 0.02²)``; the output projections of the R residual branches (a 2-D
    weight of a module named in :data:`RESIDUAL_PROJECTIONS`) ``N(0, (0.02/√R)²)``
    (GPT-2 has two per layer, so this is its ``0.02/√(2·n_layer)``); every bias
    (``ParamInfo.is_bias``: also ``in_proj_bias``, ``bias_ih_l0``) zero; norm
    weights and anything else PyTorch's defaults.
    """
    residual = sum(1 for p in infos if _is_residual(p))
    std = 0.02 / math.sqrt(residual) if residual else 0.02
    rules = Rules(
        Rule(xinit.normal(0.0, std), where=_is_residual),
        Rule(xinit.normal(0.0, 0.02), name="weight", ndim=2),
        Rule(xinit.zeros(), where=lambda p: p.is_bias),
        fallback="torch",
    )
    scaled = (
        f"the {residual} residual output projections N(0, (0.02/√{residual})²)"
        if residual
        else f"no residual output projections found (2-D weights of {', '.join(RESIDUAL_PROJECTIONS)})"
    )
    text = (
        f"gpt2: 2-D weights N(0, 0.02²), {scaled}, biases zero, "
        "norms and the rest PyTorch's defaults"
    )
    return rules, text


#: Named recipes: a function from the model's parameters to (scheme, description).
RECIPES: dict[str, Callable[[Sequence[ParamInfo]], tuple[Rules, str]]] = {"gpt2": gpt2}

_DESCRIPTIONS = {
    "torch": "torch: PyTorch's own layer defaults (reset_parameters)",
    "flax": "flax: Flax's layer defaults (lecun_normal kernels, zero biases, ...)",
}


def resolve_scheme(name: str, infos: Sequence[ParamInfo]) -> tuple[SchemeLike, str]:
    """The scheme called ``name`` for a model with these parameters, and a description."""
    if name in _DESCRIPTIONS:
        return name, _DESCRIPTIONS[name]  # type: ignore[return-value]
    if name in RECIPES:
        return RECIPES[name](infos)
    known = ", ".join([*_DESCRIPTIONS, *RECIPES])
    raise CommandError(f"unknown scheme {name!r}; known: {known}")


# -- rows of per-parameter statistics -----------------------------------------------------


def param_row(info: ParamInfo, a: Assignment, canonical: np.ndarray) -> dict[str, Any]:
    """One parameter's fans, expected and measured statistics (values in torch's layout)."""
    fan_in, fan_out = torch_fans(info, a)
    exp = expected(a.init, info.shape, fan_in, fan_out, a.blocks)
    values = np.asarray(canonical, dtype=np.float64)
    row_ok = True
    if a.zero_row is not None and values.ndim >= 1 and values.shape[0] > 0:
        row_ok = bool(np.all(values[a.zero_row] == 0))  # the padding row, then the rest
        values = np.delete(values, a.zero_row, axis=0)
    stats = std_check(values, exp)
    ok = stats["ok"] if row_ok else False
    return {
        "initializer": describe(a.init, a),
        "fan_in": fan_in,
        "fan_out": fan_out,
        "expected_mean": exp.exact if exp.exact is not None else exp.mean,
        "expected_std": 0.0 if exp.exact is not None else exp.std,
        "measured_mean": stats["measured_mean"],
        "measured_std": stats["measured_std"],
        "std_ok": ok,
    }


def _num(v: float | None, fmt: str = ".6f") -> str:
    return "-" if v is None else format(v, fmt)


def _yes(v: bool | None) -> str:
    return "-" if v is None else ("yes" if v else "NO")


def _shape(shape: Sequence[int]) -> str:
    return "x".join(str(d) for d in shape) if len(shape) else "()"


def _time(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


# -- torch helpers -----------------------------------------------------------------------------


def handed_over(tensor: Any) -> bool:
    """Whether ``tensor``'s memory came from outside torch, whole, as ``init_module`` hands it over.

    True when its storage is not resizable (torch marks storage wrapping memory it
    did not allocate, e.g. from ``torch.from_dlpack``, that way; anything torch
    allocates, copies or converts is resizable), and the tensor is all of it:
    offset 0, contiguous, the storage exactly the tensor's size.

    Ask before anything exports the tensor to NumPy: ``tensor.numpy()`` marks its
    storage not resizable too.
    """
    storage = tensor.untyped_storage()
    return (
        not storage.resizable()
        and tensor.storage_offset() == 0
        and tensor.is_contiguous()
        and storage.nbytes() == tensor.numel() * tensor.element_size()
    )


def _torch_device(text: str) -> Any:
    import torch

    try:
        device = torch.device(text)
    except (RuntimeError, ValueError):
        raise CommandError(f"--device must be cpu or cuda[:N], got {text!r}") from None
    if device.type == "cpu":
        return device
    if device.type != "cuda":
        raise CommandError(f"--device must be cpu or cuda[:N], got {text!r}")
    if not torch.cuda.is_available():
        raise CommandError(
            f"--device {text}: torch has no CUDA on this machine (torch.cuda.is_available() is False)"
        )
    if device.index is not None and device.index >= torch.cuda.device_count():
        raise CommandError(
            f"--device {text}: this machine has {torch.cuda.device_count()} CUDA device(s)"
        )
    return device


def _sync(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _numpy(tensor: Any) -> np.ndarray:
    return tensor.detach().float().cpu().numpy()


def _median_time(fn: Callable[[], Any], repeat: int, sync: Callable[[], None]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@contextlib.contextmanager
def _fallbacks() -> Iterator[list[str]]:
    """Collect xinit's DeviceFallbackWarning messages instead of printing them."""
    from xinit.adapters.torch import DeviceFallbackWarning

    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DeviceFallbackWarning)
        yield notes
    for w in caught:
        if issubclass(w.category, DeviceFallbackWarning):
            if str(w.message) not in notes:
                notes.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


# -- the demo model: one small transformer in torch, linen and nnx ---------------------------

HEADS, VOCAB, TOKENS = 4, 512, (2, 16)


def demo_models(layers: int, width: int) -> tuple[type, type, type]:
    """The same transformer in PyTorch, linen and nnx: ``(TorchModel, LinenModel, NnxModel)``.

    An embedding, ``layers`` pre-norm blocks (LayerNorm; separate q, k, v, o
    Linear projections; LayerNorm; an MLP ``fc`` → GELU → ``proj``) and a final
    LayerNorm ``ln_f``. Parameter names are the same in all three
    (``blocks.0.q.weight`` is linen's ``blocks_0/q/kernel`` and nnx's
    ``blocks/0/q/kernel``).
    """
    import flax.linen as fnn
    import torch
    from flax import nnx
    from torch import nn

    d, head = width, width // HEADS

    def attention_torch(q: Any, k: Any, v: Any) -> Any:
        b, t, _ = q.shape
        q, k, v = (x.reshape(b, t, HEADS, head).transpose(1, 2) for x in (q, k, v))
        w = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(head), -1)
        return (w @ v).transpose(1, 2).reshape(b, t, d)

    def attention_jax(q: Any, k: Any, v: Any) -> Any:
        b, t, _ = q.shape
        q, k, v = (x.reshape(b, t, HEADS, head).transpose(0, 2, 1, 3) for x in (q, k, v))
        w = jax.nn.softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(head), -1)
        return (w @ v).transpose(0, 2, 1, 3).reshape(b, t, d)

    class TorchBlock(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1 = nn.LayerNorm(d)
            self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
            self.ln2 = nn.LayerNorm(d)
            self.fc = nn.Linear(d, 4 * d)
            self.proj = nn.Linear(4 * d, d)

        def forward(self, x: Any) -> Any:
            h = self.ln1(x)
            x = x + self.o(attention_torch(self.q(h), self.k(h), self.v(h)))
            return x + self.proj(nn.functional.gelu(self.fc(self.ln2(x)), approximate="tanh"))

    class TorchModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(VOCAB, d)
            self.blocks = nn.ModuleList([TorchBlock() for _ in range(layers)])
            self.ln_f = nn.LayerNorm(d)

        def forward(self, idx: Any) -> Any:
            x = self.emb(idx)
            for block in self.blocks:
                x = block(x)
            return self.ln_f(x)

    class LinenBlock(fnn.Module):
        def setup(self) -> None:
            self.ln1 = fnn.LayerNorm(epsilon=1e-5)
            self.q, self.k, self.v, self.o = (fnn.Dense(d) for _ in range(4))
            self.ln2 = fnn.LayerNorm(epsilon=1e-5)
            self.fc = fnn.Dense(4 * d)
            self.proj = fnn.Dense(d)

        def __call__(self, x: Any) -> Any:
            h = self.ln1(x)
            x = x + self.o(attention_jax(self.q(h), self.k(h), self.v(h)))
            return x + self.proj(jax.nn.gelu(self.fc(self.ln2(x)), approximate=True))

    class LinenModel(fnn.Module):
        def setup(self) -> None:
            self.emb = fnn.Embed(VOCAB, d)
            self.blocks = [LinenBlock() for _ in range(layers)]
            self.ln_f = fnn.LayerNorm(epsilon=1e-5)

        def __call__(self, idx: Any) -> Any:
            x = self.emb(idx)
            for block in self.blocks:
                x = block(x)
            return self.ln_f(x)

    class NnxBlock(nnx.Module):
        def __init__(self, rngs: nnx.Rngs) -> None:
            self.ln1 = nnx.LayerNorm(d, epsilon=1e-5, rngs=rngs)
            self.q, self.k, self.v, self.o = (nnx.Linear(d, d, rngs=rngs) for _ in range(4))
            self.ln2 = nnx.LayerNorm(d, epsilon=1e-5, rngs=rngs)
            self.fc = nnx.Linear(d, 4 * d, rngs=rngs)
            self.proj = nnx.Linear(4 * d, d, rngs=rngs)

        def __call__(self, x: Any) -> Any:
            h = self.ln1(x)
            x = x + self.o(attention_jax(self.q(h), self.k(h), self.v(h)))
            return x + self.proj(jax.nn.gelu(self.fc(self.ln2(x)), approximate=True))

    class NnxModel(nnx.Module):
        def __init__(self, rngs: nnx.Rngs) -> None:
            self.emb = nnx.Embed(VOCAB, d, rngs=rngs)
            self.blocks = nnx.List([NnxBlock(rngs) for _ in range(layers)])
            self.ln_f = nnx.LayerNorm(d, epsilon=1e-5, rngs=rngs)

        def __call__(self, idx: Any) -> Any:
            x = self.emb(idx)
            for block in self.blocks:
                x = block(x)
            return self.ln_f(x)

    return TorchModel, LinenModel, NnxModel


def _same_bytes(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def demo(args: argparse.Namespace) -> int:
    """``xinit demo``: one seed, the same transformer in PyTorch, linen and nnx."""
    import flax
    import jax.numpy as jnp
    import torch
    from flax import nnx

    from xinit.adapters import flax as xf
    from xinit.adapters import torch as xt
    from xinit.adapters.flax._walk import walk_linen, walk_nnx
    from xinit.adapters.torch._handover import jax_device
    from xinit.adapters.torch._walk import walk

    if args.width % HEADS:
        raise CommandError(f"--width must be a multiple of {HEADS} (the heads), got {args.width}")
    device = _torch_device(args.device)
    progress = Progress(args.quiet)
    torch_cls, linen_cls, nnx_cls = demo_models(args.layers, args.width)
    tokens = np.random.default_rng(args.seed).integers(0, VOCAB, TOKENS)
    jdev = jax_device(device) or jax.devices("cpu")[0]
    sync = lambda: _sync(device)  # noqa: E731
    seconds: dict[str, float] = {}

    progress.step("building the PyTorch model (PyTorch's own init)")
    with torch.device(device):
        tmodel = torch_cls()
    entries = list(walk(tmodel))
    scheme, scheme_text = resolve_scheme(args.scheme, [e.info for e in entries])
    planned = plan(((e.info, e) for e in entries), scheme, allow_keep=False)

    progress.step("xinit.adapters.torch.init_module (the first call compiles)")
    with _fallbacks() as notes:
        start = time.perf_counter()
        xt.init_module(tmodel, scheme, seed=args.seed)
        sync()
        seconds["init_module_first"] = time.perf_counter() - start
    tparams = dict(tmodel.named_parameters())
    no_copy = {n: handed_over(p) for n, p in tparams.items()}  # before any .numpy() (see there)
    impl = _window.impl_name(_generate.root_key(args.seed))
    whole = {
        info.path: _generate.is_whole(_generate.cuts(info, a, impl), math.prod(info.shape))
        for info, _, a in planned
    }

    progress.step("xinit.adapters.flax.init_linen and init_nnx")
    jtokens = jnp.asarray(tokens)
    with jax.default_device(jdev):
        start = time.perf_counter()
        variables = jax.block_until_ready(
            xf.init_linen(linen_cls(), jtokens, seed=args.seed, scheme=scheme)
        )
        seconds["init_linen_first"] = time.perf_counter() - start
        start = time.perf_counter()
        nmodel = xf.init_nnx(lambda: nnx_cls(nnx.Rngs(0)), seed=args.seed, scheme=scheme)
        jax.block_until_ready(nnx.state(nmodel))
        seconds["init_nnx_first"] = time.perf_counter() - start
    linen_state = xf.to_canonical((linen_cls(), variables), jtokens)
    nnx_state = xf.to_canonical(nmodel)
    linen_paths = {
        p.info.path: p.flax_path for p in walk_linen(linen_cls(), (jtokens,), {}, None)[0]
    }
    nnx_params = {p.info.path: p for p in walk_nnx(nmodel, None)}
    shapes = {n: tuple(p.shape) for n, p in tparams.items()}
    for state in (linen_state, nnx_state):
        xf.counterparts(shapes, state)  # raises, naming them, if the models do not correspond

    progress.step("checking every parameter")
    rows = []
    for info, _, a in planned:
        name = info.path
        tvalues = tparams[name].detach().cpu().numpy()
        identical = _same_bytes(tvalues, linen_state[name]) and _same_bytes(
            tvalues, nnx_state[name]
        )
        row = {
            "name": name,
            "torch_shape": list(info.shape),
            "flax_shape": list(nnx_params[name].shape),
            "linen_path": linen_paths[name],
            "nnx_path": nnx_params[name].flax_path,
            "identical": identical,
            "generated": "whole" if whole[name] else "windows",
            "no_copy": no_copy[name],
        }
        row.update(param_row(info, a, tvalues))
        rows.append(row)

    progress.step("forward pass in all three")
    with torch.no_grad():
        out_torch = _numpy(tmodel(torch.from_numpy(tokens).to(device)))
    with jax.default_device(jdev):
        out_linen = np.asarray(linen_cls().apply(variables, jtokens))
        out_nnx = np.asarray(nmodel(jtokens))
    tolerance = 1e-4 * (1 + float(np.abs(out_torch).max()))
    diff_linen = float(np.abs(out_linen - out_torch).max())
    diff_nnx = float(np.abs(out_nnx - out_torch).max())
    forward = {
        "tokens": list(TOKENS),
        "max_abs_diff_linen": diff_linen,
        "max_abs_diff_nnx": diff_nnx,
        "tolerance": tolerance,
        "ok": diff_linen <= tolerance and diff_nnx <= tolerance,
    }

    progress.step("timing: PyTorch's own init, then xinit's (compiled)")

    def build() -> Any:
        with torch.device(device):
            return torch_cls()

    seconds["torch_build"] = _median_time(build, 5, sync)
    fresh = build()
    with _fallbacks():
        seconds["init_module"] = _median_time(
            lambda: xt.init_module(fresh, scheme, seed=args.seed), 3, sync
        )

        def from_meta() -> Any:
            with torch.device("meta"):
                m = torch_cls()
            return xt.materialize(m, scheme, seed=args.seed, device=device)

        seconds["meta_materialize"] = _median_time(from_meta, 3, sync)
        meta_model = from_meta()
    with jax.default_device(jdev):
        seconds["init_linen"] = _median_time(
            lambda: jax.block_until_ready(
                xf.init_linen(linen_cls(), jtokens, seed=args.seed, scheme=scheme)
            ),
            3,
            lambda: None,
        )
        seconds["init_nnx"] = _median_time(
            lambda: jax.block_until_ready(
                nnx.state(xf.init_nnx(lambda: nnx_cls(nnx.Rngs(0)), seed=args.seed, scheme=scheme))
            ),
            3,
            lambda: None,
        )
    mparams = dict(meta_model.named_parameters())
    materialize_ok = all(
        handed_over(mparams[r["name"]]) or r["generated"] == "windows" for r in rows
    ) and all(_same_bytes(_numpy(mparams[r["name"]]), _numpy(tparams[r["name"]])) for r in rows)
    progress.done()

    failures = []
    for what, failed in (
        ("not identical in PyTorch, linen and nnx", lambda r: not r["identical"]),
        ("copied into torch", lambda r: r["generated"] == "whole" and not r["no_copy"]),
        ("std (or mean) not what the scheme gives", lambda r: r["std_ok"] is False),
    ):
        bad = [r["name"] for r in rows if failed(r)]
        if bad:
            failures.append(f"{what}: {', '.join(bad)}")
    if not forward["ok"]:
        failures.append(f"forward passes differ: linen {diff_linen:.2g}, nnx {diff_nnx:.2g}")
    if not materialize_ok:
        failures.append("materialize from the meta device differs from init_module or copied")
    ok = not failures
    numel = sum(p.numel() for p in tparams.values())
    result = {
        "xinit": xinit.__version__,
        "torch": torch.__version__,
        "jax": jax.__version__,
        "flax": flax.__version__,
        "seed": args.seed,
        "scheme": args.scheme,
        "scheme_description": scheme_text,
        "device": str(device),
        "jax_device": str(jdev),
        "model": {
            "layers": args.layers,
            "width": args.width,
            "heads": HEADS,
            "vocab": VOCAB,
            "parameters": len(rows),
            "values": numel,
        },
        "parameters": rows,
        "forward": forward,
        "materialize_matches": materialize_ok,
        "seconds": seconds,
        "notes": notes,
        "failures": failures,
        "ok": ok,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0 if ok else 1

    print(
        f"xinit {xinit.__version__} demo: one seed ({args.seed}), the same transformer in PyTorch, "
        f"Flax linen and Flax nnx\n"
        f"model: embedding {VOCAB}x{args.width}, {args.layers} block(s) (LayerNorm, q/k/v/o "
        f"Linear, MLP {args.width}->{4 * args.width}->{args.width}), final LayerNorm: "
        f"{len(rows)} parameters, {numel:,} values\n"
        f"scheme {scheme_text}\n"
        f"torch {torch.__version__} on {device}, jax {jax.__version__} on {jdev}, "
        f"flax {flax.__version__}\n"
    )
    print_table(
        [
            "parameter",
            "torch shape",
            "Flax shape",
            "initializer",
            "= linen = nnx",
            "no copy",
            "expected std",
            "measured std",
            "std ok",
        ],
        [
            [
                r["name"],
                _shape(r["torch_shape"]),
                _shape(r["flax_shape"]),
                r["initializer"],
                _yes(r["identical"]),
                "windows" if r["generated"] == "windows" else _yes(r["no_copy"]),
                _num(r["expected_std"]),
                _num(r["measured_std"]),
                _yes(r["std_ok"]),
            ]
            for r in rows
        ],
        right=(6, 7),
    )
    print(
        f"\n= linen = nnx: the same bytes in all three, in torch's layout "
        f"(xinit.adapters.flax.to_canonical).\n"
        f"no copy: the torch parameter's memory is JAX's buffer, not a torch allocation "
        f"(storage not resizable, offset 0, exactly its size); windows: fewer than "
        f"{_generate.WHOLE_FROM:,} values, copied from windows that every small tensor's "
        f"program shares.\n"
        f"std ok: measured mean and std within {Z:g} standard errors of the scheme's formula.\n"
    )
    print(
        f"forward pass on {TOKENS[0]}x{TOKENS[1]} tokens: max |linen - torch| {diff_linen:.1e}, "
        f"max |nnx - torch| {diff_nnx:.1e} (tolerance {tolerance:.1e}): {_yes(forward['ok'])}"
    )
    print(
        f"materialize on the meta device gives the same values, without a copy where "
        f"generated whole: {_yes(materialize_ok)}"
    )
    for note in notes:
        print(f"note: {note}")
    print(f"\ntime on {device} (medians of repeated runs; the first call once):")
    timing = [
        ("PyTorch: build the model (runs its own init)", seconds["torch_build"]),
        (
            "xinit: init_module, first call (compiles, or reads the compile cache)",
            seconds["init_module_first"],
        ),
        ("xinit: init_module on the built model", seconds["init_module"]),
        ("xinit: build on the meta device + materialize", seconds["meta_materialize"]),
        ("xinit: init_linen", seconds["init_linen"]),
        ("xinit: init_nnx (abstract build + init)", seconds["init_nnx"]),
    ]
    width = max(len(t) for t, _ in timing)
    for text, s in timing:
        print(f"  {text.ljust(width)}  {_time(s):>9}")
    print()
    if ok:
        print(
            f"All checks passed: {len(rows)} parameters identical in PyTorch, linen and nnx, "
            "the large ones handed to torch without a copy, std as the scheme says."
        )
    else:
        print("SOME CHECKS FAILED:")
        for f in failures:
            print(f"  {f}")
    return 0 if ok else 1


# -- parity: the torch.nn.init drop-in against torch.nn.init -----------------------------------


def kolmogorov_sf(x: float) -> float:
    """P(K > x) for the Kolmogorov distribution (the KS test's limit law)."""
    if x <= 0:
        return 1.0
    if x < 1.0:  # the theta-function form converges fast for small x
        s = sum(math.exp(-((2 * k - 1) ** 2) * math.pi**2 / (8 * x * x)) for k in range(1, 20))
        return min(max(1.0 - math.sqrt(2 * math.pi) / x * s, 0.0), 1.0)
    s = sum((-1) ** (k - 1) * math.exp(-2 * k * k * x * x) for k in range(1, 101))
    return min(max(2 * s, 0.0), 1.0)


def ks_2samp(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov test: (statistic D, asymptotic two-sided p-value)."""
    xs = np.sort(np.asarray(x, np.float64).ravel())
    ys = np.sort(np.asarray(y, np.float64).ravel())
    pooled = np.concatenate([xs, ys])
    cdf_x = np.searchsorted(xs, pooled, side="right") / xs.size
    cdf_y = np.searchsorted(ys, pooled, side="right") / ys.size
    d = float(np.max(np.abs(cdf_x - cdf_y)))
    en = xs.size * ys.size / (xs.size + ys.size)
    return d, kolmogorov_sf(math.sqrt(en) * d)


@dataclasses.dataclass(frozen=True)
class ParityCase:
    """One ``torch.nn.init`` call to compare: function, arguments, shape, random or not."""

    fn: str
    call: str
    kwargs: dict[str, Any]
    shape: tuple[int, ...]
    random: bool = True


def parity_cases(size: int) -> list[ParityCase]:
    """Every public ``torch.nn.init`` function, with typical arguments."""
    rect = (size, max(size // 2, 1))
    conv = (max(size // 16, 1), max(size // 16, 1), 3, 3)
    relu = math.sqrt(2.0)
    return [
        ParityCase("uniform_", "uniform_(a=-0.1, b=0.1)", {"a": -0.1, "b": 0.1}, rect),
        ParityCase("normal_", "normal_(std=0.02)", {"std": 0.02}, rect),
        ParityCase(
            "trunc_normal_",
            "trunc_normal_(std=0.02, a=-0.04, b=0.04)",
            {"std": 0.02, "a": -0.04, "b": 0.04},
            rect,
        ),
        ParityCase("xavier_uniform_", "xavier_uniform_(gain=√2)", {"gain": relu}, rect),
        ParityCase("xavier_normal_", "xavier_normal_()", {}, rect),
        ParityCase(
            "kaiming_uniform_",
            "kaiming_uniform_(a=√5)  (Linear default)",
            {"a": math.sqrt(5)},
            rect,
        ),
        ParityCase(
            "kaiming_normal_",
            "kaiming_normal_(mode='fan_out', nonlinearity='relu')",
            {"mode": "fan_out", "nonlinearity": "relu"},
            rect,
        ),
        ParityCase("orthogonal_", "orthogonal_()", {}, rect),
        ParityCase(
            "sparse_", "sparse_(sparsity=0.1, std=0.01)", {"sparsity": 0.1, "std": 0.01}, rect
        ),
        ParityCase("constant_", "constant_(val=0.3)", {"val": 0.3}, rect, random=False),
        ParityCase("ones_", "ones_()", {}, rect, random=False),
        ParityCase("zeros_", "zeros_()", {}, rect, random=False),
        ParityCase("eye_", "eye_()", {}, rect, random=False),
        ParityCase("dirac_", "dirac_()", {}, conv, random=False),
    ]


def parity_samples(case: ParityCase, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(xinit's values, torch's values) of one case, each from its own generator."""
    import torch

    from xinit.adapters import torch as xt

    ours = torch.empty(case.shape)
    extra = {"key": xinit.key_for(seed, f"parity.{case.fn}")} if case.random else {}
    getattr(xt, case.fn)(ours, **case.kwargs, **extra)
    theirs = torch.empty(case.shape)
    torch.manual_seed(seed)
    getattr(torch.nn.init, case.fn)(theirs, **case.kwargs)
    return ours.numpy().ravel(), theirs.numpy().ravel()


def parity_row(
    case: ParityCase, ours: np.ndarray, theirs: np.ndarray, alpha: float
) -> dict[str, Any]:
    d, p = ks_2samp(ours, theirs)
    identical = bool(np.array_equal(ours, theirs)) if not case.random else None
    ok = identical if not case.random else p >= alpha
    return {
        "function": case.fn,
        "call": case.call,
        "shape": list(case.shape),
        "samples": int(ours.size),
        "xinit_mean": float(ours.mean(dtype=np.float64)),
        "torch_mean": float(theirs.mean(dtype=np.float64)),
        "xinit_std": float(ours.std(dtype=np.float64)),
        "torch_std": float(theirs.std(dtype=np.float64)),
        "ks_statistic": d,
        "p_value": p,
        "identical": identical,
        "ok": bool(ok),
    }


def parity_plot(
    path: str,
    cases: Sequence[ParityCase],
    samples: Sequence[tuple[np.ndarray, np.ndarray]],
    rows: Sequence[dict[str, Any]],
) -> None:
    """Overlaid histograms of xinit's and torch's values, one panel per function."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ncols = 4
    nrows = math.ceil(len(cases) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4 * ncols, 2.8 * nrows), squeeze=False)
    for ax, case, (ours, theirs), row in zip(axes.ravel(), cases, samples, rows, strict=False):
        lo, hi = float(min(ours.min(), theirs.min())), float(max(ours.max(), theirs.max()))
        if hi - lo < 1e-12:
            lo, hi = lo - 0.5, hi + 0.5
        bins = np.linspace(lo, hi, 61)
        ax.hist(
            theirs,
            bins=bins,
            histtype="stepfilled",
            alpha=0.35,
            color="tab:orange",
            label="torch.nn.init",
        )
        ax.hist(ours, bins=bins, histtype="step", linewidth=1.2, color="tab:blue", label="xinit")
        stat = (
            f"KS D = {row['ks_statistic']:.4f}, p = {row['p_value']:.2f}"
            if case.random
            else ("identical" if row["identical"] else "DIFFERENT")
        )
        ax.set_title(f"{case.call.split('  ')[0]}\n{stat}", fontsize=9)
        ax.tick_params(labelsize=7)
        if case.fn in ("sparse_", "eye_", "dirac_"):
            ax.set_yscale("log")
    for ax in axes.ravel()[len(cases) :]:
        ax.axis("off")
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    if len(cases) < axes.size:  # in an empty panel
        axes.ravel()[-1].legend(handles, labels, loc="center", fontsize=10)
    else:
        axes.ravel()[0].legend(handles, labels, loc="lower center", fontsize=7)
    fig.suptitle(
        "xinit's drop-in (import xinit.adapters.torch as init) vs torch.nn.init: "
        "the values of one call each",
        fontsize=11,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    try:
        fig.savefig(path, dpi=90)
    except OSError as e:
        raise CommandError(f"--plot {path}: {e.strerror or e}") from None
    finally:
        plt.close(fig)


def parity(args: argparse.Namespace) -> int:
    """``xinit parity``: the ``torch.nn.init`` drop-in against ``torch.nn.init``."""
    import torch

    if not 0 < args.alpha < 1:
        raise CommandError(f"--alpha must be in (0, 1), got {args.alpha}")
    if args.plot:
        import matplotlib  # noqa: F401  (fail before the long part when it is missing)

        parent = Path(args.plot).resolve().parent
        if not parent.is_dir():
            raise CommandError(f"--plot {args.plot}: directory {parent} does not exist")
    progress = Progress(args.quiet)
    cases = parity_cases(args.size)
    samples, rows = [], []
    for i, case in enumerate(cases):
        progress.step(f"[{i + 1}/{len(cases)}] {case.fn}")
        ours, theirs = parity_samples(case, args.seed)
        samples.append((ours, theirs))
        rows.append(parity_row(case, ours, theirs, args.alpha))
    if args.plot:
        progress.step(f"plotting to {args.plot}")
        parity_plot(args.plot, cases, samples, rows)
    progress.done()
    ok = all(r["ok"] for r in rows)
    if args.json:
        print(
            json.dumps(
                {
                    "xinit": xinit.__version__,
                    "torch": torch.__version__,
                    "seed": args.seed,
                    "alpha": args.alpha,
                    "rows": rows,
                    "plot": args.plot,
                    "ok": ok,
                },
                indent=2,
            )
        )
        return 0 if ok else 1
    print(
        f"xinit {xinit.__version__} parity: `import xinit.adapters.torch as init` against "
        f"torch.nn.init {torch.__version__}, one call each, seed {args.seed}\n"
    )
    print_table(
        [
            "torch.nn.init call",
            "samples",
            "xinit mean",
            "torch mean",
            "xinit std",
            "torch std",
            "KS D",
            "p-value",
            "ok",
        ],
        [
            [
                r["call"],
                str(r["samples"]),
                f"{r['xinit_mean']:+.5f}",
                f"{r['torch_mean']:+.5f}",
                f"{r['xinit_std']:.5f}",
                f"{r['torch_std']:.5f}",
                f"{r['ks_statistic']:.4f}",
                f"{r['p_value']:.3f}",
                "yes" if r["ok"] else "NO",
            ]
            for r in rows
        ],
        right=(1, 2, 3, 4, 5, 6, 7),
    )
    print(
        f"\nRandom ones: two-sample Kolmogorov-Smirnov test, ok when p >= {args.alpha:g} "
        "(xinit's values have torch's distribution, not torch's bits); deterministic ones: "
        "ok when identical."
    )
    if args.plot:
        print(f"Histograms: {args.plot}")
    print("All distributions match." if ok else "SOME DISTRIBUTIONS DIFFER.")
    return 0 if ok else 1


# -- inspect: a user's model -------------------------------------------------------------------


def load_factory(target: str) -> Callable[[], Any]:
    """``MODULE:FACTORY`` (a module name or a ``.py`` path, then an attribute) as a callable."""
    module_name, sep, attr = target.rpartition(":")
    if not sep or not module_name or not attr:
        raise CommandError(
            f"expected MODULE:FACTORY (e.g. mypackage.models:build or path/to/model.py:build), got {target!r}"
        )
    try:
        if module_name.endswith(".py") or "/" in module_name or os.sep in module_name:
            path = Path(module_name)
            if not path.is_file():
                raise CommandError(f"cannot import {module_name!r}: no such file")
            spec = importlib.util.spec_from_file_location(path.stem, path)
            if spec is None or spec.loader is None:
                raise CommandError(f"cannot import {module_name!r}: not a Python file")
            module = importlib.util.module_from_spec(spec)
            sys.path.insert(0, str(path.resolve().parent))
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        else:
            if "" not in sys.path and os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())  # as `python -m` does
            module = importlib.import_module(module_name)
    except CommandError:
        raise
    except ModuleNotFoundError as e:
        missing = e.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            raise CommandError(f"cannot import {module_name!r}: {e}") from None
        raise CommandError(f"importing {module_name!r} failed: ModuleNotFoundError: {e}") from None
    except Exception as e:
        raise CommandError(f"importing {module_name!r} failed: {type(e).__name__}: {e}") from None
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise CommandError(f"{module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise CommandError(f"{target} is not callable (it is a {type(obj).__name__})")
    return obj


def _call(factory: Callable[[], Any], target: str, context: Any = None) -> Any:
    try:
        with context if context is not None else contextlib.nullcontext():
            return factory()
    except Exception as e:
        raise CommandError(f"{target}() failed: {type(e).__name__}: {e}") from None


def _unknown_meta_buffers(module: Any) -> bool:
    """Whether ``materialize`` would refuse: a meta buffer that is not a norm's running stat."""
    return any(
        b is not None and b.is_meta and not callable(getattr(m, "reset_running_stats", None))
        for m in module.modules()
        for b in m._buffers.values()
    )


def _kind_of(obj: Any) -> str | None:
    if "torch" in sys.modules:
        import torch

        if isinstance(obj, torch.nn.Module):
            return "torch"
    if "flax" in sys.modules:
        import flax.linen as fnn
        from flax import nnx

        if isinstance(obj, nnx.Module):
            return "nnx"
        if isinstance(obj, tuple) and obj and isinstance(obj[0], fnn.Module):
            return "linen"
        if isinstance(obj, fnn.Module):
            raise CommandError(
                "a linen module needs an example input to be initialized: return "
                "(module, example_input, ...) from the factory"
            )
    return None


def _inspect_torch(
    factory: Callable[[], Any], target: str, args: argparse.Namespace, model: Any
) -> tuple[list[dict[str, Any]], str, float]:
    from xinit.adapters import torch as xt
    from xinit.adapters.torch._walk import walk

    device = _torch_device(args.device)
    params = list(model.parameters())
    meta = bool(params) and all(p.is_meta for p in params) and not _unknown_meta_buffers(model)
    why = ""
    if not meta:
        import torch

        if any(p.is_meta for p in params) or _unknown_meta_buffers(model):
            why = ", built on the device: it has buffers materialize cannot fill"
            model = _call(factory, target, torch.device(device))  # build it for real
    entries = list(walk(model))
    scheme, text = resolve_scheme(args.scheme, [e.info for e in entries])
    planned = plan(((e.info, e) for e in entries), scheme, allow_keep=not meta)
    start = time.perf_counter()
    with _fallbacks():
        if meta:
            xt.materialize(model, scheme, seed=args.seed, device=device)
            how = f"materialize (built on the meta device, generated on {device})"
        else:
            xt.init_module(model, scheme, seed=args.seed)
            how = f"init_module (on the devices of its parameters{why})"
    elapsed = time.perf_counter() - start
    values = dict(model.named_parameters())
    rows = []
    kept = {e.info.path for e in entries} - {info.path for info, _, _ in planned}
    for info, _, a in planned:
        p = values[info.path]
        row = {
            "parameter": info.path,
            "torch_name": info.path,
            "shape": list(p.shape),
            "kind": info.kind,
        }
        row.update(param_row(info, a, _numpy(p)))
        rows.append(row)
    rows += [
        _kept_row(e.info, e.info.path, list(e.info.shape)) for e in entries if e.info.path in kept
    ]
    return rows, f"{text}; {how}", elapsed


def _kept_row(info: ParamInfo, name: str, shape: list[int]) -> dict[str, Any]:
    return {
        "parameter": name,
        "torch_name": info.path,
        "shape": shape,
        "kind": info.kind,
        "initializer": "kept",
        "fan_in": None,
        "fan_out": None,
        "expected_mean": None,
        "expected_std": None,
        "measured_mean": None,
        "measured_std": None,
        "std_ok": None,
    }


def _inspect_flax(
    kind: str, args: argparse.Namespace, model: Any
) -> tuple[list[dict[str, Any]], str, float]:
    from flax import nnx, traverse_util

    from xinit.adapters import flax as xf
    from xinit.adapters.flax._walk import walk_linen, walk_nnx

    if kind == "nnx":
        params = walk_nnx(model, None)
        example: tuple[Any, ...] = ()
    else:
        model, *rest = model
        example = tuple(rest)
        params, _ = walk_linen(model, example, {}, None)
    scheme, text = resolve_scheme(args.scheme, [p.info for p in params])
    planned = plan(((p.info, p) for p in params), scheme, allow_keep=False)
    start = time.perf_counter()
    if kind == "nnx":
        xf.init_nnx(model, seed=args.seed, scheme=scheme)
        jax.block_until_ready(nnx.state(model))
        after = {p.info.path: np.asarray(p.ref.get_value()) for p in walk_nnx(model, None)}
        how = "init_nnx (in place)"
    else:
        variables = jax.block_until_ready(
            xf.init_linen(model, *example, seed=args.seed, scheme=scheme)
        )
        flat = traverse_util.flatten_dict(dict(variables["params"]))
        after = {p.info.path: np.asarray(flat[p.ref]) for p in params}
        how = "init_linen"
    elapsed = time.perf_counter() - start
    rows = []
    for info, p, a in planned:
        canonical = np.asarray(p.layout.to_canonical(after[info.path]))
        row = {
            "parameter": p.flax_path,
            "torch_name": info.path,
            "shape": list(p.shape),
            "kind": info.kind,
        }
        row.update(param_row(info, a, canonical))
        rows.append(row)
    return rows, f"{text}; {how}", elapsed


def inspect(args: argparse.Namespace) -> int:
    """``xinit inspect MODULE:FACTORY``: a user's model, initialized with a scheme."""
    progress = Progress(args.quiet)
    progress.step(f"importing {args.target}")
    factory = load_factory(args.target)
    progress.step(f"calling {args.target}()")
    meta_context = None
    try:
        import torch

        meta_context = torch.device("meta")
    except ModuleNotFoundError:
        pass
    model: Any = _UNBUILT
    if meta_context is not None:
        try:
            model = _call_quiet(factory, meta_context)
        except Exception:  # some models cannot be built on the meta device: build it for real
            model = _UNBUILT
    if model is _UNBUILT:
        model = _call(factory, args.target)
    kind = _kind_of(model)
    if kind is None:
        raise CommandError(
            f"{args.target}() returned an object of type {type(model).__name__}; expected a torch.nn.Module, a "
            "flax.nnx.Module, or a tuple (flax.linen.Module, example_input, ...)"
        )
    progress.step(f"initializing with scheme {args.scheme}")
    if kind == "torch":
        rows, how, elapsed = _inspect_torch(factory, args.target, args, model)
    else:
        rows, how, elapsed = _inspect_flax(kind, args, model)
    progress.done()
    bad = [r["parameter"] for r in rows if r["std_ok"] is False]
    ok = not bad
    framework = {"torch": "PyTorch", "nnx": "Flax nnx", "linen": "Flax linen"}[kind]
    if args.json:
        print(
            json.dumps(
                {
                    "target": args.target,
                    "framework": framework,
                    "scheme": args.scheme,
                    "how": how,
                    "seed": args.seed,
                    "seconds": elapsed,
                    "parameters": rows,
                    "failures": bad,
                    "ok": ok,
                },
                indent=2,
            )
        )
        return 0 if ok else 1
    print(f"{args.target}: a {framework} model with {len(rows)} parameters, seed {args.seed}")
    print(f"scheme {how}, {_time(elapsed)}\n")
    print_table(
        [
            "parameter",
            "shape",
            "kind",
            "initializer",
            "fan_in",
            "fan_out",
            "expected std",
            "measured std",
            "ok",
        ],
        [
            [
                r["parameter"],
                _shape(r["shape"]),
                r["kind"],
                r["initializer"],
                "-" if r["fan_in"] is None else str(r["fan_in"]),
                "-" if r["fan_out"] is None else str(r["fan_out"]),
                _num(r["expected_std"]),
                _num(r["measured_std"]),
                _yes(r["std_ok"]),
            ]
            for r in rows
        ],
        right=(4, 5, 6, 7),
    )
    print(
        "\nfan_in, fan_out: the fans the scheme gives the initializer (torch's layout). "
        f"ok: measured mean and std within {Z:g} standard errors of the formula."
    )
    if ok:
        print(f"All {len(rows)} parameters have the statistics their scheme gives.")
    else:
        print(f"{len(bad)} parameter(s) differ from their scheme: {', '.join(bad)}")
    return 0 if ok else 1


_UNBUILT = object()


def _call_quiet(factory: Callable[[], Any], context: Any) -> Any:
    with context:
        return factory()
