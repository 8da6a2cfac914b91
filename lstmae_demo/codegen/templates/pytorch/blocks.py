"""Template: the building blocks of the exported PyTorch script (lstmae_demo.codegen reads it).

Only the blocks between `# <<< name` and `# >>>` are exported, and only the lines whose
`# [if ...]` holds for the spec (see codegen/templating.py). RETURNS_USED is replaced by the
`returns` options the model uses.
"""

import torch
from torch import nn

RETURNS_USED = ("sequence",)


# <<< ActLSTM
class ActLSTM(nn.Module):
    """A one-layer LSTM with ReLU where nn.LSTM has tanh: Keras's LSTM(activation='relu').

    nn.LSTM is tanh-only. Keras's `activation` replaces both tanh's of the cell: the candidate
    g and the squashing of the cell state before the output gate. The parameters have
    nn.LSTM's names and shapes (weight_ih_l0 (4U, I), weight_hh_l0 (4U, U), bias_ih_l0,
    bias_hh_l0; gate order i, f, g, o), so a state_dict fits either one.
    """

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        reference = nn.LSTM(input_size, hidden_size, batch_first=True)  # borrow its init
        for name, value in reference.named_parameters():
            self.register_parameter(name, nn.Parameter(value.detach().clone()))

    def forward(self, x: torch.Tensor, state=None):
        """x (B, T, I) -> output (B, T, U), (h_n, c_n) each (1, B, U): the same as nn.LSTM."""
        batch, steps, _ = x.shape
        if state is None:  # start from zeros, like nn.LSTM and Keras
            h = x.new_zeros(batch, self.hidden_size)  # (B, U)
            c = x.new_zeros(batch, self.hidden_size)  # (B, U)
        else:
            h, c = state[0][0], state[1][0]  # (1, B, U) -> (B, U)
        # The input's share of all four gates, for every step at once: (B, T, 4U).
        # nn.LSTM adds two biases (b_ih + b_hh); Keras has one: only their sum matters.
        x_proj = x @ self.weight_ih_l0.T + self.bias_ih_l0 + self.bias_hh_l0
        outputs = []
        for t in range(steps):  # the recurrent share needs the previous h: step by step
            gates = x_proj[:, t] + h @ self.weight_hh_l0.T  # (B, 4U)
            i, f, g, o = gates.chunk(4, dim=1)  # input, forget, candidate, output: (B, U) each
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.relu(g)  # relu, not tanh
            h = torch.sigmoid(o) * torch.relu(c)  # relu, not tanh: h is unbounded
            outputs.append(h)
        output = torch.stack(outputs, dim=1)  # T x (B, U) -> (B, T, U)
        return output, (h.unsqueeze(0), c.unsqueeze(0))  # (B, U) -> (1, B, U), like nn.LSTM

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, activation='relu'"
# >>>


