"""The ``xinit`` command: demo, parity, inspect, catalogue, show, list.

Most tests call ``xinit._cli.main`` in this process (the same code the console
script runs) and check its JSON against values computed here, independently of
the command: weights re-initialized with the adapters, stds from the textbook
formulas, torch's own draws. A few run the real console script to check exit
codes and that errors are one line without a traceback.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special
import scipy.stats
import torch

import xinit
from xinit import _cli
from xinit.adapters import _commands as cmd
from xinit.adapters import _generate
from xinit.adapters import torch as xt

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--layers", "1", "--width", "32", "-q"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = _cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run(capsys, *argv, "--json")
    assert code in (0, 1), err
    return code, json.loads(out)


def _torch_model(layers: int = 1, width: int = 32) -> torch.nn.Module:
    torch_cls, _, _ = cmd.demo_models(layers, width)
    return torch_cls()


# -- demo --------------------------------------------------------------------------------------


def test_demo_json_every_check_passes_and_matches_an_independent_init(capsys) -> None:
    code, out = run_json(capsys, "demo", *SMALL, "--seed", "7")
    assert code == 0 and out["ok"] and out["failures"] == []
    model = xt.init_module(_torch_model(), "torch", seed=7)  # the same init, done here
    params = dict(model.named_parameters())
    rows = {r["name"]: r for r in out["parameters"]}
    assert list(rows) == list(params)  # every parameter, in named_parameters() order
    assert len(rows) == 1 + 16 + 2  # embedding, one block, final LayerNorm
    for name, p in params.items():
        r = rows[name]
        assert r["identical"] is True and r["std_ok"] is True, r
        # fewer than 2**19 values: windows, copied, unless one window is exactly the tensor
        whole = p.numel() == 4096
        assert r["generated"] == ("whole" if whole else "windows") and r["no_copy"] is whole, r
        assert r["torch_shape"] == list(p.shape)
        assert r["measured_std"] == pytest.approx(float(p.detach().double().std(unbiased=False)))
    # Flax layouts and paths
    assert rows["blocks.0.fc.weight"]["torch_shape"] == [128, 32]
    assert rows["blocks.0.fc.weight"]["flax_shape"] == [32, 128]
    assert rows["blocks.0.fc.weight"]["linen_path"] == "blocks_0/fc/kernel"
    assert rows["blocks.0.fc.weight"]["nnx_path"] == "blocks/0/fc/kernel"
    assert rows["emb.weight"]["linen_path"] == "emb/embedding"
    # expected stds from torch's formulas: U(±1/sqrt(fan_in)) has std 1/sqrt(3 fan_in)
    assert rows["blocks.0.fc.weight"]["expected_std"] == pytest.approx(1 / math.sqrt(3 * 32))
    assert rows["blocks.0.proj.weight"]["expected_std"] == pytest.approx(1 / math.sqrt(3 * 128))
    assert rows["blocks.0.proj.bias"]["expected_std"] == pytest.approx(1 / math.sqrt(3 * 128))
    assert rows["emb.weight"]["expected_std"] == 1.0
    assert rows["blocks.0.ln1.weight"]["expected_mean"] == 1.0
    assert out["forward"]["ok"] and out["forward"]["max_abs_diff_nnx"] < 1e-4
    assert out["materialize_matches"] is True
    assert set(out["seconds"]) >= {"torch_build", "init_module", "meta_materialize"}


def test_demo_gpt2_recipe_scales_the_residual_projections(capsys) -> None:
    code, out = run_json(capsys, "demo", "--layers", "2", "--width", "32", "-q", "--scheme", "gpt2")
    assert code == 0, out["failures"]
    rows = {r["name"]: r for r in out["parameters"]}
    residual = 0.02 / math.sqrt(2 * 2)  # GPT-2: 0.02 / sqrt(2 n_layer)
    for name, r in rows.items():
        if name.endswith((".o.weight", ".proj.weight")):
            assert r["expected_std"] == pytest.approx(residual), name
        elif name.endswith("weight") and len(r["torch_shape"]) == 2:
            assert r["expected_std"] == pytest.approx(0.02), name
        elif name.endswith("bias"):
            assert r["expected_mean"] == 0.0 and r["measured_std"] == 0.0, name
        assert r["std_ok"] and r["identical"], name
        assert r["no_copy"] is (r["generated"] == "whole"), name
    assert "4 residual output projections" in out["scheme_description"]


def test_demo_flax_scheme(capsys) -> None:
    code, out = run_json(capsys, "demo", *SMALL, "--scheme", "flax")
    assert code == 0, out["failures"]
    rows = {r["name"]: r for r in out["parameters"]}
    assert rows["blocks.0.q.weight"]["expected_std"] == pytest.approx(1 / math.sqrt(32))
    assert rows["emb.weight"]["expected_std"] == pytest.approx(1 / math.sqrt(32))  # 1/features
    assert rows["blocks.0.q.bias"]["measured_std"] == 0.0


def test_demo_whole_parameters_are_handed_over(capsys, monkeypatch) -> None:
    monkeypatch.setattr(_generate, "WHOLE_FROM", 1)  # every parameter generated whole
    code, out = run_json(capsys, "demo", *SMALL)
    assert code == 0, out["failures"]
    for r in out["parameters"]:
        assert r["generated"] == "whole" and r["no_copy"] is True, r
    assert out["materialize_matches"] is True


def test_demo_table(capsys) -> None:
    code, out, err = run(capsys, "demo", *SMALL)
    assert code == 0, err
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("parameter"))
    for column in ("torch shape", "Flax shape", "= linen = nnx", "no copy", "expected std"):
        assert column in header
    table = [line for line in lines if line.startswith(("emb.", "blocks.", "ln_f."))]
    assert len(table) == 19
    assert all(line.split()[-1] == "yes" for line in table)
    assert "PyTorch: build the model" in out
    assert lines[-1].startswith("All checks passed")
    assert err == ""  # -q: no progress


def test_demo_fails_when_init_module_copies(capsys, monkeypatch) -> None:
    monkeypatch.setattr(_generate, "WHOLE_FROM", 1)  # every parameter generated whole
    original = xt.init_module

    def copying(module, scheme="torch", *, seed):  # type: ignore[no-untyped-def]
        original(module, scheme, seed=seed)
        with torch.no_grad():
            for p in module.parameters():
                p.data = p.data.clone()  # same values, torch-allocated memory
        return module

    monkeypatch.setattr(xt, "init_module", copying)
    code, out = run_json(capsys, "demo", *SMALL)
    assert code == 1 and not out["ok"]
    assert all(r["no_copy"] is False for r in out["parameters"])
    assert all(r["identical"] is True for r in out["parameters"])  # the values are still right
    assert any(f.startswith("copied into torch") for f in out["failures"])


def test_demo_fails_when_values_differ(capsys, monkeypatch) -> None:
    original = xt.init_module

    def nudged(module, scheme="torch", *, seed):  # type: ignore[no-untyped-def]
        original(module, scheme, seed=seed)
        with torch.no_grad():
            module.blocks[0].q.weight.mul_(2.0)  # in place: still JAX's buffer
        return module

    monkeypatch.setattr(xt, "init_module", nudged)
    code, out = run_json(capsys, "demo", *SMALL)
    assert code == 1
    bad = {r["name"] for r in out["parameters"] if not r["identical"]}
    assert bad == {"blocks.0.q.weight"}
    row = next(r for r in out["parameters"] if r["name"] == "blocks.0.q.weight")
    assert row["std_ok"] is False  # twice the std
    assert not out["forward"]["ok"]


# -- the checks themselves ------------------------------------------------------------------------


def test_handed_over_tells_jax_buffers_from_torch_memory() -> None:
    array = jnp.arange(12.0).reshape(3, 4)
    shared = torch.from_dlpack(array)
    assert shared.data_ptr() == array.unsafe_buffer_pointer()
    assert cmd.handed_over(shared)
    assert not cmd.handed_over(shared.clone())
    assert not cmd.handed_over(shared[1:])  # part of a buffer
    assert not cmd.handed_over(torch.randn(3, 4))
    assert not cmd.handed_over(torch.nn.Linear(4, 3).weight)  # PyTorch's own init
    exported = torch.randn(3, 4)
    exported.numpy()  # sharing with NumPy marks storage not resizable: why demo asks first
    assert not exported.untyped_storage().resizable()
    big = xt.init_module(torch.nn.Linear(1024, 1024), seed=0)  # 2**20 values: generated whole
    assert cmd.handed_over(big.weight)
    assert not cmd.handed_over(big.bias)  # 1024 values: copied from a window


def test_expected_stds_are_the_textbook_formulas() -> None:
    fi, fo = 300, 100
    shape = (fo, fi)

    def std(init: xinit.Initializer, fan_in: int = fi, fan_out: int = fo) -> float:
        got = cmd.expected(init, shape, fan_in, fan_out).std
        assert got is not None
        return got

    assert std(xinit.torch_default_weight()) == pytest.approx(1 / math.sqrt(3 * fi))
    assert std(xinit.kaiming_uniform(a=math.sqrt(5))) == pytest.approx(1 / math.sqrt(3 * fi))
    assert std(xinit.kaiming_normal(mode="fan_out", nonlinearity="relu")) == pytest.approx(
        math.sqrt(2 / fo)
    )
    assert std(xinit.xavier_uniform(gain=2.0)) == pytest.approx(2 * math.sqrt(2 / (fi + fo)))
    assert std(xinit.lecun_normal()) == pytest.approx(1 / math.sqrt(fi))
    assert std(xinit.he_uniform()) == pytest.approx(math.sqrt(2 / fi))
    assert std(xinit.uniform(-0.5, 1.5)) == pytest.approx(2 / math.sqrt(12))
    assert std(xinit.normal(0.0, 0.02)) == 0.02
    assert std(xinit.trunc_normal(0.0, 0.02, -0.04, 0.04)) == pytest.approx(
        scipy.stats.truncnorm(-2, 2, scale=0.02).std()
    )
    assert std(xinit.trunc_normal(1.0, 1.0, 0.0, 3.0)) == pytest.approx(
        scipy.stats.truncnorm(-1, 2, loc=1.0).std()
    )
    assert cmd.expected(xinit.trunc_normal(1.0, 1.0, 0.0, 3.0), shape, fi, fo).mean == (
        pytest.approx(scipy.stats.truncnorm(-1, 2, loc=1.0).mean())
    )
    assert std(xinit.truncated_normal(0.02)) == pytest.approx(
        0.02 * scipy.stats.truncnorm(-2, 2).std()
    )
    assert std(xinit.orthogonal(gain=3.0)) == pytest.approx(3 / math.sqrt(fi))
    assert std(xinit.sparse(0.1, std=0.01)) == pytest.approx(0.01 * math.sqrt(1 - 10 / 100))
    assert cmd.expected(xinit.ones(), shape, fi, fo).exact == 1.0
    assert cmd.expected(xinit.torch_default_bias(), (5,), 0, None).exact == 0.0
    assert cmd.expected(xinit.eye(), shape, fi, fo) == cmd.Expected()  # not checked


def test_std_check_accepts_the_right_law_and_rejects_a_wrong_one() -> None:
    rng = np.random.default_rng(0)
    right = cmd.Expected(0.0, 0.1)
    assert cmd.std_check(rng.normal(0, 0.1, 20000), right)["ok"] is True
    assert cmd.std_check(rng.uniform(-0.1 * math.sqrt(3), 0.1 * math.sqrt(3), 20000), right)["ok"]
    assert cmd.std_check(rng.normal(0, 0.105, 20000), right)["ok"] is False  # 5% too wide
    assert cmd.std_check(rng.normal(0.01, 0.1, 20000), right)["ok"] is False  # shifted
    assert cmd.std_check(np.zeros(100), right)["ok"] is False
    assert cmd.std_check(np.ones(10), cmd.Expected(exact=1.0))["ok"] is True
    assert cmd.std_check(np.r_[np.ones(9), 0.0], cmd.Expected(exact=1.0))["ok"] is False
    assert cmd.std_check(np.ones(10), cmd.Expected())["ok"] is None


def test_flax_layout_initializer_in_a_rule_is_checked_with_torch_fans() -> None:
    """docs/torch.md: a rule's initializer gets the fans of the torch-layout shape."""
    info = xt.ParamInfo("fc.weight", "weight", "linear", (10, 1000))
    fans = cmd.torch_fans(info, xt.Assignment(xinit.lecun_normal()))
    assert fans == (1000, 10)
    assert cmd.expected(xinit.lecun_normal(), (10, 1000), *fans).std == pytest.approx(1000**-0.5)


