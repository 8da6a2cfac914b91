"""Every button, link, tab, expander, radio, toggle and slider of every page, clicked once.

After each click: no exception box and no error dialog, the URL's query still describes the
sidebar's settings, the settings are the ones before the click (except where the click is
meant to change them), and the page describes the sidebar's model (numbers from the tracer).
Training is started once and stopped at once. External links are checked, not followed.
The list of what was clicked is printed (pytest -s, or shown with a failure).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from browser_helpers import (
    RERUN_WIDGETS,
    STATUS_JS,
    Control,
    click,
    close_overlays,
    controls,
    href_problem,
    is_external,
    page_name,
    runs,
    state_problems,
    surface_problems,
    wait_for_page,
    wait_for_rerun,
    wait_for_streamlit,
)
from playwright.sync_api import Error, Page

from lstmae_demo.lessons import PARAM as LESSON_STEP
from lstmae_demo.lessons import STEPS, config_of

OPEN_ARCH = re.compile(r"^Open (\w+) layer by layer$")
OPEN_STEP = re.compile(r"^Open .+ here$")  # Lessons: the step's page with the step's settings
NO_RERUN_TOOLBARS = {"stBaseButton-elementToolbar", "stBaseButton-headerNoPadding",
                     "stBaseButton-header", "stTooltipHoverTarget", "stPlotlyChart",
                     "stHeaderActionElements"}
TITLES = {"home": "Home", "architecture": "Architecture", "train": "Train",
          "timesteps": "Time steps", "compare": "Compare", "latent": "Latent space",
          "anomalies": "Anomalies", "lessons": "Lessons", "quiz": "Quiz"}
OVERLAYS = {"Fullscreen", "Search", "Show/hide columns"}  # toolbar buttons that open a view
MAX_CLICKS_PER_PAGE = 400  # far above any page's controls: a guard against a click loop


@dataclass
class Clicker:
    """Clicks through the app in one browser tab, checking the app after every click."""

    page: Page
    origin: str
    watch: Any
    expected: dict[str, Any] = field(default_factory=dict)
    clicked: list[str] = field(default_factory=list)
    not_clicked: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    done: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)
    runs_seen: int = 0  # script runs counted when the test last looked

    def open(self, url: str) -> None:
        """Open a URL in the tab and take its settings as the expected ones."""
        self.page.goto(url)
        wait_for_page(self.page)
        self.runs_seen = runs(self.page)  # installs the run counter
        shown, problems = state_problems(self.page, None)
        self.expected = shown
        self.note(f"open {url}", problems)

    def note(self, after: str, problems: list[str]) -> None:
        """Record problems (and new console errors) found after an action, each only once."""
        errors = [f"console: {e}" for e in self.watch.errors]
        self.watch.errors.clear()
        for problem in problems + errors:
            if problem not in self.seen:
                self.seen.add(problem)
                self.problems.append(f"after {after}: {problem}")

    def check(self, after: str) -> None:
        """Check the app; a settings change is reported once, then taken as the new state."""
        shown, problems = state_problems(self.page, self.expected)
        self.note(after, problems)
        if shown:
            self.expected = shown

    def act(self, control: Control, where: str) -> None:
        """Click one control (or check its address), then check the app."""
        key = control.key(where)
        self.done.add(key)
        if is_external(control, self.origin):
            self.clicked.append(f"{key}  [href checked, not followed: {control.href}]")
            self.note(key, [p for p in [href_problem(control.href)] if p])
            return
        match = OPEN_ARCH.match(control.text)
        if match:
            self.expected = self.expected | {"arch": match.group(1)}
        step = None
        if where == "lessons" and OPEN_STEP.match(control.text):  # meant to set the settings
            number = dict(parse_qsl(urlsplit(self.page.url).query)).get(LESSON_STEP, "1")
            step = STEPS[int(number) - 1]
            self.expected = dict(config_of(step).values)
        before, url = self.runs_seen, self.page.url.split("#")[0]
        reruns = self.reruns(control)
        try:
            self.click_once_more_if_moving(control, where)
        except Error as err:
            self.problems.append(f"could not click {key}: {str(err)[:1500]}")
            return
        if reruns:
            reran = wait_for_rerun(self.page, before, required=True)
            status = None
        else:  # one look: did anything run, is there an exception or a dialog
            status = self.page.evaluate(STATUS_JS)
            reran = status["runs"] > before and wait_for_rerun(self.page, before, False)
        if control.widget in NO_RERUN_TOOLBARS and control.text.split(" #")[0] in OVERLAYS:
            close_overlays(self.page)
        self.clicked.append(key)
        if match and page_name(self.page.url) != "architecture":
            self.problems.append(f"after {key}: on page {page_name(self.page.url)!r}, expected "
                                 "the Architecture page")
        if step and page_name(self.page.url) != step.page:
            self.problems.append(f"after {key}: on page {page_name(self.page.url)!r}, expected "
                                 f"{step.page}")
        if reran or status is None or self.page.url.split("#")[0] != url:
            self.check(key)
            self.runs_seen = runs(self.page)
        else:  # nothing ran and the URL is the same: the settings cannot have changed
            self.note(key, surface_problems(self.page, status))
            self.runs_seen = status["runs"]

    def click_once_more_if_moving(self, control: Control, where: str) -> None:
        """Click; if that fails, find the control again once the app is idle and retry once
        (an expander still opening, a toolbar still fading in, a rerun redrawing the page)."""
        try:
            click(self.page, control)
        except Error:
            wait_for_streamlit(self.page)
            again = next((c for c in controls(self.page) if c.key(where) == control.key(where)
                          and c.visible and not c.disabled), None)
            if again is None:
                raise
            click(self.page, again, centre=True)

    def reruns(self, control: Control) -> bool:
        """Whether this click should rerun the app's script."""
        if control.kind in ("tab", "expander") or control.widget in NO_RERUN_TOOLBARS:
            return False
        if control.kind == "link":
            return control.widget == "stSidebarNavLink"
        if control.kind == "radio":
            return not self.page.locator(f"[data-ca='{control.id}'][data-selected=true]").count()
        return control.widget in RERUN_WIDGETS or control.widget.startswith("stBaseButton-")

    def click_page(self, skip=lambda c: False) -> None:
        """Click every control of the current page's main area once (not its navigation)."""
        where = self.where()
        for _ in range(MAX_CLICKS_PER_PAGE):
            found = [c for c in controls(self.page) if c.where == "main" and not skip(c)]
            todo = [c for c in found if c.key(where) not in self.done and not c.disabled
                    and c.visible]
            for c in found:
                if c.key(where) not in self.done and (c.disabled or not c.visible):
                    self.not_clicked[c.key(where)] = ("disabled" if c.disabled else
                                                      "hidden") + " whenever the test looked"
            # Expanders and tabs last: what they hide is clicked once they show it.
            todo.sort(key=lambda c: c.kind in ("expander", "tab"))
            if not todo:
                return
            self.not_clicked.pop(todo[0].key(where), None)
            self.act(todo[0], where)
            if page_name(self.page.url) != where.split(" ")[0]:  # it led away: come back
                self.navigate(TITLES[where.split(" ")[0]])
        self.problems.append(f"{where}: more than {MAX_CLICKS_PER_PAGE} clicks, a loop?")

    def navigate(self, title: str) -> None:
        """Click the sidebar's navigation link to a page."""
        link = next((c for c in controls(self.page)
                     if c.where == "nav" and c.text.endswith(title)), None)
        if link is None:
            self.problems.append(f"no navigation link to {title!r} on {self.page.url}")
            return
        self.act(link, self.where())

    def where(self) -> str:
        """The current page, with the architecture its title names for the Architecture page."""
        name = page_name(self.page.url)
        if name != "architecture":
            return name
        h1 = self.page.locator("[data-testid=stMain] h1").first
        words = ((h1.text_content() if h1.count() else "") or "").split()
        return f"{name} ({words[0] if words else 'no title'})"

    def report(self) -> str:
        """What was clicked, what could not be, and the problems found."""
        lines = [f"{len(self.clicked)} controls clicked:"] + [f"  {c}" for c in self.clicked]
        if self.not_clicked:
            lines += ["not clicked:"] + [f"  {k}: {why}" for k, why in self.not_clicked.items()]
        if self.problems:
            lines += [f"{len(self.problems)} problems:"] + [f"  {p}" for p in self.problems]
        return "\n".join(lines)


