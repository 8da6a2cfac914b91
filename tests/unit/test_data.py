"""Tests for lstmae_demo.data: the seeded sine generator, the CSV loader and the data sources."""

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstmae_demo.config import AppConfig
from lstmae_demo.data import (
    MAX_BYTES,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_VALUES,
    SOURCES,
    CsvSeries,
    DataError,
    SineConfig,
    SineData,
    load,
    load_csv,
    make_sine,
    source_name,
    validate_sine,
)
from lstmae_demo.settings import default

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def sine_formula(params: dict[str, np.ndarray], seq_len: int) -> np.ndarray:
    """Recompute noiseless series (N, T, F) from their parameters, independently of make_sine."""
    n, n_features = params["phase"].shape
    out = np.empty((n, seq_len, n_features))
    for i in range(n):
        for f in range(n_features):
            for t in range(seq_len):
                angle = 2 * math.pi * params["freq"][i] * t / seq_len + params["phase"][i, f]
                out[i, t, f] = params["amplitude"][i] * math.sin(angle)
    return out


def csv_text(rows, header=None, delimiter=",") -> str:
    """Write rows (and an optional header) as CSV text with full float precision."""
    lines = [] if header is None else [delimiter.join(header)]
    lines += [delimiter.join(repr(float(v)) for v in row) for row in rows]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Sine generator
# ---------------------------------------------------------------------------------------------


