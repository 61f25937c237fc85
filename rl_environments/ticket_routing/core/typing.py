"""Array type aliases shared by the core modules."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
Float32Array = NDArray[np.float32]
IntArray = NDArray[np.int64]
Int8Array = NDArray[np.int8]
UIntArray = NDArray[np.uint64]
BoolArray = NDArray[np.bool_]
AnyArray = NDArray[Any]
ArrayTuple = tuple[AnyArray, ...]
