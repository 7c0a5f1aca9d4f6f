// bench_timing.h — the timing protocol of our CPU benches (bench_gemm, bench_bert, bench_relation,
// bench_step): one warm-up run, then `reps` timed runs; the median, in seconds. The torch side of
// `make bench` follows the same protocol (tools/bench_timing.py).
#pragma once
#include <algorithm>
#include <chrono>
#include <vector>

namespace vsd {

template <class F>
double median_seconds(int reps, F&& run) {
    run();  // warm-up: first-touch page faults, OpenMP thread start-up, caches
    std::vector<double> secs;
    for (int r = 0; r < reps; r++) {
        const auto t0 = std::chrono::steady_clock::now();
        run();
        secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(secs.begin(), secs.end());
    return secs.empty() ? 0.0 : secs[secs.size() / 2];
}

}  // namespace vsd
