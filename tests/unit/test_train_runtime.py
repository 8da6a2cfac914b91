"""Process tuning for training: glibc's malloc thresholds and torch's thread count per run."""

import os
import platform
import sys

import pytest
import torch

from lstmae_demo.training import torch_threads, tune_allocator


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                    reason="mallopt's thresholds are glibc's")
def test_tune_allocator_takes_effect_on_glibc_once_per_process():
    assert tune_allocator() is True
    assert tune_allocator.cache_info().currsize == 1  # later calls reuse the first answer


def test_torch_threads_sets_the_count_and_restores_it_however_the_body_ends():
    before = torch.get_num_threads()
    other = 2 if before == 1 else 1
    if other > (os.cpu_count() or 1):
        pytest.skip("needs 2 cores to choose a different thread count")
    with torch_threads(other):
        assert torch.get_num_threads() == other
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError, match="inside"), torch_threads(other):
        raise RuntimeError("inside")
    assert torch.get_num_threads() == before
    with torch_threads(None):  # None: the count is left alone
        assert torch.get_num_threads() == before
