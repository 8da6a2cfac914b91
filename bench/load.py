"""A class on one server: N learners press Train at once.

    python -m bench.load [--quick] [--yield] [--clients browser|ws] [--sizes 10,20,30]
                         [--distinct-up-to 20] [--no-idle-during] [--out PATH]

The learners (--clients, on a fresh server per class size, bench.devserver.app_server,
loopback only):
- browser (the default): one Chromium, one context per learner (its own Streamlit session;
  --yield: that Chromium confined to one core at the lowest priority, so the server has a
  core the class's browsers never take, as if they ran on their own machines);
- ws: protocol learners (bench.wsclient): each a Streamlit session driven over its own
  websocket with the messages the browser sends (its first rerun, widget states, the Train
  click, the live panel's fragment reruns on the page's schedule), all on one asyncio loop in
  a thread of this process, drawing nothing (--yield: that thread confined to one core at
  the lowest priority). What the server does for them is what it does for browsers; what
  the browsers' own work costs (layout, Plotly.js drawing the charts) is left out.
Every learner opens the Train page, waits until it has drawn its empty charts (ws: received
them), then all press Train at the same moment (browser: a click scheduled on each page's own
clock; ws: the clicks sent one after another from the moment). Per row:

- seconds from the click to the learner's first loss point (median and worst) and to the
  run's end (median and worst): browser, read by each page itself every 50 ms; ws, when the
  first message holding a loss chart with a point, and the first 'Done', arrived;
- an idle learner: one more context on the Architecture page changes Units while the class
  trains (starting right after the clicks; not with --no-idle-during); its rerun (Enter until
  Streamlit's script run has ended) as a ratio to the same rerun on the same server before
  anyone pressed Train;
- the server's resident memory (peak while training, and with the class gone) and threads;
- CPU seconds from the click to the last learner's 'Done': the server's, and the clients'
  (the class's browsers or protocol learners, the idle learner's browser, this process):
  they share these 2 cores here, where a real class's browsers have their own machines;
- errors: exception boxes on pages, tracebacks and ERROR lines in the server's log;
- the 1-minute load average of the machine, which is shared with other work: a busy minute
  slows every figure of its row.

Two rows per size: one configuration shared by the whole class (identical runs are computed
once), then the same contexts reloaded with all configurations distinct (a seed per learner;
only up to DISTINCT_UP_TO learners). Their time to finish gives the speed-up from sharing.
The app's defaults, except the epochs (EPOCHS: at 100 epochs, 20 distinct runs take
20 x ~14 s / 2 slots of training alone, beyond this benchmark's ten minutes). A full run
takes about ten minutes; --quick: N = 3, tiny runs, to check that it works (the figures mean
nothing).

The helpers here (opening learners, pressing Train together, reading a learner's status, the
server's log) and bench/procstats.py's (its memory and threads) are also what tests/load uses.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import os
import re
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psutil
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from .common import Section, verdict
from .devserver import CHROMIUM_ARGS, REPO, app_server
from .procstats import cpu_seconds, descendants, rss_mb, thread_count, thread_ids
from .webapp import OBSERVE_RUNS, RUN_ENDED_AFTER

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PAGE_TIMEOUT_MS = 120_000  # a page of a class of 30 on 2 cores may take this long to open
VIEWPORT = {"width": 1000, "height": 900}

SIZES = (10, 20, 30)
EPOCHS = 5  # per run; the app's other settings are its defaults
# The all-distinct row costs a reload of every page and N separate runs: on this shared
# 2-core machine N = 30 of them would take the benchmark past ten minutes, and the issue's
# target at N = 30 is about one shared configuration.
DISTINCT_UP_TO = 20
QUICK_QUERY = "epochs=3&n_series=16&units=8"
IDLE_RERUNS = 3  # knob changes of the idle learner per measurement
AFTER_CLOSE_S = 2.0  # the server's memory is read this long after every context closed

# Targets from issue 10, on this 2-core machine.
FIRST_POINT_TARGET_S = 5.0  # every learner's first point, N = 30, one shared configuration
IDLE_RATIO_TARGET = 3.0  # an idle learner's rerun during the load / on the idle server, N = 20

# ---------------------------------------------------------------------------------------------
# What a learner's page shows

# One learner's page, read in one go: the run's status texts, the run id in the URL, the
# join message, exception boxes, and the loss chart's number of points.
READ_PAGE_JS = """() => {
  const main = document.querySelector('[data-testid=stMain]');
  const texts = main ? [...main.querySelectorAll(
      '[data-testid=stProgress], [data-testid=stAlert], [data-testid=stCaptionContainer]')]
      .map(e => e.innerText.trim()) : [];
  let points = null;
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    const t = gd.layout && gd.layout.yaxis && gd.layout.yaxis.title;
    if (t && t.text && t.text.startsWith('loss')) {
      points = Math.max(points || 0, ...gd.data.map(d => (d.y || []).length));
    }
  }
  const app = document.querySelector('[data-testid=stApp]');
  return {texts, points, url: location.href,
          exceptions: document.querySelectorAll('[data-testid=stException]').length,
          script: app ? app.getAttribute('data-test-script-state') : null,
          connection: app ? app.getAttribute('data-test-connection-state') : null};
}"""

# Ready to be used: connected, the script has run, and the Train page's two (empty) charts
# are drawn (a learner presses Train on a page they can see).
TRAIN_READY_JS = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  return !!app && app.getAttribute('data-test-connection-state') === 'CONNECTED'
    && app.getAttribute('data-test-script-state') === 'notRunning'
    && document.querySelectorAll('.js-plotly-plot').length >= 2
    && [...document.querySelectorAll('button')].some(b => b.innerText.trim() === 'Train');
}"""
PAGE_READY_JS = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  return !!app && app.getAttribute('data-test-connection-state') === 'CONNECTED'
    && app.getAttribute('data-test-script-state') === 'notRunning'
    && !!document.querySelector('[data-testid=stMain] h1');
}"""

# Press Train at epoch-milliseconds `at` (Date.now() is the machine's clock in every page),
# and from then on note, on the page's own clock, when the loss chart first holds a point and
# when the page first says the run is done.
PRESS_AT_JS = """(at) => {
  const train = [...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Train');
  window.__load = {clicked: null, first: null, done: null};
  const points = () => {  // the most of any loss chart: a rerun briefly shows a stale one
    let most = 0;
    for (const gd of document.querySelectorAll('.js-plotly-plot')) {
      const t = gd.layout && gd.layout.yaxis && gd.layout.yaxis.title;
      if (t && t.text && t.text.startsWith('loss')) {
        most = Math.max(most, ...gd.data.map(d => (d.y || []).length));
      }
    }
    return most;
  };
  const done = () => [...document.querySelectorAll('[data-testid=stMain] [data-testid=stAlert]')]
    .some(e => /^Done: \\d+ epochs/.test(e.innerText.trim()));
  setTimeout(() => {
    window.__load.clicked = Date.now();
    train.click();
    const timer = setInterval(() => {
      const now = Date.now();
      if (window.__load.first === null && points() > 0) window.__load.first = now;
      if (window.__load.done === null && done()) window.__load.done = now;
      if (window.__load.first !== null && window.__load.done !== null) clearInterval(timer);
    }, 50);
  }, Math.max(0, at - Date.now()));
  return !!train;
}"""

DONE = re.compile(r"^Done: (\d+) epochs in ([0-9.]+) s")
TRAINING = re.compile(r"\bepoch (\d+) of (\d+)")
QUEUED = re.compile(r"number (\d+) in (?:the queue|line)")
JOINED = re.compile(r"computed once for (\d+) learners?")
NOT_STARTED = "Press Train to start"


@dataclass(frozen=True)
class Status:
    """What one learner's page says about its run at one moment."""

    state: str  # "done", "training", "queued", "not started" or "unknown"
    texts: tuple[str, ...]
    run_id: str | None  # the URL's ?run=
    joined_by: int | None  # "computed once for N learners" (None: no such message)
    epochs: int | None  # done: epochs trained; training: epochs so far
    total: int | None  # training: epochs of the run
    position: int | None  # queued, or waiting for its next turn: its number in line
    exceptions: int
    points: int | None  # points of the loss chart's longest curve (None: no loss chart)

    def describe(self) -> str:
        """One line for an assertion message."""
        return f"{self.state} run={self.run_id} texts={list(self.texts)}"


def classify(texts: Sequence[str]) -> tuple[str, int | None, int | None, int | None]:
    """(state, epochs, total, position) from a Train page's status texts."""
    position = next((int(m.group(1)) for t in texts if (m := QUEUED.search(t))), None)
    for text in texts:
        if m := DONE.search(text):
            return "done", int(m.group(1)), None, None
    for text in texts:
        if m := TRAINING.search(text):
            return "training", int(m.group(1)), int(m.group(2)), position
    if position is not None:
        return "queued", None, None, position
    if any(NOT_STARTED in t for t in texts):
        return "not started", None, None, None
    return "unknown", None, None, None


def make_status(texts: Sequence[str], run: str | None, exceptions: int,
                points: int | None) -> Status:
    """A Status from what a page shows: its status texts, its URL's run id, its exception
    boxes and its loss chart's points."""
    texts = tuple(texts)
    state, epochs, total, position = classify(texts)
    joined = next((int(m.group(1)) for t in texts if (m := JOINED.search(t))), None)
    return Status(state, texts, run, joined, epochs, total, position, exceptions, points)


def read_status(page) -> Status:
    """What this learner's Train page says now."""
    raw = page.evaluate(READ_PAGE_JS)
    run = parse_qs(urlsplit(raw["url"]).query).get("run", [None])[0]
    return make_status(raw["texts"], run, raw["exceptions"], raw["points"])


def wait_for(predicate: Callable[[], object], timeout: float, every: float = 0.25) -> object:
    """Call `predicate` until it returns something truthy or `timeout` s pass; its last value."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(every)
        value = predicate()
    return value


# ---------------------------------------------------------------------------------------------
# Learners


@dataclass
class Learner:
    """One browser context (its own Streamlit session) with one page."""

    context: object
    page: object
    url: str


def open_learners(browser, urls: Iterable[str], ready_js: str = TRAIN_READY_JS) -> list[Learner]:
    """A context per URL, all navigating at once; returns once every page is ready."""
    learners = []
    for url in urls:
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.goto(url, wait_until="commit", timeout=PAGE_TIMEOUT_MS)
        learners.append(Learner(context, page, url))
    for learner in learners:
        learner.page.wait_for_function(ready_js, timeout=PAGE_TIMEOUT_MS, polling=100)
    return learners


def press_train_together(learners: Sequence[Learner], lead_s: float = 1.0) -> float:
    """Every learner presses Train at the same moment, `lead_s` from now (epoch seconds)."""
    at_ms = (time.time() + lead_s + 0.05 * len(learners)) * 1000
    for learner in learners:
        if not learner.page.evaluate(PRESS_AT_JS, at_ms):
            raise RuntimeError(f"no Train button on {learner.url}")
    time.sleep(max(0.0, at_ms / 1000 - time.time()))
    return at_ms / 1000


def click_times(learner: Learner) -> dict[str, float | None]:
    """Seconds from this learner's click to its first loss point and to 'Done' (None: not yet)."""
    t = learner.page.evaluate("() => window.__load || null") or {}
    clicked = t.get("clicked")

    def since(key: str) -> float | None:
        return None if clicked is None or t.get(key) is None else (t[key] - clicked) / 1000

    return {"first": since("first"), "done": since("done")}


def close_all(learners: Iterable[Learner]) -> None:
    """Close every learner's context (their sessions end when the websockets close)."""
    for learner in learners:
        learner.context.close()


def idle_rerun_seconds(page, repeats: int = IDLE_RERUNS, start_units: int = 40) -> list[float]:
    """On an open Architecture page: seconds from pressing Enter on a new Units value until
    the rerun it starts has ended, `repeats` times (alternating values)."""
    page.evaluate(OBSERVE_RUNS)
    units = page.get_by_role("spinbutton", name="Units (U)")
    out = []
    for i in range(repeats):
        units.fill(str(start_units + (i % 2) * 8))
        t0 = page.evaluate("() => performance.now()")
        units.press("Enter")
        try:
            end = page.wait_for_function(RUN_ENDED_AFTER, arg=t0, timeout=PAGE_TIMEOUT_MS,
                                         polling=20)
        except PlaywrightTimeout:  # a finding, not a crash: the table says "inf"
            out.append(math.inf)
            break
        out.append((float(end.json_value()) - t0) / 1000)
    return out


class ProtocolLearners:
    """The class as protocol learners (bench.wsclient) with the calls bench.load makes of a
    class of browser learners."""

    def __init__(self, yield_cpu: bool = False) -> None:
        from .wsclient import LearnerClass

        cores = sorted(os.sched_getaffinity(0))
        confined = yield_cpu and len(cores) >= 2
        self.clients = LearnerClass({cores[-1]} if confined else None,
                                    BROWSER_NICE if confined else 0)

    def open(self, urls: Iterable[str]) -> list:
        return self.clients.open(list(urls), timeout=PAGE_TIMEOUT_MS / 1000)

    def reopen(self, learners: Sequence, urls: Sequence[str]) -> list:
        """A reload: each learner's session closes and a new one opens on its new URL."""
        self.clients.close(learners)
        return self.open(urls)

    def press(self, learners: Sequence) -> float:
        return self.clients.press_together(learners)

    @staticmethod
    def times(learner) -> dict[str, float | None]:
        t = learner.timings

        def since(at: float | None) -> float | None:
            return None if t.clicked is None or at is None else at - t.clicked

        return {"first": since(t.first), "done": since(t.done)}

    @staticmethod
    def status(learner) -> Status:
        return make_status(learner.texts(), learner.run_param, learner.exceptions, None)

    def close(self, learners: Iterable) -> None:
        self.clients.close(learners)

    def shutdown(self) -> None:
        self.clients.shutdown()


class BrowserLearners:
    """The class as Chromium contexts (the functions above)."""

    def __init__(self, browser) -> None:
        self.browser = browser

    def open(self, urls: Iterable[str]) -> list[Learner]:
        return open_learners(self.browser, urls)

    def reopen(self, learners: Sequence[Learner], urls: Sequence[str]) -> list[Learner]:
        """A reload of every page on its new URL."""
        for learner, url in zip(learners, urls, strict=True):
            learner.url = url
            learner.page.goto(url, wait_until="commit", timeout=PAGE_TIMEOUT_MS)
        for learner in learners:
            learner.page.wait_for_function(TRAIN_READY_JS, timeout=PAGE_TIMEOUT_MS,
                                           polling=100)
        return list(learners)

    def press(self, learners: Sequence[Learner]) -> float:
        return press_train_together(learners)

    @staticmethod
    def times(learner: Learner) -> dict[str, float | None]:
        return click_times(learner)

    @staticmethod
    def status(learner: Learner) -> Status:
        return read_status(learner.page)

    def close(self, learners: Iterable[Learner]) -> None:
        close_all(learners)

    def shutdown(self) -> None:
        pass


# ---------------------------------------------------------------------------------------------
# The server process


def cpu_split(server_pid: int) -> tuple[float, float]:
    """(server's CPU seconds, CPU seconds of the clients: this process, whose thread runs the
    protocol learners, and its other children, Chromium and Playwright's driver) so far. CPU
    time, unlike wall time, does not grow when other work shares the machine, so the two say
    where a row's work went."""
    server = {server_pid} | descendants(server_pid)
    others = ({os.getpid()} | descendants(os.getpid())) - server
    return sum(map(cpu_seconds, server)), sum(map(cpu_seconds, others))


PROBLEM = re.compile(r"Traceback|\bERROR\b|\bCRITICAL\b|Exception in ")


def log_problems(log_path: Path) -> list[str]:
    """Lines of the server's log that report an error or a traceback."""
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    return [line for line in text.splitlines() if PROBLEM.search(line)]


def load_average() -> float:
    """The machine's 1-minute load average (it is shared: other work shows up here)."""
    return os.getloadavg()[0]


def launch_chromium(playwright):
    """Debian's chromium as the browser tests launch it."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


BROWSER_NICE = 19  # the class's browsers' niceness with --yield: the least CPU share there is


def confine(pids: Iterable[int], cpus: set[int], niceness: int) -> None:
    """Confine every thread of these processes to `cpus` at `niceness`. Processes and
    threads they start later inherit both (Chromium's renderers are forked from its zygote),
    but Chromium sets some renderers' niceness itself; the CPUs hold."""
    for pid in pids:
        try:
            tids = thread_ids(pid)
        except psutil.Error:  # the process has ended
            continue
        for tid in tids:
            with contextlib.suppress(OSError):  # the thread has ended
                os.sched_setaffinity(tid, cpus)
                os.setpriority(os.PRIO_PROCESS, tid, niceness)


def launch_class_browser(playwright, yield_cpu: bool):
    """The class's Chromium; with `yield_cpu` (on a machine of 2 cores or more) confined to
    the last core at BROWSER_NICE, so the server has at least one core the class's browsers
    never take, as when they run on their own machines."""
    before = descendants(os.getpid())
    browser = launch_chromium(playwright)
    cores = sorted(os.sched_getaffinity(0))
    if yield_cpu and len(cores) >= 2:
        confine(descendants(os.getpid()) - before, {cores[-1]}, BROWSER_NICE)
        page = browser.new_page()  # starts the processes a page needs, then confine those
        page.close()
        confine(descendants(os.getpid()) - before, {cores[-1]}, BROWSER_NICE)
    return browser


# ---------------------------------------------------------------------------------------------
# The benchmark


@dataclass
class Row:
    """One class: N learners, shared or distinct configurations."""

    n: int
    shared: bool
    first: list[float] = field(default_factory=list)
    done: list[float] = field(default_factory=list)
    missing: int = 0  # learners whose page never showed a first point or 'Done'
    idle_before: list[float] = field(default_factory=list)
    idle_during: list[float] = field(default_factory=list)
    rss_start: float = 0.0  # the class's pages open, before Train
    rss_peak: float = 0.0
    rss_after: float = 0.0  # every context closed, runs freed
    threads_peak: int = 0
    errors: list[str] = field(default_factory=list)
    load: float = 0.0
    runs: int = 0  # distinct run ids the learners' URLs name
    server_cpu: float = 0.0  # CPU seconds of the server from the click to the last 'Done'
    browser_cpu: float = 0.0  # CPU seconds of the clients meanwhile (cpu_split)


def _query(i: int, shared: bool, quick: bool) -> str:
    base = QUICK_QUERY if quick else f"epochs={EPOCHS}"
    # Distinct: a seed per learner, none of them the shared row's (which would join its run).
    return f"{base}&seed={0 if shared else 1 + i}"


def _sample_until(probe: Callable[[], bool], server_pid: int, row: Row, timeout: float) -> None:
    """Until `probe()` is true: sample the server's memory and threads every 0.25 s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row.rss_peak = max(row.rss_peak, rss_mb(server_pid))
        row.threads_peak = max(row.threads_peak, thread_count(server_pid))
        if probe():
            return
        time.sleep(0.25)


def _class_row(row: Row, klass, learners: Sequence, idle: Learner, pid: int,
               repeats: int, idle_during: bool = True) -> None:
    """Press Train together, time the idle learner meanwhile (unless not `idle_during`),
    wait for every run's end."""
    row.idle_before = idle_rerun_seconds(idle.page, repeats)
    row.rss_start = rss_mb(pid)
    server0, browser0 = cpu_split(pid)
    klass.press(learners)
    if idle_during:
        row.idle_during = idle_rerun_seconds(idle.page, repeats, start_units=56)

    def all_done() -> bool:
        return all(None not in klass.times(learner).values() for learner in learners)

    _sample_until(all_done, pid, row, timeout=600)
    server1, browser1 = cpu_split(pid)
    row.server_cpu, row.browser_cpu = server1 - server0, browser1 - browser0
    for learner in learners:
        times = klass.times(learner)
        row.missing += times["first"] is None or times["done"] is None
        row.first += [times["first"]] if times["first"] is not None else []
        row.done += [times["done"]] if times["done"] is not None else []
    statuses = [klass.status(learner) for learner in learners]
    row.runs = len({s.run_id for s in statuses if s.run_id})
    row.errors = [f"{s.exceptions} exception box(es) on a page" for s in statuses
                  if s.exceptions]
    row.load = load_average()


def measure(klass, n: int, quick: bool, distinct_too: bool, idle_browser,
            idle_during: bool = True) -> list[Row]:
    """Rows on one fresh server: n learners of `klass` (BrowserLearners, ProtocolLearners)
    share one configuration, then (the same learners, reloaded) n distinct ones if
    `distinct_too`; an idle learner on the Architecture page throughout, in
    `idle_browser`, changing a knob while the class trains if `idle_during`."""
    shared, distinct = Row(n, True), Row(n, False)
    log = REPO / "artifacts" / f"load-server-{n}.log"
    log.parent.mkdir(exist_ok=True)
    repeats = 1 if quick else IDLE_RERUNS
    with app_server(log_path=log, timeout=120) as server:
        pid = server.proc.pid
        idle = open_learners(idle_browser, [f"{server.url}/architecture"], PAGE_READY_JS)[0]
        learners = klass.open([f"{server.url}/train?{_query(i, True, quick)}"
                               for i in range(n)])
        _class_row(shared, klass, learners, idle, pid, repeats, idle_during)
        if not distinct_too:
            klass.close(learners)
            close_all([idle])
            time.sleep(AFTER_CLOSE_S)
            shared.rss_after = rss_mb(pid)
            shared.errors += log_problems(log)
            return [shared]
        learners = klass.reopen(learners, [f"{server.url}/train?{_query(i, False, quick)}"
                                           for i in range(n)])
        _class_row(distinct, klass, learners, idle, pid, repeats, idle_during)
        klass.close(learners)
        close_all([idle])
        time.sleep(AFTER_CLOSE_S)
        distinct.rss_after = rss_mb(pid)
        distinct.errors += log_problems(log)
    return [shared, distinct]


def _fmt(values: Sequence[float], worst: bool = False) -> str:
    if not values:
        return "-"
    return f"{(max(values) if worst else statistics.median(values)):.1f}"


HEADER = ("N", "configurations", "first point s (median / worst)", "done s (median / worst)",
          "idle rerun s (idle server -> during)", "ratio", "RSS MB (start / peak / after)",
          "runs", "CPU s: server / browsers", "errors", "load avg")
WS_HEADER = (*HEADER[:8], "CPU s: server / clients", *HEADER[9:])


def cells(r: Row) -> list[str]:
    """One row of the table."""
    before = statistics.median(r.idle_before)
    during = statistics.median(r.idle_during) if r.idle_during else math.nan
    return [str(r.n), "one shared" if r.shared else "all distinct",
            f"{_fmt(r.first)} / {_fmt(r.first, True)}",
            f"{_fmt(r.done)} / {_fmt(r.done, True)}"
            + (f" ({r.missing} missing)" if r.missing else ""),
            f"{before:.2f} -> " + (f"{during:.2f}" if r.idle_during else "-"),
            f"{during / before:.1f}x" if r.idle_during else "-",
            f"{r.rss_start:.0f} / {r.rss_peak:.0f} / "
            + (f"{r.rss_after:.0f}" if r.rss_after else "-"),
            str(r.runs), f"{r.server_cpu:.0f} / {r.browser_cpu:.0f}", str(len(r.errors)),
            f"{r.load:.1f}"]


def table(rows: Sequence[Row], header: Sequence[str] = HEADER) -> list[str]:
    """The rows as a Markdown table."""
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(cells(r)) + " |" for r in rows)]


