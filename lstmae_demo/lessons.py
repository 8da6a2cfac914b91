"""Lessons: a short guided path through the question the app exists for, "are the four LSTM
autoencoders all valid, and what is the bottleneck in each?".

Each step is plain data: a title, a few sentences, the page it opens and the settings it opens
it with (sidebar knobs by their `settings.KNOBS` names, and the page's own URL values such as
Time steps' `ts_step`), and a question the learner answers before the answer is revealed. A
question is built from the step's own settings by the tracer (`shapes.trace`), a real forward
pass (`shapes.probe`) or the data's numbers (`findings.mean_level`): never typed in.

`step_url(step)` is the link a teacher copies: the knobs through `settings.to_params` (only the
values that differ from the defaults, as the sidebar writes them), each checked against the knob
table first, so a step with an unknown knob or a value the server would refuse cannot be made
into a link at all. No streamlit here; the page is `pages/lessons/page.py` + `ui/lessons.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import urlencode

import torch

from . import pagevalues
from .archs import build_model
from .config import AppConfig
from .data import load
from .findings import mean_level
from .settings import ARCHS, KNOB, check_values, defaults, to_params
from .shapes.explain import bottleneck_sentence, named_shape
from .shapes.probe import probe
from .shapes.timesteps import step_views
from .shapes.trace import Trace, trace

PARAM = "lesson_step"  # the Lessons page's own URL value: which step (1-based)

# The pages a step may open, by their URL path (app.py's url_path; Home is also at "").
TARGETS: tuple[str, ...] = ("home", "architecture", "train", "timesteps", "compare", "latent",
                            "anomalies")
# Each page's own URL values a step may set, and their rules: the pages' own (pagevalues).
PAGE_VALUES = pagevalues.PAGE_VALUES


@dataclass(frozen=True)
class Question:
    """Predict, then reveal: one right choice among a few, and why."""

    prompt: str
    choices: tuple[str, ...]
    answer: str  # one of choices
    explanation: str  # Markdown of our own words and computed numbers

    def __post_init__(self) -> None:
        if self.answer not in self.choices:
            raise ValueError(f"the answer {self.answer!r} is not among {self.choices}")
        if len(set(self.choices)) != len(self.choices):
            raise ValueError(f"two choices read the same: {self.choices}")


@dataclass(frozen=True)
class Step:
    """One step of the lesson: read, open the page with these settings, answer."""

    title: str
    text: str  # Markdown: what to look at and why
    page: str  # one of TARGETS
    settings: Mapping[str, Any]  # sidebar knobs (settings.KNOB names) -> value; rest default
    # built from the step's own configuration and page values
    question: Callable[[AppConfig, Mapping[str, str]], Question]
    page_values: Mapping[str, str] = field(default_factory=dict)  # the page's own URL values
    look_for: str = ""  # one line: what to look at on the opened page

    def ask(self) -> Question:
        """The step's question, answered from its own settings."""
        return self.question(config_of(self), self.page_values)


def config_of(step: Step) -> AppConfig:
    """The configuration the step's link opens: every knob at its default but the step's."""
    return AppConfig(defaults() | dict(step.settings))


def _check_page_values(step: Step, config: AppConfig) -> list[str]:
    """What is wrong with the step's page values (the rules the target page applies, written
    as the page writes them: a value that parses but reads back otherwise is refused too)."""
    rules = pagevalues.page_rules(step.page, config.spec.seq_len)
    problems = []
    for name, value in step.page_values.items():
        if name not in rules:
            problems.append(f"{step.page} has no URL value {name!r}")
            continue
        try:
            ok = isinstance(value, str) and str(rules[name](value)) == value
        except ValueError:
            ok = False
        if not ok:
            problems.append(f"{name}={value!r} is not allowed on {step.page}")
    return problems


def check_step(step: Step) -> None:
    """Raise ValueError unless every setting is a known knob with a value the server allows,
    the knobs fit together, the page exists and its own values are ones it accepts."""
    problems = [] if step.page in TARGETS else [f"unknown page {step.page!r}"]
    for name, value in step.settings.items():
        if name not in KNOB:
            problems.append(f"unknown knob {name!r}")
            continue
        try:
            parsed = KNOB[name].parse(value)
        except ValueError as err:
            problems.append(str(err))
            continue
        if parsed != value or type(parsed) is not type(value):
            problems.append(f"{name}={value!r} reads back as {parsed!r}")
    if not problems:
        problems += check_values(config_of(step).values)
        problems += _check_page_values(step, config_of(step))
    if problems:
        raise ValueError(f"step {step.title!r}: " + "; ".join(problems))


