"""The ``xinit`` command (also ``python -m xinit``).

- ``xinit demo``: the same small transformer in PyTorch, Flax linen and Flax
  nnx, initialized from one seed; per parameter: identical in all three, handed
  to torch without a copy, std as the scheme says; then the time next to
  PyTorch's own init.
- ``xinit parity``: every ``torch.nn.init`` function against xinit's drop-in on
  this machine (two-sample KS test, means, stds; ``--plot FILE.png``).
- ``xinit inspect MODULE:FACTORY``: initialize a user's model with a scheme and
  print each parameter's fans, expected and measured std.
- ``xinit catalogue`` (the core's initializers: fans, std, bit-identity with
  ``jax.nn.initializers``), ``xinit show NAME``, ``xinit list``.

Every subcommand takes ``--json``. Bad input is one line on stderr and exit
code 2; a failed check is exit code 1. This module imports neither torch nor
Flax: ``demo``, ``parity`` and ``inspect`` live in ``xinit.adapters._commands``,
imported when they run.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

import xinit
from xinit import jax_compat


def _phi(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


def _truncated_std(mean: float, std: float, a: float, b: float) -> float:
    """Std of N(mean, std²) truncated to [a, b] (textbook formula)."""
    al, be = (a - mean) / std, (b - mean) / std
    z = _cdf(be) - _cdf(al)
    t1 = (al * _phi(al) - be * _phi(be)) / z
    t2 = ((_phi(al) - _phi(be)) / z) ** 2
    return std * math.sqrt(1 + t1 - t2)


@dataclass(frozen=True)
class Entry:
    """One row of the catalogue: how to build it, its JAX twin, its expected std."""

    name: str
    build: Callable[..., xinit.Initializer]
    kwargs: dict[str, Any]
    layout: str  # which layout the demo shape is given in
    expected_std: Callable[[int, int], float]  # (fan_in, fan_out) -> std
    jax: Callable[[], Any] | None = None  # jax.nn.initializers twin, if any
    torch_name: str = ""


def _catalogue() -> list[Entry]:
    g = xinit.calculate_gain
    c = jax.nn.initializers
    t_std = 0.87962566103423978
    return [
        Entry(
            "uniform",
            xinit.uniform,
            {"a": -0.5, "b": 1.5},
            "torch",
            lambda fi, fo: 2 / math.sqrt(12),
            torch_name="uniform_",
        ),
        Entry(
            "normal",
            xinit.normal,
            {"mean": 0.0, "std": 0.02},
            "torch",
            lambda fi, fo: 0.02,
            lambda: c.normal(0.02),
            "normal_",
        ),
        Entry(
            "trunc_normal",
            xinit.trunc_normal,
            {},
            "torch",
            lambda fi, fo: _truncated_std(0, 1, -2, 2),
            torch_name="trunc_normal_",
        ),
        Entry(
            "xavier_uniform",
            xinit.xavier_uniform,
            {"gain": 1.0},
            "torch",
            lambda fi, fo: math.sqrt(2 / (fi + fo)),
            torch_name="xavier_uniform_",
        ),
        Entry(
            "xavier_normal",
            xinit.xavier_normal,
            {"gain": g("tanh")},
            "torch",
            lambda fi, fo: g("tanh") * math.sqrt(2 / (fi + fo)),
            torch_name="xavier_normal_",
        ),
        Entry(
            "kaiming_uniform",
            xinit.kaiming_uniform,
            {"nonlinearity": "relu"},
            "torch",
            lambda fi, fo: math.sqrt(2 / fi),
            torch_name="kaiming_uniform_",
        ),
        Entry(
            "kaiming_normal",
            xinit.kaiming_normal,
            {"mode": "fan_out", "nonlinearity": "relu"},
            "torch",
            lambda fi, fo: math.sqrt(2 / fo),
            torch_name="kaiming_normal_",
        ),
        Entry(
            "orthogonal",
            xinit.orthogonal,
            {"gain": 1.0},
            "torch",
            lambda fi, fo: 1 / math.sqrt(max(fi, fo)),
            torch_name="orthogonal_",
        ),
        Entry(
            "sparse",
            xinit.sparse,
            {"sparsity": 0.1, "std": 0.01},
            "torch",
            lambda fi, fo: 0.01 * math.sqrt(1 - math.ceil(0.1 * fo) / fo),
            torch_name="sparse_",
        ),
        Entry(
            "torch_default_weight",
            xinit.torch_default_weight,
            {},
            "torch",
            lambda fi, fo: 1 / math.sqrt(3 * fi),
            torch_name="nn.Linear weight",
        ),
        Entry(
            "variance_scaling",
            xinit.variance_scaling,
            {"scale": 1 / 3, "mode": "fan_in", "distribution": "uniform"},
            "flax",
            lambda fi, fo: 1 / math.sqrt(3 * fi),
            lambda: c.variance_scaling(1 / 3, "fan_in", "uniform"),
        ),
        Entry(
            "lecun_normal",
            xinit.lecun_normal,
            {},
            "flax",
            lambda fi, fo: 1 / math.sqrt(fi),
            lambda: c.lecun_normal(),
        ),
        Entry(
            "lecun_uniform",
            xinit.lecun_uniform,
            {},
            "flax",
            lambda fi, fo: 1 / math.sqrt(fi),
            lambda: c.lecun_uniform(),
        ),
        Entry(
            "glorot_normal",
            xinit.glorot_normal,
            {},
            "flax",
            lambda fi, fo: math.sqrt(2 / (fi + fo)),
            lambda: c.glorot_normal(),
        ),
        Entry(
            "glorot_uniform",
            xinit.glorot_uniform,
            {},
            "flax",
            lambda fi, fo: math.sqrt(2 / (fi + fo)),
            lambda: c.glorot_uniform(),
        ),
        Entry(
            "he_normal",
            xinit.he_normal,
            {},
            "flax",
            lambda fi, fo: math.sqrt(2 / fi),
            lambda: c.he_normal(),
        ),
        Entry(
            "he_uniform",
            xinit.he_uniform,
            {},
            "flax",
            lambda fi, fo: math.sqrt(2 / fi),
            lambda: c.he_uniform(),
        ),
        Entry(
            "truncated_normal",
            xinit.truncated_normal,
            {"stddev": 0.02},
            "flax",
            lambda fi, fo: 0.02 * t_std,
            lambda: c.truncated_normal(0.02),
        ),
        Entry(
            "jax_compat.uniform",
            jax_compat.uniform,
            {"scale": 0.1},
            "flax",
            lambda fi, fo: 0.1 / math.sqrt(12),
            lambda: c.uniform(0.1),
        ),
        Entry(
            "jax_compat.orthogonal",
            jax_compat.orthogonal,
            {},
            "flax",
            lambda fi, fo: 1 / math.sqrt(max(fi, fo)),
            lambda: c.orthogonal(),
        ),
    ]


def _row(entry: Entry, seed: int, impl: str | None, shape: tuple[int, ...]) -> dict[str, Any]:
    init = entry.build(**entry.kwargs)
    key = xinit.key_for(seed, f"demo.{entry.name}", impl=impl)
    fan_in, fan_out = xinit.fans(shape, entry.layout)
    values = np.asarray(init(key, shape), dtype=np.float64)
    expected = entry.expected_std(fan_in, fan_out)
    measured = float(values.std())
    # Tolerance: 5 standard errors of a std estimate (kurtosis <= 3 for these laws).
    tolerance = 5 * expected * math.sqrt(2 / values.size) + 1e-9
    identical: bool | None = None
    if entry.jax is not None:
        theirs = np.asarray(entry.jax()(key, shape))
        identical = bool(
            np.array_equal(np.asarray(init(key, shape)).view(np.uint32), theirs.view(np.uint32))
        )
    return {
        "initializer": entry.name,
        "torch": entry.torch_name or "-",
        "layout": entry.layout,
        "shape": list(shape),
        "fan_in": fan_in,
        "fan_out": fan_out,
        "expected_std": expected,
        "measured_std": measured,
        "std_ok": abs(measured - expected) <= tolerance,
        "identical_to_jax": identical,
    }


def _fmt_bool(v: bool | None) -> str:
    return "-" if v is None else ("yes" if v else "NO")


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, right: Sequence[int] = ()
) -> None:
    """Print an aligned text table on stdout; columns in ``right`` are right-aligned."""
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]

    def line(cells: Sequence[str]) -> str:
        out = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(out).rstrip()

    print(line(headers))
    print(line(["-" * w for w in widths]))
    for r in rows:
        print(line(r))


_print_table = print_table


class Progress:
    """Progress of long steps on stderr: one line rewritten in place on a terminal,
    one line per step otherwise (CI logs); nothing with ``quiet``."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self._width = 0

    def step(self, message: str) -> None:
        if self.quiet:
            return
        if self.tty:
            text = f"xinit: {message}"
            print("\r" + text.ljust(self._width), end="", file=sys.stderr, flush=True)
            self._width = len(text)
        else:
            print(f"xinit: {message}", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.tty and self._width and not self.quiet:
            print("\r" + " " * self._width + "\r", end="", file=sys.stderr, flush=True)
            self._width = 0


def _catalogue_cmd(args: argparse.Namespace) -> int:
    torch_shape, flax_shape = (512, 256), (256, 512)
    rows = []
    start = time.perf_counter()
    entries = _catalogue()
    progress = Progress(args.quiet)
    for i, entry in enumerate(entries):
        progress.step(f"[{i + 1}/{len(entries)}] {entry.name}")
        shape = torch_shape if entry.layout == "torch" else flax_shape
        rows.append(_row(entry, args.seed, args.impl, shape))
    elapsed = time.perf_counter() - start
    # Path keys: adding other parameters leaves a parameter's values unchanged.
    init = xinit.kaiming_uniform()
    alone = np.asarray(init(xinit.key_for(args.seed, "fc.weight", impl=args.impl), (64, 32)))
    for other in ("embed.weight", "head.weight"):
        init(xinit.key_for(args.seed, other, impl=args.impl), (64, 32))
    again = np.asarray(init(xinit.key_for(args.seed, "fc.weight", impl=args.impl), (64, 32)))
    stable = bool(np.array_equal(alone, again))
    progress.done()
    ok = stable and all(r["std_ok"] and r["identical_to_jax"] is not False for r in rows)
    if args.json:
        print(
            json.dumps(
                {
                    "seed": args.seed,
                    "impl": args.impl or xinit.DEFAULT_IMPL,
                    "rows": rows,
                    "path_keys_stable": stable,
                    "seconds": elapsed,
                    "ok": ok,
                },
                indent=2,
            )
        )
        return 0 if ok else 1
    print(
        f"xinit {xinit.__version__}: seed {args.seed}, PRNG {args.impl or xinit.DEFAULT_IMPL}, "
        f"jax {jax.__version__} on {jax.default_backend()}\n"
    )
    _print_table(
        [
            "initializer",
            "torch",
            "layout",
            "shape",
            "fan_in",
            "fan_out",
            "expected std",
            "measured std",
            "std ok",
            "= jax.nn.initializers",
        ],
        [
            [
                r["initializer"],
                r["torch"],
                r["layout"],
                "x".join(map(str, r["shape"])),
                str(r["fan_in"]),
                str(r["fan_out"]),
                f"{r['expected_std']:.6f}",
                f"{r['measured_std']:.6f}",
                _fmt_bool(r["std_ok"]),
                _fmt_bool(r["identical_to_jax"]),
            ]
            for r in rows
        ],
    )
    print(
        f"\nKeys come from parameter paths: 'fc.weight' unchanged after deriving other keys: {_fmt_bool(stable)}"
    )
    print(f"{len(rows)} initializers in {elapsed:.2f} s (first calls include compilation).")
    print("All checks passed." if ok else "SOME CHECKS FAILED.")
    return 0 if ok else 1


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _show(args: argparse.Namespace) -> int:
    by_name = {e.name: e for e in _catalogue()}
    builder = getattr(xinit, args.name, None)
    if args.name.startswith("jax_compat."):
        builder = getattr(jax_compat, args.name.split(".", 1)[1], None)
    if not callable(builder) or args.name not in _builders():
        raise CommandError(f"unknown initializer {args.name!r}; `xinit list` shows them")
    kwargs = {}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep:
            raise CommandError(f"--param must be NAME=VALUE, got {item!r}")
        kwargs[name] = _parse_value(value)
    try:
        init = builder(**kwargs)
    except TypeError as e:
        raise CommandError(f"{args.name}: {e}") from None
    layout = args.layout or (by_name[args.name].layout if args.name in by_name else "torch")
    init = init.with_layout(layout)
    shape = tuple(args.shape)
    key = xinit.key_for(args.seed, args.path, impl=args.impl)
    values = np.asarray(init(key, shape, dtype=args.dtype))
    fans: tuple[int, int] | None
    try:
        fans = xinit.fans(shape, layout)
    except ValueError:
        fans = None
    flat = values.astype(np.float64).ravel()
    out = {
        "initializer": repr(init),
        "seed": args.seed,
        "path": args.path,
        "impl": args.impl or xinit.DEFAULT_IMPL,
        "shape": list(shape),
        "dtype": str(values.dtype),
        "layout": layout,
        "fans": list(fans) if fans else None,
        "mean": float(flat.mean()) if flat.size else None,
        "std": float(flat.std()) if flat.size else None,
        "min": float(flat.min()) if flat.size else None,
        "max": float(flat.max()) if flat.size else None,
        "first_values": [float(v) for v in flat[: args.count]],
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    for k, v in out.items():
        print(f"{k:>13}: {v}")
    return 0


def _builders() -> list[str]:
    names = [n for n in xinit.__all__ if n not in _NOT_BUILDERS and callable(getattr(xinit, n))]
    names += [f"jax_compat.{n}" for n in jax_compat.__all__ if n not in ("zeros", "ones")]
    return sorted(names)


_NOT_BUILDERS = {
    "calculate_gain",
    "canonical_path",
    "encode_path",
    "fans",
    "key",
    "key_for",
    "path_words",
    "Initializer",
    "Layout",
    "DTypeError",
    "RangeError",
    "DivisionByZeroError",
}


def _list(args: argparse.Namespace) -> int:
    names = _builders()
    if args.json:
        print(json.dumps(names))
    else:
        for n in names:
            doc = (getattr(xinit, n, None) or getattr(jax_compat, n.split(".")[-1])).__doc__ or ""
            print(f"{n:<26} {doc.strip().splitlines()[0] if doc.strip() else ''}")
    return 0


class CommandError(Exception):
    """Bad input or an impossible request: printed as one line, exit code 2."""


#: Schemes of ``demo`` and ``inspect``: the adapters' two named schemes and the
#: recipes in ``xinit.adapters._commands.RECIPES``.
SCHEMES = ("torch", "flax", "gpt2")


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed must be an integer, got {text!r}") from None
    if not 0 <= value < 2**64:
        raise argparse.ArgumentTypeError(f"seed must be in [0, 2**64), got {value}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        print(f"xinit: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _adapter_command(name: str) -> Callable[[argparse.Namespace], int]:
    """A subcommand implemented in ``xinit.adapters._commands`` (imports torch/Flax when run)."""

    def run(args: argparse.Namespace) -> int:
        from xinit.adapters import _commands

        return int(getattr(_commands, name)(args))

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="xinit",
        description="Weight initializers written once in JAX: the same weights in PyTorch and "
        "Flax. `xinit demo` shows it on this machine.",
    )
    parser.add_argument("--version", action="version", version=f"xinit {xinit.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    base = _Parser(add_help=False)
    base.add_argument(
        "--seed", type=_seed, default=0, help="integer seed in [0, 2**64) (default 0)"
    )
    base.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    base.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    common = _Parser(add_help=False, parents=[base])
    common.add_argument(
        "--impl",
        choices=xinit.IMPLS,
        default=None,
        help=f"PRNG implementation (default {xinit.DEFAULT_IMPL})",
    )
    model = _Parser(add_help=False, parents=[base])
    model.add_argument(
        "--scheme",
        choices=SCHEMES,
        default="torch",
        help="torch (PyTorch's defaults), flax (Flax's defaults) or a recipe: gpt2 (default torch)",
    )
    model.add_argument(
        "--device",
        default="cpu",
        help="torch device: cpu, or cuda[:N] when available (default cpu)",
    )

    demo = sub.add_parser(
        "demo",
        parents=[model],
        help="one seed, the same transformer in PyTorch, linen and nnx: every check, and the time",
        description="Build the same small transformer in PyTorch, Flax linen and Flax nnx, "
        "initialize all three from one seed and check every parameter: identical values, "
        "handed to torch without a copy, std as the scheme says. Exit code 1 if a check fails.",
    )
    demo.add_argument("--layers", type=_positive, default=2, help="transformer blocks (default 2)")
    demo.add_argument("--width", type=_positive, default=64, help="model width (default 64)")
    demo.set_defaults(run=_adapter_command("demo"))

    parity = sub.add_parser(
        "parity",
        parents=[base],
        help="xinit's torch.nn.init drop-in against torch.nn.init: KS test, mean, std",
        description="For every torch.nn.init function, draw samples with xinit's drop-in and "
        "with torch.nn.init on this machine and compare them (two-sample KS test). "
        "Exit code 1 if a p-value is below --alpha or a deterministic one differs.",
    )
    parity.add_argument(
        "--size", type=_positive, default=256, help="weights are SIZE x SIZE (default 256)"
    )
    parity.add_argument(
        "--alpha", type=float, default=1e-3, help="fail below this p-value (default 0.001)"
    )
    parity.add_argument("--plot", metavar="FILE.png", help="write overlaid histograms (matplotlib)")
    parity.set_defaults(run=_adapter_command("parity"))

    inspect = sub.add_parser(
        "inspect",
        parents=[model],
        help="initialize your model (MODULE:FACTORY) and print each parameter's statistics",
        description="Import FACTORY from MODULE (a module name, or a path to a .py file), call "
        "it with no arguments and initialize what it returns with --scheme: a torch.nn.Module "
        "(built under torch.device('meta'), then materialized), a flax.nnx.Module, or a tuple "
        "(flax.linen.Module, example input, ...). Prints every parameter's fans, expected and "
        "measured std. Exit code 1 if a measured std disagrees with the scheme.",
    )
    inspect.add_argument("target", metavar="MODULE:FACTORY")
    inspect.set_defaults(run=_adapter_command("inspect"))

    cat = sub.add_parser(
        "catalogue",
        parents=[common],
        help="the core's initializers: fans, std, bit-identity with jax.nn.initializers",
    )
    cat.set_defaults(run=_catalogue_cmd)
    show = sub.add_parser("show", parents=[common], help="one initializer's values and statistics")
    show.add_argument("name", help="an initializer name from `xinit list`")
    show.add_argument("--shape", type=int, nargs="+", default=[4, 3])
    show.add_argument(
        "--param",
        "-p",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a hyperparameter, e.g. -p gain=2",
    )
    show.add_argument("--layout", choices=("torch", "flax"), default=None)
    show.add_argument("--dtype", default="float32")
    show.add_argument("--path", default="weight", help="the parameter path the key is derived from")
    show.add_argument("--count", type=int, default=8, help="how many values to print")
    show.set_defaults(run=_show)
    lst = sub.add_parser("list", help="the initializer constructors")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(run=_list)
    return parser


_EXTRAS = {"torch": "torch", "flax": "flax", "matplotlib": "dev"}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``xinit`` console script.

    Returns 0 when everything passed, 1 when a check failed, 2 for bad input
    (one line on stderr, no traceback), 130 when interrupted.
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (CommandError, TypeError, ValueError) as e:
        print(f"xinit: error: {e}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as e:
        top = (e.name or "").split(".")[0]
        if top not in _EXTRAS:
            raise
        print(
            f"xinit: error: `xinit {args.command}` needs {top}, which is not installed: "
            f'pip install "xinit[{_EXTRAS[top]}]"',
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("xinit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