def open_buttons(clicker: Clicker) -> list[Control]:
    """The Home page's "Open <arch> layer by layer" buttons, in page order."""
    return [c for c in controls(clicker.page) if c.where == "main" and OPEN_ARCH.match(c.text)]


def test_open_buttons_keep_the_settings_in_a_fresh_session(new_context, app_url) -> None:
    """Each Home button opens its architecture with the settings unchanged (issue #9.1)."""
    context, watch = new_context()
    clicker = Clicker(context.new_page(), app_url, watch)
    clicker.open(f"{app_url}/")
    buttons = open_buttons(clicker)
    assert len(buttons) == 4, f"expected one Open button per architecture, got {buttons}"
    for i in range(len(buttons)):
        clicker.act(open_buttons(clicker)[i], "home")
        clicker.navigate("Home")
    print(clicker.report())
    assert not clicker.problems, clicker.report()


@pytest.mark.timeout(600)  # ~200 clicks: about 80 s alone on the machine, far more when shared
def test_click_every_control_of_every_page(new_context, app_url) -> None:
    """From ?units=16: Home, each architecture through its Home button, Train (Train, then
    Stop), Time steps, Latent space (the run Train stopped), Anomalies (Train on normal
    series, Stop, every choice), and every navigation link."""
    context, watch = new_context()
    clicker = Clicker(context.new_page(), app_url, watch)
    clicker.open(f"{app_url}/?units=16&epochs=300")
    clicker.click_page(skip=lambda c: bool(OPEN_ARCH.match(c.text)))
    buttons = open_buttons(clicker)
    assert len(buttons) == 4, f"expected one Open button per architecture, got {buttons}"
    for i in range(len(buttons)):
        clicker.act(open_buttons(clicker)[i], "home")
        clicker.click_page()
        clicker.navigate("Home")
    for title in ("Train", "Time steps", "Compare", "Latent space", "Anomalies", "Quiz",
                  "Architecture", "Lessons"):
        clicker.navigate(title)
        clicker.click_page()
    clicker.navigate("Home")
    print(clicker.report())
    missing = [t for t in ("Home", "Architecture", "Train", "Time steps", "Compare",
                           "Latent space", "Anomalies", "Lessons", "Quiz")
               if not any(k.endswith(f"link · {t}") or k.endswith(t) for k in clicker.clicked
                          if "· nav ·" in k)]
    assert not missing, f"navigation links never clicked: {missing}\n{clicker.report()}"
    assert any("button · Train" in k for k in clicker.clicked), clicker.report()
    assert any("button · Stop" in k for k in clicker.clicked), clicker.report()
    assert not clicker.problems, clicker.report()
