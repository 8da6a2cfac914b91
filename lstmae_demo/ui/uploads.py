"""Files a learner brings: a CSV series (the sidebar's Data) and a saved model (.safetensors).

Each upload is read by the core (data.read_upload, weights.read_file) in the uploader's
callback, before the page draws. A file that is refused changes nothing: the settings, the
previous file and the current run stay as they were, and one message says what is wrong and
what is allowed (shown as text: it may quote the file). Either way the uploader is emptied
(a new widget key), so the same file can be chosen again after a fix.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from ..config import AppConfig
from ..data import UPLOAD_MAX_BYTES, DataError
from ..data.upload import accept_upload, allowed
from ..settings import KNOB, MODEL_FIELDS, knobs_for, recorded_values
from ..weights import (
    SUFFIX,
    WeightsError,
    WeightsFile,
    build_loaded,
    read_file,
    spec_differences,
)
from .sidebar import choose, current
from .training import adopt_loaded, current_run, job_spec, start_run

CSV_KEY = "_csv_uploader"  # the CSV uploader's key number (a new number empties it)
CSV_REFUSED_KEY = "_csv_refused"  # (file name, why) of the last CSV refused
WEIGHTS_KEY = "_weights_uploader"
WEIGHTS_REFUSED_KEY = "_weights_refused"  # (file name, why) of the last weights file refused
LOADED_KEY = "_weights_loaded"  # the WeightsFile loaded last (to continue training it)
LOADED_NOTE_KEY = "_weights_loaded_note"  # what loading it changed in the sidebar (text)
JUST_LOADED_KEY = "_weights_just_loaded"  # set by a load, popped by a page that reacts to it
CSV_UPLOAD_MB = max(1, UPLOAD_MAX_BYTES // 2**20)  # the browser's limit; the core checks too
# The largest weights file the app writes (hidden_n at T = 200, F = 8, U = 256) is ~15.9 MB;
# .streamlit/config.toml's server.maxUploadSize is this, the server's limit for any upload.
WEIGHTS_UPLOAD_MB = 16


def _widget_key(counter: str, prefix: str) -> str:
    return f"{prefix}_{st.session_state.get(counter, 0)}"


def _renew(counter: str) -> None:
    """Empty an uploader: the next draw gives it a new key."""
    st.session_state[counter] = st.session_state.get(counter, 0) + 1


# --- a CSV series -----------------------------------------------------------------------------


def _csv_chosen(key: str) -> None:
    """The CSV uploader's callback: use the file if the core reads it, else say why."""
    uploaded = st.session_state.get(key)
    _renew(CSV_KEY)
    if uploaded is None:  # the learner removed it from the widget: nothing to do
        return
    config = current()
    try:
        file = accept_upload(uploaded.getvalue(), uploaded.name,
                             seq_len=config.values["seq_len"], stride=config.values["stride"])
    except DataError as err:
        st.session_state[CSV_REFUSED_KEY] = (uploaded.name, str(err))
        return
    st.session_state.pop(CSV_REFUSED_KEY, None)
    choose(upload=file, data="csv")


def csv_upload(box, config: AppConfig) -> None:
    """The CSV uploader under the sidebar's Data choice, the file in use, a refusal."""
    key = _widget_key(CSV_KEY, "csv_file")
    box.file_uploader("Your CSV file", key=key, on_change=_csv_chosen, args=(key,),
                      max_upload_size=CSV_UPLOAD_MB,
                      help="Columns of numbers are the features; rows are time steps. The "
                           "series is cut into windows of T rows every stride rows. Using a "
                           "file chooses 'your CSV file' above.")
    if refused := st.session_state.pop(CSV_REFUSED_KEY, None):
        name, why = refused
        with box.container(border=True):
            st.error("That file was not used; your settings are unchanged.")
            st.text(f"{name}: {why}")  # quotes the file: text, never Markdown
            st.caption(f"Allowed: {allowed(current().values['seq_len'])}.")
    if config.upload is not None:
        box.caption("In use when 'your CSV file' is chosen:")
        box.text(f"{config.upload.name} ({config.upload.n_rows:,} rows; "
                 f"{', '.join(config.upload.columns)})")
    box.caption("A file cannot travel in a link: who opens your link must upload it too.")


# --- a saved model ----------------------------------------------------------------------------


