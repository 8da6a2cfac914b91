"""Benchmarks of the LSTM Autoencoder Explorer: `python -m bench` writes bench/RESULTS.md.

Every figure is a median over repeats, and every speed is also given as a ratio against a
reference run measured in the same process during the same suite run, because these shared
2-core machines are noisy. Nothing here asserts a time: tests/unit/test_bench_smoke.py only
checks that `python -m bench --quick` runs every section and writes its report. One-off
studies (ablations, profiles) are not code here: docs/bench-studies.md has their findings.
"""
