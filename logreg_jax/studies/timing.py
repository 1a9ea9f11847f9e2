"""Wall-clock timing of JAX calls: a first call (which compiles) apart from the median of repeats."""

from __future__ import annotations

import time
from collections.abc import Callable

import jax
import numpy as np


def time_calls(fn: Callable, args=(), repeats: int = 5) -> tuple[float, float]:
    """Times ``fn(*args)``: once (the call that compiles, for a jitted function), then ``repeats`` times.

    ``block_until_ready`` makes each timing include the computation, not only its asynchronous
    dispatch.

    Returns:
        (seconds of the first call, median seconds of the repeated calls).
    """
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return first, float(np.median(times))
