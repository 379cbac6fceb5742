"""xinit.adapters.torch: init_module, materialize and the schemes, against torch itself.

The "torch" scheme is compared, parameter by parameter, with PyTorch's own
``reset_parameters`` for every layer type of ``torch.nn`` that has parameters:
a two-sample KS test on at least 10^4 values per parameter (fixed seeds) for
random parameters, exact equality for deterministic ones (norms, zeroed
biases, padding rows). The rest checks the contract: no copy, the same
Parameter objects, ties, meta materialization, path-derived keys, rules and
errors that leave the model unchanged.
"""

from __future__ import annotations

import copy
import gc
import importlib
import inspect
import json
import math
import os
import pkgutil
import subprocess
import sys
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

import xinit
from xinit.adapters import _generate
from xinit.adapters import torch as xt
from xinit.adapters.torch import _handover, _module

N_SAMPLES = 10_000
KS_P = 1e-3


# -- every torch.nn layer type that has parameters ---------------------------------------


def _transformer() -> nn.Module:
    return nn.Transformer(
        d_model=64,
        nhead=2,
        num_encoder_layers=1,
        num_decoder_layers=1,
        dim_feedforward=96,
        batch_first=True,
    )


LAYERS: dict[str, Callable[[], nn.Module]] = {
    "Linear": lambda: nn.Linear(40, 250),
    "Linear-nobias": lambda: nn.Linear(40, 250, bias=False),
    "Bilinear": lambda: nn.Bilinear(6, 5, 40),
    "Conv1d": lambda: nn.Conv1d(6, 40, 5),
    "Conv2d-groups": lambda: nn.Conv2d(8, 40, 3, groups=2),
    "Conv3d": lambda: nn.Conv3d(4, 40, 2),
    "ConvTranspose1d": lambda: nn.ConvTranspose1d(6, 40, 5),
    "ConvTranspose2d-groups": lambda: nn.ConvTranspose2d(8, 40, 3, groups=4),
    "ConvTranspose3d": lambda: nn.ConvTranspose3d(4, 40, 2),
    "Embedding-padding": lambda: nn.Embedding(400, 30, padding_idx=-2),
    "EmbeddingBag": lambda: nn.EmbeddingBag(400, 30, padding_idx=0),
    "LayerNorm": lambda: nn.LayerNorm((4, 8)),
    "GroupNorm": lambda: nn.GroupNorm(4, 32),
    "RMSNorm": lambda: nn.RMSNorm(32),
    "BatchNorm1d": lambda: nn.BatchNorm1d(32),
    "BatchNorm2d": lambda: nn.BatchNorm2d(32),
    "BatchNorm3d": lambda: nn.BatchNorm3d(32),
    "SyncBatchNorm": lambda: nn.SyncBatchNorm(32),
    "InstanceNorm2d-affine": lambda: nn.InstanceNorm2d(32, affine=True),
    "RNN": lambda: nn.RNN(6, 40, num_layers=2),
    "LSTM-bidir-proj": lambda: nn.LSTM(6, 40, bidirectional=True, proj_size=8),
    "GRU": lambda: nn.GRU(6, 40),
    "RNNCell": lambda: nn.RNNCell(6, 40),
    "LSTMCell": lambda: nn.LSTMCell(6, 40),
    "GRUCell": lambda: nn.GRUCell(6, 40),
    "MultiheadAttention": lambda: nn.MultiheadAttention(32, 4),
    "MultiheadAttention-kv": lambda: nn.MultiheadAttention(
        32, 4, kdim=12, vdim=20, add_bias_kv=True
    ),
    "MultiheadAttention-nobias": lambda: nn.MultiheadAttention(32, 4, bias=False),
    "PReLU": lambda: nn.PReLU(24, init=0.1),
    "TransformerEncoderLayer": lambda: nn.TransformerEncoderLayer(64, 2, 96, batch_first=True),
    "TransformerDecoderLayer": lambda: nn.TransformerDecoderLayer(64, 2, 96, batch_first=True),
    "Transformer": _transformer,
    "AdaptiveLogSoftmaxWithLoss": lambda: nn.AdaptiveLogSoftmaxWithLoss(16, 120, cutoffs=[40]),
    "LinearCrossEntropyLoss": lambda: nn.LinearCrossEntropyLoss(40, 250, bias=True),
}


def _reps(m: nn.Module) -> int:
    """Repetitions that give every random parameter at least N_SAMPLES values."""
    smallest = min((p.numel() for p in m.parameters() if p.detach().std() > 0), default=N_SAMPLES)
    return math.ceil(N_SAMPLES / smallest)


