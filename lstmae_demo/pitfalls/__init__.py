"""What goes wrong: the published mistakes of each architecture, run for real, with their fixes.

Each pitfall is a short faulty snippet and its corrected version, kept as source strings and
executed with `exec`, so the code a learner reads is exactly the code that ran, and every
message is PyTorch's own (an exception or warning text) or a symptom measured on the run.
Every snippet runs after `PRELUDE` (the imports it shows) in a fresh namespace, with the
global RNG forked and seeded, so runs are deterministic and leave the caller's RNG alone.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import torch

from ..spec import ARCHS

PRELUDE = "import math\nimport torch\nfrom torch import nn\n"
OUTCOMES: tuple[str, ...] = ("error", "silent", "diverged")
MESSAGE_LINES = 6  # how much of a framework message a learner is shown

# Serialises runs: `warnings.catch_warnings` and the forked RNG are process-global, and a
# Streamlit server runs each session's script in its own thread.
_RUN_LOCK = threading.Lock()


@dataclass(frozen=True)
class PitfallResult:
    """One pitfall as run just now: the faulty code, what happened, why, and the fix's result."""

    key: str
    arch: str
    title: str
    code: str  # the faulty snippet, exactly as it ran (after PRELUDE)
    outcome: str  # "error", "silent" (no error but wrong) or "diverged"
    message: str  # the real exception/warning text, or the symptom measured on this run
    explanation: str  # one paragraph: why it goes wrong
    fix_code: str  # the corrected snippet, exactly as it ran (after PRELUDE)
    fix_result: str  # what running the fix produced, measured on this run


@dataclass(frozen=True)
class Run:
    """What executing one snippet left behind."""

    names: dict[str, Any]  # the snippet's variables after it ran (or up to where it failed)
    error: Exception | None  # the exception it raised, if any
    warnings: tuple[str, ...]  # "Category: text" of each warning it raised, in order


@dataclass(frozen=True)
class Pitfall:
    """A pitfall's fixed parts: the two snippets, the explanation, and how to read each run."""

    key: str
    arch: str  # the architecture whose reference code makes this mistake
    expects: str  # the outcome this torch version produces: one of OUTCOMES
    title: str
    code: str
    fix_code: str
    explanation: str
    symptom: Callable[[Run], tuple[str, str]]  # faulty run -> (outcome, message)
    fixed: Callable[[Run], str]  # fix run -> fix_result


# --- running snippets -------------------------------------------------------------------------


def execute(source: str, name: str = "snippet") -> Run:
    """Run PRELUDE + `source` in a fresh namespace; record its exception and warnings."""
    names: dict[str, Any] = {"__name__": f"pitfall_{name}"}
    error: Exception | None = None
    with (
        _RUN_LOCK,
        torch.random.fork_rng(devices=[]),
        torch.enable_grad(),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        torch.manual_seed(0)
        try:
            exec(compile(PRELUDE, "<prelude>", "exec"), names)
            exec(compile(source, f"<pitfall {name}>", "exec"), names)
        except Exception as err:  # the point is to catch what the framework raises
            error = err
    texts = tuple(f"{w.category.__name__}: {w.message}" for w in caught)
    return Run(names=names, error=error, warnings=texts)


def error_text(error: BaseException) -> str:
    """`Type: message`, cut to MESSAGE_LINES lines."""
    lines = f"{type(error).__name__}: {error}".strip().splitlines()
    cut = lines[:MESSAGE_LINES]
    if len(lines) > MESSAGE_LINES:
        cut.append("...")
    return "\n".join(cut)


def _shape(tensor: torch.Tensor) -> str:
    return str(tuple(tensor.shape))


def _raised(run: Run) -> tuple[str, str]:
    """Default reading of a faulty run that is expected to raise."""
    if run.error is not None:
        return "error", "\n".join([*run.warnings, error_text(run.error)])
    seen = "; ".join(run.warnings) or "no warning either"
    return "silent", f"No exception was raised with torch {torch.__version__} ({seen})."


def _guard(read: Callable[[Run], str]) -> Callable[[Run], str]:
    """Wrap a fix reader: report an unexpected exception instead of raising."""

    def guarded(run: Run) -> str:
        if run.error is not None:
            return f"the fix failed: {error_text(run.error)}"
        try:
            return read(run)
        except Exception as err:  # a reader bug must not take the page down
            return f"the fix ran, but reading its result failed: {error_text(err)}"

    return guarded


def _safe_symptom(read: Callable[[Run], tuple[str, str]], expects: str
                  ) -> Callable[[Run], tuple[str, str]]:
    """Wrap a symptom reader: an unexpected exception is reported as it is, never raised."""

    def guarded(run: Run) -> tuple[str, str]:
        if run.error is not None and expects != "error":
            return _raised(run)  # a silent mistake that raised after all: show what it raised
        try:
            return read(run)
        except Exception as err:  # a reader bug must not take the page down
            return "silent", f"the code ran, but reading its result failed: {error_text(err)}"

    return guarded


def _swap(source: str, old: str, new: str) -> str:
    """`source` with the one line `old` replaced by `new`; fails loudly (at import) if absent."""
    lines = source.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if line.rstrip("\n") == old]
    if len(hits) != 1:
        raise ValueError(f"snippet line not found exactly once: {old!r}")
    lines[hits[0]] = new + "\n" if new else ""
    return "".join(lines)


