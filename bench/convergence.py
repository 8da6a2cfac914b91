"""Section 3: wall time until validation MSE < 0.01 for each preset at the app's defaults."""

from __future__ import annotations

from dataclasses import replace

from lstmae_demo.archs import build_model
from lstmae_demo.config import AppConfig, defaults
from lstmae_demo.data import make_sine
from lstmae_demo.spec import ARCHS
from lstmae_demo.training import Epoch, Finished, train

from .common import Section, fmt_x, median, verdict

TARGET = 0.01  # validation MSE: a reconstruction that is good to the eye
RECOGNISABLE = 0.05  # validation MSE: the four curves on the Train page clearly follow the inputs
TARGET_SECONDS, RECOGNISABLE_SECONDS = 30.0, 5.0


def run_to_target(values: dict) -> dict:
    """Train like the app's job does (1 thread, snapshots) and note when the targets fall."""
    app = AppConfig(values)
    data = make_sine(app.sine)
    cfg = replace(app.train, threads=1)
    model = build_model(app.spec, seed=values["seed"])
    curve: list[tuple[float, float]] = []
    finished = None
    for event in train(model, data.train, data.val, cfg):
        if isinstance(event, Epoch):
            curve.append((event.elapsed, event.val_mse))
        elif isinstance(event, Finished):
            finished = event

    def first(limit: float, strict: bool) -> tuple[float | None, int | None]:
        for epoch, (elapsed, mse) in enumerate(curve, start=1):
            if mse < limit or (not strict and mse <= limit):
                return elapsed, epoch
        return None, None

    t_target, e_target = first(TARGET, strict=True)
    t_seen, _ = first(RECOGNISABLE, strict=False)
    tail = [m for _, m in curve[int(len(curve) * 0.8):]] or [float("nan")]
    return {"arch": values["arch"], "seed": values["seed"], "t_target": t_target,
            "epoch_target": e_target, "t_recognisable": t_seen, "epochs": len(curve),
            "final_mse": curve[-1][1] if curve else float("nan"), "tail_max": max(tail),
            "seconds": finished.seconds if finished else (curve[-1][0] if curve else 0.0)}


def _cell(seconds: float | None) -> str:
    return "not reached" if seconds is None else f"{seconds:.1f} s"


def run(quick: bool = False, reference_epoch: float | None = None) -> Section:
    """Measure and describe time to a good reconstruction."""
    sec = Section("3. Time to a good reconstruction")
    seeds = [0] if quick else [0, 1, 2, 3, 4]
    base = defaults()
    rows, results = [], []
    for arch in ARCHS:
        per_seed = []
        for seed in seeds:
            values = dict(base, arch=arch, seed=seed)
            if quick:
                values.update(epochs=2, n_series=64)
            per_seed.append(run_to_target(values))
        results.extend(per_seed)
        reached = [r["t_target"] for r in per_seed]
        seen = [r["t_recognisable"] for r in per_seed]
        worst = None if None in reached else max(reached)
        worst_seen = None if None in seen else max(seen)
        if not quick:
            default_seen = per_seed[0]["t_recognisable"]  # seeds[0] is the app's default, 0
            sec.target(f"{arch}: time to a recognisable reconstruction at the default settings "
                       "(seed 0)", _cell(default_seen), f"<= {RECOGNISABLE_SECONDS:g} s",
                       default_seen is not None and default_seen <= RECOGNISABLE_SECONDS)
            sec.target(f"{arch}: time to val MSE < {TARGET} (slowest of {len(seeds)} seeds)",
                       _cell(worst), f"<= {TARGET_SECONDS:g} s",
                       worst is not None and worst <= TARGET_SECONDS)
            sec.target(f"{arch}: time to a recognisable reconstruction (MSE <= {RECOGNISABLE}, "
                       f"slowest of {len(seeds)} seeds)",
                       _cell(worst_seen), f"<= {RECOGNISABLE_SECONDS:g} s",
                       worst_seen is not None and worst_seen <= RECOGNISABLE_SECONDS)
        ref = "-" if worst is None or not reference_epoch else fmt_x(worst / reference_epoch)
        rows.append([
            arch, " / ".join(_cell(s) for s in seen), " / ".join(_cell(s) for s in reached),
            " / ".join(str(r["epoch_target"] or "-") for r in per_seed),
            " / ".join(f"{r['final_mse']:.4f}" for r in per_seed),
            " / ".join(f"{r['tail_max']:.4f}" for r in per_seed),
            f"{median([r['seconds'] for r in per_seed]):.1f} s", ref,
            verdict(None if quick else worst_seen is not None
                    and worst_seen <= RECOGNISABLE_SECONDS),
            verdict(None if quick else worst is not None and worst <= TARGET_SECONDS),
        ])
    d = base
    sec.add(
        f"Each preset trained exactly as the app's job trains it (1 torch thread, validation "
        f"and four snapshots every epoch) at the app's defaults: {d['units']} units, "
        f"{d['activation']}, {d['n_series']} series of {d['seq_len']} steps "
        f"({d['freq_min']:g}-{d['freq_max']:g} cycles per window, random phase, noise "
        f"{d['noise']:g}), batch {d['batch_size']}, Adam lr {d['lr']}, clipping at "
        f"{AppConfig(d).train.clip_norm:g}, {d['epochs']} epochs. Seeds "
        f"{', '.join(map(str, seeds))} (the app's seed knob: data and initial weights); one "
        f"value per seed. Times are wall-clock from the start of the run (validation "
        f"included), in a process that has already built one optimiser (the first optimiser "
        f"of a process imports torch._dynamo once, measured in section 5). "
        f"*Recognisable* = validation MSE <= {RECOGNISABLE} (the inputs' variance is 0.32, so "
        f"85% of it explained: the four reconstructions on the Train page follow the inputs' "
        f"frequency and phase). *Tail max* = the worst validation MSE over the last 20% of the "
        f"epochs (does the model stay good?). *x ref* = the slowest seed's time to < {TARGET} "
        f"as a multiple of the reference bare-loop epoch (section 0)."
    )
    if quick:
        sec.add("", "**--quick: 2 epochs on 64 series only; these are not the real figures.**")
    sec.table(["preset", f"time to MSE <= {RECOGNISABLE}", f"time to MSE < {TARGET}",
               "epochs to target", "final val MSE", "tail max", "run (all epochs)", "x ref",
               f"recognisable <= {RECOGNISABLE_SECONDS:g} s", f"target <= {TARGET_SECONDS:g} s"],
              rows)
    sec.data["runs"] = results
    return sec

