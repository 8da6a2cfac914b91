"""The latent space of a trained model: its codes, a 2-D view of them, decoding along a line
between two codes, and whether series of similar frequency land near each other.

No streamlit. The code is what the model's own `encode` returns: exactly what the decoder can
read of the encoder (the trace's `code`). Decoding puts a code back where the encoder's output
was (a forward hook on the module the trace names as holding the code) and runs the model's
own forward pass from there, so nothing of the decoder is re-implemented here.

    codes = encode(model, x)                      # (N, D)
    view = pca_2d(codes)                          # view.points (N, 2), view.shares
    path, decoded = morph(model, codes[i], codes[j], steps=7)   # decoded (7, T, F)
    nb = neighbourhood(codes, freq)               # do similar frequencies sit together?
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .archs import get_arch, private_copy
from .shapes.trace import trace
from .spec import ModelSpec

# A finding is called "near" only when a permutation test rules out chance at this level...
SIGNIFICANCE = 0.01
# ...and each series' nearest neighbour in the code differs from it by at most this share of
# the difference between two series picked at random.
NEAR_RATIO = 0.5
# Reconstructions with at least this share of the error of always predicting the average
# series use little of the code (the "predict the mean" plateau).
MEAN_PLATEAU = 0.5
PERMUTATIONS = 199  # label shuffles of the permutation test; p is at least 1 / 200
PERMUTATION_BATCH = 50  # shuffles computed at once (50 x N x N numbers)
FREQ_STEP = 0.01  # cycles per window between the candidate frequencies of a sine fit
# A step along the line that changes the decoded frequency by more than this many times an
# even share of the way from A's to B's is a jump, not a smooth passage.
JUMP = 3.0
# A series whose values vary less than this (standard deviation) is taken as a flat line,
# which has no frequency (an untrained decoder's answer). The data's sines have 0.57.
FLAT = 0.05


# ---------------------------------------------------------------------------------------------
# What the code is, part by part


@dataclass(frozen=True)
class CodePart:
    """One named piece of the flattened code, e.g. h_n (U numbers)."""

    name: str
    size: int


@dataclass(frozen=True)
class CodeLayout:
    """What one example's code is made of, in the order `encode` flattens it."""

    parts: tuple[CodePart, ...]
    where: str  # the trace's words for it, e.g. "the encoder LSTM's last output"
    fixed_size: bool  # False: it grows with the sequence length T
    module: str  # the model's submodule whose output holds it (hooked to decode)

    @property
    def size(self) -> int:
        """Numbers per example."""
        return sum(p.size for p in self.parts)

    def describe(self) -> str:
        """e.g. "h_E(L) (32) + c_E(L) (32) = 64 numbers"."""
        pieces = " + ".join(f"{p.name} ({p.size:,})" for p in self.parts)
        return pieces if len(self.parts) == 1 else f"{pieces} = {self.size:,} numbers"


def code_layout(spec: ModelSpec) -> CodeLayout:
    """The parts of `spec`'s code, where the trace says it is, and whether its size is fixed."""
    tr = trace(spec, 1)
    parts = get_arch(spec.arch).model.code_parts(spec)
    record = tr.record(tr.code.record)
    return CodeLayout(parts=tuple(CodePart(n, s) for n, s in parts), where=tr.code.where,
                      fixed_size=tr.code.fixed_size, module=record.module or "")


# ---------------------------------------------------------------------------------------------
# Encode and decode with the real modules


def encode(model: nn.Module, x: np.ndarray) -> np.ndarray:
    """Each series' code, as the model's `encode` returns it: (N, T, F) -> (N, D) float64."""
    with torch.no_grad():
        return model.encode(torch.as_tensor(x, dtype=torch.float32)).double().numpy()


