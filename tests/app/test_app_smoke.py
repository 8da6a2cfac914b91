"""The app's entry point runs headless under AppTest, and its config holds only real keys."""

import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[2]


def test_app_runs_and_shows_title():
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=30)
    at.run()
    assert not at.exception
    assert any("LSTM Autoencoder Explorer" in t.value for t in at.title)


@pytest.mark.slow  # runs `streamlit config show` in a fresh process
def test_streamlit_config_has_no_unknown_keys():
    """Streamlit only logs unknown keys in .streamlit/config.toml; make that a failure."""
    result = subprocess.run(
        [sys.executable, "-m", "streamlit", "config", "show"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "is not a valid config option" not in result.stderr, result.stderr
    assert "headless = true" in result.stdout
