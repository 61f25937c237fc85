"""The line each benchmark prints first: the machine, its load and the library versions."""

from __future__ import annotations

import os
import platform

import numba
import numpy as np


def describe(extra: str = "") -> str:
    """CPU model, cores, load average, OS; Python, NumPy, Numba and ``extra`` (more versions)."""
    cpu = platform.processor() or "unknown cpu"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        load = ", load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        load = ""
    return (
        f"{cpu}, {os.cpu_count()} cores{load}, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, NumPy {np.__version__}, Numba {numba.__version__}{extra}"
    )