def decode(model: nn.Module, codes: np.ndarray, placeholder: np.ndarray | None = None
           ) -> np.ndarray:
    """The reconstruction each code decodes to: (M, D) -> (M, T, F), in eval mode.

    The model runs its own forward pass on `placeholder` inputs (zeros unless given) while a
    hook hands the decoder `codes` in place of what the encoder computed, so the decoder sees
    nothing of the placeholder. The hook goes on a private copy (archs.private_copy).
    """
    spec: ModelSpec = model.spec
    codes_t = torch.as_tensor(np.asarray(codes), dtype=torch.float32)
    if codes_t.ndim != 2 or codes_t.shape[1] != code_layout(spec).size:
        raise ValueError(f"codes must be (M, {code_layout(spec).size}) for this model, got "
                         f"{tuple(codes_t.shape)}")
    shape = (codes_t.shape[0], spec.seq_len, spec.n_features)
    x = (torch.zeros(shape) if placeholder is None
         else torch.as_tensor(placeholder, dtype=torch.float32))
    # eval: a conditional decoder feeds back its own output, not the placeholder
    own = private_copy(model).eval()
    replacement = own.code_output(codes_t)
    own.get_submodule(code_layout(spec).module).register_forward_hook(
        lambda _module, _inputs, _output: replacement)
    with torch.no_grad():
        return own.reconstruct(x).double().numpy()


def line_between(a: np.ndarray, b: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """`steps` evenly spaced points from code a to code b: (positions (S,), codes (S, D))."""
    if steps < 2:
        raise ValueError(f"steps must be at least 2 (both ends), got {steps}")
    positions = np.linspace(0.0, 1.0, steps)
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return positions, a[None, :] + positions[:, None] * (b - a)[None, :]


def morph(model: nn.Module, a: np.ndarray, b: np.ndarray, steps: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode `steps` points on the line from code a to code b: (positions, codes, (S, T, F))."""
    positions, codes = line_between(a, b, steps)
    return positions, codes, decode(model, codes)


# ---------------------------------------------------------------------------------------------
# The 2-D view


@dataclass(frozen=True, eq=False)  # eq=False: == on numpy arrays has no single answer
class Projection:
    """Codes seen along their two directions of largest variance (PCA)."""

    points: np.ndarray  # (N, 2)
    axes: np.ndarray  # (2, D): unit directions in code space (a zero row if D = 1)
    mean: np.ndarray  # (D,)
    shares: tuple[float, float]  # share of the codes' total variance along each axis
    total_variance: float  # sum of the variances of the D code numbers

    @property
    def share(self) -> float:
        """Share of the total variance the two axes hold together."""
        return self.shares[0] + self.shares[1]

    def project(self, codes: np.ndarray) -> np.ndarray:
        """Other codes in the same 2-D view: (M, D) -> (M, 2)."""
        return (np.asarray(codes, dtype=np.float64) - self.mean) @ self.axes.T


def pca_2d(codes: np.ndarray) -> Projection:
    """Principal component analysis with NumPy's SVD: the two directions of largest variance.

    Each axis's sign is fixed (its largest loading positive), so the same codes always give
    the same picture.
    """
    x = np.asarray(codes, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"codes must be (N, D) with N, D >= 1, got {x.shape}")
    n, d = x.shape
    mean = x.mean(axis=0)
    centred = x - mean
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)  # vt (min(N, D), D)
    axes = np.zeros((2, d))
    k = min(2, vt.shape[0])
    axes[:k] = vt[:k]
    for row in axes[:k]:
        row *= np.sign(row[np.argmax(np.abs(row))]) or 1.0
    variances = singular**2 / max(n - 1, 1)  # variance along each principal direction
    total = float(centred.var(axis=0, ddof=1).sum()) if n > 1 else 0.0
    shares = [float(v / total) if total > 0 else 0.0 for v in variances[:2]]
    shares += [0.0] * (2 - len(shares))
    return Projection(points=centred @ axes.T, axes=axes, mean=mean,
                      shares=(shares[0], shares[1]), total_variance=total)


# ---------------------------------------------------------------------------------------------
# Do similar parameters land near each other?


def differences(values: np.ndarray, period: float | None = None) -> np.ndarray:
    """|v_i - v_j| for every pair (N, N); for a circular quantity (a phase) the shorter way
    round a circle of `period`."""
    v = np.asarray(values, dtype=np.float64)
    d = np.abs(v[:, None] - v[None, :])
    if period is not None:
        d = np.mod(d, period)
        d = np.minimum(d, period - d)
    return d


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks from 0, ties given their average rank."""
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x), dtype=np.float64)
    values, inverse = np.unique(x, return_inverse=True)
    if len(values) < len(x):  # average the ranks of equal values
        ranks = np.bincount(inverse, ranks)[inverse] / np.bincount(inverse)[inverse]
    return ranks


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    scale = math.sqrt(float(a @ a) * float(b @ b))
    return float(a @ b) / scale if scale > 0 else 0.0


