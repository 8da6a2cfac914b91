"""Reusable page sections: each reads plain core objects and draws them with streamlit."""

from __future__ import annotations

import streamlit as st

from .. import chart_text, codegen, pitfalls
from ..archs import get_arch
from ..config import AppConfig
from ..data import BUNDLED, BundledData, CsvData, DataError, Dataset, SineData
from ..plots import architecture_figure, bottleneck_figure
from ..settings import ARCHS, KNOBS, MODEL_FIELDS
from ..shapes.explain import bottleneck_sentence, verdict
from ..shapes.trace import Trace, trace
from ..spec import ModelSpec, SpecError, normalised
from .cache import dataset
from .charts import chart
from .layout import presenting
from .sidebar import choose, current


def _shape(shape) -> str:
    return "(" + ", ".join("None" if n is None else str(n) for n in shape) + ")"


def spec_for(config: AppConfig, arch: str) -> ModelSpec:
    """The sidebar's settings applied to another architecture (knobs it ignores at default)."""
    return normalised(ModelSpec(**{k: config.values[k] for k in MODEL_FIELDS} | {"arch": arch}))


def _open_architecture(arch: str) -> None:
    choose(arch=arch)  # a callback: runs before the sidebar draws its widgets


def choice_line(spec: ModelSpec) -> str:
    """The architecture's own choices in words, e.g. "what the decoder reads: attention over
    every output" (empty for an architecture without any)."""
    parts = []
    for knob in KNOBS:
        if knob.group == "model" and knob.choices and knob.name not in ("arch", "activation") \
                and knob.applies_to(spec.arch):
            parts.append(f"{knob.label.lower()}: {knob.label_of(getattr(spec, knob.name))}")
    return "; ".join(parts)


def _card(config: AppConfig, arch: str) -> None:
    """One architecture at the sidebar's settings: valid or not, the code, its size."""
    entry = get_arch(arch)
    st.subheader(f"`{arch}` — {entry.title}", anchor=False)
    spec = spec_for(config, arch)
    try:
        tr = trace(spec, config.batch)
    except SpecError as err:  # e.g. encdec_ad needs T >= 2: say so instead of a traceback
        st.warning(f"Not possible at the sidebar's settings (T = {spec.seq_len}):")
        st.text(str(err))
        st.caption(f"Source: {entry.source}. Opening it raises the settings to what it needs.")
        _open_button(arch)
        return
    if choices := choice_line(spec):
        st.caption(choices[0].upper() + choices[1:] + " (change it in the sidebar).")
    left, right = st.columns(2)
    left.metric("numbers in the code", tr.latent_per_example,
                help=f"latent shape {_shape(tr.latent_shape)} for a batch of {tr.batch}")
    right.metric("numbers in the input", tr.input_per_example)
    st.markdown(verdict(tr))
    st.caption(f"Parameters: {tr.params_torch:,} in PyTorch, {tr.params_keras:,} in Keras. "
               f"Source: [{entry.source}]({entry.source_url}).")
    _open_button(arch)


def _open_button(arch: str) -> None:
    if st.button(f"Open {arch} layer by layer", key=f"open_{arch}",
                 on_click=_open_architecture, args=(arch,)):
        st.switch_page("pages/architecture/page.py", query_params=current().to_params())


def architecture_overview(config: AppConfig) -> None:
    """One card per architecture: is it valid, where is the bottleneck, how big is it."""
    st.header("Each architecture at the sidebar's settings", anchor=False)
    columns = st.columns(2)
    for i, arch in enumerate(ARCHS):
        with columns[i % 2].container(border=True):
            _card(config, arch)


CHAR_PX = 7.4  # a character of the grid's 14 px font, a little on the wide side
CELL_PADDING_PX = 24
STATE_COLUMN_MIN_PX = 100  # its header