def test_default_config_shapes_and_dtypes():
    data = make_sine(SineConfig())
    assert isinstance(data, SineData)
    n, t, f = default("n_series"), default("seq_len"), default("n_features")
    assert data.train.shape == (n, t, f)
    assert data.val.shape == (n // 4, t, f)
    assert data.train.dtype == np.float32 and data.val.dtype == np.float32
    assert data.train.flags.c_contiguous


KNOB_FIELDS = ("n_series", "seq_len", "n_features", "freq_min", "freq_max", "noise", "seed")


def test_defaults_are_the_settings_tables_and_the_apps_data_set():
    cfg = SineConfig()
    assert {k: getattr(cfg, k) for k in KNOB_FIELDS} == {k: default(k) for k in KNOB_FIELDS}
    assert cfg == AppConfig.default().sine  # SineConfig() is the data the app trains on
    assert hash(cfg) == hash(AppConfig.default().sine)  # frozen: usable as a key


@pytest.mark.parametrize(
    ("n_series", "n_val", "seq_len", "n_features"), [(5, 3, 20, 3), (1, 0, 2, 1), (7, 1, 9, 16)]
)
def test_custom_shapes_and_params(n_series, n_val, seq_len, n_features):
    cfg = SineConfig(
        n_series=n_series, n_val=n_val, seq_len=seq_len, n_features=n_features,
        freq_min=0.5, freq_max=0.9,
    )
    data = make_sine(cfg)
    assert data.train.shape == (n_series, seq_len, n_features)
    assert data.val.shape == (n_val, seq_len, n_features)
    for params, n in ((data.train_params, n_series), (data.val_params, n_val)):
        assert set(params) == {"freq", "phase", "amplitude"}
        assert params["freq"].shape == (n,)
        assert params["phase"].shape == (n, n_features)
        assert params["amplitude"].shape == (n,)


def test_same_config_gives_bit_identical_data():
    cfg = SineConfig(n_series=20, n_val=5, n_features=2, noise=0.1, seed=7)
    a, b = make_sine(cfg), make_sine(cfg)
    assert a.train.tobytes() == b.train.tobytes()
    assert a.val.tobytes() == b.val.tobytes()
    for key in ("freq", "phase", "amplitude"):
        assert np.array_equal(a.train_params[key], b.train_params[key])
        assert np.array_equal(a.val_params[key], b.val_params[key])


def test_different_seed_gives_different_data():
    a = make_sine(SineConfig(n_series=20, n_val=5, seed=0))
    b = make_sine(SineConfig(n_series=20, n_val=5, seed=1))
    assert not np.array_equal(a.train, b.train)
    assert not np.array_equal(a.val, b.val)
    assert not np.array_equal(a.train_params["freq"], b.train_params["freq"])


def test_train_and_val_are_different_series():
    data = make_sine(SineConfig(n_series=10, n_val=10))
    assert not np.array_equal(data.train, data.val)


def test_changing_n_val_leaves_train_unchanged():
    small = make_sine(SineConfig(n_series=30, n_val=1, noise=0.2))
    large = make_sine(SineConfig(n_series=30, n_val=200, noise=0.2))
    assert np.array_equal(small.train, large.train)
    assert np.array_equal(small.train_params["phase"], large.train_params["phase"])


def test_changing_n_series_leaves_val_unchanged():
    small = make_sine(SineConfig(n_series=3, n_val=10, noise=0.2))
    large = make_sine(SineConfig(n_series=300, n_val=10, noise=0.2))
    assert np.array_equal(small.val, large.val)


def test_noiseless_values_follow_the_documented_formula():
    cfg = SineConfig(n_series=6, n_val=4, seq_len=30, n_features=3, amplitude=0.6, noise=0.0,
                     seed=3)
    data = make_sine(cfg)
    np.testing.assert_allclose(data.train, sine_formula(data.train_params, 30), atol=1e-6)
    np.testing.assert_allclose(data.val, sine_formula(data.val_params, 30), atol=1e-6)


@pytest.mark.parametrize("freq", [1, 2, 5, 11])
def test_fft_peak_is_at_the_stated_integer_frequency(freq):
    cfg = SineConfig(n_series=8, n_val=0, seq_len=64, freq_min=freq, freq_max=freq, noise=0.0)
    data = make_sine(cfg)
    assert np.all(data.train_params["freq"] == freq)
    spectrum = np.abs(np.fft.rfft(data.train[:, :, 0], axis=1))  # (N, T//2 + 1)
    assert np.all(spectrum.argmax(axis=1) == freq)


def test_params_lie_within_their_ranges():
    cfg = SineConfig(
        n_series=500, n_val=50, n_features=2, freq_min=1.5, freq_max=2.5,
        phase_min=-1.0, phase_max=1.0, amplitude=0.3,
    )
    params = make_sine(cfg).train_params
    assert params["freq"].min() >= 1.5 and params["freq"].max() <= 2.5
    assert params["phase"].min() >= -1.0 and params["phase"].max() <= 1.0
    assert np.all(params["amplitude"] == 0.3)
    # Uniform draws over the range, not a constant: the spread covers most of it.
    assert params["freq"].max() - params["freq"].min() > 0.8


def test_each_feature_has_its_own_phase_and_series_share_one_frequency():
    data = make_sine(SineConfig(n_series=10, n_features=3))
    phase = data.train_params["phase"]
    assert np.all(phase[:, 0] != phase[:, 1]) and np.all(phase[:, 1] != phase[:, 2])
    assert not np.allclose(data.train[:, :, 0], data.train[:, :, 1])
    assert data.train_params["freq"].shape == (10,)  # one frequency for all features of a series


def test_noiseless_peak_does_not_exceed_amplitude():
    data = make_sine(SineConfig(n_series=50, amplitude=0.4, noise=0.0))
    assert np.abs(data.train).max() <= 0.4 + 1e-6
    assert np.abs(data.train).max() > 0.39  # a full cycle of 50 samples comes close to the peak


def test_noise_has_the_requested_standard_deviation():
    cfg = SineConfig(n_series=200, n_val=0, amplitude=0.5, noise=0.05)
    data = make_sine(cfg)
    residual = data.train - sine_formula(data.train_params, cfg.seq_len)
    assert abs(residual.std() - 0.05) < 0.005
    assert abs(residual.mean()) < 0.005


def test_values_are_clipped_to_minus_one_one():
    data = make_sine(SineConfig(n_series=50, amplitude=1.0, noise=1.0))
    for values in (data.train, data.val):
        assert values.min() >= -1.0 and values.max() <= 1.0
    assert np.any(data.train == 1.0) and np.any(data.train == -1.0)  # clipping did happen


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"n_series": 0}, "n_series", "got 0"),
        ({"n_series": 2.5}, "n_series", "whole number"),
        ({"n_series": True}, "n_series", "got True"),
        ({"n_val": -1}, "n_val", ">= 0"),
        ({"seq_len": 1}, "seq_len", ">= 2"),
        ({"n_features": 0}, "n_features", ">= 1"),
        ({"seed": -3}, "seed", "got -3"),
        ({"freq_min": 0.0}, "freq_min", "> 0"),
        ({"freq_min": -1.0}, "freq_min", "got -1.0"),
        ({"freq_max": 25.0}, "freq_max", "Nyquist limit seq_len/2 = 25"),
        ({"seq_len": 4}, "freq_max", "Nyquist limit seq_len/2 = 2"),
        ({"freq_min": 5.0}, "freq_min", "freq_min (5.0) must be <= freq_max (3.0)"),
        ({"freq_max": math.nan}, "freq_max", "finite"),
        ({"phase_min": 7.0}, "phase_min", "must be <= phase_max"),
        ({"phase_max": math.inf}, "phase_max", "finite"),
        ({"amplitude": 0.0}, "amplitude", "> 0 and <= 1, got 0.0"),
        ({"amplitude": 1.5}, "amplitude", "got 1.5"),
        ({"amplitude": "big"}, "amplitude", "'big'"),
        ({"noise": -0.1}, "noise", "noise must be between 0 and 1, got -0.1"),
        ({"noise": 1.5}, "noise", "got 1.5"),
        ({"n_series": MAX_VALUES}, "n_series", str(MAX_VALUES)),
    ],
)
def test_bad_config_is_rejected_naming_the_field(changes, field, fragment):
    cfg = dataclasses.replace(SineConfig(), **changes)
    for check in (cfg.validate, lambda: validate_sine(cfg), lambda: make_sine(cfg)):
        with pytest.raises(DataError) as err:
            check()
        assert field in str(err.value)
        assert fragment in str(err.value)


