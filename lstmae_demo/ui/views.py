"""Reusable page sections: each reads plain core objects and draws them with streamlit."""

from __future__ import annotations

import streamlit as st

from .. import codegen, pitfalls
from ..archs import get_arch
from ..config import AppConfig
from ..plots import architecture_figure, bottleneck_figure
from ..settings import ARCHS, MODEL_FIELDS
from ..shapes.explain import bottleneck_sentence, verdict
from ..shapes.trace import Trace, trace
from ..spec import ModelSpec, normalised
from .sidebar import choose, current


def _shape(shape) -> str:
    return "(" + ", ".join("None" if n is None else str(n) for n in shape) + ")"


def spec_for(config: AppConfig, arch: str) -> ModelSpec:
    """The sidebar's settings applied to another architecture (knobs it ignores at default)."""
    return normalised(ModelSpec(**{k: config.values[k] for k in MODEL_FIELDS} | {"arch": arch}))


def _open_architecture(arch: str) -> None:
    choose(arch=arch)  # a callback: runs before the sidebar draws its widgets


def architecture_overview(config: AppConfig) -> None:
    """One card per architecture: is it valid, where is the bottleneck, how big is it."""
    columns = st.columns(2)
    for i, arch in enumerate(ARCHS):
        tr = trace(spec_for(config, arch), config.batch)
        with columns[i % 2].container(border=True):
            st.markdown(f"#### `{arch}` — {get_arch(arch).title}")
            left, right = st.columns(2)
            left.metric("numbers in the code", tr.latent_per_example,
                        help=f"latent shape {_shape(tr.latent_shape)} for a batch of "
                             f"{tr.batch}")
            right.metric("numbers in the input", tr.input_per_example)
            st.markdown(verdict(tr))
            st.caption(f"Parameters: {tr.params_torch:,} in PyTorch, {tr.params_keras:,} in "
                       f"Keras. Source: {get_arch(arch).source}.")
            if st.button(f"Open {arch} layer by layer", key=f"open_{arch}",
                         on_click=_open_architecture, args=(arch,)):
                st.switch_page("pages/architecture/page.py",
                               query_params=current().to_params())


def layer_table(tr: Trace) -> None:
    """The tracer's records as a table, one row per layer, then what each does to the shape."""
    rows = []
    for rec in tr.layers:
        state = "" if rec.h_n is None else f"h_n {_shape(rec.h_n)}, c_n {_shape(rec.c_n)}"
        rows.append({
            "layer": rec.name + ("  ← code" if rec.name == tr.latent else ""),
            "output shape": _shape(rec.output_shape),
            "axes": "(" + ", ".join(rec.axes) + ")",
            "tensor": "sequence" if rec.is_sequence else "per example",
            "Keras": rec.keras,
            "Keras shape": _shape(rec.keras_shape),
            "params (Keras)": rec.params_keras,
            "PyTorch": rec.torch,
            "params (PyTorch)": rec.params_torch,
            "LSTM state": state,
        })
    st.dataframe(rows, hide_index=True, width="stretch")
    previous = None
    lines = []
    for rec in tr.layers:
        arrow = f"{_shape(previous)} → " if previous is not None else ""
        lines.append(f"- **{rec.name}** {arrow}{_shape(rec.output_shape)}: {rec.what}")
        previous = rec.output_shape
    st.markdown("\n".join(lines))


def summary_metrics(tr: Trace) -> None:
    """Four headline numbers for the chosen model."""
    a, b, c, d = st.columns(4)
    a.metric("input per example", f"{tr.input_per_example}", help=_shape(tr.input_shape))
    b.metric("code per example", f"{tr.latent_per_example}",
             help=f"latent shape {_shape(tr.latent_shape)}")
    c.metric("parameters (PyTorch)", f"{tr.params_torch:,}")
    d.metric("parameters (Keras)", f"{tr.params_keras:,}",
             delta=f"{tr.params_keras - tr.params_torch:,}", delta_color="off")


def diagram(tr: Trace) -> None:
    """The left-to-right architecture diagram."""
    st.plotly_chart(architecture_figure(tr), width="stretch", key="arch_diagram",
                    config={"displayModeBar": False})
    st.caption("Blue decks: sequences (batch, seq, ...), one slice per time step. Red bars: "
               "one vector (or state) per example. The thick arrow leaves the code.")


def bottleneck_meter(tr: Trace) -> None:
    """How many numbers per example each layer passes on, against the input."""
    if tr.has_bottleneck:
        st.success(bottleneck_sentence(tr))
    else:
        st.warning(bottleneck_sentence(tr))
    st.plotly_chart(bottleneck_figure(tr), width="stretch", key="bottleneck_meter",
                    config={"displayModeBar": False})


def code_tabs(spec: ModelSpec) -> None:
    """Copyable PyTorch and Keras source of exactly this model."""
    torch_tab, keras_tab = st.tabs(["PyTorch", "Keras 3"])
    with torch_tab:
        st.code(codegen.pytorch_source(spec), language="python", height=480)
    with keras_tab:
        st.code(codegen.keras_source(spec), language="python", height=480)


@st.cache_data(show_spinner=False, max_entries=64)
def _pitfall(key: str) -> pitfalls.PitfallResult:
    return pitfalls.run_pitfall(key)


def pitfall_section(arch: str) -> None:
    """Each pitfall of this reference, run for real: the framework's error, why, the fix."""
    for i, key in enumerate(get_arch(arch).pitfalls):
        result = _pitfall(key)
        with st.expander(result.title, expanded=i == 0):
            st.code(result.code, language="python")
            if result.outcome == "error":
                st.error(result.message)
            else:
                st.warning(result.message)
            st.markdown(result.explanation)
            st.markdown("**The fix**")
            st.code(result.fix_code, language="python")
            st.success(result.fix_result)