def layer_table(tr: Trace) -> None:
    """The tracer's records as a table, one row per layer, then what each does to the shape."""
    rows, code = [], []
    for rec in tr.layers:
        state = "" if rec.h_n is None else f"h_n {_shape(rec.h_n)}, c_n {_shape(rec.c_n)}"
        name = rec.name + ("  ← code" if rec.name == tr.latent else "")
        rows.append({
            "layer": name,
            "output shape": _shape(rec.output_shape),
            "axes": "(" + ", ".join(rec.axes) + ")",
            "tensor": "sequence" if rec.is_sequence else "per example",
            "params (PyTorch)": rec.params_torch,
            "LSTM state": state,
        })
        # The tracer's own code strings (no backticks in them), as code that wraps.
        code.append({"layer": name, "Keras": f"`{rec.keras}`", "PyTorch": f"`{rec.torch}`"})
    # The shapes fit a desktop's width; on a narrower screen the table scrolls sideways with
    # the layer's name pinned, so what moved is clear. The code lines are long: a table of
    # their own whose cells wrap, so every column is on screen at every width.
    # The grid sizes a column by its header and first rows, which cut the LSTM state off
    # (issue #13): that column gets the width of its longest entry.
    longest = max(len(row["LSTM state"]) for row in rows)
    st.dataframe(rows, hide_index=True, width="stretch", column_config={
        "layer": st.column_config.TextColumn(pinned=True),
        "LSTM state": st.column_config.TextColumn(
            width=max(STATE_COLUMN_MIN_PX, round(CHAR_PX * longest) + CELL_PADDING_PX))})
    with st.container(key="layer_code"):  # its cells wrap (lstmae_demo/ui/layout.py)
        st.table(code, border="horizontal")
    previous = None
    lines = []
    for rec in tr.layers:
        arrow = f"{_shape(previous)} → " if previous is not None else ""
        lines.append(f"- **{rec.name}** {arrow}{_shape(rec.output_shape)}: {rec.what}")
        previous = rec.output_shape
    st.markdown("\n".join(lines))


def keras_summary(tr: Trace) -> None:
    """The exported Keras model's layers as Keras's own model.summary() prints them."""
    names = {rec.key: rec.name for rec in tr.layers}
    rows = [{
        "Layer (type)": f"{row.name} ({row.kind})",
        "Output Shape": row.output_shape,
        "Param #": f"{row.params:,}",
        "in the table above": names.get(row.key, row.key) if row.key else f"— {row.note}",
    } for row in codegen.keras_rows(tr.spec)]
    wide = st.column_config.TextColumn(width="large")
    st.dataframe(rows, hide_index=True, width="stretch",
                 column_config={"Output Shape": wide, "in the table above": wide})
    total = sum(row.params for row in codegen.keras_rows(tr.spec))
    st.caption(f"Total params: {total:,}. Keras lists a functional "
               "model's layers its own way and needs a few steps of its own (no parameters) "
               "that PyTorch does inline; the last column says which row of the table above "
               "each one is.")


def summary_metrics(tr: Trace) -> None:
    """Four headline numbers for the chosen model."""
    a, b, c, d = st.columns(4)
    a.metric("input per example", f"{tr.input_per_example}", help=_shape(tr.input_shape))
    b.metric("code per example", f"{tr.latent_per_example}",
             help=f"latent shape {_shape(tr.latent_shape)}")
    c.metric("parameters (PyTorch)", f"{tr.params_torch:,}")
    d.metric("parameters (Keras)", f"{tr.params_keras:,}",
             delta=f"{tr.params_keras - tr.params_torch:,}", delta_color="off")


# The diagram's labels under neighbouring arrows stay apart when the arrows are this far apart
# (the widest, "batch, seq, features" at 13 px, is ~106 px); a bracket's sentence (EncDec-AD's
# input, below its boxes) needs the whole diagram this wide.
DIAGRAM_LABEL_PX = 116
DIAGRAM_MIN_PX = 760
PRESENT_TEXT_SCALE = 1.15  # the diagram's labels in the presentation view (a projector)