@pytest.mark.parametrize(
    "changes",
    [
        {"n_val": 0},
        {"freq_min": 2.0, "freq_max": 2.0},
        {"amplitude": 1.0, "noise": 1.0},
        {"noise": 0.0},
        {"seq_len": 7, "freq_min": 3.4, "freq_max": 3.49},  # just below Nyquist (3.5)
        {"n_series": np.int64(4), "seed": np.int64(2**40)},  # numpy integers from widgets
    ],
)
def test_edge_configs_are_accepted(changes):
    cfg = dataclasses.replace(SineConfig(n_series=4, n_val=2), **changes)
    cfg.validate()
    data = make_sine(cfg)
    assert data.train.shape[0] == cfg.n_series


def test_data_error_is_a_value_error():
    assert issubclass(DataError, ValueError)


@FAST
@given(
    n_series=st.integers(1, 6),
    n_val=st.integers(0, 4),
    seq_len=st.integers(2, 40),
    n_features=st.integers(1, 4),
    noise=st.floats(0, 1),
    amplitude=st.floats(0.01, 1),
    seed=st.integers(0, 2**32),
    data=st.data(),
)
def test_any_valid_config_gives_float32_values_in_range(
    n_series, n_val, seq_len, n_features, noise, amplitude, seed, data
):
    nyquist = seq_len / 2
    freq_min = data.draw(st.floats(0.01, nyquist, exclude_max=True))
    freq_max = data.draw(st.floats(freq_min, nyquist, exclude_max=True))
    cfg = SineConfig(
        n_series=n_series, n_val=n_val, seq_len=seq_len, n_features=n_features,
        freq_min=freq_min, freq_max=freq_max, amplitude=amplitude, noise=noise, seed=seed,
    )
    out = make_sine(cfg)
    assert out.train.shape == (n_series, seq_len, n_features)
    assert out.val.shape == (n_val, seq_len, n_features)
    for values in (out.train, out.val):
        assert values.dtype == np.float32
        assert np.all(np.isfinite(values)) and np.all(np.abs(values) <= 1.0)


