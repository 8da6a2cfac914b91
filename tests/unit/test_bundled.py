"""Tests for lstmae_demo.data.bundled: the NAB files load as the CSV says, their source and
licence are in the repository, the windows are z-scored with the training rows' statistics,
and the labelled anomaly window falls where NAB's labels put it (and where the data jumps)."""

import csv
import datetime
import json

import numpy as np
import pytest

from lstmae_demo.data.bundled import (
    BUNDLED,
    FILES,
    LABELS_FILE,
    NAB_COMMIT,
    BundledConfig,
    make_bundled,
    read_series,
)
from lstmae_demo.data.checks import DataError

NORMAL, LABELLED = "art_daily_small_noise.csv", "art_daily_jumpsup.csv"


def plain_csv(file: str) -> tuple[list[datetime.datetime], np.ndarray]:
    """The file's timestamps and values, read with the csv module and datetime alone."""
    with open(FILES / file, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    stamps = [datetime.datetime.fromisoformat(row[0]) for row in rows]
    return stamps, np.array([float(row[1]) for row in rows])


def nab_window(file_key: str) -> tuple[datetime.datetime, datetime.datetime]:
    """NAB's one labelled window of a file, from the copied labels JSON."""
    labels = json.loads((FILES / LABELS_FILE).read_text())
    [(start, end)] = labels["combined_windows"][file_key]
    return datetime.datetime.fromisoformat(start), datetime.datetime.fromisoformat(end)


@pytest.mark.parametrize("file", [NORMAL, LABELLED])
def test_the_files_load_as_the_csv_says(file):
    series = read_series(file)
    stamps, values = plain_csv(file)
    assert len(series.values) == len(values) == 4032  # 14 days of 288 five-minute steps
    np.testing.assert_array_equal(series.values, values)
    as_datetimes = series.timestamps.astype("datetime64[s]").astype(datetime.datetime)
    assert list(as_datetimes) == stamps
    assert set(np.diff(series.timestamps).astype(int)) == {300}  # every 5 minutes
    assert not series.values.flags.writeable  # cached arrays cannot be changed by a caller


def test_source_and_licence_are_stated_in_the_repository():
    licence = (FILES / "LICENSE-NAB.txt").read_text()
    assert "Permission is hereby granted, free of charge" in licence  # the MIT text
    assert "Numenta" in licence
    readme = (FILES / "README.md").read_text()
    for needed in (NAB_COMMIT, "MIT", "LICENSE-NAB.txt", "https://github.com/numenta/NAB",
                   NORMAL, LABELLED, LABELS_FILE):
        assert needed in readme
    shipped = {p.name for p in FILES.iterdir()}
    assert shipped == {NORMAL, LABELLED, LABELS_FILE, "LICENSE-NAB.txt", "README.md"}
    for bundled in BUNDLED.values():
        assert {bundled.normal_file, bundled.test_file} <= shipped
        assert "MIT" in bundled.licence


def test_the_normal_file_has_no_labelled_anomaly():
    labels = json.loads((FILES / LABELS_FILE).read_text())
    assert labels["combined_windows"]["artificialNoAnomaly/" + NORMAL] == []
    assert not read_series(NORMAL).mask.any()


def test_the_labelled_window_is_where_nab_says():
    start, end = nab_window("artificialWithAnomaly/" + LABELLED)
    stamps, _ = plain_csv(LABELLED)
    expected = np.array([start <= stamp <= end for stamp in stamps])
    series = read_series(LABELLED)
    np.testing.assert_array_equal(series.mask, expected)
    inside = np.flatnonzero(series.mask)
    assert stamps[inside[0]] == start and stamps[inside[-1]] == end
    labels = json.loads((FILES / LABELS_FILE).read_text())
    [point] = labels["combined_labels"]["artificialWithAnomaly/" + LABELLED]
    assert start <= datetime.datetime.fromisoformat(point) <= end


def test_the_data_jumps_inside_the_labelled_window_and_nowhere_else():
    """Where the jumps-up file departs most from the normal one is inside NAB's window, from
    NAB's labelled point on."""
    normal, labelled = read_series(NORMAL), read_series(LABELLED)
    np.testing.assert_array_equal(normal.timestamps, labelled.timestamps)
    departure = np.abs(labelled.values - normal.values)
    large = np.flatnonzero(departure > departure.max() / 2)
    assert labelled.mask[large].all()
    labels = json.loads((FILES / LABELS_FILE).read_text())
    [point] = labels["combined_labels"]["artificialWithAnomaly/" + LABELLED]
    assert labelled.timestamps[large[0]] == np.datetime64(point)


@pytest.mark.parametrize(("seq_len", "stride", "val_share"), [(50, None, 0.2), (288, 12, 0.25),
                                                              (7, 1, 0.1)])
def test_windows_are_z_scored_with_the_training_rows(seq_len, stride, val_share):
    data = make_bundled(BundledConfig("nab_jumpsup", seq_len=seq_len, stride=stride,
                                      val_share=val_share))
    _, normal = plain_csv(NORMAL)
    _, labelled = plain_csv(LABELLED)
    cut = round(len(normal) * (1 - val_share))
    mean, std = normal[:cut].mean(), normal[:cut].std()
    np.testing.assert_allclose(data.mean, [mean])
    np.testing.assert_allclose(data.std, [std])
    step = stride or seq_len // 2
    for windows, starts, rows, first, last in (
            (data.train, data.train_starts, normal, 0, cut),
            (data.val, data.val_starts, normal, cut, len(normal)),
            (data.test, data.test_starts, labelled, 0, len(labelled))):
        assert windows.shape == (1 + (last - first - seq_len) // step, seq_len, 1)
        assert windows.dtype == np.float32
        np.testing.assert_array_equal(starts, np.arange(first, last - seq_len + 1, step))
        expected = np.stack([(rows[row:row + seq_len] - mean) / std for row in starts])
        np.testing.assert_allclose(windows[:, :, 0], expected, rtol=1e-6, atol=1e-6)
    assert data.train_starts[-1] + seq_len <= cut  # no training window reads validation rows
    np.testing.assert_allclose(data.unscale(data.train[0, :, 0]), normal[:seq_len], rtol=1e-6)
    np.testing.assert_allclose(data.scale(data.unscale(data.test)), data.test, atol=1e-6)


def test_the_mask_per_window_step_is_the_labelled_rows():
    data = make_bundled(BundledConfig("nab_jumpsup", seq_len=40, stride=13))
    rows = read_series(LABELLED).mask
    for i, start in enumerate(data.test_starts):
        np.testing.assert_array_equal(data.test_mask[i], rows[start:start + 40])
    start, end = np.flatnonzero(rows)[[0, -1]]
    overlapping = (data.test_starts + 40 > start) & (data.test_starts <= end)
    np.testing.assert_array_equal(data.test_mask.any(axis=1), overlapping)
    assert overlapping.sum() > 0 and (~overlapping).sum() > 0  # both kinds to tune tau on


@pytest.mark.parametrize(("changes", "message"), [
    ({"name": "ecg5000"}, "unknown bundled data set 'ecg5000'; choose one of nab_jumpsup"),
    ({"seq_len": 1}, "seq_len must be a whole number >= 2"),
    ({"stride": 0}, "stride must be a whole number >= 1"),
    ({"val_share": 1.0}, "val_share must be a number between 0 and 1"),
    ({"val_share": True}, "val_share must be a number between 0 and 1"),
    ({"seq_len": 900}, "the val split has 806 rows but one window needs seq_len=900"),
])
def test_bad_settings_are_refused_with_a_message(changes, message):
    cfg = BundledConfig(**({"name": "nab_jumpsup"} | changes))
    with pytest.raises(DataError, match=message):
        make_bundled(cfg)


def test_only_bundled_files_can_be_read():
    with pytest.raises(DataError, match="'../../settings.py' is not a bundled file"):
        read_series("../../settings.py")
