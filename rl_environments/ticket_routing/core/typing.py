"""Array type aliases and a typed ``njit`` shared by the core modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
Float32Array = NDArray[np.float32]
IntArray = NDArray[np.int64]
Int8Array = NDArray[np.int8]
UIntArray = NDArray[np.uint64]
BoolArray = NDArray[np.bool_]
AnyArray = NDArray[Any]

F = TypeVar("F", bound=Callable[..., Any])


def njit(**options: Any) -> Callable[[F], F]:
    """``numba.njit`` that keeps the decorated function's signature for type checkers.

    Division follows NumPy's error model: no zero-divisor check and branch in every division of
    the kernels (whose divisors are validated to be nonzero), so results are unchanged."""
    options.setdefault("error_model", "numpy")
    return cast(Callable[[F], F], numba.njit(**options))
