"""bench/scheduling.py measures what it says: every run's first point, the end, the joins."""

from bench.scheduling import measure
from lstmae_demo.jobs import FIFO, ROUND_ROBIN


def test_the_scheduling_benchmark_times_every_learner_and_counts_the_runs_trained():
    for policy in (FIFO, ROUND_ROBIN):
        row = measure(policy, 3, epochs=2, quick=True)
        assert row["runs_trained"] == 3 and row["learners"] == 3 and row["policy"] == policy
        assert 0 < row["first"] <= row["median"] <= row["last"] <= row["total"]
    shared = measure(ROUND_ROBIN, 3, epochs=2, quick=True, shared=True)
    assert shared["runs_trained"] == 1  # identical runs joined one
