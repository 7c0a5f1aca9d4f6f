// bench_relation.cpp — HREM's cross-modal relevance statistics on the CPU, for `make bench`.
//   build/<cfg>/bench_relation [reps]    prints "B L R E ms" (median of reps, after a warm-up)
// The training path of src/nn/hrem.cpp: one GEMM for every word-region dot product, then the
// per-pair reductions (kernels/relation.cpp). F30K's training shape: B 128, captions of 8..20
// words padded to 20, 36 regions, E 1024. tools/bench_torch_relation.py is the reference's way.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../kernels/gemm.h"
#include "../kernels/relation.h"
#include "../src/core/check.h"
#include "../src/core/rng.h"
#include "bench_timing.h"

using namespace vsd;

static int body(int argc, char** argv) {
    const int reps = argc > 1 ? std::atoi(argv[1]) : 5;
    const int64_t B = 128, L = 20, R = 36, E = 1024;
    const int K = 10;
    Rng rng(0);
    std::vector<float> psi(B * L * E), phi(B * R * E), dots(B * L * B * R);
    for (float& x : psi) x = rng.uniform(-1, 1) / 16.0f;
    for (float& x : phi) x = rng.uniform(-1, 1) / 16.0f;
    std::vector<int64_t> len(B);
    for (int64_t b = 0; b < B; b++) len[b] = 8 + b % 13;
    std::vector<float> m1(B * B), t1(B * B * K), m2(B * B), t2(B * B * K);
    auto run = [&] {
        gemm_cpu(false, true, B * L, B * R, E, 1.0f, psi.data(), E, phi.data(), E, 0.0f, dots.data(), B * R);
        region_word_stats_cpu(m1.data(), t1.data(), m2.data(), t2.data(), psi.data(), phi.data(), len.data(), B, L, B, R, E,
                              K, 0.1f, 1e-8f, dots.data());
    };
    const double ms = 1e3 * median_seconds(reps, run);
    std::printf("%lld %lld %lld %lld %.1f\n", (long long)B, (long long)L, (long long)R, (long long)E, ms);
    return 0;
}

int main(int argc, char** argv) { return run_main(body, argc, argv); }