def diagram_width(tr: Trace, scale: float = 1.0) -> int:
    """The narrowest the diagram can be drawn with its labels apart, in px: its arrows are
    one box-gap apart, with 0.75 of a gap of padding and 20 px of margin in all
    (plots.architecture_figure)."""
    arrows = len(tr.layers) - 1 + 0.75
    return round(scale * max(DIAGRAM_MIN_PX, 20 + DIAGRAM_LABEL_PX * arrows))


def diagram(tr: Trace) -> None:
    """The left-to-right architecture diagram."""
    # Narrower than its width, its labels would run into each other: the box scrolls
    # sideways (lstmae_demo/ui/layout.py), and says so only when it is that narrow (a
    # container query on the box's own width).
    scale = PRESENT_TEXT_SCALE if presenting() else 1.0
    room = diagram_width(tr, scale)
    st.html(f"<style>.st-key-diagram_box {{ --diagram-min: {room}px; }} "
            f"@container diagram (max-width: {room - 1}px) {{ "
            "[data-testid=stLayoutWrapper]:has(> .st-key-diagram_scroll_hint) "
            "{ display: flex; } }</style>")
    with st.container(key="diagram_box"):
        with st.container(key="diagram_scroll_hint"):
            # The link is also what a keyboard reaches inside this scrolling box: focused,
            # the arrow keys scroll the diagram.
            st.caption("The diagram is wider than this space: scroll or swipe it sideways, "
                       "or read the same layers in the [layer table](#layer-by-layer) below.")
        chart(architecture_figure(tr, text_scale=scale), chart_text.architecture_text(tr),
              key="arch_diagram", width="stretch", config={"displayModeBar": False})
    st.caption("Blue decks: sequences (batch, seq, ...), one slice per time step. Red bars: "
               "one vector (or state) per example. The thick arrow leaves the code.")


def bottleneck_meter(tr: Trace) -> None:
    """How many numbers per example each layer passes on, against the input."""
    if tr.has_bottleneck:
        st.success(bottleneck_sentence(tr))
    else:
        st.warning(bottleneck_sentence(tr))
    chart(bottleneck_figure(tr), chart_text.bottleneck_text(tr), key="bottleneck_meter",
          width="stretch", config={"displayModeBar": False})


def code_tabs(spec: ModelSpec) -> None:
    """Copyable PyTorch and Keras source of exactly this model."""
    torch_tab, keras_tab = st.tabs(["PyTorch", "Keras 3"])
    with torch_tab:
        st.code(codegen.pytorch_source(spec), language="python")
    with keras_tab:
        st.code(codegen.keras_source(spec), language="python")


@st.cache_data(show_spinner=False, max_entries=64)
def _pitfall(key: str) -> pitfalls.PitfallResult:
    return pitfalls.run_pitfall(key)


OUTCOMES = {"error": "It fails", "silent": "No error, but it is wrong",
            "diverged": "Training diverges"}


def message_heading(outcome: str, source: str) -> str:
    """What the box below shows and whose words they are, e.g. "It fails: PyTorch's own
    message, from running the code above just now"."""
    what = OUTCOMES.get(outcome, "What happens")
    if source.startswith("measured"):
        return f"{what}: measured by the app on this run (these are the app's words)"
    name, recorded = source.removesuffix(" (recorded)"), source.endswith("(recorded)")
    when = ("recorded from a real run of it when the app was built (Keras is not run here)"
            if recorded else "from running the code above just now")
    return f"{what}: {name}'s own message, {when}"


def pitfall_section(arch: str) -> None:
    """Each pitfall of this reference, run for real: the framework's error, why, the fix.

    Messages and results quote frameworks, so they are shown as plain text (st.code): as
    Markdown, `RNNBase.__init__()` would turn into a bold "init".
    """
    for i, key in enumerate(get_arch(arch).pitfalls):
        result = _pitfall(key)
        source = getattr(result, "message_source", "")
        with st.expander(result.title, expanded=i == 0):
            st.code(result.code, language="python")
            heading = message_heading(result.outcome, source)
            if result.outcome == "error":
                st.error(heading)
            else:
                st.warning(heading)
            st.code(result.message, language="text", wrap_lines=True)
            st.markdown(result.explanation)
            st.markdown("**The fix**")
            st.code(result.fix_code, language="python")
            st.success("What the fix gives" + (", as recorded" if "recorded" in source
                                               else ", run just now") + ":")
            st.code(result.fix_result, language="text", wrap_lines=True)


