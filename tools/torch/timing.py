"""The median time of a call, as the side-by-side benches take it (bench_diffusers.py, bench_text.py)."""
import statistics
import time

import torch


def median_ms(call, warmup: int, runs: int, sync=lambda: None) -> float:
    """`warmup` untimed calls, then the median of `runs` timed ones in ms, each waiting for the device (`sync`)."""
    times = []
    with torch.no_grad():
        for i in range(warmup + runs):
            t0 = time.perf_counter()
            call()
            sync()
            if i >= warmup:
                times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)
