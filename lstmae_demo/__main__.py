"""The command line: python -m lstmae_demo {archs, shapes, train, code}.

Scripts and benchmarks rely on this contract: `--json` prints exactly one JSON object (or list)
on stdout; invalid arguments exit with status 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import codegen
from .archs import REGISTRY, get_arch
from .config import AppConfig
from .data import (
    BUNDLED,
    MAX_BYTES,
    BundledConfig,
    CsvConfig,
    DataError,
    load,
    make_sine,
    read_upload,
    settings_of,
)
from .jobs.dask_runner import ClusterError
from .settings import KNOB, MODEL_FIELDS, defaults, shown
from .shapes.trace import Trace, trace
from .spec import ModelSpec, SpecError, preset, validate
from .training import Epoch, Finished, TrainConfig, TrainConfigError

# CLI flags whose name is not the knob's name with dashes.
FLAG_NAMES = {"n_features": "--features"}


class UsageError(Exception):
    """Bad command-line arguments: exit 2 with one line."""


class Parser(argparse.ArgumentParser):
    """argparse, but an error is one line on stderr and exit status 2."""

    def error(self, message: str):  # noqa: D102 - argparse's hook
        raise UsageError(f"{self.prog}: {message}")


def _knob_type(name: str):
    """An argparse type that parses with the knob's own rules (the server's limits)."""
    def parse(raw: str):
        try:
            return KNOB[name].parse(raw)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    parse.__name__ = KNOB[name].kind.__name__  # what argparse names in its messages
    return parse


def _knob_flag(p: argparse.ArgumentParser, name: str, flag: str | None = None,
               default: object = None) -> None:
    """A flag for knob `name`, parsed and limited exactly as the web app's knob."""
    knob = KNOB[name]
    archs = "" if len(knob.archs) == len(REGISTRY) else f" ({', '.join(knob.archs)} only)"
    choices = (" — " + "; ".join(f"{c}: {knob.label_of(c)}" for c in knob.choices)
               if knob.choice_labels else "")
    p.add_argument(flag or FLAG_NAMES.get(name, "--" + name.replace("_", "-")), dest=name,
                   type=_knob_type(name), default=default,
                   metavar="{" + ",".join(knob.choices) + "}" if knob.choices else None,
                   help=f"{knob.help}{archs}{choices}")


def _model_flags(p: argparse.ArgumentParser, arch_required: bool = True) -> None:
    p.add_argument("--arch", required=arch_required, choices=tuple(REGISTRY))
    for name in MODEL_FIELDS:
        if name != "arch":
            _knob_flag(p, name)


def build_parser() -> Parser:
    """The argument parser for all four commands."""
    parser = Parser(prog="python -m lstmae_demo", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    archs = sub.add_parser("archs", help="list the reference architectures")
    archs.add_argument("--json", action="store_true")
    shapes = sub.add_parser("shapes", help="every layer's shape and parameter counts")
    _model_flags(shapes)
    _knob_flag(shapes, "batch", default=KNOB["batch"].default)
    shapes.add_argument("--json", action="store_true")
    tr = sub.add_parser("train", help="train on sine data, a bundled series or a CSV file")
    _model_flags(tr, arch_required=False)
    tr.add_argument("--data", default="sine",
                    help=f"sine (default), a bundled series ({', '.join(BUNDLED)}) or the path "
                         "of a CSV file (cut into windows of --seq-len rows every --stride "
                         "rows, z-scored with its first 80%% of rows, as in the web app)")
    tr.add_argument("--save", metavar="FILE", help="write the trained model to FILE "
                    "(.safetensors: weights, spec, settings and losses; runs no code when read)")
    tr.add_argument("--load", metavar="FILE", help="start from the model in FILE (its "
                    "architecture and sizes; model flags given must agree with it)")
    # The same data and training settings, and limits, as the web app's knobs.
    for name in ("n_series", "noise", "stride", "epochs", "seed"):
        _knob_flag(tr, name, default=KNOB[name].default)
    _knob_flag(tr, "batch_size", flag="--batch", default=KNOB["batch_size"].default)
    tr.add_argument("--lr", type=float, default=float(KNOB["lr"].default),
                    help="Adam's learning rate (the app offers " +
                         ", ".join(KNOB["lr"].choices) + ")")
    tr.add_argument("--until-mse", type=float, help="stop once validation MSE <= this")
    tr.add_argument("--threads", type=int, default=1, help="torch threads (1: measured best)")
    tr.add_argument("--json", action="store_true")
    tr.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=os.environ.get(
        "LSTMAE_DASK_SCHEDULER") or None, help="train on this Dask cluster (default: "
        "$LSTMAE_DASK_SCHEDULER; unset: in this process); any --data, no --load")
    code = sub.add_parser("code", help="print PyTorch or Keras source of the model")
    _model_flags(code)
    code.add_argument("--framework", required=True, choices=("pytorch", "keras"))
    return parser