def _losses_text(losses: list[float], head: int = 6) -> str:
    shown = ", ".join(f"{v:.4g}" for v in losses[:head])
    return f"[{shown}, ...]" if len(losses) > head else f"[{shown}]"


# --- repeatvector -------------------------------------------------------------------------------

KERAS_ACTIVATION = """\
torch.manual_seed(0)
x = torch.linspace(0.1, 0.9, 9).reshape(1, 9, 1)        # Brownlee's sequence: (1, 9, 1)
encoder = nn.LSTM(1, 100, activation="relu", batch_first=True)  # as in Keras
output, (h_n, c_n) = encoder(x)
"""

KERAS_ACTIVATION_FIX = """\
from lstmae_demo.nn import ActLSTM                   # nn.LSTM's layout, any activation

torch.manual_seed(0)
x = torch.linspace(0.1, 0.9, 9).reshape(1, 9, 1)        # (1, 9, 1)
encoder = ActLSTM(1, 100, activation="relu")            # always batch-first
output, (h_n, c_n) = encoder(x)                         # (1, 9, 100), states (1, 1, 100)
"""


def _fixed_keras_activation(run: Run) -> str:
    n = run.names
    ours = sum(p.numel() for p in n["encoder"].parameters())
    native = sum(p.numel() for p in torch.nn.LSTM(1, 100).parameters())
    return (f"ActLSTM ran: output shape {_shape(n['output'])}, h_n {_shape(n['h_n'])}; "
            f"{ours} parameters, nn.LSTM(1, 100) has {native}")


MISSING_RETURN_SEQUENCES = """\
torch.manual_seed(0)
encoder = nn.LSTM(1, 100, batch_first=True)
decoder = nn.LSTM(100, 100, batch_first=True)
head = nn.Linear(100, 1)                                # TimeDistributed(Dense(1))

def autoencode(x):                                      # x: (B, 9, 1)
    z = encoder(x)[0][:, -1]                            # (B, 100): the bottleneck
    out, _ = decoder(z.unsqueeze(1).repeat(1, 9, 1))    # RepeatVector(9): (B, 9, 100)
    return head(out[:, -1])                             # return_sequences forgotten: (B, 1)

one = torch.linspace(0.1, 0.9, 9).reshape(1, 9, 1)      # Brownlee's one sequence: (1, 9, 1)
y_one = autoencode(one)
loss_one = nn.MSELoss()(y_one, one)                     # (1, 1) vs (1, 9, 1)
batch = torch.rand(4, 9, 1)                             # a batch of 4 series
loss_batch = nn.MSELoss()(autoencode(batch), batch)     # (4, 1) vs (4, 9, 1)
"""

MISSING_RETURN_SEQUENCES_FIX = _swap(
    MISSING_RETURN_SEQUENCES,
    "    return head(out[:, -1])                             # return_sequences forgotten: (B, 1)",
    "    return head(out)                                    # every step: (B, 9, 1)",
)


def _symptom_return_sequences(run: Run) -> tuple[str, str]:
    n = run.names
    if "loss_one" not in n:  # failed before the one-sequence loss: report it as it is
        return _raised(run)
    first, *later = run.warnings or ("(no warning)",)
    lines = [f"One sequence: no error, output {_shape(n['y_one'])} for a target (1, 9, 1), "
             f"loss = {n['loss_one'].item():.4f}; the only sign is a warning:", first]
    if run.error is None:
        return "silent", "\n".join([*lines, *later])
    return "error", "\n".join([*lines, "A batch of 4:", *later, error_text(run.error)])


def _fixed_return_sequences(run: Run) -> str:
    n = run.names
    y_batch = n["autoencode"](n["batch"])
    warned = "; ".join(run.warnings) or "no warning"
    return (f"output shape {_shape(n['y_one'])} for one sequence and {_shape(y_batch)} for the "
            f"batch; losses {n['loss_one'].item():.4f} and {n['loss_batch'].item():.4f}; "
            f"{warned}")


RELU_DIVERGES = """\
from lstmae_demo.archs import build_model
from lstmae_demo.spec import ModelSpec

torch.manual_seed(0)
t = torch.linspace(0, 2 * math.pi, 30)
x = torch.sin(t + 2 * math.pi * torch.rand(8, 1)).unsqueeze(-1)   # 8 sine waves: (8, 30, 1)
spec = ModelSpec(arch="repeatvector", seq_len=30, units=32, activation="relu")
model = build_model(spec, seed=0)
optimizer = torch.optim.Adam(model.parameters(), lr=0.2)          # 200 x Keras's default
losses = []
for step in range(24):
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(x), x)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
"""

