"""Section 4: the app in a real server and a real browser (Debian's chromium via Playwright).

Cold start until /_stcore/health answers; Train until the first point of the loss curve; the
server's memory with 1 and 10 open sessions; a knob change until the Architecture page has
finished redrawing; training inside the app versus the CLI.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from lstmae_demo.config import defaults

from .common import Section, cli_train_seconds, fmt_s, fmt_x, median, verdict
from .devserver import CHROMIUM_ARGS, app_server
from .procstats import pids_named, thread_cpu_seconds, tree_rss_mb

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HELLO = str(Path(__file__).with_name("hello_app.py"))  # the reference for the cold start
HEALTH_TIMEOUT = 60.0
PAGE_TIMEOUT_MS = 60_000

# Records every change of Streamlit's script state with the page's own clock, so a rerun is
# timed from the user's action to the end of the script run however fast it is. Once per
# document: RUN_ENDED_AFTER reads only the records after its t0, so older ones do no harm.
OBSERVE_RUNS = """() => {
  if (window.__runs) return;
  const app = document.querySelector("[data-testid='stApp']");
  window.__runs = [];
  new MutationObserver(() => window.__runs.push(
      [app.getAttribute('data-test-script-state'), performance.now()]))
    .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
# The time a full script run that started after t0 ended (false while there is none).
RUN_ENDED_AFTER = """(t0) => {
  const runs = window.__runs || [];
  const started = runs.findIndex(r => r[0] === 'running' && r[1] >= t0);
  if (started < 0) return false;
  const ended = runs.slice(started).find(r => r[0] === 'notRunning');
  return ended ? ended[1] : false;
}"""
RUN_STARTED_AFTER = """(t0) => (window.__runs || []).some(r => r[0] === 'running' && r[1] >= t0)"""
RERUN_START_MS = 15_000  # a rerun key press starts a script run within this, or is repeated
# The time the loss chart's training curve ('train <loss name>') first holds a point (false
# until then).
FIRST_LOSS_POINT = """() => {
  for (const g of document.querySelectorAll('.js-plotly-plot')) {
    for (const t of (g.data || [])) {
      if ((t.name || '').startsWith('train ') && t.y && t.y.length > 0) {
        return performance.now();
      }
    }
  }
  return false;
}"""
# The Train page has drawn its loss chart and its reconstruction chart (empty before a run).
CHARTS_DRAWN = "() => document.querySelectorAll('.js-plotly-plot').length >= 2"
DONE_TEXT = re.compile(r"Done: (\d+) epochs in ([0-9.]+) s")
ENDED_TEXT = re.compile(r"Stopped after|Done: ")  # how the Train page says a run has ended


@contextmanager
def server(script: str = "app.py") -> Iterator[tuple[subprocess.Popen, str, float]]:
    """A Streamlit server for `script`, started as the browser tests start the app's.

    Yields (process, url, seconds from spawn until /_stcore/health answered "ok").
    """
    log_path = Path(tempfile.gettempdir()) / "bench-server.log"
    with app_server(script, log_path=log_path, timeout=HEALTH_TIMEOUT) as running:
        yield running.proc, running.url, running.startup_seconds


def _wait_ready(page) -> None:
    """Connected and the script has finished running (as tests/browser/conftest.py does)."""
    app = "[data-testid='stApp']"
    page.wait_for_selector(f"{app}[data-test-connection-state='CONNECTED']",
                           timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector(f"{app}[data-test-script-state='notRunning']",
                           timeout=PAGE_TIMEOUT_MS)


def _open(context, url: str):
    page = context.new_page()
    page.goto(url)
    _wait_ready(page)
    page.evaluate(OBSERVE_RUNS)
    return page


def _now(page) -> float:
    return page.evaluate("() => performance.now()")


def _wait_value(page, script: str, arg=None) -> float:
    handle = page.wait_for_function(script, arg=arg, polling="raf", timeout=PAGE_TIMEOUT_MS)
    return float(handle.json_value())


def cold_starts(starts: dict[str, list[float]], repeats: int) -> None:
    """Spawn-to-health seconds of app.py and of bench/hello_app.py, started in turns, added
    to `starts` until each has `repeats` (app.py may have some already)."""
    for script, key in (("app.py", "app.py"), (HELLO, "one-line script")) * repeats:
        if len(starts[key]) < repeats:
            with server(script) as (_, _, seconds):
                starts[key].append(seconds)


def cli_seconds(arch: str, epochs: int) -> float:
    """The CLI's own `seconds` for a run with the app's default settings (its defaults)."""
    return cli_train_seconds(arch, epochs)[0]


def _browser_measurements(url: str, proc: subprocess.Popen, quick: bool) -> dict:
    from playwright.sync_api import sync_playwright

    out: dict = {}
    repeats = 1 if quick else 5
    extra = 1 if quick else 9  # sessions opened beside the first for the memory figures
    settle = 0.2 if quick else 3.0  # seconds for script threads and the collector to finish
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            # 1. The first page of a fresh server: app.py's imports happen here.
            start = time.perf_counter()
            home = _open(context, url)
            out["first_page"] = time.perf_counter() - start

            # 2. The first Train of this server process, then warm ones (fresh sessions;
            # --quick: none, each costs a page and a run).
            first = _first_point(context, url, quick)
            warm = [] if quick else [_first_point(context, url, quick) for _ in range(3)]
            out["first_point"], out["first_point_rerun"] = [first[0]], [first[1]]
            out["first_point_warm"] = [w[0] for w in warm]
            out["first_point_warm_rerun"] = [w[1] for w in warm]

            # 3. Memory: one idle session (home) vs 1 + extra, on Home, then on Architecture.
            for page in context.pages:
                if page is not home:
                    page.close()
            out["rss_1"] = _settled_rss(proc.pid, settle)
            pages = [_open(context, url) for _ in range(extra)]
            out["rss_n"] = _settled_rss(proc.pid, settle)
            out["sessions_n"] = 1 + extra
            for page in pages:
                page.close()
            out["rss_1_again"] = _settled_rss(proc.pid, settle)
            pages = [_open(context, f"{url}/architecture") for _ in range(extra)]
            out["rss_n_architecture"] = _settled_rss(proc.pid, settle)

            # 4. A knob change on one of those Architecture pages vs a rerun changing nothing.
            out["knob_change"], out["rerun"] = _knob_changes(pages[0], repeats)
            for page in pages:
                page.close()

            # 5. Training in the app (the page polling, as a learner watches) vs the CLI.
            if not quick:
                out["app_vs_cli"] = _app_vs_cli(context, url, proc)
        finally:
            browser.close()
    return out


def _knob_changes(arch, repeats: int) -> tuple[list[float], list[float]]:
    """On an open Architecture page: seconds from pressing Enter on a new Units value until the
    page's rerun has ended, and the same for a rerun that changes nothing (the R key)."""
    units = arch.get_by_role("spinbutton", name="Units (U)")
    knob, rerun = [], []
    for i in range(repeats):
        t0 = _now(arch)
        units.fill(str(40 + i % 2 * 8))
        units.press("Enter")
        knob.append((_wait_value(arch, RUN_ENDED_AFTER, t0) - t0) / 1000)
        rerun.append(_rerun_by_key(arch))
    return knob, rerun


def _rerun_by_key(page, tries: int = 3) -> float:
    """Seconds from pressing R (Streamlit's rerun key) until that rerun has ended. A press
    that started no rerun within RERUN_START_MS (focus still in an input, or the key lost on
    a busy machine; seen in CI) is repeated, timed from the press that worked."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(tries):
        page.locator("h1").first.click()  # focus out of any input: R in an input types an r
        t0 = _now(page)
        page.keyboard.press("r")
        try:
            page.wait_for_function(RUN_STARTED_AFTER, arg=t0, polling="raf",
                                   timeout=RERUN_START_MS)
        except PlaywrightTimeout:
            continue
        return (_wait_value(page, RUN_ENDED_AFTER, t0) - t0) / 1000
    raise RuntimeError(f"pressing R {tries} times started no rerun of the page")


def _settled_rss(pid: int, seconds: float) -> float:
    time.sleep(seconds)  # let the script threads finish and the garbage collector run
    return tree_rss_mb(pid)


def _first_point(context, url: str, quick: bool) -> tuple[float, float]:
    """Seconds from pressing Train (app defaults) until the loss curve shows a point, and
    until the click's own rerun ended."""
    query = "?epochs=2&n_series=64" if quick else ""
    page = _open(context, f"{url}/train{query}")
    # The learner presses Train on a page they can see: its two (empty) charts are drawn.
    page.wait_for_function(CHARTS_DRAWN, timeout=PAGE_TIMEOUT_MS)
    t0 = _now(page)
    page.get_by_role("button", name="Train").click()
    seconds = (_wait_value(page, FIRST_LOSS_POINT) - t0) / 1000
    rerun = (_wait_value(page, RUN_ENDED_AFTER, t0) - t0) / 1000
    _end_run(page)
    page.close()
    return seconds, rerun


def _end_run(page) -> None:
    """Stop the page's run if it still trains (it would slow what is measured next), and wait
    until the page says the run has ended."""
    from playwright.sync_api import Error as PlaywrightError

    ended = page.get_by_text(ENDED_TEXT).first
    stop = page.get_by_role("button", name="Stop")  # drawn always, enabled while training
    deadline = time.perf_counter() + PAGE_TIMEOUT_MS / 1000
    while not ended.is_visible():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"the Train page did not report the run's end within "
                               f"{PAGE_TIMEOUT_MS / 1000:g} s")
        if stop.is_enabled():
            with suppress(PlaywrightError):  # the rerun after a click may replace the button
                stop.click(timeout=1000)
        time.sleep(0.05)


APP_VS_CLI_ARCH = "repeatvector"  # the app's default architecture, at all its defaults
# Rounds of (CLI run, app run(s)) back to back; the ratio is the median of the rounds' ratios,
# so a slow minute of this shared machine falls on both sides of one round.
APP_VS_CLI_ROUNDS = 3


def round_ratio(cli: list[float], runs: list[dict]) -> float:
    """Median over rounds of (CLI seconds / app seconds): the app's relative throughput."""
    return median([c / r["seconds"] for c, r in zip(cli, runs, strict=True)])


def browser_pids() -> list[int]:
    """Every chromium process on the machine (ours: the bench launched the only one)."""
    return pids_named("chrom")


class CpuSampler:
    """Samples per-thread CPU of the server and the browser while a run trains.

    Threads that start and end between two samples are missed, so it samples every 20 ms.
    """

    def __init__(self, server_pid: int):
        import threading

        self.server_pid = server_pid
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> CpuSampler:
        self.first = thread_cpu_seconds([self.server_pid, *browser_pids()])
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.last.update(thread_cpu_seconds([self.server_pid, *browser_pids()]))
            time.sleep(0.02)

    def used(self) -> dict[str, float]:
        """CPU seconds: the busiest server thread (the job), the other server threads, browser."""
        delta = {k: v - self.first.get(k, 0.0) for k, v in self.last.items()}
        server = sorted((v for k, v in delta.items()
                         if k.startswith(f"{self.server_pid}/")), reverse=True)
        browser = sum(v for k, v in delta.items() if not k.startswith(f"{self.server_pid}/"))
        return {"job": server[0] if server else 0.0, "page": sum(server[1:]),
                "browser": browser}


def _app_run(context, url: str, proc: subprocess.Popen, watch: bool) -> dict[str, float]:
    """One default run in the app: the learner watches the Train page, or goes Home."""
    page = _open(context, f"{url}/train?arch={APP_VS_CLI_ARCH}")
    with CpuSampler(proc.pid) as cpu:
        start = time.perf_counter()
        page.get_by_role("button", name="Train").click()
        if not watch:  # same session, another page: the Train page's poll stops
            _wait_value(page, RUN_ENDED_AFTER, _now(page) - 10_000)
            page.get_by_role("link", name="Home").first.click()
            _wait_ready(page)
            # The job's end is invisible from Home: wait for the server to go quiet.
            while True:
                before = thread_cpu_seconds([proc.pid])
                time.sleep(0.5)
                if sum(thread_cpu_seconds([proc.pid]).values()) - sum(before.values()) < 0.1:
                    break
            page.get_by_role("link", name="Train").first.click()
        done = page.get_by_text(DONE_TEXT)
        done.wait_for(timeout=600_000)
        wall = time.perf_counter() - start
    seconds = float(DONE_TEXT.search(done.inner_text()).group(2))
    page.close()
    return {"seconds": seconds, "wall": wall, **cpu.used()}


def _app_vs_cli(context, url: str, proc: subprocess.Popen) -> dict[str, list]:
    """The run's own seconds in the CLI, in the app while watched, in the app unwatched."""
    out: dict[str, list] = {"cli": [], "app (watched)": [], "app (not watched)": []}
    epochs = defaults()["epochs"]
    for _ in range(APP_VS_CLI_ROUNDS):
        out["cli"].append(cli_seconds(APP_VS_CLI_ARCH, epochs))
        out["app (watched)"].append(_app_run(context, url, proc, watch=True))
        out["app (not watched)"].append(_app_run(context, url, proc, watch=False))
    return out


def run(quick: bool = False) -> Section:
    """Measure and describe the app."""
    sec = Section("4. The app")
    if shutil.which("streamlit") is None and not _has_module("streamlit"):
        sec.add("streamlit is not installed: skipped.")
        return sec
    repeats = 1 if quick else 3
    starts: dict[str, list[float]] = {"app.py": [], "one-line script": []}
    browser = Path(CHROMIUM).exists() and _has_module("playwright")
    b: dict = {}
    if browser:
        with server("app.py") as (proc, url, seconds):
            starts["app.py"].append(seconds)  # the browser's server is a cold start too
            b = _browser_measurements(url, proc, quick)
        sec.data["browser"] = b
    cold_starts(starts, repeats)
    app_start, hello_start = median(starts["app.py"]), median(starts["one-line script"])
    sec.data["cold_start"] = starts
    rows = [["cold start: spawn until /_stcore/health answers", fmt_s(app_start),
             f"{fmt_x(app_start / hello_start)} a one-line Streamlit script "
             f"({fmt_s(hello_start)})", "< 5 s", verdict(app_start < 5)]]
    sec.target("app cold start until /_stcore/health", fmt_s(app_start), "< 5 s",
               app_start < 5)
    if browser:
        knob, rerun = median(b["knob_change"]), median(b["rerun"])
        first, warm = b["first_point"][0], median(b["first_point_warm"])
        # RSS can also fall a little between readings; `or 0.0` prints -0.0 as 0.0.
        per_session = round((b["rss_n"] - b["rss_1"]) / (b["sessions_n"] - 1), 1) or 0.0
        per_arch = round((b["rss_n_architecture"] - b["rss_1_again"])
                         / (b["sessions_n"] - 1), 1) or 0.0
        rows += [
            ["first page (Home) of a fresh server, in the browser", fmt_s(b["first_page"]),
             f"{fmt_x(b['first_page'] / hello_start)} the one-line script's cold start", "-",
             "-"],
            ["knob change (units) until the Architecture page has redrawn", fmt_s(knob),
             f"{fmt_x(knob / rerun)} a rerun that changes nothing ({fmt_s(rerun)})", "-", "-"],
            ["Train until the first loss point, first run of the server", fmt_s(first),
             f"{fmt_x(first / warm)} a later run; the click's own rerun took "
             f"{fmt_s(b['first_point_rerun'][0])}", "< 2 s", verdict(first < 2)],
            ["Train until the first loss point, later runs", fmt_s(warm),
             f"the click's own rerun took {fmt_s(median(b['first_point_warm_rerun']))}",
             "< 2 s", verdict(None if quick else warm < 2)],
            [f"server memory (RSS), 1 session / {b['sessions_n']} sessions",
             f"{b['rss_1']:.0f} MB / {b['rss_n']:.0f} MB", "-", "-", "-"],
            ["memory per extra idle session", f"{per_session:.1f} MB", "-", "< 40 MB",
             verdict(per_session < 40)],
            ["the same, sessions left on the Architecture page (figures, code, pitfalls)",
             f"{per_arch:.1f} MB", f"{b['rss_1_again']:.0f} MB -> "
             f"{b['rss_n_architecture']:.0f} MB", "< 40 MB", verdict(per_arch < 40)],
        ]
        sec.target("Train until the first loss point (first run of a server / later runs)",
                   f"{fmt_s(first)} / {fmt_s(warm)}", "< 2 s",
                   first < 2 and (quick or warm < 2))
        sec.target("memory per extra idle session", f"{per_session:.1f} MB", "< 40 MB",
                   per_session < 40)
        if "app_vs_cli" in b:
            r = b["app_vs_cli"]
            cli_s = median(r["cli"])
            for label in ("app (not watched)", "app (watched)"):
                runs = r[label]
                app_s = median([x["seconds"] for x in runs])
                per_s = {k: median([x[k] / x["wall"] for x in runs])
                         for k in ("job", "page", "browser")}
                ratio = round_ratio(r["cli"], runs)
                rows.append([
                    f"training in the {label.replace('app', 'app,')} vs the CLI "
                    f"({APP_VS_CLI_ARCH} at the app's defaults; the runs' own seconds)",
                    f"app {app_s:.2f} s, CLI {cli_s:.2f} s",
                    f"app throughput = {fmt_x(ratio)} the CLI's (median of "
                    f"{len(runs)} rounds); CPU cores busy "
                    f"meanwhile: job {per_s['job']:.2f}, other server threads "
                    f"{per_s['page']:.2f}, browser {per_s['browser']:.2f}",
                    ">= 0.85x", verdict(ratio >= 0.85)])
                sec.target(f"training in the {label.replace('app', 'app,')} / the CLI",
                           fmt_x(ratio), ">= 0.85x", ratio >= 0.85)
    else:
        sec.add(f"No browser ({CHROMIUM} or playwright missing): only the cold start measured.")
    sec.add(
        "One server for app.py, started as `scripts/run-app` starts it "
        "(OMP_NUM_THREADS=1), driven by Debian's chromium through Playwright. Times come from"
        " the page's own clock: a MutationObserver records Streamlit's script state, so a "
        "rerun is timed from the key press to the end of the script run; the first loss point"
        " is seen by polling the Plotly figure's data every animation frame. Medians over "
        f"{1 if quick else 5} repeats (cold start: {repeats}, interleaved with the "
        "reference, `bench/hello_app.py`). Train is pressed once the Train page has drawn its "
        "(empty) charts, as a learner sees it; the click's own rerun waits up to 0.5 s for "
        "the first epoch, so the first point comes with it rather than with the next poll "
        "(once a second). "
        "*Watched*: the learner keeps the Train page open (it polls); *not watched*: the "
        "learner goes to Home in the same session while the job trains, then comes back for "
        "the result. The browser runs on this same 2-core machine, so a watched run also "
        "competes with chromium drawing the charts; in a classroom the browsers are on the "
        "learners' machines. The CLI's seconds include its process's one-time import of "
        "torch._dynamo (~1 s, section 5), which the app pays once per server at start-up."
    )
    sec.table(["what", "median", "vs reference", "target", ""], rows)
    return sec


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