def _collect(reps: int, fill: Callable[[int], nn.Module]) -> dict[str, np.ndarray]:
    out: dict[str, list[np.ndarray]] = {}
    for r in range(reps):
        for name, p in fill(r).named_parameters():
            out.setdefault(name, []).append(p.detach().numpy().ravel().copy())
    return {k: np.concatenate(v) for k, v in out.items()}


@pytest.mark.parametrize("layer", list(LAYERS), ids=list(LAYERS))
def test_torch_scheme_matches_reset_parameters(layer: str) -> None:
    make = LAYERS[layer]
    m = make()
    reps = _reps(m)  # from torch's own init, done by the constructor
    ours = _collect(reps, lambda r: xt.init_module(m, "torch", seed=r))

    def construct(r: int) -> nn.Module:  # PyTorch's own init runs in the constructor
        torch.manual_seed(1000 + r)
        return make()

    theirs = _collect(reps, construct)
    assert ours.keys() == theirs.keys()
    for name, t in theirs.items():
        x = ours[name]
        assert x.size == t.size
        if t.std() == 0:  # deterministic in torch: norms, zeroed biases, PReLU
            np.testing.assert_array_equal(x, t, err_msg=f"{layer}.{name}")
            continue
        assert x.size >= N_SAMPLES
        p = stats.ks_2samp(x, t).pvalue
        assert p > KS_P, f"{layer}.{name}: KS p={p:.2e}, std {x.std():.4g} vs {t.std():.4g}"


@pytest.mark.parametrize("layer", ["Embedding-padding", "EmbeddingBag"])
def test_padding_row_is_zero(layer: str) -> None:
    m = xt.init_module(LAYERS[layer](), seed=3)
    w = m.weight.detach()
    assert torch.count_nonzero(w[m.padding_idx]) == 0
    assert torch.count_nonzero(w) == w.numel() - w.shape[1]


def test_uniform_bounds_are_torch_bounds() -> None:
    m = xt.init_module(nn.Conv2d(8, 4096, 3, groups=2), seed=0)
    bound = 1 / math.sqrt(4 * 9)  # (in / groups) * k
    for p in (m.weight, m.bias):
        a = p.detach().numpy()
        assert a.min() >= -bound and a.max() < bound
        assert a.max() > bound * 0.95 and a.min() < -bound * 0.95
    lstm = xt.init_module(nn.LSTM(4, 50), seed=0)
    assert all(p.abs().max() <= 1 / math.sqrt(50) for p in lstm.parameters())


# -- the "flax" scheme ----------------------------------------------------------------------


def test_flax_scheme_matches_flax_defaults() -> None:
    flax_nnx = pytest.importorskip("flax.nnx")
    ours, theirs = [], []
    for r in range(20):
        lin = xt.init_module(nn.Linear(64, 32), "flax", seed=r)
        assert torch.count_nonzero(lin.bias) == 0
        ours.append(lin.weight.detach().numpy().T.ravel())
        k = flax_nnx.Linear(64, 32, rngs=flax_nnx.Rngs(r))
        theirs.append(np.asarray(k.kernel[...]).ravel())
    assert stats.ks_2samp(np.concatenate(ours), np.concatenate(theirs)).pvalue > KS_P
    emb = xt.init_module(nn.Embedding(1000, 64), "flax", seed=0).weight.detach().numpy()
    ref = np.asarray(flax_nnx.Embed(1000, 64, rngs=flax_nnx.Rngs(0)).embedding[...])
    assert stats.ks_2samp(emb.ravel(), ref.ravel()).pvalue > KS_P


def test_flax_scheme_recurrent_kernels_are_orthogonal_per_gate() -> None:
    lstm = xt.init_module(nn.LSTM(8, 16), "flax", seed=0)
    w = lstm.weight_hh_l0.detach().double()
    for g in range(4):
        block = w[16 * g : 16 * (g + 1)]
        torch.testing.assert_close(
            block @ block.T, torch.eye(16, dtype=torch.float64), atol=1e-5, rtol=0
        )


# -- no copy, same objects, ties ----------------------------------------------------------


