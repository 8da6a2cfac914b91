"""What the browser tests read off the live app: the sidebar's settings, the URL's settings, the
page's model, every clickable control, and console errors that are the app's (not the sandbox's).

The expected numbers come from the core (settings.KNOBS, AppConfig, the shape tracer), never
from constants typed here: the browser must show what the real model has.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from playwright.sync_api import BrowserContext, ConsoleMessage, Page

from lstmae_demo.config import AppConfig
from lstmae_demo.settings import ARCHS, KNOBS, Knob, parse_params
from lstmae_demo.shapes.trace import trace

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
SERVER_START_TIMEOUT_S = 60
APP_RUN_TIMEOUT_MS = 120_000  # a page's run, on a machine shared with other test runs
RERUN_START_S = 5.0  # a widget's rerun reaches the server well within this on a busy machine
QUIET_S = 0.15  # no new run for this long after one ends: the click's runs are over
CLICK_TIMEOUT_MS = 5_000
# Controls that show only while their element is hovered: Streamlit's element toolbars (a
# dataframe's, a code block's copy button) and the link beside a heading.
SHOWN_ON_HOVER = {"stBaseButton-elementToolbar", "stHeaderActionElements",
                  "stElementToolbarButton"}

# (title in the sidebar navigation, URL path, what its h1 contains (None: the architecture))
PAGES = (("Home", "", "LSTM Autoencoder Explorer"), ("Architecture", "architecture", None),
         ("Train", "train", "Train"), ("Time steps", "timesteps", "Time steps"),
         ("Compare", "compare", "Compare architectures"),
         ("Latent space", "latent", "Latent space"), ("Anomalies", "anomalies", "Anomalies"),
         ("Lessons", "lessons", "Lessons"), ("Quiz", "quiz", "Quiz"))
PAGE_OF_PATH = {"": "home", "home": "home", "architecture": "architecture", "train": "train",
                "timesteps": "timesteps", "compare": "compare", "latent": "latent",
                "anomalies": "anomalies", "lessons": "lessons", "quiz": "quiz"}

SIDEBAR_VALUES_JS = """() => {
  const sb = document.querySelector('[data-testid=stSidebar]');
  if (!sb) return null;
  const out = {};
  const label = (el) => el.getAttribute('aria-label');
  sb.querySelectorAll('input[type=number]').forEach(i => { out[label(i)] = i.value; });
  sb.querySelectorAll('input[role=combobox]').forEach(i => { out[label(i)] = i.value; });
  sb.querySelectorAll('input[type=range]').forEach(i => {
    out[label(i)] = i.getAttribute('aria-valuetext'); });
  sb.querySelectorAll('[role=radiogroup]').forEach(g => {
    const o = g.querySelector('[data-testid=stRadioOption][data-selected=true]');
    out[label(g)] = o ? o.textContent.trim() : null; });
  return out;
}"""

METRICS_JS = """() => [...document.querySelectorAll('[data-testid=stMain] [data-testid=stMetric]')]
  .map(m => {
    let card = m, heading = null;
    while (card && !heading) {
      card = card.parentElement;
      heading = card && card.querySelector('h1, h2, h3, h4, h5, h6');
    }
    return [heading ? heading.textContent : '',
            m.querySelector('[data-testid=stMetricLabel]').textContent.trim(),
            m.querySelector('[data-testid=stMetricValue]').textContent.trim()];
  })"""

# Every control a learner can click, in the page's main area and the sidebar's navigation.
# Each gets a data-ca attribute so the test can find exactly that element again.
CONTROLS_JS = """() => {
  const roots = [['main', document.querySelector('[data-testid=stMain]')],
                 ['nav', document.querySelector('[data-testid=stSidebarNav]')]];
  const selector = 'button, [role=button], a[href], [role=link], [role=tab], summary, '
    + '[data-testid=stRadioOption], [role=switch], input[type=checkbox], input[type=range]';
  const label = (el) => {  // what it says, without Material icon names such as 'home'
    const copy = el.cloneNode(true);
    copy.querySelectorAll('[data-testid=stIconMaterial]').forEach(i => i.remove());
    return copy.textContent;
  };
  const scopeOf = (el) => {  // the expander or tab it sits in: keeps names stable
    const d = el.closest('details');
    if (d && el.tagName !== 'SUMMARY') {
      const s = d.querySelector('summary');
      return s ? label(s).trim().replace(/\\s+/g, ' ').slice(0, 40) : '';
    }
    const panel = el.closest('[role=tabpanel], [data-testid=stTabPanel]');
    if (!panel) return '';
    const panels = [...panel.parentElement.children].filter(
      c => c.matches('[role=tabpanel], [data-testid=stTabPanel]'));
    const tabs = panel.closest('[data-testid=stTabs]').querySelectorAll('[role=tab]');
    const tab = tabs[panels.indexOf(panel)];
    return tab ? label(tab).trim() : '';
  };
  const out = [], seen = {};
  let n = 0;
  for (const [where, root] of roots) {
    if (!root) continue;
    for (const el of root.querySelectorAll(selector)) {
      if (el.closest('summary') && el.tagName !== 'SUMMARY') continue;  // the summary is it
      const widget = el.closest('[data-testid]');
      const kind = el.matches('[role=tab]') ? 'tab'
        : el.tagName === 'SUMMARY' ? 'expander'
        : el.matches('[data-testid=stRadioOption]') ? 'radio'
        : el.matches('[role=switch], input[type=checkbox]') ? 'toggle'
        : el.matches('input[type=range]') ? 'slider'
        : el.matches('a[href], [role=link]') ? 'link' : 'button';
      let text = (el.getAttribute('aria-label') || el.getAttribute('data-title') || label(el)
                  || el.getAttribute('href') || '?').trim().replace(/\\s+/g, ' ').slice(0, 70);
      if (text === 'Copied') text = 'Copy to clipboard';  // what it says once clicked
      const scope = scopeOf(el);
      if (scope) text += ' @ ' + scope;
      const same = where + kind + text;
      seen[same] = (seen[same] || 0) + 1;
      if (seen[same] > 1) text += ' #' + seen[same];  // the same toolbar on another chart
      n += 1;
      el.setAttribute('data-ca', String(n));
      out.push({id: String(n), where, kind, text, visible: el.checkVisibility(),
                href: el.getAttribute('href'), target: el.getAttribute('target'),
                widget: widget ? widget.getAttribute('data-testid') : '',
                disabled: !!(el.disabled || el.getAttribute('aria-disabled') === 'true'
                             || (el.matches('[data-testid=stRadioOption]')
                                 && el.querySelector('input:disabled')))});
    }
  }
  return out;
}"""

# Counts the app's script runs, so a test knows a click's rerun has started and finished.
RUN_COUNTER_JS = """() => {
  if (window.__caRuns === undefined) {
    window.__caRuns = 0;
    const app = document.querySelector('[data-testid=stApp]');
    new MutationObserver(() => {
      if (app.getAttribute('data-test-script-state') === 'running') window.__caRuns += 1;
    }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  }
  return window.__caRuns;
}"""

# Streamlit widgets whose click reruns the script.
RERUN_WIDGETS = {"stButton", "stBaseButton-primary", "stBaseButton-secondary",
                 "stDownloadButton", "stRadioOption", "stRadio", "stCheckbox", "stToggle",
                 "stNumberInputStepUp", "stNumberInputStepDown", "stSlider", "stSidebarNavLink"}


# ---------------------------------------------------------------------------------------------
# Console errors


@dataclass
class ConsoleWatch:
    """Error-level console messages and uncaught page errors of one browser context."""

    origin: str
    errors: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        entry = f"{message.text} [{url}]"
        reason = sandbox_noise(message.text, url, self.origin)
        (self.ignored if reason else self.errors).append(entry + (f" ({reason})" if reason
                                                                  else ""))

    def on_page_error(self, error: Any) -> None:
        self.errors.append(f"uncaught page error: {getattr(error, 'error', error)}")

    def on_request(self, request: Any) -> None:
        """A classroom may have no internet: the app must ask nothing of another host."""
        host = urlsplit(request.url).hostname or ""
        if request.url.startswith(("http:", "https:", "ws:", "wss:")) and host not in LOCAL:
            self.errors.append(f"request to another host: {request.url[:200]}")


LOCAL = ("127.0.0.1", "localhost")


def sandbox_noise(text: str, url: str, origin: str) -> str:
    """Why a console error is not the app's fault, or '' when it is an error to report.

    One kind only: Streamlit's frontend finds its base path by first trying
    `<page path>/_stcore/health` and `/_stcore/host-config` under every deep link's path,
    which 404 on a root-mounted server before it tries `/_stcore/...` (same in a two-page
    st.navigation app). Requests to other hosts are errors (ConsoleWatch.on_request).
    """
    probe = re.fullmatch(re.escape(origin) + r"/[^/?#]+/_stcore/(health|host-config)", url)
    if probe and "404" in text:
        return "Streamlit's base-path probe"
    return ""


def watch_console(context: BrowserContext, origin: str) -> ConsoleWatch:
    """Collect this context's console errors and page errors from now on."""
    watch = ConsoleWatch(origin)
    context.on("console", watch.on_console)
    context.on("weberror", lambda web_error: watch.on_page_error(web_error))
    context.on("request", watch.on_request)
    return watch


# ---------------------------------------------------------------------------------------------
# Waiting for the app, and pictures of it


def save_screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG of `page` as artifacts/screenshots/<name> and return its path."""
    path = SCREENSHOTS / (name if name.endswith(".png") else f"{name}.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


# Connected, the script not running ('initial' before the first run, 'running' during one,
# 'notRunning' once it is done), and no "Running..." status shown.
IDLE_JS = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  const status = document.querySelector('[data-testid=stStatusWidget]');
  return !!app && app.getAttribute('data-test-connection-state') === 'CONNECTED'
    && app.getAttribute('data-test-script-state') === 'notRunning'
    && !(status && status.innerText.includes('Running'));
}"""


def wait_for_streamlit(page: Page, timeout_ms: int = APP_RUN_TIMEOUT_MS) -> None:
    """Wait until the app is connected and its script has finished running."""
    page.wait_for_function(IDLE_JS, timeout=timeout_ms, polling=50)


def wait_for_page(page: Page, timeout_ms: int = APP_RUN_TIMEOUT_MS) -> None:
    """Wait until a page has run and drawn: its heading and the sidebar's settings."""
    wait_for_streamlit(page, timeout_ms)
    page.locator("[data-testid=stMain] h1").first.wait_for(timeout=timeout_ms)
    page.wait_for_function(
        """(labels) => {
          const sb = document.querySelector('[data-testid=stSidebar]');
          return sb && labels.every(l => sb.querySelector(`[aria-label="${l}"]`));
        }""", arg=[k.label for k in KNOBS], timeout=timeout_ms)
    wait_for_streamlit(page, timeout_ms)
    # Streamlit loads an element's code (a chart, a metric) the first time a page needs it and
    # shows a skeleton meanwhile: a fresh browser on a busy machine can take seconds.
    page.wait_for_function("() => !document.querySelector('[data-testid=stSkeleton]')",
                           timeout=timeout_ms, polling=100)


def runs(page: Page) -> int:
    """How many script runs have started since the counter was installed."""
    return page.evaluate(RUN_COUNTER_JS)


def wait_for_rerun(page: Page, before: int, required: bool) -> bool:
    """Wait for the runs a click started after `before` to finish; True if one started.

    A click can chain runs (a callback, then st.switch_page's run of the new page), with a
    moment of 'notRunning' between them: done means no new run for QUIET_S.
    """
    deadline = time.monotonic() + (RERUN_START_S if required else 0.0)
    count = page.evaluate("() => window.__caRuns")
    while count == before and time.monotonic() < deadline:
        time.sleep(0.05)
        count = page.evaluate("() => window.__caRuns")
    if count == before:
        return False
    while True:
        wait_for_streamlit(page)
        time.sleep(QUIET_S)
        now = page.evaluate("() => window.__caRuns")
        if now == count and page.locator(
                "[data-testid=stApp][data-test-script-state=notRunning]").count():
            return True
        count = now


# ---------------------------------------------------------------------------------------------
# Settings: the sidebar's and the URL's


def knob_value(knob: Knob, raw: str | None) -> Any:
    """A widget's displayed value as the knob's value (labels of choices mapped back)."""
    if raw is None:
        raise ValueError(f"{knob.name}: no option selected")
    if knob.name == "arch":
        raw = raw.split(" — ")[0]
    elif knob.choices is not None and knob.name != "lr":
        by_label = {knob.label_of(c): c for c in knob.choices}
        raw = by_label.get(raw, raw)
    return knob.parse(raw)


def sidebar_values(page: Page) -> tuple[dict[str, Any], list[str]]:
    """Every knob's value as the sidebar's widgets show it, and what could not be read."""
    shown = page.evaluate(SIDEBAR_VALUES_JS)
    if shown is None:
        return {}, ["there is no sidebar"]
    values, problems = {}, []
    for knob in KNOBS:
        if knob.label not in shown:
            problems.append(f"no sidebar widget labelled {knob.label!r} ({knob.name})")
            continue
        try:
            values[knob.name] = knob_value(knob, shown[knob.label])
        except ValueError as err:
            problems.append(f"sidebar widget {knob.label!r} shows {shown[knob.label]!r}: {err}")
    return values, problems


def url_values(url: str) -> tuple[dict[str, Any], list[str]]:
    """Every knob's value as the URL's query describes it, and the app's notes about it."""
    return parse_params(dict(parse_qsl(urlsplit(url).query, keep_blank_values=True)))


def page_name(url: str) -> str:
    """home, architecture, train, timesteps or latent, from the URL's path."""
    path = urlsplit(url).path.strip("/")
    return PAGE_OF_PATH.get(path, path)


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> dict[str, tuple]:
    """knob -> (expected, actual) for every knob whose values differ."""
    return {k: (expected.get(k), actual.get(k)) for k in sorted(set(expected) | set(actual))
            if expected.get(k) != actual.get(k)}


# ---------------------------------------------------------------------------------------------
# The page's model


@lru_cache(maxsize=256)
def _trace(items: tuple, arch: str | None, batch: int):
    values = dict(items) | ({"arch": arch} if arch else {})
    return trace(AppConfig(values).spec, batch)


def traced(values: dict[str, Any], arch: str | None = None, batch: int | None = None):
    """The tracer's record of the sidebar's model (or of `arch` with the sidebar's knobs)."""
    return _trace(tuple(sorted(values.items())), arch, values["batch"] if batch is None else batch)


def shape_text(shape) -> str:
    """A shape as the pages print it: (32, 50, 1), None for an unknown batch."""
    return "(" + ", ".join("None" if n is None else str(n) for n in shape) + ")"


def layer_line(values: dict[str, Any], name: str) -> str:
    """The Architecture page's line for one layer, "name (in) → (out)", from the tracer."""
    previous = None
    for rec in traced(values).layers:
        if rec.name == name:
            return f"{rec.name} {shape_text(previous)} → {shape_text(rec.output_shape)}"
        previous = rec.output_shape
    raise ValueError(f"no layer {name!r} in {[r.name for r in traced(values).layers]}")


def metrics(page: Page) -> list[tuple[str, str, str]]:
    """(nearest heading, label, value) of every st.metric in the main area."""
    return [tuple(m) for m in page.evaluate(METRICS_JS)]


def number_of(shown: str | None) -> int | None:
    """A metric's displayed whole number ('12,961' or '12961'), None if it is not one."""
    try:
        return int((shown or "").replace(",", ""))
    except ValueError:
        return None


def model_problems(page: Page, values: dict[str, Any]) -> list[str]:
    """Where the page describes another model than the sidebar's settings."""
    name = page_name(page.url)
    h1 = page.locator("[data-testid=stMain] h1").first
    title = h1.text_content() if h1.count() else ""
    problems = []
    if name == "architecture":
        tr = traced(values)
        if values["arch"] not in (title or ""):
            problems.append(f"Architecture page's title {title!r} is not about {values['arch']}")
        want = {"input per example": tr.input_per_example,
                "code per example": tr.latent_per_example,
                "parameters (PyTorch)": tr.params_torch, "parameters (Keras)": tr.params_keras}
        shown = {label: value for _, label, value in metrics(page)}
        for label, number in want.items():
            if number_of(shown.get(label)) != number:
                problems.append(f"Architecture page: {label} shows {shown.get(label)!r}, the "
                                f"sidebar's model has {number:,}")
    elif name == "home":
        shown = {}
        for heading, label, value in metrics(page):
            arch = (heading.split() or [""])[0]
            if arch in ARCHS:
                shown[(arch, label)] = value
        for arch in ARCHS:
            tr = traced(values, arch=arch)
            for label, number in (("numbers in the code", tr.latent_per_example),
                                  ("numbers in the input", tr.input_per_example)):
                if number_of(shown.get((arch, label))) != number:
                    problems.append(f"Home card {arch}: {label} shows "
                                    f"{shown.get((arch, label))!r}, the sidebar's settings "
                                    f"give {number:,}")
    elif name == "train":
        tr = traced(values, batch=values["batch_size"])
        text = page.locator("[data-testid=stMain]").text_content() or ""
        if values["arch"] not in (title or ""):
            problems.append(f"Train page's title {title!r} is not about {values['arch']}")
        config = AppConfig(values)
        series = (f"{values['n_series']} sine series" if config.source == "sine" else
                  f"{config.train_windows()} windows" if config.source != "csv" else
                  "windows")  # an upload's windows: the browser test knows its file
        for part in (f"{tr.params_torch:,} parameters", series, f"{values['epochs']} epochs"):
            if part not in text:
                problems.append(f"Train page does not say {part!r} (the sidebar's settings)")
    elif name == "compare":
        text = page.locator("[data-testid=stMain]").text_content() or ""
        for part in (f"{values['n_series']} sine series", f"{values['epochs']} epochs",
                     f"{values['units']} units"):
            if part not in text:
                problems.append(f"Compare page does not say {part!r} (the sidebar's settings)")
    elif name == "anomalies":
        text = page.locator("[data-testid=stMain]").text_content() or ""
        for part in (f"{values['arch']} learns", f"({values['epochs']} epochs)"):
            if part not in text:
                problems.append(f"Anomalies page does not say {part!r} (the sidebar's settings)")
    elif name == "latent":
        shown = {label: value for _, label, value in metrics(page)}
        code = traced(values, batch=1).latent_per_example
        if "numbers in each code" in shown and number_of(shown["numbers in each code"]) != code:
            problems.append(f"Latent space page: numbers in each code shows "
                            f"{shown['numbers in each code']!r}, the sidebar's model has {code:,}")
    elif name == "timesteps":
        tr = traced(values, batch=1)
        step = page.locator("[data-testid=stMain] input[type=range]").first
        top = step.get_attribute("max") if step.count() else None
        if top != str(values["seq_len"]):
            problems.append(f"Time steps page: the step slider goes to {top}, the sidebar's "
                            f"T is {values['seq_len']}")
        headings = page.locator("[data-testid=stMain] h3").all_text_contents()
        missing = [rec.name for rec in tr.layers if rec.name not in headings]
        if missing:
            problems.append(f"Time steps page: no section for layers {missing} of the "
                            f"sidebar's model (sections: {headings})")
    return problems


# What one look at the page tells: script runs so far, exception boxes, open dialogs.
STATUS_JS = """() => ({
  runs: window.__caRuns || 0,
  exceptions: [...document.querySelectorAll('[data-testid=stException]')]
    .map(e => e.textContent.slice(0, 300)),
  dialogs: [...document.querySelectorAll('[role=dialog]')].filter(d => d.checkVisibility())
    .map(d => d.textContent.slice(0, 200)),
})"""


def surface_problems(page: Page, status: dict | None = None) -> list[str]:
    """An exception box or an open dialog on the page (from `status` if already looked)."""
    found = status or page.evaluate(STATUS_JS)
    problems = []
    if found["exceptions"]:
        problems.append("exception on the page: " + " | ".join(found["exceptions"]))
    if found["dialogs"]:
        problems.append("dialog open: " + " | ".join(found["dialogs"]))
    return problems


def state_problems(page: Page, expected: dict[str, Any] | None) -> tuple[dict, list[str]]:
    """The sidebar's settings, and everything that disagrees: sidebar vs URL vs `expected` vs
    the page's model; an exception box or an open error dialog."""
    problems = surface_problems(page)
    shown, unreadable = sidebar_values(page)
    problems += unreadable
    in_url, notes = url_values(page.url)
    if notes:
        problems.append(f"URL {page.url} has invalid values: {notes}")
    if shown and (diff := differences(shown, in_url)):
        problems.append(f"URL and sidebar disagree (sidebar, URL): {diff}; URL {page.url}")
    if expected is not None and shown and (diff := differences(expected, shown)):
        problems.append(f"settings changed (expected, sidebar): {diff}")
    if shown and not unreadable:
        problems += model_problems(page, shown)
    return shown, problems


# ---------------------------------------------------------------------------------------------
# Controls


@dataclass(frozen=True)
class Control:
    """One clickable thing as found on the page."""

    id: str
    where: str
    kind: str
    text: str
    href: str | None
    target: str | None
    widget: str
    disabled: bool
    visible: bool  # rendered (a toolbar shown only on hover counts; a closed expander not)

    def key(self, page: str) -> str:
        """How the coverage list names it (same text on another page is another control)."""
        return f"{page} · {self.where} · {self.kind} · {self.text}"


def controls(page: Page) -> list[Control]:
    """Every control in the main area and the sidebar's navigation, in page order."""
    return [Control(**c) for c in page.evaluate(CONTROLS_JS)]


def is_external(control: Control, origin: str) -> bool:
    """A link that leaves the app (a source, opened in a new tab): checked, not followed."""
    if control.kind != "link" or not control.href:
        return False
    if control.target == "_blank":
        return True
    return control.href.startswith(("http://", "https://")) and not control.href.startswith(
        origin)


def href_problem(href: str | None) -> str:
    """What is wrong with an external link's address ('' if nothing)."""
    parts = urlsplit(href or "")
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in (href or ""):
        return f"external link has a malformed address {href!r}"
    return ""


def click(page: Page, control: Control, centre: bool = False) -> None:
    """Click (or, for a slider, nudge with the keyboard) one control as a learner would."""
    element = page.locator(f"[data-ca='{control.id}']")
    if centre:  # so that no sticky header or a neighbour's toolbar covers it
        element.evaluate("e => e.scrollIntoView({block: 'center', inline: 'center'})")
    if control.kind == "slider":
        element.focus()
        element.press("ArrowLeft")
    elif control.kind == "toggle":
        element.locator("xpath=ancestor::label[1]").click(timeout=CLICK_TIMEOUT_MS)
    else:
        if control.widget in SHOWN_ON_HOVER:  # a learner hovers the element first
            container = element.locator(
                "xpath=ancestor::*[@data-testid='stElementContainer'][1]")
            container.hover(timeout=CLICK_TIMEOUT_MS)
        toolbar = element.locator("xpath=ancestor::*[@data-testid='stElementToolbar'][1]")
        if control.widget == "stBaseButton-elementToolbar" and toolbar.count():
            page.wait_for_function(  # it fades in over the element
                "(el) => getComputedStyle(el).opacity === '1'",
                arg=toolbar.element_handle(timeout=CLICK_TIMEOUT_MS), timeout=CLICK_TIMEOUT_MS)
        element.click(timeout=CLICK_TIMEOUT_MS)


def close_overlays(page: Page) -> None:
    """Leave fullscreen views, popovers and menus a toolbar button opened."""
    page.keyboard.press("Escape")
    close = page.get_by_role("button", name=re.compile("^(Close fullscreen|Exit fullscreen)$"))
    if close.count():
        close.first.click(timeout=CLICK_TIMEOUT_MS)
