"""Smoke test: `python -m bench --quick` still runs every section and writes its report.

It checks that the suite works, never how fast anything is (no timed assertions: these
machines are noisy; the real figures come from `python -m bench`, see bench/RESULTS.md).
The timeout only stops a hung run: --quick takes well under a minute on a quiet 2-core
machine and about twice that inside a busy test run.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


# browser: it starts a server and drives Chromium, so it runs in the suite's one-at-a-time
# phase; beside another xdist worker on 2 cores its page waits timed out in CI.
@pytest.mark.slow
@pytest.mark.browser
def test_quick_bench_writes_every_section(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "KERAS_BACKEND": "torch"}
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--out", str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text()
    titles = ("0. The reference run", "1. Shape tracing latency", "2. Training throughput",
              "3. Time to a good reconstruction", "4. The app", "5. Thread settings",
              "6. Scheduling", "7. Compare of four at the defaults")
    for title in titles:
        assert f"## {title}" in text
    assert "--quick smoke run" in text
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["quick"] is True
    assert all(name.startswith(title)
               for name, title in zip(data["sections"], titles, strict=True))
    if shutil.which("chromium"):  # the app was driven in a browser, not only started
        assert "Train until the first loss point" in text and "knob change" in text


def test_bench_rejects_an_unknown_section() -> None:
    done = subprocess.run([sys.executable, "-m", "bench", "--only", "9"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "unknown section" in done.stderr
