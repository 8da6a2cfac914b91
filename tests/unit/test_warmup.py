"""The server's one-time warm-up (lstmae_demo/ui/warmup.py), in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

CHECK = """
import gc, sys, threading
import torch
from lstmae_demo.ui.warmup import warm_up_process

assert "torch._dynamo" not in sys.modules and gc.get_freeze_count() == 0
warm_up_process()
warm_up_process()  # a second script run: nothing new
workers = [t for t in threading.enumerate() if t.name == "lstmae-warm-up"]
assert len(workers) == 1, workers
workers[0].join(timeout=120)
assert "torch._dynamo" in sys.modules  # what the first optimiser would import
frozen = gc.get_freeze_count()
assert frozen > 50_000, frozen  # torch's own objects are out of the collector's way

# Objects made later are still collected: a reference cycle created now is freed.
import weakref
class Node: pass
a, b = Node(), Node()
a.other, b.other = b, a
alive = weakref.ref(a)
del a, b
gc.collect()
assert alive() is None
print("ok", frozen)
"""


@pytest.mark.slow  # a fresh Python process importing torch and streamlit
def test_warm_up_imports_dynamo_once_and_freezes_only_what_exists() -> None:
    out = subprocess.run([sys.executable, "-c", CHECK], cwd=REPO, capture_output=True,
                         text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")