@dataclass(frozen=True)
class Neighbourhood:
    """How well closeness in the code follows closeness of one generator parameter."""

    rho: float  # rank correlation between code distance and parameter difference (all pairs)
    p_value: float  # share of shuffles of the parameter among the series with rho >= this
    nearest_gap: float  # mean difference between a series and its nearest code neighbour
    chance_gap: float  # mean difference between two different series
    n: int  # series
    permutations: int

    @property
    def ratio(self) -> float:
        """nearest_gap / chance_gap: 0 = neighbours share the parameter, 1 = no better than
        chance."""
        return self.nearest_gap / self.chance_gap if self.chance_gap > 0 else 1.0

    @property
    def verdict(self) -> str:
        """"near": similar values sit together; "weak": a real but loose ordering; "no"."""
        if self.rho <= 0 or self.p_value >= SIGNIFICANCE:
            return "no"
        return "near" if self.ratio <= NEAR_RATIO else "weak"


def neighbourhood(codes: np.ndarray, values: np.ndarray, period: float | None = None,
                  permutations: int = PERMUTATIONS, seed: int = 0) -> Neighbourhood:
    """Do series with similar `values` (e.g. frequencies) have nearby codes?

    Two measures over the N series: the rank (Spearman) correlation between the Euclidean
    distance of two codes and the difference of their values, with a permutation (Mantel) test
    that shuffles the values among the series; and how far in value each series' nearest
    neighbour in the code is, against two series picked at random.
    """
    x = np.asarray(codes, dtype=np.float64)
    n = x.shape[0]
    if n < 3:
        raise ValueError(f"at least 3 series are needed to compare neighbours, got {n}")
    squares = (x**2).sum(axis=1)
    distance = np.sqrt(np.maximum(squares[:, None] + squares[None, :] - 2 * x @ x.T, 0.0))
    gap = differences(values, period)
    upper = np.triu_indices(n, k=1)
    distance_ranks = _ranks(distance[upper])
    gap_ranks = np.zeros((n, n))
    gap_ranks[upper] = _ranks(gap[upper])
    gap_ranks += gap_ranks.T
    rho = _correlation(distance_ranks, gap_ranks[upper])
    # Shuffling the values among the series shuffles the rows and columns of the difference
    # matrix, whose ranks are then the shuffled ranks: no ranking inside the loop. Both rank
    # vectors keep their mean and length, so comparing the sums of products compares the
    # correlations; each sum runs over the full matrix (every pair twice).
    centred = np.zeros((n, n))
    centred[upper] = distance_ranks - distance_ranks.mean()
    centred += centred.T
    observed = float((centred * gap_ranks).sum())
    rng = np.random.default_rng(seed)
    higher = 0
    for first in range(0, permutations, PERMUTATION_BATCH):
        orders = np.stack([rng.permutation(n)
                           for _ in range(min(PERMUTATION_BATCH, permutations - first))])
        shuffled = gap_ranks[orders[:, :, None], orders[:, None, :]]  # (K, N, N)
        higher += int(((shuffled * centred).sum(axis=(1, 2)) >= observed - 1e-9).sum())
    np.fill_diagonal(distance, np.inf)
    nearest = distance.argmin(axis=1)
    return Neighbourhood(rho=rho, p_value=(higher + 1) / (permutations + 1),
                         nearest_gap=float(gap[np.arange(n), nearest].mean()),
                         chance_gap=float(gap[upper].mean()), n=n, permutations=permutations)