RELU_DIVERGES_FIX = _swap(
    RELU_DIVERGES,
    'spec = ModelSpec(arch="repeatvector", seq_len=30, units=32, activation="relu")',
    'spec = ModelSpec(arch="repeatvector", seq_len=30, units=32, activation="tanh")',
)


def _symptom_relu(run: Run) -> tuple[str, str]:
    losses: list[float] = run.names["losses"]
    bad = next((i for i, v in enumerate(losses) if not math.isfinite(v)), None)
    if bad is None:
        return "silent", (f"No divergence on this run: losses {_losses_text(losses)}, "
                          f"final loss {losses[-1]:.4g}.")
    return "diverged", (f"loss per step {_losses_text(losses)}: first non-finite loss "
                        f"({losses[bad]}) at step {bad + 1} of {len(losses)}, after {bad} "
                        f"update(s); final loss {losses[-1]}.")


def _fixed_relu(run: Run) -> str:
    losses: list[float] = run.names["losses"]
    finite = all(math.isfinite(v) for v in losses)
    return (f"tanh, same settings: loss per step {_losses_text(losses)}; "
            f"{'all finite' if finite else 'NOT all finite'}, largest {max(losses):.4g}, "
            f"final loss {losses[-1]:.4g} after {len(losses)} steps")


# --- embedding --------------------------------------------------------------------------------

EMBEDDING_FLOAT = """\
torch.manual_seed(0)
embed = nn.Embedding(64, 32)                            # a table of 64 vectors of 32 numbers
x = torch.sin(torch.linspace(0, 2 * math.pi, 50)).reshape(1, 50)  # a float signal: (1, 50)
vectors = embed(x)
"""

EMBEDDING_FLOAT_FIX = """\
torch.manual_seed(0)
embed = nn.Embedding(64, 32)
x = torch.sin(torch.linspace(0, 2 * math.pi, 50)).reshape(1, 50)  # (1, 50) float
edges = torch.linspace(-1, 1, 65)[1:-1]                 # inner edges of 64 bins over [-1, 1]
ids = torch.bucketize(x, edges, right=True)             # (1, 50) int64 ids in [0, 64)
vectors = embed(ids)                                    # (1, 50, 32)
"""


def _fixed_embedding_float(run: Run) -> str:
    n = run.names
    ids = n["ids"]
    return (f"ids {ids.dtype} in [{ids.min().item()}, {ids.max().item()}]; vectors shape "
            f"{_shape(n['vectors'])}")


EMBEDDING_RANGE = """\
torch.manual_seed(0)
bins = 64
embed = nn.Embedding(bins, 32)                          # valid ids: 0 ... 63
x = torch.linspace(-1, 1, 50).reshape(1, 50)            # a ramp that reaches 1.0
ids = ((x + 1) / 2 * bins).long()                       # hand-made bins: 1.0 -> 64
vectors = embed(ids)
"""

EMBEDDING_RANGE_FIX = """\
torch.manual_seed(0)
bins = 64
embed = nn.Embedding(bins, 32)
x = torch.linspace(-1, 1, 50).reshape(1, 50)
edges = torch.linspace(-1, 1, bins + 1)[1:-1]           # the bins - 1 inner edges
ids = torch.bucketize(x, edges, right=True)             # always in [0, bins)
vectors = embed(ids)                                    # (1, 50, 32)
"""


def _symptom_embedding_range(run: Run) -> tuple[str, str]:
    outcome, message = _raised(run)
    ids = run.names.get("ids")
    if ids is not None and outcome == "error":
        message += (f"\n(the ids ran from {ids.min().item()} to {ids.max().item()}; the table "
                    f"has rows 0 to {run.names['bins'] - 1})")
    return outcome, message


LSTM_STATE_TUPLE = """\
torch.manual_seed(0)
encoder = nn.LSTM(32, 32, batch_first=True)
decoder = nn.LSTM(32, 32, batch_first=True)             # the tutorial's decoder is a GRU
vectors = torch.randn(1, 50, 32)                        # embedded ids: (1, 50, 32)
outputs, hidden = encoder(vectors)                      # an LSTM's hidden is (h_n, c_n)
h_n = hidden[0]                                         # (1, 1, 32), as a GRU would return
out, _ = decoder(vectors, h_n)                          # a GRU takes h alone
"""

LSTM_STATE_TUPLE_FIX = _swap(
    LSTM_STATE_TUPLE,
    "out, _ = decoder(vectors, h_n)                          # a GRU takes h alone",
    "out, _ = decoder(vectors, hidden)                       # an LSTM needs (h, c)",
)


def _fixed_state_tuple(run: Run) -> str:
    n = run.names
    h, c = n["hidden"]
    return f"decoder output shape {_shape(n['out'])}, started from h {_shape(h)}, c {_shape(c)}"


