"""One-time work for a server process, done off the learner's clicks (docs/bench-studies.md,
"The server's warm-up").

- The libraries the pages draw with (pandas for tables, plotly) are imported by the first
  session, before any page runs, while other sessions wait: two sessions importing pandas at
  once on a fresh server can see it partly initialised ("module 'pandas' has no attribute
  'Series'", issue #10).
- The first torch optimiser a process builds imports torch._dynamo (~1 s): done in the
  background, so the first Train of a fresh server does not wait for it inside its first
  epoch.
- Streamlit runs a full `gc.collect()` after every script run, and after every run of the
  Train page's polling fragment (once a second while a learner watches a run). Walking the
  ~220,000 objects of torch, plotly and streamlit took ~0.1 s of CPU each time, about as much
  as the training it showed. `gc.freeze()` after the imports moves those long-lived objects out
  of the collector's way; everything created later (sessions, figures, models) is still
  collected after every run, so Streamlit's memory guard stays on.

LSTMAE_WARMUP=off in the server's environment skips the background work (for the benchmark's
before/after); the imports are needed either way.
"""

from __future__ import annotations

import gc
import os
import threading

_started = threading.Event()
_lock = threading.Lock()


def _import_page_libraries() -> None:
    import pandas  # noqa: F401  (the imports are the work)
    import plotly.graph_objects  # noqa: F401
    import plotly.subplots  # noqa: F401


def _warm() -> None:
    import torch._dynamo  # noqa: F401  (the import is the work)

    gc.collect()
    gc.freeze()


def warm_up_process() -> None:
    """Import the pages' libraries (other sessions wait), then start the rest in a background
    thread; later calls do nothing."""
    if _started.is_set():
        return
    with _lock:
        if _started.is_set():
            return
        _import_page_libraries()
        _started.set()
    if os.environ.get("LSTMAE_WARMUP", "").lower() != "off":
        threading.Thread(target=_warm, name="lstmae-warm-up", daemon=True).start()