def neighbourhood_finding(nb: Neighbourhood, what: str, unit: str) -> str:
    """The check in words, with its numbers; `what` e.g. "frequency", `unit` e.g. "cycles"."""
    numbers = (f"rank correlation between code distance and {what} difference "
               f"{nb.rho:+.2f} (permutation test p = {nb.p_value:.3g}); a series' nearest "
               f"neighbour in the code differs in {what} by {nb.nearest_gap:.2f} {unit} on "
               f"average, two series picked at random by {nb.chance_gap:.2f}")
    if nb.verdict == "near":
        return f"Series of similar {what} land near each other in the code: {numbers}."
    if nb.verdict == "weak":
        return (f"Series of similar {what} land only loosely near each other in the code: "
                f"{numbers}.")
    return (f"Series of similar {what} do not land near each other in this code: {numbers}. "
            "That is no better than chance.")


# ---------------------------------------------------------------------------------------------
# How much of the code the decoder uses, and what frequency a decoded series has


def mean_plateau(x: np.ndarray, reconstructions: np.ndarray) -> tuple[float, float]:
    """(MSE of the reconstructions, MSE of always answering the average series) on x."""
    x = np.asarray(x, dtype=np.float64)
    recon = float(((np.asarray(reconstructions) - x) ** 2).mean())
    return recon, float(((x - x.mean(axis=0, keepdims=True)) ** 2).mean())


