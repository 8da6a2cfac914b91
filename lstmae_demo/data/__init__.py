"""Data for the LSTM autoencoder: seeded sine waves, bundled real series, a learner's CSV.

Every array handed to a model has the shape (N, T, F):
N series (or windows), T time steps each, F features (channels) per step, as float32. Sines
(and load_csv's min-max scaled windows) lie in [-1, 1]; a bundled or uploaded series is
z-scored with its training rows' mean and standard deviation, so it may leave that range.

- `sine`: the generator (`SineConfig` -> `make_sine` -> `SineData`)
- `csvfile`: parsing a CSV file (`read_table`; `load_csv` -> `CsvSeries`, min-max scaled)
- `bundled`: real series shipped with the package (NAB's art_daily pair; `files/README.md`)
- `upload`: an uploaded CSV file as a run's data (`read_upload` -> `CsvFile`; `CsvConfig`)
- `sources`: a data set named by a frozen config (`load(config)`), as a training job holds it
- `checks`: `DataError` and the checks all of them share

numpy and the standard library only; bad input always raises `DataError` (a `ValueError`)
with a message a learner can act on.
"""

from __future__ import annotations

from .bundled import BUNDLED, BundledConfig, BundledData, make_bundled
from .checks import MAX_VALUES, DataError
from .csvfile import MAX_BYTES, MAX_COLUMNS, MAX_ROWS, CsvSeries, load_csv
from .sine import SineConfig, SineData, make_sine, validate_sine
from .sources import (
    SOURCES,
    UPLOADED,
    DataConfig,
    Dataset,
    load,
    settings_of,
    source_name,
    train_windows,
)
from .upload import UPLOAD_MAX_BYTES, CsvConfig, CsvData, CsvFile, read_upload

__all__ = [
    "BUNDLED",
    "BundledConfig",
    "BundledData",
    "make_bundled",
    "MAX_BYTES",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "MAX_VALUES",
    "SOURCES",
    "CsvConfig",
    "CsvData",
    "CsvFile",
    "CsvSeries",
    "UPLOAD_MAX_BYTES",
    "UPLOADED",
    "DataConfig",
    "DataError",
    "Dataset",
    "SineConfig",
    "SineData",
    "load",
    "load_csv",
    "make_sine",
    "read_upload",
    "settings_of",
    "source_name",
    "train_windows",
    "validate_sine",
]
