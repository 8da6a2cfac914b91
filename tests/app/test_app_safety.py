"""Text from a link, a framework or an exception reaches the page as inert text (issue #10,
"Safe when a class shares links"), and learners never see tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from apptest_helpers import ARCHITECTURE, HOME, open_app
from streamlit.testing.v1 import AppTest

from lstmae_demo import pitfalls
from lstmae_demo.archs import get_arch

REPO = Path(__file__).resolve().parents[2]
# Every element whose body Streamlit renders as Markdown.
MARKDOWN = ("markdown", "caption", "info", "warning", "error", "success", "title", "header",
            "subheader")


def markdown_bodies(at: AppTest) -> list[str]:
    """The body of every Markdown-rendered element, main area and sidebar."""
    return [str(e.value) for kind in MARKDOWN for e in at.get(kind)]


@pytest.mark.parametrize(("name", "value", "inert"), [
    ("lr", "![i](http://x/t.png)", "![i](http://x/t.png)"),
    ("units", "[notice](http://x)", "[notice](http://x)"),
    ("seq_len", "**bold** <img src=x onerror=alert(1)>", "**bold** <img src=x"),
])
def test_a_links_value_is_shown_as_plain_text_never_markdown(name: str, value: str,
                                                            inert: str) -> None:
    at = open_app({name: value}, HOME)
    bodies = markdown_bodies(at)
    assert not any(inert in b or "http://x" in b or "<img" in b for b in bodies), bodies
    notes = [t.value for t in at.text]
    assert any(inert in n and name in n for n in notes), notes  # shown, as text


def test_a_long_value_is_not_echoed_whole() -> None:
    value = "A" * 10_000
    at = open_app({"units": value}, ARCHITECTURE)
    shown = [t.value for t in at.text] + markdown_bodies(at)
    assert any("units" in s and "AAAA" in s for s in shown)  # the note is there...
    assert all(len(s) < 400 for s in shown if "AAAA" in s)  # ...shortened
    assert not any("A" * 100 in s for s in shown)


def test_framework_messages_are_shown_verbatim_as_code() -> None:
    """`RNNBase.__init__()` as Markdown would show a bold "init"."""
    key = "keras_activation_kwarg"
    arch = next(a for a in ("repeatvector", "embedding", "hidden_n", "encdec_ad")
                if key in get_arch(a).pitfalls)
    message = pitfalls.run_pitfall(key).message
    assert "__init__" in message  # the message this test is about
    at = open_app({"arch": arch}, ARCHITECTURE)
    assert message in [c.value for c in at.code]
    assert not any("__init__" in b for b in markdown_bodies(at))


@pytest.mark.parametrize("arch", ["repeatvector", "embedding", "hidden_n", "encdec_ad"])
def test_every_pitfall_box_says_whose_words_it_shows(arch: str) -> None:
    at = open_app({"arch": arch}, ARCHITECTURE)
    codes = [c.value for c in at.code]
    headings = [e.value for kind in ("error", "warning") for e in at.get(kind)]
    for key in get_arch(arch).pitfalls:
        result = pitfalls.run_pitfall(key)
        assert result.message in codes and result.fix_result in codes
        source = result.message_source
        name = source.removesuffix(" (recorded)")
        assert any((name in h) or ("measured" in source and "measured by the app" in h)
                   for h in headings), (source, headings)


def test_learners_never_see_tracebacks_and_the_server_choices_are_explicit() -> None:
    result = subprocess.run([sys.executable, "-m", "streamlit", "config", "show"], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    config = {line.split(" = ")[0]: line.split(" = ", 1)[1] for line in result.stdout.splitlines()
              if " = " in line and not line.startswith("#")}
    assert config["showErrorDetails"] == '"none"'
    assert config["enableXsrfProtection"] == "true"
    assert config["enableCORS"] == "true"
    text = (REPO / ".streamlit" / "config.toml").read_text()
    for topic in ("/_stcore/metrics", "frame-ancestors", "allowedHosts"):
        assert topic in text, f"config.toml says nothing about {topic}"