def step_params(step: Step) -> dict[str, str]:
    """The step's URL query: its knobs as the sidebar writes them, then its page values."""
    check_step(step)
    return to_params(config_of(step).values) | dict(step.page_values)


def step_path(step: Step) -> str:
    """The path of the step's page in the app's URL ("" for Home, the default page)."""
    return "" if step.page == "home" else step.page


def step_url(step: Step, base: str = "") -> str:
    """The step's link: `base` (the app's address, no trailing slash) + page + query."""
    query = urlencode(step_params(step))
    return f"{base}/{step_path(step)}" + (f"?{query}" if query else "")


def lesson_url(number: int, base: str = "") -> str:
    """The Lessons page itself at step `number` (1-based)."""
    if not 1 <= number <= len(STEPS):
        raise ValueError(f"{PARAM} must be from 1 to {len(STEPS)}, got {number}")
    return f"{base}/lessons" + ("" if number == 1 else f"?{PARAM}={number}")


# --- the questions, each from the step's own configuration -----------------------------------


def _trace(config: AppConfig, **changes: Any) -> Trace:
    """The tracer's record at the sidebar's batch size for the shapes (as the pages show)."""
    changed = config.with_values(**changes) if changes else config
    return trace(changed.spec, batch=changed.values["batch"])


def _one_step_forward(config: AppConfig, t: int) -> tuple[Trace, list]:
    """The step views at step t (1-based) of a real forward pass of the seeded, untrained
    model on validation series 1 (what the Time steps page shows for these settings)."""
    spec, tr = config.spec, trace(config.spec, batch=1)
    model = build_model(spec, seed=config.values["seed"]).eval()
    x = torch.from_numpy(load(config.data).val[0:1])  # (1, T, F)
    return tr, step_views(tr, probe(model, tr, x), t - 1)


def _no_fixed_code(config: AppConfig, _: Mapping[str, str]) -> Question:
    traces = {arch: _trace(config, arch=arch) for arch in ARCHS}
    without = [a for a, tr in traces.items() if not tr.code.fixed_size]
    if len(without) != 1:
        raise ValueError(f"expected one architecture without a fixed-size code, got {without}")
    lines = "\n".join(f"- **{a}**: {tr.code.per_example:,} numbers ({tr.code.where})"
                      for a, tr in traces.items())
    return Question(
        prompt="At these settings, which architecture gives its decoder no fixed-size code "
               "at all: what the decoder may read grows with the length of the series?",
        choices=ARCHS, answer=without[0],
        explanation=f"What each decoder can read of its encoder, per example, against "
                    f"{traces[ARCHS[0]].input_per_example} numbers in the input:\n\n{lines}")


def _copying(config: AppConfig, _: Mapping[str, str]) -> Question:
    tr = _trace(config)
    spec = tr.spec
    sizes = {spec.units, 2 * spec.units, tr.input_per_example, spec.seq_len * spec.units,
             tr.latent_per_example}
    state = _trace(config, reads="state")
    return Question(
        prompt=f"The embedding model here reads every encoder output, step by step "
               f"(reads = {spec.reads}). How many numbers per example can its decoder read "
               f"(T = {spec.seq_len}, U = {spec.units})?",
        choices=tuple(f"{n:,}" for n in sorted(sizes)), answer=f"{tr.latent_per_example:,}",
        explanation=f"{bottleneck_sentence(tr)}\n\nWith reads = state the decoder gets only "
                    f"the final state: {bottleneck_sentence(state)}")


def _h_n(config: AppConfig, page_values: Mapping[str, str]) -> Question:
    t = int(page_values["ts_step"])
    _, views = _one_step_forward(config, t)
    tr = _trace(config)
    view = next(v for v in views if v.name == tr.code.record)
    yes, no = (f"yes: its h_{t} goes on to the next layer",
               f"no: h_{t} is computed, then thrown away")
    return Question(
        prompt=f"At step {t} of {tr.spec.seq_len}, does {tr.code.record} hand anything on "
               "towards the decoder?",
        choices=(yes, no), answer=yes if view.sent_at_t else no,
        explanation=f"What the Time steps page shows for it at step {t} (a real forward pass "
                    f"of this model): {view.produces}. The code is {tr.code.where}, "
                    f"{named_shape(tr.code.shape, tr.code.axes)}: one vector of "
                    f"{tr.code.per_example} numbers after the whole series has been read, "
                    f"whatever T is. Move the step slider to {tr.spec.seq_len} and it is "
                    "handed on.")


