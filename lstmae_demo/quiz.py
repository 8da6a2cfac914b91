"""Quiz questions (predict, then reveal), generated from a seed and a level.

Each question is drawn from a random valid configuration of one architecture and its choices
(the model knobs of `settings.KNOBS` that have choices), and its answer is read off the shape
tracer, the architecture registry or the pitfall runner, never typed in. The wrong choices are
other real numbers or texts that a learner might predict (the axes swapped, the other
framework's count, the other state, another pitfall's error), each checked to differ from the
answer. The same seed and level always give the same questions, so a teacher's link gives a
whole class the same set.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, replace

from .archs import REGISTRY, get_arch
from .nn import HANDS_ON
from .pitfalls import PITFALLS, ExecutedPitfall, RecordedPitfall, execute
from .pitfalls.runner import recorded
from .settings import ARCHS, KNOB, KNOBS
from .shapes.explain import bottleneck_sentence, named_shape
from .shapes.records import BATCH, BINS, FEATURES, SEQ, STATE, UNITS, LayerRecord
from .shapes.trace import Trace, trace
from .spec import ModelSpec, validate

LEVELS: tuple[str, ...] = ("easy", "medium", "hard")
DEFAULT_LEVEL = "medium"
SET_SIZE = 10  # questions in one set
MAX_SEED = 1_000_000
KINDS: tuple[str, ...] = ("shape", "params", "code", "bottleneck", "pitfall")
FRAMEWORKS: tuple[str, ...] = ("Keras", "PyTorch")
NO_EXCEPTION = "No exception: the line runs"

# Per level: the kinds of a set (in a shuffled order), how many choices a multiple-choice
# question offers, and the ranges the random configurations are drawn from.
_LEVEL_KINDS = {
    "easy": ("shape", "shape", "shape", "code", "code", "bottleneck", "bottleneck", "params",
             "params", "pitfall"),
    "medium": ("shape", "shape", "params", "params", "code", "code", "bottleneck", "bottleneck",
               "pitfall", "pitfall"),
    "hard": ("shape", "shape", "params", "params", "params", "code", "code", "bottleneck",
             "pitfall", "pitfall"),
}
_N_CHOICES = {"easy": 3, "medium": 4, "hard": 5}
_BATCHES = {"easy": (4, 8), "medium": (4, 8, 16, 32), "hard": (1, 2, 3, 5, 16, 64)}
_MAX_FEATURES = {"easy": 1, "medium": 3, "hard": 8}
_SEQ_LENS = {"easy": (5, 30), "medium": (3, 60), "hard": (2, 120)}
_UNITS = {"easy": (2, 32), "medium": (2, 64), "hard": (1, 128)}


@dataclass(frozen=True)
class Question:
    """One question: what to ask, its answer, the wrong choices among which it hides, and why."""

    kind: str  # one of KINDS
    level: str
    index: int  # its place in the set, from 0
    prompt: str  # the question in words (our own text: safe as Markdown)
    answer: str  # the right answer as shown
    choices: tuple[str, ...]  # the answer and the wrong ones, shuffled; empty: enter a number
    explanation: str  # why the answer is right (our own text)
    spec: ModelSpec  # the configuration asked about (a pitfall's: its architecture's preset)
    batch: int  # the batch size the shapes are traced for
    highlight: str | None = None  # the trace record (layer) to highlight in the diagram
    value: object = None  # the answer as data: a shape tuple, a count, a bool, an error text
    framework: str = ""  # params: whose count ("Keras" or "PyTorch")
    code: str = ""  # pitfall: the snippet, exactly as the runner runs it (or recorded it)
    code_line: int = 0  # pitfall: the line (from 1) that raises
    pitfall: str = ""  # pitfall: its key
    from_framework: bool = False  # the answer and the choices are a framework's messages

    @property
    def entered(self) -> bool:
        """The learner types a whole number instead of picking a choice."""
        return not self.choices

    def is_right(self, prediction: object) -> bool:
        """Whether a pick (a choice's text) or an entered number is this question's answer."""
        if prediction is None:
            return False
        if self.entered:
            try:
                return int(str(prediction).replace(",", "").strip()) == self.value
            except ValueError:
                return False
        return str(prediction) == self.answer


def variants() -> tuple[ModelSpec, ...]:
    """Every architecture with every combination of its own choices (the model knobs with
    choices in settings.KNOBS, apart from the architecture and the activation)."""
    out = []
    for arch in ARCHS:
        own = [k for k in KNOBS if k.group == "model" and k.choices
               and k.name not in ("arch", "activation") and k.applies_to(arch)]
        for combo in itertools.product(*(k.choices for k in own)):
            out.append(ModelSpec(arch=arch, **{k.name: c for k, c in zip(own, combo,
                                                                         strict=True)}))
    return tuple(out)


def describe(spec: ModelSpec) -> str:
    """A configuration in one line: the architecture and every knob it uses."""
    parts = [f"{name}={value}" for name, value in spec.to_dict().items() if name != "arch"]
    return f"{spec.arch} ({', '.join(parts)})"


def check_level(level: str) -> str:
    """`level` if it is one of LEVELS, else ValueError saying what is allowed."""
    if level not in LEVELS:
        raise ValueError(f"the level must be one of {', '.join(LEVELS)}")
    return level


def question_set(seed: int, level: str, size: int = SET_SIZE) -> tuple[Question, ...]:
    """The `size` questions of the set for this seed and level (the same every time)."""
    return tuple(question(seed, level, i) for i in range(size))


def kinds(seed: int, level: str) -> tuple[str, ...]:
    """The kind of each question of the set for `seed` and `level`, in order."""
    return _plan(seed, level)[0]


def _plan(seed: int, level: str) -> tuple[tuple[str, ...], random.Random]:
    check_level(level)
    plan = random.Random(f"quiz-plan-{seed}-{level}")  # str seeds are stable across runs
    order = list(_LEVEL_KINDS[level])
    plan.shuffle(order)
    return tuple(order), plan


def question(seed: int, level: str, index: int) -> Question:
    """Question `index` of the set for `seed` and `level` (the same every time)."""
    order, plan = _plan(seed, level)
    all_variants = list(variants())
    plan.shuffle(all_variants)
    pitfalls = list(raising_pitfalls())
    plan.shuffle(pitfalls)
    rng = random.Random(f"quiz-{seed}-{level}-{index}")
    kind = order[index % len(order)]
    if kind == "pitfall":  # a set asks about different pitfalls
        nth = sum(1 for i in range(index) if order[i % len(order)] == "pitfall")
        return _pitfall_question(rng, level, index, pitfalls[nth % len(pitfalls)])
    spec = _configuration(rng, level, all_variants[index % len(all_variants)])
    batch = rng.choice(_BATCHES[level])
    tr = trace(spec, batch)
    make: Callable[..., Question] = {"shape": _shape_question, "params": _params_question,
                                     "code": _code_question,
                                     "bottleneck": _bottleneck_question}[kind]
    return make(rng, level, index, tr)


# --- configurations ---------------------------------------------------------------------------


def _configuration(rng: random.Random, level: str, variant: ModelSpec) -> ModelSpec:
    """Random sizes (within the level's ranges and the knob table's limits) for one variant."""
    arch = variant.arch
    low_t = max(_SEQ_LENS[level][0], KNOB["seq_len"].low_for.get(arch, (1, ""))[0])
    seq_len = rng.randint(low_t, _SEQ_LENS[level][1])
    n_features = 1
    if KNOB["n_features"].applies_to(arch):
        n_features = rng.randint(1, _MAX_FEATURES[level])
    units = rng.randint(*_UNITS[level])
    activation = rng.choice(KNOB["activation"].choices) if level == "hard" else "tanh"
    bins = rng.randint(2, 64) if KNOB["bins"].applies_to(arch) else KNOB["bins"].default
    spec = replace(variant, seq_len=seq_len, n_features=n_features, units=units,
                   activation=activation, bins=bins)
    return validate(spec)


def _asked_layers(tr: Trace, with_params: bool) -> list[LayerRecord]:
    """The layers a question may ask about: not the input (its shape is given)."""
    rows = [r for r in tr.layers if r.module is not None]
    return [r for r in rows if r.params_torch > 0] if with_params else rows


def _shuffled(rng: random.Random, items: list) -> list:
    items = list(items)
    rng.shuffle(items)
    return items


def _pick(rng: random.Random, answer: str, wrong: list[str], n_choices: int) -> tuple[str, ...]:
    """The answer and the first n_choices - 1 distinct wrong ones (`wrong` lists the likeliest
    mistakes first), shuffled."""
    others: list[str] = []
    for text in wrong:
        if text != answer and text not in others:
            others.append(text)
    return tuple(_shuffled(rng, [answer, *others[: n_choices - 1]]))


# --- shape ------------------------------------------------------------------------------------


def _wrong_shapes(rng: random.Random, rec: LayerRecord,
                  tr: Trace) -> list[tuple[tuple[int, ...], tuple[str, ...]]]:
    """Shapes a learner might predict for this layer instead, likeliest first: the sequence
    where it hands on one vector (and the other way round), batch and time swapped, a state's
    layers axis dropped or moved, an LSTM's whole output; then its axes in any other order."""
    shape, axes = rec.output_shape, rec.axes
    pairs = list(zip(shape, axes, strict=True))
    permuted = [tuple(zip(*p, strict=True)) for p in itertools.permutations(pairs)
                if p != tuple(pairs)]
    out: list[tuple[tuple[int, ...], tuple[str, ...]]] = []
    b, t = tr.batch, tr.spec.seq_len
    last = pairs[-1]
    if axes[-1] == SEQ:  # token ids (batch, seq): the input's feature axis kept, or one-hot
        out.append(((b, t, 1), (BATCH, SEQ, FEATURES)))
        out.append(((b, t, tr.spec.bins), (BATCH, SEQ, BINS)))
    elif SEQ in axes:  # a sequence: "only the last step" or "one vector" instead
        out.append(((b, last[0]), (BATCH, last[1])))
        out.append(((t, b, last[0]), (SEQ, BATCH, last[1])))  # batch_first forgotten
    else:  # one vector or a state: "every step" instead
        out.append(((b, t, last[0]), (BATCH, SEQ, last[1])))
    if STATE in axes:  # (layers, batch, units): h_n[-1] or a batch-first state instead
        out.append(((b, last[0]), (BATCH, UNITS)))
        out.append(((b, 1, last[0]), (BATCH, STATE, UNITS)))
    elif len(axes) == 2 and axes[0] == BATCH and axes[1] == UNITS:
        out.append(((1, b, last[0]), (STATE, BATCH, UNITS)))  # h_n itself, not h_n[-1]
    if rec.full_output_shape is not None and rec.full_output_shape != shape:
        full = rec.full_output_shape  # an LSTM's whole `output`, not what it hands on
        out.append((full, (BATCH, SEQ, UNITS)))
    return _shuffled(rng, out) + _shuffled(rng, permuted)


def _shape_question(rng: random.Random, level: str, index: int, tr: Trace) -> Question:
    rec = rng.choice(_asked_layers(tr, with_params=False))
    answer = named_shape(rec.output_shape, rec.axes)
    wrong = [named_shape(s, a) for s, a in _wrong_shapes(rng, rec, tr)]
    given = named_shape(tr.input_shape, tr.layers[0].axes)
    which = {"state": " It hands on two tensors, h_n and c_n: what is the shape of each?",
             "sequence_state": " It hands on every step's output and its final state: what is "
                               "the shape of the outputs?"}.get(rec.passes, "")
    prompt = (f"**{describe(tr.spec)}**, a batch of {tr.batch} series, input {given}. "
              f"What shape does the **{rec.name}** hand on to the next layer (PyTorch, "
              f"batch_first=True)?{which} Give the axes in order.")
    explanation = (f"{rec.what} It hands on {HANDS_ON[rec.passes]}. In PyTorch: "
                   f"`{rec.torch}`, shape {answer}; Keras's summary shows {_keras_shape(rec)} "
                   "(None is the batch).")
    return Question("shape", level, index, prompt, answer,
                    _pick(rng, answer, wrong, _N_CHOICES[level]), explanation, tr.spec,
                    tr.batch, highlight=rec.name, value=rec.output_shape)


def _keras_shape(rec: LayerRecord) -> str:
    return "(" + ", ".join("None" if n is None else str(n) for n in rec.keras_shape) + ")"


# --- parameters -------------------------------------------------------------------------------


def _count(rec: LayerRecord, framework: str) -> int:
    return rec.params_keras if framework == "Keras" else rec.params_torch


def _lstm_sizes(rec: LayerRecord) -> tuple[int, int]:
    """(input size, units) of an LSTM record, from its state's shape and PyTorch's count."""
    units = rec.h_n[-1]
    input_size = (rec.params_torch // 4 - units * units - 2 * units) // units
    return input_size, units


def _params_explanation(rec: LayerRecord, framework: str) -> str:
    if rec.kind == "LSTM":
        i, u = _lstm_sizes(rec)
        return (f"An LSTM has 4 gates, each with an input kernel ({i} x {u}), a recurrent "
                f"kernel ({u} x {u}) and biases. Keras keeps one bias per gate: 4 x ({i}·{u} + "
                f"{u}·{u} + {u}) = {rec.params_keras:,}. PyTorch's nn.LSTM keeps two (b_ih and "
                f"b_hh): 4 x ({i}·{u} + {u}·{u} + 2·{u}) = {rec.params_torch:,}. So in "
                f"{framework}: {_count(rec, framework):,}.")
    if rec.kind == "Embedding":
        units = rec.output_shape[-1]
        bins = rec.params_torch // units
        return (f"An embedding table has one learned {units}-vector per id: {bins} x {units} = "
                f"{rec.params_torch:,}, and no bias, in both frameworks.")
    outputs = rec.output_shape[-1]
    inputs = (rec.params_torch - outputs) // outputs
    return (f"A Dense / nn.Linear layer has a weight per input and output plus one bias per "
            f"output: {inputs} x {outputs} + {outputs} = {rec.params_torch:,}, the same in "
            "both frameworks.")


def _wrong_counts(rng: random.Random, rec: LayerRecord, tr: Trace, framework: str) -> list[int]:
    """Counts a learner might predict, likeliest first: the other framework's; the biases
    forgotten or doubled, the gates or the recurrent kernel forgotten, input size and units
    swapped; another layer's count, the whole model's."""
    other = "PyTorch" if framework == "Keras" else "Keras"
    if rec.kind == "LSTM":
        i, u = _lstm_sizes(rec)
        biases = 1 if framework == "Keras" else 2
        slips = [4 * (i * u + u * u), i * u + u * u + biases * u, 4 * (i * u + biases * u),
                 4 * (u * i + i * i + biases * i)]
    else:
        outputs = rec.output_shape[-1]
        inputs = rec.params_torch // outputs if rec.kind == "Embedding" else \
            (rec.params_torch - outputs) // outputs
        slips = [inputs * outputs + outputs, inputs * outputs, (inputs + 1) * (outputs + 1),
                 inputs * outputs + inputs]
    layers = [_count(r, framework) for r in tr.layers if r.params_torch > 0]
    layers.append(tr.params_keras if framework == "Keras" else tr.params_torch)
    out = [_count(rec, other), *_shuffled(rng, slips), *_shuffled(rng, layers)]
    return [n for n in out if n > 0]


def _params_question(rng: random.Random, level: str, index: int, tr: Trace) -> Question:
    rec = rng.choice(_asked_layers(tr, with_params=True))
    framework = rng.choice(FRAMEWORKS) if level != "easy" else "PyTorch"
    value = _count(rec, framework)
    answer = f"{value:,}"
    enter = level == "hard"
    choices = () if enter else _pick(
        rng, answer, [f"{n:,}" for n in _wrong_counts(rng, rec, tr, framework) if n != value],
        _N_CHOICES[level])
    how = "Type the number" if enter else "Pick one"
    prompt = (f"**{describe(tr.spec)}**. How many parameters does the **{rec.name}** have, "
              f"as **{framework}** counts them? {how}.")
    code = rec.keras if framework == "Keras" else rec.torch
    explanation = f"`{code}`. {_params_explanation(rec, framework)}"
    return Question("params", level, index, prompt, answer, choices, explanation, tr.spec,
                    tr.batch, highlight=rec.name, value=value, framework=framework)


# --- where the code is ------------------------------------------------------------------------


def _code_text(name: str, numbers: int) -> str:
    return f"{name}: {numbers:,} numbers per example"


def _code_question(rng: random.Random, level: str, index: int, tr: Trace) -> Question:
    code = tr.code
    answer = _code_text(code.record, code.per_example)
    rec = tr.record(code.record)
    units = rec.h_n[-1] if rec.h_n else rec.output_shape[-1]
    t = tr.spec.seq_len
    sizes = [_code_text(code.record, n) for n in (units, 2 * units, t * units,
                                                  t * units + 2 * units)]
    elsewhere = [_code_text(r.name, r.numbers_per_example) for r in _asked_layers(tr, False)
                 if r.name != code.record and r.role != "output"]
    wrong = [w for w in _shuffled(rng, sizes) + _shuffled(rng, elsewhere) if w != answer]
    prompt = (f"**{describe(tr.spec)}**. Where is this model's code (the most the decoder can "
              "read of the encoder), and how many numbers per example does it hold?")
    explanation = f"{bottleneck_sentence(tr)} (Shapes for a batch of {tr.batch}.)"
    return Question("code", level, index, prompt, answer,
                    _pick(rng, answer, wrong, _N_CHOICES[level]), explanation, tr.spec,
                    tr.batch, highlight=code.record, value=code.per_example)


# --- is there a bottleneck --------------------------------------------------------------------

BOTTLENECK_CHOICES: tuple[str, ...] = (
    "Yes: a fixed-size code, smaller than the input",
    "No: the code is fixed in size, but as big as the input or bigger",
    "No: the decoder reads every encoder output, so the code grows with the series",
)


def _bottleneck_question(rng: random.Random, level: str, index: int, tr: Trace) -> Question:
    if not tr.code.fixed_size:
        answer = BOTTLENECK_CHOICES[2]
    else:
        answer = BOTTLENECK_CHOICES[0] if tr.has_bottleneck else BOTTLENECK_CHOICES[1]
    prompt = (f"**{describe(tr.spec)}**: {tr.input_per_example:,} numbers per example go in. "
              "Does this configuration have a bottleneck?")
    explanation = f"{bottleneck_sentence(tr)} {get_arch(tr.spec.arch).validity(tr.spec)}"
    return Question("bottleneck", level, index, prompt, answer, BOTTLENECK_CHOICES, explanation,
                    tr.spec, tr.batch, highlight=tr.code.record, value=tr.has_bottleneck)


# --- which error does this line raise ---------------------------------------------------------


@dataclass(frozen=True)
class Raised:
    """What a pitfall's faulty snippet raised: the exception line as the runner recorded it,
    and the line of the snippet that raised it."""

    key: str
    error: str  # "Type: message", the first line of the exception in the runner's message
    line: int  # from 1


def _exception_line(message: str) -> str:
    """The first line of the exception in a pitfall message (warnings come before it)."""
    for line in message.splitlines():
        head = line.split(":", 1)[0]
        if ":" in line and head.isidentifier() and not head.endswith("Warning"):
            return line
    raise ValueError(f"no exception in the message {message[:80]!r}")


def raised(key: str) -> Raised:
    """Run pitfall `key`'s faulty snippet (or read Keras's record) and say what it raised and
    where. Only pitfalls that are expected to raise can be asked about."""
    pitfall = PITFALLS[key]
    if isinstance(pitfall, RecordedPitfall):
        symptom, _ = pitfall.observe()
        line = recorded(pitfall.record)["faulty"]["error_line"]
        return Raised(key, _exception_line(symptom.message), int(line))
    if not isinstance(pitfall, ExecutedPitfall):
        raise TypeError(f"pitfall {key!r} is neither run here nor recorded")
    run = execute(pitfall.code, key)
    if run.error is None:
        raise ValueError(f"pitfall {key!r} raised nothing")
    symptom = pitfall.symptom(run)  # the same reading as the Architecture page's
    line, tb = 0, run.error.__traceback__
    while tb is not None:  # the last frame in the snippet itself is the line that raised
        if tb.tb_frame.f_code.co_filename == f"<pitfall {key}>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return Raised(key, _exception_line(symptom.message), line)


def raising_pitfalls() -> tuple[str, ...]:
    """The pitfalls whose faulty line raises (with the pinned frameworks), in catalogue order."""
    return tuple(k for k, p in PITFALLS.items() if p.expects == "error")


def _arch_of(key: str) -> str:
    return next(name for name, arch in REGISTRY.items() if key in arch.pitfalls)


def _pitfall_question(rng: random.Random, level: str, index: int, key: str) -> Question:
    keys = raising_pitfalls()
    found = raised(key)
    others = [raised(k).error for k in keys if k != key] + [NO_EXCEPTION]
    wrong = [e for e in _shuffled(rng, others) if e != found.error]
    pitfall = PITFALLS[key]
    spec = ModelSpec(arch=_arch_of(key))
    prompt = (f"From the **{spec.arch}** architecture's pitfalls. Run as it is, the code "
              f"below stops with an error at line {found.line}. Which error?")
    if isinstance(pitfall, RecordedPitfall):
        source = "Keras raised it when this code was recorded; the tests run it in Keras again"
    else:
        source = "PyTorch raised it when the app ran this code"
    explanation = f"**{pitfall.title}** ({source}). {pitfall.explanation}"
    return Question("pitfall", level, index, prompt, found.error,
                    _pick(rng, found.error, wrong, _N_CHOICES[level]), explanation, spec, 1,
                    value=found.error, code=pitfall.code, code_line=found.line, pitfall=key,
                    from_framework=True)