# ---------------------------------------------------------------------------------------------
# Data sources: a data set named by its config
# ---------------------------------------------------------------------------------------------


def test_load_makes_the_data_set_its_config_names():
    cfg = SineConfig(n_series=12, n_val=3, seq_len=20, n_features=2, seed=4)
    assert SOURCES == ("sine", "nab_jumpsup") and source_name(cfg) == "sine"
    loaded, made = load(cfg), make_sine(cfg)
    assert loaded.train.tobytes() == made.train.tobytes()
    assert loaded.val.tobytes() == made.val.tobytes()


def test_load_makes_a_bundled_set_by_its_name():
    from lstmae_demo.data import BundledConfig, make_bundled

    cfg = BundledConfig(name="nab_jumpsup", seq_len=30)
    assert source_name(cfg) == "nab_jumpsup"
    loaded, made = load(cfg), make_bundled(cfg)
    assert loaded.train.shape[1:] == (30, 1)
    assert loaded.train.tobytes() == made.train.tobytes()


def test_load_rejects_what_is_no_data_source():
    for bad in (None, {"n_series": 4}, "sine"):
        with pytest.raises(DataError, match="unknown data source.*SineConfig"):
            load(bad)
        with pytest.raises(DataError, match="unknown data source"):
            source_name(bad)
    with pytest.raises(DataError, match="n_series"):  # a source's own checks still apply
        load(SineConfig(n_series=0))


# ---------------------------------------------------------------------------------------------
# CSV loader: happy paths
# ---------------------------------------------------------------------------------------------

ROWS = [[float(i), 10.0 - i, 2.5 * (i % 3)] for i in range(12)]  # 12 rows x 3 columns


def test_header_names_shapes_and_dtypes():
    series = load_csv(csv_text(ROWS, header=["time", "temp", "load"]), seq_len=4, stride=2)
    assert isinstance(series, CsvSeries)
    assert series.columns == ("time", "temp", "load")
    assert series.n_rows == 12
    assert series.windows.shape == (5, 4, 3)
    assert series.windows.dtype == np.float32
    np.testing.assert_array_equal(series.minimum, [0.0, -1.0, 0.0])
    np.testing.assert_array_equal(series.maximum, [11.0, 10.0, 5.0])


def test_no_header_names_columns_x0_x1():
    series = load_csv(csv_text(ROWS), seq_len=4)
    assert series.columns == ("x0", "x1", "x2")
    assert series.n_rows == 12  # the first row is data, not a header


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("header", [None, ["a", "b", "c"]])
def test_delimiters_are_detected(delimiter, header):
    series = load_csv(csv_text(ROWS, header=header, delimiter=delimiter), seq_len=12)
    assert series.windows.shape == (1, 12, 3)
    np.testing.assert_allclose(series.unscale(series.windows[0]), ROWS, atol=1e-5)


def test_single_column_file():
    text = "value\n" + "\n".join(str(v) for v in [0.5, 1.5, 2.5, 3.5, 4.5])
    series = load_csv(text, seq_len=5)
    assert series.columns == ("value",)
    np.testing.assert_allclose(series.windows[0, :, 0], [-1, -0.5, 0, 0.5, 1])


def test_bytes_str_and_path_sources_agree(tmp_path):
    text = csv_text(ROWS, header=["a", "b", "c"], delimiter=";")
    path = tmp_path / "my series.csv"
    path.write_text(text, encoding="utf-8")
    results = [
        load_csv(text, seq_len=5),
        load_csv(text.encode(), seq_len=5),
        load_csv(bytearray(text.encode()), seq_len=5),
        load_csv(path, seq_len=5),
    ]
    for series in results[1:]:
        assert series.columns == results[0].columns
        assert np.array_equal(series.windows, results[0].windows)