def test_ks_2samp_matches_scipy() -> None:
    rng = np.random.default_rng(1)
    for x, y in [
        (rng.normal(size=3000), rng.normal(size=2000)),
        (rng.normal(size=3000), rng.normal(0.1, 1, size=3000)),
        (np.r_[np.zeros(500), rng.normal(size=500)], np.r_[np.zeros(450), rng.normal(size=550)]),
    ]:
        d, p = cmd.ks_2samp(x, y)
        ref = scipy.stats.ks_2samp(x, y, method="asymp")
        assert d == pytest.approx(ref.statistic)
        assert p == pytest.approx(
            scipy.special.kolmogorov(math.sqrt(len(x) * len(y) / (len(x) + len(y))) * d)
        )
        assert abs(p - ref.pvalue) < 0.02
    for v in (0.1, 0.5, 0.99, 1.0, 1.5, 3.0):
        assert cmd.kolmogorov_sf(v) == pytest.approx(scipy.special.kolmogorov(v), abs=1e-12)


# -- parity ------------------------------------------------------------------------------------


def test_parity_covers_torch_nn_init_and_reports_torch_draws(capsys, tmp_path: Path) -> None:
    plot = tmp_path / "parity.png"
    code, out = run_json(capsys, "parity", "--size", "64", "--seed", "3", "-q", "--plot", str(plot))
    assert code == 0 and out["ok"]
    public = {
        n
        for n in dir(torch.nn.init)
        if n.endswith("_") and not n.startswith("_") and n != "calculate_gain"
    }
    assert {r["function"] for r in out["rows"]} == public
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for case, row in zip(cmd.parity_cases(64), out["rows"], strict=True):
        theirs = torch.empty(case.shape)
        torch.manual_seed(3)
        getattr(torch.nn.init, case.fn)(theirs, **case.kwargs)
        assert row["torch_std"] == pytest.approx(float(theirs.double().std(unbiased=False)))
        assert row["samples"] == theirs.numel()
        if case.random:
            assert 0 <= row["ks_statistic"] <= 1 and row["p_value"] >= 1e-3
        else:
            assert row["identical"] is True


