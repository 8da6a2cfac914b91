"""Running a pitfall's snippet: exec in a fresh namespace, RNG forked and seeded, warnings kept.

Snippets are real Python files in `snippets/`, next to this module, read as text and executed
as they are, so the code a learner reads is exactly the code that ran. `recorded/` holds what
Keras did with the Keras snippets (see `keras_record`).
"""

from __future__ import annotations

import json
import threading
import warnings
from dataclasses import dataclass
from importlib import resources
from typing import Any

import torch

MESSAGE_LINES = 6  # how much of a framework message a learner is shown

# Serialises runs: `warnings.catch_warnings` and the forked RNG are process-global, and a
# Streamlit server runs each session's script in its own thread.
_RUN_LOCK = threading.Lock()


@dataclass(frozen=True)
class Run:
    """What executing one snippet left behind."""

    names: dict[str, Any]  # the snippet's variables after it ran (or up to where it failed)
    error: Exception | None  # the exception it raised, if any
    warnings: tuple[str, ...]  # "Category: text" of each warning it raised, in order


def snippet(name: str) -> str:
    """The text of `snippets/<name>.py`, found next to this package (works from a clean clone)."""
    path = resources.files(__package__).joinpath("snippets", f"{name}.py")
    if not path.is_file():
        raise FileNotFoundError(f"no pitfall snippet {name!r} (looked for {path})")
    return path.read_text(encoding="utf-8")


def recorded(name: str) -> dict[str, Any]:
    """The behaviour recorded from another framework, stored as `recorded/<name>` in the package."""
    path = resources.files(__package__).joinpath("recorded", name)
    return json.loads(path.read_text(encoding="utf-8"))


def execute(source: str, name: str = "snippet") -> Run:
    """Run `source` in a fresh namespace, RNG forked and seeded; keep its exception, warnings."""
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
