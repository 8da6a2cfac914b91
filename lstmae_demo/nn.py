"""The building blocks every architecture is made of, each a module whose output is exactly
one row of the shape trace, and the one vocabulary for what a layer hands on.

Shape comments use B = batch, T = seq_len, F = n_features, U = units, I = input size.
"""

from __future__ import annotations

import torch
from torch import nn

# What a layer hands to the next one: the one vocabulary shared by the models (LSTMLayer's
# `returns`), the trace (LayerRecord.passes), the Time steps page and the flow chart.
HANDS_ON: dict[str, str] = {
    "sequence": "every step's output",
    "last": "the last step's output only",
    "h_n": "the final hidden state h_n only",
    "state": "the final state (h_n, c_n) only",
    "h_state": "the final hidden state h_n only, as an initial state whose c starts at zero",
    "sequence_state": "every step's output and the final state (h_n, c_n)",
    "repeat": "one vector, copied to every step",
    "reversed": "every step, computed backwards from the encoder's state",
}
# What an LSTMLayer can return.
RETURNS = ("sequence", "last", "h_n", "state", "h_state", "sequence_state")


class ActLSTM(nn.Module):
    """A one-layer LSTM with a chosen cell activation, laid out exactly like nn.LSTM.

    nn.LSTM always uses tanh; Keras's LSTM(activation='relu') replaces both tanh's (the cell
    candidate and the output squashing). This module does the same with nn.LSTM's parameter
    names and shapes (weight_ih_l0 (4U, I), weight_hh_l0 (4U, U), bias_ih_l0, bias_hh_l0; gate
    order i, f, g, o), so counts, state_dicts and initialisation match nn.LSTM.
    """

    def __init__(self, input_size: int, hidden_size: int, activation: str = "relu"):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.activation = activation
        self.act = torch.relu if activation == "relu" else torch.tanh
        reference = nn.LSTM(input_size, hidden_size, batch_first=True)  # borrow its init
        for name, value in reference.named_parameters():
            self.register_parameter(name, nn.Parameter(value.detach().clone()))

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None):
        """(B, T, I) -> output (B, T, U), (h_n (1, B, U), c_n (1, B, U)), like nn.LSTM."""
        batch, steps, _ = x.shape
        if state is None:
            h = x.new_zeros(batch, self.hidden_size)
            c = x.new_zeros(batch, self.hidden_size)
        else:
            expected = (1, batch, self.hidden_size)
            for name, part in zip(("hidden[0]", "hidden[1]"), state, strict=True):
                if tuple(part.shape) != expected:  # nn.LSTM's own check, in its words
                    raise RuntimeError(f"Expected {name} size {expected}, got "
                                       f"{list(part.shape)}")
            h, c = state[0][0], state[1][0]  # (1, B, U) -> (B, U)
        # All input projections at once: (B, T, 4U); only the recurrent part is per step.
        x_proj = x @ self.weight_ih_l0.T + self.bias_ih_l0 + self.bias_hh_l0
        outputs = []
        for t in range(steps):
            gates = x_proj[:, t] + h @ self.weight_hh_l0.T  # (B, 4U)
            i, f, g, o = gates.chunk(4, dim=1)  # each (B, U)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * self.act(g)
            h = torch.sigmoid(o) * self.act(c)
            outputs.append(h)
        output = torch.stack(outputs, dim=1)  # (B, T, U)
        return output, (h.unsqueeze(0), c.unsqueeze(0))  # states (1, B, U)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, activation={self.activation!r}"


def make_rnn(input_size: int, hidden_size: int, activation: str) -> nn.Module:
    """nn.LSTM for tanh (fast native kernel), ActLSTM for any other activation."""
    if activation == "tanh":
        return nn.LSTM(input_size, hidden_size, batch_first=True)
    return ActLSTM(input_size, hidden_size, activation)


class LSTMLayer(nn.Module):
    """An LSTM plus the choice of what it passes on: the Keras-level view of one LSTM layer.

    returns = "sequence": every step's output (B, T, U)   (Keras return_sequences=True)
              "last":     output[:, -1] (B, U)            (Keras return_sequences=False)
              "h_n":      h_n[-1] (B, U)                  (the same numbers, taken from the state)
              "state":    (h_n, c_n), each (1, B, U)      (Keras return_state=True)
              "h_state":  (h_n, zeros), each (1, B, U)    (hand over h only; c starts at zero)
              "sequence_state": (output, (h_n, c_n))  (return_sequences and return_state)
    """

    def __init__(self, input_size: int, hidden_size: int, activation: str, returns: str):
        super().__init__()
        if returns not in RETURNS:
            raise ValueError(f"returns must be one of {RETURNS}, got {returns!r}")
        self.returns = returns
        self.rnn = make_rnn(input_size, hidden_size, activation)

    def forward(self, x: torch.Tensor, state=None):
        """(B, T, I) -> what `returns` says (see the class docstring)."""
        output, (h_n, c_n) = self.rnn(x, state)  # (B, T, U), (1, B, U) x 2
        if self.returns == "sequence":
            return output  # (B, T, U)
        if self.returns == "last":
            return output[:, -1]  # (B, U): the other T-1 outputs are thrown away
        if self.returns == "h_n":
            return h_n[-1]  # (1, B, U) -> (B, U); h_n is never batch-first
        if self.returns == "state":
            return h_n, c_n  # (1, B, U) each
        if self.returns == "h_state":
            return h_n, torch.zeros_like(c_n)  # (1, B, U) each: c_n is not handed over
        return output, (h_n, c_n)  # (B, T, U), and (1, B, U) each


