"""The catalogue: each pitfall's title, snippets, explanation and how to read its runs.

Which pitfalls belong to which architecture is the architecture registry's business
(`lstmae_demo.archs`); this module only knows the pitfalls themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from . import readers as r
from .readers import MEASURED, OUTCOMES, Symptom
from .runner import Run, error_text, execute, recorded, snippet


@dataclass(frozen=True)
class Pitfall:
    """A pitfall's fixed parts: the faulty and the fixed code, and why it goes wrong."""

    key: str
    expects: str  # the outcome the pinned framework version produces: one of OUTCOMES
    title: str
    code: str  # the faulty snippet, a complete Python file
    fix_code: str  # the corrected snippet, a complete Python file
    explanation: str  # one paragraph

    def observe(self) -> tuple[Symptom, str]:
        """What the faulty code does, and what its fix produces."""
        raise NotImplementedError


@dataclass(frozen=True)
class ExecutedPitfall(Pitfall):
    """A PyTorch pitfall: both snippets run here, on every call."""

    symptom: Callable[[Run], Symptom]  # faulty run -> what happened
    fixed: Callable[[Run], str]  # fix run -> fix_result

    def observe(self) -> tuple[Symptom, str]:
        """Run the faulty code and the fix now, and read each run."""
        symptom = self.symptom(execute(self.code, self.key))
        return symptom, self.fixed(execute(self.fix_code, f"{self.key}_fix"))


@dataclass(frozen=True)
class RecordedPitfall(Pitfall):
    """A Keras pitfall: shown, not run here (Keras is not an app dependency); read from a record."""

    record: str  # a file in recorded/, written by keras_record.record() from real Keras
    read: Callable[[Mapping[str, Any]], tuple[Symptom, str]]

    def observe(self) -> tuple[Symptom, str]:
        """Keras's behaviour as recorded; a damaged record is reported, never raised."""
        try:
            return self.read(recorded(self.record))
        except Exception as err:  # a broken record must not take the page down
            text = f"the recorded Keras behaviour could not be read: {error_text(err)}"
            return Symptom("silent", text, MEASURED), text


def _paragraph(text: str) -> str:
    return " ".join(text.split())


def _executed(key: str, expects: str, title: str, explanation: str,
              symptom: Callable[[Run], Symptom], fixed: Callable[[Run], str],
              fix: str | None = None) -> ExecutedPitfall:
    """An entry run here: snippets/<key>.py and snippets/<fix or key_fix>.py."""
    if expects not in OUTCOMES:
        raise ValueError(f"pitfall {key!r}: expects {expects!r}, not one of {OUTCOMES}")
    return ExecutedPitfall(key, expects, title, snippet(key), snippet(fix or f"{key}_fix"),
                           _paragraph(explanation), r.guard_symptom(symptom, expects),
                           r.guard_fix(fixed))


def _recorded(key: str, expects: str, title: str, explanation: str, record: str,
              read: Callable[[Mapping[str, Any]], tuple[Symptom, str]]) -> RecordedPitfall:
    """An entry recorded from Keras: snippets/<key>.py and snippets/<key>_fix.py, shown only."""
    return RecordedPitfall(key, expects, title, snippet(key), snippet(f"{key}_fix"),
                           _paragraph(explanation), record, read)


# Keras's behaviour for "missing_return_sequences", written by keras_record.record().
MISSING_RETURN_SEQUENCES = "keras_missing_return_sequences.json"

