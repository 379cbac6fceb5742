"""The benchmark models: GPT-2-small, ResNet-50 and a 1B Llama shape, in torch and Flax.

Each architecture is written once per framework with the same parameter names
(a torch ``state_dict`` name maps to the Flax path by xinit's default mapping,
``docs/cross-framework.md``), so xinit gives both the same values. Only the
parameter shapes matter here: the torch and nnx modules have no ``forward``;
the linen modules have the minimal ``__call__`` that linen needs to create
their parameters (a plain forward pass).

Sizes come in two flavours: ``full`` (the real shapes) and ``quick`` (the same
structure, scaled down, for ``run.py --quick``). Flax versions exist for
GPT-2 and ResNet-50; the 1B Llama model is benchmarked in torch only.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

#: Model sizes: "full" is what docs/benchmarks.md reports; "quick" is a smoke test.
SIZES = ("full", "quick")


# --------------------------------------------------------------------------- configs


@dataclasses.dataclass(frozen=True)
class GPT2Config:
    """GPT-2 shape: token and position embeddings, pre-norm blocks, head tied to ``wte``."""

    vocab: int = 50257
    ctx: int = 1024
    d: int = 768
    n_layer: int = 12
    n_head: int = 12


@dataclasses.dataclass(frozen=True)
class ResNetConfig:
    """ResNet-50 shape (v1.5: the stride sits on the 3x3 conv of a bottleneck)."""

    layers: tuple[int, ...] = (3, 4, 6, 3)
    width: int = 64
    classes: int = 1000


@dataclasses.dataclass(frozen=True)
class LlamaConfig:
    """Llama shape: no biases, RMSNorm, gated MLP, untied head."""

    vocab: int = 32000
    d: int = 2048
    n_layer: int = 16
    mlp: int = 5632
    n_head: int = 16


CONFIGS: dict[str, dict[str, Any]] = {
    "gpt2": {
        "full": GPT2Config(),
        "quick": GPT2Config(vocab=2048, ctx=128, d=128, n_layer=2, n_head=4),
    },
    "resnet50": {
        "full": ResNetConfig(),
        "quick": ResNetConfig(layers=(1, 1, 1, 1), width=16, classes=10),
    },
    "llama1b": {
        "full": LlamaConfig(),
        "quick": LlamaConfig(vocab=2048, d=128, n_layer=2, mlp=352, n_head=4),
        # Same structure (16 layers, same tensor count) with tiny tensors: measures the
        # fixed cost of materialize (JAX runtime, compiling, bookkeeping) without the bytes.
        "tiny": LlamaConfig(vocab=256, d=64, n_layer=16, mlp=176, n_head=4),
    },
    # The 7B shape, for benchmarks/gpu.py (run.py's CPU harness stops at 1B).
    "llama7b": {
        "full": LlamaConfig(vocab=32000, d=4096, n_layer=32, mlp=11008, n_head=32),
        "quick": LlamaConfig(vocab=2048, d=128, n_layer=2, mlp=352, n_head=4),
    },
}

NAMES = {
    "gpt2": "GPT-2-small",
    "resnet50": "ResNet-50",
    "llama1b": "Llama 1B",
    "llama7b": "Llama 7B",
}


# --------------------------------------------------------------------------- torch


class TorchGPT2Block(nn.Module):
    """One pre-norm transformer block of GPT-2."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.fc_proj = nn.Linear(4 * d, d)


class TorchGPT2(nn.Module):
    """GPT-2: ``wte``, ``wpe``, blocks ``h.i``, ``ln_f``, ``lm_head`` tied to ``wte``."""

    def __init__(self, cfg: GPT2Config) -> None:
        super().__init__()
        self.wte = nn.Embedding(cfg.vocab, cfg.d)
        self.wpe = nn.Embedding(cfg.ctx, cfg.d)
        self.h = nn.ModuleList(TorchGPT2Block(cfg.d) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.d)
        self.lm_head = nn.Linear(cfg.d, cfg.vocab, bias=False)
        self.lm_head.weight = self.wte.weight


class TorchBottleneck(nn.Module):
    """ResNet bottleneck: 1x1, 3x3 (strided), 1x1 x4, with a projection shortcut when needed."""

    def __init__(self, cin: int, width: int, stride: int) -> None:
        super().__init__()
        cout = 4 * width
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.downsample: nn.Module | None = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout)
            )