def data_or_stop(config: AppConfig) -> Dataset:
    """The data for these settings; if they allow none, say why and end the page."""
    try:
        data_cfg = config.data
        if (data_cfg.seq_len, data_cfg.n_features) != (config.spec.seq_len,
                                                        config.spec.n_features):
            raise DataError(
                f"the data has {data_cfg.n_features} value(s) per time step, the model reads "
                f"F = {config.spec.n_features}; set Features per step (F) to "
                f"{data_cfg.n_features} in the sidebar, or choose other data")
        return dataset(data_cfg)
    except DataError as err:
        what = {"sine": "No sine data can be made", "csv": "Your CSV file gives no data"}.get(
            config.source, f"{config.source} gives no data")
        st.warning(f"{what} at these settings (T = {config.spec.seq_len}), so there is nothing "
                   "to train on or to step through here. The Architecture page still shows "
                   "this model. The data's check says:")
        st.text(str(err))  # it may quote the file: text, never Markdown
        st.stop()


def data_sentence(config: AppConfig, data: Dataset) -> str:
    """What the model trains on, in words from the data itself (Markdown: numbers and our
    own words only; a file's name and columns are shown by `data_details`)."""
    T = config.spec.seq_len
    n_train, n_val = len(data.train), len(data.val)
    if config.source == "sine":
        sine = config.sine
        return (f"**{n_train} sine series** of {T} steps ({n_val} more for validation), "
                f"frequencies {sine.freq_min:g}–{sine.freq_max:g} cycles per window, noise "
                f"{sine.noise:g}")
    stride = config.data.stride
    if isinstance(data, BundledData):
        rows_train = round(len(data.normal.values) * (1 - config.data.val_share))
        what = (f"NAB's `{BUNDLED[config.source].normal_file}` ({len(data.normal.values):,} "
                "rows, a real recorded series without anomalies)")
    else:
        rows_train = config.data.split_rows()[0]
        what = (f"your CSV file ({config.upload.n_rows:,} rows, "
                f"{len(data.columns)} column{'s' if len(data.columns) > 1 else ''} of numbers)")
    more = f"{n_val} more window" + ("" if n_val == 1 else "s")
    return (f"**{n_train} windows** of {T} steps cut every {stride} rows from {what}: the "
            f"first {rows_train:,} rows train, the rest give {more} for validation; z-scored "
            "with the training rows' mean and standard deviation")


def data_details(config: AppConfig, data: Dataset) -> None:
    """The scaling statistics of a recorded series (and, for an upload, its name) as text."""
    if isinstance(data, SineData):
        return
    if isinstance(data, CsvData):
        f = config.upload
        st.caption("Your file (it stays in this session and in the runs you start; a link "
                   "carries the settings but never the file):")
        st.text(f"{f.name}: {f.n_rows:,} rows"
                + (f"; text columns left out: {', '.join(f.skipped)}" if f.skipped else ""))
        names = data.columns
    else:
        source = BUNDLED[config.source]
        st.caption(f"Source: [{source.source}]({source.source_url}), licence {source.licence}.")
        names = ("value",)
    rows = [{"column": name, "training mean": float(data.mean[i]),
             "training std": float(data.std[i])} for i, name in enumerate(names)]
    st.dataframe(rows, hide_index=True, width="content")
    st.caption("Every value is z-scored, (x − mean) / std, with these statistics of the "
               "training rows only, so the validation rows tell how the model does on data it "
               "did not see; plots show z-scored values.")