def spec_from_args(args: argparse.Namespace) -> ModelSpec:
    """The preset for --arch with any model flags applied; SpecError if invalid."""
    given = {k: getattr(args, k) for k in MODEL_FIELDS
             if k != "arch" and getattr(args, k) is not None}
    return validate(dataclasses.replace(preset(args.arch), **given))


def _table(tr: Trace) -> str:
    head = f"{'layer':<16} {'output shape':<18} {'axes':<26} {'Keras':>9} {'PyTorch':>9}"
    choices = ", ".join(f"{k} = {v}" for k, v in tr.spec.to_dict().items() if k != "arch")
    lines = [f"{tr.spec.arch}: {get_arch(tr.spec.arch).title}", f"({choices})", head,
             "-" * len(head)]
    for r in tr.layers:
        shape = "(" + ", ".join(map(str, r.output_shape)) + ")"
        mark = "  <- code" if r.name == tr.latent else ""
        lines.append(f"{r.name:<16} {shape:<18} {'(' + ', '.join(r.axes) + ')':<26} "
                     f"{r.params_keras:>9,} {r.params_torch:>9,}{mark}")
    lines.append("-" * len(head))
    lines.append(f"{'total':<62} {tr.params_keras:>9,} {tr.params_torch:>9,}")
    verdict = "bottleneck" if tr.has_bottleneck else "NO bottleneck"
    lines.append(f"code: {tr.code.where} {tr.latent_shape}: {tr.latent_per_example} numbers "
                 f"per example vs {tr.input_per_example} in the input ({verdict}, ratio "
                 f"{tr.compression:.2f})")
    return "\n".join(lines)


def _progress(event: Epoch | Finished, total: int) -> None:
    if isinstance(event, Epoch):
        done = int(30 * event.epoch / total)
        sys.stderr.write(f"\r[{'#' * done}{'.' * (30 - done)}] epoch {event.epoch}/{total} "
                         f"loss {event.train_loss:.4g} val_mse {event.val_mse:.4g}")
        sys.stderr.flush()
    elif isinstance(event, Finished):
        sys.stderr.write(f"\n{event.reason}: {event.epochs} epochs in {event.seconds:.1f} s\n")


def _train_model(args: argparse.Namespace):
    """The model to train: a fresh one for the flags, or the one in --load."""
    from .archs import build_model
    from .weights import WeightsError, build_loaded, load

    if args.load is None:
        if args.arch is None:
            raise UsageError("train needs --arch, or --load FILE to start from a saved model")
        spec = spec_from_args(args)
        return spec, build_model(spec, seed=args.seed)
    try:
        loaded = load(Path(args.load))
    except (WeightsError, OSError) as err:
        raise UsageError(f"--load {args.load}: {err}") from None
    given = {k: getattr(args, k) for k in MODEL_FIELDS if getattr(args, k) is not None}
    differs = [f"{k} is {getattr(loaded.spec, k)} in the file, {v} on the command line"
               for k, v in given.items() if getattr(loaded.spec, k) != v]
    if differs:
        raise UsageError(f"--load {args.load}: " + "; ".join(differs))
    return loaded.spec, build_loaded(loaded)