def _fit_scores(y: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """For each candidate frequency, the squares a least-squares a*sin + b*cos + c explains
    of the (T, F) series y, summed over its features: (G,)."""
    t = y.shape[0]
    angle = 2 * np.pi * grid[:, None] * np.arange(t)[None, :] / t  # (G, T)
    basis = np.stack([np.sin(angle), np.cos(angle), np.ones_like(angle)], axis=2)  # (G, T, 3)
    gram = basis.transpose(0, 2, 1) @ basis  # (G, 3, 3)
    moments = basis.transpose(0, 2, 1) @ y[None]  # (G, 3, F)
    coefficients = np.linalg.solve(gram + 1e-9 * np.eye(3), moments)  # (G, 3, F)
    return (coefficients * moments).sum(axis=(1, 2))


def fitted_frequency(series: np.ndarray, low: float = 0.25, high: float | None = None,
                     step: float = FREQ_STEP) -> float | None:
    """The frequency (cycles per window) of the sine that fits a (T, F) series best; None for
    an (almost) flat series, which has none.

    Candidates from `low` to `high` (default 0.45 T, short of the Nyquist limit T/2, where the
    sine vanishes at every sample) each get a least-squares fit of a*sin + b*cos + c per
    feature; the one explaining most wins: first on a grid 10 steps apart, then every `step`
    around the best of those.
    """
    y = np.asarray(series, dtype=np.float64)
    y = y.reshape(y.shape[0], -1)  # (T, F)
    if y.std(axis=0).max() < FLAT:
        return None
    high = 0.45 * y.shape[0] if high is None else high
    coarse = np.arange(low, high + step / 2, 10 * step)
    best = coarse[int(np.argmax(_fit_scores(y, coarse)))]
    fine = np.arange(max(low, best - 10 * step), min(high, best + 10 * step) + step / 2, step)
    return float(fine[int(np.argmax(_fit_scores(y, fine)))])


# ---------------------------------------------------------------------------------------------
# A trained model's validation set, analysed once for the page


@dataclass(frozen=True, eq=False)
class Parameter:
    """One generator parameter of every series, e.g. its frequency."""

    key: str  # freq | phase | end_phase | amplitude
    label: str  # in words, e.g. "frequency"
    unit: str
    values: np.ndarray  # (N,)
    period: float | None = None  # circular quantities (phases): 2 pi

    @property
    def varies(self) -> bool:
        """Whether the series differ in it at all (the app's sines share one amplitude)."""
        return bool(np.ptp(self.values) > 0) if len(self.values) else False


def generator_parameters(params: dict[str, np.ndarray], seq_len: int) -> tuple[Parameter, ...]:
    """The generator's parameters of each series (`SineData.val_params`), and the phase its
    sine has reached at the last step, which an encoder reading to the end sees last.

    Phases are those of the first feature; each feature has its own.
    """
    freq = np.asarray(params["freq"], dtype=np.float64)
    phase = np.mod(np.asarray(params["phase"], dtype=np.float64)[:, 0], 2 * np.pi)
    # value = amplitude * sin(2 pi freq t / T + phase) at t = 0 .. T-1 (data.sine)
    end = np.mod(2 * np.pi * freq * (seq_len - 1) / seq_len + phase, 2 * np.pi)
    return (
        Parameter("freq", "frequency", "cycles per window", freq),
        Parameter("phase", "phase at the first step", "radians", phase, 2 * np.pi),
        Parameter("end_phase", "phase at the last step", "radians", end, 2 * np.pi),
        Parameter("amplitude", "amplitude", "", np.asarray(params["amplitude"], np.float64)),
    )


@dataclass(frozen=True, eq=False)
class LatentView:
    """Everything the Latent space page shows of one trained model on its validation set."""

    layout: CodeLayout
    codes: np.ndarray  # (N, D)
    projection: Projection
    reconstructions: np.ndarray  # (N, T, F), decoded from the codes
    parameters: tuple[Parameter, ...]
    checks: dict[str, Neighbourhood]  # by parameter key, for the parameters that vary
    recon_mse: float  # MSE of the reconstructions
    mean_mse: float  # MSE of always answering the average validation series

    def parameter(self, key: str) -> Parameter:
        """The parameter called `key`."""
        return next(p for p in self.parameters if p.key == key)


def analyse(model: nn.Module, x: np.ndarray, params: dict[str, np.ndarray]) -> LatentView:
    """Encode the validation series x (N, T, F), decode the codes, project them to 2-D and
    check, for every generator parameter that varies, whether similar values sit together."""
    if len(x) < 3:
        raise ValueError(f"at least 3 validation series are needed, got {len(x)}")
    spec: ModelSpec = model.spec
    codes = encode(model, x)
    reconstructions = decode(model, codes)
    parameters = generator_parameters(params, spec.seq_len)
    checks = {p.key: neighbourhood(codes, p.values, p.period) for p in parameters if p.varies}
    recon_mse, mean_mse = mean_plateau(x, reconstructions)
    return LatentView(layout=code_layout(spec), codes=codes, projection=pca_2d(codes),
                      reconstructions=reconstructions, parameters=parameters, checks=checks,
                      recon_mse=recon_mse, mean_mse=mean_mse)


def findings(view: LatentView, epochs: int) -> list[tuple[str, str]]:
    """What this model's codes show, as (tone, words with their numbers), from `view` alone.
    tone: "good" (the code sorts series by frequency), "caution" or "note"."""
    out: list[tuple[str, str]] = []
    if view.mean_mse > 0 and view.recon_mse >= MEAN_PLATEAU * view.mean_mse:
        out.append(("caution", (
            f"After {epochs} epochs the decoder makes little use of the code: its "
            f"reconstructions are off by an MSE of {view.recon_mse:.3g}, and always answering "
            f"the average series would be off by {view.mean_mse:.3g}. Train longer before "
            "reading much into this picture.")))
    freq = view.checks.get("freq")
    if freq is not None:
        sentence = neighbourhood_finding(freq, "frequency", "cycles per window")
        if freq.verdict != "near":
            sentence += (f" After {epochs} epochs training was too short for that, or this "
                         "code does not sort series by frequency.")
        out.append(("good" if freq.verdict == "near" else "note", sentence))
    strongest = max(view.checks.items(), key=lambda item: item[1].rho, default=None)
    if (strongest is not None and strongest[0] != "freq" and strongest[1].verdict != "no"
            and (freq is None or strongest[1].rho > freq.rho)):
        key, nb = strongest
        p = view.parameter(key)
        out.append(("note", (
            f"The code follows the {p.label} more closely than the frequency: rank "
            f"correlation {nb.rho:+.2f} (p = {nb.p_value:.3g}), nearest neighbours "
            f"{nb.nearest_gap:.2f} {p.unit} apart against {nb.chance_gap:.2f} at random.")))
    return out


def code_explanation(spec: ModelSpec, layout: CodeLayout) -> str:
    """What this model's "code" is, and for a code that grows with T what that means."""
    t, u = spec.seq_len, spec.units
    parts = f" ({layout.describe()})" if len(layout.parts) > 1 else ""
    first = f"The code is {layout.where}: {layout.size:,} numbers per series{parts}."
    if layout.fixed_size:
        return first + (" Its size does not depend on the sequence length, so every series, "
                        "short or long, is summed up in the same few numbers.")
    reads = ("through attention, which can look up any step" if spec.reads == "attention"
             else "step by step")
    return (first + f" This decoder reads every encoder output {reads}, so there is no "
            f"fixed-size code: it is {t} steps x {u} units and grows with T (double the "
            "sequence length, double the code). Interpolating it blends the two series' "
            "encodings step by step rather than moving through a summary the model had to "
            "learn, so a smooth morph here says little about what the model learned; the 2-D "
            "view is a projection of these long vectors.")


def frequency_path_finding(frequencies: list[float | None], freq_a: float | None,
                           freq_b: float | None) -> str:
    """Whether the decoded series' fitted frequencies move steadily from A's to B's, in words
    with the numbers; `frequencies` are evenly spaced along the line, ends included (None: a
    flat series)."""
    flat = sum(f is None for f in frequencies)
    if freq_a is None or freq_b is None:
        return "One of the two input series is almost flat, so it has no frequency to follow."
    if flat:
        return (f"{flat} of the {len(frequencies)} points on the line decode to an almost flat "
                "line (no sine at all): the decoder does not turn these codes into sines yet.")
    middle = frequencies[len(frequencies) // 2]
    steps = np.diff(frequencies) * np.sign(freq_b - freq_a)  # > 0: towards B's frequency
    tolerance = max(0.05, 0.1 * abs(freq_b - freq_a))  # a fit's wobble is not a turn
    even = abs(freq_b - freq_a) / (len(frequencies) - 1)  # each step's share of a straight path
    steady = bool(np.all(steps >= -tolerance))
    inside = min(freq_a, freq_b) - tolerance <= middle <= max(freq_a, freq_b) + tolerance
    largest = int(np.argmax(np.abs(steps)))
    numbers = (f"the decoded series' frequency goes from {frequencies[0]:.2f} to "
               f"{frequencies[-1]:.2f} cycles per window (A's series has {freq_a:.2f}, B's "
               f"{freq_b:.2f}) and is {middle:.2f} halfway")
    if abs(freq_b - freq_a) < 2 * tolerance:
        return f"A and B have almost the same frequency: {numbers}."
    if steady and abs(steps[largest]) > JUMP * even:
        share = 1 / (len(frequencies) - 1)
        return (f"Along the line {numbers}, but it jumps: from {frequencies[largest]:.2f} to "
                f"{frequencies[largest + 1]:.2f} between positions {largest * share:.1f} and "
                f"{(largest + 1) * share:.1f}. The decoder snaps from a sine like one series "
                "to a sine like the other instead of passing through in-between ones.")
    if steady and inside:
        return (f"Along the line {numbers}: points between the two codes decode to sines of "
                "in-between frequency, so the decoder has learned a smooth map from code to "
                "frequency along this line.")
    return (f"Along the line {numbers}: it does not move steadily from one to the other, so "
            "points between these two codes do not decode to in-between sines.")
