"""An uploaded CSV file as a run's data (lstmae_demo.data.upload) and the data choice the app
builds from the knobs (AppConfig.data): every file of the bad-file corpus (tests/data/bad_csv,
written by its make_bad_csv.py) gets its own message, the windows and their z-scoring agree
with a direct NumPy computation, and a config holding a file travels by value."""

from __future__ import annotations

import csv
import dataclasses
import io
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

from lstmae_demo.config import AppConfig, fit_to_data, training_budget
from lstmae_demo.data import (
    BUNDLED,
    SOURCES,
    UPLOADED,
    BundledConfig,
    CsvConfig,
    DataError,
    SineConfig,
    load,
    read_upload,
    settings_of,
    train_windows,
)
from lstmae_demo.data.upload import UPLOAD_MAX_BYTES, accept_upload, allowed, min_rows
from lstmae_demo.settings import KNOB, KNOBS, defaults

CORPUS = Path(__file__).resolve().parents[1] / "data" / "bad_csv"
sys.path.insert(0, str(CORPUS))
import make_bad_csv  # noqa: E402

T = make_bad_csv.T
# Every corpus file (and the two built by make_bad_csv.large()) and the words its refusal
# must contain, at T = 50 and the default stride.
EXPECTED = {
    "empty.csv": "the file is empty",
    "blank_lines.csv": "the file is empty",
    "header_only.csv": "the file has a header row but no data rows",
    "binary.png": "does not look like a text CSV file (it contains NUL bytes)",
    "latin1.csv": "does not look like a text CSV file (byte 5 is not UTF-8 text)",
    "text_only.csv": "no column holds numbers: row 2, the first data row, is all text",
    "nan_value.csv": "row 22, column 1 (\"a\"): 'nan' is not a finite number (no NaN or "
                     "infinity)",
    "inf_value.csv": "row 7, column 2 (\"b\"): 'inf' is not a finite number",
    "bad_cell.csv": "row 12, column 2 (\"temp\"): 'warm' is not a number",
    "decimal_comma.csv": "'1,5' is not a number (use a dot as the decimal separator)",
    "ragged.csv": "row 5 has 3 values, expected 2 (like row 1)",
    "too_short.csv": "too short for T = 50: it has 60 rows",
    "too_many_columns.csv": "the file has 17 columns; at most 16 are allowed",
    "constant_column.csv": "column 'b' does not change in the training rows",
    "too_many_rows.csv": "more than 100000 data rows; at most 100000 are allowed",
    "too_large.csv": f"the file is too large: {UPLOAD_MAX_BYTES + 1:,} bytes; the limit is "
                     f"{UPLOAD_MAX_BYTES:,} bytes (1 MB)",
}


def corpus_file(name: str) -> bytes:
    large = make_bad_csv.large()
    return large[name] if name in large else (CORPUS / name).read_bytes()


def good() -> bytes:
    return (CORPUS / "good.csv").read_bytes()


def test_the_corpus_is_what_its_script_writes_and_the_test_expects():
    kept = {p.name for p in CORPUS.iterdir() if p.suffix != ".py" and p.name != "__pycache__"}
    assert kept == set(make_bad_csv.corpus())
    assert kept | set(make_bad_csv.large()) == set(EXPECTED) | {"good.csv"}
    for name, content in make_bad_csv.corpus().items():
        assert (CORPUS / name).read_bytes() == content, name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_bad_file_gets_its_message(name):
    with pytest.raises(DataError) as caught:
        accept_upload(corpus_file(name), name, seq_len=T)
    assert EXPECTED[name] in str(caught.value)


def read_numbers(raw: bytes) -> np.ndarray:
    """The good file's numeric columns, read with the csv module (not the app's parser)."""
    rows = list(csv.reader(io.StringIO(raw.decode())))[1:]
    return np.array([[float(v) for v in row[1:]] for row in rows])  # (n_rows, 2)


