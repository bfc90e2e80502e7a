"""The project's calibration figure: seconds for a plain 10-million-step Python loop.

This project's machines differ by about 3x in it (0.4 s on some, 1.0-1.5 s on others, with
the loop written as below), so every benchmark prints it beside its absolute times; ratios
measured in one run are what compare across machines.
"""
from __future__ import annotations

import time

CALIBRATION_STEPS = 10_000_000


def calibration_s() -> float:
    """Seconds for ``total += i`` over 10 million steps, in a function."""
    start = time.perf_counter()
    total = 0
    for i in range(CALIBRATION_STEPS):
        total += i
    return time.perf_counter() - start