def test_byte_order_mark_and_windows_line_endings():
    text = csv_text(ROWS, header=["a", "b", "c"]).replace("\n", "\r\n")
    series = load_csv(b"\xef\xbb\xbf" + text.encode(), seq_len=3)
    assert series.columns == ("a", "b", "c")  # not "\ufeffa"
    assert series.n_rows == 12


def test_quoted_header_and_pandas_style_blank_index_name():
    series = load_csv('"temp, C",speed\n1,2\n3,4\n', seq_len=2)
    assert series.columns == ("temp, C", "speed")
    series = load_csv(",value\n0,1.5\n1,2.5\n", seq_len=2)  # pandas .to_csv() with its index
    assert series.columns == ("x0", "value")


def test_first_row_with_any_text_is_a_header():
    series = load_csv("sensor,2020\n1,2\n3,4\n", seq_len=2)
    assert series.columns == ("sensor", "2020")
    assert series.n_rows == 2


def test_blank_lines_are_skipped_and_rows_keep_their_file_numbers():
    series = load_csv("a,b\n\n1,2\n3,4\n\n5,6\n\n\n", seq_len=3)
    assert series.n_rows == 3
    with pytest.raises(DataError, match="row 6"):
        load_csv("a,b\n\n1,2\n3,4\n\n5,x\n", seq_len=3)