def test_parity_detects_a_different_distribution(capsys, monkeypatch) -> None:
    original = xt.uniform_

    def wider(tensor, a=0.0, b=1.0, generator=None, *, key=None):  # type: ignore[no-untyped-def]
        return original(tensor, a, b + (b - a), generator, key=key)

    monkeypatch.setattr(xt, "uniform_", wider)
    code, out = run_json(capsys, "parity", "--size", "64", "--seed", "3", "-q")
    assert code == 1
    assert [r["function"] for r in out["rows"] if not r["ok"]] == ["uniform_"]


def test_parity_table(capsys) -> None:
    code, out, _ = run(capsys, "parity", "--size", "64", "--seed", "3", "-q")
    assert code == 0
    assert "KS D" in out and "p-value" in out
    assert out.strip().splitlines()[-1] == "All distributions match."


# -- inspect -----------------------------------------------------------------------------------

FACTORIES = """
import math
import flax.linen as fnn
import jax.numpy as jnp
import torch
from flax import nnx


class GPTish(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = torch.nn.Embedding(100, 32, padding_idx=0)
        self.h = torch.nn.ModuleList(
            torch.nn.ModuleDict({"c_fc": torch.nn.Linear(32, 64), "c_proj": torch.nn.Linear(64, 32)})
            for _ in range(3)
        )
        self.rnn = torch.nn.GRU(8, 8)


def torch_mlp():
    return torch.nn.Sequential(torch.nn.Linear(128, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))


def gptish():
    return GPTish()


class WithTable(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(8, 4)
        self.register_buffer("freqs", torch.arange(4.0))


def with_table():
    return WithTable()


class Net(nnx.Module):
    def __init__(self, rngs):
        self.fc = nnx.Linear(48, 16, rngs=rngs)
        self.conv = nnx.Conv(3, 8, (3, 3), rngs=rngs)


def nnx_net():
    return Net(nnx.Rngs(0))


class Lin(fnn.Module):
    @fnn.compact
    def __call__(self, x):
        return fnn.Dense(10, name="head")(x)


def linen_net():
    return Lin(), jnp.ones((1, 40))


def linen_without_input():
    return Lin()


def broken():
    raise RuntimeError("boom")


def not_a_model():
    return 42


NOT_CALLABLE = 3
"""


