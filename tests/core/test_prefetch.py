"""``core.prefetch``: a cache hint that compiles for every array the kernels prefetch and changes nothing."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from rl_environments.ticket_routing.core.prefetch import prefetch

jit = pytest.mark.skipif(numba.config.DISABLE_JIT, reason="exercises the compiled prefetch")


def test_prefetch_is_a_no_op_in_python() -> None:
    array = np.arange(5.0)
    assert prefetch(array) is None
    np.testing.assert_array_equal(array, np.arange(5.0))


@jit
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.int8, np.bool_, np.uint64])
def test_compiled_prefetch_reads_nothing_and_writes_nothing(dtype: type) -> None:
    @numba.njit
    def touch_rows(array: np.ndarray) -> int:
        for i in range(array.shape[0]):
            prefetch(array[i])  # a (13, 7) C-contiguous block: 91 items over several cache lines
        prefetch(array[array.shape[0] - 1, 12])  # a row shorter than a cache line
        return array.shape[0]

    rng = np.random.default_rng(0)
    array = (rng.random((9, 13, 7)) * 100).astype(dtype)
    before = array.copy()
    assert touch_rows(array) == 9
    np.testing.assert_array_equal(array, before)


@jit
def test_compiled_prefetch_rejects_a_strided_view() -> None:
    @numba.njit
    def column(array: np.ndarray) -> None:
        prefetch(array[:, 0])  # not one contiguous range of memory

    with pytest.raises(numba.core.errors.TypingError):
        column(np.zeros((4, 4)))
