"""The timing protocol of the torch side of `make bench` (as tools/bench_timing.h is ours): one
warm-up run, then `reps` timed runs; the median, in seconds."""
import time


def median_seconds(run, reps):
    run()  # warm-up
    secs = []
    for _ in range(reps):
        t = time.perf_counter()
        run()
        secs.append(time.perf_counter() - t)
    secs.sort()
    return secs[len(secs) // 2]