# <<< LSTMLayer
class LSTMLayer(nn.Module):
    """One LSTM plus the choice of what it passes on: the Keras-level view of a layer.

    # [if returns_sequence]
    returns = "sequence": all outputs, (B, T, U)        (Keras return_sequences=True)
    # [end]
    # [if returns_last]
    returns = "last": output[:, -1], (B, U)             (Keras return_sequences=False)
    # [end]
    # [if returns_h_n]
    returns = "h_n": h_n[-1], (B, U)                    (the same numbers, from the state)
    # [end]
    # [if returns_state]
    returns = "state": (h_n, c_n), each (1, B, U)       (Keras return_state=True)
    # [end]
    # [if returns_h_state]
    returns = "h_state": (h_n, zeros), each (1, B, U)   (hand over h; c starts at zero)
    # [end]
    # [if returns_sequence_state]
    returns = "sequence_state": (output, (h_n, c_n))    (return_sequences and return_state)
    # [end]
    """

    RETURNS = RETURNS_USED

    def __init__(self, input_size: int, hidden_size: int, returns: str):
        super().__init__()
        if returns not in self.RETURNS:
            raise ValueError(f"returns must be one of {self.RETURNS}, got {returns!r}")
        self.returns = returns
        # [if tanh]
        self.rnn = nn.LSTM(input_size, hidden_size, batch_first=True)  # batch_first: (B, T, I)
        # [else]
        self.rnn = ActLSTM(input_size, hidden_size)  # nn.LSTM is tanh-only
        # [end]

    def forward(self, x: torch.Tensor, state=None):
        """x (B, T, I), from `state` (h_0, c_0) or zeros -> what `returns` says."""
        # output: every step's h, (B, T, U). h_n, c_n: the final state, (1, B, U) each;
        # the state is never batch-first.
        output, (h_n, c_n) = self.rnn(x, state)
        passed_on = {
            # [if returns_sequence]
            # Keras return_sequences=True: one output per step, (B, T, U).
            "sequence": output,
            # [end]
            # [if returns_last]
            # Keras return_sequences=False (its default): (B, T, U) -> (B, U), the last step
            # only. The other T-1 outputs are thrown away.
            "last": output[:, -1],
            # [end]
            # [if returns_h_n]
            # h_n is (layers x directions, B, U) = (1, B, U) even with batch_first=True.
            # h_n[-1] is the last layer's final hidden state, (B, U): the same numbers as
            # output[:, -1] for a one-layer, one-direction LSTM.
            "h_n": h_n[-1],
            # [end]
            # [if returns_state]
            # Keras return_state=True: the final state (h_n, c_n), each (1, B, U), handed on.
            "state": (h_n, c_n),
            # [end]
            # [if returns_h_state]
            # Only h_n is handed over, each (1, B, U): the next LSTM's cell state starts at 0.
            "h_state": (h_n, torch.zeros_like(c_n)),
            # [end]
            # [if returns_sequence_state]
            # return_sequences=True and return_state=True: (B, T, U) and (1, B, U) each.
            "sequence_state": (output, (h_n, c_n)),
            # [end]
        }
        return passed_on[self.returns]
# >>>


# <<< RepeatVector
class RepeatVector(nn.Module):
    """(B, U) -> (B, T, U): the same vector copied to every step, like Keras's RepeatVector(T).

    An LSTM reads a sequence, but the encoder handed on one vector per example. Copying it to
    each of the T steps gives the decoder the same input at every step: it has to unfold the
    whole sequence from its own changing state.
    """

    def __init__(self, steps: int):
        super().__init__()
        self.steps = steps

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, U) -> (B, T, U)."""
        return z.unsqueeze(1).repeat(1, self.steps, 1)  # (B, U) -> (B, 1, U) -> (B, T, U)

    def extra_repr(self) -> str:
        return f"steps={self.steps}"
# >>>


# <<< Quantize
class Quantize(nn.Module):
    """(B, T, 1) floats -> (B, T) int64 bin ids, like Keras's Discretization(bin_boundaries).

    nn.Embedding looks up integer ids: a float tensor fails with a dtype error. So each value
    becomes the id of one of `bins` equal bins over [-1, 1]; values outside land in the first
    or the last bin.
    """

    def __init__(self, bins: int):
        super().__init__()
        self.bins = bins
        # The bins - 1 inner edges. A buffer moves with .to(device) but is not trained, and
        # persistent=False keeps it out of the state_dict (it is rebuilt from `bins`).
        edges = torch.linspace(-1.0, 1.0, bins + 1)[1:-1]
        self.register_buffer("boundaries", edges, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, 1) float -> (B, T) int64 in [0, bins)."""
        # right=True: a value equal to an edge goes to the bin above it (as in Keras).
        return torch.bucketize(x.squeeze(-1), self.boundaries, right=True)  # (B, T)

    def extra_repr(self) -> str:
        return f"bins={self.bins}"
# >>>


