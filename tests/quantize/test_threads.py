"""one_torch_thread restores the caller's thread count, also when the block raises."""

import pytest
import torch

from sapool.quantize.threads import one_torch_thread


def test_one_thread_inside_and_the_callers_setting_after_an_error():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with pytest.raises(RuntimeError), one_torch_thread():
            assert torch.get_num_threads() == 1
            raise RuntimeError("inside")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
