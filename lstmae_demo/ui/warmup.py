"""One-time work for a server process, done off the learner's clicks (bench/RESULTS.md, 4).

- The first torch optimiser a process builds imports torch._dynamo (~1 s): done here, so the
  first Train of a fresh server does not wait for it inside its first epoch.
- Streamlit runs a full `gc.collect()` after every script run, and after every run of the
  Train page's polling fragment (twice a second while a learner watches a run). Walking the
  ~220,000 objects of torch, plotly and streamlit took ~0.1 s of CPU each time, about as much
  as the training it showed. `gc.freeze()` after the imports moves those long-lived objects out
  of the collector's way; everything created later (sessions, figures, models) is still
  collected after every run, so Streamlit's memory guard stays on.

LSTMAE_WARMUP=off in the server's environment skips both (for the benchmark's before/after).
"""

from __future__ import annotations

import gc
import os
import threading

_started = threading.Event()


def _warm() -> None:
    import torch._dynamo  # noqa: F401  (the import is the work)

    gc.collect()
    gc.freeze()


def warm_up_process() -> None:
    """Start the one-time work in a background thread; later calls do nothing."""
    if _started.is_set() or os.environ.get("LSTMAE_WARMUP", "").lower() == "off":
        return
    _started.set()
    threading.Thread(target=_warm, name="lstmae-warm-up", daemon=True).start()