@pytest.mark.parametrize(("seq_len", "stride"), [(50, None), (50, 7), (10, 1), (37, 100)])
def test_windows_are_z_scored_with_the_training_rows(seq_len, stride):
    file = accept_upload(good(), "good.csv", seq_len=seq_len, stride=stride)
    assert (file.columns, file.skipped, file.n_rows) == (("a", "b"), ("time",), 300)
    cfg = CsvConfig(file, seq_len=seq_len, stride=stride)
    data = load(cfg)
    values = read_numbers(good())
    cut = 240  # the first 80% of 300 rows
    mean, std = values[:cut].mean(axis=0), values[:cut].std(axis=0)
    np.testing.assert_allclose(data.mean, mean)
    np.testing.assert_allclose(data.std, std)
    step = stride or seq_len // 2
    starts = list(range(0, cut - seq_len + 1, step))
    val_starts = [cut + s for s in range(0, 300 - cut - seq_len + 1, step)]
    assert data.train.shape == (len(starts), seq_len, 2)
    assert data.val.shape == (len(val_starts), seq_len, 2)
    assert list(data.train_starts) == starts and list(data.val_starts) == val_starts
    for window, start in zip(data.train, starts, strict=True):
        np.testing.assert_allclose(window, (values[start:start + seq_len] - mean) / std,
                                   rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(data.unscale(data.val[-1]),
                               values[val_starts[-1]:val_starts[-1] + seq_len], atol=1e-4)
    assert train_windows(cfg) == len(data.train)


def test_a_config_holding_a_file_compares_by_its_hash_and_travels_by_value():
    a = read_upload(good(), "good.csv")
    b = read_upload(good(), "another name.csv")
    assert a == b and hash(a) == hash(b)  # the bytes decide, not the name
    other = read_upload(good() + b"2026-01-02T00:00,0.5,0.5\n", "good.csv")
    assert other != a
    cfg = CsvConfig(a, seq_len=20, stride=5)
    again = pickle.loads(pickle.dumps(cfg))  # what another process or machine receives
    assert again == cfg
    np.testing.assert_array_equal(load(again).train, load(cfg).train)
    tampered = CsvConfig(dataclasses.replace(a, raw=good().replace(b"0.", b"1.")), seq_len=20)
    with pytest.raises(DataError, match="do not match their SHA-256"):
        load(tampered)


@pytest.mark.parametrize("seq_len", [2, 3, 7, 8, 50, 63])
def test_min_rows_is_what_the_check_accepts_and_one_row_less_is_too_short(seq_len):
    def rows(n: int) -> bytes:
        return ("t,x\n" + "".join(f"t{i},{i % 5}\n" for i in range(n))).encode()

    accept_upload(rows(min_rows(seq_len)), "enough.csv", seq_len=seq_len)
    with pytest.raises(DataError, match=f"too short for T = {seq_len}.*at least "
                                        f"{min_rows(seq_len)} rows"):
        accept_upload(rows(min_rows(seq_len) - 1), "short.csv", seq_len=seq_len)
    assert f"at least {min_rows(seq_len)} rows at T = {seq_len}" in allowed(seq_len)


def test_the_data_knob_offers_every_source_and_sine_knobs_say_so():
    assert KNOB["data"].choices == (*SOURCES, UPLOADED)
    assert set(BUNDLED) <= set(KNOB["data"].choices)
    sine_only = {k.name for k in KNOBS if k.sources == ("sine",)}
    assert sine_only == {"n_series", "freq_min", "freq_max", "noise"}
    assert not KNOB["stride"].applies_to_data("sine") and KNOB["stride"].applies_to_data("csv")
    assert KNOB["seed"].applies_to_data("nab_jumpsup")  # the model's initial weights


def test_app_config_data_follows_the_data_knob():
    values = defaults() | {"seq_len": 40, "stride": 10}
    assert AppConfig(values).data == AppConfig(values).sine
    nab = AppConfig(values | {"data": "nab_jumpsup"}).data
    assert nab == BundledConfig(name="nab_jumpsup", seq_len=40, stride=10)
    with pytest.raises(DataError, match="no CSV file has been uploaded"):
        _ = AppConfig(values | {"data": "csv"}).data
    file = read_upload(good(), "good.csv")
    uploaded = AppConfig(values | {"data": "csv"}, upload=file).data
    assert uploaded == CsvConfig(file, seq_len=40, stride=10)
    assert settings_of(uploaded) | {"file": None} == {
        "source": "csv", "file": None, "sha256": file.sha256, "rows": 300,
        "columns": ["a", "b"], "skipped": ["time"], "seq_len": 40, "stride": 10,
        "val_share": 0.2}
    for source in ("sine", "nab_jumpsup"):  # the windows count without making the windows
        config = AppConfig(values | {"data": source})
        assert config.train_windows() == len(load(config.data).train)


def test_features_follow_the_chosen_data_where_the_architecture_allows():
    file = read_upload(good(), "good.csv")
    values, notes = fit_to_data(defaults() | {"data": "csv", "n_features": 1}, file)
    assert values["n_features"] == 2 and "2 columns of numbers (a, b)" in notes[0]
    values, notes = fit_to_data(defaults() | {"data": "nab_jumpsup", "n_features": 3}, None)
    assert values["n_features"] == 1 and "one value per time step" in notes[0]
    values, notes = fit_to_data(defaults() | {"arch": "embedding", "data": "csv"}, file)
    assert values["n_features"] == 1 and not notes  # embedding reads one token id a step
    assert fit_to_data(defaults(), file) == (defaults(), [])  # sine: F is the learner's


def test_the_budget_counts_the_windows_the_data_gives():
    params = 10_000
    config = AppConfig(defaults() | {"data": "nab_jumpsup", "stride": 1, "epochs": 300,
                                     "seq_len": 200})
    n = config.train_windows()
    assert n == len(load(config.data).train)
    message = training_budget(config, params * 100)
    work = n * 300 * 200 * params * 100
    assert message is not None and f"{n} windows" in message and f"{work:.2g}" in message
    assert "a larger stride" in message
    assert training_budget(dataclasses.replace(config, values=config.values | {
        "stride": 200}), params) is None


def test_sine_data_is_unchanged_by_the_new_knobs():
    config = AppConfig(defaults() | {"stride": 3})
    assert config.data == SineConfig(n_val=128)  # the app's data set as before