NO_BOTTLENECK = """\
torch.manual_seed(0)
seq_len, hidden, bins = 50, 32, 64
embed = nn.Embedding(bins, hidden)
encoder = nn.LSTM(hidden, hidden, batch_first=True)
x = torch.sin(torch.linspace(0, 2 * math.pi, seq_len)).reshape(1, seq_len, 1)  # (1, 50, 1)
edges = torch.linspace(-1, 1, bins + 1)[1:-1]           # bins over [-1, 1]
ids = torch.bucketize(x.squeeze(-1), edges, right=True) # (1, 50) int64 token ids
outputs, (h_n, c_n) = encoder(embed(ids))               # (1, 50, 32)
code = outputs                                          # the tutorial passes on every output
"""

NO_BOTTLENECK_FIX = _swap(
    NO_BOTTLENECK,
    "code = outputs                                          # the tutorial passes on every output",
    "code = h_n[-1]                                          # the final state only: (1, 32)",
)


def _sizes(run: Run) -> tuple[int, int]:
    """Numbers per example in the code and in the input."""
    n = run.names
    return n["code"][0].numel(), n["x"][0].numel()


def _symptom_bottleneck(run: Run) -> tuple[str, str]:
    code, given = _sizes(run)
    shape = _shape(run.names["code"])
    return "silent", (f"No error, and no bottleneck: the code {shape} holds {code} numbers per "
                      f"series, the input {_shape(run.names['x'])} only {given}: "
                      f"{code / given:.3g} times more numbers than it should summarise.")


def _fixed_bottleneck(run: Run) -> str:
    code, given = _sizes(run)
    return (f"code shape {_shape(run.names['code'])}: {code} numbers per series for {given} "
            f"input values, compressed {given / code:.3g} times")


# --- hidden_n -----------------------------------------------------------------------------------

ECG_ENCODER = """\
torch.manual_seed(0)
seq_len, n_features, embedding_dim = 140, {features}, 128
rnn1 = nn.LSTM(n_features, 2 * embedding_dim, batch_first=True)
rnn2 = nn.LSTM(2 * embedding_dim, embedding_dim, batch_first=True)

def encode(x):
    x = x.reshape((1, seq_len, n_features))             # assumes a batch of one
    x, (_, _) = rnn1(x)
    x, (hidden_n, _) = rnn2(x)
    return hidden_n.reshape((n_features, embedding_dim))

x = torch.randn({batch}, seq_len, n_features)          # {what}
z = encode(x)
"""

ECG_ENCODER_FIX = """\
torch.manual_seed(0)
seq_len, n_features, embedding_dim = 140, {features}, 128
rnn1 = nn.LSTM(n_features, 2 * embedding_dim, batch_first=True)
rnn2 = nn.LSTM(2 * embedding_dim, embedding_dim, batch_first=True)

def encode(x):                                          # x: (B, T, F), already batch-first
    x, _ = rnn1(x)                                      # (B, T, 2E)
    _, (hidden_n, _) = rnn2(x)                          # (1, B, E): layers first, always
    return hidden_n[-1]                                 # (B, E)

x = torch.randn({batch}, seq_len, n_features)          # {what}
z = encode(x)
"""

ECG_BATCH = {"features": 1, "batch": 2, "what": "a batch of 2 series: (2, 140, 1)"}
ECG_FEATURES = {"features": 2, "batch": 1, "what": "one series, 2 features: (1, 140, 2)"}


def _fixed_encode(run: Run) -> str:
    n = run.names
    return f"input {_shape(n['x'])} -> code z shape {_shape(n['z'])}"


H_N_LAYOUT = """\
torch.manual_seed(0)
lstm = nn.LSTM(1, 32, num_layers=2, batch_first=True)  # a stacked encoder
x = torch.randn(4, 20, 1)                               # (B, T, F) = (4, 20, 1)
output, (h_n, c_n) = lstm(x)                            # output (4, 20, 32); h_n (2, 4, 32)
z_first = h_n[0]                                        # "the first axis is the batch"
z_example = h_n[:, 0]                                   # "the last step of every example"
z_view = h_n.view(4, -1)                                # "one row per example"
"""

H_N_LAYOUT_FIX = """\
torch.manual_seed(0)
lstm = nn.LSTM(1, 32, num_layers=2, batch_first=True)
x = torch.randn(4, 20, 1)
output, (h_n, c_n) = lstm(x)                            # h_n: (layers, B, U) = (2, 4, 32)
z = h_n[-1]                                             # the top layer's final state: (4, 32)
"""


def _symptom_h_n(run: Run) -> tuple[str, str]:
    n = run.names
    last, h_n, view = n["output"][:, -1], n["h_n"], n["z_view"]
    mixed = torch.equal(view[0, 32:], h_n[0, 1])
    return "silent", "\n".join([
        f"No error. output {_shape(n['output'])}, but h_n {_shape(h_n)}: layers first.",
        f"h_n[0] {_shape(n['z_first'])}: equals output[:, -1]? "
        f"{torch.allclose(n['z_first'], last)} (it is layer 1, not the top layer)",
        f"h_n[:, 0] {_shape(n['z_example'])}: {n['z_example'].shape[0]} rows for a batch of 4 "
        "(example 0 in each layer)",
        f"h_n.view(4, -1) {_shape(view)}: row 0 ends with example 1's layer-1 state? {mixed}",
    ])


