"""Write the corpus of CSV files an upload must refuse (and one it accepts).

Run from anywhere: python3 tests/data/bad_csv/make_bad_csv.py
The two files over 100 kB (too many rows, too large) are not kept in the repository: the
tests build them with `large()`. tests/unit/test_upload.py holds the message each file gets.
"""

from __future__ import annotations

import math
from pathlib import Path

HERE = Path(__file__).resolve().parent
T = 50  # the sequence length the corpus is checked at (the app's default)


def series(n_rows: int) -> str:
    """n_rows of a timestamp and two numeric columns."""
    return "".join(f"2026-01-01T{i // 60:02d}:{i % 60:02d},{math.sin(i / 7):.5f},"
                   f"{math.cos(i / 11):.5f}\n" for i in range(n_rows))


def corpus() -> dict[str, bytes]:
    """File name -> content (each at most a few kB)."""
    good = "time,a,b\n" + series(300)
    return {
        "good.csv": good.encode(),
        "empty.csv": b"",
        "blank_lines.csv": b"\n  \n\n",
        "header_only.csv": b"time,temperature\n",
        "binary.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",
        "latin1.csv": "temp\u00e9rature\n1.5\n2.5\n".encode("latin-1"),
        "text_only.csv": b"name,city\nann,paris\nbob,rome\n",
        "nan_value.csv": ("a\n" + "1.0\n" * 20 + "nan\n" + "1.0\n" * 100).encode(),
        "inf_value.csv": ("a,b\n" + "1,2\n" * 5 + "3,inf\n" + "1,2\n" * 100).encode(),
        "bad_cell.csv": ("a,temp\n" + "1,2\n" * 10 + "1,warm\n").encode(),
        "decimal_comma.csv": ("a;b\n" + "1,5;2,5\n" * 100).encode(),
        "ragged.csv": ("a,b\n" + "1,2\n" * 3 + "1,2,3\n").encode(),
        "too_short.csv": ("time,a,b\n" + series(60)).encode(),
        "too_many_columns.csv": (",".join(f"c{i}" for i in range(17)) + "\n"
                                 + ",".join(["1"] * 17) + "\n").encode(),
        "constant_column.csv": ("a,b\n" + "".join(f"{i % 7},3\n" for i in range(300))
                                ).encode(),
    }


def large() -> dict[str, bytes]:
    """The files too big to keep: one row over the row limit, one byte over the size limit."""
    return {
        "too_many_rows.csv": b"1\n" * 100_001,
        "too_large.csv": b"1\n" * (2**19) + b"1",  # 1 MB + 1 byte
    }


def main() -> None:
    for name, content in corpus().items():
        (HERE / name).write_bytes(content)


if __name__ == "__main__":
    main()
