"""Keras's own behaviour for the Keras pitfalls, recorded from real Keras into `recorded/`.

Keras is a development dependency only, so the app cannot run a Keras snippet; it shows what
Keras said when the snippet was recorded. `record()` runs the snippets with real Keras (the
test suite calls it and compares with the stored file, so the app's text cannot drift from
Keras's); `python -m lstmae_demo.pitfalls.keras_record` rewrites the file after a Keras upgrade.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from .catalogue import MISSING_RETURN_SEQUENCES
from .runner import Run, error_text, execute, snippet

# Hidden by Python's default warning filters when raised inside a library, as these are (numpy 2's
# `__array__(copy=...)` notice from Keras's torch backend): a user of the snippet never sees them.
_HIDDEN = ("DeprecationWarning", "PendingDeprecationWarning", "ImportWarning", "ResourceWarning")


def source_hash(source: str) -> str:
    """The SHA-256 of a snippet's text, stored with what Keras did with it."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def _shown_warnings(run: Run) -> list[str]:
    return [w for w in run.warnings if w.split(":", 1)[0] not in _HIDDEN]


def _error_line(run: Run, name: str) -> int | None:
    """The snippet line the exception left from (the deepest frame inside the snippet)."""
    tb, line = run.error.__traceback__ if run.error else None, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == f"<pitfall {name}>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _run_keras(name: str) -> dict[str, Any]:
    """Run snippet `name` with real Keras; what it raised or built."""
    source = snippet(name)
    run = execute(source, name)
    case: dict[str, Any] = {
        "snippet": name,
        "sha256": source_hash(source),  # a snippet edited since recording is caught without Keras
        "error": error_text(run.error) if run.error else None,
        "error_line": _error_line(run, name),
        "warnings": _shown_warnings(run),
    }
    if run.error is None:
        model = run.names["model"]
        case |= {
            "output_shape": list(model.output_shape),
            "prediction": list(run.names["prediction"].shape),
            "params": model.count_params(),
            "epochs": len(run.names["history"].epoch),
        }
    return case


def record() -> dict[str, Any]:
    """Run the missing-return_sequences snippets with real Keras; what each did, as data."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras  # a development dependency: imported only when recording

    return {
        "keras_version": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "faulty": _run_keras("missing_return_sequences"),
        "dense": _run_keras("missing_return_sequences_dense"),
        "fix": _run_keras("missing_return_sequences_fix"),
    }


def main() -> None:
    """Re-record Keras's behaviour into the package's `recorded/` folder."""
    target = Path(__file__).parent / "recorded" / MISSING_RETURN_SEQUENCES
    target.write_text(json.dumps(record(), indent=2) + "\n", encoding="utf-8")
    print(f"recorded {target}")


if __name__ == "__main__":
    main()