def _data_config(args: argparse.Namespace, spec: ModelSpec):
    """--data as plain data (a DataConfig): sine with these flags, a bundled set, or a CSV
    file's bytes, so the same description trains here or on a cluster's worker."""
    if args.data == "sine":  # the app's data set (AppConfig.sine) with these flags
        flags = {"n_series": args.n_series, "noise": args.noise, "seed": args.seed}
        return AppConfig(defaults() | dataclasses.asdict(spec) | flags).sine
    if args.data in BUNDLED:  # as the web app's data knob: windows every --stride rows
        return BundledConfig(name=args.data, seq_len=spec.seq_len, stride=args.stride)
    path = Path(args.data)
    if not path.is_file():
        raise UsageError(f"--data must be sine, {', '.join(BUNDLED)} or a CSV file's path; "
                         f"no file at {shown(args.data)}")
    if path.stat().st_size > MAX_BYTES:
        raise DataError(f"{path.name} is {path.stat().st_size:,} bytes; the limit is "
                        f"{MAX_BYTES:,} bytes")
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise UsageError(f"--data {shown(args.data)}: {err.strerror or err}") from None
    config = CsvConfig(read_upload(raw, path.name, max_bytes=MAX_BYTES), seq_len=spec.seq_len,
                       stride=args.stride)
    if config.n_features != spec.n_features:
        raise UsageError(f"--data {path.name} has {config.n_features} column(s) of numbers "
                         f"({', '.join(config.file.columns)}), the model reads "
                         f"{spec.n_features} feature(s): pass --features {config.n_features}")
    return config


def _train_data(args: argparse.Namespace, spec: ModelSpec) -> tuple[object, dict]:
    """(data set with .train and .val, its description) for --data."""
    config = _data_config(args, spec)
    if args.data == "sine":
        return make_sine(config), {"source": "sine", **dataclasses.asdict(config)}
    return load(config), settings_of(config)


def _cluster_job(args: argparse.Namespace, spec: ModelSpec, cfg: TrainConfig):
    """The run as plain data for --scheduler: a worker rebuilds model and data from it alone
    (a CSV file travels as its bytes inside the JobSpec)."""
    from .jobs import JobSpec

    if args.load is not None:
        raise UsageError("--load reads a file on this machine, which the cluster's workers do "
                         "not have: train it here (without --scheduler)")
    return JobSpec(model=spec, data=_data_config(args, spec), train=cfg)


def _train(args: argparse.Namespace) -> dict:
    from .training import fit
    from .weights import save

    spec, model = _train_model(args)
    data, described = _train_data(args, spec)
    cfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                      until_mse=args.until_mse, threads=args.threads, n_show=0)
    losses: dict[str, list[float]] = {"train": [], "val": [], "val_mse": []}

    def on_event(event) -> None:
        _progress(event, cfg.epochs)
        if isinstance(event, Epoch):
            for name, value in zip(losses, (event.train_loss, event.val_loss, event.val_mse),
                                   strict=True):
                losses[name].append(value)

    if args.scheduler:  # the cluster builds model and data itself from the JobSpec
        from .jobs.dask_runner import train_on_cluster

        done, model, view = train_on_cluster(args.scheduler, _cluster_job(args, spec, cfg),
                                             on_epoch=lambda e: _progress(e, cfg.epochs))
        losses = dict(zip(losses, (list(view.train_losses), list(view.val_losses),
                                   list(view.val_mses)), strict=True))
        _progress(done, cfg.epochs)
    else:
        done = fit(model, data.train, data.val, cfg, on_event=on_event)
    if args.save is not None:
        save(model, args.save, data=described, training=cfg.to_dict(), losses=losses)
    return {"arch": spec.arch, "spec": spec.to_dict(), **done.to_dict(), "data": described,
            "n_series": args.n_series, "noise": args.noise, "batch": args.batch_size,
            "lr": args.lr, "saved": args.save, "loaded": args.load}


def run(argv: Sequence[str]) -> str:
    """Execute one command; return what goes to stdout."""
    args = build_parser().parse_args(argv)
    if args.command == "archs":
        items = [{"name": a.name, "title": a.title, "source": a.source,
                  "source_url": a.source_url, "spec": preset(a.name).to_dict()}
                 for a in REGISTRY.values()]
        return json.dumps(items) if args.json else "\n".join(
            f"{i['name']:<13} {i['title']}" for i in items)
    if args.command == "shapes":
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
    except (UsageError, SpecError, TrainConfigError, DataError, ClusterError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
