"""A small counter-free random generator (xoshiro256**) that lives in a NumPy array.

Each simulated environment owns one row of ``uint64`` state, so N environments draw
independent, reproducible streams inside compiled kernels, and the state pickles with the
rest of the arrays. Rows are seeded from the environment's ``np_random``.
"""

from __future__ import annotations

import numpy as np

from rl_environments.ticket_routing.core.typing import FloatArray, UIntArray, njit

STATE_WORDS = 4  # uint64 words of xoshiro256** state
_U1 = np.uint64(1)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True, inline="always")
def _rotl(x: np.uint64, k: int) -> np.uint64:
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(cache=True, inline="always")
def next_u64(s: UIntArray) -> np.uint64:
    """Advance the 4-word state ``s`` in place and return 64 random bits."""
    result = _rotl(s[1] * np.uint64(5), 7) * np.uint64(9)
    t = s[1] << np.uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


@njit(cache=True, inline="always")
def uniform(s: UIntArray) -> float:
    """A float64 uniform on [0, 1)."""
    return float(next_u64(s) >> np.uint64(11)) * _TO_UNIT


@njit(cache=True, inline="always")
def exponential(s: UIntArray) -> float:
    """A unit-mean exponential variate."""
    return -np.log1p(-uniform(s))


@njit(cache=True, inline="always")
def standard_normal(s: UIntArray) -> float:
    """A standard normal variate (Box-Muller, one of the pair)."""
    u1 = 1.0 - uniform(s)  # (0, 1]
    u2 = uniform(s)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


@njit(cache=True, inline="always")
def categorical(s: UIntArray, cdf: FloatArray) -> int:
    """Index drawn from a cumulative distribution (last entry 1)."""
    u = uniform(s)
    for k in range(cdf.shape[0] - 1):
        if u < cdf[k]:
            return k
    return cdf.shape[0] - 1


def seed_states(rng: np.random.Generator, count: int) -> UIntArray:
    """``count`` fresh 4-word states drawn from a NumPy generator (never all zero)."""
    states = rng.integers(0, np.iinfo(np.uint64).max, size=(count, STATE_WORDS), dtype=np.uint64, endpoint=True)
    states[:, 0] |= _U1
    return states
