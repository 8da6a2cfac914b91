"""A learner without a browser: one Streamlit session driven over its websocket as Chromium
drives it (bench.load --clients ws).

What it does as the browser does (Streamlit 1.67's frontend: its bundle, and the server side
in streamlit/runtime/app_session.py and web/server/starlette/starlette_websocket.py):

- asks /_stcore/health and /_stcore/host-config, then opens /_stcore/stream with the
  subprotocol "streamlit" and the page's Origin;
- its first message is a rerun_script with the URL's query string, the page's name (the
  path's last part), no page hash, no widget states and the browser's context (timezone,
  locale, URL); later reruns name the page by the hash the server's navigation message gave;
- keeps every widget's state as the browser's widget manager does: a value widget's default
  (or the value the server set) from the element the server sends, a button's trigger only in
  the message its click sends, and it forgets the widgets a finished run no longer drew;
- keeps the query string the server rewrites (page_info_changed: `?run=<id>` after Train)
  and sends it with every later rerun;
- keeps the forward-message cache: cacheable messages by hash, aged per script run, their
  hashes sent with every rerun, a ref_hash answered from it;
- a fragment with run_every: reruns it (its fragment_id, is_auto_rerun) every `interval`
  seconds from the auto_rerun message on, as the browser's setInterval does, until
  stop_auto_rerun or the next full run.

What it does not: load the page's HTML, JavaScript, CSS and fonts, lay out or draw anything
(no React, no Plotly.js), or send heartbeats (the browser does only when embedded in a host
page). Times are when a message arrives here, not when a browser would have drawn it.

`LearnerClass` runs a class of these on one asyncio loop in a thread of its own and offers
them to synchronous code (bench.load, tests/load).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import threading
import time
import urllib.request
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.Slider_pb2 import Slider
from streamlit.proto.WidgetStates_pb2 import WidgetState

CONNECT_TIMEOUT_S = 60.0
FINISHED = ForwardMsg.ScriptFinishedStatus
DONE_TEXT = re.compile(r"^Done: \d+ epochs")
# Plotly's JSON for a numpy array: {"dtype": "f8", "bdata": base64}; bytes per item by dtype.
ITEM_BYTES = {"f8": 8, "f4": 4, "i8": 8, "i4": 4, "i2": 2, "i1": 1, "u8": 8, "u4": 4, "u2": 2,
              "u1": 1}


def loss_points(spec: str) -> int | None:
    """Points of the longest curve of a Plotly chart whose y axis title starts with 'loss'
    (the Train page's loss chart, as bench.load's page script reads it); None for any other
    chart."""
    fig = json.loads(spec)
    title = ((fig.get("layout") or {}).get("yaxis") or {}).get("title") or {}
    text = title.get("text") if isinstance(title, dict) else title
    if not (isinstance(text, str) and text.startswith("loss")):
        return None
    most = 0
    for trace in fig.get("data") or ():
        y = trace.get("y")
        if isinstance(y, dict) and "bdata" in y:
            shape = y.get("shape")
            count = (int(str(shape).split(",")[0]) if shape is not None
                     else len(base64.b64decode(y["bdata"])) // ITEM_BYTES[y.get("dtype", "f8")])
        else:
            count = len(y or ())
        most = max(most, count)
    return most


def initial_state(kind: str, el) -> WidgetState | None:
    """The state the browser gives a value widget when it appears: the value the server set,
    else the widget's default. None: no state until the learner acts (a button), or a kind
    this client does not know (LearnerSession.unknown_widgets names it)."""
    state = WidgetState(id=el.id)
    if kind in ("selectbox", "radio"):
        if el.set_value and el.HasField("raw_value"):
            state.string_value = el.raw_value
        elif el.HasField("default"):
            state.string_value = el.options[el.default]
        else:
            return None
    elif kind == "number_input":
        value = el.value if el.set_value and el.HasField("value") else (
            el.default if el.HasField("default") else None)
        if value is None:
            return None
        if el.data_type == el.DataType.INT:
            state.int_value = int(value)
        else:
            state.double_value = value
    elif kind == "slider":
        if el.type == Slider.Type.SELECT_SLIDER:
            values = (list(el.raw_value) if el.set_value and el.raw_value
                      else [el.options[int(i)] for i in el.default])
            state.string_array_value.data.extend(values)
        else:
            state.double_array_value.data.extend(el.value if el.set_value else el.default)
    elif kind == "checkbox":
        state.bool_value = el.value if el.set_value else el.default
    elif kind == "file_uploader":
        state.file_uploader_state_value.SetInParent()
    else:
        return None
    return state


# Widgets whose state the browser sends only when the learner uses them.
ACTION_WIDGETS = {"button", "download_button", "form_submit_button", "link_button",
                  "plotly_chart"}
WIDGET_KINDS = {"selectbox", "radio", "number_input", "slider", "checkbox", "file_uploader",
                "text_input", "text_area", "date_input", "time_input", "color_picker",
                "multiselect", "button_group", "chat_input", "camera_input", "audio_input",
                "data_frame", "arrow_data_frame"}


@dataclass
class Node:
    """An element on the page (what the browser's element tree holds at one delta path)."""

    kind: str
    text: str | None  # an alert's body, a progress bar's text, a caption: the status texts
    run: str  # the script run that drew it
    fragment: str  # its fragment's id ("" outside any fragment)


@dataclass
class Timings:
    """Seconds since the epoch: the click, the first delta with a loss point after it, and
    the first 'Done: N epochs' after it (None: not yet)."""

    clicked: float | None = None
    first: float | None = None
    done: float | None = None
    first_points: int | None = None  # the loss chart's points in that first delta


@dataclass
class LearnerSession:
    """One learner: one Streamlit session on one page, over its own websocket."""

    url: str
    base: str = ""
    ws_url: str = ""
    page_name: str = ""
    query_string: str = ""
    page_script_hash: str = ""
    session_id: str = ""
    widgets: dict[str, WidgetState] = field(default_factory=dict)
    widget_kinds: dict[str, str] = field(default_factory=dict)
    widget_seen: dict[str, tuple[str, str]] = field(default_factory=dict)  # id: (run, fragment)
    buttons: dict[str, str] = field(default_factory=dict)  # label: widget id
    nodes: dict[tuple[int, ...], Node] = field(default_factory=dict)
    unknown_widgets: set[str] = field(default_factory=set)
    cache: dict[str, list] = field(default_factory=dict)  # hash: [bytes, run count, fragment]
    run_count: int = 0
    max_cache_age: int = 2
    run_id: str = ""  # the script run in progress (or last)
    run_fragments: tuple[str, ...] = ()
    running: bool = False
    full_runs_finished: int = 0
    fragment_runs_started: int = 0  # the server's fragment runs for this session
    auto_reruns_sent: int = 0
    exceptions: int = 0
    timings: Timings = field(default_factory=Timings)
    last_click: BackMsg | None = None
    sent: int = 0
    received: int = 0
    error: str | None = None
    _ws: object = None
    _timers: dict[str, tuple[float, asyncio.Task]] = field(default_factory=dict)
    _reader: asyncio.Task | None = None
    _ready: asyncio.Event | None = None
    _after_click: bool = False

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.ws_url = f"ws://{parts.netloc}/_stcore/stream"
        self.page_name = parts.path.strip("/").rsplit("/", 1)[-1]
        self.query_string = parts.query

    # -- what the page shows ---------------------------------------------------------------

    @property
    def run_param(self) -> str | None:
        """The ?run=<id> the server has put in this learner's URL (None: none yet)."""
        return parse_qs(self.query_string).get("run", [None])[0]

    def texts(self) -> tuple[str, ...]:
        """The main area's status texts now (progress, alerts, captions), in page order, as
        bench.load's page script reads them from a browser's page."""
        return tuple(n.text for path, n in sorted(self.nodes.items())
                     if path and path[0] == 0 and n.text is not None)

    def ready(self) -> bool:
        """Connected, its script run has ended, the Train button and two charts are drawn."""
        charts = sum(n.kind == "plotly_chart" for n in self.nodes.values())
        return (self._ws is not None and not self.running and self.full_runs_finished > 0
                and "Train" in self.buttons and charts >= 2)

    # -- sending ---------------------------------------------------------------------------

    def _client_state(self, fragment_id: str = "", auto: bool = False,
                      extra: Iterable[WidgetState] = ()) -> ClientState:
        state = ClientState(query_string=self.query_string, fragment_id=fragment_id,
                            is_auto_rerun=auto)
        if self.page_script_hash:
            state.page_script_hash = self.page_script_hash
        else:  # the first run: the page by its name in the URL, as the browser does
            state.page_name = self.page_name
        state.widget_states.widgets.extend([*self.widgets.values(), *extra])
        state.cached_message_hashes.extend(self.cache)
        ctx = state.context_info
        ctx.timezone, ctx.timezone_offset, ctx.locale = "UTC", 0, "en-US"
        ctx.url, ctx.is_embedded, ctx.color_scheme = (f"{self.base}/{self.page_name}", False,
                                                      "light")
        return state

    async def _send(self, msg: BackMsg) -> None:
        self.sent += 1
        await self._ws.send(msg.SerializeToString())

    async def rerun(self, fragment_id: str = "", auto: bool = False,
                    extra: Iterable[WidgetState] = ()) -> BackMsg:
        msg = BackMsg()
        msg.rerun_script.CopyFrom(self._client_state(fragment_id, auto, extra))
        await self._send(msg)
        return msg

    async def click(self, label: str) -> None:
        """Press the button labelled `label` (its trigger_value, once, with every widget's
        state, as the browser's click sends it)."""
        widget_id = self.buttons[label]
        self.timings = Timings(clicked=time.time())
        self._after_click = True
        self.last_click = await self.rerun(extra=[WidgetState(id=widget_id,
                                                              trigger_value=True)])

    # -- connecting ------------------------------------------------------------------------

    async def open(self) -> None:
        """What the browser does once its page's code has loaded: health, host config, the
        websocket, the first rerun; returns when the page is ready (ready())."""
        for path in ("/_stcore/health", "/_stcore/host-config"):
            await asyncio.to_thread(_get, self.base + path)
        self._ready = asyncio.Event()
        self._ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"],
                                            origin=self.base, max_size=None,
                                            open_timeout=CONNECT_TIMEOUT_S)
        self._reader = asyncio.create_task(self._read())
        await self.rerun()
        await self._ready.wait()
        if self.error:
            raise RuntimeError(f"{self.url}: {self.error}")

    async def close(self) -> None:
        self._stop_timers()
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader

    # -- receiving -------------------------------------------------------------------------

    async def _read(self) -> None:
        try:
            async for data in self._ws:
                now = time.time()
                self.received += 1
                msg = ForwardMsg()
                msg.ParseFromString(data)
                if msg.WhichOneof("type") == "ref_hash":
                    entry = self.cache.get(msg.ref_hash)
                    if entry is None:
                        raise RuntimeError(f"cache miss for {msg.ref_hash}")
                    entry[1] = self.run_count
                    metadata = msg.metadata
                    msg = ForwardMsg()
                    msg.ParseFromString(entry[0])
                    msg.metadata.CopyFrom(metadata)
                elif msg.metadata.cacheable and msg.hash and msg.hash not in self.cache:
                    self.cache[msg.hash] = [bytes(data), self.run_count,
                                            msg.delta.fragment_id if msg.HasField("delta")
                                            else ""]
                await self._handle(msg, now)
        except websockets.ConnectionClosed:
            pass
        except Exception as err:  # noqa: BLE001  - a learner's failure is reported, not lost
            self.error = f"{type(err).__name__}: {err}"
        finally:
            self._stop_timers()
            if self._ready is not None:
                self._ready.set()  # open() reports self.error

    async def _handle(self, msg: ForwardMsg, now: float) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            new = msg.new_session
            self.session_id = new.initialize.session_id or self.session_id
            self.max_cache_age = new.config.max_cached_message_age or self.max_cache_age
            self.run_id = msg.metadata.run.script_run_id
            self.run_fragments = tuple(msg.metadata.run.fragment_ids)
            self.running = True
            if self.run_fragments:
                self.fragment_runs_started += 1
            else:  # a full run: the browser clears every interval
                self._stop_timers()
        elif kind == "navigation":  # st.navigation names the page it ran
            self.page_script_hash = msg.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "delta":
            self._delta(msg, now)
        elif kind == "auto_rerun":
            self._auto_rerun(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fragment_id in msg.stop_auto_rerun.fragment_ids:
                self._stop_timers(fragment_id)
        elif kind == "script_finished":
            self._finished(msg.script_finished, msg.metadata.run)

    def _delta(self, msg: ForwardMsg, now: float) -> None:
        delta = msg.delta
        path = tuple(msg.metadata.delta_path)
        which = delta.WhichOneof("type")
        if which == "add_block":
            self.nodes[path] = Node("block", None, self.run_id, delta.fragment_id)
            return
        if which != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        el = getattr(element, kind)
        text = None
        if kind == "alert":
            text = el.body
        elif kind == "progress":
            text = el.text
        elif kind == "markdown" and el.element_type == el.Type.CAPTION:
            text = el.body
        self.nodes[path] = Node(kind, text.strip() if text else text, self.run_id,
                                delta.fragment_id)
        if kind == "exception":
            self.exceptions += 1
        if kind in ("button", "download_button"):
            if kind == "button":
                self.buttons[el.label] = el.id
            self.widget_seen[el.id] = (self.run_id, delta.fragment_id)
        elif kind in WIDGET_KINDS:
            self.widget_seen[el.id] = (self.run_id, delta.fragment_id)
            known = el.id in self.widgets
            if not known or getattr(el, "set_value", False):
                state = initial_state(kind, el)
                if state is None:
                    self.unknown_widgets.add(kind)
                else:
                    self.widgets[el.id] = state
                    self.widget_kinds[el.id] = kind
        if not self._after_click:
            return
        t = self.timings
        if kind == "plotly_chart" and t.first is None:
            points = loss_points(el.spec)
            if points:
                t.first, t.first_points = now, points
        elif kind == "alert" and t.done is None and DONE_TEXT.match(el.body.strip()):
            t.done = now

    def _finished(self, status: int, run) -> None:
        if status == FINISHED.FINISHED_EARLY_FOR_RERUN:
            return
        fragments = tuple(run.fragment_ids)
        if run.script_run_id and status in (FINISHED.FINISHED_SUCCESSFULLY,
                                            FINISHED.FINISHED_FRAGMENT_RUN_SUCCESSFULLY):
            self._clear_stale(run.script_run_id, fragments)
        # The cache ages by one run; a fragment run ages only that fragment's messages.
        self.run_count += 1
        for key, (_, seen, fragment) in list(self.cache.items()):
            if fragments and fragment not in fragments:
                continue
            if self.run_count - seen > self.max_cache_age:
                del self.cache[key]
        if run.script_run_id in (self.run_id, ""):
            self.running = False
        if not fragments:
            self.full_runs_finished += 1
        if self.ready() and self._ready is not None:
            self._ready.set()

    def _clear_stale(self, run_id: str, fragments: tuple[str, ...]) -> None:
        """Forget what the run `run_id` did not draw (all of the page after a full run, the
        fragments' own elements after a fragment run), and those widgets' states."""
        def stale(seen_run: str, fragment: str) -> bool:
            return seen_run != run_id and (not fragments or fragment in fragments)

        self.nodes = {p: n for p, n in self.nodes.items() if not stale(n.run, n.fragment)}
        for widget_id, (seen_run, fragment) in list(self.widget_seen.items()):
            if stale(seen_run, fragment):
                del self.widget_seen[widget_id]
                self.widgets.pop(widget_id, None)
                self.widget_kinds.pop(widget_id, None)
                for label, button in list(self.buttons.items()):
                    if button == widget_id:
                        del self.buttons[label]

    def _auto_rerun(self, fragment_id: str, interval: float) -> None:
        if not fragment_id:
            return
        if fragment_id in self._timers and self._timers[fragment_id][0] == interval:
            return
        self._stop_timers(fragment_id)

        async def every() -> None:  # setInterval: a fixed rate from now on
            loop = asyncio.get_running_loop()
            due = loop.time()
            while True:
                due += interval
                await asyncio.sleep(max(0.0, due - loop.time()))
                self.auto_reruns_sent += 1
                await self.rerun(fragment_id, auto=True)

        self._timers[fragment_id] = (interval, asyncio.create_task(every()))

    def _stop_timers(self, fragment_id: str | None = None) -> None:
        for key in [fragment_id] if fragment_id else list(self._timers):
            entry = self._timers.pop(key, None)
            if entry is not None:
                entry[1].cancel()


def _get(url: str) -> None:
    with urllib.request.urlopen(url, timeout=CONNECT_TIMEOUT_S) as response:
        response.read()


class LearnerClass:
    """Protocol learners on one asyncio loop in a thread of this process; every method blocks
    until its work on the loop is done. With `cpus` (and `niceness`), that thread is
    confined to those cores at that niceness (bench.load --yield)."""

    def __init__(self, cpus: set[int] | None = None, niceness: int = 0) -> None:
        self.loop = asyncio.new_event_loop()
        self.learners: list[LearnerSession] = []
        started = threading.Event()

        def serve() -> None:
            if cpus:
                os.sched_setaffinity(0, cpus)  # 0: this thread (Linux)
            if niceness:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
            asyncio.set_event_loop(self.loop)
            self.loop.call_soon(started.set)
            self.loop.run_forever()

        self.thread = threading.Thread(target=serve, name="ws-learners", daemon=True)
        self.thread.start()
        started.wait()

    def _call(self, coro, timeout: float | None = None):
        future: Future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout)

    def open(self, urls: Sequence[str], timeout: float = 300.0) -> list[LearnerSession]:
        """A session per URL, all connecting at once; returns once every page is ready."""
        new = [LearnerSession(url) for url in urls]

        async def opening() -> None:
            await asyncio.gather(*(learner.open() for learner in new))

        self.learners += new
        self._call(asyncio.wait_for(opening(), timeout))
        return new

    def press_together(self, learners: Sequence[LearnerSession], label: str = "Train",
                       lead_s: float = 1.0) -> float:
        """Every learner presses `label` at one moment, `lead_s` from now (epoch seconds)."""
        missing = [learner.url for learner in learners if label not in learner.buttons]
        if missing:
            raise RuntimeError(f"no {label} button on {missing}")
        at = time.time() + lead_s

        async def pressing() -> None:
            await asyncio.sleep(max(0.0, at - time.time()))
            for learner in learners:
                await learner.click(label)

        self._call(pressing())
        return at

    def close(self, learners: Iterable[LearnerSession] | None = None) -> None:
        """Close these learners' websockets (all of them by default)."""
        closing = list(self.learners if learners is None else learners)

        async def closing_all() -> None:
            await asyncio.gather(*(learner.close() for learner in closing),
                                 return_exceptions=True)

        self._call(closing_all(), timeout=60)
        self.learners = [lr for lr in self.learners if lr not in closing]

    def shutdown(self) -> None:
        """Close every learner and end the loop's thread."""
        with contextlib.suppress(Exception):
            self.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    def __enter__(self) -> LearnerClass:
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