_ENTRIES: tuple[Pitfall, ...] = (
    # --- from Brownlee's Keras model (repeatvector) ---
    _executed(
        "keras_activation_kwarg", "error",
        "Porting Keras's LSTM(activation='relu') to nn.LSTM",
        """Keras's LSTM takes an `activation` argument; PyTorch's nn.LSTM has none: its cell
        candidate and its output squashing are always tanh, so the constructor rejects the
        keyword outright. To rebuild Brownlee's relu model in PyTorch you need an LSTM cell
        written out by hand; this project's ActLSTM is one, with nn.LSTM's parameter names,
        shapes and gate order but relu in both places. It is slower than nn.LSTM's fused
        kernel, and relu inside a recurrent cell is unbounded (see the divergence pitfall).
        nn.LSTM offers no choice at all (always tanh); Keras's LSTM defaults to
        activation='tanh'.""",
        r.raised, r.fixed_keras_activation,
    ),
    _recorded(
        "missing_return_sequences", "error",
        "The decoder without return_sequences=True (Keras)",
        """In Keras, LSTM(100) hands on only its last step's output, (None, 100); the decoder
        must be LSTM(100, return_sequences=True) to hand on one vector per time step, (None, 9,
        100), which TimeDistributed(Dense(1)) turns into the sequence (None, 9, 1). Forget it
        and Keras refuses the model while building it, before compile() or fit():
        TimeDistributed needs an input with a time axis, and its message names input shapes,
        not return_sequences. Swap TimeDistributed(Dense(1)) for a plain Dense(1) and nothing
        complains: the output is (None, 1), one value per series, Keras's mean squared error
        broadcasts that value against all nine targets, fit() trains without an error or a
        warning, and the model can at best predict one constant for every step. Keras is not
        installed with this app, so the message shown is the one real Keras gave when this
        snippet was recorded; the test suite runs the snippet in Keras again and fails if
        Keras now says something else.""",
        MISSING_RETURN_SEQUENCES, r.read_missing_return_sequences,
    ),
    _executed(
        "torch_last_step_only", "error",
        "The same mistake in PyTorch: the decoder hands on only its last step",
        """A PyTorch port can make the same mistake by hand: out[:, -1] is what Keras's LSTM
        without return_sequences hands on, so the per-step head makes one value per series,
        (B, 1), instead of a sequence (B, 9, 1). PyTorch's loss does not refuse it:
        nn.MSELoss compares (B, 1) with (B, 9, 1) by broadcasting. With Brownlee's single
        training sequence the shapes broadcast, the loss is computed, only a UserWarning says
        something is off, and the model can at best predict one constant for all nine steps.
        With a batch of several series the broadcast fails, and the error names tensor sizes,
        not the decoder. Pass every step's output on to the per-step head.""",
        r.raised, r.fixed_last_step,
    ),
    _executed(
        "relu_lstm_diverges", "diverged",
        "ReLU inside an LSTM with a high learning rate: the loss becomes inf, then nan",
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
        as a spike in the loss, but every loss stays finite; the fix's result below says where
        its loss ends against where it began. Swapping relu for tanh removes the overflow, not
        the oversized step: keep the learning rate small with either activation, and with relu
        stop on the first non-finite loss.""",
        r.symptom_relu, r.fixed_relu,
    ),
    # --- from the seq2seq tutorials' Embedding -> LSTM encoder (embedding) ---
    _executed(
        "embedding_float_input", "error",
        "Feeding a float signal to nn.Embedding",
        """nn.Embedding is a lookup table: row k of its weight matrix is the vector for token
        k, so its input must be integer ids (int64 or int32) used as row numbers. A float value
        such as 0.37 names no row, and PyTorch refuses it with a dtype error instead of
        rounding for you. The seq2seq tutorials' encoders read word ids; to use one on a
        continuous signal, quantise first: split the value range into bins (here 64 over
        [-1, 1]) and replace each value by its bin number with torch.bucketize, which returns
        int64. The price is resolution: values closer than one bin width (2/64) become the
        same token.""",
        r.raised, r.fixed_embedding_ids,
    ),
    _executed(
        "embedding_index_out_of_range", "error",
        "Hand-made bins: the top value falls off the end of the table",
        """A hand-written quantiser such as ((x + 1) / 2 * bins).long() maps [-1, 1) onto the
        ids 0 ... bins - 1, but the top value x = 1.0 becomes id bins, one past the table's
        last row, and the lookup fails with an IndexError that names neither the id nor the
        table's size. Values outside [-1, 1] (noise, a signal that was never scaled) fail the
        same way. torch.bucketize against the bins' inner edges always returns an id in
        [0, bins), putting out-of-range values into the first or last bin; clamping the ids
        to [0, bins - 1] works too.""",
        r.raised, r.fixed_embedding_ids,
    ),
    _executed(
        "lstm_state_tuple", "error",
        "A GRU habit: passing h alone as an LSTM's initial state",
        """The PyTorch seq2seq tutorial's encoder and decoders are GRUs, whose state is one
        tensor h. An LSTM's state is the pair (h, c): nn.LSTM returns (h_n, c_n) and wants the
        same pair back as its initial state. Given a single tensor, nn.LSTM indexes it as if it
        were the pair, taking h_n[0] and h_n[1] along the layers axis; a one-layer state has no
        index 1, hence an IndexError that says nothing about states. Hand over the whole
        (h_n, c_n) tuple; to start from h only, pass (h_n, torch.zeros_like(h_n)).""",
        r.raised, r.fixed_state_tuple,
    ),
    _executed(
        "embedding_no_bottleneck", "silent",
        "A decoder that can read every encoder output can copy",
        """An autoencoder learns structure only if what its decoder gets from the input is
        smaller than the input, so that it must summarise. Whether the Embedding -> LSTM
        design has such a bottleneck depends on what the decoder reads, not on the encoder
        returning every output. The encoder returns all its outputs, (batch, seq, hidden),
        because the attention seq2seq tutorials it comes from have a decoder that reads every
        output through attention; a decoder LSTM fed those outputs step by step, as here, reads
        them all too. Either way the decoder gets seq x hidden numbers per series, more than
        the series has values, and step t's output can carry x(t) straight through: nothing
        fails and the reconstruction error falls, but the model may copy instead of
        summarising, which makes a poor anomaly detector. The PyTorch seq2seq tutorial's plain
        DecoderRNN reads only the encoder's final hidden state, a real bottleneck; the fix does
        the same with an LSTM: the decoder starts from (h_n, c_n) and is fed nothing per step,
        so 2 x hidden numbers per series are all it gets of the input, a bottleneck as long as
        that is below seq_len x n_features. (A decoder fed the true previous values, as in
        teacher forcing, has a second path from input to output while training.)""",
        r.symptom_reads_every_output, r.fixed_reads_final_state,
    ),
    # --- from the ECG5000 tutorial's RecurrentAutoencoder (hidden_n) ---
    _executed(
        "ecg_batch_reshape", "error",
        "The ECG encoder's reshape to a batch of one",
        """The ECG tutorial trains with batch size 1, and its encoder begins with
        x.reshape((1, seq_len, n_features)), hard-coding the batch axis as 1. A reshape keeps
        the numbers in their memory order and only regroups them, so the new shape must hold
        exactly as many numbers as the tensor has: a batch of 2 holds 2 x 140 x 1 = 280
        numbers, which cannot be read as 1 x 140 x 1 = 140, and PyTorch says so. When the
        counts do match, a reshape succeeds even where its regrouping mixes numbers of
        different examples (see the pitfall on repeating the code). With batch_first=True the
        input already is (batch, seq, features): drop the reshape, and take the code as
        h_n[-1], (batch, embedding_dim), instead of reshaping h_n for a batch of one.""",
        r.raised, r.fixed_encode,
    ),
    _executed(
        "ecg_features_reshape", "error",
        "hidden_n.reshape((n_features, embedding_dim)) with two features",
        """The encoder's last line reshapes h_n to (n_features, embedding_dim), using the number
        of features where the batch size belongs. h_n is (num_layers, batch, embedding_dim) =
        (1, 1, 128) here: 128 numbers. With one feature the reshape to (1, 128) happens to
        work, which is why the tutorial (ECG5000 has one feature) never noticed; with two
        features it asks for 2 x 128 = 256 numbers out of 128 and fails. The code of a series
        does not depend on its number of features at all: h_n[-1] is (batch, embedding_dim)
        for any batch size and any number of features.""",
        r.raised, r.fixed_encode,
    ),
    _executed(
        "h_n_not_batch_first", "silent",
        "h_n is (layers, batch, units), even with batch_first=True",
        """batch_first=True changes the layout of the input and of `output` only. The states
        h_n and c_n are always (num_layers x num_directions, batch, hidden): h_n[0] is layer 0
        (the lowest), not example 0, and h_n[-1] is the top layer's final state, one row per
        example. On a stacked LSTM the wrong guesses raise nothing: h_n[0] has the right shape
        but holds the lower layer's state; h_n[:, 0] is one example's state in every layer;
        h_n.view(batch, -1) reads memory in layer-major order, so one row holds pieces of
        several examples. Each silently hands the decoder the wrong numbers. Use h_n[-1], which
        equals output[:, -1] for a one-directional LSTM (for a bidirectional one,
        h_n.view(num_layers, 2, batch, hidden)[-1] holds both directions).""",
        r.symptom_h_n, r.fixed_h_n,
    ),
    _executed(
        "ecg_decoder_repeat", "silent",
        "Repeating the code with repeat(seq_len, 1) and a reshape mixes the series",
        """The tutorial's decoder turns the code into a sequence with
        x.repeat(seq_len, n_features) and a reshape to (n_features, seq_len, embedding_dim),
        again a batch of one. The natural 'batch fix', reshaping to (batch, seq_len,
        embedding_dim), runs and has the right shape, but repeat(seq_len, 1) stacks whole
        copies of the batch (rows z0, z1, z0, z1, ...) and the reshape cuts that list into
        consecutive blocks, so each series' decoder input alternates between its own code and
        another series' code. Nothing fails; the model just learns from scrambled inputs.
        Insert the time axis first and repeat along it, z.unsqueeze(1).repeat(1, seq_len, 1)
        (or .expand), which is what Keras's RepeatVector does.""",
        r.symptom_repeat, r.fixed_repeat,
    ),
    # --- from Malhotra et al.'s EncDec-AD (encdec_ad) ---
    _executed(
        "batch_first_forgotten", "silent",
        "Forgetting batch_first=True: batch and time silently swap",
        """nn.LSTM's default layout is (seq, batch, features); batch_first=True is needed for
        (batch, seq, features). Forget it and a (4, 20, 1) batch is read as 4 time steps of 20
        series: no error, and `output` even has the expected shape (4, 20, 32), but the
        recurrence now runs across the examples (series 1's output depends on series 0's
        values) while the 20 real time steps are treated as unrelated series. The final state
        gives it away: h_n has 20 rows, not 4. Such a model still trains, badly, which is why
        the mistake survives. Set batch_first=True (or feed x.transpose(0, 1)), and check the
        batch size of h_n.""",
        r.symptom_batch_first, r.fixed_batch_first,
    ),
    _executed(
        "state_shape", "error",
        "Handing the decoder a (batch, units) state instead of (1, batch, units)",
        """An LSTM's initial state must have the layout it returns: (h_0, c_0), each
        (num_layers x num_directions, batch, hidden), three axes for a batched input. EncDec-AD
        starts its decoder from the encoder's final state; squeezing that state to one vector
        per example first, h_n[-1] with shape (batch, hidden) as a Linear layer would want,
        gives 2-D tensors, which nn.LSTM rejects. Pass (h_n, c_n) exactly as the encoder
        returned them; a (batch, hidden) tensor needs .unsqueeze(0) first.""",
        r.raised, r.fixed_state,
    ),
    _executed(
        "state_batch_first", "error",
        "Making the state batch-first with transpose(0, 1)",
        """Because the model uses batch_first=True, it is tempting to make the hand-over state
        batch-first too, transposing it to (batch, layers, hidden). batch_first never applies
        to states: nn.LSTM checks that h_0 is (num_layers x num_directions, batch, hidden) =
        (1, 4, 32) and stops with an error that shows the expected and the received shape.
        Pass (h_n, c_n) as returned. With one series and one layer both layouts are (1, 1, 32),
        so this bug hides in single-series demos and appears with the first real batch.""",
        r.raised, r.fixed_state, fix="state_shape_fix",
    ),
)

PITFALLS: Mapping[str, Pitfall] = MappingProxyType({p.key: p for p in _ENTRIES})