def _fixed_h_n(run: Run) -> str:
    n = run.names
    same = torch.allclose(n["z"], n["output"][:, -1])
    return f"h_n[-1] shape {_shape(n['z'])}; equals output[:, -1]: {same}"


ECG_REPEAT = """\
torch.manual_seed(0)
seq_len, embedding_dim = 140, 128
z = torch.randn(2, embedding_dim)                       # the codes of 2 series: (B, E)
x = z.repeat(seq_len, 1)                                # (T*B, E): rows z0, z1, z0, z1, ...
x = x.reshape((2, seq_len, embedding_dim))              # a "batch-aware" reshape: (B, T, E)
"""

ECG_REPEAT_FIX = """\
torch.manual_seed(0)
seq_len, embedding_dim = 140, 128
z = torch.randn(2, embedding_dim)                       # (B, E)
x = z.unsqueeze(1).repeat(1, seq_len, 1)                # (B, 1, E) -> (B, T, E): RepeatVector
"""


def _own_code_steps(run: Run) -> tuple[int, int, int]:
    """Steps at which series 0's decoder input is its own code, the other's code, and T."""
    x, z = run.names["x"], run.names["z"]
    own = sum(torch.equal(row, z[0]) for row in x[0])
    other = sum(torch.equal(row, z[1]) for row in x[0])
    return own, other, x.shape[1]


def _symptom_repeat(run: Run) -> tuple[str, str]:
    own, other, steps = _own_code_steps(run)
    return "silent", (f"No error, shape {_shape(run.names['x'])} as hoped, but series 0's "
                      f"decoder input is its own code at {own} of {steps} steps and series 1's "
                      f"code at the other {other}.")


def _fixed_repeat(run: Run) -> str:
    own, other, steps = _own_code_steps(run)
    return (f"shape {_shape(run.names['x'])}; series 0 sees its own code at {own} of {steps} "
            f"steps, series 1's at {other}")


# --- encdec_ad ----------------------------------------------------------------------------------

BATCH_FIRST_FORGOTTEN = """\
torch.manual_seed(0)
lstm = nn.LSTM(1, 32)                                   # batch_first forgotten: (T, B, F)
x = torch.randn(4, 20, 1)                               # but gets (B, T, F): 4 series, 20 steps
output, (h_n, c_n) = lstm(x)                            # read as 4 steps of 20 series
"""

BATCH_FIRST_FIX = _swap(
    BATCH_FIRST_FORGOTTEN,
    "lstm = nn.LSTM(1, 32)                                   # batch_first forgotten: (T, B, F)",
    "lstm = nn.LSTM(1, 32, batch_first=True)                 # (B, T, F) in, (B, T, U) out",
)


def _symptom_batch_first(run: Run) -> tuple[str, str]:
    n = run.names
    lstm, x = n["lstm"], n["x"]
    edited = x.clone()
    edited[0] += 1.0  # change series 0 only
    with torch.no_grad():
        leaked = not torch.allclose(lstm(edited)[0][1], n["output"][1])
    return "silent", (
        f"No error: output shape {_shape(n['output'])}, the shape batch_first would give. But "
        f"h_n is {_shape(n['h_n'])}: 20 'series', not 4. Changing series 0's values changes "
        f"series 1's output: {leaked} (the recurrence runs across the batch)."
    )


def _fixed_batch_first(run: Run) -> str:
    n = run.names
    faulty = execute(BATCH_FIRST_FORGOTTEN, "batch_first_compare").names["output"]
    differ = (n["output"] - faulty).abs().max().item()
    return (f"output shape {_shape(n['output'])}, h_n {_shape(n['h_n'])}; same weights and "
            f"input, yet the outputs differ from the run without it by up to {differ:.3g}")


STATE_SHAPE = """\
torch.manual_seed(0)
encoder = nn.LSTM(1, 32, batch_first=True)
decoder = nn.LSTM(1, 32, batch_first=True)
x = torch.randn(4, 20, 1)                               # (B, T, F)
_, (h_n, c_n) = encoder(x)                              # each (1, 4, 32)
h, c = h_n[-1], c_n[-1]                                 # "one state per example": (4, 32)
out, _ = decoder(x.flip(1), (h, c))                     # start the decoder from the encoder
"""

STATE_SHAPE_FIX = """\
torch.manual_seed(0)
encoder = nn.LSTM(1, 32, batch_first=True)
decoder = nn.LSTM(1, 32, batch_first=True)
x = torch.randn(4, 20, 1)                               # (B, T, F)
_, (h_n, c_n) = encoder(x)                              # each (1, 4, 32): (layers, B, U)
out, _ = decoder(x.flip(1), (h_n, c_n))                 # the state exactly as returned
"""

STATE_BATCH_FIRST = _swap(
    STATE_SHAPE,
    'h, c = h_n[-1], c_n[-1]                                 # "one state per example": (4, 32)',
    'h, c = h_n.transpose(0, 1), c_n.transpose(0, 1)         # "batch-first states": (4, 1, 32)',
)