@pytest.mark.parametrize(
    ("n_rows", "seq_len", "stride"),
    [(10, 10, None), (10, 4, None), (11, 4, None), (50, 7, 1), (50, 7, 3), (50, 7, 100), (9, 2, None),
     (9, 3, None)],
)
def test_window_count_and_contents(n_rows, seq_len, stride):
    rows = [[float(i), float(i * i)] for i in range(n_rows)]
    series = load_csv(csv_text(rows), seq_len=seq_len, stride=stride)
    step = stride if stride is not None else max(1, seq_len // 2)
    n_windows = 1 + (n_rows - seq_len) // step
    assert series.windows.shape == (n_windows, seq_len, 2)
    whole = series.unscale(series.windows)  # (n_windows, seq_len, 2) in file units
    span = np.ptp(rows, axis=0)  # float32 windows are exact to about 1e-7 of each column's span
    for i in range(n_windows):
        error = np.abs(whole[i] - rows[i * step : i * step + seq_len])
        assert np.all(error <= 1e-6 * span)


def test_default_stride_is_half_the_window():
    series = load_csv(csv_text([[float(i)] for i in range(20)]), seq_len=8)
    assert series.windows.shape[0] == 1 + (20 - 8) // 4
    assert series.windows[1, 0, 0] == series.windows[0, 4, 0]


def test_each_column_is_scaled_to_minus_one_one_and_constant_column_to_zero():
    rows = [[float(i), 100.0 + 3 * i, 7.0] for i in range(10)]
    series = load_csv(csv_text(rows), seq_len=10)
    window = series.windows[0]  # (10, 3)
    assert window[:, 0].min() == -1.0 and window[:, 0].max() == 1.0
    assert window[:, 1].min() == -1.0 and window[:, 1].max() == 1.0
    assert np.all(window[:, 2] == 0.0)
    np.testing.assert_allclose(series.unscale(window), rows, rtol=1e-6)
    np.testing.assert_array_equal(series.unscale(window)[:, 2], 7.0)


def test_unscale_maps_minus_one_and_one_to_min_and_max():
    series = load_csv("a,b\n-4,10\n6,30\n", seq_len=2)
    np.testing.assert_allclose(series.unscale(np.array([[-1.0, -1.0], [1.0, 1.0]])), [[-4, 10], [6, 30]])
    assert series.unscale(np.zeros((5, 7, 2))).shape == (5, 7, 2)


def test_unscale_rejects_the_wrong_number_of_features():
    series = load_csv("a,b\n1,2\n3,4\n", seq_len=2)
    with pytest.raises(DataError, match="2 features"):
        series.unscale(np.zeros((4, 3)))


# ---------------------------------------------------------------------------------------------
# CSV loader: rejections
# ---------------------------------------------------------------------------------------------


def many_rows(n_rows: int, n_columns: int = 1) -> str:
    """A valid CSV text of n_rows numeric rows."""
    return "\n".join(",".join(["1"] * n_columns) for _ in range(n_rows)) + "\n"


@pytest.mark.parametrize(
    ("source", "fragments"),
    [
        (b"", ["empty"]),
        ("\n \n\n", ["empty"]),
        ("time,temp\n", ["header", "no data rows"]),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["does not look like a text CSV file"]),
        (b"a,b\n\xff\xfe1,2\n", ["does not look like a text CSV file", "byte 5"]),
        ("a,b\n1,2\x00\n", ["does not look like a text CSV file"]),
        ("a,b\n1,2\n3,4\n5,6\n7,8\n9,10\n1,2,3\n1,2\n", ["row 7 has 3 values, expected 2"]),
        ("a,b\n1,2\n3\n", ["row 3 has 1 value, expected 2"]),
        ("a,temp\n" + "1,2\n" * 10 + "1,abc\n", ["row 12", "column 2", '"temp"', "'abc' is not a number"]),
        ("1;2\n3;4,5\n", ["row 2", "column 2", '"x1"', "'4,5'", "decimal separator"]),
        ("1,5;2,5\n3,5;4,5\n", ["row 1", "column 1", '"x0"', "'1,5'", "decimal separator"]),
        ("a,b\n1,2\n3,nan\n", ["row 3", "column 2", '"b"', "'nan'", "finite"]),
        ("a,b\n1,2\n-inf,3\n", ["row 3", "column 1", '"a"', "'-inf'"]),
        ("a,b\n1,2\n3,\n", ["row 3", "column 2", "empty"]),
        ("1,\n2,3\n", ["row 1", "column 2", "empty"]),
        ("a,b\n1,2\n , 4\n", ["row 3", "column 1", "empty"]),
        (",".join(f"c{i}" for i in range(MAX_COLUMNS + 1)) + "\n", [f"{MAX_COLUMNS + 1} columns",
                                                                  f"at most {MAX_COLUMNS}"]),
        (many_rows(3, MAX_COLUMNS + 4), [f"{MAX_COLUMNS + 4} columns"]),
    ],
)
def test_bad_files_are_rejected_with_a_clear_message(source, fragments):
    with pytest.raises(DataError) as err:
        load_csv(source, seq_len=2)
    for fragment in fragments:
        assert fragment in str(err.value)


def test_file_shorter_than_one_window_is_rejected():
    with pytest.raises(DataError, match="the file has 30 rows but one window needs seq_len=50"):
        load_csv("x\n" + many_rows(30), seq_len=50)
    assert load_csv("x\n" + many_rows(50), seq_len=50).windows.shape == (1, 50, 1)


def test_too_many_rows_is_rejected():
    load_csv(many_rows(MAX_ROWS), seq_len=2, stride=MAX_ROWS)  # exactly at the limit is fine
    with pytest.raises(DataError, match=f"more than {MAX_ROWS} data rows"):
        load_csv(many_rows(MAX_ROWS + 1), seq_len=2)