def _stages(cfg: ResNetConfig) -> list[tuple[int, int, int]]:
    """``(cin, width, stride)`` of every bottleneck, stage by stage, flattened."""
    out, cin = [], cfg.width
    for stage, blocks in enumerate(cfg.layers):
        width = cfg.width * 2**stage
        for j in range(blocks):
            out.append((cin, width, 2 if (j == 0 and stage > 0) else 1))
            cin = 4 * width
    return out


class TorchResNet(nn.Module):
    """ResNet-50: stem ``conv1``/``bn1``, stages ``layer1``..``layer4``, ``fc``."""

    def __init__(self, cfg: ResNetConfig) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, cfg.width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(cfg.width)
        specs = iter(_stages(cfg))
        for stage, blocks in enumerate(cfg.layers):
            layer = nn.Sequential(*(TorchBottleneck(*next(specs)) for _ in range(blocks)))
            setattr(self, f"layer{stage + 1}", layer)
        self.fc = nn.Linear(4 * cfg.width * 2 ** (len(cfg.layers) - 1), cfg.classes)


class TorchLlamaAttention(nn.Module):
    """q/k/v/o projections without bias."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.q_proj = nn.Linear(d, d, bias=False)
        self.k_proj = nn.Linear(d, d, bias=False)
        self.v_proj = nn.Linear(d, d, bias=False)
        self.o_proj = nn.Linear(d, d, bias=False)


class TorchLlamaMLP(nn.Module):
    """Gated MLP: gate/up/down projections without bias."""

    def __init__(self, d: int, hidden: int) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(d, hidden, bias=False)
        self.up_proj = nn.Linear(d, hidden, bias=False)
        self.down_proj = nn.Linear(hidden, d, bias=False)


class TorchLlamaLayer(nn.Module):
    """RMSNorm, attention, RMSNorm, MLP."""

    def __init__(self, cfg: LlamaConfig) -> None:
        super().__init__()
        self.input_layernorm = nn.RMSNorm(cfg.d, eps=1e-5)
        self.self_attn = TorchLlamaAttention(cfg.d)
        self.post_attention_layernorm = nn.RMSNorm(cfg.d, eps=1e-5)
        self.mlp = TorchLlamaMLP(cfg.d, cfg.mlp)


class TorchLlama(nn.Module):
    """Llama: ``embed_tokens``, ``layers.i``, ``norm``, untied ``lm_head``."""

    def __init__(self, cfg: LlamaConfig) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab, cfg.d)
        self.layers = nn.ModuleList(TorchLlamaLayer(cfg) for _ in range(cfg.n_layer))
        self.norm = nn.RMSNorm(cfg.d, eps=1e-5)
        self.lm_head = nn.Linear(cfg.d, cfg.vocab, bias=False)


TORCH: dict[str, Callable[[Any], nn.Module]] = {
    "gpt2": TorchGPT2,
    "resnet50": TorchResNet,
    "llama1b": TorchLlama,
    "llama7b": TorchLlama,
}


def torch_model(name: str, size: str) -> nn.Module:
    """Construct the torch model (PyTorch's default init runs, unless under ``torch.device("meta")``)."""
    return TORCH[name](CONFIGS[name][size])


def torch_recipe(model: nn.Module) -> nn.Module:
    """Re-initialize ``model`` with ``torch.nn.init``, the common recipe, in place.

    Linear weights ``xavier_uniform_``, embeddings ``normal_(0, 0.02)``, conv
    weights ``kaiming_normal_(mode="fan_out", nonlinearity="relu")`` (torchvision's
    ResNet recipe), biases ``zeros_``. Norm layers keep their constructed ones and
    zeros. A tied parameter is initialized once, by its first owner (as xinit does).
    """
    seen: set[int] = set()
    with torch.no_grad():
        for module in model.modules():
            for pname, p in module.named_parameters(recurse=False):
                if id(p) in seen:
                    continue
                seen.add(id(p))
                if pname == "bias":
                    nn.init.zeros_(p)
                elif isinstance(module, nn.Linear):
                    nn.init.xavier_uniform_(p)
                elif isinstance(module, nn.Embedding):
                    nn.init.normal_(p, 0.0, 0.02)
                elif isinstance(module, nn.Conv2d):
                    nn.init.kaiming_normal_(p, mode="fan_out", nonlinearity="relu")
    return model


def xinit_recipe() -> Any:
    """The same recipe as :func:`torch_recipe`, as xinit ``Rules`` (torch's defaults elsewhere)."""
    import xinit
    from xinit.adapters.torch import Rule, Rules

    return Rules(
        Rule(xinit.zeros(), name="bias"),
        Rule(xinit.xavier_uniform(), module="linear", name="weight"),
        Rule(xinit.normal(0.0, 0.02), module="embedding"),
        Rule(xinit.kaiming_normal(mode="fan_out", nonlinearity="relu"), module="conv"),
        fallback="torch",
    )


# --------------------------------------------------------------------------- Flax linen


def linen_model(name: str, size: str) -> tuple[Any, Any]:
    """The linen module and an example input for ``module.init``."""
    import jax.numpy as jnp

    cfg = CONFIGS[name][size]
    if name == "gpt2":
        return _linen_classes()["gpt2"](cfg), jnp.zeros((1, 8), jnp.int32)
    if name == "resnet50":
        return _linen_classes()["resnet50"](cfg), jnp.zeros((1, 224, 224, 3), jnp.float32)
    raise ValueError(f"no Flax version of {name!r}")


@functools.cache
def _linen_classes() -> dict[str, Any]:
    """Build the linen classes on first use (so torch-only runs never import Flax)."""
    import flax.linen as fnn
    import jax
    import jax.numpy as jnp

    class Block(fnn.Module):
        d: int
        n_head: int

        @fnn.compact
        def __call__(self, x: jax.Array) -> jax.Array:
            b, t, d = x.shape
            h = fnn.LayerNorm(epsilon=1e-5, name="ln1")(x)
            q, k, v = jnp.split(fnn.Dense(3 * d, name="attn")(h), 3, axis=-1)
            q, k, v = (a.reshape(b, t, self.n_head, d // self.n_head) for a in (q, k, v))
            mask = fnn.make_causal_mask(jnp.ones((b, t)))
            att = fnn.dot_product_attention(q, k, v, mask=mask).reshape(b, t, d)
            x = x + fnn.Dense(d, name="proj")(att)
            h = fnn.LayerNorm(epsilon=1e-5, name="ln2")(x)
            h = fnn.Dense(d, name="fc_proj")(jax.nn.gelu(fnn.Dense(4 * d, name="fc")(h)))
            return x + h

    class GPT2(fnn.Module):
        cfg: GPT2Config

        @fnn.compact
        def __call__(self, idx: jax.Array) -> jax.Array:
            c = self.cfg
            wte = fnn.Embed(c.vocab, c.d, name="wte")
            x = wte(idx) + fnn.Embed(c.ctx, c.d, name="wpe")(jnp.arange(idx.shape[1]))
            for i in range(c.n_layer):
                x = Block(c.d, c.n_head, name=f"h_{i}")(x)
            return wte.attend(fnn.LayerNorm(epsilon=1e-5, name="ln_f")(x))

    def bn(name: str) -> fnn.BatchNorm:
        return fnn.BatchNorm(use_running_average=True, momentum=0.9, epsilon=1e-5, name=name)

    class Bottleneck(fnn.Module):
        cin: int
        width: int
        stride: int

        @fnn.compact
        def __call__(self, x: jax.Array) -> jax.Array:
            w, s, cout = self.width, self.stride, 4 * self.width
            y = jax.nn.relu(bn("bn1")(fnn.Conv(w, (1, 1), use_bias=False, name="conv1")(x)))
            y = fnn.Conv(w, (3, 3), (s, s), padding=1, use_bias=False, name="conv2")(y)
            y = jax.nn.relu(bn("bn2")(y))
            y = bn("bn3")(fnn.Conv(cout, (1, 1), use_bias=False, name="conv3")(y))
            if s != 1 or self.cin != cout:
                x = fnn.Conv(cout, (1, 1), (s, s), use_bias=False, name="downsample_0")(x)
                x = bn("downsample_1")(x)
            return jax.nn.relu(x + y)

    class ResNet(fnn.Module):
        cfg: ResNetConfig

        @fnn.compact
        def __call__(self, x: jax.Array) -> jax.Array:
            c = self.cfg
            x = fnn.Conv(c.width, (7, 7), (2, 2), padding=3, use_bias=False, name="conv1")(x)
            x = jax.nn.relu(bn("bn1")(x))
            x = fnn.max_pool(x, (3, 3), (2, 2), padding=((1, 1), (1, 1)))
            specs = iter(_stages(c))
            for stage, blocks in enumerate(c.layers):
                for j in range(blocks):
                    x = Bottleneck(*next(specs), name=f"layer{stage + 1}_{j}")(x)
            return fnn.Dense(c.classes, name="fc")(x.mean(axis=(1, 2)))

    return {"gpt2": GPT2, "resnet50": ResNet}


# --------------------------------------------------------------------------- Flax nnx


def nnx_model(name: str, size: str, seed: int = 0) -> Any:
    """Construct the nnx module (Flax's default init runs, eagerly)."""
    from flax import nnx

    return _nnx_classes()[name](CONFIGS[name][size], nnx.Rngs(seed))


@functools.cache
def _nnx_classes() -> dict[str, Any]:
    """Build the nnx classes on first use."""
    from flax import nnx

    class Block(nnx.Module):
        def __init__(self, d: int, rngs: nnx.Rngs) -> None:
            self.ln1 = nnx.LayerNorm(d, epsilon=1e-5, rngs=rngs)
            self.attn = nnx.Linear(d, 3 * d, rngs=rngs)
            self.proj = nnx.Linear(d, d, rngs=rngs)
            self.ln2 = nnx.LayerNorm(d, epsilon=1e-5, rngs=rngs)
            self.fc = nnx.Linear(d, 4 * d, rngs=rngs)
            self.fc_proj = nnx.Linear(4 * d, d, rngs=rngs)

    class GPT2(nnx.Module):
        def __init__(self, cfg: GPT2Config, rngs: nnx.Rngs) -> None:
            self.wte = nnx.Embed(cfg.vocab, cfg.d, rngs=rngs)
            self.wpe = nnx.Embed(cfg.ctx, cfg.d, rngs=rngs)
            self.h = nnx.List([Block(cfg.d, rngs) for _ in range(cfg.n_layer)])
            self.ln_f = nnx.LayerNorm(cfg.d, epsilon=1e-5, rngs=rngs)

    def bn(n: int, rngs: nnx.Rngs) -> nnx.BatchNorm:
        return nnx.BatchNorm(n, momentum=0.9, epsilon=1e-5, rngs=rngs)

    class Bottleneck(nnx.Module):
        def __init__(self, cin: int, width: int, stride: int, rngs: nnx.Rngs) -> None:
            cout, s = 4 * width, stride
            self.conv1 = nnx.Conv(cin, width, (1, 1), use_bias=False, rngs=rngs)
            self.bn1 = bn(width, rngs)
            self.conv2 = nnx.Conv(
                width, width, (3, 3), (s, s), padding=1, use_bias=False, rngs=rngs
            )
            self.bn2 = bn(width, rngs)
            self.conv3 = nnx.Conv(width, cout, (1, 1), use_bias=False, rngs=rngs)
            self.bn3 = bn(cout, rngs)
            self.downsample = nnx.data(None)
            if s != 1 or cin != cout:
                conv = nnx.Conv(cin, cout, (1, 1), (s, s), use_bias=False, rngs=rngs)
                self.downsample = nnx.List([conv, bn(cout, rngs)])

    class ResNet(nnx.Module):
        def __init__(self, cfg: ResNetConfig, rngs: nnx.Rngs) -> None:
            self.conv1 = nnx.Conv(
                3, cfg.width, (7, 7), (2, 2), padding=3, use_bias=False, rngs=rngs
            )
            self.bn1 = bn(cfg.width, rngs)
            specs = iter(_stages(cfg))
            for stage, blocks in enumerate(cfg.layers):
                layer = nnx.List([Bottleneck(*next(specs), rngs) for _ in range(blocks)])
                setattr(self, f"layer{stage + 1}", layer)
            cout = 4 * cfg.width * 2 ** (len(cfg.layers) - 1)
            self.fc = nnx.Linear(cout, cfg.classes, rngs=rngs)

    return {"gpt2": GPT2, "resnet50": ResNet}


def nnx_factory(name: str, size: str) -> Callable[[], Any]:
    """A function building the nnx model, for ``init_nnx`` (evaluated abstractly there)."""
    return lambda: nnx_model(name, size)


def has_flax(name: str) -> bool:
    """Whether the model has Flax versions."""
    return name in ("gpt2", "resnet50")