class RepeatVector(nn.Module):
    """(B, U) -> (B, T, U): the same vector copied to every time step (Keras RepeatVector)."""

    def __init__(self, steps: int):
        super().__init__()
        self.steps = steps

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(B, U) -> (B, T, U)."""
        return z.unsqueeze(1).repeat(1, self.steps, 1)  # (B, 1, U) -> (B, T, U)

    def extra_repr(self) -> str:
        return f"steps={self.steps}"


def bin_boundaries(bins: int, low: float = -1.0, high: float = 1.0) -> torch.Tensor:
    """The bins - 1 inner edges of `bins` equal-width bins over [low, high]."""
    return torch.linspace(low, high, bins + 1)[1:-1]


def bin_centers(bins: int, low: float = -1.0, high: float = 1.0) -> torch.Tensor:
    """The value each bin stands for: its midpoint."""
    width = (high - low) / bins
    return low + width * (torch.arange(bins, dtype=torch.float32) + 0.5)


class Quantize(nn.Module):
    """(B, T, 1) floats -> (B, T) int64 token ids, like Keras Discretization(bin_boundaries).

    nn.Embedding needs integer ids; values outside [-1, 1] land in the first or last bin.
    """

    def __init__(self, bins: int):
        super().__init__()
        self.bins = bins
        self.register_buffer("boundaries", bin_boundaries(bins), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, 1) float -> (B, T) int64 in [0, bins)."""
        return torch.bucketize(x.squeeze(-1), self.boundaries, right=True)  # (B, T)

    def extra_repr(self) -> str:
        return f"bins={self.bins}"


class ReverseDecoder(nn.Module):
    """EncDec-AD's decoder: starts from the encoder's final state and reconstructs backwards.

    h_D(L) = h_E(L) gives x'(L) first; each step then takes x(i) (teacher forcing, in training)
    or x'(i) (at inference), or nothing (unconditioned), to reach h_D(i-1) and so x'(i-1).
    Returns the decoder states in time order (B, T, U); the head turns them into values.
    """

    def __init__(self, n_features: int, units: int, activation: str, conditional: bool):
        super().__init__()
        self.conditional = conditional
        self.rnn = make_rnn(n_features, units, activation)

    def forward(self, x: torch.Tensor, state, head: nn.Module) -> torch.Tensor:
        """x (B, T, F), state (h, c) each (1, B, U) -> h_D(1..L) (B, T, U)."""
        h, c = state
        if self.conditional and not self.training:
            states = self._free_running(h, c, head, x.shape[1])
        else:
            inputs = x.flip(1)[:, :-1]  # x(L), ..., x(2): (B, T-1, F)
            if not self.conditional:
                inputs = torch.zeros_like(inputs)  # unconditioned: fed nothing
            later, _ = self.rnn(inputs, (h, c))  # h_D(L-1) ... h_D(1): (B, T-1, U)
            states = torch.cat([h[-1].unsqueeze(1), later], dim=1)  # h_D(L) ... h_D(1)
        return states.flip(1)  # (B, T, U), back in time order h_D(1) ... h_D(L)

    def _free_running(self, h, c, head: nn.Module, steps: int) -> torch.Tensor:
        """Inference: feed each prediction back in. Returns h_D(L) ... h_D(1) (B, T, U)."""
        states = [h[-1]]  # h_D(L): (B, U)
        for _ in range(steps - 1):
            previous = head(states[-1]).unsqueeze(1)  # x'(i): (B, 1, F)
            out, (h, c) = self.rnn(previous, (h, c))  # out (B, 1, U)
            states.append(out[:, 0])
        return torch.stack(states, dim=1)  # (B, T, U)


class DotAttention(nn.Module):
    """Dot-product attention over every encoder output, as Keras's `Attention()` (Luong):
    for each decoder step, a softmax over the T encoder steps weighs their outputs.

    No parameters. query (B, T, U) from the decoder, values (B, T, U) from the encoder ->
    context (B, T, U): step t's weighted mix of all encoder outputs.
    """

    def forward(self, query: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """(B, T, U), (B, T, U) -> (B, T, U)."""
        scores = query @ values.transpose(1, 2)  # (B, T_query, T_values)
        weights = torch.softmax(scores, dim=-1)  # each query step's weights sum to 1
        return weights @ values  # (B, T, U)


class Concat(nn.Module):
    """Joins tensors on the last axis (Keras's `Concatenate()`): (B, T, U) x 2 -> (B, T, 2U)."""

    def forward(self, *parts: torch.Tensor) -> torch.Tensor:
        """Concatenate on the last axis."""
        return torch.cat(parts, dim=-1)