@pytest.mark.parametrize("as_bytes", [True, False])
def test_too_large_text_is_rejected(as_bytes):
    text = "1\n" * (MAX_BYTES // 2 + 1)
    with pytest.raises(DataError, match=f"limit is 5 MB \\({MAX_BYTES} bytes\\)"):
        load_csv(text.encode() if as_bytes else text, seq_len=2)


def test_too_large_file_is_rejected_before_reading(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "wb") as file:
        file.truncate(MAX_BYTES + 1)  # sparse: quick to make, full of NUL bytes if read
    with pytest.raises(DataError, match="limit is 5 MB"):
        load_csv(path, seq_len=2)


def test_unreadable_paths_are_rejected(tmp_path):
    with pytest.raises(DataError, match="could not read the file .*missing.csv"):
        load_csv(tmp_path / "missing.csv", seq_len=2)
    with pytest.raises(DataError, match="could not read the file"):
        load_csv(tmp_path, seq_len=2)


def test_unsupported_source_type_is_rejected():
    with pytest.raises(DataError, match="bytes, CSV text or a path"):
        load_csv(12345, seq_len=2)


@pytest.mark.parametrize(
    ("seq_len", "stride", "fragment"),
    [(1, None, "seq_len must be a whole number >= 2, got 1"), (0, None, "seq_len"),
     (2.0, None, "seq_len"), ("50", None, "seq_len"), (2, 0, "stride must be a whole number >= 1"),
     (2, -1, "stride"), (2, 1.5, "stride")],
)
def test_bad_window_settings_are_rejected(seq_len, stride, fragment):
    with pytest.raises(DataError, match=fragment):
        load_csv(many_rows(10), seq_len=seq_len, stride=stride)


def test_too_many_window_values_is_rejected():
    with pytest.raises(DataError, match=f"values; at most {MAX_VALUES} are allowed"):
        load_csv(many_rows(20_000, 4), seq_len=1_000, stride=1)


def test_too_wide_a_range_is_rejected():
    with pytest.raises(DataError, match=r'column 1 \("x0"\) spans too wide a range'):
        load_csv("-1e308\n1e308\n", seq_len=2)


# ---------------------------------------------------------------------------------------------
# CSV loader: properties
# ---------------------------------------------------------------------------------------------

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@FAST
@given(
    shape=st.tuples(st.integers(2, 30), st.integers(1, 5)),
    delimiter=st.sampled_from([",", ";", "\t"]),
    with_header=st.booleans(),
    data=st.data(),
)
def test_random_matrices_round_trip_through_csv(shape, delimiter, with_header, data):
    n_rows, n_columns = shape
    matrix = np.array(data.draw(st.lists(st.lists(finite, min_size=n_columns, max_size=n_columns),
                                         min_size=n_rows, max_size=n_rows)))
    seq_len = data.draw(st.integers(2, n_rows))
    stride = data.draw(st.integers(1, 4))
    header = [f"col{i}" for i in range(n_columns)] if with_header else None
    series = load_csv(csv_text(matrix, header, delimiter), seq_len=seq_len, stride=stride)

    n_windows = 1 + (n_rows - seq_len) // stride
    assert series.windows.shape == (n_windows, seq_len, n_columns)
    assert np.all(np.abs(series.windows) <= 1.0)
    np.testing.assert_array_equal(series.minimum, matrix.min(axis=0))
    np.testing.assert_array_equal(series.maximum, matrix.max(axis=0))
    span = matrix.max(axis=0) - matrix.min(axis=0)
    tolerance = 1e-6 * span + 1e-9 * np.abs(matrix).max(axis=0)  # float32 windows
    restored = series.unscale(series.windows)
    for i in range(n_windows):
        original = matrix[i * stride : i * stride + seq_len]
        assert np.all(np.abs(restored[i] - original) <= tolerance)


@FAST
@given(source=st.one_of(st.binary(max_size=200), st.text(max_size=200),
                        st.text(alphabet="0123456789.,;\t\n -eEnaif\"", max_size=200)))
def test_any_input_gives_windows_or_a_data_error(source):
    try:
        series = load_csv(source, seq_len=2, stride=1)
    except DataError:
        return
    assert series.windows.dtype == np.float32
    assert np.all(np.abs(series.windows) <= 1.0)


def test_path_given_as_str_is_read_as_csv_text():
    # A str is always CSV text, so a file name in a str is a one-row file, never opened.
    with pytest.raises(DataError, match="header row but no data rows"):
        load_csv(str(Path("data") / "series.csv"), seq_len=2)