@pytest.fixture
def factories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "user_models.py"
    path.write_text(FACTORIES)
    (tmp_path / "bad_import.py").write_text("import not_a_module_anywhere\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield path
    for name in ("user_models", "bad_import"):
        sys.modules.pop(name, None)


def test_inspect_torch_factory_from_the_meta_device(capsys, factories: Path) -> None:
    code, out = run_json(capsys, "inspect", "user_models:torch_mlp", "-q", "--seed", "5")
    assert code == 0 and out["framework"] == "PyTorch" and "materialize" in out["how"]
    with torch.device("meta"):
        mine = torch.nn.Sequential(
            torch.nn.Linear(128, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10)
        )
    xt.materialize(mine, seed=5)
    rows = {r["parameter"]: r for r in out["parameters"]}
    assert list(rows) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert (rows["0.weight"]["fan_in"], rows["0.weight"]["fan_out"]) == (128, 256)
    assert rows["2.bias"]["fan_in"] == 256  # the weight's fan_in, as torch
    for name, p in mine.named_parameters():
        fan_in = p.shape[1] if p.ndim == 2 else mine[int(name[0])].in_features
        assert rows[name]["expected_std"] == pytest.approx(1 / math.sqrt(3 * fan_in))
        assert rows[name]["measured_std"] == pytest.approx(
            float(p.detach().double().std(unbiased=False))
        )
        assert rows[name]["std_ok"] is True


def test_inspect_gpt2_recipe_and_padding_row(capsys, factories: Path) -> None:
    code, out = run_json(capsys, "inspect", f"{factories}:gptish", "-q", "--scheme", "gpt2")
    assert code == 0, out["failures"]
    rows = {r["parameter"]: r for r in out["parameters"]}
    assert rows["h.0.c_proj.weight"]["expected_std"] == pytest.approx(0.02 / math.sqrt(3))
    assert rows["h.2.c_fc.weight"]["expected_std"] == pytest.approx(0.02)
    assert rows["wte.weight"]["std_ok"] is True  # padding row zero, left out of the std
    assert rows["rnn.bias_ih_l0"]["expected_mean"] == 0.0 and rows["rnn.bias_ih_l0"]["std_ok"]
    assert rows["rnn.weight_ih_l0"]["expected_std"] == pytest.approx(1 / math.sqrt(3 * 8))
    assert rows["wte.weight"]["expected_std"] == 0.02
    code, out = run_json(capsys, "inspect", "user_models:gptish", "-q")  # the "torch" scheme
    torch_rows = {r["parameter"]: r for r in out["parameters"]}
    assert code == 0 and torch_rows["wte.weight"]["expected_std"] == 1.0
    assert torch_rows["wte.weight"]["measured_std"] == pytest.approx(1.0, rel=0.05)


def test_inspect_model_with_a_buffer_materialize_cannot_fill(capsys, factories: Path) -> None:
    code, out = run_json(capsys, "inspect", "user_models:with_table", "-q")
    assert code == 0 and "init_module" in out["how"]
    assert [r["parameter"] for r in out["parameters"]] == ["fc.weight", "fc.bias"]


def test_inspect_nnx_and_linen(capsys, factories: Path) -> None:
    code, out = run_json(capsys, "inspect", "user_models:nnx_net", "-q")
    assert code == 0 and out["framework"] == "Flax nnx"
    rows = {r["parameter"]: r for r in out["parameters"]}
    assert rows["fc/kernel"]["shape"] == [48, 16] and rows["fc/kernel"]["torch_name"] == "fc.weight"
    assert (rows["fc/kernel"]["fan_in"], rows["fc/kernel"]["fan_out"]) == (48, 16)
    assert rows["conv/kernel"]["fan_in"] == 27  # 3 * 3 * 3
    assert rows["conv/kernel"]["expected_std"] == pytest.approx(1 / math.sqrt(3 * 27))
    code, out = run_json(capsys, "inspect", "user_models:linen_net", "-q", "--scheme", "flax")
    assert code == 0 and out["framework"] == "Flax linen"
    rows = {r["parameter"]: r for r in out["parameters"]}
    assert rows["head/kernel"]["expected_std"] == pytest.approx(1 / math.sqrt(40))
    assert rows["head/bias"]["measured_std"] == 0.0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["inspect", "no_such_module_xyz:f"], "cannot import 'no_such_module_xyz'"),
        (["inspect", "user_models"], "expected MODULE:FACTORY"),
        (["inspect", "user_models:missing"], "has no attribute 'missing'"),
        (["inspect", "user_models:NOT_CALLABLE"], "is not callable"),
        (["inspect", "user_models:broken"], "RuntimeError: boom"),
        (["inspect", "user_models:not_a_model"], "expected a torch.nn.Module"),
        (["inspect", "user_models:linen_without_input"], "needs an example input"),
        (["inspect", "bad_import:f"], "importing 'bad_import' failed: ModuleNotFoundError"),
        (["inspect", "./nowhere.py:f"], "no such file"),
        (["inspect", "user_models:torch_mlp", "--device", "tpu"], "--device must be cpu or cuda"),
        (["demo", "--width", "30"], "multiple of 4"),
        (["parity", "--alpha", "2"], "--alpha must be in (0, 1)"),
        (["parity", "--size", "8", "--plot", "/no/such/dir/p.png"], "does not exist"),
        (["demo", "--seed", "x"], "seed must be an integer"),
        (["demo", "--seed", "-1"], "seed must be in [0, 2**64)"),
        (["demo", "--scheme", "nope"], "invalid choice: 'nope'"),
        (["inspect", "user_models:torch_mlp", "--scheme", "nope"], "invalid choice: 'nope'"),
        (["show", "no_such_initializer"], "unknown initializer"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(capsys, factories: Path, argv, message) -> None:
    try:
        code = _cli.main([*argv, "-q"] if argv[0] != "show" else argv)
    except SystemExit as e:  # argparse errors
        code = e.code
    out, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("xinit: error: "), err
    assert message in err
    assert out == ""


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_an_error(capsys) -> None:
    code, _, err = run(capsys, "demo", "--device", "cuda", "-q")
    assert code == 2 and "torch has no CUDA" in err


def _console(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("xinit")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "xinit"]
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    return subprocess.run(
        [*command, *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_console_script_errors_have_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "user_models.py").write_text("def broken():\n    return 1 / 0\n")
    proc = _console("inspect", "user_models:broken", "-q", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [
        "xinit: error: user_models:broken() failed: ZeroDivisionError: division by zero"
    ]


def test_the_cli_module_imports_neither_torch_nor_flax(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import json, sys
        from xinit import _cli
        rc = _cli.main(["list", "--json"])
        heavy = sorted({m.split(".")[0] for m in sys.modules} & {"torch", "flax", "matplotlib"})
        print(json.dumps([rc, heavy]))
        """
    )
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rc, heavy = json.loads(proc.stdout.strip().splitlines()[-1])
    assert rc == 0 and heavy == []


# -- the core catalogue, show, list ------------------------------------------------------------


def test_catalogue_show_and_list_are_still_there(capsys) -> None:
    code, out, _ = run(capsys, "list", "--json")
    names = json.loads(out)
    assert code == 0 and "kaiming_uniform" in names and "jax_compat.lecun_normal" in names
    code, out = run_json(capsys, "show", "kaiming_uniform", "--shape", "64", "32", "-p", "a=0")
    values = np.asarray(xinit.kaiming_uniform(a=0)(xinit.key_for(0, "weight"), (64, 32)))
    assert out["first_values"] == pytest.approx(values.ravel()[:8].tolist())
    assert out["fans"] == [32, 64]


def test_schemes_offered_by_the_parser_all_resolve() -> None:
    infos = [xt.ParamInfo("fc.weight", "weight", "linear", (4, 3))]
    for name in _cli.SCHEMES:
        _, text = cmd.resolve_scheme(name, infos)
        assert text.startswith(name)
    with pytest.raises(_cli.CommandError, match="unknown scheme"):
        cmd.resolve_scheme("nope", infos)


# -- .ci/run -------------------------------------------------------------------------------------


def test_ci_runs_the_readme_commands_as_written(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in setup.splitlines() if line.strip()]
    assert commands == ["bash scripts/xinit demo", "bash scripts/test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert [
        line.split("||")[0].strip() for line in ci.splitlines() if line.startswith("bash ")
    ] == (commands)
    # Run it against stand-in scripts that log their calls and fail on demand.
    (tmp_path / ".ci").mkdir()
    (tmp_path / ".ci" / "run").write_text(ci)
    (tmp_path / "scripts").mkdir()
    for name in ("xinit", "test"):
        (tmp_path / "scripts" / name).write_text(
            f'echo "{name} $*" >> "$LOG"\nexit "${{RC_{name.upper()}:-0}}"\n'
        )
    for rc_xinit, rc_test, expected in [(0, 0, 0), (1, 0, 1), (0, 3, 1), (2, 2, 1)]:
        log = tmp_path / f"log{rc_xinit}{rc_test}"
        env = {**os.environ, "LOG": str(log), "RC_XINIT": str(rc_xinit), "RC_TEST": str(rc_test)}
        proc = subprocess.run(
            ["bash", str(tmp_path / ".ci" / "run")],
            cwd="/",
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == expected, proc.stderr
        assert log.read_text().splitlines() == ["xinit demo", "test "]  # both, in order