def _weights_chosen(key: str) -> None:
    """The weights uploader's callback: load the model as this page's run, or say why not."""
    uploaded = st.session_state.get(key)
    _renew(WEIGHTS_KEY)
    if uploaded is None:
        return
    try:
        file, loaded = read_file(uploaded.getvalue(), uploaded.name,
                                 max_bytes=WEIGHTS_UPLOAD_MB * 2**20)
        config = current()
        # The file's data and training settings, then its model (ModelSpec.from_dict held the
        # model to the knobs' limits, the server's).
        recorded, kept = recorded_values(loaded.metadata["data"], loaded.metadata["training"])
        values = (config.values | recorded
                  | {name: getattr(loaded.spec, name) for name in MODEL_FIELDS})
        candidate = dataclasses.replace(config, values=values)
        try:
            data = candidate.data
            fits = (data.seq_len, data.n_features) == (loaded.spec.seq_len,
                                                       loaded.spec.n_features)
        except DataError:
            fits = False
        if not fits:  # the model reads other data than the sidebar's: sines of its shape
            values["data"] = "sine"
        losses = loaded.metadata["losses"]
        epochs = max(1, len(losses.get("train", [])))
        candidate = dataclasses.replace(config, values=values)
        job = dataclasses.replace(job_spec(candidate),
                                  train=dataclasses.replace(candidate.train, epochs=epochs))
    except (WeightsError, DataError, ValueError) as err:
        st.session_state[WEIGHTS_REFUSED_KEY] = (uploaded.name, str(err))
        return
    st.session_state.pop(WEIGHTS_REFUSED_KEY, None)
    changed = [d.replace("current", "before") for d in spec_differences(loaded.spec,
                                                                        config.spec)]
    if not fits:
        changed.append(f"data: sine waves of the file's shape (T = {loaded.spec.seq_len}, "
                       f"F = {loaded.spec.n_features}), before {config.values['data']}")
    changed += [f"{k.name}: file {KNOB[k.name].label_of(str(values[k.name]))}, before "
                f"{KNOB[k.name].label_of(str(config.values[k.name]))}"
                for k in knobs_for("data") + knobs_for("training")
                if values[k.name] != config.values[k.name] and (k.name != "data" or fits)]
    changed += kept
    st.session_state[LOADED_NOTE_KEY] = (
        f"Loaded {uploaded.name}. The sidebar now shows the file's model and, where the "
        "file records them, how it was trained"
        + (": " + "; ".join(changed) + "." if changed else " (it was the sidebar's already)."))
    choose(**values)
    adopt_loaded(current(), job, build_loaded(loaded), losses, uploaded.name)
    st.session_state[LOADED_KEY] = file
    st.session_state[JUST_LOADED_KEY] = True


def just_loaded() -> bool:
    """Whether a model was loaded since the last call (a page's cue to show it)."""
    return bool(st.session_state.pop(JUST_LOADED_KEY, False))


def weights_notes() -> None:
    """What the last weights upload did (once) or why it was refused, at the top of the page
    that offered it."""
    if note := st.session_state.pop(LOADED_NOTE_KEY, None):
        st.info("A saved model was loaded.")
        st.text(note)  # quotes the file's name: text, never Markdown
    if refused := st.session_state.pop(WEIGHTS_REFUSED_KEY, None):
        name, why = refused
        with st.container(border=True):
            st.error("That model was not loaded; the current model and settings are kept.")
            st.text(f"{name}: {why}")  # quotes the file: text, never Markdown
            st.caption(f"Allowed: a {SUFFIX} file saved by this app (the Weights download "
                       f"below a finished run, or the command line's --save), at most "
                       f"{WEIGHTS_UPLOAD_MB} MB, of a model within this server's limits.")


def _continue_file(config: AppConfig) -> WeightsFile | None:
    """The loaded file, if the sidebar's model is still the file's model."""
    file = st.session_state.get(LOADED_KEY)
    run = current_run()
    if file is None or run is None or run.spec != config.spec:
        return None
    return file


def weights_upload(config: AppConfig, can_train: bool = True, offer_continue: bool = True
                   ) -> None:
    """Load a saved model to inspect it or continue training it."""
    file = _continue_file(config)
    with st.expander(f"Load a saved model ({SUFFIX})", expanded=file is not None):
        st.caption(f"A {SUFFIX} file saved by this app (the Weights download of a finished "
                   "run, or `python -m lstmae_demo train --save FILE`) holds the weights, the "
                   "model's settings and its losses; reading it runs no code. Loading one sets "
                   "the sidebar's model to the file's and makes it this page's trained model "
                   "(Time steps shows it). Continuing trains it further on the sidebar's data "
                   "and settings.")
        key = _widget_key(WEIGHTS_KEY, "weights_file")
        st.file_uploader(f"A {SUFFIX} file", key=key, on_change=_weights_chosen, args=(key,),
                         max_upload_size=WEIGHTS_UPLOAD_MB)
        if file is not None:
            st.text(f"Loaded: {file.name}")  # the file's name: text, never Markdown
            if offer_continue:
                st.button("Continue training this model", key="continue_button",
                          disabled=not can_train, on_click=start_run, args=(config,),
                          kwargs={"init": file})