@pytest.fixture
def handovers(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(JAX buffer pointer, torch data_ptr) of every array handed over."""
    seen: list[tuple[int, int]] = []
    original = _module.to_torch

    def spy(array, device, dtype):  # type: ignore[no-untyped-def]
        tensor = original(array, device, dtype)
        seen.append((array.unsafe_buffer_pointer(), tensor.data_ptr()))
        return tensor

    monkeypatch.setattr(_module, "to_torch", spy)
    return seen


class TiedLM(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(50, 16)
        self.body = nn.Sequential(nn.Linear(16, 16), nn.LayerNorm(16))
        self.head = nn.Linear(16, 50, bias=False)
        self.head.weight = self.emb.weight


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_init_module_hands_over_without_copy(
    dtype: torch.dtype, handovers: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every tensor whole (none cut into shared windows, which are copied):
    monkeypatch.setattr(_generate, "WHOLE_FROM", 1)
    m = TiedLM().to(dtype)
    params = dict(m.named_parameters())
    xt.init_module(m, seed=0)
    assert len(handovers) == len(params)
    pointers = {jax_ptr for jax_ptr, _ in handovers}
    for name, p in m.named_parameters():
        assert p is params[name]  # the same Parameter objects
        assert p.dtype == dtype
        assert p.data_ptr() in pointers, name  # the JAX buffer itself
    assert all(j == t for j, t in handovers)


class Wide(nn.Module):
    """One tensor of WHOLE_FROM elements and small ones of several shapes and schemes."""

    def __init__(self) -> None:
        super().__init__()
        self.big = nn.Linear(1024, 1024)  # weight: 2**20 elements, generated whole
        self.small = nn.Linear(1024, 3000)  # weight 3,072,000: whole; bias 3000: one window
        self.conv = nn.Conv2d(16, 40, 5)  # 16,000 elements: one 2**16 window
        self.mid = nn.Linear(700, 600)  # 420,000 elements: seven 2**16 windows
        self.norm = nn.LayerNorm(5000)  # 5000 > 2**12: one 2**16 window
        self.emb = nn.Embedding(9, 3, padding_idx=2)  # a zero row: generated as a whole shape


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_windows_equal_whole_shapes(
    dtype: torch.dtype, handovers: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small tensors come from shared windows, copied; large ones (and those that
    cannot be cut) are handed over whole.
    The values are those of one whole-shape program per tensor, bit for bit."""
    pieces = {
        name: _generate.cuts(info, a, xinit.DEFAULT_IMPL)
        for name, info, a in (
            (e.info.path, e.info, a)
            for e, a in _module._plan(list(_module.walk(Wide())), "torch", allow_keep=True)
        )
    }
    assert pieces["big.weight"] == [(0, 2**20)]
    assert pieces["small.bias"] == [(0, 2**12)]
    assert pieces["conv.weight"] == [(0, 2**16)]
    assert len(pieces["mid.weight"]) == 7
    assert pieces["emb.weight"] is None
    windowed = xt.init_module(Wide().to(dtype), seed=4)
    whole_pointers = {t for _, t in handovers}
    for name, p in windowed.named_parameters():
        assert (p.data_ptr() in whole_pointers) == (
            name in ("big.weight", "small.weight", "emb.weight")
        ), name
    monkeypatch.setattr(_module, "cuts", lambda *args: None)
    whole = xt.init_module(Wide().to(dtype), seed=4)
    for (name, p), (_, q) in zip(
        windowed.named_parameters(), whole.named_parameters(), strict=True
    ):
        assert p.dtype == dtype and p.shape == q.shape
        assert torch.equal(
            p.view(torch.int16 if dtype == torch.bfloat16 else torch.int32),
            q.view(torch.int16 if dtype == torch.bfloat16 else torch.int32),
        ), name


def test_tied_parameters_keep_the_first_owners_init() -> None:
    m = xt.init_module(TiedLM(), seed=5)
    assert m.head.weight is m.emb.weight
    expected = xinit.normal(0.0, 1.0)(xinit.key_for(5, "emb.weight"), (50, 16))
    np.testing.assert_array_equal(m.head.weight.detach().numpy(), np.asarray(expected))


def test_optimizer_hooks_and_requires_grad_survive() -> None:
    m = nn.Sequential(nn.Linear(8, 4), nn.Linear(4, 2))
    m[1].bias.requires_grad_(False)
    opt = torch.optim.SGD(m.parameters(), lr=0.5)
    calls = []
    m[0].weight.register_hook(lambda g: calls.append(g.shape))
    xt.init_module(m, seed=1)
    gc.collect()
    before = {n: p.detach().clone() for n, p in m.named_parameters()}
    m(torch.ones(3, 8)).sum().backward()
    opt.step()
    assert calls == [torch.Size([4, 8])]
    assert not m[1].bias.requires_grad
    torch.testing.assert_close(m[1].bias, before["1.bias"], rtol=0, atol=0)
    for name in ("0.weight", "0.bias", "1.weight"):
        p = dict(m.named_parameters())[name]
        torch.testing.assert_close(p.detach(), before[name] - 0.5 * p.grad, rtol=0, atol=1e-7)


def test_channels_last_weight_keeps_its_memory_format() -> None:
    conv = nn.Conv2d(4, 8, 3).to(memory_format=torch.channels_last)
    ref = xt.init_module(nn.Conv2d(4, 8, 3), seed=2)
    xt.init_module(conv, seed=2)
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(conv.weight, ref.weight, rtol=0, atol=0)


def test_float64_equals_float32_widened() -> None:
    a = xt.init_module(nn.Linear(6, 5), seed=4)
    b = xt.init_module(nn.Linear(6, 5).double(), seed=4)
    assert b.weight.dtype == torch.float64
    torch.testing.assert_close(b.weight, a.weight.double(), rtol=0, atol=0)


# -- materialize ----------------------------------------------------------------------------


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(30, 8, padding_idx=0)
        self.conv = nn.Conv1d(8, 8, 3, padding=1)
        self.bn = nn.BatchNorm1d(8)
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.head = nn.Linear(8, 30)
        self.head.weight = self.emb.weight


def test_materialize_equals_init_module(monkeypatch: pytest.MonkeyPatch, handovers: list) -> None:
    monkeypatch.setattr(_generate, "WHOLE_FROM", 1)  # every parameter handed over whole
    torch.manual_seed(0)
    eager = xt.init_module(Net(), seed=11)
    with torch.device("meta"):
        lazy = Net()

    def forbidden(self):  # type: ignore[no-untyped-def]
        raise AssertionError("a default init ran during materialize")

    monkeypatch.setattr(nn.Linear, "reset_parameters", forbidden)
    monkeypatch.setattr(nn.Embedding, "reset_parameters", forbidden)
    xt.materialize(lazy, seed=11)
    assert lazy.head.weight is lazy.emb.weight
    for (n, p), (n2, q) in zip(eager.named_parameters(), lazy.named_parameters(), strict=True):
        assert n == n2 and isinstance(q, nn.Parameter) and q.device.type == "cpu"
        torch.testing.assert_close(q, p, rtol=0, atol=0)
    pointers = {t for _, t in handovers}
    assert all(q.data_ptr() in pointers for q in lazy.parameters())
    assert torch.equal(lazy.bn.running_mean, torch.zeros(8))
    assert torch.equal(lazy.bn.running_var, torch.ones(8))
    assert (
        lazy.bn.num_batches_tracked.dtype == torch.int64 and int(lazy.bn.num_batches_tracked) == 0
    )
    out, _ = lazy.attn(torch.ones(1, 3, 8), torch.ones(1, 3, 8), torch.ones(1, 3, 8))
    assert torch.isfinite(out).all()


def _run_child(code: str, cwd: Path) -> Any:
    """Run ``code`` in a fresh interpreter; return the JSON its last line prints."""
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
        cwd=cwd,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_materialize_peak_memory_is_close_to_the_parameters(tmp_path) -> None:
    code = r"""
import json, resource, torch, xinit
from torch import nn
from xinit.adapters.torch import materialize
xinit.uniform()(xinit.key(0), (8,))  # JAX runtime up
with torch.device("meta"):
    m = nn.Sequential(*[nn.Linear(2048, 2048) for _ in range(12)])  # 201 MB
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
materialize(m, seed=0)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps([base, peak, sum(p.numel() * 4 for p in m.parameters())]))
"""
    base, peak, nbytes = _run_child(code, tmp_path)
    assert peak - base <= 1.2 * nbytes, (peak - base) / nbytes


# -- keys from paths -----------------------------------------------------------------------


def _seq(*names: str) -> nn.Module:
    sizes = {"a": (4, 6), "b": (6, 8), "c": (8, 3), "extra": (3, 3)}
    return nn.Sequential(OrderedDict((n, nn.Linear(*sizes[n])) for n in names))


def test_values_depend_on_the_path_only() -> None:
    base = dict(xt.init_module(_seq("a", "b", "c"), seed=7).named_parameters())
    other = dict(xt.init_module(_seq("c", "extra", "a"), seed=7).named_parameters())
    for name in ("a.weight", "a.bias", "c.weight", "c.bias"):
        torch.testing.assert_close(other[name], base[name], rtol=0, atol=0)
    w = xinit.torch_default_weight()(xinit.key_for(7, "b.weight"), (8, 6))
    np.testing.assert_array_equal(base["b.weight"].detach().numpy(), np.asarray(w))
    bias = xinit.torch_default_bias()(xinit.key_for(7, "b.bias"), (8,), fan_in=6)
    np.testing.assert_array_equal(base["b.bias"].detach().numpy(), np.asarray(bias))
    again = dict(xt.init_module(_seq("a", "b", "c"), seed=8).named_parameters())
    assert not torch.equal(again["a.weight"], base["a.weight"])


def test_same_values_in_a_fresh_process(tmp_path) -> None:
    code = (
        "import json, torch\nfrom xinit.adapters.torch import init_module\n"
        "m = init_module(torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Embedding(6, 3)), seed=99)\n"
        "print(json.dumps({n: p.detach().numpy().ravel().tolist() for n, p in m.named_parameters()}))\n"
    )
    theirs = _run_child(code, tmp_path)
    ours = xt.init_module(nn.Sequential(nn.Linear(5, 4), nn.Embedding(6, 3)), seed=99)
    for name, p in ours.named_parameters():
        np.testing.assert_array_equal(p.detach().numpy().ravel(), np.float32(theirs[name]))


# -- rules ---------------------------------------------------------------------------------


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c_fc = nn.Linear(16, 64)
        self.c_proj = nn.Linear(64, 16)
        self.ln = nn.LayerNorm(16)


class GPT(nn.Module):
    def __init__(self, n: int = 2) -> None:
        super().__init__()
        self.wte = nn.Embedding(500, 16)
        self.h = nn.ModuleList(Block() for _ in range(n))


def gpt2_rules() -> xt.Rules:
    return xt.Rules(
        xt.Rule(xinit.normal(0.0, 0.02 / math.sqrt(2 * 2)), name="*.c_proj.weight"),
        xt.Rule(xinit.xavier_uniform(), module=nn.Linear, name="weight"),
        xt.Rule(xinit.normal(0.0, 0.02), module="embedding"),
        xt.Rule(xinit.zeros(), name="bias", ndim=1),
        fallback="torch",
    )


def test_rules_scheme() -> None:
    m = xt.init_module(GPT(), gpt2_rules(), seed=0)
    p = dict(m.named_parameters())
    np.testing.assert_array_equal(
        p["h.0.c_proj.weight"].detach().numpy(),
        np.asarray(xinit.normal(0.0, 0.01)(xinit.key_for(0, "h.0.c_proj.weight"), (16, 64))),
    )
    np.testing.assert_array_equal(
        p["h.1.c_fc.weight"].detach().numpy(),
        np.asarray(xinit.xavier_uniform()(xinit.key_for(0, "h.1.c_fc.weight"), (64, 16))),
    )
    assert abs(float(p["wte.weight"].detach().std()) - 0.02) < 0.001
    assert all(torch.count_nonzero(v) == 0 for k, v in p.items() if k.endswith("bias"))
    assert torch.equal(p["h.0.ln.weight"], torch.ones(16))  # the torch fallback


def test_rules_without_fallback_name_the_unmatched_parameters() -> None:
    m = GPT()
    before = {n: p.detach().clone() for n, p in m.named_parameters()}
    rules = xt.Rules(xt.Rule(xinit.zeros(), name="bias"))
    with pytest.raises(ValueError, match=r"'wte.weight' \(Embedding\)"):
        xt.init_module(m, rules, seed=0)
    for n, p in m.named_parameters():
        assert torch.equal(p, before[n])


def test_keep_fallback_keeps_values() -> None:
    m = GPT()
    before = m.wte.weight.detach().clone()
    xt.init_module(m, xt.Rules(xt.Rule(xinit.zeros(), module=nn.Linear), fallback="keep"), seed=0)
    assert torch.equal(m.wte.weight, before)
    assert torch.count_nonzero(m.h[0].c_fc.weight) == 0
    with torch.device("meta"):
        lazy = GPT()
    with pytest.raises(ValueError, match="has nothing to keep"):
        xt.materialize(lazy, xt.Rules(fallback="keep"), seed=0)


def test_rule_torch_default_bias_uses_the_weights_fan_in() -> None:
    rules = xt.Rules(xt.Rule(xinit.torch_default_bias(), name="bias"), fallback="torch")
    m = xt.init_module(nn.Linear(9, 4000), rules, seed=0)
    assert m.bias.abs().max() < 1 / 3 and m.bias.abs().max() > 0.32


@pytest.mark.parametrize(
    ("build", "error"),
    [
        (lambda: xt.Rule("xavier"), TypeError),
        (lambda: xt.Rule(xinit.zeros(), module="dense"), ValueError),
        (lambda: xt.Rule(xinit.zeros(), module=3), TypeError),
        (lambda: xt.Rule(xinit.zeros(), ndim=-1), ValueError),
        (lambda: xt.Rule(xinit.zeros(), name=""), TypeError),
        (lambda: xt.Rules(xinit.zeros()), TypeError),
        (lambda: xt.Rules(fallback="jax"), ValueError),
    ],
)
def test_bad_rules_fail_when_built(build: Callable[[], object], error: type) -> None:
    with pytest.raises(error):
        build()


# -- bad input leaves the model as it was -----------------------------------------------


def _snapshot(m: nn.Module) -> dict[str, tuple[int, torch.Tensor]]:
    return {n: (p.data_ptr(), p.detach().clone()) for n, p in m.named_parameters()}


def _assert_unchanged(m: nn.Module, snap: dict[str, tuple[int, torch.Tensor]]) -> None:
    for n, p in m.named_parameters():
        assert p.data_ptr() == snap[n][0], n
        assert torch.equal(p, snap[n][1]), n


@pytest.mark.parametrize(
    ("scheme", "seed", "error", "match"),
    [
        ("jax", 0, ValueError, "scheme must be one of"),
        (42, 0, TypeError, "scheme must be"),
        ("torch", -1, ValueError, "seed"),
        ("torch", 1.5, TypeError, "seed"),
        ("torch", 2**64, ValueError, "seed"),
        (
            xt.Rules(xt.Rule(xinit.xavier_uniform()), fallback="torch"),
            0,
            ValueError,
            r"parameter 'h.0.c_fc.bias' .*fewer than 2 dimensions",
        ),
    ],
)
def test_bad_input_changes_nothing(scheme, seed, error, match) -> None:  # type: ignore[no-untyped-def]
    m = GPT()
    snap = _snapshot(m)
    with pytest.raises(error, match=match):
        xt.init_module(m, scheme, seed=seed)
    _assert_unchanged(m, snap)


def test_an_integer_parameter_is_refused_by_name() -> None:
    m = GPT()
    m.h[1].ln.weight = nn.Parameter(torch.ones(16, dtype=torch.int64), requires_grad=False)
    snap = _snapshot(m)
    with pytest.raises(
        TypeError, match=r"parameter 'h.1.ln.weight': dtype torch.int64 is not supported"
    ):
        xt.init_module(m, seed=0)
    _assert_unchanged(m, snap)


def test_meta_and_real_parameters_go_to_the_right_function() -> None:
    with torch.device("meta"):
        lazy = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="use materialize"):
        xt.init_module(lazy, seed=0)
    assert lazy.weight.is_meta
    with pytest.raises(ValueError, match="use init_module"):
        xt.materialize(nn.Linear(3, 2), seed=0)
    with pytest.raises(ValueError, match="device must be a real device"):
        xt.materialize(lazy, seed=0, device="meta")