def _fixed_state(run: Run) -> str:
    n = run.names
    return (f"decoder output shape {_shape(n['out'])}, started from h_n {_shape(n['h_n'])} "
            f"and c_n {_shape(n['c_n'])}")


# --- the registry -------------------------------------------------------------------------------


def _pitfall(key: str, arch: str, expects: str, title: str, code: str, fix_code: str,
             explanation: str, symptom: Callable[[Run], tuple[str, str]],
             fixed: Callable[[Run], str]) -> Pitfall:
    """A registry entry; the explanation is written as one paragraph (whitespace collapsed)."""
    return Pitfall(key, arch, expects, title, code, fix_code, " ".join(explanation.split()),
                   _safe_symptom(symptom, expects), _guard(fixed))


PITFALLS: Mapping[str, Pitfall] = MappingProxyType({p.key: p for p in (
    _pitfall(
        "keras_activation_kwarg", "repeatvector", "error",
        "Porting Keras's LSTM(activation='relu') to nn.LSTM",
        KERAS_ACTIVATION, KERAS_ACTIVATION_FIX,
        """Keras's LSTM takes an `activation` argument; PyTorch's nn.LSTM has none: its cell
        candidate and its output squashing are always tanh, so the constructor rejects the
        keyword outright. To rebuild Brownlee's relu model in PyTorch you need an LSTM cell
        written out by hand; this project's ActLSTM is one, with nn.LSTM's parameter names,
        shapes and gate order but relu in both places. It is slower than nn.LSTM's fused
        kernel, and relu inside a recurrent cell is unbounded (see the divergence pitfall),
        which is why tanh is the default in both frameworks.""",
        _raised, _fixed_keras_activation,
    ),
    _pitfall(
        "missing_return_sequences", "repeatvector", "error",
        "The decoder without return_sequences=True",
        MISSING_RETURN_SEQUENCES, MISSING_RETURN_SEQUENCES_FIX,
        """TimeDistributed(Dense(1)) needs one vector per time step, so the decoder must be
        LSTM(100, return_sequences=True). Without it the layer returns only its last step (in
        PyTorch, output[:, -1]) and the Dense makes one value per series, (B, 1), instead of a
        sequence (B, 9, 1). nn.MSELoss then compares (B, 1) with (B, 9, 1) by broadcasting.
        With Brownlee's single training sequence the shapes happen to broadcast: training
        runs, only a UserWarning says something is off, and the model can at best predict one
        constant for all nine steps. With a batch of several series the broadcast fails, and
        the error names tensor sizes, not return_sequences. Pass every step's output on to the
        per-step head.""",
        _symptom_return_sequences, _fixed_return_sequences,
    ),
    _pitfall(
        "relu_lstm_diverges", "repeatvector", "diverged",
        "ReLU inside an LSTM with a high learning rate: the loss becomes inf, then nan",
        RELU_DIVERGES, RELU_DIVERGES_FIX,
        """An LSTM's cell state is a running sum, c(t) = f * c(t-1) + i * g(t). With tanh each
        new term g(t) lies in (-1, 1) and the hidden state h = o * tanh(c) stays in (-1, 1), so
        c grows by at most 1 per step and what the next layer sees is bounded. With relu, g
        and h are unbounded: a large h feeds back through the recurrent weights into a larger
        g at the next step, so the growth compounds over the 30 time steps, overflows float32
        to inf, and the nan gradients that follow turn every weight into nan. The learning
        rate lights the fuse: Adam's first update moves every weight by about lr (here 0.2)
        whatever the gradient's size, enough to make the recurrent loop amplify; for the same
        reason gradient clipping does not save this run, while a small learning rate (Keras's
        Adam default is 0.001) does. The same model and settings with tanh feel the same jolt
        as a spike in the loss, but it stays finite and recovers. If you use relu, keep the
        learning rate small and stop on the first non-finite loss.""",
        _symptom_relu, _fixed_relu,
    ),
    _pitfall(
        "embedding_float_input", "embedding", "error",
        "Feeding a float signal to nn.Embedding",
        EMBEDDING_FLOAT, EMBEDDING_FLOAT_FIX,
        """nn.Embedding is a lookup table: row k of its weight matrix is the vector for token
        k, so its input must be integer ids (int64 or int32) used as row numbers. A float value
        such as 0.37 names no row, and PyTorch refuses it with a dtype error instead of
        rounding for you. The seq2seq tutorial's encoder reads word ids; to use it on a
        continuous signal, quantise first: split the value range into bins (here 64 over
        [-1, 1]) and replace each value by its bin number with torch.bucketize, which returns
        int64. The price is resolution: values closer than one bin width (2/64) become the
        same token.""",
        _raised, _fixed_embedding_float,
    ),
    _pitfall(
        "embedding_index_out_of_range", "embedding", "error",
        "Hand-made bins: the top value falls off the end of the table",
        EMBEDDING_RANGE, EMBEDDING_RANGE_FIX,
        """A hand-written quantiser such as ((x + 1) / 2 * bins).long() maps [-1, 1) onto the
        ids 0 ... bins - 1, but the top value x = 1.0 becomes id bins, one past the table's
        last row, and the lookup fails with an IndexError that names neither the id nor the
        table's size. Values outside [-1, 1] (noise, a signal that was never scaled) fail the
        same way. torch.bucketize against the bins' inner edges always returns an id in
        [0, bins), putting out-of-range values into the first or last bin; clamping the ids
        to [0, bins - 1] works too.""",
        _symptom_embedding_range, _fixed_embedding_float,
    ),
    _pitfall(
        "lstm_state_tuple", "embedding", "error",
        "A GRU habit: passing h alone as an LSTM's initial state",
        LSTM_STATE_TUPLE, LSTM_STATE_TUPLE_FIX,
        """The tutorial's decoder is a GRU, whose state is one tensor h. An LSTM's state is the
        pair (h, c): nn.LSTM returns (h_n, c_n) and wants the same pair back as its initial
        state. Given a single tensor, nn.LSTM indexes it as if it were the pair, taking h_n[0]
        and h_n[1] along the layers axis; a one-layer state has no index 1, hence an IndexError
        that says nothing about states. Hand over the whole (h_n, c_n) tuple; to start from h
        only, pass (h_n, torch.zeros_like(h_n)).""",
        _raised, _fixed_state_tuple,
    ),
    _pitfall(
        "embedding_no_bottleneck", "embedding", "silent",
        "Passing every output on: a 'code' bigger than the input",
        NO_BOTTLENECK, NO_BOTTLENECK_FIX,
        """An autoencoder learns structure only if its code is smaller than its input, so that
        it must summarise. The tutorial's encoder hands on every step's output, (batch, seq,
        hidden): far more numbers per series than the series has values. Nothing fails, and
        the reconstruction error falls, but the decoder can simply copy each step through, so
        the code compresses nothing and makes a poor anomaly detector. Keep only the final
        state, h_n[-1] (or output[:, -1]): hidden numbers per series, a real bottleneck as long
        as hidden is below seq_len x n_features.""",
        _symptom_bottleneck, _fixed_bottleneck,
    ),
    _pitfall(
        "ecg_batch_reshape", "hidden_n", "error",
        "The ECG encoder's reshape to a batch of one",
        ECG_ENCODER.format(**ECG_BATCH), ECG_ENCODER_FIX.format(**ECG_BATCH),
        """The ECG tutorial trains with batch size 1, and its encoder begins with
        x.reshape((1, seq_len, n_features)), hard-coding the batch axis as 1. A reshape never
        moves numbers between examples, it only reads the same numbers with another shape: a
        batch of 2 holds 2 x 140 x 1 = 280 numbers, which cannot be read as 1 x 140 x 1, and
        PyTorch says so. With batch_first=True the input already is (batch, seq, features):
        drop the reshape, and take the code as h_n[-1], (batch, embedding_dim), instead of
        reshaping h_n for a batch of one.""",
        _raised, _fixed_encode,
    ),
    _pitfall(
        "ecg_features_reshape", "hidden_n", "error",
        "hidden_n.reshape((n_features, embedding_dim)) with two features",
        ECG_ENCODER.format(**ECG_FEATURES), ECG_ENCODER_FIX.format(**ECG_FEATURES),
        """The encoder's last line reshapes h_n to (n_features, embedding_dim), using the number
        of features where the batch size belongs. h_n is (num_layers, batch, embedding_dim) =
        (1, 1, 128) here: 128 numbers. With one feature the reshape to (1, 128) happens to
        work, which is why the tutorial (ECG5000 has one feature) never noticed; with two
        features it asks for 2 x 128 = 256 numbers out of 128 and fails. The code of a series
        does not depend on its number of features at all: h_n[-1] is (batch, embedding_dim)
        for any batch size and any number of features.""",
        _raised, _fixed_encode,
    ),
    _pitfall(
        "h_n_not_batch_first", "hidden_n", "silent",
        "h_n is (layers, batch, units), even with batch_first=True",
        H_N_LAYOUT, H_N_LAYOUT_FIX,
        """batch_first=True changes the layout of the input and of `output` only. The states
        h_n and c_n are always (num_layers x num_directions, batch, hidden): h_n[0] is the
        first layer, not the first example, and h_n[-1] is the top layer's final state, one
        row per example. On a stacked LSTM the wrong guesses raise nothing: h_n[0] has the
        right shape but holds the lower layer's state; h_n[:, 0] is one example's state in
        every layer; h_n.view(batch, -1) reads memory in layer-major order, so one row holds
        pieces of several examples. Each silently hands the decoder the wrong numbers. Use
        h_n[-1], which equals output[:, -1] for a one-directional LSTM (for a bidirectional
        one, h_n.view(num_layers, 2, batch, hidden)[-1] holds both directions).""",
        _symptom_h_n, _fixed_h_n,
    ),
    _pitfall(
        "ecg_decoder_repeat", "hidden_n", "silent",
        "Repeating the code with repeat(seq_len, 1) and a reshape mixes the series",
        ECG_REPEAT, ECG_REPEAT_FIX,
        """The tutorial's decoder turns the code into a sequence with
        x.repeat(seq_len, n_features) and a reshape to (n_features, seq_len, embedding_dim),
        again a batch of one. The natural 'batch fix', reshaping to (batch, seq_len,
        embedding_dim), runs and has the right shape, but repeat(seq_len, 1) stacks whole
        copies of the batch (rows z0, z1, z0, z1, ...) and the reshape cuts that list into
        consecutive blocks, so each series' decoder input alternates between its own code and
        another series' code. Nothing fails; the model just learns from scrambled inputs.
        Insert the time axis first and repeat along it, z.unsqueeze(1).repeat(1, seq_len, 1)
        (or .expand), which is what Keras's RepeatVector does.""",
        _symptom_repeat, _fixed_repeat,
    ),
    _pitfall(
        "batch_first_forgotten", "encdec_ad", "silent",
        "Forgetting batch_first=True: batch and time silently swap",
        BATCH_FIRST_FORGOTTEN, BATCH_FIRST_FIX,
        """nn.LSTM's default layout is (seq, batch, features); batch_first=True is needed for
        (batch, seq, features). Forget it and a (4, 20, 1) batch is read as 4 time steps of 20
        series: no error, and `output` even has the expected shape (4, 20, 32), but the
        recurrence now runs across the examples (series 1's output depends on series 0's
        values) while the 20 real time steps are treated as unrelated series. The final state
        gives it away: h_n has 20 rows, not 4. Such a model still trains, badly, which is why
        the mistake survives. Set batch_first=True (or feed x.transpose(0, 1)), and check the
        batch size of h_n.""",
        _symptom_batch_first, _fixed_batch_first,
    ),
    _pitfall(
        "state_shape", "encdec_ad", "error",
        "Handing the decoder a (batch, units) state instead of (1, batch, units)",
        STATE_SHAPE, STATE_SHAPE_FIX,
        """An LSTM's initial state must have the layout it returns: (h_0, c_0), each
        (num_layers x num_directions, batch, hidden), three axes for a batched input. EncDec-AD
        starts its decoder from the encoder's final state; squeezing that state to one vector
        per example first, h_n[-1] with shape (batch, hidden) as a Linear layer would want,
        gives 2-D tensors, which nn.LSTM rejects. Pass (h_n, c_n) exactly as the encoder
        returned them; a (batch, hidden) tensor needs .unsqueeze(0) first.""",
        _raised, _fixed_state,
    ),
    _pitfall(
        "state_batch_first", "encdec_ad", "error",
        "Making the state batch-first with transpose(0, 1)",
        STATE_BATCH_FIRST, STATE_SHAPE_FIX,
        """Because the model uses batch_first=True, it is tempting to make the hand-over state
        batch-first too, transposing it to (batch, layers, hidden). batch_first never applies
        to states: nn.LSTM checks that h_0 is (num_layers x num_directions, batch, hidden) =
        (1, 4, 32) and stops with an error that shows the expected and the received shape.
        Pass (h_n, c_n) as returned. With one series and one layer both layouts are (1, 1, 32),
        so this bug hides in single-series demos and appears with the first real batch.""",
        _raised, _fixed_state,
    ),
)})

