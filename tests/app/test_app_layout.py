"""The presentation view's URL flag, checked on the server (lstmae_demo/ui/layout.py): taken
from the link once, kept in the URL after the sidebar rewrites it, switched by its toggle, a
bad value refused in plain text."""

from __future__ import annotations

import pytest
from apptest_helpers import open_app

from lstmae_demo.ui.layout import PRESENT, STATE_KEY, SWITCH_KEY, parse_present

ARCH_PAGE = "pages/architecture/page.py"


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("0", False), (" 1 ", True)])
def test_parse_present_takes_one_or_zero(raw: str, value: bool) -> None:
    assert parse_present(raw) is value


@pytest.mark.parametrize("raw", ["yes", "2", "", "true", "**1**"])
def test_parse_present_refuses_anything_else(raw: str) -> None:
    with pytest.raises(ValueError, match="must be 1"):
        parse_present(raw)


def test_link_opens_presentation_and_it_stays_in_the_url() -> None:
    at = open_app({PRESENT: "1", "units": "48"}, ARCH_PAGE)
    assert at.session_state[STATE_KEY] is True
    assert at.toggle(key=SWITCH_KEY).value is True
    assert at.query_params[PRESENT] in ("1", ["1"])
    assert at.query_params["units"] in ("48", ["48"])  # the sidebar's settings beside it
    at.switch_page("pages/train/page.py").run()  # another page keeps it
    assert at.session_state[STATE_KEY] is True
    assert PRESENT in at.query_params


@pytest.mark.slow
def test_the_switch_turns_it_off_and_the_url_forgets_it() -> None:
    at = open_app({PRESENT: "1"}, ARCH_PAGE)
    at.toggle(key=SWITCH_KEY).set_value(False).run()
    assert not at.exception
    assert at.session_state[STATE_KEY] is False
    assert PRESENT not in at.query_params
    at.toggle(key=SWITCH_KEY).set_value(True).run()
    assert at.session_state[STATE_KEY] is True
    assert PRESENT in at.query_params


def test_a_bad_value_opens_the_normal_view_with_a_note_in_plain_text() -> None:
    at = open_app({PRESENT: "**yes**"})  # the note is said once, on the first page drawn
    assert at.session_state[STATE_KEY] is False
    assert PRESENT not in at.query_params
    assert any("was not used" in w.value for w in at.warning)
    notes = [t.value for t in at.text if PRESENT in t.value]
    assert notes == ["present='**yes**' in the link was not used: must be 1 (the presentation "
                     "view) or 0"]