def test_unknown_layers_and_lazy_modules_are_named() -> None:
    class Scale(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.alpha = nn.Parameter(torch.ones(3))

    with pytest.raises(ValueError, match=r"'1.alpha' \(Scale\)"):
        xt.init_module(nn.Sequential(nn.Linear(3, 3), Scale()), seed=0)
    with pytest.raises(ValueError, match="'weight' of LazyLinear is uninitialized"):
        xt.init_module(nn.LazyLinear(3), seed=0)
    with pytest.raises(TypeError, match=r"torch\.nn\.Module"):
        xt.init_module("model", seed=0)  # type: ignore[arg-type]


def test_meta_buffers_without_a_standard_value_are_refused() -> None:
    class Rope(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.proj = nn.Linear(4, 4)
            self.register_buffer("inv_freq", torch.ones(2))

    with torch.device("meta"):
        m = Rope()
    with pytest.raises(ValueError, match="inv_freq"):
        xt.materialize(m, seed=0)
    assert m.proj.weight.is_meta


def test_device_fallback_warns() -> None:
    assert _handover.jax_device(torch.device("cpu")) is not None
    assert _handover.jax_device(torch.device("mps")) is None
    with (
        pytest.warns(xt.DeviceFallbackWarning, match="JAX cannot reach torch device mps"),
        _handover.on_device(torch.device("mps")) as dev,
    ):
        assert dev.platform == "cpu"


def test_every_torch_nn_layer_with_parameters_is_in_the_table() -> None:
    """Guards the parity table: every torch.nn class that declares parameters
    (its own source creates a Parameter) has a subclass in LAYERS, so a new
    torch layer with parameters shows up here."""
    covered = [type(make()) for make in LAYERS.values()]
    skip = {"Module", "ParameterList", "ParameterDict", "_LazyNormBase"}
    missing = []
    for info in pkgutil.iter_modules(torch.nn.modules.__path__):
        mod = importlib.import_module(f"torch.nn.modules.{info.name}")
        for name, cls in vars(mod).items():
            if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
                continue
            if cls.__module__ != mod.__name__ or name in skip or name.startswith("Lazy"):
                continue
            source = inspect.getsource(cls)
            declares = "Parameter(" in source or "register_parameter" in source
            if declares and not any(issubclass(c, cls) for c in covered):
                missing.append(name)
    assert not missing, f"add these layers to LAYERS: {missing}"


def test_failure_part_way_through_generation_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    m = GPT()
    snap = _snapshot(m)
    original, calls = _module._arrays, []

    def failing(entry, a, root, pieces):  # type: ignore[no-untyped-def]
        calls.append(entry.info.path)
        if len(calls) == 4:
            raise MemoryError("RESOURCE_EXHAUSTED: out of memory")
        return original(entry, a, root, pieces)

    monkeypatch.setattr(_module, "_arrays", failing)
    with pytest.raises(MemoryError):
        xt.init_module(m, seed=0)
    _assert_unchanged(m, snap)
    with torch.device("meta"):
        lazy = GPT()
    calls.clear()
    with pytest.raises(MemoryError):
        xt.materialize(lazy, seed=0)
    assert all(p.is_meta for p in lazy.parameters())


# -- real models ------------------------------------------------------------------------------


class ResNetish(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 16, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(16), nn.ReLU()
        )
        self.block = nn.Sequential(
            nn.Conv2d(16, 16, 3, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.Conv2d(16, 16, 3, padding=1, bias=False),
            nn.BatchNorm2d(16),
        )
        self.down = nn.Sequential(nn.Conv2d(16, 32, 1, stride=2, bias=False), nn.BatchNorm2d(32))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = torch.relu(x + self.block(x))
        return self.fc(self.pool(self.down(x)).flatten(1))


class GPTish(nn.Module):
    def __init__(self, vocab: int = 100, d: int = 32, n: int = 2) -> None:
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(16, d)
        layer = nn.TransformerEncoderLayer(d, 4, 4 * d, batch_first=True, norm_first=True)
        self.h = nn.TransformerEncoder(layer, n, enable_nested_tensor=False)
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        self.head.weight = self.wte.weight

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        return self.head(self.ln_f(self.h(x, is_causal=False)))


@pytest.mark.parametrize("scheme", ["torch", "flax", "gpt2"])
@pytest.mark.parametrize("arch", [ResNetish, GPTish], ids=["resnet", "gpt"])
def test_real_models_train_save_load_copy(
    arch: type[nn.Module], scheme: str, tmp_path: Path
) -> None:
    rules = xt.Rules(
        xt.Rule(xinit.normal(0.0, 0.02), module=("linear", "embedding", "conv"), ndim=(2, 4)),
        xt.Rule(xinit.zeros(), name="*bias*"),
        fallback="torch",
    )
    chosen = rules if scheme == "gpt2" else scheme
    with torch.device("meta"):
        lazy = arch()
    m = xt.materialize(lazy, chosen, seed=3)
    eager = xt.init_module(arch(), chosen, seed=3)
    for (n, p), q in zip(m.named_parameters(), eager.parameters(), strict=True):
        assert torch.equal(p, q), n
    x = torch.randn(2, 3, 32, 32) if arch is ResNetish else torch.randint(0, 100, (2, 16))
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
    before = {n: p.detach().clone() for n, p in m.named_parameters()}
    loss = m(x).square().mean()
    loss.backward()
    opt.step()
    gc.collect()
    assert torch.isfinite(loss)
    assert any(not torch.equal(p, before[n]) for n, p in m.named_parameters())
    torch.save(m.state_dict(), tmp_path / "m.pt")
    fresh = arch()
    fresh.load_state_dict(torch.load(tmp_path / "m.pt"))
    for (n, p), q in zip(m.named_parameters(), fresh.parameters(), strict=True):
        assert torch.equal(p, q), n
    clone = copy.deepcopy(m)
    assert all(torch.equal(p, q) for p, q in zip(m.parameters(), clone.parameters(), strict=True))
    half = clone.to(torch.bfloat16)
    assert all(p.dtype == torch.bfloat16 for p in half.parameters())


@pytest.mark.parametrize("name", ["gpt2", "llama"])
def test_transformers_models_materialize(name: str) -> None:
    transformers = pytest.importorskip("transformers")
    if name == "gpt2":
        config = transformers.GPT2Config(
            n_layer=2, n_embd=64, n_head=4, vocab_size=256, n_positions=64
        )
        cls = transformers.GPT2LMHeadModel
    else:
        config = transformers.LlamaConfig(
            num_hidden_layers=2,
            hidden_size=64,
            intermediate_size=128,
            num_attention_heads=4,
            num_key_value_heads=2,
            vocab_size=256,
        )
        cls = transformers.LlamaForCausalLM
    with torch.device("meta"):
        model = cls(config)
    # Computed buffers (causal masks, rotary tables) have no standard value: filling
    # them is the user's job (docs/torch.md); zeros stand in for them here.
    for mod in model.modules():
        for bname, b in list(mod._buffers.items()):
            if b is not None and b.is_meta and not hasattr(mod, "reset_running_stats"):
                mod._buffers[bname] = torch.zeros(b.shape, dtype=b.dtype)
    rules = xt.Rules(  # transformers' own layers (Conv1D, LlamaRMSNorm) are kind "other"
        xt.Rule(xinit.ones(), module="other", ndim=1, name="weight"),
        xt.Rule(xinit.zeros(), name="bias"),
        xt.Rule(xinit.normal(0.0, 0.02), ndim=2),
        fallback="torch",
    )
    xt.materialize(model, rules, seed=0)
    assert not any(p.is_meta for p in model.parameters())
    emb = model.get_input_embeddings().weight
    assert abs(float(emb.detach().std()) - 0.02) < 0.002


def test_rule_criteria_combine() -> None:
    model = nn.Sequential(OrderedDict(fc=nn.Linear(4, 200), head=nn.Linear(200, 3)))
    rules = xt.Rules(
        xt.Rule(xinit.ones(), where=lambda p: p.shape[0] > 100, ndim=2),  # fc.weight only
        xt.Rule(xinit.constant(2.0), name="head.*"),  # a path glob: head.weight, head.bias
        xt.Rule(xt.KEEP, module="linear", name="bias"),  # fc.bias keeps its values
    )
    before = model.fc.bias.detach().clone()
    xt.init_module(model, rules, seed=0)
    assert torch.equal(model.fc.weight, torch.ones(200, 4))
    assert torch.equal(model.head.weight, torch.full((3, 200), 2.0))
    assert torch.equal(model.head.bias, torch.full((3,), 2.0))
    assert torch.equal(model.fc.bias, before)


@pytest.mark.parametrize(
    ("init", "make", "fan_in"),
    [
        (xinit.lecun_normal(), lambda: nn.Linear(1000, 10), 1000),
        (xinit.he_normal(), lambda: nn.Conv2d(64, 8, 3), 64 * 9),
        (xinit.variance_scaling(1.0, "fan_in", "normal"), lambda: nn.Linear(300, 40), 300),
    ],
    ids=["lecun_normal", "he_normal", "variance_scaling"],
)
def test_flax_layout_initializers_in_rules_get_torch_fans(
    init: xinit.Initializer, make: Callable[[], nn.Module], fan_in: int
) -> None:
    """JAX's initializers default to Flax's layout; on a torch weight their fans are torch's."""
    m = xt.init_module(make(), xt.Rules(xt.Rule(init, name="weight"), fallback="torch"), seed=0)
    scale = 2.0 if init.name == "he_normal" else 1.0
    expected = math.sqrt(scale / fan_in)
    got = float(m.weight.detach().std())
    assert abs(got - expected) < 0.05 * expected, (got, expected)
    ref = init.with_layout("torch")(xinit.key_for(0, "weight"), tuple(m.weight.shape))
    np.testing.assert_array_equal(m.weight.detach().numpy(), np.asarray(ref))


def test_meta_init_skips_torch_init_and_restores_it() -> None:
    original = torch.nn.init.kaiming_uniform_
    with xt.meta_init():
        assert torch.nn.init.kaiming_uniform_ is not original
        lazy = Net()
    assert torch.nn.init.kaiming_uniform_ is original
    assert all(p.is_meta for p in lazy.parameters())
    xt.materialize(lazy, seed=11)
    torch.manual_seed(0)
    eager = xt.init_module(Net(), seed=11)
    for p, q in zip(lazy.parameters(), eager.parameters(), strict=True):
        assert torch.equal(p, q)
    with pytest.raises(RuntimeError, match="boom"), xt.meta_init():
        raise RuntimeError("boom")
    assert torch.nn.init.kaiming_uniform_ is original
    assert torch.empty(2).device.type == "cpu"  # the meta device context ended too