# Teaching order per architecture: how to use it, then what breaks, then what silently misleads.
BY_ARCH: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "repeatvector": ("keras_activation_kwarg", "missing_return_sequences", "relu_lstm_diverges"),
    "embedding": ("embedding_float_input", "embedding_index_out_of_range", "lstm_state_tuple",
                  "embedding_no_bottleneck"),
    "hidden_n": ("ecg_batch_reshape", "ecg_features_reshape", "h_n_not_batch_first",
                 "ecg_decoder_repeat"),
    "encdec_ad": ("batch_first_forgotten", "state_shape", "state_batch_first",
                  "h_n_not_batch_first"),
})


def pitfall_keys() -> tuple[str, ...]:
    """Every known pitfall key."""
    return tuple(PITFALLS)


def pitfalls_for(arch: str) -> tuple[str, ...]:
    """The pitfall keys relevant to architecture `arch`, in teaching order."""
    if arch not in BY_ARCH:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHS)}")
    return BY_ARCH[arch]


def run_pitfall(key: str) -> PitfallResult:
    """Run pitfall `key`'s faulty code and its fix, and report what really happened."""
    if key not in PITFALLS:
        raise ValueError(f"unknown pitfall {key!r}; choose one of {', '.join(PITFALLS)}")
    pitfall = PITFALLS[key]
    outcome, message = pitfall.symptom(execute(pitfall.code, key))
    fix_result = pitfall.fixed(execute(pitfall.fix_code, f"{key}_fix"))
    return PitfallResult(
        key=key, arch=pitfall.arch, title=pitfall.title, code=pitfall.code, outcome=outcome,
        message=message, explanation=pitfall.explanation, fix_code=pitfall.fix_code,
        fix_result=fix_result,
    )
