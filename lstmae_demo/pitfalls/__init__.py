"""What goes wrong: the published mistakes of each architecture, run for real, with their fixes.

Each pitfall is a faulty snippet and its corrected version, real Python files in `snippets/`.
PyTorch snippets are executed on every call (`runner`), so the code a learner reads is exactly
the code that ran; a Keras snippet is shown with Keras's behaviour as recorded from real Keras
(`keras_record`). Every message says where it comes from (`PitfallResult.message_source`): the
framework's own text, or a symptom measured on the run. The catalogue (`catalogue`) holds the
titles and explanations; which pitfalls belong to which architecture is listed by the
architecture registry.
"""

from __future__ import annotations

from dataclasses import dataclass

from .catalogue import PITFALLS, ExecutedPitfall, Pitfall, RecordedPitfall
from .readers import MEASURED, OUTCOMES, PYTORCH, Symptom
from .runner import MESSAGE_LINES, Run, error_text, execute, snippet

__all__ = [
    "MEASURED", "MESSAGE_LINES", "OUTCOMES", "PITFALLS", "PYTORCH", "ExecutedPitfall", "Pitfall",
    "PitfallResult", "RecordedPitfall", "Run", "Symptom", "error_text", "execute",
    "pitfall_keys", "run_pitfall", "snippet",
]


@dataclass(frozen=True)
class PitfallResult:
    """One pitfall as observed just now: the faulty code, what happened, why, and the fix."""

    key: str
    title: str
    code: str  # the faulty snippet, exactly as it ran (or, for Keras, as it was recorded)
    outcome: str  # "error", "silent" (no error but wrong) or "diverged"
    message: str  # the framework's exception/warning text, or the symptom measured on the run
    message_source: str  # "PyTorch", "Keras <version> (recorded)" or "measured on this run"
    explanation: str  # one paragraph: why it goes wrong
    fix_code: str  # the corrected snippet, exactly as it ran (or was recorded)
    fix_result: str  # what the fix produced, measured on this run (or recorded, and saying so)


def pitfall_keys() -> tuple[str, ...]:
    """Every known pitfall key."""
    return tuple(PITFALLS)


def run_pitfall(key: str) -> PitfallResult:
    """Run pitfall `key`'s faulty code and its fix, and report what really happened."""
    if key not in PITFALLS:
        raise ValueError(f"unknown pitfall {key!r}; choose one of {', '.join(PITFALLS)}")
    pitfall = PITFALLS[key]
    symptom, fix_result = pitfall.observe()
    return PitfallResult(
        key=key, title=pitfall.title, code=pitfall.code, outcome=symptom.outcome,
        message=symptom.message, message_source=symptom.source,
        explanation=pitfall.explanation, fix_code=pitfall.fix_code, fix_result=fix_result,
    )
