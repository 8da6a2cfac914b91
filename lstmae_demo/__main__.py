"""The command line: python -m lstmae_demo {archs, shapes, train, code}.

Scripts and benchmarks rely on this contract: `--json` prints exactly one JSON object (or list)
on stdout; invalid arguments exit with status 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence

from . import codegen
from .config import AppConfig, defaults
from .data import DataError, make_sine
from .spec import (
    ACTIVATIONS,
    ARCH_SOURCES,
    ARCH_TITLES,
    ARCHS,
    DECODERS,
    ModelSpec,
    SpecError,
    preset,
    validate,
)
from .shapes.trace import Trace, trace
from .training import Epoch, Finished, TrainConfig, TrainConfigError


class UsageError(Exception):
    """Bad command-line arguments: exit 2 with one line."""


class Parser(argparse.ArgumentParser):
    """argparse, but an error is one line on stderr and exit status 2."""

    def error(self, message: str):  # noqa: D102 - argparse's hook
        raise UsageError(f"{self.prog}: {message}")


def _model_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--arch", required=True, choices=ARCHS)
    p.add_argument("--seq-len", type=int, help="time steps per series (T)")
    p.add_argument("--features", type=int, help="values per step (F)")
    p.add_argument("--units", type=int, help="LSTM hidden size (U)")
    p.add_argument("--activation", choices=ACTIVATIONS)
    p.add_argument("--bins", type=int, help="quantisation bins (embedding)")
    p.add_argument("--decoder", choices=DECODERS, help="decoder input (encdec_ad)")


def build_parser() -> Parser:
    """The argument parser for all four commands."""
    parser = Parser(prog="python -m lstmae_demo", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    archs = sub.add_parser("archs", help="list the reference architectures")
    archs.add_argument("--json", action="store_true")
    shapes = sub.add_parser("shapes", help="every layer's shape and parameter counts")
    _model_flags(shapes)
    shapes.add_argument("--batch", type=int, default=32)
    shapes.add_argument("--json", action="store_true")
    tr = sub.add_parser("train", help="train on sine data")
    _model_flags(tr)
    app = defaults()  # the same data and training settings as the web app's defaults
    tr.add_argument("--n-series", type=int, default=app["n_series"], help="training series")
    tr.add_argument("--noise", type=float, default=app["noise"],
                    help="std of the Gaussian noise added to the sines")
    tr.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    tr.add_argument("--batch", type=int, default=TrainConfig.batch_size, help="batch size")
    tr.add_argument("--lr", type=float, default=TrainConfig.lr)
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--until-mse", type=float, help="stop once validation MSE <= this")
    tr.add_argument("--threads", type=int, default=1, help="torch threads (1: measured best)")
    tr.add_argument("--json", action="store_true")
    code = sub.add_parser("code", help="print PyTorch or Keras source of the model")
    _model_flags(code)
    code.add_argument("--framework", required=True, choices=("pytorch", "keras"))
    return parser


def spec_from_args(args: argparse.Namespace) -> ModelSpec:
    """The preset for --arch with any model flags applied; SpecError if invalid."""
    changes = {"seq_len": args.seq_len, "n_features": args.features, "units": args.units,
               "activation": args.activation, "bins": args.bins, "decoder": args.decoder}
    given = {k: v for k, v in changes.items() if v is not None}
    return validate(dataclasses.replace(preset(args.arch), **given))


def _table(tr: Trace) -> str:
    head = f"{'layer':<16} {'output shape':<18} {'axes':<26} {'Keras':>9} {'PyTorch':>9}"
    lines = [f"{tr.spec.arch}: {ARCH_TITLES[tr.spec.arch]}", head, "-" * len(head)]
    for r in tr.layers:
        shape = "(" + ", ".join(map(str, r.output_shape)) + ")"
        mark = "  <- code" if r.name == tr.latent else ""
        lines.append(f"{r.name:<16} {shape:<18} {'(' + ', '.join(r.axes) + ')':<26} "
                     f"{r.params_keras:>9,} {r.params_torch:>9,}{mark}")
    lines.append("-" * len(head))
    lines.append(f"{'total':<62} {tr.params_keras:>9,} {tr.params_torch:>9,}")
    verdict = "bottleneck" if tr.has_bottleneck else "NO bottleneck"
    lines.append(f"latent {tr.latent_shape}: {tr.latent_per_example} numbers per example vs "
                 f"{tr.input_per_example} in the input ({verdict}, ratio {tr.compression:.2f})")
    return "\n".join(lines)


def _progress(event: Epoch | Finished, total: int) -> None:
    if isinstance(event, Epoch):
        done = int(30 * event.epoch / total)
        sys.stderr.write(f"\r[{'#' * done}{'.' * (30 - done)}] epoch {event.epoch}/{total} "
                         f"loss {event.train_loss:.4g} val_mse {event.val_mse:.4g}")
        sys.stderr.flush()
    elif isinstance(event, Finished):
        sys.stderr.write(f"\n{event.reason}: {event.epochs} epochs in {event.seconds:.1f} s\n")


def _train(args: argparse.Namespace) -> dict:
    from .archs import build_model
    from .training import fit

    spec = spec_from_args(args)
    # The app's data set (AppConfig.sine) with these flags; model knobs come from `spec`.
    flags = {"n_series": args.n_series, "noise": args.noise, "seed": args.seed}
    values = defaults() | dataclasses.asdict(spec) | flags
    data = make_sine(AppConfig(values).sine)
    cfg = TrainConfig(epochs=args.epochs, batch_size=args.batch, lr=args.lr, seed=args.seed,
                      until_mse=args.until_mse, threads=args.threads, n_show=0)
    model = build_model(spec, seed=args.seed)
    done = fit(model, data.train, data.val, cfg,
               on_event=lambda e: _progress(e, cfg.epochs))
    return {"arch": spec.arch, "spec": spec.to_dict(), **done.to_dict(),
            "n_series": args.n_series, "noise": args.noise, "batch": args.batch,
            "lr": args.lr}


def run(argv: Sequence[str]) -> str:
    """Execute one command; return what goes to stdout."""
    args = build_parser().parse_args(argv)
    if args.command == "archs":
        items = [{"name": a, "title": ARCH_TITLES[a], "source": ARCH_SOURCES[a],
                  "spec": preset(a).to_dict()} for a in ARCHS]
        return json.dumps(items) if args.json else "\n".join(
            f"{i['name']:<13} {i['title']}" for i in items)
    if args.command == "shapes":
        if args.batch < 1:
            raise UsageError(f"--batch must be >= 1, got {args.batch}")
        tr = trace(spec_from_args(args), args.batch)
        return json.dumps(tr.to_dict()) if args.json else _table(tr)
    if args.command == "code":
        spec = spec_from_args(args)
        return (codegen.pytorch_source(spec) if args.framework == "pytorch"
                else codegen.keras_source(spec))
    result = _train(args)
    if args.json:
        return json.dumps(result)
    return (f"{result['reason']}: {result['epochs']} epochs, {result['seconds']:.1f} s, "
            f"val_mse {result['val_mse']:.4g}, {result['sequences_per_second']:.0f} seq/s")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: print the result, or one error line and return 2."""
    try:
        print(run(sys.argv[1:] if argv is None else argv))
    except (UsageError, SpecError, TrainConfigError, DataError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