def _reversed(config: AppConfig, page_values: Mapping[str, str]) -> Question:
    tr = _trace(config)
    last = tr.spec.seq_len
    t = int(page_values.get("ts_step", last))  # the step the page opens at
    decoder = [r for r in tr.layers if r.role == "decoder" and r.kind == "LSTM"]
    backwards = any(r.passes == "reversed" for r in decoder)
    first, final = "x'(1), the first step", f"x'({last}), the last step"
    _, views = _one_step_forward(config, t)
    seen = next(v for v in views if v.name == decoder[0].name)
    return Question(
        prompt="The decoder starts from the encoder's final state. Which step of the series "
               "does it rebuild first?",
        choices=(first, final), answer=final if backwards else first,
        explanation=f"{decoder[0].what} At step {t} the Time steps page shows the decoder "
                    f"computing {seen.produces} (a real forward pass of this model). The "
                    f"encoder's final state was computed right after reading x({last}), so "
                    f"x({last}) is the freshest thing it holds: the first thing to rebuild is "
                    "one step away, not the whole series away. Srivastava et al. (2015), whose "
                    "decoders EncDec-AD follows, reverse the target for this reason: the model "
                    "can get going on short-range correlations first.")


def _mean_plateau(config: AppConfig, _: Mapping[str, str]) -> Question:
    data = load(config.data)
    level = mean_level(data.train, data.val)
    options = (level / 10, level, level * 3)
    return Question(
        prompt="Before you press Train: a model that ignores its input and outputs the "
               "training data's mean at every step scores what validation MSE on this data?",
        choices=tuple(f"{v:.2g}" for v in options), answer=f"{level:.2g}",
        explanation=f"{level:.3g}: the mean squared distance of the validation series from "
                    "the training data's mean. A model that has not yet learned to read its "
                    "input sits there (the \"predict the mean\" plateau); watch the validation "
                    "curve start near it and then leave it as the code starts to carry the "
                    "series. The finding under the curve says when it left.")


STEPS: tuple[Step, ...] = (
    Step(
        title="What is the code of each architecture?",
        text="An autoencoder is only forced to learn something if its decoder has to rebuild "
             "the series from a **code** smaller than the series. Home shows the four "
             "architectures side by side at the same settings: where each one's code is and "
             "how many numbers it holds.",
        page="home", settings={},
        look_for="each card's \"numbers in the code\" against \"numbers in the input\"",
        question=_no_fixed_code),
    Step(
        title="Copying is not compressing",
        text="The embedding architecture's encoder returns every output, and what the decoder "
             "reads of them is a choice. Reading every output step by step, the decoder has "
             "more numbers than the input itself: it can learn to copy, and a low loss then "
             "says nothing about a summary. The Architecture page shows where the code is.",
        page="architecture", settings={"arch": "embedding", "reads": "steps"},
        look_for="the code's shape and the verdict under the diagram; then switch "
                 "\"What the decoder reads\" to final state only",
        question=_copying),
    Step(
        title="Why h_n?",
        text="The ECG tutorial's model takes `h_n` of its second encoder LSTM: the hidden "
             "state after the last step. Every step computes an h, but only the last one is "
             "handed on, so the code has the same size however long the series is. The Time "
             "steps page shows, step by step, what each layer hands on.",
        page="timesteps", settings={"arch": "hidden_n"},
        page_values={"ts_model": "untrained", "ts_step": "25"},
        look_for="the row of the second encoder LSTM at step 25, then at the last step",
        question=_h_n),
    Step(
        title="Why does the paper decode backwards?",
        text="EncDec-AD (Malhotra et al. 2016) hands the encoder's final state to the decoder "
             "as its initial state, and the decoder rebuilds the series in reverse. The Time "
             "steps page opens at the last step, where the decoder begins.",
        page="timesteps", settings={"arch": "encdec_ad"},
        page_values={"ts_model": "untrained", "ts_step": "50"},
        look_for="the decoder LSTM's row: which step it computes first",
        question=_reversed),
    Step(
        title="Train one and watch",
        text="Now train the Keras tutorial's model (RepeatVector) on sine waves and watch the "
             "loss curves and the reconstructions. Predict first where the validation curve "
             "starts.",
        page="train", settings={"arch": "repeatvector", "epochs": 40},
        look_for="the validation curve's first epochs, and the reconstructions as it drops",
        question=_mean_plateau),
)

# The step numbers a link may name, 1-based.
NUMBERS = MappingProxyType({i + 1: step for i, step in enumerate(STEPS)})