def targets(rows: Sequence[Row]) -> list[tuple[str, str, str, bool | None]]:
    """The issue's targets against the rows that measure them: (what, figure, target, met)."""
    out: list[tuple[str, str, str, bool | None]] = []
    sizes = sorted({r.n for r in rows})
    for r in rows:
        if r.n == sizes[-1] and r.shared:
            worst = max(r.first, default=float("inf"))
            out.append((f"every learner's first loss point, N = {r.n}, one shared "
                        "configuration", f"worst {worst:.1f} s"
                        + (f", {r.missing} never" if r.missing else ""),
                        f"<= {FIRST_POINT_TARGET_S:g} s",
                        worst <= FIRST_POINT_TARGET_S and not r.missing))
    middle = 20 if 20 in sizes else sizes[len(sizes) // 2]
    for r in rows:
        if r.n == middle and r.idle_during:
            ratio = statistics.median(r.idle_during) / statistics.median(r.idle_before)
            out.append((f"idle learner's knob-change rerun during the load / on the idle "
                        f"server, N = {r.n}, {'shared' if r.shared else 'distinct'}",
                        f"{ratio:.1f}x", f"<= {IDLE_RATIO_TARGET:g}x",
                        ratio <= IDLE_RATIO_TARGET))
    errors = sum(len(r.errors) for r in rows)
    out.append(("errors (exception boxes on pages, tracebacks or ERROR in the server log)",
                str(errors), "0", errors == 0))
    for n in sizes:
        pair = {r.shared: r for r in rows if r.n == n}
        if len(pair) == 2 and pair[True].done and pair[False].done:
            one, many = max(pair[True].done), max(pair[False].done)
            out.append((f"speed-up from sharing identical runs, N = {n} (last learner done)",
                        f"{many / one:.1f}x ({one:.1f} s against {many:.1f} s)", "-", None))
    return out


def measure_all(klass, sizes: Sequence[int], quick: bool, distinct_up_to: int,
                idle_browser, idle_during: bool = True) -> list[Row]:
    """Every class size's rows, each size on its own fresh server."""
    rows: list[Row] = []
    for n in sizes:
        print(f"[load] N = {n} ...", file=sys.stderr, flush=True)
        new = measure(klass, n, quick, n <= distinct_up_to, idle_browser, idle_during)
        rows += new
        print("\n".join(table(new)[2:]), file=sys.stderr, flush=True)
    return rows


def run(quick: bool = False, sizes: Sequence[int] | None = None,
        distinct_up_to: int = DISTINCT_UP_TO, yield_cpu: bool = False,
        clients: str = "browser", idle_during: bool = True) -> Section:
    """The benchmark section: the table, the targets, and what it measured."""
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sizes = list(sizes or ([3] if quick else SIZES))
    with sync_playwright() as pw:
        idle_browser = launch_chromium(pw)  # the idle learner's, never reniced
        browser = launch_class_browser(pw, yield_cpu) if clients == "browser" else None
        klass = (BrowserLearners(browser) if browser is not None
                 else ProtocolLearners(yield_cpu))
        try:
            rows = measure_all(klass, sizes, quick, distinct_up_to, idle_browser, idle_during)
        finally:
            klass.shutdown()
            if browser is not None:
                browser.close()
            idle_browser.close()
    sec = Section("A class on one server (python -m bench.load): N learners press Train at once")
    runs = ("--quick: tiny runs, the figures mean nothing" if quick
            else f"the app's defaults with {EPOCHS} epochs per run")
    if clients == "browser":
        where = (f"--yield: the class's browsers confined to one core at niceness "
                 f"{BROWSER_NICE} (the server and the idle learner's browser have the other "
                 "core to themselves, as when a class's browsers run on their own machines)"
                 if yield_cpu else
                 "the class's browsers compete with the server for the cores at equal "
                 "priority (a real class's browsers run on their own machines, so every time "
                 "here is an upper bound)")
        sec.add(f"Real Chromium learners (one browser, a context each; the idle learner in "
                f"a browser of its own) on a fresh server per N, {os.cpu_count()} cores, "
                f"{runs}; {where}. Times from each learner's click, read by its own page. "
                "The machine may be shared with other work: its 1-minute load average is "
                "beside each row.")
    else:
        where = (f"--yield: their thread confined to one core at niceness {BROWSER_NICE}"
                 if yield_cpu else "their thread at the server's priority")
        sec.add(f"Protocol learners (bench.wsclient: a Streamlit session each over its own "
                f"websocket, sending what the browser sends, drawing nothing; all on one "
                f"asyncio loop in a thread of the benchmark's process, {where}; the idle "
                f"learner a real Chromium page) on a fresh server per N, {os.cpu_count()} "
                f"cores, {runs}. Times from each learner's click to the arrival of the "
                "first message with a loss point and of the first 'Done'. Clients' CPU: "
                "the benchmark's process (the protocol learners) and the idle learner's "
                "Chromium. The machine may be shared with other work: its 1-minute load "
                "average is beside each row.")
    if not idle_during:
        sec.add("", "--no-idle-during: the idle learner changes no knob while the class "
                "trains (its reruns would compete with the class's clicks for the server).")
    sec.table(HEADER if clients == "browser" else WS_HEADER, [cells(r) for r in rows])
    for what, figure, target, ok in targets(rows):
        sec.add(f"- {what}: {figure} (target {target}: {verdict(ok)})")
        if ok is not None:
            sec.target(what, figure, target, ok)
    sec.add("", "RSS after: 2 s after every context closed and every run ended (the server "
            "keeps a closed tab's session for Streamlit's disconnectedSessionTTL, 120 s). "
            "Errors: exception boxes on the row's pages; the server log's are counted on the "
            "last row of its N (one server per N). The all-distinct row is measured up to "
            f"N = {distinct_up_to} (DISTINCT_UP_TO).")
    sec.data["rows"] = [dataclasses.asdict(r) for r in rows]
    sec.data["clients"] = clients
    return sec


def main(argv: list[str] | None = None) -> int:
    """Measure every row, print the section (table and targets)."""
    parser = argparse.ArgumentParser(prog="python -m bench.load",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="N = 3, tiny runs: a smoke run")
    parser.add_argument("--sizes", default=None, help="comma-separated class sizes")
    parser.add_argument("--distinct-up-to", type=int, default=DISTINCT_UP_TO,
                        help="the all-distinct row only for classes up to this size")
    parser.add_argument("--yield", dest="yield_cpu", action="store_true",
                        help="confine the class's browsers (ws: the protocol learners' thread) "
                             "to one core, lowest priority")
    parser.add_argument("--clients", choices=("browser", "ws"), default="browser",
                        help="the class's learners: Chromium pages, or protocol learners "
                             "(bench.wsclient) that send what the browser sends and draw "
                             "nothing")
    parser.add_argument("--no-idle-during", dest="idle_during", action="store_false",
                        help="the idle learner changes no knob while the class trains")
    parser.add_argument("--out", type=Path, default=None, help="also write the section here")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else None
    started = time.perf_counter()
    text = run(args.quick, sizes, args.distinct_up_to, args.yield_cpu, args.clients,
               args.idle_during).markdown()
    text += f"\n({time.perf_counter() - started:.0f} s)\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