# <<< DotAttention
class DotAttention(nn.Module):
    """Dot-product attention, as Keras's layers.Attention() (Luong style, no scale): 0 params.

    For each decoder step (the query), a softmax over the dot products with all T encoder
    outputs weighs those outputs; the result mixes them: the decoder can look up any step.
    """

    def forward(self, query: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """query (B, T, U) from the decoder, values (B, T, U) from the encoder -> (B, T, U)."""
        scores = query @ values.transpose(1, 2)  # (B, T, U) @ (B, U, T) -> (B, T, T)
        weights = torch.softmax(scores, dim=-1)  # each query step's weights sum to 1
        return weights @ values  # (B, T, T) @ (B, T, U) -> (B, T, U)
# >>>


# <<< Concat
class Concat(nn.Module):
    """Joins tensors on the last axis, like Keras's layers.Concatenate()."""

    def forward(self, *parts: torch.Tensor) -> torch.Tensor:
        """(B, T, U) and (B, T, U) -> (B, T, 2U)."""
        return torch.cat(parts, dim=-1)  # (B, T, U) x 2 -> (B, T, 2U)
# >>>


# <<< ReverseDecoder
class ReverseDecoder(nn.Module):
    """EncDec-AD's decoder: starts from the encoder's hand-off, reconstructs backwards.

    # [if conditional]
    h_D(L) = h_E(L) gives x'(L) first. Each step then takes x(i) (teacher forcing, in
    training) or the prediction x'(i) (at inference) to reach h_D(i-1) and so x'(i-1).
    # [else]
    h_D(L) = h_E(L) gives x'(L) first; each step back in time reaches h_D(i-1) from h_D(i)
    alone, fed nothing (zeros): Srivastava et al. 2015 call this the unconditioned decoder.
    Training and inference are the same.
    # [end]
    Returns the decoder states in time order, (B, T, U); the head turns them into values.
    """

    def __init__(self, n_features: int, units: int):
        super().__init__()
        # [if tanh]
        self.rnn = nn.LSTM(n_features, units, batch_first=True)  # batch_first: x is (B, T, F)
        # [else]
        self.rnn = ActLSTM(n_features, units)  # nn.LSTM is tanh-only
        # [end]

    def forward(self, x: torch.Tensor, state, head: nn.Module) -> torch.Tensor:
        """x (B, T, F), state (h, c) each (1, B, U) -> h_D(1) ... h_D(L): (B, T, U)."""
        # [if handoff_h]
        h, c = state  # h_E(L) and zeros: the decoder's initial state, each (1, B, U)
        # [else]
        h, c = state  # h_E(L), c_E(L): the decoder's initial state, each (1, B, U)
        # [end]
        # [if conditional]
        if not self.training:  # model.eval(): feed back the decoder's own predictions
            return self.free_running(h, c, head, x.shape[1]).flip(1)  # (B, T, U), time order
        inputs = x.flip(1)[:, :-1]  # model.train(), teacher forcing: x(L) ... x(2), (B, T-1, F)
        # [else]
        inputs = torch.zeros_like(x.flip(1)[:, :-1])  # T-1 steps of nothing: (B, T-1, F)
        # [end]
        later, _ = self.rnn(inputs, (h, c))  # h_D(L-1) ... h_D(1): (B, T-1, U)
        # Prepend h_D(L) = h_E(L): (1, B, U) -> (B, U) -> (B, 1, U); then (B, T, U).
        states = torch.cat([h[-1].unsqueeze(1), later], dim=1)  # h_D(L) ... h_D(1)
        return states.flip(1)  # (B, T, U), back in time order: h_D(1) ... h_D(L)

    # [if conditional]
    def free_running(self, h, c, head: nn.Module, steps: int) -> torch.Tensor:
        """Inference: predict x'(i), feed it in, repeat. Returns h_D(L) ... h_D(1) (B, T, U)."""
        states = [h[-1]]  # h_D(L): (1, B, U) -> (B, U)
        for _ in range(steps - 1):
            previous = head(states[-1]).unsqueeze(1)  # x'(i): (B, F) -> (B, 1, F)
            out, (h, c) = self.rnn(previous, (h, c))  # one step: out (B, 1, U)
            states.append(out[:, 0])  # (B, U)
        return torch.stack(states, dim=1)  # T x (B, U) -> (B, T, U)
    # [end]
# >>>
